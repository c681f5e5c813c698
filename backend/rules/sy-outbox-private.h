/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

#include "sy-actions-private.h"
#include "sy-breaker-private.h"
#include "sy-event-bus-private.h"
#include "sy-store-private.h"

G_BEGIN_DECLS

/* How automations behave; copied by SyAutomations (see SyBackendConfig). */
typedef struct
{
  char   *retry_schedule;       /* NULL: "0,5,300,1800,7200,18000,36000,86400" (seconds before
                                 * attempt 1, 2, ...; decimals allowed); its length is the
                                 * number of attempts */
  char   *allow_list;           /* NULL: none. Hosts or IP addresses (comma-separated) that webhooks
                                 * may reach although they are loopback/private/link-local */
  guint   breaker_threshold;    /* 0: 5 consecutive failures open a destination's breaker */
  guint   breaker_cooldown_ms;  /* 0: 60 000 ms before the half-open probe */
  guint   approval_ttl_s;       /* 0: 900 s */
  char   *plugins_dir;          /* NULL: plugin actions answer "not configured" */
  char   *smtp_relay;           /* NULL: notify_email answers "not configured"; "host:port" (25) */
  char   *smtp_from;            /* NULL: switchyard@localhost */
} SyAutomationsConfig;

#define SY_OUTBOX_DEFAULT_SCHEDULE "0,5,300,1800,7200,18000,36000,86400"

/* Any thread: the action with this id (a new reference), or NULL when it was deleted. */
typedef SyAction *(*SyOutboxLookupAction) (gint64   action_id,
                                           gpointer user_data);

/* One action run to store and execute. */
typedef struct
{
  gint64  action_id;
  gint64  rule_id;
  char   *event_type;
  char   *event;           /* JSON text, nullable */
  char   *payload;         /* JSON text */
} SyDeliveryNew;

void      _sy_delivery_new_free       (SyDeliveryNew        *delivery);

/* The durable outbox: every action run is a row of `deliveries`, executed here with retries,
 * per-destination circuit breakers and the SSRF guard. Lives on the backend thread (the
 * GMainContext that is thread-default when it is created); the functions marked "any thread"
 * may be called from workers. */
typedef struct _SyOutbox SyOutbox;

/* Loads the deliveries left pending (or in flight) by the previous run; blocks on SQLite. */
SyOutbox *_sy_outbox_new              (SyStore                   *store,
                                       SyEventBus                *bus,
                                       const SyAutomationsConfig *config,
                                       SyOutboxLookupAction       lookup,
                                       gpointer                   lookup_data,
                                       GError                   **error);
/* Backend thread: cancels attempts in flight (they stay in_flight in SQLite and are retried by
 * the next start) and frees. */
void      _sy_outbox_free             (SyOutbox                  *self);

/* Backend thread. Stores @deliveries (SyDeliveryNew, transfer full) and then executes them. */
void      _sy_outbox_submit           (SyOutbox                  *self,
                                       GPtrArray                 *deliveries);
/* Any thread but the backend's (blocks on SQLite): makes a delivery due now again. */
gboolean  _sy_outbox_retry            (SyOutbox                  *self,
                                       gint64                     delivery_id,
                                       GError                   **error);
/* Any thread. */
SyBreakers *_sy_outbox_get_breakers   (SyOutbox                  *self);
guint     _sy_outbox_get_queue_length (SyOutbox                  *self);
guint64   _sy_outbox_get_completed    (SyOutbox                  *self);

/* Parses a retry schedule; NULL on a bad one. */
GArray   *_sy_outbox_parse_schedule   (const char                *text,
                                       GError                   **error);
/* SSRF guard: may a webhook go to @address (for @host)? */
gboolean  _sy_outbox_address_allowed  (GInetAddress              *address,
                                       const char                *host,
                                       char                     **allow_list);

G_END_DECLS
