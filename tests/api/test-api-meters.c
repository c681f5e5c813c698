/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-api-meters"

#include "config.h"

#include <string.h>

#include "sy-test-util.h"

#define READING "{\"total_power\":1000.5,\"timestamp\":\"2025-10-16T10:00:00Z\"}"

typedef struct
{
  SyTestDaemon *daemon;
  char         *token;     /* admin */
} MetersFixture;

static void
fixture_setup (MetersFixture *fx,
               gconstpointer  data)
{
  fx->daemon = sy_test_daemon_new (NULL);
  sy_test_daemon_start (fx->daemon);
  fx->token = sy_test_daemon_token (fx->daemon, "admin");
}

static void
fixture_teardown (MetersFixture *fx,
                  gconstpointer  data)
{
  sy_test_daemon_free (fx->daemon);
  g_free (fx->token);
}

static const char *
body_text (SyTestResponse *res)
{
  return g_bytes_get_data (res->body, NULL) ? (const char *) g_bytes_get_data (res->body, NULL) : "";
}

static void
assert_status (SyTestResponse *res,
               guint           status,
               const char     *what)
{
  if (res->status != status)
    g_error ("%s: expected %u, got %u: %.*s", what, status, res->status,
             (int) g_bytes_get_size (res->body), body_text (res));
}

static SyTestResponse *
call (MetersFixture *fx,
      const char    *method,
      const char    *path,
      const char    *body)
{
  return sy_test_json (fx->daemon, method, path, fx->token, body);
}

/* Sends the request, asserts @status and returns the JSON object of the answer (a new ref). */
static JsonObject *
call_object (MetersFixture *fx,
             const char    *method,
             const char    *path,
             const char    *body,
             guint          status)
{
  g_autoptr(SyTestResponse) res = call (fx, method, path, body);
  g_autofree char *what = g_strdup_printf ("%s %s %s", method, path, body ? body : "");

  assert_status (res, status, what);
  g_assert_cmpstr (res->content_type, ==, "application/json");

  return json_object_ref (sy_test_response_object (res));
}

/* Asserts a 400 (or @status) problem that names @field, or a field beginning with @field when
 * it ends in '['. */
static void
assert_field_problem (MetersFixture *fx,
                      const char    *method,
                      const char    *path,
                      const char    *body,
                      guint          status,
                      const char    *field)
{
  g_autoptr(SyTestResponse) res = call (fx, method, path, body);
  g_autofree char *what = g_strdup_printf ("%s %s %s", method, path, body ? body : "");
  const char *named;

  assert_status (res, status, what);
  named = sy_test_assert_problem (res, status);
  if (field == NULL)
    return;

  if (named == NULL)
    g_error ("%s: the problem names no field, expected %s", what, field);
  if (g_str_has_suffix (field, "["))
    {
      if (!g_str_has_prefix (named, field))
        g_error ("%s: the problem names %s, expected %s…", what, named, field);
    }
  else if (!g_str_equal (named, field))
    {
      g_error ("%s: the problem names %s, expected %s", what, named, field);
    }
}

static void
assert_problem_status (MetersFixture *fx,
                       const char    *method,
                       const char    *path,
                       const char    *body,
                       guint          status)
{
  assert_field_problem (fx, method, path, body, status, NULL);
}

static gint64
create_site (MetersFixture *fx,
             const char    *name)
{
  g_autofree char *body = g_strdup_printf ("{\"name\":\"%s\",\"timezone\":\"Europe/Berlin\"}", name);
  g_autoptr(JsonObject) obj = call_object (fx, "POST", "/api/energy/sites", body, 201);

  return json_object_get_int_member (obj, "id");
}

/* @extra is more JSON members, e.g. ",\"phases\":1", or "". */
static gint64
create_meter (MetersFixture  *fx,
              gint64          site_id,
              const char     *kind,
              const char     *extra,
              char          **out_key)
{
  g_autofree char *body = g_strdup_printf ("{\"name\":\"%s meter\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"%s\"%s}",
                                           kind, site_id, kind, extra);
  g_autoptr(JsonObject) obj = call_object (fx, "POST", "/api/energy/meters", body, 201);

  if (out_key != NULL)
    *out_key = g_strdup (json_object_get_string_member (obj, "device_key"));

  return json_object_get_int_member (obj, "id");
}

static guint
post_reading (MetersFixture *fx,
              const char    *key,
              const char    *secret,
              const char    *body)
{
  g_autofree char *signature = secret ? sy_test_hmac_hex (secret, body) : NULL;
  const char *headers[] = { "X-Device-Key", key, "X-Signature", signature, NULL };
  g_autoptr(SyTestResponse) res = NULL;

  if (signature == NULL)
    headers[2] = NULL;

  res = sy_test_request (fx->daemon, "POST", "/api/energy/energy-data/", key ? headers : NULL,
                         "application/json", body, -1);
  return res->status;
}

static gint64
count_readings (MetersFixture *fx,
                gint64         meter_id)
{
  g_autofree char *path = g_strdup_printf ("/api/energy/energy-data/?meter_id=%" G_GINT64_FORMAT, meter_id);
  g_autoptr(JsonObject) obj = call_object (fx, "GET", path, NULL, 200);

  return json_object_get_int_member (obj, "count");
}

static gint64
list_count (MetersFixture *fx,
            const char    *path)
{
  g_autoptr(JsonObject) obj = call_object (fx, "GET", path, NULL, 200);

  return json_object_get_int_member (obj, "count");
}

static void
assert_ids (JsonArray    *array,
            const gint64 *ids,
            guint         n_ids)
{
  g_assert_cmpuint (json_array_get_length (array), ==, n_ids);
  for (guint i = 0; i < n_ids; i++)
    g_assert_cmpint (json_array_get_int_element (array, i), ==, ids[i]);
}

static void
assert_result_ids (JsonObject   *page,
                   const gint64 *ids,
                   guint         n_ids)
{
  JsonArray *results = json_object_get_array_member (page, "results");

  g_assert_cmpuint (json_array_get_length (results), ==, n_ids);
  for (guint i = 0; i < n_ids; i++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (results, i), "id"), ==, ids[i]);
}

static void
assert_uuid (const char *text)
{
  g_assert_nonnull (text);
  if (!g_uuid_string_is_valid (text))
    g_error ("\"%s\" is not a UUID", text);
}

