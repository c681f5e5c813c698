/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-api-auth"

#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "sy-test-util.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

typedef struct
{
  SyTestDaemon *daemon;
  char         *admin_token;
} AuthFixture;

static void
fixture_setup (AuthFixture   *fx,
               gconstpointer  data)
{
  const char * const *extra_args = data;

  fx->daemon = sy_test_daemon_new (extra_args);
  sy_test_daemon_start (fx->daemon);
  fx->admin_token = sy_test_daemon_token (fx->daemon, "admin");
}

static void
fixture_teardown (AuthFixture   *fx,
                  gconstpointer  data)
{
  sy_test_daemon_free (fx->daemon);
  g_free (fx->admin_token);
}

static char *
basic_auth (const char *client_id,
            const char *secret)
{
  g_autofree char *pair = g_strconcat (client_id, ":", secret, NULL);
  g_autofree char *encoded = g_base64_encode ((const guchar *) pair, strlen (pair));

  return g_strconcat ("Basic ", encoded, NULL);
}

static SyTestResponse *
post_form (SyTestDaemon *daemon,
           const char   *path,
           const char   *authorization,
           const char   *form)
{
  const char *headers[] = { "Authorization", authorization, NULL };

  return sy_test_request (daemon, "POST", path, authorization ? headers : NULL, FORM_TYPE, form, -1);
}

static const char *
header (SyTestResponse *res,
        const char     *name)
{
  return soup_message_headers_get_one (res->headers, name);
}

static const char *
object_string (JsonObject *obj,
               const char *member)
{
  if (!json_object_has_member (obj, member))
    g_error ("missing member \"%s\"", member);

  return json_object_get_string_member (obj, member);
}

static void
assert_uuid (const char *text)
{
  g_assert_nonnull (text);
  if (!g_uuid_string_is_valid (text))
    g_error ("\"%s\" is not a UUID", text);
}

static void
assert_oauth_error (SyTestResponse *res,
                    guint           status,
                    const char     *code)
{
  JsonObject *obj;

  sy_test_assert_problem (res, status);
  obj = sy_test_response_object (res);
  g_assert_cmpstr (object_string (obj, "error"), ==, code);
}

/* Asserts a token response and returns the token. */
static char *
assert_token_response (SyTestResponse *res,
                       const char     *expected_scope)
{
  JsonObject *obj;
  const char *token;

  if (res->status != 200)
    g_error ("token request failed with %u: %.*s", res->status,
             (int) g_bytes_get_size (res->body), (const char *) g_bytes_get_data (res->body, NULL));

  g_assert_cmpstr (res->content_type, ==, "application/json");
  g_assert_cmpstr (header (res, "Cache-Control"), ==, "no-store");

  obj = sy_test_response_object (res);
  token = object_string (obj, "access_token");
  g_assert_cmpuint (strlen (token), >=, 32);
  g_assert_cmpstr (object_string (obj, "token_type"), ==, "Bearer");
  g_assert_cmpint (json_object_get_int_member (obj, "expires_in"), ==, 3600);
  g_assert_cmpstr (object_string (obj, "scope"), ==, expected_scope);

  return g_strdup (token);
}

static char *
token_form (const char *client_id,
            const char *secret,
            const char *scope)
{
  if (scope != NULL)
    return soup_form_encode ("grant_type", "client_credentials", "client_id", client_id,
                             "client_secret", secret, "scope", scope, NULL);

  return soup_form_encode ("grant_type", "client_credentials", "client_id", client_id,
                           "client_secret", secret, NULL);
}

static guint
status_with_token (SyTestDaemon *daemon,
                   const char   *method,
                   const char   *path,
                   const char   *token,
                   const char   *body)
{
  g_autoptr(SyTestResponse) res = sy_test_json (daemon, method, path, token, body);

  return res->status;
}

static void
test_token_basic (AuthFixture   *fx,
                  gconstpointer  data)
{
  g_autoptr(JsonObject) client = sy_test_daemon_create_client (fx->daemon, "basic", "admin");
  g_autofree char *auth = basic_auth (object_string (client, "client_id"),
                                      object_string (client, "client_secret"));
  g_autoptr(SyTestResponse) res = NULL;
  g_autofree char *token = NULL;

  res = post_form (fx->daemon, "/api/oauth/token", auth, "grant_type=client_credentials");
  token = assert_token_response (res, "admin");

  g_assert_cmpuint (status_with_token (fx->daemon, "GET", "/api/auth/clients", token, NULL), ==, 200);
}

