/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sy-analytics-private.h"
#include "sy-api-private.h"
#include "sy-error.h"
#include "sy-export-private.h"
#include "sy-forecast-private.h"
#include "sy-kpi-private.h"
#include "sy-matrix-private.h"
#include "sy-time.h"

/* /api/energy/analytics/: key figures, matrices for heat maps, live trails, streamed exports
 * and forecasts (backend/analytics/). Everything reads through the read-only pool. */

#define SCOPE            "analytics:read"
#define MAX_TRAIL_S      86400
#define MAX_EXPORT_IDS   100
#define MAX_EXPORTS      2              /* each holds one of the 4 pooled readers while it runs */
#define EXPORT_CHUNK     (64 * 1024)
#define EXPORT_QUEUE     4              /* chunks handed to libsoup and not yet written */
#define EXPORT_STALL_S   60             /* a client that reads nothing for this long is dropped */
#define MAX_RANGE_MS     (G_GINT64_CONSTANT (10) * 366 * SY_ANALYTICS_DAY_MS)

static void
set_body (SyResponse *res,
          GString    *out)
{
  res->status = 200;
  if (res->body != NULL)
    g_string_free (res->body, TRUE);
  res->body = out;
}

static void
append_time (GString    *out,
             const char *name,
             gint64      ms)
{
  g_string_append_printf (out, "\"%s\":", name);
  if (ms < 0)
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append_c (out, '"');
  sy_time_append_iso8601 (out, ms);
  g_string_append_c (out, '"');
}

static void
append_num (GString    *out,
            const char *name,
            double      value)
{
  g_string_append_printf (out, ",\"%s\":", name);
  _sy_json_append_double (out, value);
}

/* ?name=1,2,3 → a new GArray of gint64 (in the given order, duplicates dropped); *out stays
 * NULL when absent. */
static gboolean
get_id_list (GHashTable  *query,
             const char  *name,
             guint        max_ids,
             GArray     **out,
             GError     **error)
{
  const char *text = g_hash_table_lookup (query, name);
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
      gboolean seen = FALSE;

      if (!g_ascii_string_to_unsigned (parts[i], 10, 1, G_MAXINT64, &value, NULL))
        {
          sy_error_set_field (error, name, "must be a positive integer or a comma-separated list of them");
          return FALSE;
        }
      id = (gint64) value;
      for (guint j = 0; j < ids->len && !seen; j++)
        seen = g_array_index (ids, gint64, j) == id;
      if (!seen)
        g_array_append_val (ids, id);
    }
  if (ids->len > max_ids)
    {
      sy_error_set_field (error, name, "at most %u ids", max_ids);
      return FALSE;
    }

  *out = g_steal_pointer (&ids);
  return TRUE;
}

static const struct
{
  const char   *field;
  SyEntityType  type;
} entity_fields[] = {
  { "meter_id", SY_ENTITY_METER },
  { "group_id", SY_ENTITY_GROUP },
  { "site_id", SY_ENTITY_SITE },
};

/* Exactly one of meter_id, group_id, site_id (when @allow_site) as a single id. */
static gboolean
get_entity (SyRequest     *req,
            gboolean       allow_site,
            SyEntityType  *type,
            gint64        *id,
            GError       **error)
{
  const char *found = NULL;
  const char *names = allow_site ? "meter_id, group_id or site_id" : "meter_id or group_id";

  if (g_hash_table_contains (req->query, "account_id"))
    {
      sy_error_set_field (error, "account_id", "accounts do not exist yet; use %s", names);
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (entity_fields); i++)
    {
      gint64 value = 0;

      if (!g_hash_table_contains (req->query, entity_fields[i].field))
        continue;
      if (entity_fields[i].type == SY_ENTITY_SITE && !allow_site)
        {
          sy_error_set_field (error, "site_id", "not supported here; use %s", names);
          return FALSE;
        }
      if (found != NULL)
        {
          sy_error_set_field (error, entity_fields[i].field, "cannot be combined with %s; give one of %s",
                              found, names);
          return FALSE;
        }
      if (!_sy_query_get_int (req, entity_fields[i].field, 1, G_MAXINT64, &value, error))
        return FALSE;
      if (value == 0)
        {
          sy_error_set_field (error, entity_fields[i].field, "must be a positive integer");
          return FALSE;
        }
      found = entity_fields[i].field;
      *type = entity_fields[i].type;
      *id = value;
    }

  if (found == NULL)
    {
      sy_error_set_field (error, "meter_id", "required: give one of %s", names);
      return FALSE;
    }

  return TRUE;
}