static void
test_sites_crud (MetersFixture *fx,
                 gconstpointer  data)
{
  g_autoptr(SyTestResponse) res = NULL;
  g_autoptr(JsonObject) got = NULL;
  g_autoptr(JsonObject) patched = NULL;
  g_autoptr(JsonObject) minimal = NULL;
  g_autofree char *location = NULL;
  g_autofree char *slash = NULL;
  JsonObject *obj;
  gint64 id;

  res = call (fx, "POST", "/api/energy/sites",
              "{\"name\":\"Depot North\",\"timezone\":\"Europe/Berlin\",\"latitude\":52.52,\"longitude\":13.405}");
  assert_status (res, 201, "create site");
  obj = sy_test_response_object (res);
  id = json_object_get_int_member (obj, "id");
  g_assert_cmpint (id, >, 0);
  g_assert_cmpstr (json_object_get_string_member (obj, "name"), ==, "Depot North");
  g_assert_cmpstr (json_object_get_string_member (obj, "timezone"), ==, "Europe/Berlin");
  g_assert_cmpfloat (json_object_get_double_member (obj, "latitude"), ==, 52.52);
  g_assert_cmpfloat (json_object_get_double_member (obj, "longitude"), ==, 13.405);
  location = g_strdup_printf ("/api/energy/sites/%" G_GINT64_FORMAT, id);
  g_assert_cmpstr (soup_message_headers_get_one (res->headers, "Location"), ==, location);

  got = call_object (fx, "GET", location, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (got, "id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (got, "name"), ==, "Depot North");
  g_assert_cmpstr (json_object_get_string_member (got, "timezone"), ==, "Europe/Berlin");
  g_assert_cmpfloat (json_object_get_double_member (got, "latitude"), ==, 52.52);
  g_assert_cmpfloat (json_object_get_double_member (got, "longitude"), ==, 13.405);
  g_clear_pointer (&got, json_object_unref);

  /* A trailing slash is optional. */
  slash = g_strconcat (location, "/", NULL);
  got = call_object (fx, "GET", slash, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (got, "id"), ==, id);

  /* PATCH changes only what it carries. */
  patched = call_object (fx, "PATCH", location, "{\"name\":\"Depot South\"}", 200);
  g_assert_cmpstr (json_object_get_string_member (patched, "name"), ==, "Depot South");
  g_assert_cmpstr (json_object_get_string_member (patched, "timezone"), ==, "Europe/Berlin");
  g_assert_cmpfloat (json_object_get_double_member (patched, "latitude"), ==, 52.52);
  g_clear_pointer (&got, json_object_unref);
  got = call_object (fx, "GET", location, NULL, 200);
  g_assert_cmpstr (json_object_get_string_member (got, "name"), ==, "Depot South");
  g_assert_cmpfloat (json_object_get_double_member (got, "longitude"), ==, 13.405);
  g_clear_pointer (&patched, json_object_unref);
  patched = call_object (fx, "PATCH", slash, "{\"timezone\":\"UTC\",\"latitude\":null}", 200);
  g_assert_cmpstr (json_object_get_string_member (patched, "name"), ==, "Depot South");
  g_assert_cmpstr (json_object_get_string_member (patched, "timezone"), ==, "UTC");
  g_assert_true (json_object_get_null_member (patched, "latitude"));
  g_assert_cmpfloat (json_object_get_double_member (patched, "longitude"), ==, 13.405);

  /* Only the name is required; POST with a trailing slash. */
  minimal = call_object (fx, "POST", "/api/energy/sites/", "{\"name\":\"Bare\"}", 201);
  g_assert_cmpstr (json_object_get_string_member (minimal, "timezone"), ==, "UTC");
  g_assert_true (json_object_get_null_member (minimal, "latitude"));
  g_assert_true (json_object_get_null_member (minimal, "longitude"));

  g_assert_cmpint (list_count (fx, "/api/energy/sites"), ==, 2);
  g_assert_cmpint (list_count (fx, "/api/energy/sites/"), ==, 2);

  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "DELETE", location, NULL);
  assert_status (res, 204, "delete site");
  g_assert_cmpuint (g_bytes_get_size (res->body), ==, 0);
  assert_problem_status (fx, "GET", location, NULL, 404);
  assert_problem_status (fx, "DELETE", location, NULL, 404);
  assert_problem_status (fx, "PATCH", location, "{\"name\":\"Ghost\"}", 404);
  g_assert_cmpint (list_count (fx, "/api/energy/sites"), ==, 1);
}

static void
test_sites_validation (MetersFixture *fx,
                       gconstpointer  data)
{
  static const struct
  {
    const char *body;
    const char *field;
  } cases[] = {
    { "{\"timezone\":\"UTC\"}", "name" },
    { "{\"name\":\"\"}", "name" },
    { "{\"name\":7}", "name" },
    { "{\"name\":\"x\",\"timezone\":\"Mars/Olympus_Mons\"}", "timezone" },
    { "{\"name\":\"x\",\"timezone\":5}", "timezone" },
    { "{\"name\":\"x\",\"latitude\":90.5}", "latitude" },
    { "{\"name\":\"x\",\"latitude\":\"52\"}", "latitude" },
    { "{\"name\":\"x\",\"longitude\":-180.01}", "longitude" },
    { "{\"name\":\"x\",\"owner\":\"me\"}", "owner" },
    { "{\"name\":\"x\",\"id\":5}", "id" },
    { "{\"name\":\"x\"", "body" },
    { "[{\"name\":\"x\"}]", "body" },
    { "", "body" },
  };
  g_autofree char *long_name = NULL;
  g_autofree char *long_body = NULL;
  g_autofree char *path = NULL;
  gint64 id;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_field_problem (fx, "POST", "/api/energy/sites", cases[i].body, 400, cases[i].field);

  long_name = g_strnfill (201, 'n');
  long_body = g_strdup_printf ("{\"name\":\"%s\"}", long_name);
  assert_field_problem (fx, "POST", "/api/energy/sites", long_body, 400, "name");

  /* Nothing was created by any of them. */
  g_assert_cmpint (list_count (fx, "/api/energy/sites"), ==, 0);

  /* The same rules on PATCH, which leaves the site alone. */
  id = create_site (fx, "Valid");
  path = g_strdup_printf ("/api/energy/sites/%" G_GINT64_FORMAT, id);
  assert_field_problem (fx, "PATCH", path, "{\"latitude\":-91}", 400, "latitude");
  assert_field_problem (fx, "PATCH", path, "{\"name\":\"\"}", 400, "name");
  assert_field_problem (fx, "PATCH", path, "{\"name\":null}", 400, "name");
  assert_field_problem (fx, "PATCH", path, "{\"colour\":\"red\"}", 400, "colour");
  {
    g_autoptr(JsonObject) got = call_object (fx, "GET", path, NULL, 200);

    g_assert_cmpstr (json_object_get_string_member (got, "name"), ==, "Valid");
    g_assert_true (json_object_get_null_member (got, "latitude"));
  }
}

static void
test_meters_create (MetersFixture *fx,
                    gconstpointer  data)
{
  const char *secret = "0123456789abcdef-secret";
  gint64 site = create_site (fx, "Site");
  g_autoptr(SyTestResponse) res = NULL;
  g_autoptr(JsonObject) got = NULL;
  g_autoptr(JsonObject) list = NULL;
  g_autofree char *key = NULL;
  g_autofree char *location = NULL;
  g_autofree char *body = NULL;
  g_autofree char *signed_key = NULL;
  JsonObject *obj;
  gint64 id;
  gint64 signed_id;

  body = g_strdup_printf ("{\"name\":\"Grid\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\","
                          "\"phases\":1,\"nominal_voltage\":240}", site);
  res = call (fx, "POST", "/api/energy/meters", body);
  assert_status (res, 201, "create meter");
  obj = sy_test_response_object (res);
  id = json_object_get_int_member (obj, "id");
  key = g_strdup (json_object_get_string_member (obj, "device_key"));
  assert_uuid (key);
  g_assert_cmpstr (json_object_get_string_member (obj, "name"), ==, "Grid");
  g_assert_cmpint (json_object_get_int_member (obj, "site_id"), ==, site);
  g_assert_cmpstr (json_object_get_string_member (obj, "kind"), ==, "grid");
  g_assert_cmpint (json_object_get_int_member (obj, "phases"), ==, 1);
  g_assert_cmpfloat (json_object_get_double_member (obj, "nominal_voltage"), ==, 240);
  g_assert_false (json_object_get_boolean_member (obj, "has_hmac_secret"));
  g_assert_false (json_object_get_boolean_member (obj, "require_signature"));
  g_assert_false (json_object_has_member (obj, "hmac_secret"));
  location = g_strdup_printf ("/api/energy/meters/%" G_GINT64_FORMAT, id);
  g_assert_cmpstr (soup_message_headers_get_one (res->headers, "Location"), ==, location);

  /* The key works for ingestion at once... */
  g_assert_cmpuint (post_reading (fx, key, NULL, READING), ==, 201);
  g_assert_cmpint (count_readings (fx, id), ==, 1);

  /* ...and is never shown again. */
  got = call_object (fx, "GET", location, NULL, 200);
  g_assert_false (json_object_has_member (got, "device_key"));
  g_assert_cmpstr (json_object_get_string_member (got, "kind"), ==, "grid");
  g_assert_cmpint (json_object_get_int_member (got, "phases"), ==, 1);
  list = call_object (fx, "GET", "/api/energy/meters", NULL, 200);
  {
    JsonArray *results = json_object_get_array_member (list, "results");

    g_assert_cmpuint (json_array_get_length (results), ==, 1);
    g_assert_false (json_object_has_member (json_array_get_object_element (results, 0), "device_key"));
  }
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "GET", "/api/energy/meters", NULL);
  g_assert_null (strstr (body_text (res), key));

  /* Defaults: three phases at 230 V. */
  g_clear_pointer (&body, g_free);
  g_clear_pointer (&got, json_object_unref);
  body = g_strdup_printf ("{\"name\":\"Roof\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"pv\"}", site);
  got = call_object (fx, "POST", "/api/energy/meters/", body, 201);
  g_assert_cmpint (json_object_get_int_member (got, "phases"), ==, 3);
  g_assert_cmpfloat (json_object_get_double_member (got, "nominal_voltage"), ==, 230);

  /* Each kind is accepted. */
  {
    static const char * const kinds[] = { "battery", "ev_charger", "load", "submeter" };

    for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
      create_meter (fx, site, kinds[i], "", NULL);
  }

  /* With a secret: has_hmac_secret, never the secret itself. */
  g_clear_pointer (&body, g_free);
  g_clear_pointer (&res, sy_test_response_free);
  body = g_strdup_printf ("{\"name\":\"Signed\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"load\","
                          "\"hmac_secret\":\"%s\",\"require_signature\":true}", site, secret);
  res = call (fx, "POST", "/api/energy/meters", body);
  assert_status (res, 201, "create signed meter");
  obj = sy_test_response_object (res);
  signed_id = json_object_get_int_member (obj, "id");
  signed_key = g_strdup (json_object_get_string_member (obj, "device_key"));
  g_assert_true (json_object_get_boolean_member (obj, "has_hmac_secret"));
  g_assert_true (json_object_get_boolean_member (obj, "require_signature"));
  g_assert_false (json_object_has_member (obj, "hmac_secret"));
  g_assert_null (strstr (body_text (res), secret));
  g_clear_pointer (&location, g_free);
  location = g_strdup_printf ("/api/energy/meters/%" G_GINT64_FORMAT, signed_id);
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "GET", location, NULL);
  assert_status (res, 200, "get signed meter");
  g_assert_true (json_object_get_boolean_member (sy_test_response_object (res), "has_hmac_secret"));
  g_assert_false (json_object_has_member (sy_test_response_object (res), "hmac_secret"));
  g_assert_null (strstr (body_text (res), secret));
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "GET", "/api/energy/meters?limit=100", NULL);
  g_assert_null (strstr (body_text (res), secret));

  g_assert_cmpuint (post_reading (fx, signed_key, NULL, READING), ==, 401);
  g_assert_cmpuint (post_reading (fx, signed_key, secret, READING), ==, 201);

  /* Secrets of exactly 16 and 256 bytes are fine. */
  {
    g_autofree char *s16 = g_strnfill (16, 's');
    g_autofree char *s256 = g_strnfill (256, 's');
    g_autofree char *extra16 = g_strdup_printf (",\"hmac_secret\":\"%s\"", s16);
    g_autofree char *extra256 = g_strdup_printf (",\"hmac_secret\":\"%s\"", s256);

    create_meter (fx, site, "load", extra16, NULL);
    create_meter (fx, site, "load", extra256, NULL);
  }

  g_assert_cmpint (list_count (fx, "/api/energy/meters"), ==, 9);
}

