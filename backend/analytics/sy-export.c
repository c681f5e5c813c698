/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-export"

#include "config.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "sy-error.h"
#include "sy-export-private.h"
#include "sy-time.h"

/* Raw readings or rollup buckets of several meters as CSV (RFC 4180: CRLF line ends, a header
 * row whose names carry the units, fields quoted only when they must be) or JSON
 * ({"results": [...], "count": n}), written in chunks so that nothing but one chunk is ever in
 * memory. Numbers carry at most 6 decimals; timestamps are ISO-8601 UTC. Meters come one after
 * the other, each in time order. */

typedef struct
{
  const char *json;
  const char *csv;
} Column;

static const Column raw_columns[] = {
  { "total_power", "total_power [W]" },
  { "total_energy", "total_energy [kWh]" },
  { "voltage_a", "voltage_a [V]" },
  { "voltage_b", "voltage_b [V]" },
  { "voltage_c", "voltage_c [V]" },
  { "current_a", "current_a [A]" },
  { "current_b", "current_b [A]" },
  { "current_c", "current_c [A]" },
  { "power_factor", "power_factor [1]" },
  { "frequency", "frequency [Hz]" },
  { "thd_v_pct", "thd_v [%]" },
  { "thd_i_pct", "thd_i [%]" },
};

static const char raw_sql[] =
  "SELECT ts_ms, total_power, total_energy, voltage_a, voltage_b, voltage_c, current_a, current_b, "
  "current_c, power_factor, frequency, thd_v_pct, thd_i_pct, breaker_state FROM readings "
  "WHERE meter_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 ORDER BY ts_ms";

static const Column bucket_columns[] = {
  { "count", "count [1]" },
  { "avg_power", "avg_power [W]" },
  { "min_power", "min_power [W]" },
  { "max_power", "max_power [W]" },
  { "energy", "energy [kWh]" },
};

static const char bucket_sql[] =
  "SELECT " SY_ROLLUP_COLUMNS " FROM rollups "
  "WHERE meter_id = ?1 AND res_s = ?2 AND bucket_ms >= ?3 AND bucket_ms < ?4 ORDER BY bucket_ms";

typedef struct
{
  GString      *buf;
  gsize         chunk_bytes;
  SyExportSink  sink;
  gpointer      user_data;
  guint64       rows;
  gboolean      json;
} Writer;

static gboolean
writer_flush (Writer  *wr,
              gboolean force,
              GError **error)
{
  if (wr->buf->len == 0 || (!force && wr->buf->len < wr->chunk_bytes))
    return TRUE;

  if (!wr->sink (wr->buf->str, wr->buf->len, wr->user_data))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The export was cancelled");
      return FALSE;
    }
  g_string_truncate (wr->buf, 0);
  return TRUE;
}

static void
append_csv_text (GString    *out,
                 const char *text)
{
  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      g_string_append (out, text);
      return;
    }

  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static void
write_header (Writer       *wr,
              const Column *columns,
              guint         n_columns,
              gboolean      raw)
{
  if (wr->json)
    {
      g_string_append (wr->buf, "{\"results\":[");
      return;
    }

  g_string_append (wr->buf, raw ? "meter_id,timestamp" : "meter_id,bucket_start");
  for (guint i = 0; i < n_columns; i++)
    {
      g_string_append_c (wr->buf, ',');
      g_string_append (wr->buf, columns[i].csv);
    }
  if (raw)
    g_string_append (wr->buf, ",breaker_state");
  g_string_append (wr->buf, "\r\n");
}

/* Starts a row: the separator, meter id and timestamp. */
static inline void
begin_row (Writer *wr,
           gint64  meter_id,
           gint64  ts_ms)
{
  char id[24];
  int n = g_snprintf (id, sizeof id, "%" G_GINT64_FORMAT, meter_id);

  if (wr->json)
    {
      if (wr->rows > 0)
        g_string_append_c (wr->buf, ',');
      g_string_append_len (wr->buf, "{\"meter_id\":", 12);
      g_string_append_len (wr->buf, id, n);
      g_string_append_len (wr->buf, ",\"timestamp\":\"", 14);
      sy_time_append_iso8601 (wr->buf, ts_ms);
      g_string_append_c (wr->buf, '"');
    }
  else
    {
      g_string_append_len (wr->buf, id, n);
      g_string_append_c (wr->buf, ',');
      sy_time_append_iso8601 (wr->buf, ts_ms);
    }
}

/* A number field; NAN is an empty CSV field or an omitted JSON member. */
static inline void
add_number (Writer       *wr,
            const Column *column,
            double        value)
{
  if (wr->json)
    {
      if (isnan (value))
        return;
      g_string_append_len (wr->buf, ",\"", 2);
      g_string_append (wr->buf, column->json);
      g_string_append_len (wr->buf, "\":", 2);
      _sy_analytics_append_number (wr->buf, value);
    }
  else
    {
      g_string_append_c (wr->buf, ',');
      if (!isnan (value))
        _sy_analytics_append_number (wr->buf, value);
    }
}

static inline void
end_row (Writer *wr)
{
  if (wr->json)
    g_string_append_c (wr->buf, '}');
  else
    g_string_append_len (wr->buf, "\r\n", 2);
  wr->rows++;
}

