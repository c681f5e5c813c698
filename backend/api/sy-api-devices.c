/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <string.h>

#include "sy-api-private.h"
#include "sy-error.h"
#include "sy-registry-private.h"

static gboolean
list_devices (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  g_autoptr(JsonNode) items = NULL;
  g_autofree char *text = NULL;
  gint64 total = 0;
  SyPage page;

  if (!_sy_query_get_page (req, &page, error))
    return FALSE;

  items = _sy_registry_list (req->api->auth, SY_REGISTRY_DEVICE, NULL,
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
create_device (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  g_autoptr(JsonObject) body = NULL;
  JsonNode *created;
  gint64 id;

  body = _sy_request_parse_object (req, error);
  if (body == NULL)
    return FALSE;

  created = _sy_registry_create (req->api->auth, SY_REGISTRY_DEVICE, body, error);
  if (created == NULL)
    return FALSE;

  id = json_object_get_int_member (json_node_get_object (created), "id");
  res->location = g_strdup_printf ("/api/energy/devices/%" G_GINT64_FORMAT, id);
  /* The device key is shown once, here. */
  res->no_store = TRUE;
  _sy_response_take_json (res, 201, created);
  return TRUE;
}

static gboolean
get_device (SyRequest   *req,
            SyResponse  *res,
            GError     **error)
{
  JsonNode *node = _sy_registry_get (req->api->auth, SY_REGISTRY_DEVICE, req->id, error);

  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, node);
  return TRUE;
}

static gboolean
update_device (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  g_autoptr(JsonObject) body = NULL;
  JsonNode *node;

  body = _sy_request_parse_object (req, error);
  if (body == NULL)
    return FALSE;

  node = _sy_registry_update (req->api->auth, SY_REGISTRY_DEVICE, req->id, body, error);
  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, node);
  return TRUE;
}

static gboolean
delete_device (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  if (!_sy_registry_delete (req->api->auth, SY_REGISTRY_DEVICE, req->id, FALSE, error))
    return FALSE;

  res->status = 204;
  return TRUE;
}

static gboolean
rotate_device_key (SyRequest   *req,
                   SyResponse  *res,
                   GError     **error)
{
  JsonNode *node = _sy_registry_rotate_key (req->api->auth, SY_REGISTRY_DEVICE, req->id, error);

  if (node == NULL)
    return FALSE;

  res->no_store = TRUE;
  _sy_response_take_json (res, 200, node);
  return TRUE;
}

static const SyRoute routes[] = {
  { "GET", "/api/energy/devices", "meters:read", list_devices, NULL },
  { "POST", "/api/energy/devices", "meters:write", create_device, NULL },
  { "GET", "/api/energy/devices/{id}", "meters:read", get_device, NULL },
  { "PATCH", "/api/energy/devices/{id}", "meters:write", update_device, NULL },
  { "DELETE", "/api/energy/devices/{id}", "meters:write", delete_device, NULL },
  { "POST", "/api/energy/devices/{id}/rotate_key", "meters:write", rotate_device_key, NULL },
};

const SyRoute *
_sy_api_devices_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}