static void
test_token_form (AuthFixture   *fx,
                 gconstpointer  data)
{
  g_autoptr(JsonObject) client = sy_test_daemon_create_client (fx->daemon, "form", "meters:read analytics:read");
  g_autofree char *form = token_form (object_string (client, "client_id"),
                                      object_string (client, "client_secret"), NULL);
  g_autoptr(SyTestResponse) res = NULL;
  g_autofree char *token = NULL;
  g_autofree char *other = NULL;

  res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
  token = assert_token_response (res, "meters:read analytics:read");
  g_clear_pointer (&res, sy_test_response_free);

  /* Every request gives a fresh token. */
  res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
  other = assert_token_response (res, "meters:read analytics:read");
  g_assert_cmpstr (token, !=, other);

  /* The token authenticates, but this client is no admin. */
  g_assert_cmpuint (status_with_token (fx->daemon, "GET", "/api/auth/clients", token, NULL), ==, 403);
}

static void
test_token_wrong_secret (AuthFixture   *fx,
                         gconstpointer  data)
{
  g_autoptr(JsonObject) client = sy_test_daemon_create_client (fx->daemon, "wrong", "admin");
  const char *client_id = object_string (client, "client_id");
  g_autofree char *secret = g_strdup (object_string (client, "client_secret"));
  g_autofree char *form = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *unknown_form = NULL;
  g_autoptr(SyTestResponse) res = NULL;

  /* One character off. */
  secret[0] = secret[0] == 'A' ? 'B' : 'A';

  form = token_form (client_id, secret, NULL);
  res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
  assert_oauth_error (res, 401, "invalid_client");
  g_assert_null (json_object_get_member (sy_test_response_object (res), "access_token"));
  g_clear_pointer (&res, sy_test_response_free);

  auth = basic_auth (client_id, secret);
  res = post_form (fx->daemon, "/api/oauth/token", auth, "grant_type=client_credentials");
  assert_oauth_error (res, 401, "invalid_client");
  /* RFC 6749 5.2: the challenge names the scheme the client used. */
  g_assert_true (g_str_has_prefix (header (res, "WWW-Authenticate"), "Basic "));
  g_clear_pointer (&res, sy_test_response_free);

  /* An unknown client and no credentials at all. */
  unknown_form = token_form ("00000000-0000-4000-8000-000000000000", object_string (client, "client_secret"), NULL);
  res = post_form (fx->daemon, "/api/oauth/token", NULL, unknown_form);
  assert_oauth_error (res, 401, "invalid_client");
  g_clear_pointer (&res, sy_test_response_free);

  res = post_form (fx->daemon, "/api/oauth/token", NULL, "grant_type=client_credentials");
  assert_oauth_error (res, 401, "invalid_client");
}

static void
test_token_grant_type (AuthFixture   *fx,
                       gconstpointer  data)
{
  g_autoptr(JsonObject) client = sy_test_daemon_create_client (fx->daemon, "grant", "admin");
  g_autofree char *no_grant = NULL;
  g_autofree char *password = NULL;
  g_autoptr(SyTestResponse) res = NULL;

  no_grant = soup_form_encode ("client_id", object_string (client, "client_id"),
                               "client_secret", object_string (client, "client_secret"), NULL);
  res = post_form (fx->daemon, "/api/oauth/token", NULL, no_grant);
  assert_oauth_error (res, 400, "invalid_request");
  g_assert_cmpstr (header (res, "Cache-Control"), ==, "no-store");
  g_clear_pointer (&res, sy_test_response_free);

  password = soup_form_encode ("grant_type", "password",
                               "client_id", object_string (client, "client_id"),
                               "client_secret", object_string (client, "client_secret"), NULL);
  res = post_form (fx->daemon, "/api/oauth/token", NULL, password);
  assert_oauth_error (res, 400, "unsupported_grant_type");
  g_clear_pointer (&res, sy_test_response_free);

  /* RFC 6749 3.2: the token endpoint takes form parameters, not JSON. */
  res = sy_test_request (fx->daemon, "POST", "/api/oauth/token", NULL, "application/json",
                         "{\"grant_type\":\"client_credentials\"}", -1);
  g_assert_cmpuint (res->status, >=, 400);
  g_assert_cmpuint (res->status, <, 500);
  g_assert_cmpstr (res->content_type, ==, "application/problem+json");
}

