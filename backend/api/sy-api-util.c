/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sy-api-private.h"
#include "sy-error.h"
#include "sy-time.h"

void
_sy_json_append_string (GString    *out,
                        const char *text)
{
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) text; *p; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (*p < 0x20)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, *p);
        }
    }
  g_string_append_c (out, '"');
}

void
_sy_json_append_double (GString *out,
                        double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    {
      g_string_append (out, "null");
      return;
    }

  g_ascii_formatd (buf, sizeof buf, "%.15g", value);
  g_string_append (out, buf);
}

/**
 * _sy_problem_to_bytes:
 *
 * An RFC 9457 problem document for @error. Validation errors name their field in `errors`;
 * OAuth errors also carry RFC 6749's `error` member.
 */
GBytes *
_sy_problem_to_bytes (const GError *error,
                      const char   *instance)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *field = sy_error_dup_field (error);
  const char *detail = error ? error->message : "Unknown error";

  g_string_append (out, "{\"type\":\"https://switchyard.invalid/problems/");
  g_string_append (out, sy_error_slug (error));
  g_string_append (out, "\",\"title\":");
  _sy_json_append_string (out, sy_error_title (error));
  g_string_append_printf (out, ",\"status\":%u,\"detail\":", sy_error_http_status (error));
  _sy_json_append_string (out, detail);

  if (instance != NULL)
    {
      g_string_append (out, ",\"instance\":");
      _sy_json_append_string (out, instance);
    }

  if (field != NULL)
    {
      g_string_append (out, ",\"errors\":[{\"field\":");
      _sy_json_append_string (out, field);
      g_string_append (out, ",\"detail\":");
      _sy_json_append_string (out, detail + strlen (field) + 2);
      g_string_append (out, "}]");
    }

  /* RFC 6749 5.2 error codes travel as "invalid_client: ..." messages. */
  if (error != NULL)
    {
      static const char * const oauth_codes[] = {
        "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
        "unsupported_grant_type", "invalid_scope", "unsupported_token_type",
      };

      for (guint i = 0; i < G_N_ELEMENTS (oauth_codes); i++)
        {
          if (g_str_has_prefix (detail, oauth_codes[i]))
            {
              g_string_append_printf (out, ",\"error\":\"%s\",\"error_description\":", oauth_codes[i]);
              _sy_json_append_string (out, detail);
              break;
            }
        }
    }

  g_string_append_c (out, '}');

  return g_string_free_to_bytes (g_steal_pointer (&out));
}

void
_sy_response_take_json (SyResponse *res,
                        guint       status,
                        JsonNode   *node)
{
  g_autofree char *text = json_to_string (node, FALSE);

  res->status = status;
  if (res->body == NULL)
    res->body = g_string_new (NULL);
  g_string_assign (res->body, text);
  json_node_unref (node);
}

void
_sy_response_set_builder (SyResponse  *res,
                          guint        status,
                          JsonBuilder *builder)
{
  _sy_response_take_json (res, status, json_builder_get_root (builder));
}

static gboolean
check_json_content_type (SyRequest  *req,
                         GError    **error)
{
  const char *ct = req->content_type;

  if (ct == NULL || g_str_has_prefix (ct, "application/json") || strstr (ct, "+json") != NULL)
    return TRUE;

  g_set_error (error, SY_ERROR, SY_ERROR_UNSUPPORTED_MEDIA,
               "Expected Content-Type: application/json, got %s", ct);
  return FALSE;
}

