/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-kpi"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sy-error.h"
#include "sy-kpi-private.h"

/* Key figures over [from, to).
 *
 * The whole quarter hours inside the range come from the 900 s rollups (the billing interval
 * needs them: the peak 15-minute demand is the highest 15-minute average power); the partial
 * quarter hours at either end, at most 2 x 15 minutes, come from the raw readings.
 *
 * - energy_imported/exported_kwh: register steps (sy-analytics-private.h). A signed register's
 *   import and export are netted within each quarter hour, the billing interval.
 * - avg_power_w: the mean of the power samples (sum of the members' means for a set).
 * - peak_power_w: the highest power sample; for a set of meters the highest sum of the members'
 *   15-minute maxima (an upper bound of the coincident peak).
 * - peak_demand_kw: the highest 15-minute average power (coincident: summed per quarter hour
 *   over the set), with the start of that quarter hour.
 * - load_factor: avg_power_w / (1000 * peak_demand_kw).
 * - pv_yield_kwh: the register rise of the pv meters.
 * - For a site, the set whose energy and power are reported is its grid meters (the connection
 *   point that is billed) or, without a grid meter, its load, ev_charger and submeter meters.
 *   With a grid meter:
 *     consumption = import - export + pv_yield - (battery charge - battery discharge)
 *     self_consumption_pct = 100 * (pv_yield - export) / pv_yield
 *     autarky_pct = 100 * (consumption - import) / consumption
 *   both clamped to 0..100 and only with pv meters.
 * - completeness_pct: 100 * readings / expected, where expected = (to - from) / the meter's
 *   typical interval (median of its last 64 gaps), summed over the meters; capped at 100. */

static const char quarter_sql[] =
  "SELECT " SY_ROLLUP_COLUMNS " FROM rollups "
  "WHERE meter_id = ?1 AND res_s = 900 AND bucket_ms >= ?2 AND bucket_ms < ?3 ORDER BY bucket_ms";
static const char raw_sql[] =
  "SELECT ts_ms, total_power, total_energy FROM readings "
  "WHERE meter_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 ORDER BY ts_ms";

typedef struct
{
  double  imported;
  double  exported;
  gint64  count;
  gint64  power_count;
  double  sum_power;
  double  max_power;
  gint64  interval_ms;
  guint   resets;
} MeterTotals;

static inline void
add_nan (double *slot,
         double  value)
{
  if (isnan (*slot))
    *slot = value;
  else
    *slot += value;
}

static gboolean
raw_edge (SyAnalyticsDb   *adb,
          sqlite3_stmt    *stmt,
          SyEnergyWalker  *w,
          gint64           meter_id,
          gint64           from_ms,
          gint64           to_ms,
          MeterTotals     *t,
          GError         **error)
{
  int rc;

  if (from_ms >= to_ms)
    return TRUE;

  sqlite3_reset (stmt);
  sqlite3_bind_int64 (stmt, 1, meter_id);
  sqlite3_bind_int64 (stmt, 2, from_ms);
  sqlite3_bind_int64 (stmt, 3, to_ms);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      double power = NAN;

      t->count++;
      if (sqlite3_column_type (stmt, 1) != SQLITE_NULL)
        {
          power = sqlite3_column_double (stmt, 1);
          t->power_count++;
          t->sum_power += power;
          t->max_power = isnan (t->max_power) ? power : MAX (t->max_power, power);
        }
      if (sqlite3_column_type (stmt, 2) != SQLITE_NULL)
        _sy_energy_walker_step (w, sqlite3_column_int64 (stmt, 0), sqlite3_column_double (stmt, 2), power);
    }

  return _sy_sql_check (adb->db, rc, "Reading readings", error);
}

/* One meter. @demand and @peak (n_quarters each, from @q0) receive its 15-minute average and
 * maximum power, added to what is there; either may be NULL. */