static void
test_token_scope (AuthFixture   *fx,
                  gconstpointer  data)
{
  g_autoptr(JsonObject) client = sy_test_daemon_create_client (fx->daemon, "scoped", "meters:read meters:write");
  const char *client_id = object_string (client, "client_id");
  const char *secret = object_string (client, "client_secret");
  g_autoptr(JsonObject) admin = sy_test_daemon_create_client (fx->daemon, "admin", "admin");
  static const char * const too_wide[] = { "admin", "analytics:read", "meters:read auth:write", "bogus" };
  g_autoptr(SyTestResponse) res = NULL;
  g_autofree char *form = NULL;
  g_autofree char *narrow = NULL;
  g_autofree char *admin_narrow = NULL;

  /* A subset is granted as asked. */
  form = token_form (client_id, secret, "meters:read");
  res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
  narrow = assert_token_response (res, "meters:read");
  g_clear_pointer (&res, sy_test_response_free);
  g_clear_pointer (&form, g_free);

  /* The narrow token may read but not write. */
  g_assert_cmpuint (status_with_token (fx->daemon, "POST", "/api/energy/sites", narrow,
                                       "{\"name\":\"Nope\",\"timezone\":\"UTC\"}"), ==, 403);

  for (guint i = 0; i < G_N_ELEMENTS (too_wide); i++)
    {
      form = token_form (client_id, secret, too_wide[i]);
      res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
      assert_oauth_error (res, 400, "invalid_scope");
      g_clear_pointer (&res, sy_test_response_free);
      g_clear_pointer (&form, g_free);
    }

  /* An admin may take a token with less than admin, and then it is no admin. */
  form = token_form (object_string (admin, "client_id"), object_string (admin, "client_secret"), "analytics:read");
  res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
  admin_narrow = assert_token_response (res, "analytics:read");
  g_assert_cmpuint (status_with_token (fx->daemon, "GET", "/api/auth/clients", admin_narrow, NULL), ==, 403);
}

static void
test_revoke (AuthFixture   *fx,
             gconstpointer  data)
{
  g_autoptr(JsonObject) client = sy_test_daemon_create_client (fx->daemon, "revoker", "admin");
  g_autoptr(JsonObject) other = sy_test_daemon_create_client (fx->daemon, "other", "admin");
  g_autofree char *auth = basic_auth (object_string (client, "client_id"), object_string (client, "client_secret"));
  g_autofree char *other_auth = basic_auth (object_string (other, "client_id"), object_string (other, "client_secret"));
  g_autoptr(SyTestResponse) res = NULL;
  g_autofree char *token = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *form = NULL;
  g_autofree char *wrong_auth = NULL;

  res = post_form (fx->daemon, "/api/oauth/token", auth, "grant_type=client_credentials");
  token = assert_token_response (res, "admin");
  g_clear_pointer (&res, sy_test_response_free);
  res = post_form (fx->daemon, "/api/oauth/token", auth, "grant_type=client_credentials");
  kept = assert_token_response (res, "admin");
  g_clear_pointer (&res, sy_test_response_free);

  g_assert_cmpuint (status_with_token (fx->daemon, "GET", "/api/auth/clients", token, NULL), ==, 200);

  form = soup_form_encode ("token", token, "token_type_hint", "access_token", NULL);

  /* Revocation needs client authentication. */
  res = post_form (fx->daemon, "/api/oauth/revoke", NULL, form);
  assert_oauth_error (res, 401, "invalid_client");
  g_clear_pointer (&res, sy_test_response_free);
  wrong_auth = basic_auth (object_string (client, "client_id"), "not-the-secret");
  res = post_form (fx->daemon, "/api/oauth/revoke", wrong_auth, form);
  assert_oauth_error (res, 401, "invalid_client");
  g_clear_pointer (&res, sy_test_response_free);

  /* Another client cannot revoke this client's token (RFC 7009 2.1); it still gets 200. */
  res = post_form (fx->daemon, "/api/oauth/revoke", other_auth, form);
  g_assert_cmpuint (res->status, ==, 200);
  g_clear_pointer (&res, sy_test_response_free);
  g_assert_cmpuint (status_with_token (fx->daemon, "GET", "/api/auth/clients", token, NULL), ==, 200);

  res = post_form (fx->daemon, "/api/oauth/revoke", auth, form);
  g_assert_cmpuint (res->status, ==, 200);
  g_clear_pointer (&res, sy_test_response_free);

  {
    g_autoptr(SyTestResponse) after = sy_test_json (fx->daemon, "GET", "/api/auth/clients", token, NULL);

    sy_test_assert_problem (after, 401);
    g_assert_true (g_str_has_prefix (header (after, "WWW-Authenticate"), "Bearer"));
  }

  /* Only that token: the client's other token still works. */
  g_assert_cmpuint (status_with_token (fx->daemon, "GET", "/api/auth/clients", kept, NULL), ==, 200);

  /* Revoking twice, or a token that never existed, is still 200. */
  res = post_form (fx->daemon, "/api/oauth/revoke", auth, form);
  g_assert_cmpuint (res->status, ==, 200);
  g_clear_pointer (&res, sy_test_response_free);
  res = post_form (fx->daemon, "/api/oauth/revoke", auth, "token=syt_never-issued-by-anyone");
  g_assert_cmpuint (res->status, ==, 200);
  g_clear_pointer (&res, sy_test_response_free);

  /* But the token parameter is required. */
  res = post_form (fx->daemon, "/api/oauth/revoke", auth, "token_type_hint=access_token");
  assert_oauth_error (res, 400, "invalid_request");
}

