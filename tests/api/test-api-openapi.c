/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-api-openapi"

#include "config.h"

#include <string.h>

#include "sy-api-private.h"
#include "sy-test-util.h"

/* data/openapi.json against the route tables: every route is documented, every documented
 * operation exists, each with the security the route really asks for; and the daemon serves
 * that very document. */

static const char * const http_methods[] = {
  "get", "put", "post", "delete", "options", "head", "patch", "trace", NULL,
};

static JsonNode *
load_document (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "openapi.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  return json_node_ref (json_parser_get_root (parser));
}

static JsonObject *
get_object (JsonObject *obj,
            const char *member,
            const char *where)
{
  JsonNode *node = json_object_get_member (obj, member);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    g_error ("%s: \"%s\" is missing or not an object", where, member);

  return json_node_get_object (node);
}

/* Resolves a local JSON pointer ("#/components/schemas/Problem"); NULL when it points nowhere. */
static JsonNode *
resolve_pointer (JsonNode   *root,
                 const char *ref)
{
  g_auto(GStrv) parts = NULL;
  JsonNode *node = root;

  if (!g_str_has_prefix (ref, "#/"))
    return NULL;

  parts = g_strsplit (ref + 2, "/", -1);
  for (guint i = 0; parts[i] != NULL && node != NULL; i++)
    {
      g_autoptr(GString) token = g_string_new (parts[i]);

      g_string_replace (token, "~1", "/", 0);
      g_string_replace (token, "~0", "~", 0);

      if (JSON_NODE_HOLDS_OBJECT (node))
        node = json_object_get_member (json_node_get_object (node), token->str);
      else if (JSON_NODE_HOLDS_ARRAY (node))
        {
          guint64 index;

          if (!g_ascii_string_to_unsigned (token->str, 10, 0, G_MAXUINT, &index, NULL) ||
              index >= json_array_get_length (json_node_get_array (node)))
            return NULL;
          node = json_array_get_element (json_node_get_array (node), index);
        }
      else
        return NULL;
    }

  return node;
}

/* Follows a Reference Object, if @node is one. */
static JsonObject *
deref_object (JsonNode *root,
              JsonNode *node)
{
  JsonObject *obj;

  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  obj = json_node_get_object (node);

  if (json_object_has_member (obj, "$ref"))
    {
      const char *ref = json_object_get_string_member (obj, "$ref");
      JsonNode *target = resolve_pointer (root, ref);

      if (target == NULL || !JSON_NODE_HOLDS_OBJECT (target))
        g_error ("$ref %s points nowhere", ref);
      obj = json_node_get_object (target);
    }

  return obj;
}

static char *
route_key (const char *method,
           const char *pattern)
{
  g_autofree char *lower = g_ascii_strdown (method, -1);

  return g_strconcat (lower, " ", pattern, NULL);
}

static gboolean
is_http_method (const char *member)
{
  return g_strv_contains (http_methods, member);
}

/* The operation for (@method, @pattern), or NULL. */
static JsonObject *
lookup_operation (JsonNode   *doc,
                  const char *method,
                  const char *pattern)
{
  JsonObject *paths = get_object (json_node_get_object (doc), "paths", "document");
  g_autofree char *lower = g_ascii_strdown (method, -1);
  JsonNode *item = json_object_get_member (paths, pattern);
  JsonNode *op;

  if (item == NULL || !JSON_NODE_HOLDS_OBJECT (item))
    return NULL;

  op = json_object_get_member (json_node_get_object (item), lower);
  if (op == NULL || !JSON_NODE_HOLDS_OBJECT (op))
    return NULL;

  return json_node_get_object (op);
}

static void
test_routes_documented (void)
{
  g_autoptr(JsonNode) doc = load_document ();
  g_autoptr(GPtrArray) routes = _sy_api_dup_all_routes ();
  g_autoptr(GString) missing = g_string_new (NULL);

  /* Sanity: the tables are not empty and hold the routes of issue 2. */
  g_assert_cmpuint (routes->len, >=, 33);

  for (guint i = 0; i < routes->len; i++)
    {
      const SyRoute *route = g_ptr_array_index (routes, i);

      g_assert_true (g_str_has_prefix (route->pattern, "/api/"));
      g_assert_false (g_str_has_suffix (route->pattern, "/"));
      if (lookup_operation (doc, route->method, route->pattern) == NULL)
        g_string_append_printf (missing, "\n  %s %s", route->method, route->pattern);
    }

  if (missing->len > 0)
    g_error ("Routes missing from data/openapi.json:%s", missing->str);
}

