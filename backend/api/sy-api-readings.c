/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <string.h>

#include "sy-api-private.h"
#include "sy-error.h"
#include "sy-ingest-private.h"
#include "sy-time.h"

/* What the console reads on start and for its charts: the newest reading of each meter and
 * the rollups the writer maintains (sy-ingest.c). Both are walks of a primary key, one per
 * meter, so they stay cheap with millions of readings. */

#define MAX_LATEST_IDS  1000
#define MAX_ROLLUP_IDS  100
#define MAX_BUCKETS     G_GINT64_CONSTANT (100000)    /* per meter */
#define MAX_ROWS        G_GINT64_CONSTANT (1000000)   /* per answer, all meters */
#define DAY_MS          G_GINT64_CONSTANT (86400000)

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static void
sort_unique (GArray *ids)
{
  guint n = 0;

  g_array_sort (ids, compare_ids);
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);

      if (n == 0 || id != g_array_index (ids, gint64, n - 1))
        g_array_index (ids, gint64, n++) = id;
    }
  g_array_set_size (ids, n);
}

/* ?name=1,2,3: positive ids, sorted, without duplicates. *out stays NULL when absent. */
static gboolean
get_id_list (SyRequest   *req,
             const char  *name,
             guint        max_ids,
             GArray     **out,
             GError     **error)
{
  const char *text = g_hash_table_lookup (req->query, name);
  g_autoptr(GArray) ids = NULL;
  g_auto(GStrv) parts = NULL;

  if (text == NULL || text[0] == '\0')
    return TRUE;

  parts = g_strsplit (text, ",", -1);
  ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; parts[i] != NULL; i++)
    {
      guint64 value;
      gint64 id;

      if (!g_ascii_string_to_unsigned (parts[i], 10, 1, G_MAXINT64, &value, NULL))
        {
          sy_error_set_field (error, name, "must be a positive integer or a comma-separated list of them");
          return FALSE;
        }
      id = (gint64) value;
      g_array_append_val (ids, id);
    }

  sort_unique (ids);
  if (ids->len > max_ids)
    {
      sy_error_set_field (error, name, "at most %u ids", max_ids);
      return FALSE;
    }

  *out = g_steal_pointer (&ids);
  return TRUE;
}

/* Every id must exist. A single unknown id is a 404, as for /{id}; in a list it is a 400
 * naming the field. */
static gboolean
check_ids_exist (sqlite3     *db,
                 const char  *sql,
                 GArray      *ids,
                 const char  *field,
                 const char  *noun,
                 GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db, sql, error);

  if (stmt == NULL)
    return FALSE;

  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      int rc;

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, id);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        continue;
      if (rc != SQLITE_DONE)
        return _sy_sql_check (db, rc, "Looking up ids", error);

      if (ids->len == 1)
        g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No %s %" G_GINT64_FORMAT, noun, id);
      else
        sy_error_set_field (error, field, "no %s %" G_GINT64_FORMAT, noun, id);
      return FALSE;
    }

  return TRUE;
}

/* Appends column 0 of @sql to @out, run once per key (bound to ?1), or once if @keys is NULL. */
static gboolean
collect_ids (sqlite3     *db,
             const char  *sql,
             GArray      *keys,
             GArray      *out,
             GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db, sql, error);
  guint n_runs = keys != NULL ? keys->len : 1;

  if (stmt == NULL)
    return FALSE;

  for (guint i = 0; i < n_runs; i++)
    {
      int rc;

      sqlite3_reset (stmt);
      if (keys != NULL)
        sqlite3_bind_int64 (stmt, 1, g_array_index (keys, gint64, i));

      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          gint64 id = sqlite3_column_int64 (stmt, 0);

          g_array_append_val (out, id);
        }
      if (!_sy_sql_check (db, rc, "Listing meters", error))
        return FALSE;
    }

  return TRUE;
}

typedef struct
{
  const char *field;
  const char *noun;
  const char *exists_sql;
  const char *members_sql;   /* NULL: the ids are meter ids */
} MeterFilter;

static const MeterFilter meter_filters[] = {
  { "site_id", "site", "SELECT 1 FROM sites WHERE id = ?1",
    "SELECT id FROM meters WHERE site_id = ?1" },
  { "group_id", "group", "SELECT 1 FROM meter_groups WHERE id = ?1",
    "SELECT meter_id FROM meter_group_members WHERE group_id = ?1" },
  { "meter_id", "meter", "SELECT 1 FROM meters WHERE id = ?1", NULL },
};

/* Same columns and order as GET /api/energy/energy-data/ (sy-api-ingest.c). */
static const char latest_sql[] =
  "SELECT meter_id, ts_ms, total_power, total_energy, voltage_a, voltage_b, voltage_c, "
  "current_a, current_b, current_c, power_factor, frequency, thd_v_pct, thd_i_pct, breaker_state, extras "
  "FROM readings WHERE meter_id = ?1 ORDER BY ts_ms DESC LIMIT 1";

