/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-rules"

#include "config.h"

#include <string.h>

#include "sy-actions-private.h"
#include "sy-error.h"

static const char * const type_names[SY_ACTION_N_TYPES] = {
  "webhook", "annotate", "alert", "relay_command", "notify_email", "plugin_action",
};

static const char * const event_keys[] = {
  "data.ingested", SY_RULES_EVENT_PQ, SY_RULES_EVENT_PROTECTION, SY_EVENT_ALERT,
};

const char *
_sy_action_type_to_string (SyActionType type)
{
  g_return_val_if_fail (type < SY_ACTION_N_TYPES, NULL);

  return type_names[type];
}

gboolean
_sy_action_type_from_string (const char   *text,
                             SyActionType *out)
{
  for (guint i = 0; text != NULL && i < SY_ACTION_N_TYPES; i++)
    {
      if (g_str_equal (text, type_names[i]))
        {
          *out = i;
          return TRUE;
        }
    }

  return FALSE;
}

gboolean
_sy_rule_event_key_is_valid (const char *event_key)
{
  for (guint i = 0; event_key != NULL && i < G_N_ELEMENTS (event_keys); i++)
    if (g_str_equal (event_key, event_keys[i]))
      return TRUE;

  return FALSE;
}

/* Field readers for configs (the api room's helpers live above us). */

static gboolean
get_string (JsonObject  *obj,
            const char  *prefix,
            const char  *field,
            gboolean     required,
            gsize        max_len,
            const char  *fallback,
            JsonBuilder *out,
            GError     **error)
{
  JsonNode *node = json_object_get_member (obj, field);
  const char *value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        {
          g_autofree char *name = g_strdup_printf ("%s.%s", prefix, field);

          sy_error_set_field (error, name, "required");
          return FALSE;
        }
      if (fallback != NULL)
        {
          json_builder_set_member_name (out, field);
          json_builder_add_string_value (out, fallback);
        }
      return TRUE;
    }

  if (json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_autofree char *name = g_strdup_printf ("%s.%s", prefix, field);

      sy_error_set_field (error, name, "must be a string");
      return FALSE;
    }

  value = json_node_get_string (node);
  if (strlen (value) > max_len || (required && value[0] == '\0'))
    {
      g_autofree char *name = g_strdup_printf ("%s.%s", prefix, field);

      sy_error_set_field (error, name, "must be 1 to %" G_GSIZE_FORMAT " characters", max_len);
      return FALSE;
    }

  json_builder_set_member_name (out, field);
  json_builder_add_string_value (out, value);
  return TRUE;
}

static gboolean
get_int (JsonObject  *obj,
         const char  *prefix,
         const char  *field,
         gboolean     required,
         gint64       min,
         gint64       max,
         gint64       fallback,
         JsonBuilder *out,
         GError     **error)
{
  JsonNode *node = json_object_get_member (obj, field);
  g_autofree char *name = g_strdup_printf ("%s.%s", prefix, field);
  gint64 value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        {
          sy_error_set_field (error, name, "required");
          return FALSE;
        }
      if (fallback >= min)
        {
          json_builder_set_member_name (out, field);
          json_builder_add_int_value (out, fallback);
        }
      return TRUE;
    }

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    value = json_node_get_int (node);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE &&
           json_node_get_double (node) == (double) (gint64) json_node_get_double (node))
    value = (gint64) json_node_get_double (node);
  else
    {
      sy_error_set_field (error, name, "must be an integer");
      return FALSE;
    }

  if (value < min || value > max)
    {
      sy_error_set_field (error, name, "must be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT, min, max);
      return FALSE;
    }

  json_builder_set_member_name (out, field);
  json_builder_add_int_value (out, value);
  return TRUE;
}

static gboolean
get_enum (JsonObject         *obj,
          const char         *prefix,
          const char         *field,
          const char * const *allowed,
          const char         *fallback,
          JsonBuilder        *out,
          GError            **error)
{
  JsonNode *node = json_object_get_member (obj, field);
  g_autofree char *name = g_strdup_printf ("%s.%s", prefix, field);
  g_autofree char *list = g_strjoinv ("|", (char **) allowed);
  const char *value;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (fallback == NULL)
        {
          sy_error_set_field (error, name, "required (%s)", list);
          return FALSE;
        }
      value = fallback;
    }
  else if (json_node_get_value_type (node) != G_TYPE_STRING ||
           !g_strv_contains (allowed, json_node_get_string (node)))
    {
      sy_error_set_field (error, name, "must be one of %s", list);
      return FALSE;
    }
  else
    value = json_node_get_string (node);

  json_builder_set_member_name (out, field);
  json_builder_add_string_value (out, value);
  return TRUE;
}

