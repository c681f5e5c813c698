/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

#include "sy-reading-private.h"
#include "sy-types.h"

G_BEGIN_DECLS

/* Rollup resolutions, seconds. */
extern const gint64 _sy_rollup_resolutions[4];

/* Called on the context given to _sy_ingest_submit() once the readings are committed
 * (@error NULL) or not stored at all. @inserted counts new rows (duplicates are idempotent). */
typedef void (*SyIngestDone) (const GError *error,
                              GArray       *readings,
                              guint         inserted,
                              gpointer      user_data);

/* Queues @readings (transfer full; every meter_id resolved) for the writer. All or nothing. */
void      _sy_ingest_submit          (SyStore       *store,
                                      GArray        *readings,
                                      GMainContext  *context,
                                      SyIngestDone   done,
                                      gpointer       user_data);

/* The payload of a data.ingested event. */
JsonNode *_sy_reading_to_json        (const SyReading *reading);
/* Appends a reading as a JSON object to @out (fast writer for lists). */
void      _sy_reading_append_json    (GString         *out,
                                      const SyReading *reading);

G_END_DECLS