JsonObject *
_sy_request_parse_object (SyRequest  *req,
                          GError    **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (req->body, &len);
  JsonNode *root;

  if (!check_json_content_type (req, error))
    return NULL;

  if (len == 0)
    {
      sy_error_set_field (error, "body", "a JSON object is required");
      return NULL;
    }

  if (!json_parser_load_from_data (parser, data, len, &local_error))
    {
      sy_error_set_field (error, "body", "malformed JSON: %s", local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      sy_error_set_field (error, "body", "a JSON object is required");
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

GHashTable *
_sy_request_parse_form (SyRequest  *req,
                        GError    **error)
{
  gsize len;
  const char *data = g_bytes_get_data (req->body, &len);
  g_autofree char *text = NULL;
  GHashTable *form;

  if (req->content_type != NULL &&
      !g_str_has_prefix (req->content_type, "application/x-www-form-urlencoded"))
    {
      g_set_error (error, SY_ERROR, SY_ERROR_UNSUPPORTED_MEDIA,
                   "invalid_request: expected application/x-www-form-urlencoded, got %s",
                   req->content_type);
      return NULL;
    }

  text = g_strndup (data, len);
  form = soup_form_decode (text);
  if (form == NULL)
    form = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  return form;
}

static JsonNode *
get_member (JsonObject *obj,
            const char *field)
{
  JsonNode *node = json_object_get_member (obj, field);

  if (node != NULL && JSON_NODE_HOLDS_NULL (node))
    return NULL;

  return node;
}

static gboolean
check_required (JsonNode    *node,
                const char  *field,
                gboolean     required,
                GError     **error)
{
  if (node == NULL && required)
    {
      sy_error_set_field (error, field, "required");
      return FALSE;
    }

  return TRUE;
}

gboolean
_sy_json_get_string (JsonObject   *obj,
                     const char   *field,
                     gboolean      required,
                     gsize         max_len,
                     const char  **out,
                     GError      **error)
{
  JsonNode *node = get_member (obj, field);
  const char *value;

  if (node == NULL)
    return check_required (node, field, required, error);

  if (json_node_get_value_type (node) != G_TYPE_STRING)
    {
      sy_error_set_field (error, field, "must be a string");
      return FALSE;
    }

  value = json_node_get_string (node);
  if (required && value[0] == '\0')
    {
      sy_error_set_field (error, field, "must not be empty");
      return FALSE;
    }
  if (max_len > 0 && strlen (value) > max_len)
    {
      sy_error_set_field (error, field, "longer than %" G_GSIZE_FORMAT " bytes", max_len);
      return FALSE;
    }

  *out = value;
  return TRUE;
}

gboolean
_sy_json_get_double (JsonObject  *obj,
                     const char  *field,
                     gboolean     required,
                     double       min,
                     double       max,
                     double      *out,
                     GError     **error)
{
  JsonNode *node = get_member (obj, field);
  GType type;
  double value;

  if (node == NULL)
    return check_required (node, field, required, error);

  type = json_node_get_value_type (node);
  if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE || (type != G_TYPE_DOUBLE && type != G_TYPE_INT64))
    {
      sy_error_set_field (error, field, "must be a number");
      return FALSE;
    }

  value = json_node_get_double (node);
  if (!isfinite (value) || value < min || value > max)
    {
      sy_error_set_field (error, field, "out of range (%g … %g)", min, max);
      return FALSE;
    }

  *out = value;
  return TRUE;
}

gboolean
_sy_json_get_int (JsonObject  *obj,
                  const char  *field,
                  gboolean     required,
                  gint64       min,
                  gint64       max,
                  gint64      *out,
                  GError     **error)
{
  JsonNode *node = get_member (obj, field);
  gint64 value;

  if (node == NULL)
    return check_required (node, field, required, error);

  if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    {
      sy_error_set_field (error, field, "must be an integer");
      return FALSE;
    }

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    value = json_node_get_int (node);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE &&
           json_node_get_double (node) == floor (json_node_get_double (node)) &&
           fabs (json_node_get_double (node)) < 9007199254740992.0)
    value = (gint64) json_node_get_double (node);
  else
    {
      sy_error_set_field (error, field, "must be an integer");
      return FALSE;
    }

  if (value < min || value > max)
    {
      sy_error_set_field (error, field, "out of range (%" G_GINT64_FORMAT " … %" G_GINT64_FORMAT ")", min, max);
      return FALSE;
    }

  *out = value;
  return TRUE;
}

gboolean
_sy_json_get_bool (JsonObject  *obj,
                   const char  *field,
                   gboolean     required,
                   gboolean    *out,
                   GError     **error)
{
  JsonNode *node = get_member (obj, field);

  if (node == NULL)
    return check_required (node, field, required, error);

  if (json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      sy_error_set_field (error, field, "must be true or false");
      return FALSE;
    }

  *out = json_node_get_boolean (node);
  return TRUE;
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

gboolean
_sy_json_get_id_array (JsonObject  *obj,
                       const char  *field,
                       gboolean     required,
                       GArray     **out,
                       GError     **error)
{
  JsonNode *node = get_member (obj, field);
  g_autoptr(GArray) ids = NULL;
  JsonArray *array;

  if (node == NULL)
    return check_required (node, field, required, error);

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      sy_error_set_field (error, field, "must be an array of ids");
      return FALSE;
    }

  array = json_node_get_array (node);
  if (json_array_get_length (array) > 10000)
    {
      sy_error_set_field (error, field, "at most 10000 ids");
      return FALSE;
    }

  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      gint64 id;

      if (json_node_get_value_type (item) != G_TYPE_INT64 || (id = json_node_get_int (item)) < 1)
        {
          g_autofree char *path = g_strdup_printf ("%s[%u]", field, i);
          sy_error_set_field (error, path, "must be a positive integer id");
          return FALSE;
        }
      g_array_append_val (ids, id);
    }

  g_array_sort (ids, compare_int64);
  for (guint i = 1; i < ids->len; i++)
    {
      if (g_array_index (ids, gint64, i) == g_array_index (ids, gint64, i - 1))
        {
          g_array_remove_index (ids, i);
          i--;
        }
    }

  if (*out != NULL)
    g_array_unref (*out);
  *out = g_steal_pointer (&ids);
  return TRUE;
}