/* from/to; absent to = now, absent from = to - @default_span. */
static gboolean
get_range (SyRequest  *req,
           gint64      default_span_ms,
           gint64      max_span_ms,
           gint64     *from,
           gint64     *to,
           GError    **error)
{
  gboolean has_to;

  *from = -1;
  *to = -1;
  if (!_sy_query_get_time (req, "from", from, error) ||
      !_sy_query_get_time (req, "to", to, error))
    return FALSE;

  has_to = *to >= 0;
  if (!has_to)
    *to = sy_time_now_ms ();
  if (*from < 0)
    *from = *to - default_span_ms;
  if (*from >= *to)
    {
      sy_error_set_field (error, "to", "must be after from");
      return FALSE;
    }
  if (*to - *from > max_span_ms)
    {
      sy_error_set_field (error, has_to ? "to" : "from", "the range is longer than %" G_GINT64_FORMAT " days",
                          max_span_ms / SY_ANALYTICS_DAY_MS);
      return FALSE;
    }

  return TRUE;
}

/* Some value of @field must be one of @names; returns its index, or -1 with a field error. */
static int
get_choice (GHashTable         *query,
            const char         *field,
            const char * const *names,
            int                 fallback,
            GError            **error)
{
  const char *text = g_hash_table_lookup (query, field);
  g_autofree char *list = NULL;

  if (text == NULL || text[0] == '\0')
    return fallback;

  for (int i = 0; names[i] != NULL; i++)
    {
      if (g_str_equal (text, names[i]))
        return i;
    }

  list = g_strjoinv (", ", (char **) names);
  sy_error_set_field (error, field, "must be one of %s", list);
  return -1;
}

/* GET /api/energy/analytics/kpi */
static gboolean
get_kpi (SyRequest   *req,
         SyResponse  *res,
         GError     **error)
{
  g_auto(SyReaderGuard) guard = { req->api->store, NULL };
  g_autoptr(GString) out = NULL;
  SyEntityType type = SY_ENTITY_METER;
  gint64 id = 0;
  gint64 from, to;
  SyKpi kpi;

  if (!get_entity (req, TRUE, &type, &id, error) ||
      !get_range (req, SY_ANALYTICS_DAY_MS, SY_KPI_MAX_RANGE_MS, &from, &to, error))
    return FALSE;

  guard.db = _sy_store_reader_acquire (req->api->store);
  if (!_sy_kpi_compute (guard.db, type, id, from, to, &kpi, error))
    return FALSE;

  out = g_string_new (NULL);
  g_string_append_printf (out, "{\"entity\":{\"type\":\"%s\",\"id\":%" G_GINT64_FORMAT "},",
                          _sy_entity_type_name (type), id);
  append_time (out, "from", from);
  g_string_append_c (out, ',');
  append_time (out, "to", to);
  g_string_append_printf (out, ",\"meters\":%u", kpi.n_meters);
  append_num (out, "energy_imported_kwh", kpi.energy_imported_kwh);
  append_num (out, "energy_exported_kwh", kpi.energy_exported_kwh);
  append_num (out, "avg_power_w", kpi.avg_power_w);
  append_num (out, "peak_power_w", kpi.peak_power_w);
  append_num (out, "peak_demand_15min_kw", kpi.peak_demand_kw);
  g_string_append_c (out, ',');
  append_time (out, "peak_demand_at", kpi.peak_demand_ms);
  append_num (out, "load_factor", kpi.load_factor);
  append_num (out, "pv_yield_kwh", kpi.pv_yield_kwh);
  append_num (out, "consumption_kwh", kpi.consumption_kwh);
  append_num (out, "self_consumption_pct", kpi.self_consumption_pct);
  append_num (out, "autarky_pct", kpi.autarky_pct);
  g_string_append_printf (out, ",\"readings\":%" G_GINT64_FORMAT ",\"expected_readings\":", kpi.readings);
  if (kpi.expected_readings < 0)
    g_string_append (out, "null");
  else
    g_string_append_printf (out, "%" G_GINT64_FORMAT, kpi.expected_readings);
  append_num (out, "completeness_pct", kpi.completeness_pct);
  g_string_append_printf (out, ",\"register_resets\":%u}", kpi.register_resets);

  set_body (res, g_steal_pointer (&out));
  return TRUE;
}