static void
test_bearer_required (AuthFixture   *fx,
                      gconstpointer  data)
{
  g_autofree char *analytics = sy_test_daemon_token (fx->daemon, "analytics:read");
  g_autofree char *meters_read = sy_test_daemon_token (fx->daemon, "meters:read");
  static const char * const bad_auth[] = {
    "Bearer syt_not-a-real-token",
    "Bearer ",
    "Basic YWRtaW46YWRtaW4=",
    "Token abc",
  };
  g_autoptr(SyTestResponse) res = NULL;

  res = sy_test_json (fx->daemon, "GET", "/api/auth/clients", NULL, NULL);
  sy_test_assert_problem (res, 401);
  g_assert_nonnull (header (res, "WWW-Authenticate"));
  g_assert_true (g_str_has_prefix (header (res, "WWW-Authenticate"), "Bearer"));
  g_clear_pointer (&res, sy_test_response_free);

  for (guint i = 0; i < G_N_ELEMENTS (bad_auth); i++)
    {
      const char *headers[] = { "Authorization", bad_auth[i], NULL };

      res = sy_test_request (fx->daemon, "GET", "/api/auth/clients", headers, NULL, NULL, 0);
      sy_test_assert_problem (res, 401);
      g_assert_nonnull (header (res, "WWW-Authenticate"));
      g_clear_pointer (&res, sy_test_response_free);
    }

  /* Valid tokens without the scope: 403, not 401. */
  res = sy_test_json (fx->daemon, "GET", "/api/auth/clients", analytics, NULL);
  sy_test_assert_problem (res, 403);
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "POST", "/api/auth/clients", meters_read, "{\"name\":\"x\",\"scopes\":\"admin\"}");
  sy_test_assert_problem (res, 403);
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "POST", "/api/energy/meters", meters_read,
                      "{\"name\":\"Grid\",\"site_id\":1,\"kind\":\"grid\"}");
  sy_test_assert_problem (res, 403);
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "GET", "/api/energy/meters", NULL, NULL);
  sy_test_assert_problem (res, 401);
  g_clear_pointer (&res, sy_test_response_free);

  /* Scope is checked before the body: nothing was created by the refused requests. */
  res = sy_test_json (fx->daemon, "GET", "/api/auth/clients", fx->admin_token, NULL);
  g_assert_cmpuint (res->status, ==, 200);
  {
    JsonArray *results = json_object_get_array_member (sy_test_response_object (res), "results");

    for (guint i = 0; i < json_array_get_length (results); i++)
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (results, i), "name"), !=, "x");
  }
}

static gboolean
list_has_client (SyTestDaemon *daemon,
                 const char   *token,
                 const char   *client_id,
                 const char   *secret)
{
  g_autoptr(SyTestResponse) res = sy_test_json (daemon, "GET", "/api/auth/clients", token, NULL);
  g_autofree char *text = g_strndup (g_bytes_get_data (res->body, NULL), g_bytes_get_size (res->body));
  JsonObject *obj;
  JsonArray *results;
  gboolean found = FALSE;

  g_assert_cmpuint (res->status, ==, 200);
  obj = sy_test_response_object (res);
  g_assert_true (json_object_has_member (obj, "count"));
  g_assert_true (json_object_has_member (obj, "next"));
  g_assert_true (json_object_has_member (obj, "previous"));
  results = json_object_get_array_member (obj, "results");
  g_assert_cmpint (json_object_get_int_member (obj, "count"), ==, json_array_get_length (results));

  /* The list never carries a secret, under any name. */
  if (secret != NULL)
    g_assert_null (strstr (text, secret));

  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *item = json_array_get_object_element (results, i);

      g_assert_false (json_object_has_member (item, "client_secret"));
      g_assert_false (json_object_has_member (item, "secret_hash"));
      if (g_str_equal (json_object_get_string_member (item, "client_id"), client_id))
        found = TRUE;
    }

  return found;
}