static void
test_meters_validation (MetersFixture *fx,
                        gconstpointer  data)
{
  gint64 site = create_site (fx, "Site");
  g_autofree char *s15 = g_strnfill (15, 's');
  g_autofree char *s257 = g_strnfill (257, 's');
  g_autofree char *path = NULL;
  gint64 meter;
  struct
  {
    char       *body;
    const char *field;
  } cases[] = {
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"nuclear\"}", site), "kind" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"GRID\"}", site), "kind" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":3}", site), "kind" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT "}", site), "kind" },
    { g_strdup ("{\"name\":\"m\",\"site_id\":424242,\"kind\":\"grid\"}"), "site_id" },
    { g_strdup ("{\"name\":\"m\",\"kind\":\"grid\"}"), "site_id" },
    { g_strdup ("{\"name\":\"m\",\"site_id\":\"1\",\"kind\":\"grid\"}"), "site_id" },
    { g_strdup ("{\"name\":\"m\",\"site_id\":-1,\"kind\":\"grid\"}"), "site_id" },
    { g_strdup_printf ("{\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\"}", site), "name" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\",\"phases\":2}", site), "phases" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\",\"phases\":\"3\"}", site), "phases" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\",\"nominal_voltage\":0}", site),
      "nominal_voltage" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\",\"nominal_voltage\":-230}", site),
      "nominal_voltage" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\",\"hmac_secret\":\"%s\"}", site, s15),
      "hmac_secret" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\",\"hmac_secret\":\"%s\"}", site, s257),
      "hmac_secret" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\",\"hmac_secret\":12345678901234567}", site),
      "hmac_secret" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\",\"require_signature\":true}", site),
      "require_signature" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\",\"require_signature\":\"yes\"}", site),
      "require_signature" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\",\"serial\":\"X1\"}", site), "serial" },
    { g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\",\"device_key\":\"mine\"}", site),
      "device_key" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      assert_field_problem (fx, "POST", "/api/energy/meters", cases[i].body, 400, cases[i].field);
      g_free (cases[i].body);
    }

  /* None of them was created. */
  g_assert_cmpint (list_count (fx, "/api/energy/meters"), ==, 0);

  /* PATCH refuses the same, and leaves the meter as it was. */
  meter = create_meter (fx, site, "load", "", NULL);
  path = g_strdup_printf ("/api/energy/meters/%" G_GINT64_FORMAT, meter);
  assert_field_problem (fx, "PATCH", path, "{\"kind\":\"bogus\"}", 400, "kind");
  assert_field_problem (fx, "PATCH", path, "{\"site_id\":424242}", 400, "site_id");
  assert_field_problem (fx, "PATCH", path, "{\"phases\":0}", 400, "phases");
  assert_field_problem (fx, "PATCH", path, "{\"require_signature\":true}", 400, "require_signature");
  assert_field_problem (fx, "PATCH", path, "{\"name\":\"ok\",\"manufacturer\":\"ACME\"}", 400, "manufacturer");
  {
    g_autoptr(JsonObject) got = call_object (fx, "GET", path, NULL, 200);

    g_assert_cmpstr (json_object_get_string_member (got, "name"), ==, "load meter");
    g_assert_cmpstr (json_object_get_string_member (got, "kind"), ==, "load");
    g_assert_cmpint (json_object_get_int_member (got, "site_id"), ==, site);
    g_assert_false (json_object_get_boolean_member (got, "require_signature"));
  }
}