static gboolean
meter_totals (SyAnalyticsDb      *adb,
              sqlite3_stmt       *quarter,
              sqlite3_stmt       *raw,
              const SyMeterInfo  *meter,
              gint64              from_ms,
              gint64              to_ms,
              gint64              q0,
              gint64              n_quarters,
              double             *demand,
              double             *peak,
              MeterTotals        *t,
              GError            **error)
{
  SyEnergyWalker w;
  gint64 q1 = q0 + n_quarters * SY_ANALYTICS_QUARTER_MS;
  int rc;

  memset (t, 0, sizeof *t);
  t->max_power = NAN;

  _sy_energy_walker_init (&w, meter->signed_register);
  if (!_sy_energy_walker_seed (&w, adb, meter->id, from_ms, error))
    return FALSE;

  if (n_quarters == 0)
    {
      if (!raw_edge (adb, raw, &w, meter->id, from_ms, to_ms, t, error))
        return FALSE;
    }
  else
    {
      if (!raw_edge (adb, raw, &w, meter->id, from_ms, q0, t, error))
        return FALSE;

      sqlite3_reset (quarter);
      sqlite3_bind_int64 (quarter, 1, meter->id);
      sqlite3_bind_int64 (quarter, 2, q0);
      sqlite3_bind_int64 (quarter, 3, q1);
      while ((rc = sqlite3_step (quarter)) == SQLITE_ROW)
        {
          SyRollupRow row;
          gint64 index;
          double net;

          _sy_rollup_row_read (quarter, &row);
          index = (row.bucket_ms - q0) / SY_ANALYTICS_QUARTER_MS;

          t->count += row.count;
          if (row.power_count > 0)
            {
              t->power_count += row.power_count;
              t->sum_power += row.sum_power;
              t->max_power = isnan (t->max_power) ? row.max_power : MAX (t->max_power, row.max_power);
              if (demand != NULL)
                add_nan (&demand[index], row.sum_power / row.power_count);
              if (peak != NULL)
                add_nan (&peak[index], row.max_power);
            }

          if (!_sy_energy_walker_bucket (&w, adb, meter->id, &row, &net, error))
            return FALSE;
        }
      if (!_sy_sql_check (adb->db, rc, "Reading rollups", error))
        return FALSE;

      if (!raw_edge (adb, raw, &w, meter->id, q1, to_ms, t, error))
        return FALSE;
    }

  t->imported = w.imported;
  t->exported = w.exported;
  t->resets = w.resets;

  t->interval_ms = _sy_analytics_typical_interval (adb, meter->id, to_ms, error);
  if (t->interval_ms < 0)
    return FALSE;

  return TRUE;
}

static gboolean
in_demand_set (SyEntityType       type,
               const SyMeterInfo *meter,
               gboolean           site_has_grid)
{
  if (type != SY_ENTITY_SITE)
    return TRUE;
  if (site_has_grid)
    return g_str_equal (meter->kind, "grid");
  return g_str_equal (meter->kind, "load") || g_str_equal (meter->kind, "ev_charger") ||
         g_str_equal (meter->kind, "submeter");
}