/* The strings point into @stmt's row: use @r before the next step or reset. */
static void
reading_from_row (sqlite3_stmt *stmt,
                  SyReading    *r)
{
  memset (r, 0, sizeof *r);
  r->meter_id = sqlite3_column_int64 (stmt, 0);
  r->ts_ms = sqlite3_column_int64 (stmt, 1);
  for (guint v = 0; v < SY_READING_N_VALUES; v++)
    {
      if (sqlite3_column_type (stmt, 2 + v) != SQLITE_NULL)
        {
          r->present |= 1u << v;
          r->values[v] = sqlite3_column_double (stmt, 2 + v);
        }
    }
  r->breaker_state = (char *) sqlite3_column_text (stmt, 14);
  r->extras_json = (char *) sqlite3_column_text (stmt, 15);
}

static gboolean
latest_readings (SyRequest   *req,
                 SyResponse  *res,
                 GError     **error)
{
  g_auto(SyReaderGuard) guard = { req->api->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) keys = NULL;
  g_autoptr(GArray) meters = NULL;
  const MeterFilter *filter = NULL;
  g_autoptr(GString) out = NULL;
  gint64 now_ms = sy_time_now_ms ();

  for (guint i = 0; i < G_N_ELEMENTS (meter_filters); i++)
    {
      g_autoptr(GArray) ids = NULL;

      if (!get_id_list (req, meter_filters[i].field, MAX_LATEST_IDS, &ids, error))
        return FALSE;
      if (ids == NULL)
        continue;
      if (filter != NULL)
        {
          sy_error_set_field (error, meter_filters[i].field, "cannot be combined with %s; give at most one of "
                              "site_id, group_id and meter_id", filter->field);
          return FALSE;
        }
      filter = &meter_filters[i];
      keys = g_steal_pointer (&ids);
    }

  guard.db = _sy_store_reader_acquire (req->api->store);

  /* The meters asked for, ascending. */
  if (filter == NULL)
    {
      meters = g_array_new (FALSE, FALSE, sizeof (gint64));
      if (!collect_ids (guard.db, "SELECT id FROM meters ORDER BY id", NULL, meters, error))
        return FALSE;
    }
  else
    {
      if (!check_ids_exist (guard.db, filter->exists_sql, keys, filter->field, filter->noun, error))
        return FALSE;

      if (filter->members_sql == NULL)
        meters = g_steal_pointer (&keys);
      else
        {
          meters = g_array_new (FALSE, FALSE, sizeof (gint64));
          if (!collect_ids (guard.db, filter->members_sql, keys, meters, error))
            return FALSE;
          sort_unique (meters);
        }
    }

  stmt = _sy_sql_prepare (guard.db, latest_sql, error);
  if (stmt == NULL)
    return FALSE;

  out = g_string_sized_new (64 + 256 * meters->len);
  g_string_append (out, "{\"results\":[");

  for (guint i = 0; i < meters->len; i++)
    {
      SyReading r;
      int rc;

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, g_array_index (meters, gint64, i));
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_DONE)
        continue;   /* no readings yet */
      if (rc != SQLITE_ROW)
        return _sy_sql_check (guard.db, rc, "Reading the latest reading", error);

      reading_from_row (stmt, &r);
      if (out->str[out->len - 1] != '[')
        g_string_append_c (out, ',');
      _sy_reading_append_json (out, &r);

      /* Reopen the object for its age; negative when the meter's clock is ahead of ours. */
      g_assert (out->str[out->len - 1] == '}');
      g_string_truncate (out, out->len - 1);
      g_string_append (out, ",\"age_s\":");
      _sy_json_append_double (out, (now_ms - r.ts_ms) / 1000.0);
      g_string_append_c (out, '}');
    }

  g_string_append (out, "]}");

  res->status = 200;
  if (res->body != NULL)
    g_string_free (res->body, TRUE);
  res->body = g_steal_pointer (&out);
  return TRUE;
}

/* The resolutions the writer maintains (_sy_rollup_resolutions). */
static const struct
{
  const char *name;
  gint64      seconds;
} bucket_sizes[] = {
  { "1m", 60 },
  { "15m", 900 },
  { "1h", 3600 },
  { "1d", 86400 },
};

static const char rollups_sql[] =
  "SELECT bucket_ms, count, min_power, max_power, avg_power, energy_delta FROM rollups "
  "WHERE meter_id = ?1 AND res_s = ?2 AND bucket_ms >= ?3 AND bucket_ms < ?4 ORDER BY bucket_ms";

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
append_nullable (GString      *out,
                 const char   *name,
                 sqlite3_stmt *stmt,
                 int           column)
{
  g_string_append_printf (out, ",\"%s\":", name);
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    g_string_append (out, "null");
  else
    _sy_json_append_double (out, sqlite3_column_double (stmt, column));
}

