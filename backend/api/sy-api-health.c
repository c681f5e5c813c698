/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <gio/gio.h>

#include "sy-api-private.h"
#include "sy-error.h"
#include "sy-mqtt-private.h"
#include "sy-time.h"

#define OPENAPI_RESOURCE "/io/github/switchyard/Switchyard/openapi.json"

static gboolean
get_health (SyRequest   *req,
            SyResponse  *res,
            GError     **error)
{
  g_auto(SyReaderGuard) guard = { req->api->store, NULL };
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  gboolean db_ok;

  guard.db = _sy_store_reader_acquire (req->api->store);
  db_ok = _sy_sql_query_int64 (guard.db, "SELECT count(*) FROM sites", -1) >= 0;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, db_ok ? "ok" : "degraded");
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, PACKAGE_VERSION);
  json_builder_set_member_name (builder, "schema_version");
  json_builder_add_int_value (builder, _sy_store_get_schema_version (req->api->store));
  json_builder_set_member_name (builder, "uptime_s");
  json_builder_add_int_value (builder, (sy_time_now_ms () - req->api->started_ms) / 1000);
  json_builder_set_member_name (builder, "database");
  json_builder_add_string_value (builder, db_ok ? "ok" : "error");
  if (req->api->hub != NULL)
    {
      guint clients = 0;
      guint64 dropped = 0;

      _sy_ws_hub_get_stats (req->api->hub, &clients, &dropped);
      json_builder_set_member_name (builder, "stream");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "clients");
      json_builder_add_int_value (builder, clients);
      json_builder_set_member_name (builder, "dropped");
      json_builder_add_int_value (builder, (gint64) dropped);
      json_builder_end_object (builder);
    }
  if (req->api->mqtt != NULL)
    {
      const char *state = NULL;
      guint64 received = 0, rejected = 0, published = 0;

      _sy_mqtt_get_stats (req->api->mqtt, &state, &received, &rejected, &published);
      json_builder_set_member_name (builder, "mqtt");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, state);
      json_builder_set_member_name (builder, "received");
      json_builder_add_int_value (builder, (gint64) received);
      json_builder_set_member_name (builder, "rejected");
      json_builder_add_int_value (builder, (gint64) rejected);
      json_builder_set_member_name (builder, "published");
      json_builder_add_int_value (builder, (gint64) published);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  _sy_response_set_builder (res, db_ok ? 200 : 503, builder);
  return TRUE;
}

static gboolean
get_openapi (SyRequest   *req,
             SyResponse  *res,
             GError     **error)
{
  g_autoptr(GBytes) bytes = NULL;
  gsize len;
  const char *data;

  bytes = g_resources_lookup_data (OPENAPI_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (bytes == NULL)
    return FALSE;

  data = g_bytes_get_data (bytes, &len);
  res->body = g_string_new_len (data, len);
  res->status = 200;
  return TRUE;
}

static const SyRoute routes[] = {
  { "GET", "/api/health", NULL, get_health, NULL },
  { "GET", "/api/openapi.json", NULL, get_openapi, NULL },
};

const SyRoute *
_sy_api_health_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}