static const char * const matrix_buckets[] = { "15min", "hour", "day", "weekday_hour", NULL };
static const char * const matrix_metrics[] = { "energy_kwh", "avg_power", "max_power", NULL };
static const char * const weekday_names[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

/* GET /api/energy/analytics/matrix */
static gboolean
get_matrix (SyRequest   *req,
            SyResponse  *res,
            GError     **error)
{
  g_auto(SyReaderGuard) guard = { req->api->store, NULL };
  g_autoptr(GArray) meters = NULL;
  g_autoptr(GArray) groups = NULL;
  g_autoptr(GArray) rows = NULL;
  g_autoptr(SyMatrix) matrix = NULL;
  g_autoptr(GString) out = NULL;
  gint64 site_id = 0;
  gint64 from, to;
  gint64 n_columns;
  int bucket, metric;
  static const gint64 default_spans[] = {
    SY_ANALYTICS_DAY_MS, SY_ANALYTICS_DAY_MS, 30 * SY_ANALYTICS_DAY_MS, 28 * SY_ANALYTICS_DAY_MS,
  };

  if (g_hash_table_contains (req->query, "account_id"))
    {
      sy_error_set_field (error, "account_id", "accounts do not exist yet; use meter_id, group_id or site_id");
      return FALSE;
    }
  if ((bucket = get_choice (req->query, "bucket", matrix_buckets, SY_MATRIX_HOUR, error)) < 0 ||
      (metric = get_choice (req->query, "metric", matrix_metrics, SY_MATRIX_ENERGY_KWH, error)) < 0)
    return FALSE;
  if (!get_id_list (req->query, "meter_id", SY_MATRIX_MAX_ROWS, &meters, error) ||
      !get_id_list (req->query, "group_id", SY_MATRIX_MAX_ROWS, &groups, error) ||
      !_sy_query_get_int (req, "site_id", 1, G_MAXINT64, &site_id, error))
    return FALSE;
  if (site_id != 0 && (meters != NULL || groups != NULL))
    {
      sy_error_set_field (error, "site_id", "cannot be combined with meter_id or group_id");
      return FALSE;
    }
  if (site_id == 0 && meters == NULL && groups == NULL)
    {
      sy_error_set_field (error, "meter_id", "required: give meter_id and/or group_id (lists), or site_id");
      return FALSE;
    }
  if (!get_range (req, default_spans[bucket], MAX_RANGE_MS, &from, &to, error))
    return FALSE;

  guard.db = _sy_store_reader_acquire (req->api->store);

  rows = g_array_new (FALSE, FALSE, sizeof (SyEntityRef));
  if (site_id != 0)
    {
      g_autoptr(GArray) site_meters = _sy_analytics_load_meters (guard.db, SY_ENTITY_SITE, site_id, error);

      if (site_meters == NULL)
        return FALSE;
      for (guint i = 0; i < site_meters->len; i++)
        {
          SyEntityRef ref = { SY_ENTITY_METER, g_array_index (site_meters, SyMeterInfo, i).id };

          g_array_append_val (rows, ref);
        }
    }
  for (guint k = 0; k < 2; k++)
    {
      GArray *ids = k == 0 ? meters : groups;
      SyEntityType type = k == 0 ? SY_ENTITY_METER : SY_ENTITY_GROUP;

      for (guint i = 0; ids != NULL && i < ids->len; i++)
        {
          SyEntityRef ref = { type, g_array_index (ids, gint64, i) };
          g_autofree char *name = _sy_analytics_dup_name (guard.db, type, ref.id);

          if (name == NULL)
            {
              sy_error_set_field (error, k == 0 ? "meter_id" : "group_id", "no %s %" G_GINT64_FORMAT,
                                  _sy_entity_type_name (type), ref.id);
              return FALSE;
            }
          g_array_append_val (rows, ref);
        }
    }
  if (rows->len > SY_MATRIX_MAX_ROWS)
    {
      sy_error_set_field (error, site_id != 0 ? "site_id" : "meter_id", "at most %u rows", SY_MATRIX_MAX_ROWS);
      return FALSE;
    }

  n_columns = _sy_matrix_n_columns (bucket, from, to);
  if (n_columns * MAX (rows->len, 1) > SY_MATRIX_MAX_CELLS)
    {
      sy_error_set_field (error, "to", "%u rows of %" G_GINT64_FORMAT " %s buckets exceed %d cells "
                          "(shorten the range or use a larger bucket)",
                          rows->len, n_columns, matrix_buckets[bucket], SY_MATRIX_MAX_CELLS);
      return FALSE;
    }

  matrix = _sy_matrix_compute (guard.db, (const SyEntityRef *) rows->data, rows->len, bucket, metric,
                               from, to, error);
  if (matrix == NULL)
    return FALSE;

  out = g_string_sized_new (64 + (gsize) matrix->n_rows * matrix->n_columns * 8 + matrix->n_columns * 24);
  g_string_append_printf (out, "{\"bucket\":\"%s\",\"metric\":\"%s\",\"unit\":\"%s\",",
                          matrix_buckets[bucket], matrix_metrics[metric],
                          metric == SY_MATRIX_ENERGY_KWH ? "kWh" : "W");
  append_time (out, "from", from);
  g_string_append_c (out, ',');
  append_time (out, "to", to);

  g_string_append (out, ",\"rows\":[");
  for (guint r = 0; r < matrix->n_rows; r++)
    {
      const SyEntityRef *ref = &g_array_index (rows, SyEntityRef, r);

      if (r > 0)
        g_string_append_c (out, ',');
      g_string_append_printf (out, "{\"type\":\"%s\",\"id\":%" G_GINT64_FORMAT ",\"name\":",
                              _sy_entity_type_name (ref->type), ref->id);
      _sy_json_append_string (out, matrix->row_names[r] ? matrix->row_names[r] : "");
      g_string_append_c (out, '}');
    }

  g_string_append (out, "],\"columns\":[");
  for (guint c = 0; c < matrix->n_columns; c++)
    {
      if (c > 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, '"');
      if (matrix->step_ms == 0)
        g_string_append_printf (out, "%s %02u:00", weekday_names[c / 24], c % 24);
      else
        sy_time_append_iso8601 (out, matrix->first_ms + (gint64) c * matrix->step_ms);
      g_string_append_c (out, '"');
    }

  g_string_append (out, "],\"values\":[");
  for (guint r = 0; r < matrix->n_rows; r++)
    {
      const double *row = matrix->values + (gsize) r * matrix->n_columns;

      g_string_append (out, r > 0 ? ",[" : "[");
      for (guint c = 0; c < matrix->n_columns; c++)
        {
          if (c > 0)
            g_string_append_c (out, ',');
          _sy_analytics_append_number (out, row[c]);
        }
      g_string_append_c (out, ']');
    }
  g_string_append (out, "]}");

  set_body (res, g_steal_pointer (&out));
  return TRUE;
}

static const char trail_sql[] =
  "SELECT ts_ms, total_power, total_energy, voltage_a, voltage_b, voltage_c, current_a, current_b, "
  "current_c, power_factor, frequency, thd_v_pct, thd_i_pct, breaker_state FROM readings "
  "WHERE meter_id = ?1 AND ts_ms >= ?2 AND ts_ms <= ?3 ORDER BY ts_ms";

static const char * const trail_names[] = {
  "total_power", "total_energy", "voltage_a", "voltage_b", "voltage_c", "current_a", "current_b",
  "current_c", "power_factor", "frequency", "thd_v_pct", "thd_i_pct",
};

/* GET /api/energy/analytics/live_trail: the last @seconds of raw readings, straight from the
 * primary key (one range walk per meter). */
static gboolean
get_live_trail (SyRequest   *req,
                SyResponse  *res,
                GError     **error)
{
  g_auto(SyReaderGuard) guard = { req->api->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) meters = NULL;
  g_autoptr(GString) out = NULL;
  SyEntityType type = SY_ENTITY_METER;
  gint64 id = 0;
  gint64 seconds = 900;
  gint64 to = sy_time_now_ms ();
  gint64 from;
  guint n = 0;

  if (!get_entity (req, FALSE, &type, &id, error) ||
      !_sy_query_get_int (req, "seconds", 1, MAX_TRAIL_S, &seconds, error))
    return FALSE;
  from = to - seconds * 1000;

  guard.db = _sy_store_reader_acquire (req->api->store);
  meters = _sy_analytics_load_meters (guard.db, type, id, error);
  if (meters == NULL)
    return FALSE;
  stmt = _sy_sql_prepare (guard.db, trail_sql, error);
  if (stmt == NULL)
    return FALSE;

  out = g_string_new ("{");
  append_time (out, "from", from);
  g_string_append_c (out, ',');
  append_time (out, "to", to);
  g_string_append_printf (out, ",\"seconds\":%" G_GINT64_FORMAT ",\"meter_ids\":[", seconds);
  for (guint i = 0; i < meters->len; i++)
    g_string_append_printf (out, "%s%" G_GINT64_FORMAT, i ? "," : "", g_array_index (meters, SyMeterInfo, i).id);
  g_string_append (out, "],\"results\":[");

  for (guint i = 0; i < meters->len; i++)
    {
      gint64 meter_id = g_array_index (meters, SyMeterInfo, i).id;
      int rc;

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, meter_id);
      sqlite3_bind_int64 (stmt, 2, from);
      sqlite3_bind_int64 (stmt, 3, to);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          const char *breaker = (const char *) sqlite3_column_text (stmt, 13);

          g_string_append_printf (out, "%s{\"meter_id\":%" G_GINT64_FORMAT ",",
                                  n++ > 0 ? "," : "", meter_id);
          append_time (out, "timestamp", sqlite3_column_int64 (stmt, 0));
          for (guint v = 0; v < G_N_ELEMENTS (trail_names); v++)
            {
              if (sqlite3_column_type (stmt, 1 + v) != SQLITE_NULL)
                append_num (out, trail_names[v], sqlite3_column_double (stmt, 1 + v));
            }
          if (breaker != NULL)
            {
              g_string_append (out, ",\"breaker_state\":");
              _sy_json_append_string (out, breaker);
            }
          g_string_append_c (out, '}');
        }
      if (!_sy_sql_check (guard.db, rc, "Reading the trail", error))
        return FALSE;
    }
  g_string_append (out, "]}");

  set_body (res, g_steal_pointer (&out));
  return TRUE;
}

