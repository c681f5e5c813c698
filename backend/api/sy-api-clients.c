/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include "sy-api-private.h"
#include "sy-error.h"

static gboolean
list_clients (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  g_autoptr(JsonNode) clients = NULL;
  g_autoptr(GString) items = g_string_new (NULL);
  JsonArray *array;
  SyPage page;
  guint total;

  if (!_sy_query_get_page (req, &page, error))
    return FALSE;

  clients = _sy_auth_list_clients (req->api->auth, NULL, error);
  if (clients == NULL)
    return FALSE;

  array = json_node_get_array (clients);
  total = json_array_get_length (array);
  for (gint64 i = page.offset; i < total && i < page.offset + page.limit; i++)
    {
      g_autofree char *text = json_to_string (json_array_get_element (array, i), FALSE);

      if (items->len > 0)
        g_string_append_c (items, ',');
      g_string_append (items, text);
    }

  _sy_response_set_page (res, req, &page, total, items->str);
  return TRUE;
}

static gboolean
create_client (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  static const char * const known[] = { "name", "scopes", NULL };
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(JsonNode) created = NULL;
  g_autofree char *client_id = NULL;
  g_autofree char *secret = NULL;
  const char *name = NULL;
  const char *scopes = NULL;
  JsonObject *obj;

  body = _sy_request_parse_object (req, error);
  if (body == NULL ||
      !_sy_json_reject_unknown (body, known, error) ||
      !_sy_json_get_string (body, "name", TRUE, 200, &name, error) ||
      !_sy_json_get_string (body, "scopes", TRUE, 1000, &scopes, error))
    return FALSE;

  if (!_sy_auth_create_client (req->api->auth, name, scopes, &client_id, &secret, error))
    return FALSE;

  created = _sy_auth_list_clients (req->api->auth, client_id, error);
  if (created == NULL)
    return FALSE;

  /* The secret is shown once, here, and never again. */
  obj = json_node_get_object (json_array_get_element (json_node_get_array (created), 0));
  json_object_set_string_member (obj, "client_secret", secret);

  res->no_store = TRUE;
  res->location = g_strdup_printf ("/api/auth/clients/%s", client_id);
  _sy_response_take_json (res, 201, json_node_ref (json_array_get_element (json_node_get_array (created), 0)));
  return TRUE;
}

static gboolean
get_client (SyRequest   *req,
            SyResponse  *res,
            GError     **error)
{
  g_autoptr(JsonNode) clients = _sy_auth_list_clients (req->api->auth, req->arg, error);

  if (clients == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, json_node_ref (json_array_get_element (json_node_get_array (clients), 0)));
  return TRUE;
}

static gboolean
delete_client (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  if (!_sy_auth_revoke_client (req->api->auth, req->arg, error))
    return FALSE;

  res->status = 204;
  return TRUE;
}

static const SyRoute routes[] = {
  { "GET", "/api/auth/clients", "admin", list_clients, NULL },
  { "POST", "/api/auth/clients", "admin", create_client, NULL },
  { "GET", "/api/auth/clients/{client_id}", "admin", get_client, NULL },
  { "DELETE", "/api/auth/clients/{client_id}", "admin", delete_client, NULL },
};

const SyRoute *
_sy_api_clients_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}