static void
test_meters_patch (MetersFixture *fx,
                   gconstpointer  data)
{
  const char *secret = "patch-secret-0123456789";
  gint64 site = create_site (fx, "Site");
  gint64 other_site = create_site (fx, "Other");
  g_autofree char *key = NULL;
  g_autofree char *path = NULL;
  g_autofree char *body = NULL;
  g_autoptr(JsonObject) obj = NULL;
  gint64 meter;

  meter = create_meter (fx, site, "load", ",\"phases\":1", &key);
  path = g_strdup_printf ("/api/energy/meters/%" G_GINT64_FORMAT, meter);

  obj = call_object (fx, "PATCH", path, "{\"name\":\"Renamed\"}", 200);
  g_assert_cmpstr (json_object_get_string_member (obj, "name"), ==, "Renamed");
  g_assert_cmpstr (json_object_get_string_member (obj, "kind"), ==, "load");
  g_assert_cmpint (json_object_get_int_member (obj, "phases"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (obj, "site_id"), ==, site);
  g_assert_false (json_object_has_member (obj, "device_key"));
  g_clear_pointer (&obj, json_object_unref);

  body = g_strdup_printf ("{\"kind\":\"submeter\",\"site_id\":%" G_GINT64_FORMAT ",\"nominal_voltage\":400}", other_site);
  obj = call_object (fx, "PATCH", path, body, 200);
  g_assert_cmpstr (json_object_get_string_member (obj, "name"), ==, "Renamed");
  g_assert_cmpstr (json_object_get_string_member (obj, "kind"), ==, "submeter");
  g_assert_cmpint (json_object_get_int_member (obj, "site_id"), ==, other_site);
  g_assert_cmpfloat (json_object_get_double_member (obj, "nominal_voltage"), ==, 400);
  g_assert_cmpint (json_object_get_int_member (obj, "phases"), ==, 1);
  g_clear_pointer (&obj, json_object_unref);

  /* The key is the same after a PATCH. */
  g_assert_cmpuint (post_reading (fx, key, NULL, READING), ==, 201);

  /* Adding a secret and requiring it takes effect on ingestion at once. */
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"hmac_secret\":\"%s\",\"require_signature\":true}", secret);
  obj = call_object (fx, "PATCH", path, body, 200);
  g_assert_true (json_object_get_boolean_member (obj, "has_hmac_secret"));
  g_assert_true (json_object_get_boolean_member (obj, "require_signature"));
  g_assert_false (json_object_has_member (obj, "hmac_secret"));
  g_clear_pointer (&obj, json_object_unref);
  g_assert_cmpuint (post_reading (fx, key, NULL, "{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:01Z\"}"), ==, 401);
  g_assert_cmpuint (post_reading (fx, key, secret, "{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:01Z\"}"), ==, 201);

  /* The secret cannot go while a signature is required... */
  assert_field_problem (fx, "PATCH", path, "{\"hmac_secret\":null}", 400, "require_signature");
  /* ...but both together is fine, and unsigned readings are accepted again. */
  obj = call_object (fx, "PATCH", path, "{\"hmac_secret\":null,\"require_signature\":false}", 200);
  g_assert_false (json_object_get_boolean_member (obj, "has_hmac_secret"));
  g_assert_false (json_object_get_boolean_member (obj, "require_signature"));
  g_clear_pointer (&obj, json_object_unref);
  g_assert_cmpuint (post_reading (fx, key, NULL, "{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:02Z\"}"), ==, 201);

  g_assert_cmpint (count_readings (fx, meter), ==, 3);

  /* An empty PATCH changes nothing. */
  obj = call_object (fx, "PATCH", path, "{}", 200);
  g_assert_cmpstr (json_object_get_string_member (obj, "name"), ==, "Renamed");
}

static void
test_meters_rotate_key (MetersFixture *fx,
                        gconstpointer  data)
{
  gint64 site = create_site (fx, "Site");
  g_autofree char *old_key = NULL;
  g_autofree char *new_key = NULL;
  g_autofree char *path = NULL;
  g_autofree char *slash = NULL;
  g_autoptr(SyTestResponse) res = NULL;
  JsonObject *obj;
  gint64 meter;

  meter = create_meter (fx, site, "grid", "", &old_key);
  g_assert_cmpuint (post_reading (fx, old_key, NULL, READING), ==, 201);

  path = g_strdup_printf ("/api/energy/meters/%" G_GINT64_FORMAT "/rotate_key", meter);
  res = call (fx, "POST", path, NULL);
  assert_status (res, 200, "rotate");
  g_assert_cmpstr (soup_message_headers_get_one (res->headers, "Cache-Control"), ==, "no-store");
  obj = sy_test_response_object (res);
  g_assert_cmpint (json_object_get_int_member (obj, "id"), ==, meter);
  new_key = g_strdup (json_object_get_string_member (obj, "device_key"));
  assert_uuid (new_key);
  g_assert_cmpstr (new_key, !=, old_key);

  /* The old key is dead at once; the new one works. */
  g_assert_cmpuint (post_reading (fx, old_key, NULL, "{\"total_power\":2,\"timestamp\":\"2025-10-16T10:00:01Z\"}"), ==, 401);
  g_assert_cmpuint (post_reading (fx, new_key, NULL, "{\"total_power\":2,\"timestamp\":\"2025-10-16T10:00:01Z\"}"), ==, 201);
  g_assert_cmpint (count_readings (fx, meter), ==, 2);

  /* Rotating again with a trailing slash kills the second key too. */
  slash = g_strconcat (path, "/", NULL);
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "POST", slash, NULL);
  assert_status (res, 200, "rotate again");
  g_assert_cmpstr (json_object_get_string_member (sy_test_response_object (res), "device_key"), !=, new_key);
  g_assert_cmpuint (post_reading (fx, new_key, NULL, "{\"total_power\":3,\"timestamp\":\"2025-10-16T10:00:02Z\"}"), ==, 401);

  assert_problem_status (fx, "POST", "/api/energy/meters/999999/rotate_key", NULL, 404);
  assert_problem_status (fx, "GET", path, NULL, 405);
}