/* --- Export: a direct route that streams a chunked response fed by a worker thread -------- */

static int active_exports;   /* atomic */

typedef struct
{
  SyApiContext      *api;
  SoupServerMessage *msg;            /* backend thread only */
  GMainContext      *context;
  GHashTable        *query;
  char              *authorization;
  char              *path;

  GMutex             mutex;
  GCond              cond;
  guint              queued;         /* under mutex */
  gboolean           gone;           /* under mutex: finished, disconnected or stalled */
  gboolean           reader_held;    /* under mutex: the worker holds a pooled connection */
  gboolean           started;        /* backend thread */

  gulong             wrote_chunk_id;
  gulong             finished_id;
  gulong             disconnected_id;
} Export;

static void
export_clear (Export *exp)
{
  g_clear_object (&exp->msg);
  g_clear_pointer (&exp->context, g_main_context_unref);
  g_clear_pointer (&exp->query, g_hash_table_unref);
  g_free (exp->authorization);
  g_free (exp->path);
  g_mutex_clear (&exp->mutex);
  g_cond_clear (&exp->cond);
}

static Export *
export_ref (Export *exp)
{
  return g_atomic_rc_box_acquire (exp);
}

static void
export_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, (GDestroyNotify) export_clear);
}

static void
export_wrote_chunk_cb (SoupServerMessage *msg,
                       Export            *exp)
{
  g_mutex_lock (&exp->mutex);
  if (exp->queued > 0)
    exp->queued--;
  g_cond_broadcast (&exp->cond);
  g_mutex_unlock (&exp->mutex);
}