gboolean
_sy_kpi_compute (sqlite3       *db,
                 SyEntityType   type,
                 gint64         id,
                 gint64         from_ms,
                 gint64         to_ms,
                 SyKpi         *out,
                 GError       **error)
{
  g_auto(SyAnalyticsDb) adb = { 0, };
  g_autoptr(GArray) meters = NULL;
  g_autoptr(sqlite3_stmt) quarter = NULL;
  g_autoptr(sqlite3_stmt) raw = NULL;
  g_autofree double *demand = NULL;
  g_autofree double *peak = NULL;
  gboolean site_has_grid = FALSE;
  gboolean has_pv = FALSE;
  guint n_demand = 0;
  double battery_net = 0.0;
  double expected = 0.0;
  gboolean expected_known = FALSE;
  gint64 q0, q1, n_quarters;
  double demand_max = NAN;
  double peak_max = NAN;
  double single_max_power = NAN;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (from_ms < to_ms, FALSE);

  _sy_analytics_db_init (&adb, db);

  memset (out, 0, sizeof *out);
  out->peak_demand_ms = -1;
  out->expected_readings = -1;
  out->avg_power_w = out->peak_power_w = out->peak_demand_kw = out->load_factor = NAN;
  out->pv_yield_kwh = out->consumption_kwh = out->self_consumption_pct = out->autarky_pct = NAN;
  out->completeness_pct = NAN;

  meters = _sy_analytics_load_meters (db, type, id, error);
  if (meters == NULL)
    return FALSE;
  out->n_meters = meters->len;

  for (guint i = 0; i < meters->len; i++)
    {
      const SyMeterInfo *m = &g_array_index (meters, SyMeterInfo, i);

      site_has_grid |= g_str_equal (m->kind, "grid");
      has_pv |= g_str_equal (m->kind, "pv");
    }

  q0 = _sy_analytics_floor (from_ms + SY_ANALYTICS_QUARTER_MS - 1, SY_ANALYTICS_QUARTER_MS);
  q1 = _sy_analytics_floor (to_ms, SY_ANALYTICS_QUARTER_MS);
  n_quarters = q1 > q0 ? (q1 - q0) / SY_ANALYTICS_QUARTER_MS : 0;

  demand = g_new (double, MAX (n_quarters, 1));
  peak = g_new (double, MAX (n_quarters, 1));
  for (gint64 i = 0; i < n_quarters; i++)
    demand[i] = peak[i] = NAN;

  quarter = _sy_sql_prepare (db, quarter_sql, error);
  raw = quarter != NULL ? _sy_sql_prepare (db, raw_sql, error) : NULL;
  if (raw == NULL)
    return FALSE;

  if (has_pv)
    out->pv_yield_kwh = 0.0;

  for (guint i = 0; i < meters->len; i++)
    {
      const SyMeterInfo *m = &g_array_index (meters, SyMeterInfo, i);
      gboolean in_set = in_demand_set (type, m, site_has_grid);
      MeterTotals t;

      if (!meter_totals (&adb, quarter, raw, m, from_ms, to_ms, q0, n_quarters,
                         in_set ? demand : NULL, in_set ? peak : NULL, &t, error))
        return FALSE;

      out->readings += t.count;
      out->register_resets += t.resets;
      if (t.interval_ms > 0)
        {
          expected += (double) (to_ms - from_ms) / t.interval_ms;
          expected_known = TRUE;
        }

      if (g_str_equal (m->kind, "pv"))
        out->pv_yield_kwh += t.imported;
      if (g_str_equal (m->kind, "battery"))
        battery_net += t.imported - t.exported;

      if (!in_set)
        continue;

      n_demand++;
      out->energy_imported_kwh += t.imported;
      out->energy_exported_kwh += t.exported;
      if (t.power_count > 0)
        add_nan (&out->avg_power_w, t.sum_power / t.power_count);
      single_max_power = t.max_power;
    }

  for (gint64 i = 0; i < n_quarters; i++)
    {
      if (!isnan (demand[i]) && (isnan (demand_max) || demand[i] > demand_max))
        {
          demand_max = demand[i];
          out->peak_demand_ms = q0 + i * SY_ANALYTICS_QUARTER_MS;
        }
      if (!isnan (peak[i]) && (isnan (peak_max) || peak[i] > peak_max))
        peak_max = peak[i];
    }

  out->peak_power_w = n_demand == 1 ? single_max_power : peak_max;
  out->peak_demand_kw = demand_max / 1000.0;
  if (!isnan (out->avg_power_w) && !isnan (demand_max) && demand_max > 0)
    out->load_factor = out->avg_power_w / demand_max;

  if (type == SY_ENTITY_SITE && site_has_grid)
    {
      double pv = has_pv ? out->pv_yield_kwh : 0.0;

      out->consumption_kwh = out->energy_imported_kwh - out->energy_exported_kwh + pv - battery_net;
      if (has_pv && pv > 0)
        out->self_consumption_pct = CLAMP (100.0 * (pv - out->energy_exported_kwh) / pv, 0.0, 100.0);
      if (has_pv && out->consumption_kwh > 0)
        out->autarky_pct = CLAMP (100.0 * (out->consumption_kwh - out->energy_imported_kwh) /
                                  out->consumption_kwh, 0.0, 100.0);
    }

  if (expected_known)
    {
      out->expected_readings = (gint64) floor (expected);
      out->completeness_pct = expected > 0 ? MIN (100.0, 100.0 * out->readings / expected) : 100.0;
    }
  else if (out->readings == 0 && meters->len > 0)
    {
      out->expected_readings = 0;
      out->completeness_pct = 0.0;
    }

  return TRUE;
}
