/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-matrix"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sy-error.h"
#include "sy-matrix-private.h"

/* Entities x time buckets of one metric, each bucket read from the rollup of exactly its size
 * (weekday_hour from the hourly one). A group's cell is the sum of its members' cells (for
 * max_power an upper bound of the coincident maximum); weekday_hour cells are the mean over the
 * weeks of the range (max_power: the maximum). */

#define WEEK_COLUMNS 168

static const char rollup_sql[] =
  "SELECT " SY_ROLLUP_COLUMNS " FROM rollups "
  "WHERE meter_id = ?1 AND res_s = ?2 AND bucket_ms >= ?3 AND bucket_ms < ?4 ORDER BY bucket_ms";

gint64
_sy_matrix_bucket_ms (SyMatrixBucket bucket)
{
  switch (bucket)
    {
    case SY_MATRIX_15MIN:
      return SY_ANALYTICS_QUARTER_MS;
    case SY_MATRIX_HOUR:
    case SY_MATRIX_WEEKDAY_HOUR:
      return SY_ANALYTICS_HOUR_MS;
    case SY_MATRIX_DAY:
      return SY_ANALYTICS_DAY_MS;
    default:
      g_assert_not_reached ();
    }
}

gint64
_sy_matrix_n_columns (SyMatrixBucket bucket,
                      gint64         from_ms,
                      gint64         to_ms)
{
  gint64 size = _sy_matrix_bucket_ms (bucket);
  gint64 start = _sy_analytics_floor (from_ms, size);

  if (bucket == SY_MATRIX_WEEKDAY_HOUR)
    return WEEK_COLUMNS;
  return (to_ms - start + size - 1) / size;
}

void
_sy_matrix_free (SyMatrix *matrix)
{
  if (matrix == NULL)
    return;
  g_strfreev (matrix->row_names);
  g_free (matrix->values);
  g_free (matrix);
}

static inline void
add_nan (double *slot,
         double  value)
{
  if (isnan (value))
    return;
  if (isnan (*slot))
    *slot = value;
  else
    *slot += value;
}

static inline guint
week_slot (gint64 bucket_ms)
{
  gint64 day = _sy_analytics_floor (bucket_ms, SY_ANALYTICS_DAY_MS) / SY_ANALYTICS_DAY_MS;
  gint64 hour = (bucket_ms - day * SY_ANALYTICS_DAY_MS) / SY_ANALYTICS_HOUR_MS;
  guint weekday = (guint) (((day + 3) % 7 + 7) % 7);   /* 1970-01-01 was a Thursday */

  return weekday * 24 + (guint) hour;
}

/* Adds one meter's cells to @row (n_columns). */
static gboolean
meter_row (SyAnalyticsDb      *adb,
           sqlite3_stmt       *stmt,
           const SyMeterInfo  *meter,
           SyMatrixBucket      bucket,
           SyMatrixMetric      metric,
           gint64              start_ms,
           gint64              end_ms,
           guint               n_columns,
           double             *row,
           GError            **error)
{
  gint64 size = _sy_matrix_bucket_ms (bucket);
  gboolean weekly = bucket == SY_MATRIX_WEEKDAY_HOUR;
  double sums[WEEK_COLUMNS];
  guint counts[WEEK_COLUMNS];
  SyEnergyWalker w;
  int rc;

  if (weekly)
    {
      for (guint i = 0; i < WEEK_COLUMNS; i++)
        sums[i] = NAN;
      memset (counts, 0, sizeof counts);
    }

  if (metric == SY_MATRIX_ENERGY_KWH)
    {
      _sy_energy_walker_init (&w, meter->signed_register);
      if (!_sy_energy_walker_seed (&w, adb, meter->id, start_ms, error))
        return FALSE;
    }

  sqlite3_reset (stmt);
  sqlite3_bind_int64 (stmt, 1, meter->id);
  sqlite3_bind_int64 (stmt, 2, size / 1000);
  sqlite3_bind_int64 (stmt, 3, start_ms);
  sqlite3_bind_int64 (stmt, 4, end_ms);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SyRollupRow r;
      double value = NAN;

      _sy_rollup_row_read (stmt, &r);

      switch (metric)
        {
        case SY_MATRIX_ENERGY_KWH:
          if (!_sy_energy_walker_bucket (&w, adb, meter->id, &r, &value, error))
            return FALSE;
          if (r.energy_first_ts < 0)
            value = NAN;
          break;
        case SY_MATRIX_AVG_POWER:
          if (r.power_count > 0)
            value = r.sum_power / r.power_count;
          break;
        case SY_MATRIX_MAX_POWER:
          value = r.max_power;
          break;
        default:
          g_assert_not_reached ();
        }

      if (isnan (value))
        continue;

      if (!weekly)
        {
          add_nan (&row[(r.bucket_ms - start_ms) / size], value);
          continue;
        }

      {
        guint slot = week_slot (r.bucket_ms);

        if (metric == SY_MATRIX_MAX_POWER)
          sums[slot] = isnan (sums[slot]) ? value : MAX (sums[slot], value);
        else
          add_nan (&sums[slot], value);
        counts[slot]++;
      }
    }
  if (!_sy_sql_check (adb->db, rc, "Reading rollups", error))
    return FALSE;

  if (weekly)
    {
      for (guint i = 0; i < WEEK_COLUMNS && i < n_columns; i++)
        {
          if (counts[i] == 0)
            continue;
          add_nan (&row[i], metric == SY_MATRIX_MAX_POWER ? sums[i] : sums[i] / counts[i]);
        }
    }

  return TRUE;
}