/* The message is done or its client went away, also when the server disconnects at stop:
 * wait (briefly: the worker checks between chunks) until the worker has given its connection
 * back, so that the store is never closed under it. */
static void
export_finished_cb (SoupServerMessage *msg,
                    Export            *exp)
{
  gint64 deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

  g_mutex_lock (&exp->mutex);
  exp->gone = TRUE;
  g_cond_broadcast (&exp->cond);
  while (exp->reader_held)
    {
      if (!g_cond_wait_until (&exp->cond, &exp->mutex, deadline))
        break;
    }
  g_mutex_unlock (&exp->mutex);
}

/* Work items posted from the worker to the backend thread. */
typedef enum
{
  STEP_PROBLEM,
  STEP_START,
  STEP_CHUNK,
  STEP_COMPLETE,
  STEP_ABORT,
  STEP_DONE,
} StepKind;

typedef struct
{
  Export   *exp;
  StepKind  kind;
  GBytes   *chunk;
  GError   *error;
  gboolean  json;
} Step;

static void
step_free (gpointer data)
{
  Step *step = data;

  export_unref (step->exp);
  g_clear_pointer (&step->chunk, g_bytes_unref);
  g_clear_error (&step->error);
  g_free (step);
}

static gboolean
export_step_cb (gpointer data)
{
  Step *step = data;
  Export *exp = step->exp;
  SoupServerMessage *msg = exp->msg;
  gboolean gone;

  g_mutex_lock (&exp->mutex);
  gone = exp->gone;
  g_mutex_unlock (&exp->mutex);

  switch (step->kind)
    {
    case STEP_PROBLEM:
      if (!gone)
        {
          _sy_message_set_problem (msg, step->error);
          if (step->error->domain == SY_ERROR && step->error->code == SY_ERROR_UNAVAILABLE)
            soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "5");
          soup_server_message_unpause (msg);
        }
      break;

    case STEP_START:
      if (!gone)
        {
          SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

          soup_server_message_set_status (msg, 200, NULL);
          soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
          soup_message_headers_replace (headers, "Content-Type",
                                        step->json ? "application/json" : "text/csv; charset=utf-8; header=present");
          if (!step->json)
            soup_message_headers_replace (headers, "Content-Disposition", "attachment; filename=\"export.csv\"");
          soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
          exp->started = TRUE;
          soup_server_message_unpause (msg);
        }
      break;

    case STEP_CHUNK:
      if (!gone)
        {
          soup_message_body_append_bytes (soup_server_message_get_response_body (msg), step->chunk);
          soup_server_message_unpause (msg);
        }
      break;

    case STEP_COMPLETE:
      if (!gone)
        {
          soup_message_body_complete (soup_server_message_get_response_body (msg));
          soup_server_message_unpause (msg);
        }
      break;

    case STEP_ABORT:
      /* The status line is out: the only honest signal left is a truncated body. */
      if (!gone)
        {
          GSocket *socket = soup_server_message_get_socket (msg);

          g_warning ("Export %s failed after it started: %s", exp->path, step->error->message);
          if (socket != NULL)
            g_socket_close (socket, NULL);
        }
      break;

    case STEP_DONE:
      g_clear_signal_handler (&exp->wrote_chunk_id, msg);
      g_clear_signal_handler (&exp->finished_id, msg);
      g_clear_signal_handler (&exp->disconnected_id, msg);
      exp->api->in_flight--;
      g_atomic_int_add (&active_exports, -1);
      break;

    default:
      g_assert_not_reached ();
    }

  return G_SOURCE_REMOVE;
}