static void
test_operations_routed (void)
{
  g_autoptr(JsonNode) doc = load_document ();
  g_autoptr(GPtrArray) routes = _sy_api_dup_all_routes ();
  g_autoptr(GHashTable) known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) extra = g_string_new (NULL);
  JsonObject *paths = get_object (json_node_get_object (doc), "paths", "document");
  g_autoptr(GList) path_names = json_object_get_members (paths);
  guint n_operations = 0;

  for (guint i = 0; i < routes->len; i++)
    {
      const SyRoute *route = g_ptr_array_index (routes, i);
      char *key = route_key (route->method, route->pattern);

      /* No route is registered twice. */
      g_assert_false (g_hash_table_contains (known, key));
      g_hash_table_add (known, key);
    }

  for (const GList *l = path_names; l != NULL; l = l->next)
    {
      const char *path = l->data;
      JsonObject *item = get_object (paths, path, path);
      g_autoptr(GList) members = json_object_get_members (item);

      /* The trailing-slash-free form, as in the route tables. */
      g_assert_true (g_str_has_prefix (path, "/api/"));
      g_assert_false (g_str_has_suffix (path, "/"));

      for (const GList *m = members; m != NULL; m = m->next)
        {
          g_autofree char *key = NULL;

          if (!is_http_method (m->data))
            continue;
          n_operations++;
          key = g_strconcat (m->data, " ", path, NULL);
          if (!g_hash_table_contains (known, key))
            g_string_append_printf (extra, "\n  %s", key);
        }
    }

  if (extra->len > 0)
    g_error ("Operations in data/openapi.json that no route serves:%s", extra->str);
  g_assert_cmpuint (n_operations, ==, routes->len);
}

static gboolean
requirement_names (JsonObject *requirement,
                   const char *scheme)
{
  return json_object_has_member (requirement, scheme);
}

static void
test_security_matches (void)
{
  g_autoptr(JsonNode) doc = load_document ();
  g_autoptr(GPtrArray) routes = _sy_api_dup_all_routes ();
  JsonObject *root = json_node_get_object (doc);
  JsonArray *global = json_object_get_array_member (root, "security");

  for (guint i = 0; i < routes->len; i++)
    {
      const SyRoute *route = g_ptr_array_index (routes, i);
      g_autofree char *where = route_key (route->method, route->pattern);
      JsonObject *op = lookup_operation (doc, route->method, route->pattern);
      JsonObject *responses;
      JsonArray *security;

      if (op == NULL)
        g_error ("%s is not documented", where);

      security = json_object_has_member (op, "security") ? json_object_get_array_member (op, "security") : global;
      g_assert_nonnull (security);
      responses = get_object (op, "responses", where);

      if (route->scope == NULL)
        {
          /* Public: no requirement may ask for a token or a device key. */
          g_assert_true (json_object_has_member (op, "security"));
          for (guint j = 0; j < json_array_get_length (security); j++)
            {
              JsonObject *req = json_array_get_object_element (security, j);

              if (requirement_names (req, "oauth2") || requirement_names (req, "deviceKey"))
                g_error ("%s is public but documented as authenticated", where);
            }
        }
      else if (g_str_equal (route->scope, SY_SCOPE_DEVICE))
        {
          JsonObject *req;

          g_assert_cmpuint (json_array_get_length (security), ==, 1);
          req = json_array_get_object_element (security, 0);
          if (json_object_get_size (req) != 1 || !requirement_names (req, "deviceKey"))
            g_error ("%s takes X-Device-Key, documented otherwise", where);
          g_assert_true (json_object_has_member (responses, "401"));
        }
      else
        {
          /* Every alternative needs a token with exactly the route's scope. */
          g_assert_cmpuint (json_array_get_length (security), >, 0);
          for (guint j = 0; j < json_array_get_length (security); j++)
            {
              JsonObject *req = json_array_get_object_element (security, j);
              JsonArray *scopes;

              if (json_object_get_size (req) != 1 || !requirement_names (req, "oauth2"))
                g_error ("%s needs a bearer token, documented otherwise", where);
              scopes = json_object_get_array_member (req, "oauth2");
              if (json_array_get_length (scopes) != 1 ||
                  !g_str_equal (json_array_get_string_element (scopes, 0), route->scope))
                g_error ("%s needs scope %s, documented otherwise", where, route->scope);
            }
          g_assert_true (json_object_has_member (responses, "401"));
          g_assert_true (json_object_has_member (responses, "403"));
        }
    }
}