SyMatrix *
_sy_matrix_compute (sqlite3            *db,
                    const SyEntityRef  *rows,
                    guint               n_rows,
                    SyMatrixBucket      bucket,
                    SyMatrixMetric      metric,
                    gint64              from_ms,
                    gint64              to_ms,
                    GError            **error)
{
  g_auto(SyAnalyticsDb) adb = { 0, };
  g_autoptr(SyMatrix) matrix = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 size = _sy_matrix_bucket_ms (bucket);
  gint64 start = _sy_analytics_floor (from_ms, size);
  gint64 n_columns = _sy_matrix_n_columns (bucket, from_ms, to_ms);
  gint64 end;

  g_return_val_if_fail (db != NULL, NULL);
  g_return_val_if_fail (from_ms < to_ms, NULL);
  g_return_val_if_fail (n_rows <= SY_MATRIX_MAX_ROWS, NULL);
  g_return_val_if_fail (n_columns * n_rows <= SY_MATRIX_MAX_CELLS, NULL);

  end = bucket == SY_MATRIX_WEEKDAY_HOUR ? to_ms : start + n_columns * size;

  _sy_analytics_db_init (&adb, db);
  stmt = _sy_sql_prepare (db, rollup_sql, error);
  if (stmt == NULL)
    return NULL;

  matrix = g_new0 (SyMatrix, 1);
  matrix->n_rows = n_rows;
  matrix->n_columns = (guint) n_columns;
  matrix->first_ms = bucket == SY_MATRIX_WEEKDAY_HOUR ? 0 : start;
  matrix->step_ms = bucket == SY_MATRIX_WEEKDAY_HOUR ? 0 : size;
  matrix->row_names = g_new0 (char *, n_rows + 1);
  matrix->values = g_new (double, (gsize) n_rows * n_columns);
  for (gsize i = 0; i < (gsize) n_rows * n_columns; i++)
    matrix->values[i] = NAN;

  for (guint r = 0; r < n_rows; r++)
    {
      g_autoptr(GArray) meters = _sy_analytics_load_meters (db, rows[r].type, rows[r].id, error);
      double *row = matrix->values + (gsize) r * n_columns;

      if (meters == NULL)
        return NULL;
      matrix->row_names[r] = _sy_analytics_dup_name (db, rows[r].type, rows[r].id);

      for (guint m = 0; m < meters->len; m++)
        {
          if (!meter_row (&adb, stmt, &g_array_index (meters, SyMeterInfo, m), bucket, metric,
                          bucket == SY_MATRIX_WEEKDAY_HOUR ? _sy_analytics_floor (from_ms, size) : start,
                          end, (guint) n_columns, row, error))
            return NULL;
        }
    }

  return g_steal_pointer (&matrix);
}
