/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-ingest"

#include "config.h"

#include <math.h>

#include "sy-error.h"
#include "sy-ingest-private.h"
#include "sy-store-private.h"
#include "sy-time.h"

const gint64 _sy_rollup_resolutions[4] = { 60, 900, 3600, 86400 };

static const char insert_reading_sql[] =
  "INSERT INTO readings (meter_id, ts_ms, total_power, total_energy, voltage_a, voltage_b, voltage_c, "
  "current_a, current_b, current_c, power_factor, frequency, thd_v_pct, thd_i_pct, breaker_state, extras) "
  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
  "ON CONFLICT (meter_id, ts_ms) DO NOTHING";

/* Merges a batch's aggregate into the stored bucket. In an UPDATE every right-hand side sees the
 * old row, so first/last are chosen against the stored timestamps before they change. */
static const char upsert_rollup_sql[] =
  "INSERT INTO rollups (meter_id, res_s, bucket_ms, count, power_count, sum_power, min_power, max_power, "
  "energy_first_ts, energy_first, energy_last_ts, energy_last) "
  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
  "ON CONFLICT (meter_id, res_s, bucket_ms) DO UPDATE SET "
  "count = count + excluded.count, "
  "power_count = power_count + excluded.power_count, "
  "sum_power = sum_power + excluded.sum_power, "
  "min_power = CASE WHEN min_power IS NULL OR excluded.min_power < min_power THEN excluded.min_power "
  "            ELSE min_power END, "
  "max_power = CASE WHEN max_power IS NULL OR excluded.max_power > max_power THEN excluded.max_power "
  "            ELSE max_power END, "
  "energy_first_ts = CASE WHEN energy_first_ts IS NULL OR excluded.energy_first_ts < energy_first_ts "
  "                  THEN excluded.energy_first_ts ELSE energy_first_ts END, "
  "energy_first = CASE WHEN energy_first_ts IS NULL OR excluded.energy_first_ts < energy_first_ts "
  "               THEN excluded.energy_first ELSE energy_first END, "
  "energy_last_ts = CASE WHEN energy_last_ts IS NULL OR excluded.energy_last_ts > energy_last_ts "
  "                 THEN excluded.energy_last_ts ELSE energy_last_ts END, "
  "energy_last = CASE WHEN energy_last_ts IS NULL OR excluded.energy_last_ts > energy_last_ts "
  "              THEN excluded.energy_last ELSE energy_last END";

typedef struct
{
  gint64  meter_id;
  gint64  res_s;
  gint64  bucket_ms;
  gint64  count;
  gint64  power_count;
  double  sum_power;
  double  min_power;
  double  max_power;
  gint64  energy_first_ts;   /* G_MININT64: no energy seen */
  double  energy_first;
  gint64  energy_last_ts;
  double  energy_last;
} Bucket;

static guint
bucket_hash (gconstpointer key)
{
  const Bucket *b = key;
  guint64 h = (guint64) b->meter_id * 0x9E3779B97F4A7C15ull;

  h ^= (guint64) b->bucket_ms + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
  h ^= (guint64) b->res_s;

  return (guint) (h ^ (h >> 32));
}

static gboolean
bucket_equal (gconstpointer a,
              gconstpointer b)
{
  const Bucket *x = a, *y = b;

  return x->meter_id == y->meter_id && x->res_s == y->res_s && x->bucket_ms == y->bucket_ms;
}

static gint64
floor_div (gint64 a,
           gint64 b)
{
  gint64 q = a / b;

  if ((a % b != 0) && ((a < 0) != (b < 0)))
    q--;
  return q;
}