static void
check_refs (JsonNode   *root,
            JsonNode   *node,
            const char *where)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *obj = json_node_get_object (node);
      g_autoptr(GList) members = json_object_get_members (obj);

      for (const GList *l = members; l != NULL; l = l->next)
        {
          JsonNode *child = json_object_get_member (obj, l->data);

          if (g_str_equal (l->data, "$ref") && JSON_NODE_HOLDS_VALUE (child) &&
              json_node_get_value_type (child) == G_TYPE_STRING)
            {
              if (resolve_pointer (root, json_node_get_string (child)) == NULL)
                g_error ("%s: $ref %s points nowhere", where, json_node_get_string (child));
            }
          else
            {
              g_autofree char *child_where = g_strconcat (where, "/", l->data, NULL);

              check_refs (root, child, child_where);
            }
        }
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        check_refs (root, json_array_get_element (array, i), where);
    }
}

/* Collects the parameters of a path item and an operation as "in:name". */
static void
collect_parameters (JsonNode   *root,
                    JsonObject *holder,
                    GHashTable *out,
                    const char *where)
{
  JsonArray *params;

  if (!json_object_has_member (holder, "parameters"))
    return;

  params = json_object_get_array_member (holder, "parameters");
  for (guint i = 0; i < json_array_get_length (params); i++)
    {
      JsonObject *param = deref_object (root, json_array_get_element (params, i));
      const char *in = json_object_get_string_member (param, "in");
      const char *name = json_object_get_string_member (param, "name");

      g_assert_nonnull (in);
      g_assert_nonnull (name);
      g_assert_true (json_object_has_member (param, "schema") || json_object_has_member (param, "content"));
      if (g_str_equal (in, "path") && !json_object_get_boolean_member_with_default (param, "required", FALSE))
        g_error ("%s: path parameter %s must be required", where, name);
      g_hash_table_add (out, g_strconcat (in, ":", name, NULL));
    }
}

static void
assert_problem_response (JsonNode   *root,
                         JsonNode   *response,
                         const char *where)
{
  JsonObject *obj = deref_object (root, response);
  JsonObject *content = get_object (obj, "content", where);
  JsonObject *media = get_object (content, "application/problem+json", where);
  JsonObject *schema = get_object (media, "schema", where);

  g_assert_true (json_object_has_member (obj, "description"));
  if (!json_object_has_member (schema, "$ref") ||
      !g_str_equal (json_object_get_string_member (schema, "$ref"), "#/components/schemas/Problem"))
    g_error ("%s: errors must be the Problem schema", where);
}

