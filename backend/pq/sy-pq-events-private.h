/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

#include "sy-pq-detector-private.h"
#include "sy-store-private.h"

G_BEGIN_DECLS

/* Stored power-quality events: the writer side used by the detector and the queries behind
 * /api/energy/pq/…. Query functions run on worker threads (they block on SQLite). */

typedef struct
{
  gint64        meter_id;       /* 0 = any */
  gint64        site_id;        /* 0 = any */
  const char   *type;           /* NULL = any; validated by the caller */
  const char   *state;          /* pq: open|closed; protection: breaker state */
  gint64        from_ms;        /* G_MININT64 = unbounded */
  gint64        to_ms;          /* G_MAXINT64 = unbounded; exclusive */
  SyPqSeverity  min_severity;   /* 0 = any */
  int           acknowledged;   /* -1 any, 0 not yet, 1 acknowledged */
} SyPqFilter;

void      _sy_pq_filter_init          (SyPqFilter       *filter);

/* JSON string or null for NULL. */
void      _sy_pq_json_append_string   (GString          *out,
                                       const char       *text);

/* Writer thread: insert or update (keeps an acknowledgement made meanwhile). */
gboolean  _sy_pq_events_upsert        (SyWriteBatch     *batch,
                                       const SyPqEvent  *event,
                                       GError          **error);
/* Puts the meter's open events back into @state (after a restart). */
gboolean  _sy_pq_events_load_open     (sqlite3          *db,
                                       gint64            meter_id,
                                       SyPqMeterState   *state,
                                       GError          **error);

/* Newest first. Appends the page's events (comma-separated JSON objects) to @items. */
gboolean  _sy_pq_events_list          (SyStore          *store,
                                       const SyPqFilter *filter,
                                       gint64            limit,
                                       gint64            offset,
                                       GString          *items,
                                       gint64           *out_total,
                                       GError          **error);
/* The event's JSON, or SY_ERROR_NOT_FOUND. */
char     *_sy_pq_events_get           (SyStore          *store,
                                       gint64            id,
                                       GError          **error);
/* Records who (@client_id) acknowledged and when, with @note; answers the event's JSON. An
 * event may be acknowledged again (the last note wins). */
char     *_sy_pq_events_acknowledge   (SyStore          *store,
                                       gint64            id,
                                       const char       *client_id,
                                       const char       *note,
                                       GError          **error);

/* Shared by pq_events and protection_events. */
gboolean  _sy_pq_ack_row              (SyStore          *store,
                                       const char       *table,
                                       gint64            id,
                                       const char       *client_id,
                                       const char       *note,
                                       GError          **error);

/* EN 50160 weekly summary of one meter for the week starting at @week_start_ms (a Monday
 * 00:00 UTC): share of 10-minute intervals within limits for voltage (±10 % of nominal on every
 * phase), THD (≤ 8 %) and imbalance (≤ 2 %, NEMA on the 10-minute means), from the stored
 * readings, plus the dip, swell and interruption counts by EN 50160 class. */
JsonNode *_sy_pq_summary              (SyStore          *store,
                                       gint64            meter_id,
                                       gint64            week_start_ms,
                                       GError          **error);
/* "2026-W48" → Monday 00:00 UTC of that ISO week. */
gboolean  _sy_pq_parse_iso_week       (const char       *text,
                                       gint64           *out_ms);

G_END_DECLS