static void
test_clients_crud (AuthFixture   *fx,
                   gconstpointer  data)
{
  g_autoptr(SyTestResponse) res = NULL;
  g_autofree char *client_id = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *location = NULL;
  g_autofree char *token = NULL;
  g_autofree char *form = NULL;
  g_autofree char *path = NULL;
  JsonObject *obj;

  res = sy_test_json (fx->daemon, "POST", "/api/auth/clients", fx->admin_token,
                      "{\"name\":\"API Access page\",\"scopes\":\"meters:read  meters:write\"}");
  if (res->status != 201)
    g_error ("create failed with %u", res->status);
  g_assert_cmpstr (header (res, "Cache-Control"), ==, "no-store");
  obj = sy_test_response_object (res);
  client_id = g_strdup (object_string (obj, "client_id"));
  secret = g_strdup (object_string (obj, "client_secret"));
  assert_uuid (client_id);
  g_assert_cmpuint (strlen (secret), ==, 43);
  g_assert_cmpstr (object_string (obj, "name"), ==, "API Access page");
  g_assert_cmpstr (object_string (obj, "scopes"), ==, "meters:read meters:write");
  location = g_strdup_printf ("/api/auth/clients/%s", client_id);
  g_assert_cmpstr (header (res, "Location"), ==, location);
  g_clear_pointer (&res, sy_test_response_free);

  /* The new credentials work at once. */
  form = token_form (client_id, secret, NULL);
  res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
  token = assert_token_response (res, "meters:read meters:write");
  g_clear_pointer (&res, sy_test_response_free);
  g_assert_cmpuint (status_with_token (fx->daemon, "GET", "/api/energy/sites", token, NULL), ==, 200);

  /* Listed and readable, never with the secret. */
  g_assert_true (list_has_client (fx->daemon, fx->admin_token, client_id, secret));
  res = sy_test_json (fx->daemon, "GET", location, fx->admin_token, NULL);
  g_assert_cmpuint (res->status, ==, 200);
  obj = sy_test_response_object (res);
  g_assert_cmpstr (object_string (obj, "client_id"), ==, client_id);
  g_assert_cmpstr (object_string (obj, "name"), ==, "API Access page");
  g_assert_false (json_object_has_member (obj, "client_secret"));
  g_assert_null (g_strstr_len (g_bytes_get_data (res->body, NULL), g_bytes_get_size (res->body), secret));
  g_clear_pointer (&res, sy_test_response_free);

  /* A trailing slash is optional here too. */
  path = g_strconcat (location, "/", NULL);
  g_assert_cmpuint (status_with_token (fx->daemon, "GET", path, fx->admin_token, NULL), ==, 200);
  g_assert_cmpuint (status_with_token (fx->daemon, "GET", "/api/auth/clients/", fx->admin_token, NULL), ==, 200);

  /* Delete revokes the client and every token it holds. */
  res = sy_test_json (fx->daemon, "DELETE", location, fx->admin_token, NULL);
  g_assert_cmpuint (res->status, ==, 204);
  g_assert_cmpuint (g_bytes_get_size (res->body), ==, 0);
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "GET", "/api/energy/sites", token, NULL);
  sy_test_assert_problem (res, 401);
  g_clear_pointer (&res, sy_test_response_free);

  res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
  assert_oauth_error (res, 401, "invalid_client");
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "DELETE", location, fx->admin_token, NULL);
  sy_test_assert_problem (res, 404);
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "GET", "/api/auth/clients/00000000-0000-4000-8000-000000000000",
                      fx->admin_token, NULL);
  sy_test_assert_problem (res, 404);
  g_clear_pointer (&res, sy_test_response_free);

  /* The admin's own token is untouched. */
  g_assert_cmpuint (status_with_token (fx->daemon, "GET", "/api/auth/clients", fx->admin_token, NULL), ==, 200);
}

static void
test_clients_pagination (AuthFixture   *fx,
                         gconstpointer  data)
{
  g_autoptr(SyTestResponse) res = NULL;
  JsonObject *obj;
  gint64 total;

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"name\":\"page-%u\",\"scopes\":\"meters:read\"}", i);

      g_assert_cmpuint (status_with_token (fx->daemon, "POST", "/api/auth/clients", fx->admin_token, body), ==, 201);
    }

  res = sy_test_json (fx->daemon, "GET", "/api/auth/clients?limit=2", fx->admin_token, NULL);
  g_assert_cmpuint (res->status, ==, 200);
  obj = sy_test_response_object (res);
  total = json_object_get_int_member (obj, "count");
  /* The fixture's admin plus three. */
  g_assert_cmpint (total, ==, 4);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj, "results")), ==, 2);
  g_assert_false (json_object_get_null_member (obj, "next"));
  g_assert_true (json_object_get_null_member (obj, "previous"));
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "GET", "/api/auth/clients?limit=2&offset=2", fx->admin_token, NULL);
  g_assert_cmpuint (res->status, ==, 200);
  obj = sy_test_response_object (res);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj, "results")), ==, 2);
  g_assert_true (json_object_get_null_member (obj, "next"));
  g_assert_false (json_object_get_null_member (obj, "previous"));
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "GET", "/api/auth/clients?limit=0", fx->admin_token, NULL);
  g_assert_cmpstr (sy_test_assert_problem (res, 400), ==, "limit");
}