static gboolean
list_rollups (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  g_auto(SyReaderGuard) guard = { req->api->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) meters = NULL;
  g_autoptr(GString) out = NULL;
  const char *bucket = g_hash_table_lookup (req->query, "bucket");
  gint64 bucket_s = 0;
  gint64 bucket_ms;
  gint64 from = -1;   /* absent: sy_time_parse_iso8601 takes years from 1970 on */
  gint64 to = -1;
  gint64 start;
  gint64 n_buckets;
  gboolean has_to;

  if (!get_id_list (req, "meter_id", MAX_ROLLUP_IDS, &meters, error))
    return FALSE;
  if (meters == NULL)
    {
      sy_error_set_field (error, "meter_id", "required");
      return FALSE;
    }

  if (bucket == NULL || bucket[0] == '\0')
    {
      sy_error_set_field (error, "bucket", "required: 1m, 15m, 1h or 1d");
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (bucket_sizes); i++)
    {
      if (g_str_equal (bucket, bucket_sizes[i].name))
        bucket_s = bucket_sizes[i].seconds;
    }
  if (bucket_s == 0)
    {
      sy_error_set_field (error, "bucket", "must be 1m, 15m, 1h or 1d");
      return FALSE;
    }
  bucket_ms = bucket_s * 1000;

  if (!_sy_query_get_time (req, "from", &from, error) ||
      !_sy_query_get_time (req, "to", &to, error))
    return FALSE;

  /* Default: the last 24 h, or the 24 h before `to`. */
  has_to = to >= 0;
  if (!has_to)
    to = sy_time_now_ms ();
  if (from < 0)
    from = to - DAY_MS;
  if (from >= to)
    {
      sy_error_set_field (error, "to", "must be after from");
      return FALSE;
    }

  /* Every bucket that overlaps [from, to). Both ends are within years 1970 to 9999. */
  start = floor_div (from, bucket_ms) * bucket_ms;
  n_buckets = (to - start + bucket_ms - 1) / bucket_ms;
  if (n_buckets > MAX_BUCKETS)
    {
      sy_error_set_field (error, has_to ? "to" : "from",
                          "the range spans %" G_GINT64_FORMAT " buckets of %s; at most %" G_GINT64_FORMAT
                          " per meter (shorten the range or use a larger bucket)",
                          n_buckets, bucket, MAX_BUCKETS);
      return FALSE;
    }
  if (n_buckets * meters->len > MAX_ROWS)
    {
      sy_error_set_field (error, "meter_id",
                          "%u meters with %" G_GINT64_FORMAT " buckets each exceed %" G_GINT64_FORMAT
                          " buckets per request (ask for fewer meters, a shorter range or a larger bucket)",
                          meters->len, n_buckets, MAX_ROWS);
      return FALSE;
    }

  guard.db = _sy_store_reader_acquire (req->api->store);

  if (!check_ids_exist (guard.db, "SELECT 1 FROM meters WHERE id = ?1", meters, "meter_id", "meter", error))
    return FALSE;

  stmt = _sy_sql_prepare (guard.db, rollups_sql, error);
  if (stmt == NULL)
    return FALSE;

  out = g_string_new (NULL);
  g_string_append_printf (out, "{\"bucket_s\":%" G_GINT64_FORMAT ",\"results\":[", bucket_s);

  for (guint i = 0; i < meters->len; i++)
    {
      gint64 meter_id = g_array_index (meters, gint64, i);
      int rc;

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, meter_id);
      sqlite3_bind_int64 (stmt, 2, bucket_s);
      sqlite3_bind_int64 (stmt, 3, start);
      sqlite3_bind_int64 (stmt, 4, to);

      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          if (out->str[out->len - 1] != '[')
            g_string_append_c (out, ',');
          g_string_append_printf (out, "{\"meter_id\":%" G_GINT64_FORMAT ",\"timestamp\":\"", meter_id);
          sy_time_append_iso8601 (out, sqlite3_column_int64 (stmt, 0));
          g_string_append_printf (out, "\",\"count\":%" G_GINT64_FORMAT, (gint64) sqlite3_column_int64 (stmt, 1));
          append_nullable (out, "min_power", stmt, 2);
          append_nullable (out, "max_power", stmt, 3);
          append_nullable (out, "avg_power", stmt, 4);
          append_nullable (out, "energy_delta_kwh", stmt, 5);
          g_string_append_c (out, '}');
        }
      if (!_sy_sql_check (guard.db, rc, "Reading rollups", error))
        return FALSE;
    }

  g_string_append (out, "]}");

  res->status = 200;
  if (res->body != NULL)
    g_string_free (res->body, TRUE);
  res->body = g_steal_pointer (&out);
  return TRUE;
}

static const SyRoute routes[] = {
  { "GET", "/api/energy/energy-data/latest", "meters:read", latest_readings, NULL },
  { "GET", "/api/energy/energy-data/rollups", "meters:read", list_rollups, NULL },
};

const SyRoute *
_sy_api_readings_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}
