/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <string.h>

#include "sy-api-private.h"
#include "sy-error.h"
#include "sy-ingest-private.h"
#include "sy-time.h"

/* Ingestion runs on the backend thread: authenticate, verify, parse, queue for the writer,
 * pause the message; the writer's completion answers it after the commit. */

typedef struct
{
  SyApiContext      *api;
  SoupServerMessage *msg;
  gboolean           bulk;
  gboolean           gone;
  gulong             disconnected_id;
} IngestRequest;

static void
ingest_request_free (IngestRequest *ir)
{
  g_clear_signal_handler (&ir->disconnected_id, ir->msg);
  g_clear_object (&ir->msg);
  g_free (ir);
}

static void
disconnected_cb (SoupServerMessage *msg,
                 IngestRequest     *ir)
{
  ir->gone = TRUE;
}

static void
ingest_done_cb (const GError *error,
                GArray       *readings,
                guint         inserted,
                gpointer      user_data)
{
  IngestRequest *ir = user_data;

  /* _sy_api_ingest_submit() has told the subscribers already. */
  if (!ir->gone)
    {
      if (error != NULL)
        {
          _sy_message_set_problem (ir->msg, error);
        }
      else if (ir->bulk)
        {
          char json[96];
          int len = g_snprintf (json, sizeof json, "{\"accepted\":%u,\"duplicates\":%u}",
                                readings->len, readings->len - inserted);

          _sy_message_set_json (ir->msg, 201, json, len);
        }
      else
        {
          /* No values echoed: formatting doubles costs more than the rest of the answer.
           * GET /api/energy/energy-data/ shows exactly what was stored. */
          const SyReading *r = &g_array_index (readings, SyReading, 0);
          GString *json = g_string_sized_new (128);

          g_string_append_printf (json, "{\"accepted\":1,\"duplicates\":%u,\"meter_id\":%" G_GINT64_FORMAT
                                  ",\"timestamp\":\"", readings->len - inserted, r->meter_id);
          sy_time_append_iso8601 (json, r->ts_ms);
          g_string_append (json, "\"}");
          _sy_message_set_json (ir->msg, 201, json->str, json->len);
          g_string_free (json, TRUE);
        }
      soup_server_message_unpause (ir->msg);
    }

  ingest_request_free (ir);
}

static gboolean
content_type_ok (SoupMessageHeaders  *headers,
                 GError             **error)
{
  const char *ct = soup_message_headers_get_content_type (headers, NULL);

  if (ct == NULL || g_str_equal (ct, "application/json") || g_str_has_suffix (ct, "+json"))
    return TRUE;

  g_set_error (error, SY_ERROR, SY_ERROR_UNSUPPORTED_MEDIA,
               "Expected Content-Type: application/json, got %s", ct);
  return FALSE;
}

/**
 * _sy_api_verify_device:
 * @device_key: (nullable): the device key (X-Device-Key, or the MQTT topic's last level)
 * @signature: (nullable): hex HMAC-SHA256 of @data (X-Signature, or its MQTT equivalent)
 *
 * The transport-independent part of device authentication: key → device (SyAuth's cache), the
 * body size limit, and the signature (verified whenever present, required when the device says
 * so). Backend thread.
 *
 * Returns: (transfer full): the device, or %NULL with @error set.
 */
SyDeviceInfo *
_sy_api_verify_device (SyApiContext  *api,
                       const char    *device_key,
                       const char    *data,
                       gsize          len,
                       const char    *signature,
                       GError       **error)
{
  g_autoptr(SyDeviceInfo) device = NULL;

  device = _sy_auth_lookup_device (api->auth, device_key, error);
  if (device == NULL)
    return NULL;

  if (len > api->max_body_bytes)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_TOO_LARGE,
                   "The body is %" G_GSIZE_FORMAT " bytes; the limit is %" G_GSIZE_FORMAT " bytes",
                   len, api->max_body_bytes);
      return NULL;
    }

  /* Verified whenever present, required when the meter says so. */
  if (signature != NULL || device->require_signature)
    {
      if (signature == NULL)
        {
          g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED,
                               "This device requires an X-Signature header (hex HMAC-SHA256 of the body)");
          return NULL;
        }
      if (device->hmac_secret == NULL)
        {
          g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED,
                               "X-Signature given, but this device has no HMAC secret configured");
          return NULL;
        }
      if (!_sy_hmac_verify (device->hmac_secret, data, len, signature))
        {
          g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED,
                               "X-Signature does not match the body");
          return NULL;
        }
    }

  return g_steal_pointer (&device);
}

/**
 * _sy_api_authenticate_device:
 * @out_body: (out): the flattened request body
 *
 * The device authentication of ingestion, shared by every route a device posts to: X-Device-Key
 * → device (SyAuth's cache), the body size limit, X-Signature (hex HMAC-SHA256 of the body;
 * verified whenever present, required when the device says so) and the Content-Type. Backend
 * thread.
 *
 * Returns: (transfer full): the device, or %NULL with @error set.
 */