static void
test_structure (void)
{
  g_autoptr(JsonNode) doc = load_document ();
  JsonObject *root = json_node_get_object (doc);
  JsonObject *paths = get_object (root, "paths", "document");
  JsonObject *info = get_object (root, "info", "document");
  JsonObject *components = get_object (root, "components", "document");
  JsonArray *tags = json_object_get_array_member (root, "tags");
  g_autoptr(GHashTable) tag_names = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) used_tags = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) operation_ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GList) path_names = json_object_get_members (paths);

  g_assert_true (g_str_has_prefix (json_object_get_string_member (root, "openapi"), "3.1."));
  g_assert_nonnull (json_object_get_string_member (info, "title"));
  g_assert_cmpstr (json_object_get_string_member (info, "version"), ==, PACKAGE_VERSION);

  check_refs (doc, doc, "#");

  g_assert_nonnull (tags);
  for (guint i = 0; i < json_array_get_length (tags); i++)
    {
      JsonObject *tag = json_array_get_object_element (tags, i);

      g_assert_nonnull (json_object_get_string_member (tag, "description"));
      g_hash_table_add (tag_names, (gpointer) json_object_get_string_member (tag, "name"));
    }

  for (const GList *l = path_names; l != NULL; l = l->next)
    {
      const char *path = l->data;
      JsonObject *item = get_object (paths, path, path);
      g_autoptr(GList) members = json_object_get_members (item);
      g_autoptr(GHashTable) path_params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr(GPtrArray) segments = g_ptr_array_new_with_free_func (g_free);

      collect_parameters (doc, item, path_params, path);

      /* The {name} segments of the path. */
      for (const char *p = strchr (path, '{'); p != NULL; p = strchr (p + 1, '{'))
        {
          const char *close = strchr (p, '}');

          g_assert_nonnull (close);
          g_ptr_array_add (segments, g_strndup (p + 1, close - p - 1));
        }

      for (const GList *m = members; m != NULL; m = m->next)
        {
          g_autofree char *where = g_strconcat (m->data, " ", path, NULL);
          g_autoptr(GHashTable) params = NULL;
          g_autoptr(GList) codes = NULL;
          JsonObject *op;
          JsonObject *responses;
          JsonArray *op_tags;
          const char *operation_id;
          GHashTableIter iter;
          gpointer key;
          gboolean has_success = FALSE;

          if (!is_http_method (m->data))
            {
              static const char * const allowed[] = { "parameters", "summary", "description", "servers", NULL };

              if (!g_strv_contains (allowed, m->data))
                g_error ("%s: unexpected member %s in a path item", path, (const char *) m->data);
              continue;
            }

          op = get_object (item, m->data, where);

          operation_id = json_object_get_string_member (op, "operationId");
          g_assert_nonnull (operation_id);
          if (g_hash_table_contains (operation_ids, operation_id))
            g_error ("%s: operationId %s is not unique", where, operation_id);
          g_hash_table_add (operation_ids, (gpointer) operation_id);
          g_assert_nonnull (json_object_get_string_member (op, "summary"));

          op_tags = json_object_get_array_member (op, "tags");
          g_assert_nonnull (op_tags);
          g_assert_cmpuint (json_array_get_length (op_tags), >, 0);
          for (guint i = 0; i < json_array_get_length (op_tags); i++)
            {
              const char *tag = json_array_get_string_element (op_tags, i);

              if (!g_hash_table_contains (tag_names, tag))
                g_error ("%s: tag %s is not declared", where, tag);
              g_hash_table_add (used_tags, (gpointer) tag);
            }

          /* Path parameters match the path's {segments} exactly. */
          params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          g_hash_table_iter_init (&iter, path_params);
          while (g_hash_table_iter_next (&iter, &key, NULL))
            g_hash_table_add (params, g_strdup (key));
          collect_parameters (doc, op, params, where);
          for (guint i = 0; i < segments->len; i++)
            {
              g_autofree char *wanted = g_strconcat ("path:", (const char *) segments->pdata[i], NULL);

              if (!g_hash_table_contains (params, wanted))
                g_error ("%s: path parameter %s is not declared", where, (const char *) segments->pdata[i]);
            }
          g_hash_table_iter_init (&iter, params);
          while (g_hash_table_iter_next (&iter, &key, NULL))
            {
              g_autofree char *segment = NULL;

              if (!g_str_has_prefix (key, "path:"))
                continue;
              segment = g_strconcat ("{", (const char *) key + 5, "}", NULL);
              if (strstr (path, segment) == NULL)
                g_error ("%s: declares %s, which is not in the path", where, (const char *) key);
            }

          /* Write methods take a body, except the key rotation and deletes. */
          if ((g_str_equal (m->data, "post") || g_str_equal (m->data, "patch")) &&
              !g_str_has_suffix (path, "/rotate_key"))
            {
              JsonObject *body = get_object (op, "requestBody", where);

              g_assert_true (json_object_has_member (get_object (body, "content", where), "application/json") ||
                             json_object_has_member (get_object (body, "content", where),
                                                     "application/x-www-form-urlencoded"));
            }

          /* A success answer, and every 4xx as problem+json. */
          responses = get_object (op, "responses", where);
          codes = json_object_get_members (responses);
          g_assert_nonnull (codes);
          for (const GList *c = codes; c != NULL; c = c->next)
            {
              const char *code = c->data;
              g_autofree char *code_where = g_strconcat (where, " ", code, NULL);
              JsonObject *response = deref_object (doc, json_object_get_member (responses, code));

              g_assert_true (json_object_has_member (response, "description"));
              /* 101 Switching Protocols is the success of a WebSocket upgrade (/api/stream). */
              if (code[0] == '2' || g_str_equal (code, "101"))
                has_success = TRUE;
              else if (code[0] == '4')
                assert_problem_response (doc, json_object_get_member (responses, code), code_where);
            }
          g_assert_true (has_success);
          g_assert_true (json_object_has_member (responses, "400") ||
                         g_str_equal (m->data, "get") || g_str_equal (m->data, "delete") ||
                         g_str_has_suffix (path, "/rotate_key"));
        }
    }

  /* No tag declared for nothing. */
  g_assert_cmpuint (g_hash_table_size (used_tags), ==, g_hash_table_size (tag_names));

  /* The Problem schema of RFC 9457, with field errors. */
  {
    JsonObject *schemas = get_object (components, "schemas", "components");
    JsonObject *problem = get_object (schemas, "Problem", "schemas");
    JsonObject *props = get_object (problem, "properties", "Problem");
    JsonObject *errors = get_object (props, "errors", "Problem");
    JsonObject *item;
    JsonObject *item_props;
    static const char * const members[] = { "type", "title", "status", "detail", "instance", "errors" };

    for (guint i = 0; i < G_N_ELEMENTS (members); i++)
      g_assert_true (json_object_has_member (props, members[i]));
    g_assert_cmpstr (json_object_get_string_member (get_object (props, "status", "Problem"), "type"), ==, "integer");
    g_assert_cmpstr (json_object_get_string_member (errors, "type"), ==, "array");
    item = deref_object (doc, json_object_get_member (errors, "items"));
    item_props = get_object (item, "properties", "Problem.errors");
    g_assert_true (json_object_has_member (item_props, "field"));
    g_assert_true (json_object_has_member (item_props, "detail"));
  }

  /* Security schemes: OAuth2 client credentials with every scope a route asks for, and the
   * device key header. */
  {
    JsonObject *schemes = get_object (components, "securitySchemes", "components");
    JsonObject *oauth2 = get_object (schemes, "oauth2", "securitySchemes");
    JsonObject *flow = get_object (get_object (oauth2, "flows", "oauth2"), "clientCredentials", "oauth2");
    JsonObject *scopes = get_object (flow, "scopes", "clientCredentials");
    JsonObject *device = get_object (schemes, "deviceKey", "securitySchemes");
    g_autoptr(GPtrArray) routes = _sy_api_dup_all_routes ();

    g_assert_cmpstr (json_object_get_string_member (oauth2, "type"), ==, "oauth2");
    g_assert_cmpstr (json_object_get_string_member (flow, "tokenUrl"), ==, "/api/oauth/token");
    g_assert_true (json_object_has_member (scopes, "admin"));
    for (guint i = 0; i < routes->len; i++)
      {
        const SyRoute *route = g_ptr_array_index (routes, i);

        if (route->scope != NULL && !g_str_equal (route->scope, SY_SCOPE_DEVICE) &&
            !json_object_has_member (scopes, route->scope))
          g_error ("scope %s is not among the documented scopes", route->scope);
      }

    g_assert_cmpstr (json_object_get_string_member (device, "type"), ==, "apiKey");
    g_assert_cmpstr (json_object_get_string_member (device, "in"), ==, "header");
    g_assert_cmpstr (json_object_get_string_member (device, "name"), ==, "X-Device-Key");
  }
}