static void
test_meters_list (MetersFixture *fx,
                  gconstpointer  data)
{
  gint64 s1 = create_site (fx, "One");
  gint64 s2 = create_site (fx, "Two");
  gint64 m[5];
  g_autofree char *path = NULL;
  g_autofree char *group_body = NULL;
  g_autoptr(JsonObject) page = NULL;
  g_autoptr(JsonObject) group = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  const char *next;

  m[0] = create_meter (fx, s1, "grid", "", NULL);
  m[1] = create_meter (fx, s1, "pv", "", NULL);
  m[2] = create_meter (fx, s1, "load", "", NULL);
  m[3] = create_meter (fx, s2, "pv", "", NULL);
  m[4] = create_meter (fx, s2, "battery", "", NULL);

  group_body = g_strdup_printf ("{\"name\":\"Mixed\",\"meter_ids\":[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "]}",
                                m[4], m[0]);
  group = call_object (fx, "POST", "/api/energy/groups", group_body, 201);

  page = call_object (fx, "GET", "/api/energy/meters", NULL, 200);
  g_assert_cmpint (json_object_get_int_member (page, "count"), ==, 5);
  g_assert_true (json_object_get_null_member (page, "next"));
  g_assert_true (json_object_get_null_member (page, "previous"));
  assert_result_ids (page, m, 5);
  g_clear_pointer (&page, json_object_unref);

#define CHECK_FILTER(query, ...) \
  G_STMT_START { \
    const gint64 expected[] = { __VA_ARGS__ }; \
    g_autofree char *p = g_strdup_printf ("/api/energy/meters/?%s", query); \
    g_autoptr(JsonObject) filtered = call_object (fx, "GET", p, NULL, 200); \
    g_assert_cmpint (json_object_get_int_member (filtered, "count"), ==, G_N_ELEMENTS (expected)); \
    assert_result_ids (filtered, expected, G_N_ELEMENTS (expected)); \
  } G_STMT_END

  {
    g_autofree char *q1 = g_strdup_printf ("site_id=%" G_GINT64_FORMAT, s1);
    g_autofree char *q2 = g_strdup_printf ("site_id=%" G_GINT64_FORMAT "&kind=pv", s2);
    g_autofree char *q3 = g_strdup_printf ("group_id=%" G_GINT64_FORMAT, json_object_get_int_member (group, "id"));
    g_autofree char *q4 = g_strdup_printf ("group_id=%" G_GINT64_FORMAT "&site_id=%" G_GINT64_FORMAT,
                                           json_object_get_int_member (group, "id"), s2);

    CHECK_FILTER (q1, m[0], m[1], m[2]);
    CHECK_FILTER ("kind=pv", m[1], m[3]);
    CHECK_FILTER (q2, m[3]);
    CHECK_FILTER (q3, m[0], m[4]);
    CHECK_FILTER (q4, m[4]);
  }
  g_assert_cmpint (list_count (fx, "/api/energy/meters?kind=ev_charger"), ==, 0);
#undef CHECK_FILTER

  /* Pages of two: walk the next links and see every meter once. */
  page = call_object (fx, "GET", "/api/energy/meters?limit=2", NULL, 200);
  g_assert_cmpint (json_object_get_int_member (page, "count"), ==, 5);
  g_assert_true (json_object_get_null_member (page, "previous"));
  for (guint n_pages = 1; ; n_pages++)
    {
      JsonArray *results = json_object_get_array_member (page, "results");

      g_assert_cmpuint (json_array_get_length (results), ==, n_pages < 3 ? 2 : 1);
      if (n_pages > 1)
        g_assert_false (json_object_get_null_member (page, "previous"));
      for (guint i = 0; i < json_array_get_length (results); i++)
        {
          gint64 id = json_object_get_int_member (json_array_get_object_element (results, i), "id");

          g_assert_false (g_hash_table_contains (seen, &id));
          g_hash_table_add (seen, g_memdup2 (&id, sizeof id));
        }

      if (json_object_get_null_member (page, "next"))
        {
          g_assert_cmpuint (n_pages, ==, 3);
          break;
        }
      g_assert_cmpuint (n_pages, <, 3);

      /* The link is a path with its query, relative to the server. */
      next = json_object_get_string_member (page, "next");
      g_assert_true (g_str_has_prefix (next, "/api/energy/meters"));
      g_assert_nonnull (strstr (next, "limit=2"));
      path = g_strdup (next);
      g_clear_pointer (&page, json_object_unref);
      page = call_object (fx, "GET", path, NULL, 200);
      g_clear_pointer (&path, g_free);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 5);
  g_clear_pointer (&page, json_object_unref);

  /* An offset beyond the end is an empty page, not an error. */
  page = call_object (fx, "GET", "/api/energy/meters?offset=10", NULL, 200);
  g_assert_cmpint (json_object_get_int_member (page, "count"), ==, 5);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (page, "results")), ==, 0);

  assert_field_problem (fx, "GET", "/api/energy/meters?kind=nuclear", NULL, 400, "kind");
  assert_field_problem (fx, "GET", "/api/energy/meters?site_id=abc", NULL, 400, "site_id");
  assert_field_problem (fx, "GET", "/api/energy/meters?group_id=-1", NULL, 400, "group_id");
  assert_field_problem (fx, "GET", "/api/energy/meters?limit=0", NULL, 400, "limit");
  assert_field_problem (fx, "GET", "/api/energy/meters?limit=1001", NULL, 400, "limit");
  assert_field_problem (fx, "GET", "/api/energy/meters?offset=-1", NULL, 400, "offset");
}