static void
test_clients_bad_input (AuthFixture   *fx,
                        gconstpointer  data)
{
  static const struct
  {
    const char *body;
    const char *field;
  } cases[] = {
    { "{\"name\":\"x\",\"scopes\":\"root\"}", "scopes" },
    { "{\"name\":\"x\",\"scopes\":\"meters:delete\"}", "scopes" },
    { "{\"name\":\"x\",\"scopes\":\"\"}", "scopes" },
    { "{\"name\":\"x\",\"scopes\":\"   \"}", "scopes" },
    { "{\"name\":\"x\",\"scopes\":[\"admin\"]}", "scopes" },
    { "{\"name\":\"x\"}", "scopes" },
    { "{\"scopes\":\"admin\"}", "name" },
    { "{\"name\":\"\",\"scopes\":\"admin\"}", "name" },
    { "{\"name\":42,\"scopes\":\"admin\"}", "name" },
    { "{\"name\":\"x\",\"scopes\":\"admin\",\"client_secret\":\"mine\"}", "client_secret" },
    { "{\"name\":\"x\",", "body" },
    { "[]", "body" },
  };
  g_autoptr(SyTestResponse) res = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      res = sy_test_json (fx->daemon, "POST", "/api/auth/clients", fx->admin_token, cases[i].body);
      if (res->status != 400)
        g_error ("%s: expected 400, got %u", cases[i].body, res->status);
      g_assert_cmpstr (sy_test_assert_problem (res, 400), ==, cases[i].field);
      g_clear_pointer (&res, sy_test_response_free);
    }

  /* None of them created a client: only the fixture's admin is there. */
  res = sy_test_json (fx->daemon, "GET", "/api/auth/clients", fx->admin_token, NULL);
  g_assert_cmpint (json_object_get_int_member (sy_test_response_object (res), "count"), ==, 1);
}

static void
test_health_public (AuthFixture   *fx,
                    gconstpointer  data)
{
  g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, "GET", "/api/health", NULL, NULL);
  g_autoptr(SyTestResponse) slash = sy_test_json (fx->daemon, "GET", "/api/health/", NULL, NULL);
  JsonObject *obj;

  g_assert_cmpuint (res->status, ==, 200);
  g_assert_cmpstr (res->content_type, ==, "application/json");
  obj = sy_test_response_object (res);
  g_assert_cmpstr (object_string (obj, "status"), ==, "ok");
  g_assert_cmpstr (object_string (obj, "version"), ==, PACKAGE_VERSION);
  g_assert_cmpint (json_object_get_int_member (obj, "schema_version"), >=, 1);
  g_assert_cmpuint (slash->status, ==, 200);
}

static void
test_not_found_and_method (AuthFixture   *fx,
                           gconstpointer  data)
{
  static const char * const missing[] = {
    "/api/nope", "/api/energy", "/api/energy/meters/1/nope", "/api/energy/meters/abc", "/api/energy/meters/0",
  };
  g_autoptr(SyTestResponse) res = NULL;
  JsonObject *obj;

  for (guint i = 0; i < G_N_ELEMENTS (missing); i++)
    {
      res = sy_test_json (fx->daemon, "GET", missing[i], fx->admin_token, NULL);
      sy_test_assert_problem (res, 404);
      obj = sy_test_response_object (res);
      g_assert_cmpstr (object_string (obj, "instance"), ==, missing[i]);
      g_clear_pointer (&res, sy_test_response_free);
    }

  /* Unknown paths are 404 without a token too: routing comes before authentication. */
  res = sy_test_json (fx->daemon, "GET", "/api/nope", NULL, NULL);
  sy_test_assert_problem (res, 404);
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "DELETE", "/api/health", NULL, NULL);
  sy_test_assert_problem (res, 405);
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "PUT", "/api/auth/clients", fx->admin_token, "{}");
  sy_test_assert_problem (res, 405);
  g_assert_cmpstr (header (res, "Allow"), ==, "GET, POST");
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "GET", "/api/oauth/token", NULL, NULL);
  sy_test_assert_problem (res, 405);
  g_assert_cmpstr (header (res, "Allow"), ==, "POST");
}

