/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <string.h>

#include "sy-api-private.h"
#include "sy-error.h"

/* Client authentication (RFC 6749 2.3.1): HTTP Basic or client_id/client_secret form fields,
 * not both. */
static gboolean
get_client_credentials (SyRequest   *req,
                        GHashTable  *form,
                        char       **client_id,
                        char       **client_secret,
                        GError     **error)
{
  const char *form_id = g_hash_table_lookup (form, "client_id");
  const char *form_secret = g_hash_table_lookup (form, "client_secret");

  if (req->authorization != NULL && g_ascii_strncasecmp (req->authorization, "Basic ", 6) == 0)
    {
      g_autofree guchar *decoded = NULL;
      g_autofree char *text = NULL;
      gsize len = 0;
      char *colon;

      if (form_secret != NULL)
        {
          g_set_error_literal (error, SY_ERROR, SY_ERROR_INVALID,
                               "invalid_request: use either HTTP Basic or form credentials, not both");
          return FALSE;
        }

      decoded = g_base64_decode (req->authorization + 6, &len);
      text = g_strndup ((const char *) decoded, len);
      colon = strchr (text, ':');
      if (colon == NULL)
        {
          g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED, "invalid_client: malformed Basic credentials");
          return FALSE;
        }
      *colon = '\0';
      /* RFC 6749 2.3.1: both parts are form-urlencoded inside Basic. */
      *client_id = g_uri_unescape_string (text, NULL);
      *client_secret = g_uri_unescape_string (colon + 1, NULL);
      if (*client_id == NULL || *client_secret == NULL)
        {
          g_clear_pointer (client_id, g_free);
          g_clear_pointer (client_secret, g_free);
          g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED, "invalid_client: malformed Basic credentials");
          return FALSE;
        }
      return TRUE;
    }

  if (form_id == NULL || form_secret == NULL)
    {
      g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED,
                           "invalid_client: client authentication required (HTTP Basic or client_id and client_secret)");
      return FALSE;
    }

  *client_id = g_strdup (form_id);
  *client_secret = g_strdup (form_secret);
  return TRUE;
}

static gboolean
post_token (SyRequest   *req,
            SyResponse  *res,
            GError     **error)
{
  g_autoptr(GHashTable) form = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *client_id = NULL;
  g_autofree char *client_secret = NULL;
  g_autofree char *token = NULL;
  g_autofree char *scopes = NULL;
  const char *grant_type;

  res->no_store = TRUE;

  form = _sy_request_parse_form (req, error);
  if (form == NULL)
    return FALSE;

  grant_type = g_hash_table_lookup (form, "grant_type");
  if (grant_type == NULL)
    {
      g_set_error_literal (error, SY_ERROR, SY_ERROR_INVALID, "invalid_request: grant_type is required");
      return FALSE;
    }
  if (!g_str_equal (grant_type, "client_credentials"))
    {
      g_set_error (error, SY_ERROR, SY_ERROR_INVALID,
                   "unsupported_grant_type: %s (only client_credentials)", grant_type);
      return FALSE;
    }

  if (!get_client_credentials (req, form, &client_id, &client_secret, error))
    return FALSE;

  if (!_sy_auth_issue_token (req->api->auth, client_id, client_secret,
                             g_hash_table_lookup (form, "scope"), &token, &scopes, error))
    return FALSE;

  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "access_token");
  json_builder_add_string_value (builder, token);
  json_builder_set_member_name (builder, "token_type");
  json_builder_add_string_value (builder, "Bearer");
  json_builder_set_member_name (builder, "expires_in");
  json_builder_add_int_value (builder, _sy_auth_get_token_ttl (req->api->auth));
  json_builder_set_member_name (builder, "scope");
  json_builder_add_string_value (builder, scopes);
  json_builder_end_object (builder);

  _sy_response_set_builder (res, 200, builder);
  return TRUE;
}

/* RFC 7009: the client authenticates; revoking an unknown token still answers 200. */
static gboolean
post_revoke (SyRequest   *req,
             SyResponse  *res,
             GError     **error)
{
  g_autoptr(GHashTable) form = NULL;
  g_autofree char *client_id = NULL;
  g_autofree char *client_secret = NULL;
  const char *token;
  const char *hint;

  form = _sy_request_parse_form (req, error);
  if (form == NULL)
    return FALSE;

  if (!get_client_credentials (req, form, &client_id, &client_secret, error))
    return FALSE;

  if (!_sy_auth_verify_client (req->api->auth, client_id, client_secret, NULL, error))
    return FALSE;

  token = g_hash_table_lookup (form, "token");
  if (token == NULL || token[0] == '\0')
    {
      g_set_error_literal (error, SY_ERROR, SY_ERROR_INVALID, "invalid_request: token is required");
      return FALSE;
    }

  hint = g_hash_table_lookup (form, "token_type_hint");
  if (hint != NULL && !g_str_equal (hint, "access_token") && !g_str_equal (hint, "refresh_token"))
    {
      g_set_error (error, SY_ERROR, SY_ERROR_INVALID, "unsupported_token_type: %s", hint);
      return FALSE;
    }

  if (!_sy_auth_revoke_token (req->api->auth, token, client_id, error))
    return FALSE;

  res->status = 200;
  return TRUE;
}

static const SyRoute routes[] = {
  { "POST", "/api/oauth/token", NULL, post_token, NULL },
  { "POST", "/api/oauth/revoke", NULL, post_revoke, NULL },
};

const SyRoute *
_sy_api_oauth_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}