gboolean
_sy_json_reject_unknown (JsonObject         *obj,
                         const char * const *known,
                         GError            **error)
{
  g_autoptr(GList) members = json_object_get_members (obj);

  for (const GList *l = members; l != NULL; l = l->next)
    {
      if (!g_strv_contains (known, l->data))
        {
          sy_error_set_field (error, l->data, "unknown field");
          return FALSE;
        }
    }

  return TRUE;
}

gboolean
_sy_query_get_int (SyRequest  *req,
                   const char *name,
                   gint64      min,
                   gint64      max,
                   gint64     *out,
                   GError    **error)
{
  const char *text = g_hash_table_lookup (req->query, name);
  gint64 value;

  if (text == NULL || text[0] == '\0')
    return TRUE;

  if (!g_ascii_string_to_signed (text, 10, min, max, &value, NULL))
    {
      sy_error_set_field (error, name, "must be an integer between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
                          min, max);
      return FALSE;
    }

  *out = value;
  return TRUE;
}

gboolean
_sy_query_get_time (SyRequest  *req,
                    const char *name,
                    gint64     *out_ms,
                    GError    **error)
{
  const char *text = g_hash_table_lookup (req->query, name);

  if (text == NULL || text[0] == '\0')
    return TRUE;

  if (!sy_time_parse_iso8601 (text, strlen (text), out_ms))
    {
      sy_error_set_field (error, name, "not a valid ISO-8601 timestamp with time zone");
      return FALSE;
    }

  return TRUE;
}

gboolean
_sy_query_get_page (SyRequest  *req,
                    SyPage     *page,
                    GError    **error)
{
  page->limit = 100;
  page->offset = 0;

  return _sy_query_get_int (req, "limit", 1, 1000, &page->limit, error) &&
         _sy_query_get_int (req, "offset", 0, G_MAXINT32, &page->offset, error);
}

static char *
page_url (SyRequest *req,
          gint64     limit,
          gint64     offset)
{
  g_autoptr(GString) url = g_string_new (req->path);
  GHashTableIter iter;
  gpointer key, value;
  g_autoptr(GList) keys = NULL;

  g_string_append_c (url, '/');
  g_string_append_printf (url, "?limit=%" G_GINT64_FORMAT "&offset=%" G_GINT64_FORMAT, limit, offset);

  /* Sorted so the links are stable. */
  g_hash_table_iter_init (&iter, req->query);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (!g_str_equal (key, "limit") && !g_str_equal (key, "offset"))
        keys = g_list_insert_sorted (keys, key, (GCompareFunc) strcmp);
    }
  for (const GList *l = keys; l != NULL; l = l->next)
    {
      g_autofree char *k = g_uri_escape_string (l->data, NULL, TRUE);
      g_autofree char *v = g_uri_escape_string (g_hash_table_lookup (req->query, l->data), NULL, TRUE);

      g_string_append_printf (url, "&%s=%s", k, v);
    }

  return g_string_free (g_steal_pointer (&url), FALSE);
}

void
_sy_response_set_page (SyResponse   *res,
                       SyRequest    *req,
                       const SyPage *page,
                       gint64        total,
                       const char   *results)
{
  GString *out = g_string_sized_new (strlen (results) + 128);

  g_string_append_printf (out, "{\"count\":%" G_GINT64_FORMAT ",\"next\":", total);
  if (page->offset + page->limit < total)
    {
      g_autofree char *next = page_url (req, page->limit, page->offset + page->limit);
      _sy_json_append_string (out, next);
    }
  else
    g_string_append (out, "null");

  g_string_append (out, ",\"previous\":");
  if (page->offset > 0)
    {
      g_autofree char *prev = page_url (req, page->limit, MAX (0, page->offset - page->limit));
      _sy_json_append_string (out, prev);
    }
  else
    g_string_append (out, "null");

  g_string_append (out, ",\"results\":[");
  g_string_append (out, results);
  g_string_append (out, "]}");

  if (res->body != NULL)
    g_string_free (res->body, TRUE);
  res->body = out;
  res->status = 200;
}