static gboolean
export_raw (Writer                *wr,
            sqlite3               *db,
            const SyExportParams  *params,
            GError               **error)
{
  g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db, raw_sql, error);

  if (stmt == NULL)
    return FALSE;

  write_header (wr, raw_columns, G_N_ELEMENTS (raw_columns), TRUE);

  for (guint m = 0; m < params->meters->len; m++)
    {
      gint64 meter_id = g_array_index (params->meters, gint64, m);
      int rc;

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, meter_id);
      sqlite3_bind_int64 (stmt, 2, params->from_ms);
      sqlite3_bind_int64 (stmt, 3, params->to_ms);

      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          const char *breaker;

          begin_row (wr, meter_id, sqlite3_column_int64 (stmt, 0));
          for (guint c = 0; c < G_N_ELEMENTS (raw_columns); c++)
            add_number (wr, &raw_columns[c],
                        sqlite3_column_type (stmt, 1 + c) == SQLITE_NULL ? NAN
                        : sqlite3_column_double (stmt, 1 + c));

          breaker = (const char *) sqlite3_column_text (stmt, 13);
          if (wr->json)
            {
              if (breaker != NULL)
                {
                  g_string_append (wr->buf, ",\"breaker_state\":");
                  _sy_analytics_append_json_string (wr->buf, breaker);
                }
            }
          else
            {
              g_string_append_c (wr->buf, ',');
              if (breaker != NULL)
                append_csv_text (wr->buf, breaker);
            }
          end_row (wr);

          if (!writer_flush (wr, FALSE, error))
            return FALSE;
        }
      if (!_sy_sql_check (db, rc, "Exporting readings", error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
export_buckets (Writer                *wr,
                sqlite3               *db,
                const SyExportParams  *params,
                GError               **error)
{
  g_auto(SyAnalyticsDb) adb = { 0, };
  g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db, bucket_sql, error);
  gint64 size_ms = params->bucket_s * 1000;
  gint64 start = _sy_analytics_floor (params->from_ms, size_ms);

  if (stmt == NULL)
    return FALSE;

  _sy_analytics_db_init (&adb, db);
  write_header (wr, bucket_columns, G_N_ELEMENTS (bucket_columns), FALSE);

  for (guint m = 0; m < params->meters->len; m++)
    {
      gint64 meter_id = g_array_index (params->meters, gint64, m);
      g_autoptr(GArray) info = _sy_analytics_load_meters (db, SY_ENTITY_METER, meter_id, error);
      SyEnergyWalker w;
      int rc;

      if (info == NULL)
        return FALSE;

      _sy_energy_walker_init (&w, info->len > 0 && g_array_index (info, SyMeterInfo, 0).signed_register);
      if (!_sy_energy_walker_seed (&w, &adb, meter_id, start, error))
        return FALSE;

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, meter_id);
      sqlite3_bind_int64 (stmt, 2, params->bucket_s);
      sqlite3_bind_int64 (stmt, 3, start);
      sqlite3_bind_int64 (stmt, 4, params->to_ms);

      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          SyRollupRow r;
          double energy;

          _sy_rollup_row_read (stmt, &r);
          if (!_sy_energy_walker_bucket (&w, &adb, meter_id, &r, &energy, error))
            return FALSE;

          begin_row (wr, meter_id, r.bucket_ms);
          add_number (wr, &bucket_columns[0], (double) r.count);
          add_number (wr, &bucket_columns[1], r.power_count > 0 ? r.sum_power / r.power_count : NAN);
          add_number (wr, &bucket_columns[2], r.min_power);
          add_number (wr, &bucket_columns[3], r.max_power);
          add_number (wr, &bucket_columns[4], r.energy_first_ts < 0 ? NAN : energy);
          end_row (wr);

          if (!writer_flush (wr, FALSE, error))
            return FALSE;
        }
      if (!_sy_sql_check (db, rc, "Exporting rollups", error))
        return FALSE;
    }

  return TRUE;
}

gboolean
_sy_export_run (sqlite3               *db,
                const SyExportParams  *params,
                gsize                  chunk_bytes,
                SyExportSink           sink,
                gpointer               user_data,
                guint64               *out_rows,
                GError               **error)
{
  Writer wr = { 0, };
  gboolean ok;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (params != NULL && params->meters != NULL, FALSE);
  g_return_val_if_fail (sink != NULL, FALSE);

  wr.chunk_bytes = MAX (chunk_bytes, 1024);
  wr.buf = g_string_sized_new (wr.chunk_bytes + 4096);
  wr.sink = sink;
  wr.user_data = user_data;
  wr.json = params->format == SY_EXPORT_JSON;

  if (params->bucket_s == 0)
    ok = export_raw (&wr, db, params, error);
  else
    ok = export_buckets (&wr, db, params, error);

  if (ok && wr.json)
    g_string_append_printf (wr.buf, "],\"count\":%" G_GUINT64_FORMAT "}", wr.rows);

  ok = ok && writer_flush (&wr, TRUE, error);

  if (out_rows != NULL)
    *out_rows = wr.rows;
  g_string_free (wr.buf, TRUE);

  return ok;
}