static gboolean
reject_unknown (JsonObject         *obj,
                const char         *prefix,
                const char * const *known,
                GError            **error)
{
  g_autoptr(GList) members = json_object_get_members (obj);

  for (GList *l = members; l != NULL; l = l->next)
    {
      if (!g_strv_contains (known, l->data))
        {
          g_autofree char *name = g_strdup_printf ("%s.%s", prefix, (const char *) l->data);

          sy_error_set_field (error, name, "unknown field");
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
validate_url (const char  *url,
              const char  *name,
              GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL ||
      (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0) ||
      g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
      g_uri_get_userinfo (uri) != NULL)
    {
      sy_error_set_field (error, name, "must be an absolute http or https URL without credentials");
      return FALSE;
    }

  return TRUE;
}

static gboolean
validate_webhook (JsonObject   *obj,
                  const char   *prefix,
                  JsonBuilder  *out,
                  GError      **error)
{
  static const char * const known[] = { "url", "method", "headers", "secret", "timeout_s", "payload", NULL };
  static const char * const methods[] = { "POST", "PUT", "PATCH", NULL };
  g_autofree char *url_field = g_strdup_printf ("%s.url", prefix);
  JsonNode *headers = json_object_get_member (obj, "headers");
  JsonNode *payload = json_object_get_member (obj, "payload");

  if (!reject_unknown (obj, prefix, known, error))
    return FALSE;

  if (!json_object_has_member (obj, "url"))
    {
      sy_error_set_field (error, url_field, "required");
      return FALSE;
    }
  if (!get_string (obj, prefix, "url", TRUE, 2048, NULL, out, error) ||
      !validate_url (json_object_get_string_member (obj, "url"), url_field, error) ||
      !get_enum (obj, prefix, "method", methods, "POST", out, error) ||
      !get_string (obj, prefix, "secret", FALSE, 256, NULL, out, error) ||
      !get_int (obj, prefix, "timeout_s", FALSE, 1, 60, 10, out, error))
    return FALSE;

  if (headers != NULL && !JSON_NODE_HOLDS_NULL (headers))
    {
      g_autofree char *name = g_strdup_printf ("%s.headers", prefix);
      g_autoptr(GList) members = NULL;
      JsonObject *h;

      if (!JSON_NODE_HOLDS_OBJECT (headers) || json_object_get_size (json_node_get_object (headers)) > 32)
        {
          sy_error_set_field (error, name, "must be an object of at most 32 string values");
          return FALSE;
        }
      h = json_node_get_object (headers);
      members = json_object_get_members (h);
      for (GList *l = members; l != NULL; l = l->next)
        {
          const char *key = l->data;
          JsonNode *v = json_object_get_member (h, key);

          if (!g_utf8_validate (key, -1, NULL) || key[0] == '\0' || strpbrk (key, " :\r\n\t") != NULL ||
              g_ascii_strncasecmp (key, "webhook-", 8) == 0 ||
              g_ascii_strcasecmp (key, "content-length") == 0 || g_ascii_strcasecmp (key, "host") == 0 ||
              json_node_get_value_type (v) != G_TYPE_STRING ||
              strpbrk (json_node_get_string (v), "\r\n") != NULL)
            {
              g_autofree char *hname = g_strdup_printf ("%s.%s", name, key);

              sy_error_set_field (error, hname,
                                  "header names are tokens (not webhook-*, Host or Content-Length), values strings without line breaks");
              return FALSE;
            }
        }
      json_builder_set_member_name (out, "headers");
      json_builder_add_value (out, json_node_copy (headers));
    }

  if (payload != NULL)
    {
      json_builder_set_member_name (out, "payload");
      json_builder_add_value (out, json_node_copy (payload));
    }

  return TRUE;
}

static gboolean
validate_config (SyActionType   type,
                 JsonObject    *obj,
                 const char    *prefix,
                 JsonBuilder   *out,
                 GError       **error)
{
  switch (type)
    {
    case SY_ACTION_WEBHOOK:
      return validate_webhook (obj, prefix, out, error);

    case SY_ACTION_ANNOTATE:
      {
        static const char * const known[] = { "text", "meter_id", NULL };

        return reject_unknown (obj, prefix, known, error) &&
               get_string (obj, prefix, "text", TRUE, 2000, NULL, out, error) &&
               get_int (obj, prefix, "meter_id", FALSE, 1, G_MAXINT64, 0, out, error);
      }

    case SY_ACTION_ALERT:
      {
        static const char * const known[] = { "severity", "message", NULL };
        static const char * const severities[] = { "info", "warning", "critical", NULL };

        return reject_unknown (obj, prefix, known, error) &&
               get_enum (obj, prefix, "severity", severities, NULL, out, error) &&
               get_string (obj, prefix, "message", FALSE, 2000, "{rule.name}", out, error);
      }

    case SY_ACTION_RELAY_COMMAND:
      {
        static const char * const known[] = { "device_id", "relay", "state", NULL };
        static const char * const states[] = { "on", "off", NULL };
        JsonNode *relay = json_object_get_member (obj, "relay");
        g_autofree char *relay_field = g_strdup_printf ("%s.relay", prefix);

        if (!reject_unknown (obj, prefix, known, error) ||
            !get_int (obj, prefix, "device_id", TRUE, 1, G_MAXINT64, 0, out, error))
          return FALSE;
        if (relay == NULL ||
            !((json_node_get_value_type (relay) == G_TYPE_STRING &&
               json_node_get_string (relay)[0] != '\0' && strlen (json_node_get_string (relay)) <= 64) ||
              (json_node_get_value_type (relay) == G_TYPE_INT64 && json_node_get_int (relay) >= 0)))
          {
            sy_error_set_field (error, relay_field, "required: a relay name (1-64 characters) or number");
            return FALSE;
          }
        json_builder_set_member_name (out, "relay");
        json_builder_add_value (out, json_node_copy (relay));
        return get_enum (obj, prefix, "state", states, NULL, out, error);
      }

    case SY_ACTION_NOTIFY_EMAIL:
      {
        static const char * const known[] = { "to", "subject", "body", NULL };
        JsonNode *to = json_object_get_member (obj, "to");
        g_autofree char *to_field = g_strdup_printf ("%s.to", prefix);
        JsonArray *array;

        if (!reject_unknown (obj, prefix, known, error))
          return FALSE;
        if (to == NULL || !JSON_NODE_HOLDS_ARRAY (to) ||
            json_array_get_length (array = json_node_get_array (to)) == 0 || json_array_get_length (array) > 20)
          {
            sy_error_set_field (error, to_field, "required: 1 to 20 e-mail addresses");
            return FALSE;
          }
        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            JsonNode *item = json_array_get_element (array, i);
            const char *addr = json_node_get_value_type (item) == G_TYPE_STRING ? json_node_get_string (item) : NULL;
            const char *at = addr ? strchr (addr, '@') : NULL;

            if (at == NULL || at == addr || at[1] == '\0' || strlen (addr) > 254 || strpbrk (addr, " <>\r\n,;") != NULL)
              {
                g_autofree char *item_field = g_strdup_printf ("%s[%u]", to_field, i);

                sy_error_set_field (error, item_field, "not an e-mail address");
                return FALSE;
              }
          }
        json_builder_set_member_name (out, "to");
        json_builder_add_value (out, json_node_copy (to));
        return get_string (obj, prefix, "subject", TRUE, 500, NULL, out, error) &&
               get_string (obj, prefix, "body", TRUE, 20000, NULL, out, error);
      }

    case SY_ACTION_PLUGIN:
      {
        static const char * const known[] = { "plugin", "timeout_s", "max_output_bytes", NULL };
        g_autofree char *plugin_field = g_strdup_printf ("%s.plugin", prefix);
        const char *plugin;

        if (!reject_unknown (obj, prefix, known, error) ||
            !get_string (obj, prefix, "plugin", TRUE, 128, NULL, out, error) ||
            !get_int (obj, prefix, "timeout_s", FALSE, 1, 300, 30, out, error) ||
            !get_int (obj, prefix, "max_output_bytes", FALSE, 1, 1024 * 1024, 65536, out, error))
          return FALSE;
        plugin = json_object_get_string_member (obj, "plugin");
        if (plugin[0] == '.' || strspn (plugin, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen (plugin))
          {
            sy_error_set_field (error, plugin_field, "must be a file name in the plugins directory ([A-Za-z0-9._-], not starting with a dot)");
            return FALSE;
          }
        return TRUE;
      }

    case SY_ACTION_N_TYPES:
    default:
      g_assert_not_reached ();
    }
}

JsonNode *
_sy_action_config_validate (SyActionType   type,
                            JsonNode      *config,
                            const char    *prefix,
                            GError       **error)
{
  g_autoptr(JsonBuilder) builder = NULL;

  g_return_val_if_fail (type < SY_ACTION_N_TYPES, NULL);

  if (config == NULL || !JSON_NODE_HOLDS_OBJECT (config))
    {
      sy_error_set_field (error, prefix, "must be an object");
      return NULL;
    }

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  if (!validate_config (type, json_node_get_object (config), prefix, builder, error))
    return NULL;
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

JsonNode *
_sy_action_config_public (SyActionType  type,
                          JsonNode     *config)
{
  JsonNode *copy = json_node_copy (config);

  if (type == SY_ACTION_WEBHOOK && JSON_NODE_HOLDS_OBJECT (copy))
    {
      JsonObject *obj = json_node_get_object (copy);
      gboolean has_secret = json_object_has_member (obj, "secret");

      json_object_remove_member (obj, "secret");
      json_object_set_boolean_member (obj, "has_secret", has_secret);
    }

  return copy;
}

/* Templates */

static JsonNode *
lookup_one (JsonNode   *node,
            const char *path)
{
  g_auto(GStrv) parts = NULL;

  if (node == NULL)
    return NULL;
  if (path[0] == '\0')
    return node;

  parts = g_strsplit (path, ".", 32);
  for (guint i = 0; parts[i] != NULL && node != NULL; i++)
    {
      if (JSON_NODE_HOLDS_OBJECT (node))
        {
          node = json_object_get_member (json_node_get_object (node), parts[i]);
        }
      else if (JSON_NODE_HOLDS_ARRAY (node))
        {
          JsonArray *array = json_node_get_array (node);
          guint64 index;

          if (!g_ascii_string_to_unsigned (parts[i], 10, 0, G_MAXUINT, &index, NULL) ||
              index >= json_array_get_length (array))
            return NULL;
          node = json_array_get_element (array, index);
        }
      else
        return NULL;
    }

  return node;
}

JsonNode *
_sy_json_lookup_path (JsonNode   *data,
                      const char *path)
{
  JsonNode *found = lookup_one (data, path);

  if (found == NULL && data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    found = lookup_one (json_object_get_member (json_node_get_object (data), "event"), path);

  return found;
}

static void
append_value (GString  *out,
              JsonNode *value)
{
  if (value == NULL || JSON_NODE_HOLDS_NULL (value))
    return;

  if (json_node_get_value_type (value) == G_TYPE_STRING)
    {
      g_string_append (out, json_node_get_string (value));
    }
  else
    {
      g_autofree char *text = json_to_string (value, FALSE);

      g_string_append (out, text);
    }
}

char *
_sy_template_render (const char *template_text,
                     JsonNode   *data)
{
  GString *out;
  const char *p;

  if (template_text == NULL)
    return g_strdup ("");

  out = g_string_sized_new (strlen (template_text) + 16);
  for (p = template_text; *p != '\0'; p++)
    {
      const char *close;

      if (p[0] == '{' && p[1] == '{')
        {
          g_string_append_c (out, '{');
          p++;
          continue;
        }
      if (p[0] == '}' && p[1] == '}')
        {
          g_string_append_c (out, '}');
          p++;
          continue;
        }
      if (p[0] == '{' && (close = strchr (p + 1, '}')) != NULL && close - p <= 200)
        {
          g_autofree char *path = g_strndup (p + 1, close - p - 1);

          g_strstrip (path);
          append_value (out, _sy_json_lookup_path (data, path));
          p = close;
          continue;
        }
      g_string_append_c (out, *p);
    }

  return g_string_free (out, FALSE);
}

/* "{path}" and nothing else. */
static gboolean
is_single_placeholder (const char *text,
                       char      **out_path)
{
  gsize len = strlen (text);

  if (len < 3 || text[0] != '{' || text[1] == '{' || text[len - 1] != '}' ||
      memchr (text + 1, '{', len - 2) != NULL || memchr (text + 1, '}', len - 2) != NULL)
    return FALSE;

  *out_path = g_strstrip (g_strndup (text + 1, len - 2));
  return TRUE;
}

JsonNode *
_sy_template_render_json (JsonNode *value,
                          JsonNode *data)
{
  if (value == NULL)
    return json_node_new (JSON_NODE_NULL);

  if (JSON_NODE_HOLDS_OBJECT (value))
    {
      JsonObject *src = json_node_get_object (value);
      g_autoptr(JsonObject) dst = json_object_new ();
      g_autoptr(GList) members = json_object_get_members (src);
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);

      for (GList *l = members; l != NULL; l = l->next)
        json_object_set_member (dst, l->data, _sy_template_render_json (json_object_get_member (src, l->data), data));
      json_node_set_object (node, dst);
      return node;
    }

  if (JSON_NODE_HOLDS_ARRAY (value))
    {
      JsonArray *src = json_node_get_array (value);
      g_autoptr(JsonArray) dst = json_array_sized_new (json_array_get_length (src));
      JsonNode *node = json_node_new (JSON_NODE_ARRAY);

      for (guint i = 0; i < json_array_get_length (src); i++)
        json_array_add_element (dst, _sy_template_render_json (json_array_get_element (src, i), data));
      json_node_set_array (node, dst);
      return node;
    }

  if (json_node_get_value_type (value) == G_TYPE_STRING)
    {
      const char *text = json_node_get_string (value);
      g_autofree char *path = NULL;
      g_autofree char *rendered = NULL;
      JsonNode *node;

      if (is_single_placeholder (text, &path))
        {
          JsonNode *found = _sy_json_lookup_path (data, path);

          return found ? json_node_copy (found) : json_node_new (JSON_NODE_NULL);
        }

      rendered = _sy_template_render (text, data);
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (node, rendered);
      return node;
    }

  return json_node_copy (value);
}

static void
add_chain (JsonBuilder      *b,
           const SyFireInfo *info)
{
  json_builder_set_member_name (b, "chain");
  json_builder_begin_array (b);
  for (guint i = 0; info->chain != NULL && i < info->chain->len; i++)
    json_builder_add_int_value (b, g_array_index (info->chain, gint64, i));
  json_builder_add_int_value (b, info->rule_id);
  json_builder_end_array (b);
}

static gint64
event_meter_id (JsonNode *config,
                JsonNode *data)
{
  JsonObject *cfg = config ? json_node_get_object (config) : NULL;
  JsonNode *node;

  if (cfg != NULL && json_object_has_member (cfg, "meter_id"))
    return json_object_get_int_member (cfg, "meter_id");

  node = lookup_one (data, "event.meter_id");
  if (node == NULL)
    node = lookup_one (data, "meter.id");
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      (json_node_get_value_type (node) == G_TYPE_INT64 || json_node_get_value_type (node) == G_TYPE_DOUBLE))
    return json_node_get_int (node);

  return 0;
}

JsonNode *
_sy_action_render (SyActionType       type,
                   JsonNode          *config,
                   JsonNode          *data,
                   const SyFireInfo  *info)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  JsonObject *cfg = json_node_get_object (config);

  json_builder_begin_object (b);

  switch (type)
    {
    case SY_ACTION_WEBHOOK:
      if (json_object_has_member (cfg, "payload"))
        return _sy_template_render_json (json_object_get_member (cfg, "payload"), data);

      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "automation.fired");
      json_builder_set_member_name (b, "rule");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, info->rule_id);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, info->rule_name);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "event_type");
      json_builder_add_string_value (b, info->event_type);
      json_builder_set_member_name (b, "dedupe_key");
      json_builder_add_string_value (b, info->dedupe_key);
      json_builder_set_member_name (b, "fired_ms");
      json_builder_add_int_value (b, info->now_ms);
      if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
        {
          JsonObject *d = json_node_get_object (data);
          static const char * const parts[] = { "event", "meter", "site" };

          for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
            {
              json_builder_set_member_name (b, parts[i]);
              if (json_object_has_member (d, parts[i]))
                json_builder_add_value (b, json_node_copy (json_object_get_member (d, parts[i])));
              else
                json_builder_add_null_value (b);
            }
        }
      break;

    case SY_ACTION_ANNOTATE:
      {
        g_autofree char *text = _sy_template_render (json_object_get_string_member (cfg, "text"), data);

        json_builder_set_member_name (b, "meter_id");
        json_builder_add_int_value (b, event_meter_id (config, data));
        json_builder_set_member_name (b, "ts_ms");
        json_builder_add_int_value (b, info->event_ts_ms ? info->event_ts_ms : info->now_ms);
        json_builder_set_member_name (b, "text");
        json_builder_add_string_value (b, text);
      }
      break;

    case SY_ACTION_ALERT:
      {
        g_autofree char *message = _sy_template_render (json_object_get_string_member (cfg, "message"), data);

        json_builder_set_member_name (b, "severity");
        json_builder_add_string_value (b, json_object_get_string_member (cfg, "severity"));
        json_builder_set_member_name (b, "message");
        json_builder_add_string_value (b, message);
        json_builder_set_member_name (b, "rule_id");
        json_builder_add_int_value (b, info->rule_id);
        json_builder_set_member_name (b, "meter_id");
        json_builder_add_int_value (b, event_meter_id (NULL, data));
        json_builder_set_member_name (b, "source_event");
        json_builder_add_string_value (b, info->event_type);
        json_builder_set_member_name (b, "dedupe_key");
        json_builder_add_string_value (b, info->dedupe_key);
        add_chain (b, info);
      }
      break;

    case SY_ACTION_RELAY_COMMAND:
      json_builder_set_member_name (b, "device_id");
      json_builder_add_int_value (b, json_object_get_int_member (cfg, "device_id"));
      json_builder_set_member_name (b, "relay");
      json_builder_add_value (b, json_node_copy (json_object_get_member (cfg, "relay")));
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, json_object_get_string_member (cfg, "state"));
      json_builder_set_member_name (b, "rule_id");
      json_builder_add_int_value (b, info->rule_id);
      json_builder_set_member_name (b, "meter_id");
      json_builder_add_int_value (b, event_meter_id (NULL, data));
      break;

    case SY_ACTION_NOTIFY_EMAIL:
      {
        g_autofree char *subject = _sy_template_render (json_object_get_string_member (cfg, "subject"), data);
        g_autofree char *body = _sy_template_render (json_object_get_string_member (cfg, "body"), data);

        json_builder_set_member_name (b, "to");
        json_builder_add_value (b, json_node_copy (json_object_get_member (cfg, "to")));
        json_builder_set_member_name (b, "subject");
        json_builder_add_string_value (b, subject);
        json_builder_set_member_name (b, "body");
        json_builder_add_string_value (b, body);
      }
      break;

    case SY_ACTION_PLUGIN:
      json_builder_set_member_name (b, "plugin");
      json_builder_add_string_value (b, json_object_get_string_member (cfg, "plugin"));
      json_builder_set_member_name (b, "input");
      if (data != NULL)
        json_builder_add_value (b, json_node_copy (data));
      else
        json_builder_add_null_value (b);
      break;

    case SY_ACTION_N_TYPES:
    default:
      g_assert_not_reached ();
    }

  json_builder_end_object (b);
  return json_builder_get_root (b);
}

char *
_sy_webhook_destination (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const char *scheme;
  int port;

  if (uri == NULL)
    return NULL;

  scheme = g_uri_get_scheme (uri);
  port = g_uri_get_port (uri);
  if (port < 0)
    port = g_str_equal (scheme, "https") ? 443 : 80;

  return g_strdup_printf ("%s://%s:%d", scheme, g_uri_get_host (uri), port);
}

SyAction *
_sy_action_new (gint64        id,
                const char   *name,
                SyActionType  type,
                JsonNode     *config,
                gboolean      enabled)
{
  SyAction *action = g_new0 (SyAction, 1);

  g_atomic_ref_count_init (&action->ref_count);
  action->id = id;
  action->name = g_strdup (name);
  action->type = type;
  action->config = json_node_ref (config);
  action->enabled = enabled;

  return action;
}

SyAction *
_sy_action_ref (SyAction *action)
{
  g_atomic_ref_count_inc (&action->ref_count);
  return action;
}

void
_sy_action_unref (SyAction *action)
{
  if (action == NULL || !g_atomic_ref_count_dec (&action->ref_count))
    return;

  g_free (action->name);
  json_node_unref (action->config);
  g_free (action);
}