static void
accumulate (GHashTable      *buckets,
            const SyReading *r)
{
  gboolean has_power = (r->present & (1u << SY_READING_TOTAL_POWER)) != 0;
  gboolean has_energy = (r->present & (1u << SY_READING_TOTAL_ENERGY)) != 0;

  for (guint i = 0; i < G_N_ELEMENTS (_sy_rollup_resolutions); i++)
    {
      gint64 res_ms = _sy_rollup_resolutions[i] * 1000;
      Bucket key = { r->meter_id, _sy_rollup_resolutions[i], floor_div (r->ts_ms, res_ms) * res_ms };
      Bucket *b = g_hash_table_lookup (buckets, &key);

      if (b == NULL)
        {
          b = g_new0 (Bucket, 1);
          *b = key;
          b->energy_first_ts = G_MININT64;
          b->energy_last_ts = G_MININT64;
          b->min_power = INFINITY;
          b->max_power = -INFINITY;
          g_hash_table_add (buckets, b);
        }

      b->count++;
      if (has_power)
        {
          double p = r->values[SY_READING_TOTAL_POWER];

          b->power_count++;
          b->sum_power += p;
          b->min_power = MIN (b->min_power, p);
          b->max_power = MAX (b->max_power, p);
        }
      if (has_energy)
        {
          double e = r->values[SY_READING_TOTAL_ENERGY];

          if (b->energy_first_ts == G_MININT64 || r->ts_ms < b->energy_first_ts)
            {
              b->energy_first_ts = r->ts_ms;
              b->energy_first = e;
            }
          if (b->energy_last_ts == G_MININT64 || r->ts_ms > b->energy_last_ts)
            {
              b->energy_last_ts = r->ts_ms;
              b->energy_last = e;
            }
        }
    }
}

static gboolean
flush_rollups (SyWriteBatch  *batch,
               gpointer       hook_data,
               GError       **error)
{
  GHashTable *buckets = hook_data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  GHashTableIter iter;
  Bucket *b;

  g_hash_table_iter_init (&iter, buckets);
  while (g_hash_table_iter_next (&iter, (gpointer *) &b, NULL))
    {
      sqlite3_stmt *stmt = _sy_write_batch_prepare (batch, upsert_rollup_sql, error);

      if (stmt == NULL)
        return FALSE;

      sqlite3_bind_int64 (stmt, 1, b->meter_id);
      sqlite3_bind_int64 (stmt, 2, b->res_s);
      sqlite3_bind_int64 (stmt, 3, b->bucket_ms);
      sqlite3_bind_int64 (stmt, 4, b->count);
      sqlite3_bind_int64 (stmt, 5, b->power_count);
      sqlite3_bind_double (stmt, 6, b->sum_power);
      if (b->power_count > 0)
        {
          sqlite3_bind_double (stmt, 7, b->min_power);
          sqlite3_bind_double (stmt, 8, b->max_power);
        }
      if (b->energy_first_ts != G_MININT64)
        {
          sqlite3_bind_int64 (stmt, 9, b->energy_first_ts);
          sqlite3_bind_double (stmt, 10, b->energy_first);
          sqlite3_bind_int64 (stmt, 11, b->energy_last_ts);
          sqlite3_bind_double (stmt, 12, b->energy_last);
        }

      if (!_sy_sql_check (db, sqlite3_step (stmt), "Updating rollups", error))
        return FALSE;
    }

  return TRUE;
}

typedef struct
{
  GArray        *readings;
  guint          inserted;
  SyIngestDone   done;
  gpointer       user_data;
} IngestJob;

static void
ingest_job_free (gpointer data)
{
  IngestJob *job = data;

  g_clear_pointer (&job->readings, g_array_unref);
  g_free (job);
}

static gboolean
write_readings (SyWriteBatch  *batch,
                gpointer       data,
                GError       **error)
{
  static const char rollup_key;
  IngestJob *job = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autofree guint8 *is_new = g_new0 (guint8, job->readings->len);
  GHashTable *buckets;
  guint inserted = 0;

  for (guint i = 0; i < job->readings->len; i++)
    {
      const SyReading *r = &g_array_index (job->readings, SyReading, i);
      sqlite3_stmt *stmt = _sy_write_batch_prepare (batch, insert_reading_sql, error);

      if (stmt == NULL)
        return FALSE;

      sqlite3_bind_int64 (stmt, 1, r->meter_id);
      sqlite3_bind_int64 (stmt, 2, r->ts_ms);
      for (guint v = 0; v < SY_READING_N_VALUES; v++)
        {
          if (r->present & (1u << v))
            sqlite3_bind_double (stmt, 3 + v, r->values[v]);
        }
      if (r->breaker_state != NULL)
        sqlite3_bind_text (stmt, 15, r->breaker_state, -1, SQLITE_STATIC);
      if (r->extras_json != NULL)
        sqlite3_bind_text (stmt, 16, r->extras_json, -1, SQLITE_STATIC);

      if (!_sy_sql_check (db, sqlite3_step (stmt), "Storing reading", error))
        return FALSE;

      /* A repeated (meter, timestamp) is idempotent: it must not count twice in rollups. */
      if (sqlite3_changes (db) > 0)
        {
          is_new[i] = 1;
          inserted++;
        }
    }

  /* Accumulate only once every row went in, so a failed job leaves no trace in the rollups. */
  buckets = _sy_write_batch_get_hook (batch, &rollup_key);
  if (buckets == NULL)
    {
      buckets = g_hash_table_new_full (bucket_hash, bucket_equal, g_free, NULL);
      _sy_write_batch_add_hook (batch, &rollup_key, buckets, flush_rollups,
                                (GDestroyNotify) g_hash_table_unref);
    }

  for (guint i = 0; i < job->readings->len; i++)
    {
      if (is_new[i])
        accumulate (buckets, &g_array_index (job->readings, SyReading, i));
    }

  job->inserted = inserted;

  return TRUE;
}

