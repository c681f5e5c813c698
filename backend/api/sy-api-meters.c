/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <string.h>

#include "sy-api-private.h"
#include "sy-error.h"
#include "sy-registry-private.h"

static gboolean
list_meters (SyRequest   *req,
             SyResponse  *res,
             GError     **error)
{
  g_autoptr(JsonNode) items = NULL;
  g_autofree char *text = NULL;
  SyRegistryFilter filter = { 0, 0, NULL };
  gint64 total = 0;
  SyPage page;

  if (!_sy_query_get_page (req, &page, error) ||
      !_sy_query_get_int (req, "site_id", 1, G_MAXINT64, &filter.site_id, error) ||
      !_sy_query_get_int (req, "group_id", 1, G_MAXINT64, &filter.group_id, error))
    return FALSE;
  filter.kind = g_hash_table_lookup (req->query, "kind");

  items = _sy_registry_list (req->api->auth, SY_REGISTRY_METER, &filter,
                             page.limit, page.offset, &total, error);
  if (items == NULL)
    return FALSE;

  /* The page writer wants the items without the array's brackets. */
  text = json_to_string (items, FALSE);
  text[strlen (text) - 1] = '\0';
  _sy_response_set_page (res, req, &page, total, text + 1);
  return TRUE;
}

static gboolean
create_meter (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  g_autoptr(JsonObject) body = NULL;
  JsonNode *created;
  gint64 id;

  body = _sy_request_parse_object (req, error);
  if (body == NULL)
    return FALSE;

  created = _sy_registry_create (req->api->auth, SY_REGISTRY_METER, body, error);
  if (created == NULL)
    return FALSE;

  id = json_object_get_int_member (json_node_get_object (created), "id");
  res->location = g_strdup_printf ("/api/energy/meters/%" G_GINT64_FORMAT, id);
  /* The device key is shown once, here. */
  res->no_store = TRUE;
  _sy_response_take_json (res, 201, created);
  return TRUE;
}

static gboolean
get_meter (SyRequest   *req,
           SyResponse  *res,
           GError     **error)
{
  JsonNode *node = _sy_registry_get (req->api->auth, SY_REGISTRY_METER, req->id, error);

  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, node);
  return TRUE;
}

static gboolean
update_meter (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  g_autoptr(JsonObject) body = NULL;
  JsonNode *node;

  body = _sy_request_parse_object (req, error);
  if (body == NULL)
    return FALSE;

  node = _sy_registry_update (req->api->auth, SY_REGISTRY_METER, req->id, body, error);
  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, node);
  return TRUE;
}

/* ?purge=true|false (also 1|0); absent is false. */
static gboolean
get_purge (SyRequest  *req,
           gboolean   *out,
           GError    **error)
{
  const char *text = g_hash_table_lookup (req->query, "purge");

  *out = FALSE;
  if (text == NULL || text[0] == '\0' || g_str_equal (text, "false") || g_str_equal (text, "0"))
    return TRUE;

  if (g_str_equal (text, "true") || g_str_equal (text, "1"))
    {
      *out = TRUE;
      return TRUE;
    }

  sy_error_set_field (error, "purge", "must be true or false");
  return FALSE;
}

static gboolean
delete_meter (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  gboolean purge = FALSE;

  if (!get_purge (req, &purge, error) ||
      !_sy_registry_delete (req->api->auth, SY_REGISTRY_METER, req->id, purge, error))
    return FALSE;

  res->status = 204;
  return TRUE;
}

static gboolean
rotate_meter_key (SyRequest   *req,
                  SyResponse  *res,
                  GError     **error)
{
  JsonNode *node = _sy_registry_rotate_key (req->api->auth, SY_REGISTRY_METER, req->id, error);

  if (node == NULL)
    return FALSE;

  res->no_store = TRUE;
  _sy_response_take_json (res, 200, node);
  return TRUE;
}

static const SyRoute routes[] = {
  { "GET", "/api/energy/meters", "meters:read", list_meters, NULL },
  { "POST", "/api/energy/meters", "meters:write", create_meter, NULL },
  { "GET", "/api/energy/meters/{id}", "meters:read", get_meter, NULL },
  { "PATCH", "/api/energy/meters/{id}", "meters:write", update_meter, NULL },
  { "DELETE", "/api/energy/meters/{id}", "meters:write", delete_meter, NULL },
  { "POST", "/api/energy/meters/{id}/rotate_key", "meters:write", rotate_meter_key, NULL },
};

const SyRoute *
_sy_api_meters_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}