SyDeviceInfo *
_sy_api_authenticate_device (SyApiContext       *api,
                             SoupServerMessage  *msg,
                             GBytes            **out_body,
                             GError            **error)
{
  g_autoptr(SyDeviceInfo) device = NULL;
  g_autoptr(GBytes) body = NULL;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *data;
  gsize len;

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  data = g_bytes_get_data (body, &len);

  device = _sy_api_verify_device (api, soup_message_headers_get_one (headers, "X-Device-Key"), data, len,
                                  soup_message_headers_get_one (headers, "X-Signature"), error);
  if (device == NULL)
    return NULL;

  if (!content_type_ok (headers, error))
    return NULL;

  *out_body = g_steal_pointer (&body);
  return g_steal_pointer (&device);
}

/* Gives every reading its meter: a meter key owns exactly one meter; a gateway names the meter
 * in each reading and must serve it. */
static gboolean
resolve_meters (SyDeviceInfo  *device,
                GArray        *readings,
                gboolean       bulk,
                gboolean       bare_array,
                GError       **error)
{
  for (guint i = 0; i < readings->len; i++)
    {
      SyReading *r = &g_array_index (readings, SyReading, i);
      g_autofree char *field = NULL;

      if (bulk)
        field = g_strdup_printf ("%s[%u].meter_id", bare_array ? "" : "readings", i);
      else
        field = g_strdup ("meter_id");

      if (device->device_id == 0)
        {
          if (r->meter_id != 0 && r->meter_id != device->meter_id)
            {
              sy_error_set_field (error, field, "meter %" G_GINT64_FORMAT " does not belong to this device key",
                                  r->meter_id);
              return FALSE;
            }
          r->meter_id = device->meter_id;
        }
      else if (!_sy_device_info_has_meter (device, r->meter_id))
        {
          sy_error_set_field (error, field, "unknown meter %" G_GINT64_FORMAT " for this gateway device",
                              r->meter_id);
          return FALSE;
        }
    }

  return TRUE;
}

typedef struct
{
  SyApiContext *api;
  SyIngestDone  done;
  gpointer      user_data;
} SubmitRequest;

/* The writer's completion on the backend thread: the data is on disk, so tell the subscribers
 * (data.ingested per reading), then the transport. */
static void
submit_done_cb (const GError *error,
                GArray       *readings,
                guint         inserted,
                gpointer      user_data)
{
  SubmitRequest *sr = user_data;

  sr->api->in_flight--;

  if (error == NULL && _sy_event_bus_has_subscribers (sr->api->bus, SY_EVENT_DATA_INGESTED))
    {
      for (guint i = 0; i < readings->len; i++)
        {
          const SyReading *r = &g_array_index (readings, SyReading, i);
          g_autoptr(JsonNode) node = _sy_reading_to_json (r);

          _sy_event_bus_emit (sr->api->bus, SY_EVENT_DATA_INGESTED, r->ts_ms, node);
        }
    }

  sr->done (error, readings, inserted, sr->user_data);
  g_free (sr);
}

/**
 * _sy_api_ingest_submit:
 * @device: the authenticated device (_sy_api_verify_device())
 * @bulk: the body is the bulk form (an array or {"readings": [...]})
 * @done: called on the backend thread after the commit (or the failure), after data.ingested
 *
 * The transport-independent rest of ingestion, shared by HTTP and MQTT: parse, resolve the
 * meters, queue for the writer. Counts in api->in_flight until @done. Backend thread.
 *
 * Returns: %FALSE with @error set (and @done never called) when the body is refused.
 */
gboolean
_sy_api_ingest_submit (SyApiContext  *api,
                       SyDeviceInfo  *device,
                       const char    *data,
                       gsize          len,
                       gboolean       bulk,
                       SyIngestDone   done,
                       gpointer       user_data,
                       GError       **error)
{
  g_autoptr(GArray) readings = NULL;
  SyReadingParseOptions options = { 0 };
  SubmitRequest *sr;
  gsize skip = 0;

  options.allow_array = bulk;
  options.allow_meter_id = device->device_id != 0;
  options.max_readings = api->max_bulk_readings;
  options.now_ms = sy_time_now_ms ();

  readings = _sy_reading_array_new (bulk ? 64 : 1);
  if (!_sy_reading_parse (data, len, &options, readings, error))
    return FALSE;

  while (skip < len && g_ascii_isspace (data[skip]))
    skip++;
  if (!resolve_meters (device, readings, bulk, skip < len && data[skip] == '[', error))
    return FALSE;

  sr = g_new0 (SubmitRequest, 1);
  sr->api = api;
  sr->done = done;
  sr->user_data = user_data;

  api->in_flight++;
  _sy_ingest_submit (api->store, g_steal_pointer (&readings), api->context, submit_done_cb, sr);
  return TRUE;
}

