/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-bench-analytics"

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>

#include "sy-export-private.h"
#include "sy-kpi-private.h"
#include "sy-matrix-private.h"
#include "sy-store-private.h"

/* Analytics on a database of its own, filled with plain sqlite3 on the store's schema:
 * - meter 1: a year of 1-minute readings (525 600) with the rollups the writer would keep;
 * - meters 2..101: 30 days of 15-minute readings (288 000) with their rollups.
 * Targets (issue 5): KPI of meter 1 over the year < 20 ms; the 30-day 15-minute matrix of the
 * 100 meters < 100 ms; export >= 1 000 000 rows/s. A figure more than twice its target fails. */

#define T0_MS        G_GINT64_CONSTANT (1735689600000)   /* 2025-01-01T00:00:00Z */
#define YEAR_MINUTES (365 * 1440)
#define FLEET        100
#define FLEET_DAYS   30
#define RUNS         15

static const gint64 resolutions[4] = { 60, 900, 3600, 86400 };

typedef struct
{
  gint64  bucket_ms;
  gint64  count;
  double  sum, min, max;
  gint64  first_ts, last_ts;
  double  first, last;
} Acc;

typedef struct
{
  sqlite3      *db;
  sqlite3_stmt *reading;
  sqlite3_stmt *rollup;
  Acc           acc[4];
  gint64        meter_id;
  guint64       rows;
} Filler;

static void
check (sqlite3 *db,
       int      rc)
{
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    g_error ("sqlite: %s", sqlite3_errmsg (db));
}

static void
flush_acc (Filler *f,
           guint   r)
{
  Acc *a = &f->acc[r];

  if (a->count == 0)
    return;
  sqlite3_reset (f->rollup);
  sqlite3_bind_int64 (f->rollup, 1, f->meter_id);
  sqlite3_bind_int64 (f->rollup, 2, resolutions[r]);
  sqlite3_bind_int64 (f->rollup, 3, a->bucket_ms);
  sqlite3_bind_int64 (f->rollup, 4, a->count);
  sqlite3_bind_int64 (f->rollup, 5, a->count);
  sqlite3_bind_double (f->rollup, 6, a->sum);
  sqlite3_bind_double (f->rollup, 7, a->min);
  sqlite3_bind_double (f->rollup, 8, a->max);
  sqlite3_bind_int64 (f->rollup, 9, a->first_ts);
  sqlite3_bind_double (f->rollup, 10, a->first);
  sqlite3_bind_int64 (f->rollup, 11, a->last_ts);
  sqlite3_bind_double (f->rollup, 12, a->last);
  check (f->db, sqlite3_step (f->rollup));
  a->count = 0;
  f->rows++;
}

static void
add_reading (Filler *f,
             gint64  ts,
             double  power,
             double  energy)
{
  sqlite3_reset (f->reading);
  sqlite3_bind_int64 (f->reading, 1, f->meter_id);
  sqlite3_bind_int64 (f->reading, 2, ts);
  sqlite3_bind_double (f->reading, 3, power);
  sqlite3_bind_double (f->reading, 4, energy);
  check (f->db, sqlite3_step (f->reading));
  f->rows++;

  for (guint r = 0; r < 4; r++)
    {
      Acc *a = &f->acc[r];
      gint64 bucket = ts - ts % (resolutions[r] * 1000);

      if (a->count > 0 && a->bucket_ms != bucket)
        flush_acc (f, r);
      if (a->count == 0)
        {
          a->bucket_ms = bucket;
          a->sum = 0;
          a->min = a->max = power;
          a->first_ts = ts;
          a->first = energy;
        }
      a->count++;
      a->sum += power;
      a->min = MIN (a->min, power);
      a->max = MAX (a->max, power);
      a->last_ts = ts;
      a->last = energy;
    }
}

static void
fill_meter (Filler *f,
            gint64  meter_id,
            gint64  step_ms,
            gint64  n,
            GRand  *rand)
{
  double energy = 1000.0 * meter_id;

  f->meter_id = meter_id;
  for (gint64 i = 0; i < n; i++)
    {
      gint64 ts = T0_MS + i * step_ms;
      double hour = (ts % 86400000) / 3600000.0;
      double power = 10000.0 + 5000.0 * sin (2 * G_PI * (hour - 9) / 24.0) + 500.0 * g_rand_double (rand);

      energy += power * step_ms / 3.6e9;
      add_reading (f, ts, power, energy);
    }
  for (guint r = 0; r < 4; r++)
    flush_acc (f, r);
}