static void
test_meters_delete (MetersFixture *fx,
                    gconstpointer  data)
{
  gint64 site = create_site (fx, "Site");
  g_autofree char *empty_key = NULL;
  g_autofree char *busy_key = NULL;
  g_autofree char *empty_path = NULL;
  g_autofree char *busy_path = NULL;
  g_autofree char *purge_path = NULL;
  g_autofree char *site_path = NULL;
  g_autofree char *readings_path = NULL;
  g_autoptr(SyTestResponse) res = NULL;
  gint64 empty;
  gint64 busy;

  empty = create_meter (fx, site, "load", "", &empty_key);
  busy = create_meter (fx, site, "grid", "", &busy_key);
  empty_path = g_strdup_printf ("/api/energy/meters/%" G_GINT64_FORMAT, empty);
  busy_path = g_strdup_printf ("/api/energy/meters/%" G_GINT64_FORMAT, busy);
  site_path = g_strdup_printf ("/api/energy/sites/%" G_GINT64_FORMAT, site);

  g_assert_cmpuint (post_reading (fx, busy_key, NULL, READING), ==, 201);

  /* A site with meters stays. */
  assert_problem_status (fx, "DELETE", site_path, NULL, 409);
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "GET", site_path, NULL);
  assert_status (res, 200, "site after refused delete");

  /* A meter without readings goes, and its key with it. */
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "DELETE", empty_path, NULL);
  assert_status (res, 204, "delete empty meter");
  g_assert_cmpuint (g_bytes_get_size (res->body), ==, 0);
  assert_problem_status (fx, "GET", empty_path, NULL, 404);
  g_assert_cmpuint (post_reading (fx, empty_key, NULL, READING), ==, 401);

  /* A meter with readings needs ?purge=true. */
  assert_problem_status (fx, "DELETE", busy_path, NULL, 409);
  g_assert_cmpint (count_readings (fx, busy), ==, 1);
  g_assert_cmpuint (post_reading (fx, busy_key, NULL, "{\"total_power\":5,\"timestamp\":\"2025-10-16T10:00:05Z\"}"), ==, 201);
  purge_path = g_strconcat (busy_path, "?purge=false", NULL);
  assert_problem_status (fx, "DELETE", purge_path, NULL, 409);
  g_clear_pointer (&purge_path, g_free);
  purge_path = g_strconcat (busy_path, "?purge=perhaps", NULL);
  assert_field_problem (fx, "DELETE", purge_path, NULL, 400, "purge");
  g_assert_cmpint (count_readings (fx, busy), ==, 2);

  g_clear_pointer (&purge_path, g_free);
  purge_path = g_strconcat (busy_path, "/?purge=true", NULL);
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "DELETE", purge_path, NULL);
  assert_status (res, 204, "purge meter");
  assert_problem_status (fx, "GET", busy_path, NULL, 404);
  g_assert_cmpuint (post_reading (fx, busy_key, NULL, READING), ==, 401);
  readings_path = g_strdup_printf ("/api/energy/energy-data?meter_id=%" G_GINT64_FORMAT, busy);
  assert_problem_status (fx, "GET", readings_path, NULL, 404);

  /* Now the site is empty and goes. */
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "DELETE", site_path, NULL);
  assert_status (res, 204, "delete empty site");

  /* A new meter does not inherit the purged one's readings, even if it reuses its id. */
  {
    gint64 fresh_site = create_site (fx, "Fresh");
    gint64 fresh = create_meter (fx, fresh_site, "grid", "", NULL);

    g_assert_cmpint (count_readings (fx, fresh), ==, 0);
  }
}

static void
test_groups_crud (MetersFixture *fx,
                  gconstpointer  data)
{
  gint64 s1 = create_site (fx, "One");
  gint64 s2 = create_site (fx, "Two");
  gint64 m1 = create_meter (fx, s1, "grid", "", NULL);
  gint64 m2 = create_meter (fx, s1, "pv", "", NULL);
  gint64 m3 = create_meter (fx, s1, "load", "", NULL);
  g_autofree char *body = NULL;
  g_autofree char *path = NULL;
  g_autofree char *meter_path = NULL;
  g_autofree char *location = NULL;
  g_autoptr(SyTestResponse) res = NULL;
  g_autoptr(JsonObject) obj = NULL;
  gint64 group;

  /* Unsorted and repeated ids come back sorted and unique. */
  body = g_strdup_printf ("{\"name\":\"Production\",\"site_id\":%" G_GINT64_FORMAT ","
                          "\"meter_ids\":[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "]}",
                          s1, m2, m1, m2);
  res = call (fx, "POST", "/api/energy/groups", body);
  assert_status (res, 201, "create group");
  group = json_object_get_int_member (sy_test_response_object (res), "id");
  location = g_strdup_printf ("/api/energy/groups/%" G_GINT64_FORMAT, group);
  g_assert_cmpstr (soup_message_headers_get_one (res->headers, "Location"), ==, location);
  {
    const gint64 ids[] = { m1, m2 };
    JsonObject *created = sy_test_response_object (res);

    g_assert_cmpstr (json_object_get_string_member (created, "name"), ==, "Production");
    g_assert_cmpint (json_object_get_int_member (created, "site_id"), ==, s1);
    assert_ids (json_object_get_array_member (created, "meter_ids"), ids, 2);
  }

  path = g_strconcat (location, "/", NULL);
  obj = call_object (fx, "GET", path, NULL, 200);
  {
    const gint64 ids[] = { m1, m2 };

    assert_ids (json_object_get_array_member (obj, "meter_ids"), ids, 2);
  }
  g_clear_pointer (&obj, json_object_unref);

  /* The meter knows its groups. */
  meter_path = g_strdup_printf ("/api/energy/meters/%" G_GINT64_FORMAT, m1);
  obj = call_object (fx, "GET", meter_path, NULL, 200);
  {
    const gint64 ids[] = { group };

    assert_ids (json_object_get_array_member (obj, "group_ids"), ids, 1);
  }
  g_clear_pointer (&obj, json_object_unref);

  /* PATCH replaces the membership, or only the name. */
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"meter_ids\":[%" G_GINT64_FORMAT "]}", m3);
  obj = call_object (fx, "PATCH", location, body, 200);
  {
    const gint64 ids[] = { m3 };

    g_assert_cmpstr (json_object_get_string_member (obj, "name"), ==, "Production");
    assert_ids (json_object_get_array_member (obj, "meter_ids"), ids, 1);
  }
  g_clear_pointer (&obj, json_object_unref);
  obj = call_object (fx, "PATCH", location, "{\"name\":\"Loads\"}", 200);
  {
    const gint64 ids[] = { m3 };

    g_assert_cmpstr (json_object_get_string_member (obj, "name"), ==, "Loads");
    assert_ids (json_object_get_array_member (obj, "meter_ids"), ids, 1);
  }
  g_clear_pointer (&obj, json_object_unref);

  /* Bad members, bad site, unknown fields: nothing changes. */
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"meter_ids\":[%" G_GINT64_FORMAT ",987654]}", m1);
  assert_field_problem (fx, "PATCH", location, body, 400, "meter_ids[");
  assert_field_problem (fx, "PATCH", location, "{\"meter_ids\":\"1,2\"}", 400, "meter_ids");
  assert_field_problem (fx, "PATCH", location, "{\"meter_ids\":[\"1\"]}", 400, "meter_ids[");
  assert_field_problem (fx, "PATCH", location, "{\"site_id\":987654}", 400, "site_id");
  assert_field_problem (fx, "PATCH", location, "{\"kind\":\"pv\"}", 400, "kind");
  obj = call_object (fx, "GET", location, NULL, 200);
  {
    const gint64 ids[] = { m3 };

    assert_ids (json_object_get_array_member (obj, "meter_ids"), ids, 1);
    g_assert_cmpint (json_object_get_int_member (obj, "site_id"), ==, s1);
  }
  g_clear_pointer (&obj, json_object_unref);

  /* A group needs a name, no meters, and may span no site. */
  assert_field_problem (fx, "POST", "/api/energy/groups", "{\"meter_ids\":[]}", 400, "name");
  assert_field_problem (fx, "POST", "/api/energy/groups", "{\"name\":\"g\",\"meter_ids\":[987654]}", 400, "meter_ids[");
  assert_field_problem (fx, "POST", "/api/energy/groups", "{\"name\":\"g\",\"site_id\":987654}", 400, "site_id");
  obj = call_object (fx, "POST", "/api/energy/groups/", "{\"name\":\"Empty\",\"site_id\":null}", 201);
  g_assert_true (json_object_get_null_member (obj, "site_id"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj, "meter_ids")), ==, 0);
  g_clear_pointer (&obj, json_object_unref);
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"name\":\"Second site\",\"site_id\":%" G_GINT64_FORMAT "}", s2);
  obj = call_object (fx, "POST", "/api/energy/groups", body, 201);
  g_clear_pointer (&obj, json_object_unref);

  g_assert_cmpint (list_count (fx, "/api/energy/groups"), ==, 3);
  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/api/energy/groups?site_id=%" G_GINT64_FORMAT, s2);
  g_assert_cmpint (list_count (fx, path), ==, 1);

  /* Deleting a group leaves its meters. */
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "DELETE", location, NULL);
  assert_status (res, 204, "delete group");
  assert_problem_status (fx, "GET", location, NULL, 404);
  g_assert_cmpint (list_count (fx, "/api/energy/meters"), ==, 3);
  g_assert_cmpint (list_count (fx, "/api/energy/groups"), ==, 2);
}

