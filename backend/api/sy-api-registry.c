/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <string.h>

#include "sy-api-private.h"
#include "sy-error.h"
#include "sy-registry-private.h"

/* Sites, meters, groups and gateway devices: the same CRUD over SyRegistry, told apart by the
 * collection the request addresses. What differs (list filters, purge, key rotation) is
 * spelled out per kind below. */

typedef struct
{
  const char     *collection;     /* "/api/energy/meters" */
  SyRegistryKind  kind;
  gboolean        has_key;        /* answers carry a device key: never cache them */
} Resource;

static const Resource resources[] = {
  { "/api/energy/sites", SY_REGISTRY_SITE, FALSE },
  { "/api/energy/meters", SY_REGISTRY_METER, TRUE },
  { "/api/energy/groups", SY_REGISTRY_GROUP, FALSE },
  { "/api/energy/devices", SY_REGISTRY_DEVICE, TRUE },
};

static const Resource *
resource_for_request (SyRequest *req)
{
  for (guint i = 0; i < G_N_ELEMENTS (resources); i++)
    {
      gsize len = strlen (resources[i].collection);

      if (strncmp (req->path, resources[i].collection, len) == 0 &&
          (req->path[len] == '\0' || req->path[len] == '/'))
        return &resources[i];
    }

  /* The route tables below only send these collections here. */
  g_assert_not_reached ();
}

/* ?site_id= for meters and groups, ?group_id= and ?kind= for meters. */
static gboolean
get_filter (SyRequest          *req,
            const Resource     *resource,
            SyRegistryFilter   *filter,
            GError            **error)
{
  switch (resource->kind)
    {
    case SY_REGISTRY_METER:
      if (!_sy_query_get_int (req, "group_id", 1, G_MAXINT64, &filter->group_id, error))
        return FALSE;
      filter->kind = g_hash_table_lookup (req->query, "kind");
      G_GNUC_FALLTHROUGH;
    case SY_REGISTRY_GROUP:
      return _sy_query_get_int (req, "site_id", 1, G_MAXINT64, &filter->site_id, error);
    case SY_REGISTRY_SITE:
    case SY_REGISTRY_DEVICE:
    default:
      return TRUE;
    }
}

static gboolean
list_objects (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  const Resource *resource = resource_for_request (req);
  g_autoptr(JsonNode) items = NULL;
  g_autofree char *text = NULL;
  SyRegistryFilter filter = { 0, 0, NULL };
  gint64 total = 0;
  SyPage page;

  if (!_sy_query_get_page (req, &page, error) ||
      !get_filter (req, resource, &filter, error))
    return FALSE;

  items = _sy_registry_list (req->api->auth, resource->kind, &filter,
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
create_object (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  const Resource *resource = resource_for_request (req);
  g_autoptr(JsonObject) body = NULL;
  JsonNode *created;
  gint64 id;

  body = _sy_request_parse_object (req, error);
  if (body == NULL)
    return FALSE;

  created = _sy_registry_create (req->api->auth, resource->kind, body, error);
  if (created == NULL)
    return FALSE;

  id = json_object_get_int_member (json_node_get_object (created), "id");
  res->location = g_strdup_printf ("%s/%" G_GINT64_FORMAT, resource->collection, id);
  /* A meter's or device's key is shown once, here. */
  res->no_store = resource->has_key;
  _sy_response_take_json (res, 201, created);
  return TRUE;
}

static gboolean
get_object (SyRequest   *req,
            SyResponse  *res,
            GError     **error)
{
  JsonNode *node = _sy_registry_get (req->api->auth, resource_for_request (req)->kind, req->id, error);

  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, node);
  return TRUE;
}

static gboolean
update_object (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  g_autoptr(JsonObject) body = NULL;
  JsonNode *node;

  body = _sy_request_parse_object (req, error);
  if (body == NULL)
    return FALSE;

  node = _sy_registry_update (req->api->auth, resource_for_request (req)->kind, req->id, body, error);
  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, node);
  return TRUE;
}

/* Meters only: ?purge=true|false (also 1|0); absent is false. */
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
delete_object (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  const Resource *resource = resource_for_request (req);
  gboolean purge = FALSE;

  if (resource->kind == SY_REGISTRY_METER && !get_purge (req, &purge, error))
    return FALSE;

  if (!_sy_registry_delete (req->api->auth, resource->kind, req->id, purge, error))
    return FALSE;

  res->status = 204;
  return TRUE;
}

static gboolean
rotate_key (SyRequest   *req,
            SyResponse  *res,
            GError     **error)
{
  JsonNode *node = _sy_registry_rotate_key (req->api->auth, resource_for_request (req)->kind, req->id, error);

  if (node == NULL)
    return FALSE;

  res->no_store = TRUE;
  _sy_response_take_json (res, 200, node);
  return TRUE;
}

#define CRUD_ROUTES(collection)                                                  \
  { "GET", collection, "meters:read", list_objects, NULL },                      \
  { "POST", collection, "meters:write", create_object, NULL },                   \
  { "GET", collection "/{id}", "meters:read", get_object, NULL },                \
  { "PATCH", collection "/{id}", "meters:write", update_object, NULL },          \
  { "DELETE", collection "/{id}", "meters:write", delete_object, NULL }

static const SyRoute site_routes[] = {
  CRUD_ROUTES ("/api/energy/sites"),
};

static const SyRoute meter_routes[] = {
  CRUD_ROUTES ("/api/energy/meters"),
  { "POST", "/api/energy/meters/{id}/rotate_key", "meters:write", rotate_key, NULL },
};

static const SyRoute group_routes[] = {
  CRUD_ROUTES ("/api/energy/groups"),
};

static const SyRoute device_routes[] = {
  CRUD_ROUTES ("/api/energy/devices"),
  { "POST", "/api/energy/devices/{id}/rotate_key", "meters:write", rotate_key, NULL },
};

const SyRoute *
_sy_api_sites_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (site_routes);
  return site_routes;
}

const SyRoute *
_sy_api_meters_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (meter_routes);
  return meter_routes;
}

const SyRoute *
_sy_api_groups_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (group_routes);
  return group_routes;
}

const SyRoute *
_sy_api_devices_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (device_routes);
  return device_routes;
}