static void
post_readings (SyApiContext      *api,
               SoupServerMessage *msg,
               gboolean           bulk)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SyDeviceInfo) device = NULL;
  g_autoptr(GBytes) body = NULL;
  const char *data;
  IngestRequest *ir;
  gsize len;

  device = _sy_api_authenticate_device (api, msg, &body, &error);
  if (device == NULL)
    goto fail;
  data = g_bytes_get_data (body, &len);

  ir = g_new0 (IngestRequest, 1);
  ir->api = api;
  ir->msg = g_object_ref (msg);
  ir->bulk = bulk;

  if (!_sy_api_ingest_submit (api, device, data, len, bulk, ingest_done_cb, ir, &error))
    {
      ingest_request_free (ir);
      goto fail;
    }

  ir->disconnected_id = g_signal_connect (msg, "disconnected", G_CALLBACK (disconnected_cb), ir);
  soup_server_message_pause (msg);
  return;

fail:
  _sy_message_set_problem (msg, error);
}

static void
post_single (SyApiContext      *api,
             SoupServerMessage *msg,
             const char        *path)
{
  post_readings (api, msg, FALSE);
}

static void
post_bulk (SyApiContext      *api,
           SoupServerMessage *msg,
           const char        *path)
{
  post_readings (api, msg, TRUE);
}

static const char select_readings_sql[] =
  "SELECT meter_id, ts_ms, total_power, total_energy, voltage_a, voltage_b, voltage_c, "
  "current_a, current_b, current_c, power_factor, frequency, thd_v_pct, thd_i_pct, breaker_state, extras "
  "FROM readings WHERE meter_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 ORDER BY ts_ms LIMIT ?4 OFFSET ?5";

static gboolean
list_readings (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  g_auto(SyReaderGuard) guard = { req->api->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) count = NULL;
  g_autoptr(GString) items = g_string_new (NULL);
  gint64 meter_id = 0;
  gint64 from = 0;
  gint64 to = G_MAXINT64;
  gint64 total = 0;
  SyPage page;

  if (!_sy_query_get_page (req, &page, error) ||
      !_sy_query_get_int (req, "meter_id", 1, G_MAXINT64, &meter_id, error) ||
      !_sy_query_get_time (req, "from", &from, error) ||
      !_sy_query_get_time (req, "to", &to, error))
    return FALSE;

  if (meter_id == 0)
    {
      sy_error_set_field (error, "meter_id", "required");
      return FALSE;
    }
  if (from >= to)
    {
      sy_error_set_field (error, "to", "must be after from");
      return FALSE;
    }

  guard.db = _sy_store_reader_acquire (req->api->store);

  stmt = _sy_sql_prepare (guard.db, "SELECT 1 FROM meters WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, meter_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No meter %" G_GINT64_FORMAT, meter_id);
      return FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  count = _sy_sql_prepare (guard.db, "SELECT count(*) FROM readings WHERE meter_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3", error);
  if (count == NULL)
    return FALSE;
  sqlite3_bind_int64 (count, 1, meter_id);
  sqlite3_bind_int64 (count, 2, from);
  sqlite3_bind_int64 (count, 3, to);
  if (sqlite3_step (count) == SQLITE_ROW)
    total = sqlite3_column_int64 (count, 0);

  stmt = _sy_sql_prepare (guard.db, select_readings_sql, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, meter_id);
  sqlite3_bind_int64 (stmt, 2, from);
  sqlite3_bind_int64 (stmt, 3, to);
  sqlite3_bind_int64 (stmt, 4, page.limit);
  sqlite3_bind_int64 (stmt, 5, page.offset);

  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      SyReading r = { 0 };

      r.meter_id = sqlite3_column_int64 (stmt, 0);
      r.ts_ms = sqlite3_column_int64 (stmt, 1);
      for (guint v = 0; v < SY_READING_N_VALUES; v++)
        {
          if (sqlite3_column_type (stmt, 2 + v) != SQLITE_NULL)
            {
              r.present |= 1u << v;
              r.values[v] = sqlite3_column_double (stmt, 2 + v);
            }
        }
      r.breaker_state = (char *) sqlite3_column_text (stmt, 14);
      r.extras_json = (char *) sqlite3_column_text (stmt, 15);

      if (items->len > 0)
        g_string_append_c (items, ',');
      _sy_reading_append_json (items, &r);
    }

  _sy_response_set_page (res, req, &page, total, items->str);
  return TRUE;
}

static const SyRoute routes[] = {
  { "POST", "/api/energy/energy-data", SY_SCOPE_DEVICE, NULL, post_single },
  { "POST", "/api/energy/energy-data/bulk", SY_SCOPE_DEVICE, NULL, post_bulk },
  { "GET", "/api/energy/energy-data", "meters:read", list_readings, NULL },
};

const SyRoute *
_sy_api_ingest_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}