static void
test_devices_crud (MetersFixture *fx,
                   gconstpointer  data)
{
  const char *secret = "gateway-secret-0123456789";
  gint64 site = create_site (fx, "Site");
  gint64 m1 = create_meter (fx, site, "ev_charger", "", NULL);
  gint64 m2 = create_meter (fx, site, "ev_charger", "", NULL);
  g_autofree char *body = NULL;
  g_autofree char *key = NULL;
  g_autofree char *new_key = NULL;
  g_autofree char *location = NULL;
  g_autofree char *rotate = NULL;
  g_autofree char *r1 = NULL;
  g_autofree char *r2 = NULL;
  g_autoptr(SyTestResponse) res = NULL;
  g_autoptr(JsonObject) obj = NULL;
  JsonObject *created;
  gint64 device;

  body = g_strdup_printf ("{\"name\":\"Charger gateway\",\"meter_ids\":[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "],"
                          "\"hmac_secret\":\"%s\",\"require_signature\":true}", m2, m1, secret);
  res = call (fx, "POST", "/api/energy/devices", body);
  assert_status (res, 201, "create device");
  created = sy_test_response_object (res);
  device = json_object_get_int_member (created, "id");
  key = g_strdup (json_object_get_string_member (created, "device_key"));
  assert_uuid (key);
  g_assert_cmpstr (json_object_get_string_member (created, "name"), ==, "Charger gateway");
  g_assert_true (json_object_get_boolean_member (created, "has_hmac_secret"));
  g_assert_true (json_object_get_boolean_member (created, "require_signature"));
  g_assert_false (json_object_has_member (created, "hmac_secret"));
  g_assert_null (strstr (body_text (res), secret));
  {
    const gint64 ids[] = { m1, m2 };

    assert_ids (json_object_get_array_member (created, "meter_ids"), ids, 2);
  }
  location = g_strdup_printf ("/api/energy/devices/%" G_GINT64_FORMAT, device);
  g_assert_cmpstr (soup_message_headers_get_one (res->headers, "Location"), ==, location);

  obj = call_object (fx, "GET", location, NULL, 200);
  g_assert_false (json_object_has_member (obj, "device_key"));
  g_assert_false (json_object_has_member (obj, "hmac_secret"));
  g_clear_pointer (&obj, json_object_unref);
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "GET", "/api/energy/devices/", NULL);
  assert_status (res, 200, "list devices");
  g_assert_cmpint (json_object_get_int_member (sy_test_response_object (res), "count"), ==, 1);
  g_assert_null (strstr (body_text (res), key));
  g_assert_null (strstr (body_text (res), secret));

  /* The gateway's key posts for both meters, signed. */
  r1 = g_strdup_printf ("{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":11000,\"timestamp\":\"2025-10-16T10:00:00Z\"}", m1);
  r2 = g_strdup_printf ("{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":7400,\"timestamp\":\"2025-10-16T10:00:00Z\"}", m2);
  g_assert_cmpuint (post_reading (fx, key, NULL, r1), ==, 401);
  g_assert_cmpuint (post_reading (fx, key, secret, r1), ==, 201);
  g_assert_cmpuint (post_reading (fx, key, secret, r2), ==, 201);
  g_assert_cmpint (count_readings (fx, m1), ==, 1);
  g_assert_cmpint (count_readings (fx, m2), ==, 1);

  /* Narrowing its meters takes effect on ingestion. */
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"meter_ids\":[%" G_GINT64_FORMAT "],\"name\":\"Narrow\"}", m2);
  obj = call_object (fx, "PATCH", location, body, 200);
  g_assert_cmpstr (json_object_get_string_member (obj, "name"), ==, "Narrow");
  g_assert_true (json_object_get_boolean_member (obj, "require_signature"));
  g_clear_pointer (&obj, json_object_unref);
  g_clear_pointer (&r1, g_free);
  r1 = g_strdup_printf ("{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:01Z\"}", m1);
  g_assert_cmpuint (post_reading (fx, key, secret, r1), ==, 400);
  g_assert_cmpint (count_readings (fx, m1), ==, 1);

  /* Rotation. */
  rotate = g_strdup_printf ("%s/rotate_key", location);
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "POST", rotate, NULL);
  assert_status (res, 200, "rotate device key");
  new_key = g_strdup (json_object_get_string_member (sy_test_response_object (res), "device_key"));
  assert_uuid (new_key);
  g_assert_cmpstr (new_key, !=, key);
  g_clear_pointer (&r2, g_free);
  r2 = g_strdup_printf ("{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:02Z\"}", m2);
  g_assert_cmpuint (post_reading (fx, key, secret, r2), ==, 401);
  g_assert_cmpuint (post_reading (fx, new_key, secret, r2), ==, 201);

  /* Validation. */
  assert_field_problem (fx, "POST", "/api/energy/devices", "{\"name\":\"g\"}", 400, "meter_ids");
  assert_field_problem (fx, "POST", "/api/energy/devices", "{\"name\":\"g\",\"meter_ids\":[]}", 400, "meter_ids");
  assert_field_problem (fx, "POST", "/api/energy/devices", "{\"name\":\"g\",\"meter_ids\":[987654]}", 400, "meter_ids[");
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"name\":\"g\",\"meter_ids\":[%" G_GINT64_FORMAT "],\"require_signature\":true}", m1);
  assert_field_problem (fx, "POST", "/api/energy/devices", body, 400, "require_signature");
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"name\":\"g\",\"meter_ids\":[%" G_GINT64_FORMAT "],\"hmac_secret\":\"short\"}", m1);
  assert_field_problem (fx, "POST", "/api/energy/devices", body, 400, "hmac_secret");
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"name\":\"g\",\"meter_ids\":[%" G_GINT64_FORMAT "],\"site_id\":%" G_GINT64_FORMAT "}",
                          m1, site);
  assert_field_problem (fx, "POST", "/api/energy/devices", body, 400, "site_id");
  assert_field_problem (fx, "PATCH", location, "{\"meter_ids\":[]}", 400, "meter_ids");
  g_assert_cmpint (list_count (fx, "/api/energy/devices"), ==, 1);

  /* An unsigned gateway. */
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"name\":\"Plain\",\"meter_ids\":[%" G_GINT64_FORMAT "]}", m1);
  obj = call_object (fx, "POST", "/api/energy/devices", body, 201);
  g_assert_false (json_object_get_boolean_member (obj, "has_hmac_secret"));
  g_assert_false (json_object_get_boolean_member (obj, "require_signature"));
  assert_uuid (json_object_get_string_member (obj, "device_key"));
  g_clear_pointer (&obj, json_object_unref);

  /* Deleting the device kills its key but keeps the meters and their readings. */
  g_clear_pointer (&res, sy_test_response_free);
  res = call (fx, "DELETE", location, NULL);
  assert_status (res, 204, "delete device");
  assert_problem_status (fx, "GET", location, NULL, 404);
  assert_problem_status (fx, "POST", rotate, NULL, 404);
  g_clear_pointer (&r2, g_free);
  r2 = g_strdup_printf ("{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:03Z\"}", m2);
  g_assert_cmpuint (post_reading (fx, new_key, secret, r2), ==, 401);
  g_assert_cmpint (count_readings (fx, m2), ==, 2);
  g_assert_cmpint (list_count (fx, "/api/energy/meters"), ==, 2);
}