static void
ingest_done (const GError *error,
             gpointer      user_data)
{
  IngestJob *job = user_data;

  job->done (error, job->readings, job->inserted, job->user_data);
}

void
_sy_ingest_submit (SyStore       *store,
                   GArray        *readings,
                   GMainContext  *context,
                   SyIngestDone   done,
                   gpointer       user_data)
{
  IngestJob *job;

  g_return_if_fail (SY_IS_STORE (store));
  g_return_if_fail (readings != NULL);
  g_return_if_fail (done != NULL);

  job = g_new0 (IngestJob, 1);
  job->readings = readings;
  job->done = done;
  job->user_data = user_data;

  _sy_store_write (store, readings->len, write_readings, job, ingest_job_free,
                   context, ingest_done, job);
}

static void
append_double (GString *out,
               double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* %.15g is exact for what meters send and shorter than a full round-trip form. */
  g_ascii_formatd (buf, sizeof buf, "%.15g", value);
  g_string_append (out, buf);
}

void
_sy_reading_append_json (GString         *out,
                         const SyReading *r)
{
  g_string_append_printf (out, "{\"meter_id\":%" G_GINT64_FORMAT ",\"timestamp\":\"", r->meter_id);
  sy_time_append_iso8601 (out, r->ts_ms);
  g_string_append_c (out, '"');

  for (guint v = 0; v < SY_READING_N_VALUES; v++)
    {
      if (r->present & (1u << v))
        {
          g_string_append_c (out, ',');
          g_string_append_c (out, '"');
          g_string_append (out, _sy_reading_value_name (v));
          g_string_append (out, "\":");
          append_double (out, r->values[v]);
        }
    }

  if (r->breaker_state != NULL)
    g_string_append_printf (out, ",\"breaker_state\":\"%s\"", r->breaker_state);
  if (r->extras_json != NULL)
    g_string_append_printf (out, ",\"extras\":%s", r->extras_json);

  g_string_append_c (out, '}');
}

/* The same object _sy_reading_append_json() writes, built directly: every subscriber of
 * data.ingested (the PQ detector always is one) gets one per stored reading, and formatting
 * then re-parsing text cost more than the rest of ingestion. */
JsonNode *
_sy_reading_to_json (const SyReading *reading)
{
  JsonObject *obj = json_object_new ();
  GString *ts = g_string_sized_new (32);
  JsonNode *node;

  json_object_set_int_member (obj, "meter_id", reading->meter_id);
  sy_time_append_iso8601 (ts, reading->ts_ms);
  json_object_set_string_member (obj, "timestamp", ts->str);
  g_string_free (ts, TRUE);

  /* Whole numbers as integers, as the JSON text form has them ("6000", not "6000.0"):
   * templates and rules see the same values over HTTP, the stream and MQTT. */
  for (guint v = 0; v < SY_READING_N_VALUES; v++)
    {
      double value = reading->values[v];

      if (!(reading->present & (1u << v)))
        continue;
      if (value == floor (value) && fabs (value) < 1e15)
        json_object_set_int_member (obj, _sy_reading_value_name (v), (gint64) value);
      else
        json_object_set_double_member (obj, _sy_reading_value_name (v), value);
    }

  if (reading->breaker_state != NULL)
    json_object_set_string_member (obj, "breaker_state", reading->breaker_state);
  if (reading->extras_json != NULL)
    {
      JsonNode *extras = json_from_string (reading->extras_json, NULL);

      if (extras != NULL)
        json_object_set_member (obj, "extras", extras);
    }

  node = json_node_init_object (json_node_alloc (), obj);
  json_object_unref (obj);
  return node;
}