static void
test_token_expiry (AuthFixture   *fx,
                   gconstpointer  data)
{
  g_autoptr(JsonObject) client = sy_test_daemon_create_client (fx->daemon, "short", "admin");
  g_autofree char *form = token_form (object_string (client, "client_id"), object_string (client, "client_secret"), NULL);
  g_autoptr(SyTestResponse) res = NULL;
  JsonObject *obj;
  g_autofree char *token = NULL;
  gint64 deadline;

  res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
  g_assert_cmpuint (res->status, ==, 200);
  obj = sy_test_response_object (res);
  g_assert_cmpint (json_object_get_int_member (obj, "expires_in"), ==, 1);
  token = g_strdup (object_string (obj, "access_token"));

  /* Allowed until the second is up, refused after; poll rather than guess. */
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (status_with_token (fx->daemon, "GET", "/api/auth/clients", token, NULL) == 200)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("A token with expires_in 1 still works after 5 s");
      g_usleep (100 * 1000);
    }
  g_assert_cmpuint (status_with_token (fx->daemon, "GET", "/api/auth/clients", token, NULL), ==, 401);
}

static void
test_create_client_cli (void)
{
  SyTestDaemon *daemon = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *obj;
  const char *daemon_path = g_getenv ("SY_DAEMON");

  daemon = sy_test_daemon_new (NULL);

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                           daemon_path, "--db", daemon->db_path, "--create-client", "cli",
                           "--scopes", "meters:read analytics:read", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);

  /* One JSON object on one line, nothing else on stdout. */
  g_assert_true (g_str_has_suffix (out, "}\n"));
  g_assert_true (strchr (out, '\n') == out + strlen (out) - 1);
  node = json_from_string (out, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  obj = json_node_get_object (node);
  g_assert_cmpuint (json_object_get_size (obj), ==, 2);
  assert_uuid (object_string (obj, "client_id"));
  g_assert_cmpuint (strlen (object_string (obj, "client_secret")), ==, 43);
  g_clear_object (&proc);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The credentials work against a daemon on that database, with those scopes. */
  sy_test_daemon_start (daemon);
  {
    g_autofree char *form = token_form (object_string (obj, "client_id"), object_string (obj, "client_secret"), NULL);
    g_autoptr(SyTestResponse) res = post_form (daemon, "/api/oauth/token", NULL, form);
    g_autofree char *token = assert_token_response (res, "meters:read analytics:read");
  }
  sy_test_daemon_stop (daemon);

  /* Bad scopes: no client, a message, a failure status. */
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                           daemon_path, "--db", daemon->db_path, "--create-client", "cli",
                           "--scopes", "everything", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (proc), !=, 0);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "scope"));

  sy_test_daemon_free (daemon);
}

/* The database must hold neither a client secret nor a token in plain text. */

static void
assert_table_free_of (sqlite3            *db,
                      const char         *table,
                      const char * const *needles)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;
  guint rows = 0;

  g_string_printf (sql, "SELECT * FROM %s", table);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql->str, -1, &stmt, NULL), ==, SQLITE_OK);

  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      rows++;
      for (int col = 0; col < sqlite3_column_count (stmt); col++)
        {
          const char *value = (const char *) sqlite3_column_text (stmt, col);

          for (guint i = 0; value != NULL && needles[i] != NULL; i++)
            {
              if (strstr (value, needles[i]) != NULL)
                g_error ("%s.%s holds a plain secret or token", table, sqlite3_column_name (stmt, col));
            }
        }
    }
  sqlite3_finalize (stmt);

  g_assert_cmpuint (rows, >, 0);
}

static gboolean
bytes_contain (const char *haystack,
               gsize       len,
               const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; n <= len && i <= len - n; i++)
    {
      if (haystack[i] == needle[0] && memcmp (haystack + i, needle, n) == 0)
        return TRUE;
    }

  return FALSE;
}

static void
assert_file_free_of (const char         *path,
                     const char * const *needles)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return;

  for (guint i = 0; needles[i] != NULL; i++)
    {
      if (bytes_contain (contents, len, needles[i]))
        g_error ("%s contains a plain secret or token", path);
    }
}