static void
test_unknown_ids (MetersFixture *fx,
                  gconstpointer  data)
{
  static const char * const collections[] = { "sites", "meters", "groups", "devices" };

  for (guint i = 0; i < G_N_ELEMENTS (collections); i++)
    {
      g_autofree char *path = g_strdup_printf ("/api/energy/%s/987654", collections[i]);
      g_autofree char *slash = g_strconcat (path, "/", NULL);

      assert_problem_status (fx, "GET", path, NULL, 404);
      assert_problem_status (fx, "GET", slash, NULL, 404);
      assert_problem_status (fx, "PATCH", path, "{\"name\":\"x\"}", 404);
      assert_problem_status (fx, "DELETE", path, NULL, 404);
      /* Not an id at all. */
      g_clear_pointer (&path, g_free);
      path = g_strdup_printf ("/api/energy/%s/abc", collections[i]);
      assert_problem_status (fx, "GET", path, NULL, 404);
      /* No PUT, no DELETE on a collection. */
      g_clear_pointer (&path, g_free);
      path = g_strdup_printf ("/api/energy/%s", collections[i]);
      assert_problem_status (fx, "DELETE", path, NULL, 405);
      assert_problem_status (fx, "PUT", path, "{}", 405);
    }

  assert_problem_status (fx, "POST", "/api/energy/devices/987654/rotate_key", NULL, 404);
  assert_problem_status (fx, "POST", "/api/energy/sites/1/rotate_key", NULL, 404);
}

static void
test_scopes (MetersFixture *fx,
             gconstpointer  data)
{
  g_autofree char *reader = sy_test_daemon_token (fx->daemon, "meters:read");
  g_autofree char *writer = sy_test_daemon_token (fx->daemon, "meters:write");
  g_autofree char *other = sy_test_daemon_token (fx->daemon, "analytics:read");
  gint64 site = create_site (fx, "Site");
  g_autofree char *site_path = g_strdup_printf ("/api/energy/sites/%" G_GINT64_FORMAT, site);
  g_autofree char *meter_body = g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\"}", site);
  static const char * const lists[] = {
    "/api/energy/sites", "/api/energy/meters", "/api/energy/groups", "/api/energy/devices",
  };

  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    {
      g_autoptr(SyTestResponse) ok = sy_test_json (fx->daemon, "GET", lists[i], reader, NULL);
      g_autoptr(SyTestResponse) none = sy_test_json (fx->daemon, "GET", lists[i], NULL, NULL);
      g_autoptr(SyTestResponse) wrong = sy_test_json (fx->daemon, "GET", lists[i], other, NULL);
      g_autoptr(SyTestResponse) post = sy_test_json (fx->daemon, "POST", lists[i], reader, "{\"name\":\"x\"}");

      assert_status (ok, 200, lists[i]);
      sy_test_assert_problem (none, 401);
      sy_test_assert_problem (wrong, 403);
      sy_test_assert_problem (post, 403);
    }

  {
    g_autoptr(SyTestResponse) patch = sy_test_json (fx->daemon, "PATCH", site_path, reader, "{\"name\":\"x\"}");
    g_autoptr(SyTestResponse) del = sy_test_json (fx->daemon, "DELETE", site_path, reader, NULL);
    g_autoptr(SyTestResponse) created = sy_test_json (fx->daemon, "POST", "/api/energy/meters", writer, meter_body);

    sy_test_assert_problem (patch, 403);
    sy_test_assert_problem (del, 403);
    assert_status (created, 201, "create with meters:write");
  }

  /* The refused writes changed nothing. */
  {
    g_autoptr(JsonObject) got = call_object (fx, "GET", site_path, NULL, 200);

    g_assert_cmpstr (json_object_get_string_member (got, "name"), ==, "Site");
  }
  g_assert_cmpint (list_count (fx, "/api/energy/sites"), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/switchyard/api/meters/" path, MetersFixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("sites/crud", test_sites_crud);
  ADD ("sites/validation", test_sites_validation);
  ADD ("meters/create", test_meters_create);
  ADD ("meters/validation", test_meters_validation);
  ADD ("meters/patch", test_meters_patch);
  ADD ("meters/rotate-key", test_meters_rotate_key);
  ADD ("meters/list", test_meters_list);
  ADD ("meters/delete", test_meters_delete);
  ADD ("groups/crud", test_groups_crud);
  ADD ("devices/crud", test_devices_crud);
  ADD ("unknown-ids", test_unknown_ids);
  ADD ("scopes", test_scopes);
#undef ADD

  return g_test_run ();
}