static void
test_served (void)
{
  g_autoptr(JsonNode) doc = load_document ();
  SyTestDaemon *daemon = sy_test_daemon_new (NULL);
  g_autoptr(SyTestResponse) res = NULL;
  g_autoptr(SyTestResponse) slash = NULL;

  sy_test_daemon_start (daemon);

  /* Public, and the very document of the source tree. */
  res = sy_test_json (daemon, "GET", "/api/openapi.json", NULL, NULL);
  g_assert_cmpuint (res->status, ==, 200);
  g_assert_cmpstr (res->content_type, ==, "application/json");
  g_assert_nonnull (res->json);
  if (!json_node_equal (res->json, doc))
    g_error ("GET /api/openapi.json differs from data/openapi.json (rebuild the gresource?)");

  slash = sy_test_json (daemon, "GET", "/api/openapi.json/", NULL, NULL);
  g_assert_cmpuint (slash->status, ==, 200);

  sy_test_daemon_free (daemon);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/switchyard/api/openapi/routes-documented", test_routes_documented);
  g_test_add_func ("/switchyard/api/openapi/operations-routed", test_operations_routed);
  g_test_add_func ("/switchyard/api/openapi/security", test_security_matches);
  g_test_add_func ("/switchyard/api/openapi/structure", test_structure);
  g_test_add_func ("/switchyard/api/openapi/served", test_served);

  return g_test_run ();
}