static void
export_post (Export   *exp,
             StepKind  kind,
             GBytes   *chunk,
             GError   *error,
             gboolean  json)
{
  Step *step = g_new0 (Step, 1);

  step->exp = export_ref (exp);
  step->kind = kind;
  step->chunk = chunk;
  step->error = error;
  step->json = json;
  g_main_context_invoke_full (exp->context, G_PRIORITY_DEFAULT, export_step_cb, step, step_free);
}

static gboolean
export_sink (const char *data,
             gsize       len,
             gpointer    user_data)
{
  Export *exp = user_data;
  gint64 deadline = g_get_monotonic_time () + EXPORT_STALL_S * G_USEC_PER_SEC;
  gboolean gone;

  g_mutex_lock (&exp->mutex);
  while (exp->queued >= EXPORT_QUEUE && !exp->gone)
    {
      if (!g_cond_wait_until (&exp->cond, &exp->mutex, deadline))
        {
          exp->gone = TRUE;   /* the client stopped reading */
          break;
        }
    }
  gone = exp->gone;
  if (!gone)
    exp->queued++;
  g_mutex_unlock (&exp->mutex);

  if (gone)
    return FALSE;

  export_post (exp, STEP_CHUNK, g_bytes_new (data, len), NULL, FALSE);
  return TRUE;
}

static const char * const export_buckets[] = { "raw", "1m", "15m", "1h", "1d", NULL };
static const gint64 export_bucket_s[] = { 0, 60, 900, 3600, 86400 };
static const char * const export_formats[] = { "csv", "json", NULL };

static gboolean
export_prepare (Export          *exp,
                sqlite3        **db_out,
                SyExportParams  *params,
                GError         **error)
{
  SyRequest req = { .api = exp->api, .query = exp->query };
  int bucket, format;

  if (!_sy_auth_check_bearer (exp->api->auth, exp->authorization, SCOPE, NULL, error))
    return FALSE;

  if (!get_id_list (exp->query, "meter_id", MAX_EXPORT_IDS, &params->meters, error))
    return FALSE;
  if (params->meters == NULL)
    {
      sy_error_set_field (error, "meter_id", "required: one or more meter ids, comma-separated");
      return FALSE;
    }
  if ((bucket = get_choice (exp->query, "bucket", export_buckets, 0, error)) < 0 ||
      (format = get_choice (exp->query, "format", export_formats, SY_EXPORT_CSV, error)) < 0)
    return FALSE;
  params->bucket_s = export_bucket_s[bucket];
  params->format = format;
  if (!get_range (&req, SY_ANALYTICS_DAY_MS, MAX_RANGE_MS, &params->from_ms, &params->to_ms, error))
    return FALSE;

  *db_out = _sy_store_reader_acquire (exp->api->store);
  g_mutex_lock (&exp->mutex);
  exp->reader_held = TRUE;
  g_mutex_unlock (&exp->mutex);
  for (guint i = 0; i < params->meters->len; i++)
    {
      gint64 id = g_array_index (params->meters, gint64, i);
      g_autofree char *name = _sy_analytics_dup_name (*db_out, SY_ENTITY_METER, id);

      if (name == NULL)
        {
          if (params->meters->len == 1)
            g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No meter %" G_GINT64_FORMAT, id);
          else
            sy_error_set_field (error, "meter_id", "no meter %" G_GINT64_FORMAT, id);
          return FALSE;
        }
    }

  return TRUE;
}