static void
build_database (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  SyStore *store = _sy_store_open (path, &error);
  Filler f = { 0, };
  gint64 start = g_get_monotonic_time ();

  g_assert_no_error (error);
  _sy_store_close (store);
  g_object_unref (store);

  check (NULL, sqlite3_open (path, &f.db));
  check (f.db, sqlite3_exec (f.db, "PRAGMA synchronous = OFF; BEGIN;"
                             "INSERT INTO sites (id, name, created_ms) VALUES (1, 'Bench', 0);", NULL, NULL, NULL));
  for (gint64 id = 1; id <= 1 + FLEET; id++)
    {
      g_autofree char *sql = g_strdup_printf ("INSERT INTO meters (id, site_id, name, kind, device_key_hash, created_ms) "
                                              "VALUES (%" G_GINT64_FORMAT ", 1, 'm%" G_GINT64_FORMAT "', 'load', "
                                              "'k%" G_GINT64_FORMAT "', 0)", id, id, id);

      check (f.db, sqlite3_exec (f.db, sql, NULL, NULL, NULL));
    }

  check (f.db, sqlite3_prepare_v2 (f.db, "INSERT INTO readings (meter_id, ts_ms, total_power, total_energy) "
                                   "VALUES (?1, ?2, ?3, ?4)", -1, &f.reading, NULL));
  check (f.db, sqlite3_prepare_v2 (f.db, "INSERT INTO rollups (meter_id, res_s, bucket_ms, count, power_count, "
                                   "sum_power, min_power, max_power, energy_first_ts, energy_first, energy_last_ts, "
                                   "energy_last) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                                   -1, &f.rollup, NULL));

  fill_meter (&f, 1, 60000, YEAR_MINUTES, rand);
  for (gint64 id = 2; id <= 1 + FLEET; id++)
    fill_meter (&f, id, 900000, FLEET_DAYS * 96, rand);

  sqlite3_finalize (f.reading);
  sqlite3_finalize (f.rollup);
  check (f.db, sqlite3_exec (f.db, "COMMIT", NULL, NULL, NULL));
  sqlite3_close (f.db);

  g_print ("built %" G_GUINT64_FORMAT " rows (readings + rollups) in %.1f s\n", f.rows,
           (g_get_monotonic_time () - start) / 1e6);
}

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *v,
        guint   n)
{
  qsort (v, n, sizeof *v, compare_double);
  return v[n / 2];
}

static gboolean
discard_sink (const char *data,
              gsize       len,
              gpointer    user_data)
{
  *(guint64 *) user_data += len;
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("sy-bench-analytics-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "bench.db", NULL);
  g_autoptr(GArray) fleet = g_array_new (FALSE, FALSE, sizeof (SyEntityRef));
  g_autoptr(GArray) one = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (gint64));
  double kpi_ms[RUNS], matrix_ms[RUNS], matrix_json_ms[RUNS], matrix_nomutex_ms[RUNS];
  double export_rate = 0, export_json_rate = 0, export_fleet_rate = 0;
  guint64 export_rows = 0, export_bytes = 0, fleet_rows = 0, json_rows = 0;
  gint64 year_end = T0_MS + (gint64) YEAR_MINUTES * 60000;
  gint64 fleet_end = T0_MS + (gint64) FLEET_DAYS * 86400000;
  gboolean ok = TRUE;
  SyStore *store;
  sqlite3 *db;
  SyKpi kpi;
  gint64 id1 = 1;

  g_assert_no_error (error);
  build_database (path);

  store = _sy_store_open (path, &error);
  g_assert_no_error (error);
  db = _sy_store_reader_acquire (store);

  for (gint64 id = 2; id <= 1 + FLEET; id++)
    {
      SyEntityRef ref = { SY_ENTITY_METER, id };

      g_array_append_val (fleet, ref);
      g_array_append_val (all, id);
    }
  g_array_append_val (one, id1);

  for (guint i = 0; i < RUNS; i++)
    {
      gint64 t = g_get_monotonic_time ();

      if (!_sy_kpi_compute (db, SY_ENTITY_METER, 1, T0_MS, year_end, &kpi, &error))
        g_error ("kpi: %s", error->message);
      kpi_ms[i] = (g_get_monotonic_time () - t) / 1000.0;
    }
  g_print ("kpi: %.3f kWh, %" G_GINT64_FORMAT " readings, completeness %.1f %%, peak demand %.2f kW\n",
           kpi.energy_imported_kwh, kpi.readings, kpi.completeness_pct, kpi.peak_demand_kw);

  for (guint i = 0; i < RUNS; i++)
    {
      gint64 t = g_get_monotonic_time ();
      g_autoptr(SyMatrix) m = _sy_matrix_compute (db, (SyEntityRef *) fleet->data, fleet->len, SY_MATRIX_15MIN,
                                                  SY_MATRIX_ENERGY_KWH, T0_MS, fleet_end, &error);
      g_autoptr(GString) json = g_string_sized_new (4 * 1024 * 1024);

      if (m == NULL)
        g_error ("matrix: %s", error->message);
      matrix_ms[i] = (g_get_monotonic_time () - t) / 1000.0;
      for (gsize c = 0; c < (gsize) m->n_rows * m->n_columns; c++)
        {
          g_string_append_c (json, ',');
          _sy_analytics_append_number (json, m->values[c]);
        }
      matrix_json_ms[i] = (g_get_monotonic_time () - t) / 1000.0;
      if (i == 0)
        g_print ("matrix: %u x %u cells, %.1f MB of values\n", m->n_rows, m->n_columns, json->len / 1e6);
    }

  {
    SyExportParams params = { one, T0_MS, year_end, 0, SY_EXPORT_CSV };
    gint64 t = g_get_monotonic_time ();

    if (!_sy_export_run (db, &params, 64 * 1024, discard_sink, &export_bytes, &export_rows, &error))
      g_error ("export: %s", error->message);
    export_rate = export_rows / ((g_get_monotonic_time () - t) / 1e6);
  }
  {
    guint64 bytes = 0;
    SyExportParams params = { one, T0_MS, year_end, 0, SY_EXPORT_JSON };
    gint64 t = g_get_monotonic_time ();

    if (!_sy_export_run (db, &params, 64 * 1024, discard_sink, &bytes, &json_rows, &error))
      g_error ("export: %s", error->message);
    export_json_rate = json_rows / ((g_get_monotonic_time () - t) / 1e6);
  }
  {
    guint64 bytes = 0;
    SyExportParams params = { all, T0_MS, fleet_end, 0, SY_EXPORT_CSV };
    gint64 t = g_get_monotonic_time ();

    if (!_sy_export_run (db, &params, 64 * 1024, discard_sink, &bytes, &fleet_rows, &error))
      g_error ("export: %s", error->message);
    export_fleet_rate = fleet_rows / ((g_get_monotonic_time () - t) / 1e6);
  }

  _sy_store_reader_release (store, db);
  _sy_store_close (store);
  g_object_unref (store);

  /* The same matrix on a connection without SQLite's per-call mutex (the pool's connections
   * are serialized; each is only ever used by one thread at a time). */
  {
    sqlite3 *nomutex = NULL;

    check (NULL, sqlite3_open_v2 (path, &nomutex, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL));
    for (guint i = 0; i < RUNS; i++)
      {
        gint64 t = g_get_monotonic_time ();
        g_autoptr(SyMatrix) m = _sy_matrix_compute (nomutex, (SyEntityRef *) fleet->data, fleet->len, SY_MATRIX_15MIN,
                                                    SY_MATRIX_ENERGY_KWH, T0_MS, fleet_end, &error);

        g_assert_nonnull (m);
        matrix_nomutex_ms[i] = (g_get_monotonic_time () - t) / 1000.0;
      }
    sqlite3_close (nomutex);
  }

  {
    double k = median (kpi_ms, RUNS);
    double m = median (matrix_ms, RUNS);
    double mj = median (matrix_json_ms, RUNS);

    g_print ("kpi, 1 meter, a year of 1-minute data (525600 readings): median %.2f ms (target < 20) %s\n",
             k, k < 20 ? "MET" : "MISSED");
    g_print ("matrix, 100 meters x 30 days x 15 min (288000 cells): median %.2f ms, with JSON numbers %.2f ms "
             "(target < 100) %s\n", m, mj, m < 100 ? "MET" : "MISSED");
    g_print ("matrix on a SQLITE_OPEN_NOMUTEX connection: median %.2f ms\n", median (matrix_nomutex_ms, RUNS));
    g_print ("export raw CSV, 1 meter x a year: %" G_GUINT64_FORMAT " rows, %.1f MB, %.0f rows/s (target >= 1000000) %s\n",
             export_rows, export_bytes / 1e6, export_rate, export_rate >= 1e6 ? "MET" : "MISSED");
    g_print ("export raw JSON, 1 meter x a year: %" G_GUINT64_FORMAT " rows, %.0f rows/s\n", json_rows, export_json_rate);
    g_print ("export raw CSV, 100 meters x 30 days: %" G_GUINT64_FORMAT " rows, %.0f rows/s\n", fleet_rows,
             export_fleet_rate);
    g_print ("BENCH {\"kpi_year_ms\":%.2f,\"matrix_100x30d_ms\":%.2f,\"matrix_100x30d_json_ms\":%.2f,"
             "\"export_rows_per_s\":%.0f,\"export_json_rows_per_s\":%.0f}\n", k, m, mj, export_rate, export_json_rate);

    /* A loaded 2-core CI box gets a factor of two before it counts as a regression. */
    ok = k < 40 && m < 200 && export_rate >= 5e5;
  }

  g_unlink (path);
  {
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (path, "-shm", NULL);

    g_unlink (wal);
    g_unlink (shm);
  }
  g_rmdir (dir);

  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
