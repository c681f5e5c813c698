/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

#include "sy-event-bus-private.h"
#include "sy-pq-events-private.h"
#include "sy-store-private.h"

G_BEGIN_DECLS

#define SY_EVENT_PROTECTION "protection.event"

/* A trip, an earth-leakage alarm or a breaker state change. Plain data; strings owned except
 * @type and @source, which are static. */
typedef struct
{
  gint64        id;
  gint64        meter_id;        /* 0 = none */
  gint64        site_id;         /* from the meter */
  gint64        device_id;       /* the gateway that posted it, 0 = none */
  const char   *type;            /* "trip", "earth_leakage", "breaker_state" */
  SyPqSeverity  severity;
  gint64        ts_ms;
  char         *breaker_id;
  char         *state;           /* breaker state: "open", "closed", "tripped" */
  char         *previous_state;
  gboolean      has_leakage;
  double        leakage_ma;
  char         *cause;
  const char   *source;          /* "device" or "reading" */
  gint64        ack_ms;
  char         *ack_by;
  char         *ack_note;
  gint64        created_ms;
} SyProtectionEvent;

SyProtectionEvent *_sy_protection_event_new    (void);
void               _sy_protection_event_free   (SyProtectionEvent  *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyProtectionEvent, _sy_protection_event_free)

SyPqSeverity       _sy_protection_severity     (const SyProtectionEvent *event);
gboolean           _sy_protection_type_is_valid (const char        *type);

/* Validates a device's body (unknown fields rejected) into @event; @event->meter_id is left to
 * the caller when the body has none. SY_ERROR_INVALID_FIELD names the field. Any thread. */
gboolean           _sy_protection_event_parse  (JsonObject         *body,
                                                gint64              now_ms,
                                                SyProtectionEvent  *event,
                                                GError            **error);
void               _sy_protection_event_append_json (GString               *out,
                                                     const SyProtectionEvent *event);

/* Called on @context after the commit (@error NULL, @event has its id) or a failure. */
typedef void (*SyProtectionDone) (const GError            *error,
                                  const SyProtectionEvent *event,
                                  gpointer                 user_data);

/* Any thread: queues @event (transfer full) for the writer; after the commit, emits
 * protection.event on @bus (when not NULL; @context must then be the backend thread's) and
 * calls @done (nullable) on @context. */
void               _sy_protection_submit       (SyStore            *store,
                                                SyEventBus         *bus,
                                                GMainContext       *context,
                                                SyProtectionEvent  *event,
                                                SyProtectionDone    done,
                                                gpointer            user_data);

/* The last non-null breaker_state stored for @meter_id before @before_ms, or NULL. */
char              *_sy_protection_last_breaker_state (sqlite3     *db,
                                                      gint64       meter_id,
                                                      gint64       before_ms);

/* Worker threads. */
gboolean           _sy_protection_list         (SyStore            *store,
                                                const SyPqFilter   *filter,
                                                gint64              limit,
                                                gint64              offset,
                                                GString            *items,
                                                gint64             *out_total,
                                                GError            **error);
char              *_sy_protection_get          (SyStore            *store,
                                                gint64              id,
                                                GError            **error);
char              *_sy_protection_acknowledge  (SyStore            *store,
                                                gint64              id,
                                                const char         *client_id,
                                                const char         *note,
                                                GError            **error);

G_END_DECLS
