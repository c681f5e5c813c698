/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

#include "sy-store-private.h"

G_BEGIN_DECLS

/* Power-quality thresholds of one meter. Voltage thresholds are fractions of the meter's
 * nominal voltage (registry), the rest percents; durations are milliseconds but kept as doubles
 * so that every field goes through one table. Plain data, any thread. */
typedef struct
{
  double sag_v_threshold;            /* dip starts below this × nominal; default 0.9 */
  double swell_v_threshold;          /* swell starts above this × nominal; default 1.1 */
  double interruption_v_threshold;   /* all phases below this × nominal; default 0.1 */
  double hysteresis_pct;             /* % of nominal (voltage) or % of the threshold (THD,
                                      * imbalance); default 2 */
  double thd_pct_threshold;          /* THD of the voltage, %; default 8 (EN 50160) */
  double imbalance_pct_threshold;    /* %; default 2 (EN 50160) */
  double voltage_min_duration_ms;    /* shorter dips/swells/interruptions are dropped; 0 */
  double thd_min_duration_ms;        /* 0 */
  double imbalance_min_duration_ms;  /* 0 */
} SyPqConfig;

void      _sy_pq_config_init_defaults   (SyPqConfig        *config);
/* Cross-field rules (sag < 1 < swell, interruption < sag, hysteresis inside the band, no
 * negative percents); SY_ERROR_INVALID_FIELD names the offending field. */
gboolean  _sy_pq_config_validate        (const SyPqConfig  *config,
                                         GError           **error);

/* Bumped (atomically) by every successful _sy_pq_config_set(); the detector reloads a meter's
 * configuration when it changed. Any thread. */
guint     _sy_pq_config_get_generation  (void);

/* Meter → site → default, read on @db (any connection, the caller's thread). Also returns the
 * meter's nominal voltage, phase count and site. SY_ERROR_NOT_FOUND for an unknown meter. */
gboolean  _sy_pq_config_load_effective  (sqlite3           *db,
                                         gint64             meter_id,
                                         SyPqConfig        *out,
                                         double            *out_nominal,
                                         int               *out_phases,
                                         gint64            *out_site_id,
                                         GError           **error);

/* Worker threads (they block on SQLite). @body names exactly one of meter_id or site_id; the
 * fields present replace the stored ones (null: inherit again), absent ones stay. Returns the
 * effective configuration as GET answers it. */
JsonNode *_sy_pq_config_set             (SyStore           *store,
                                         JsonObject        *body,
                                         const char        *client_id,
                                         GError           **error);
/* Exactly one of @meter_id or @site_id is non-zero. */
JsonNode *_sy_pq_config_get             (SyStore           *store,
                                         gint64             meter_id,
                                         gint64             site_id,
                                         GError           **error);

G_END_DECLS
