/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <string.h>

#include "sy-api-private.h"
#include "sy-error.h"
#include "sy-registry-private.h"

static gboolean
list_sites (SyRequest   *req,
            SyResponse  *res,
            GError     **error)
{
  g_autoptr(JsonNode) items = NULL;
  g_autofree char *text = NULL;
  gint64 total = 0;
  SyPage page;

  if (!_sy_query_get_page (req, &page, error))
    return FALSE;

  items = _sy_registry_list (req->api->auth, SY_REGISTRY_SITE, NULL,
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
create_site (SyRequest   *req,
             SyResponse  *res,
             GError     **error)
{
  g_autoptr(JsonObject) body = NULL;
  JsonNode *created;
  gint64 id;

  body = _sy_request_parse_object (req, error);
  if (body == NULL)
    return FALSE;

  created = _sy_registry_create (req->api->auth, SY_REGISTRY_SITE, body, error);
  if (created == NULL)
    return FALSE;

  id = json_object_get_int_member (json_node_get_object (created), "id");
  res->location = g_strdup_printf ("/api/energy/sites/%" G_GINT64_FORMAT, id);
  _sy_response_take_json (res, 201, created);
  return TRUE;
}

static gboolean
get_site (SyRequest   *req,
          SyResponse  *res,
          GError     **error)
{
  JsonNode *node = _sy_registry_get (req->api->auth, SY_REGISTRY_SITE, req->id, error);

  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, node);
  return TRUE;
}

static gboolean
update_site (SyRequest   *req,
             SyResponse  *res,
             GError     **error)
{
  g_autoptr(JsonObject) body = NULL;
  JsonNode *node;

  body = _sy_request_parse_object (req, error);
  if (body == NULL)
    return FALSE;

  node = _sy_registry_update (req->api->auth, SY_REGISTRY_SITE, req->id, body, error);
  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, node);
  return TRUE;
}

static gboolean
delete_site (SyRequest   *req,
             SyResponse  *res,
             GError     **error)
{
  if (!_sy_registry_delete (req->api->auth, SY_REGISTRY_SITE, req->id, FALSE, error))
    return FALSE;

  res->status = 204;
  return TRUE;
}

static const SyRoute routes[] = {
  { "GET", "/api/energy/sites", "meters:read", list_sites, NULL },
  { "POST", "/api/energy/sites", "meters:write", create_site, NULL },
  { "GET", "/api/energy/sites/{id}", "meters:read", get_site, NULL },
  { "PATCH", "/api/energy/sites/{id}", "meters:write", update_site, NULL },
  { "DELETE", "/api/energy/sites/{id}", "meters:write", delete_site, NULL },
};

const SyRoute *
_sy_api_sites_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}