static gpointer
export_thread (gpointer data)
{
  Export *exp = data;
  SyExportParams params = { 0, };
  sqlite3 *db = NULL;
  GError *error = NULL;

  if (!export_prepare (exp, &db, &params, &error))
    export_post (exp, STEP_PROBLEM, NULL, g_steal_pointer (&error), FALSE);
  else
    {
      export_post (exp, STEP_START, NULL, NULL, params.format == SY_EXPORT_JSON);
      if (_sy_export_run (db, &params, EXPORT_CHUNK, export_sink, exp, NULL, &error))
        export_post (exp, STEP_COMPLETE, NULL, NULL, FALSE);
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_clear_error (&error);
      else
        export_post (exp, STEP_ABORT, NULL, g_steal_pointer (&error), FALSE);
    }

  if (db != NULL)
    {
      _sy_store_reader_release (exp->api->store, db);
      g_mutex_lock (&exp->mutex);
      exp->reader_held = FALSE;
      g_cond_broadcast (&exp->cond);
      g_mutex_unlock (&exp->mutex);
    }
  g_clear_pointer (&params.meters, g_array_unref);

  export_post (exp, STEP_DONE, NULL, NULL, FALSE);
  export_unref (exp);
  return NULL;
}

/* GET /api/energy/analytics/export (backend thread). */
static void
start_export (SyApiContext      *api,
              SoupServerMessage *msg,
              const char        *path)
{
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *query = g_uri_get_query (soup_server_message_get_uri (msg));
  Export *exp;
  GThread *thread;

  if (g_atomic_int_add (&active_exports, 1) >= MAX_EXPORTS)
    {
      g_atomic_int_add (&active_exports, -1);
      g_set_error (&error, SY_ERROR, SY_ERROR_UNAVAILABLE, "%d exports are running; try again later", MAX_EXPORTS);
      _sy_message_set_problem (msg, error);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "5");
      return;
    }

  exp = g_atomic_rc_box_new0 (Export);
  exp->api = api;
  exp->msg = g_object_ref (msg);
  exp->context = g_main_context_ref (api->context);
  exp->path = g_strdup (path);
  exp->authorization = g_strdup (soup_message_headers_get_one (headers, "Authorization"));
  exp->query = query != NULL ? g_uri_parse_params (query, -1, "&", G_URI_PARAMS_WWW_FORM, NULL) : NULL;
  if (exp->query == NULL)
    exp->query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_mutex_init (&exp->mutex);
  g_cond_init (&exp->cond);

  exp->wrote_chunk_id = g_signal_connect (msg, "wrote-chunk", G_CALLBACK (export_wrote_chunk_cb), exp);
  exp->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (export_finished_cb), exp);
  exp->disconnected_id = g_signal_connect (msg, "disconnected", G_CALLBACK (export_finished_cb), exp);

  soup_server_message_pause (msg);
  api->in_flight++;

  thread = g_thread_try_new ("sy-export", export_thread, export_ref (exp), &error);
  if (thread == NULL)
    {
      export_unref (exp);   /* the thread's reference */
      export_post (exp, STEP_PROBLEM, NULL, g_steal_pointer (&error), FALSE);
      export_post (exp, STEP_DONE, NULL, NULL, FALSE);
    }
  else
    g_thread_unref (thread);

  export_unref (exp);
}

static const char * const forecast_methods[] = {
  "seasonal_naive", "moving_average", "holt_winters", "clear_sky", "auto", NULL,
};
static const char * const forecast_targets[] = { "demand", "pv", NULL };

