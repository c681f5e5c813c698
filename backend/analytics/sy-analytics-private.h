/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <glib.h>

#include "sy-store-private.h"

G_BEGIN_DECLS

/* What every analytics query shares: which meters an entity stands for, and how energy is
 * counted from the cumulative total_energy register (kWh).
 *
 * Register conventions (backend/demo/sy-demo.c):
 * - grid and battery meters carry a *signed* register: the grid's is net import (it falls
 *   while the site exports), the battery's is net charge (it falls while discharging). A rise
 *   is import/charge, a fall is export/discharge.
 * - every other kind (pv, load, ev_charger, submeter) carries a monotonic register: it only
 *   rises, by the energy that flowed in the meter's direction (generation for pv).
 *
 * Resets: on a monotonic register any decrease is a reset; the step across it counts nothing
 * and counting resumes from the new value. On a signed register a step is a reset when its size
 * is not physically possible: more than twice what the larger of the two power readings at its
 * ends could deliver in the time between them, plus 0.01 kWh. Without power readings a signed
 * register cannot tell a reset from an export, and none is detected.
 *
 * Gaps: the energy between two readings is the register difference and belongs to the later
 * reading, so the energy of [from, to) is the sum of the steps whose later reading lies in it,
 * starting from the last reading before from. */

#define SY_ANALYTICS_QUARTER_MS G_GINT64_CONSTANT (900000)
#define SY_ANALYTICS_HOUR_MS    G_GINT64_CONSTANT (3600000)
#define SY_ANALYTICS_DAY_MS     G_GINT64_CONSTANT (86400000)

typedef enum
{
  SY_ENTITY_METER,
  SY_ENTITY_GROUP,
  SY_ENTITY_SITE,
} SyEntityType;

typedef struct
{
  gint64    id;
  gint64    site_id;
  char      kind[16];
  char     *name;
  gboolean  signed_register;   /* grid, battery */
} SyMeterInfo;

const char *_sy_entity_type_name      (SyEntityType   type);
/* The meters of an entity, ascending by id (an array of SyMeterInfo that frees the names).
 * NULL with SY_ERROR_NOT_FOUND when the entity does not exist; an empty array for a group or
 * site without meters. */
GArray     *_sy_analytics_load_meters (sqlite3       *db,
                                       SyEntityType   type,
                                       gint64         id,
                                       GError       **error);
/* The entity's name (NULL if it does not exist). */
char       *_sy_analytics_dup_name    (sqlite3       *db,
                                       SyEntityType   type,
                                       gint64         id);
gboolean    _sy_meter_kind_is_signed  (const char    *kind);

/* floor(a / b) for any sign of a; b > 0. */
gint64      _sy_analytics_floor       (gint64         a,
                                       gint64         b);

/* Prepared statements reused across meters on one read-only connection. */
typedef struct
{
  sqlite3      *db;
  sqlite3_stmt *raw_energy;      /* ts, energy, power of readings with energy in [a, b) */
  sqlite3_stmt *prev_energy;     /* the last reading with energy before a */
} SyAnalyticsDb;

void        _sy_analytics_db_init     (SyAnalyticsDb *adb,
                                       sqlite3       *db);
void        _sy_analytics_db_clear    (SyAnalyticsDb *adb);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SyAnalyticsDb, _sy_analytics_db_clear)

/* Appends @value with at most 6 decimals (trailing zeros dropped), or null when not finite.
 * Much faster than printf for the large tables of the matrix and the export. */
void        _sy_analytics_append_number (GString     *out,
                                         double       value);
/* Appends @text as a quoted JSON string. */
void        _sy_analytics_append_json_string (GString    *out,
                                              const char *text);

typedef struct
{
  gboolean  signed_register;
  gboolean  have_prev;
  gint64    prev_ts;
  double    prev_value;
  double    prev_power;       /* |W| at the previous reading, NAN if unknown */
  double    imported;         /* kWh, rises */
  double    exported;         /* kWh, falls of a signed register (positive number) */
  guint     resets;
} SyEnergyWalker;

void        _sy_energy_walker_init    (SyEnergyWalker *w,
                                       gboolean        signed_register);
/* Starts from the last reading with energy before @before_ms (none: the first reading of the
 * range only sets the start). */
gboolean    _sy_energy_walker_seed    (SyEnergyWalker *w,
                                       SyAnalyticsDb  *adb,
                                       gint64          meter_id,
                                       gint64          before_ms,
                                       GError        **error);
/* One register reading; returns the net energy (import - export) of the step to it, kWh. */
double      _sy_energy_walker_step    (SyEnergyWalker *w,
                                       gint64          ts_ms,
                                       double          value,
                                       double          power_w);
/* Every reading with energy in [from, to), in order. Returns the net energy. */
gboolean    _sy_energy_walker_raw     (SyEnergyWalker *w,
                                       SyAnalyticsDb  *adb,
                                       gint64          meter_id,
                                       gint64          from_ms,
                                       gint64          to_ms,
                                       double         *out_net,
                                       GError        **error);

/* One row of `rollups` as the walker needs it; energy_first_ts < 0 when the bucket has no
 * energy reading; min/max power NAN when it has no power. */
typedef struct
{
  gint64  bucket_ms;
  gint64  count;
  gint64  power_count;
  double  sum_power;
  double  min_power;
  double  max_power;
  gint64  energy_first_ts;
  double  energy_first;
  gint64  energy_last_ts;
  double  energy_last;
} SyRollupRow;

/* The columns _sy_rollup_row_read() expects, in order. */
#define SY_ROLLUP_COLUMNS \
  "bucket_ms, count, power_count, sum_power, min_power, max_power, " \
  "energy_first_ts, energy_first, energy_last_ts, energy_last"

void        _sy_rollup_row_read       (sqlite3_stmt   *stmt,
                                       SyRollupRow    *row);
/* Feeds one rollup bucket (the step from the previous reading to its first one, then from its
 * first to its last). A bucket whose inner difference is a reset or not physically possible is
 * replayed from the raw readings instead. Returns the net energy attributed to the bucket. */
gboolean    _sy_energy_walker_bucket  (SyEnergyWalker    *w,
                                       SyAnalyticsDb     *adb,
                                       gint64             meter_id,
                                       const SyRollupRow *row,
                                       double            *out_net,
                                       GError           **error);

/* The meter's typical reading interval: the median gap of its last 64 readings before
 * @before_ms, in ms; 0 when it has fewer than two. */
gint64      _sy_analytics_typical_interval (SyAnalyticsDb *adb,
                                            gint64         meter_id,
                                            gint64         before_ms,
                                            GError       **error);

G_END_DECLS