static void
test_db_stores_no_secrets (AuthFixture   *fx,
                           gconstpointer  data)
{
  g_autoptr(JsonObject) cli = sy_test_daemon_create_client (fx->daemon, "cli", "admin");
  g_autoptr(SyTestResponse) res = NULL;
  g_autofree char *api_id = NULL;
  g_autofree char *api_secret = NULL;
  g_autofree char *cli_token = NULL;
  g_autofree char *api_token = NULL;
  g_autofree char *revoked_token = NULL;
  g_autofree char *form = NULL;
  g_autofree char *wal = NULL;
  g_autofree char *shm = NULL;
  const char *needles[7];
  sqlite3 *db = NULL;

  res = sy_test_json (fx->daemon, "POST", "/api/auth/clients", fx->admin_token,
                      "{\"name\":\"api\",\"scopes\":\"meters:read\"}");
  g_assert_cmpuint (res->status, ==, 201);
  api_id = g_strdup (object_string (sy_test_response_object (res), "client_id"));
  api_secret = g_strdup (object_string (sy_test_response_object (res), "client_secret"));
  g_clear_pointer (&res, sy_test_response_free);

  form = token_form (object_string (cli, "client_id"), object_string (cli, "client_secret"), NULL);
  res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
  cli_token = assert_token_response (res, "admin");
  g_clear_pointer (&res, sy_test_response_free);
  g_clear_pointer (&form, g_free);

  form = token_form (api_id, api_secret, NULL);
  res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
  api_token = assert_token_response (res, "meters:read");
  g_clear_pointer (&res, sy_test_response_free);
  res = post_form (fx->daemon, "/api/oauth/token", NULL, form);
  revoked_token = assert_token_response (res, "meters:read");
  g_clear_pointer (&res, sy_test_response_free);
  g_clear_pointer (&form, g_free);

  form = soup_form_encode ("client_id", api_id, "client_secret", api_secret, "token", revoked_token, NULL);
  res = post_form (fx->daemon, "/api/oauth/revoke", NULL, form);
  g_assert_cmpuint (res->status, ==, 200);
  g_clear_pointer (&res, sy_test_response_free);

  sy_test_daemon_stop (fx->daemon);

  needles[0] = object_string (cli, "client_secret");
  needles[1] = api_secret;
  needles[2] = cli_token;
  needles[3] = api_token;
  needles[4] = revoked_token;
  needles[5] = fx->admin_token;
  needles[6] = NULL;

  g_assert_cmpint (sqlite3_open_v2 (fx->daemon->db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  assert_table_free_of (db, "oauth_clients", needles);
  assert_table_free_of (db, "oauth_tokens", needles);

  /* What is stored instead: a 256-bit hash per secret and per token. */
  {
    sqlite3_stmt *stmt = NULL;
    guint n = 0;

    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT token_hash FROM oauth_tokens", -1, &stmt, NULL), ==, SQLITE_OK);
    while (sqlite3_step (stmt) == SQLITE_ROW)
      {
        g_assert_cmpuint (strlen ((const char *) sqlite3_column_text (stmt, 0)), ==, 64);
        n++;
      }
    sqlite3_finalize (stmt);
    /* admin (fixture), cli, api, api (revoked). */
    g_assert_cmpuint (n, ==, 4);

    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT secret_hash FROM oauth_clients", -1, &stmt, NULL), ==, SQLITE_OK);
    while (sqlite3_step (stmt) == SQLITE_ROW)
      g_assert_cmpuint (strlen ((const char *) sqlite3_column_text (stmt, 0)), ==, 64);
    sqlite3_finalize (stmt);
  }
  sqlite3_close (db);

  /* Nor anywhere else in the files, free pages and WAL included. */
  wal = g_strconcat (fx->daemon->db_path, "-wal", NULL);
  shm = g_strconcat (fx->daemon->db_path, "-shm", NULL);
  assert_file_free_of (fx->daemon->db_path, needles);
  assert_file_free_of (wal, needles);
  assert_file_free_of (shm, needles);
}

int
main (int   argc,
      char *argv[])
{
  static const char * const short_ttl[] = { "--token-ttl", "1", NULL };

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/switchyard/api/auth/" path, AuthFixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("token/basic", test_token_basic);
  ADD ("token/form", test_token_form);
  ADD ("token/wrong-secret", test_token_wrong_secret);
  ADD ("token/grant-type", test_token_grant_type);
  ADD ("token/scope", test_token_scope);
  ADD ("token/revoke", test_revoke);
  ADD ("bearer/required", test_bearer_required);
  ADD ("clients/crud", test_clients_crud);
  ADD ("clients/pagination", test_clients_pagination);
  ADD ("clients/bad-input", test_clients_bad_input);
  ADD ("health", test_health_public);
  ADD ("routing/not-found-and-method", test_not_found_and_method);
  ADD ("db/no-plain-secrets", test_db_stores_no_secrets);
#undef ADD

  g_test_add ("/switchyard/api/auth/token/expiry", AuthFixture, short_ttl,
              fixture_setup, test_token_expiry, fixture_teardown);
  g_test_add_func ("/switchyard/api/auth/create-client-cli", test_create_client_cli);

  return g_test_run ();
}