static void
append_accuracy (GString                  *out,
                 const SyForecastAccuracy *acc)
{
  g_string_append (out, "{\"mae_kw\":");
  _sy_json_append_double (out, acc->mae);
  append_num (out, "mape_pct", acc->mape_pct);
  append_num (out, "mase", acc->mase);
  g_string_append_printf (out, ",\"days\":%u}", acc->days);
}

/* GET /api/energy/analytics/forecast */
static gboolean
get_forecast (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  g_auto(SyReaderGuard) guard = { req->api->store, NULL };
  g_autoptr(SyForecast) fc = NULL;
  g_autoptr(GString) out = NULL;
  SyEntityType type = SY_ENTITY_METER;
  gint64 id = 0;
  gint64 horizon_h = 24;
  gint64 origin = -1;
  int method, target;

  if (!get_entity (req, TRUE, &type, &id, error) ||
      !_sy_query_get_int (req, "horizon_hours", 1, SY_FORECAST_MAX_HORIZON / 4, &horizon_h, error) ||
      !_sy_query_get_time (req, "from", &origin, error))
    return FALSE;
  if ((method = get_choice (req->query, "method", forecast_methods, SY_FORECAST_AUTO, error)) < 0 ||
      (target = get_choice (req->query, "target", forecast_targets, -2, error)) == -1)
    return FALSE;
  if (origin < 0)
    origin = sy_time_now_ms ();

  guard.db = _sy_store_reader_acquire (req->api->store);

  /* Default target: generation for a pv meter, demand for everything else. */
  if (target == -2)
    {
      g_autoptr(GArray) meters = _sy_analytics_load_meters (guard.db, type, id, error);

      if (meters == NULL)
        return FALSE;
      target = type == SY_ENTITY_METER && meters->len == 1 &&
               g_str_equal (g_array_index (meters, SyMeterInfo, 0).kind, "pv");
    }
  if (method == SY_FORECAST_CLEAR_SKY && target != 1)
    {
      sy_error_set_field (error, "method", "clear_sky forecasts PV generation only (target=pv)");
      return FALSE;
    }

  fc = _sy_forecast_compute (guard.db, type, id, target == 1, method, origin, (gsize) horizon_h * 4, error);
  if (fc == NULL)
    return FALSE;

  out = g_string_new (NULL);
  g_string_append_printf (out, "{\"entity\":{\"type\":\"%s\",\"id\":%" G_GINT64_FORMAT "},\"target\":\"%s\","
                          "\"unit\":\"kW\",\"method\":\"%s\",\"requested_method\":\"%s\",",
                          _sy_entity_type_name (type), id, forecast_targets[target],
                          _sy_forecast_method_name (fc->method), forecast_methods[method]);
  append_time (out, "origin", fc->origin_ms);
  g_string_append_printf (out, ",\"step_s\":900,\"history_points\":%u,\"interval_level\":0.95,\"accuracy\":",
                          fc->history_points);
  append_accuracy (out, &fc->accuracy);
  g_string_append (out, ",\"candidates\":{");
  for (guint m = 0, k = 0; m < SY_FORECAST_N_METHODS; m++)
    {
      if (!fc->ran[m])
        continue;
      g_string_append_printf (out, "%s\"%s\":", k++ ? "," : "", _sy_forecast_method_name (m));
      append_accuracy (out, &fc->candidates[m]);
    }
  g_string_append (out, "},\"points\":[");
  for (guint h = 0; h < fc->horizon; h++)
    {
      g_string_append (out, h ? ",{" : "{");
      append_time (out, "timestamp", fc->origin_ms + (gint64) h * SY_FORECAST_STEP_MS);
      g_string_append (out, ",\"value\":");
      _sy_analytics_append_number (out, fc->values[h]);
      g_string_append (out, ",\"lower\":");
      _sy_analytics_append_number (out, fc->lower[h]);
      g_string_append (out, ",\"upper\":");
      _sy_analytics_append_number (out, fc->upper[h]);
      g_string_append_c (out, '}');
    }
  g_string_append (out, "]}");

  set_body (res, g_steal_pointer (&out));
  return TRUE;
}

static const SyRoute routes[] = {
  { "GET", "/api/energy/analytics/kpi", SCOPE, get_kpi, NULL },
  { "GET", "/api/energy/analytics/matrix", SCOPE, get_matrix, NULL },
  { "GET", "/api/energy/analytics/live_trail", SCOPE, get_live_trail, NULL },
  { "GET", "/api/energy/analytics/export", SCOPE, NULL, start_export },
  { "GET", "/api/energy/analytics/forecast", SCOPE, get_forecast, NULL },
};

const SyRoute *
_sy_api_analytics_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}
