/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-api-ingest"

#include "config.h"

#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "sy-test-util.h"

/* The request of issue 2, byte for byte. */
#define CURL_BODY "{\"total_power\":3600.0,\"total_energy\":1500.0,\"voltage_a\":230.1,\"timestamp\":\"2025-10-16T10:00:00Z\"}"
#define SECRET    "s3cr3t-hmac-key-for-meter-1"
#define OK_READING "{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:00Z\"}"

/* 2025-10-16T10:00:00Z */
#define T0_MS G_GINT64_CONSTANT (1760608800000)

typedef struct
{
  SyTestDaemon *daemon;
  char         *token;          /* admin */
  gint64        site;
  gint64        plain;          /* no secret */
  char         *plain_key;
  gint64        required;       /* secret, signature required */
  char         *required_key;
  gint64        optional;       /* secret, signature optional */
  char         *optional_key;
} IngestFixture;

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

static JsonObject *
call_object (IngestFixture *fx,
             const char    *method,
             const char    *path,
             const char    *body,
             guint          status)
{
  g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, method, path, fx->token, body);
  g_autofree char *what = g_strdup_printf ("%s %s", method, path);

  assert_status (res, status, what);

  return json_object_ref (sy_test_response_object (res));
}

static gint64
create_meter (IngestFixture  *fx,
              const char     *extra,
              char          **out_key)
{
  g_autofree char *body = g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"load\"%s}",
                                           fx->site, extra);
  g_autoptr(JsonObject) obj = call_object (fx, "POST", "/api/energy/meters", body, 201);

  *out_key = g_strdup (json_object_get_string_member (obj, "device_key"));
  return json_object_get_int_member (obj, "id");
}

static void
fixture_setup (IngestFixture *fx,
               gconstpointer  data)
{
  const char * const *extra_args = data;
  g_autoptr(JsonObject) site = NULL;

  fx->daemon = sy_test_daemon_new (extra_args);
  sy_test_daemon_start (fx->daemon);
  fx->token = sy_test_daemon_token (fx->daemon, "admin");

  site = call_object (fx, "POST", "/api/energy/sites", "{\"name\":\"Ingest\"}", 201);
  fx->site = json_object_get_int_member (site, "id");
  fx->plain = create_meter (fx, "", &fx->plain_key);
  fx->required = create_meter (fx, ",\"hmac_secret\":\"" SECRET "\",\"require_signature\":true", &fx->required_key);
  fx->optional = create_meter (fx, ",\"hmac_secret\":\"" SECRET "\"", &fx->optional_key);
}

static void
fixture_teardown (IngestFixture *fx,
                  gconstpointer  data)
{
  sy_test_daemon_free (fx->daemon);
  g_free (fx->token);
  g_free (fx->plain_key);
  g_free (fx->required_key);
  g_free (fx->optional_key);
}

/* POSTs @body as it is. @key and @signature may be NULL (header left out). */
static SyTestResponse *
post_raw (IngestFixture *fx,
          const char    *path,
          const char    *key,
          const char    *signature,
          const char    *body,
          gssize         len)
{
  const char *headers[5] = { NULL };
  guint n = 0;

  if (key != NULL)
    {
      headers[n++] = "X-Device-Key";
      headers[n++] = key;
    }
  if (signature != NULL)
    {
      headers[n++] = "X-Signature";
      headers[n++] = signature;
    }

  return sy_test_request (fx->daemon, "POST", path, headers, "application/json", body, len);
}

static SyTestResponse *
post_single (IngestFixture *fx,
             const char    *key,
             const char    *body)
{
  return post_raw (fx, "/api/energy/energy-data/", key, NULL, body, -1);
}

static SyTestResponse *
post_bulk (IngestFixture *fx,
           const char    *key,
           const char    *body)
{
  return post_raw (fx, "/api/energy/energy-data/bulk", key, NULL, body, -1);
}

static guint
status_of (SyTestResponse *res)
{
  guint status = res->status;

  sy_test_response_free (res);
  return status;
}

/* All stored readings of @meter, oldest first, following the pages. */
static JsonArray *
list_readings (IngestFixture *fx,
               gint64         meter)
{
  JsonArray *all = json_array_new ();
  gint64 offset = 0;

  for (;;)
    {
      g_autofree char *path = g_strdup_printf ("/api/energy/energy-data/?meter_id=%" G_GINT64_FORMAT
                                               "&limit=1000&offset=%" G_GINT64_FORMAT, meter, offset);
      g_autoptr(JsonObject) page = call_object (fx, "GET", path, NULL, 200);
      JsonArray *results = json_object_get_array_member (page, "results");
      guint n = json_array_get_length (results);

      for (guint i = 0; i < n; i++)
        json_array_add_element (all, json_node_copy (json_array_get_element (results, i)));
      offset += n;

      if (n == 0 || offset >= json_object_get_int_member (page, "count"))
        break;
    }

  return all;
}

static gint64
count_readings (IngestFixture *fx,
                gint64         meter)
{
  g_autofree char *path = g_strdup_printf ("/api/energy/energy-data?meter_id=%" G_GINT64_FORMAT, meter);
  g_autoptr(JsonObject) page = call_object (fx, "GET", path, NULL, 200);

  return json_object_get_int_member (page, "count");
}

/* A 400 (or @status) problem+json naming @field, with nothing from it stored on @meter. */
static void
assert_rejected (IngestFixture  *fx,
                 SyTestResponse *res,
                 guint           status,
                 const char     *field,
                 gint64          meter,
                 gint64          count_before,
                 const char     *what)
{
  const char *named;

  if (res->status != status)
    g_error ("%s: expected %u, got %u: %.*s", what, status, res->status,
             (int) g_bytes_get_size (res->body), body_text (res));

  named = sy_test_assert_problem (res, status);
  if (field != NULL && g_strcmp0 (named, field) != 0)
    g_error ("%s: the problem names \"%s\", expected \"%s\"", what, named ? named : "(none)", field);

  if (count_readings (fx, meter) != count_before)
    g_error ("%s: something was stored although the request was refused", what);
}

static void
assert_double_member (JsonObject *obj,
                      const char *member,
                      double      expected)
{
  if (!json_object_has_member (obj, member))
    g_error ("missing \"%s\"", member);
  g_assert_cmpfloat (json_object_get_double_member (obj, member), ==, expected);
}

static void
test_curl_example (IngestFixture *fx,
                   gconstpointer  data)
{
  g_autofree char *signature = sy_test_hmac_hex (SECRET, CURL_BODY);
  g_autoptr(SyTestResponse) res = NULL;
  g_autoptr(JsonObject) page = NULL;
  g_autofree char *path = NULL;
  JsonObject *reading;
  g_autoptr(GList) members = NULL;

  /* curl -X POST …/api/energy/energy-data/ -H 'X-Device-Key: <key>' -H 'X-Signature: <hex>'
   *      -H 'Content-Type: application/json' -d '<body>' */
  res = post_raw (fx, "/api/energy/energy-data/", fx->required_key, signature, CURL_BODY, -1);
  assert_status (res, 201, "the curl of issue 2");
  g_assert_cmpstr (res->content_type, ==, "application/json");
  g_assert_cmpint (json_object_get_int_member (sy_test_response_object (res), "accepted"), ==, 1);

  path = g_strdup_printf ("/api/energy/energy-data/?meter_id=%" G_GINT64_FORMAT
                          "&from=2025-10-16T09:00:00Z&to=2025-10-16T11:00:00Z", fx->required);
  page = call_object (fx, "GET", path, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (page, "count"), ==, 1);
  g_assert_true (json_object_get_null_member (page, "next"));
  g_assert_true (json_object_get_null_member (page, "previous"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (page, "results")), ==, 1);

  reading = json_array_get_object_element (json_object_get_array_member (page, "results"), 0);
  g_assert_cmpint (json_object_get_int_member (reading, "meter_id"), ==, fx->required);
  g_assert_cmpstr (json_object_get_string_member (reading, "timestamp"), ==, "2025-10-16T10:00:00Z");
  assert_double_member (reading, "total_power", 3600.0);
  assert_double_member (reading, "total_energy", 1500.0);
  assert_double_member (reading, "voltage_a", 230.1);

  /* Exactly what was sent: no invented measurements. */
  members = json_object_get_members (reading);
  for (const GList *l = members; l != NULL; l = l->next)
    {
      static const char * const allowed[] = {
        "meter_id", "timestamp", "total_power", "total_energy", "voltage_a", NULL,
      };

      if (!g_strv_contains (allowed, l->data))
        g_error ("unexpected member \"%s\" in a stored reading", (const char *) l->data);
    }

  /* from is inclusive; a window that misses the reading is empty. */
  g_clear_pointer (&path, g_free);
  g_clear_pointer (&page, json_object_unref);
  path = g_strdup_printf ("/api/energy/energy-data?meter_id=%" G_GINT64_FORMAT
                          "&from=2025-10-16T10:00:00Z&to=2025-10-16T10:00:01Z", fx->required);
  page = call_object (fx, "GET", path, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (page, "count"), ==, 1);
  g_clear_pointer (&path, g_free);
  g_clear_pointer (&page, json_object_unref);
  path = g_strdup_printf ("/api/energy/energy-data?meter_id=%" G_GINT64_FORMAT
                          "&from=2025-10-16T10:00:01Z&to=2025-10-16T11:00:00Z", fx->required);
  page = call_object (fx, "GET", path, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (page, "count"), ==, 0);
}

static void
test_default_timestamp (IngestFixture *fx,
                        gconstpointer  data)
{
  gint64 before = g_get_real_time () / 1000;
  g_autoptr(JsonArray) readings = NULL;
  g_autoptr(GDateTime) stored = NULL;
  gint64 after;
  gint64 ts;

  g_assert_cmpuint (status_of (post_single (fx, fx->plain_key, "{\"total_power\":42}")), ==, 201);
  after = g_get_real_time () / 1000;

  readings = list_readings (fx, fx->plain);
  g_assert_cmpuint (json_array_get_length (readings), ==, 1);
  stored = g_date_time_new_from_iso8601 (json_object_get_string_member (json_array_get_object_element (readings, 0),
                                                                        "timestamp"), NULL);
  g_assert_nonnull (stored);
  ts = g_date_time_to_unix (stored) * 1000 + g_date_time_get_microsecond (stored) / 1000;
  g_assert_cmpint (ts, >=, before - 1);
  g_assert_cmpint (ts, <=, after + 1);
}

static void
test_bulk_forms (IngestFixture *fx,
                 gconstpointer  data)
{
  g_autoptr(SyTestResponse) res = NULL;
  g_autoptr(JsonArray) readings = NULL;
  static const char * const expected_ts[] = {
    "2025-10-16T10:00:00Z", "2025-10-16T10:00:01Z", "2025-10-16T10:00:02Z",
    "2025-10-16T10:00:03.250Z", "2025-10-16T10:00:04Z",
  };
  static const double expected_power[] = { 100, 101, 102.5, -3.25, 104 };

  /* A bare array, out of order. */
  res = post_bulk (fx, fx->plain_key,
                   "[{\"total_power\":102.5,\"timestamp\":\"2025-10-16T10:00:02Z\"},"
                   " {\"total_power\":100,\"timestamp\":\"2025-10-16T10:00:00Z\"},"
                   " {\"total_power\":101,\"timestamp\":\"2025-10-16T10:00:01Z\"}]");
  assert_status (res, 201, "bare array");
  g_assert_cmpint (json_object_get_int_member (sy_test_response_object (res), "accepted"), ==, 3);
  g_clear_pointer (&res, sy_test_response_free);

  /* {"readings": [...]}, at the path with a trailing slash, with an offset time zone. */
  res = post_raw (fx, "/api/energy/energy-data/bulk/", fx->plain_key, NULL,
                  "{\"readings\":[{\"total_power\":104,\"timestamp\":\"2025-10-16T12:00:04+02:00\"},"
                  "{\"total_power\":-3.25,\"timestamp\":\"2025-10-16T10:00:03.250Z\"}]}", -1);
  assert_status (res, 201, "readings object");
  g_assert_cmpint (json_object_get_int_member (sy_test_response_object (res), "accepted"), ==, 2);

  readings = list_readings (fx, fx->plain);
  g_assert_cmpuint (json_array_get_length (readings), ==, G_N_ELEMENTS (expected_ts));
  for (guint i = 0; i < G_N_ELEMENTS (expected_ts); i++)
    {
      JsonObject *r = json_array_get_object_element (readings, i);

      g_assert_cmpstr (json_object_get_string_member (r, "timestamp"), ==, expected_ts[i]);
      assert_double_member (r, "total_power", expected_power[i]);
      g_assert_cmpint (json_object_get_int_member (r, "meter_id"), ==, fx->plain);
    }
}

static void
test_trailing_slash (IngestFixture *fx,
                     gconstpointer  data)
{
  g_autoptr(SyTestResponse) single = NULL;
  g_autoptr(SyTestResponse) bulk = NULL;

  single = post_raw (fx, "/api/energy/energy-data", fx->plain_key, NULL,
                     "{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:00Z\"}", -1);
  assert_status (single, 201, "single without slash");
  bulk = post_raw (fx, "/api/energy/energy-data/bulk/", fx->plain_key, NULL,
                   "[{\"total_power\":2,\"timestamp\":\"2025-10-16T10:00:01Z\"}]", -1);
  assert_status (bulk, 201, "bulk with slash");
  g_assert_cmpint (count_readings (fx, fx->plain), ==, 2);
}

typedef struct
{
  const char *body;
  const char *field;
} BadCase;

static void
test_bad_single (IngestFixture *fx,
                 gconstpointer  data)
{
  g_autofree char *future = NULL;
  g_autofree char *future_body = NULL;
  g_autofree char *other_meter = NULL;
  static const BadCase cases[] = {
    /* Malformed JSON. */
    { "{\"total_power\":", "body" },
    { "{\"total_power\":3600,}", "body" },
    { "{\"total_power\":NaN}", "body" },
    { "{\"total_power\":Infinity}", "body" },
    { "{\"total_power\":1} trailing", "body" },
    { "{'total_power':1}", "body" },
    /* Empty bodies and non-objects. */
    { "", "body" },
    { "   \n", "body" },
    { "[{\"total_power\":1}]", "body" },
    { "\"total_power\"", "body" },
    { "{}", "body" },
    { "{\"timestamp\":\"2025-10-16T10:00:00Z\"}", "body" },
    /* Wrong types. */
    { "{\"total_power\":\"3600\"}", "total_power" },
    { "{\"total_power\":\"3600.0\",\"timestamp\":\"2025-10-16T10:00:00Z\"}", "total_power" },
    { "{\"total_power\":true}", "total_power" },
    { "{\"total_power\":[3600]}", "total_power" },
    { "{\"voltage_a\":{\"value\":230}}", "voltage_a" },
    { "{\"total_power\":1,\"breaker_state\":1}", "breaker_state" },
    { "{\"total_power\":1,\"breaker_state\":\"melted\"}", "breaker_state" },
    { "{\"total_power\":1,\"timestamp\":1760608800}", "timestamp" },
    /* Out of range. */
    { "{\"total_power\":1e10}", "total_power" },
    { "{\"total_power\":1e999}", "total_power" },
    { "{\"total_energy\":-1}", "total_energy" },
    { "{\"voltage_a\":-0.5}", "voltage_a" },
    { "{\"current_b\":-1}", "current_b" },
    { "{\"power_factor\":1.5}", "power_factor" },
    { "{\"frequency\":5000}", "frequency" },
    { "{\"thd_v_pct\":101}", "thd_v_pct" },
    /* Timestamps: unparseable, without a zone, absurd. */
    { "{\"total_power\":1,\"timestamp\":\"yesterday\"}", "timestamp" },
    { "{\"total_power\":1,\"timestamp\":\"2025-13-45T10:00:00Z\"}", "timestamp" },
    { "{\"total_power\":1,\"timestamp\":\"2025-10-16T25:00:00Z\"}", "timestamp" },
    { "{\"total_power\":1,\"timestamp\":\"\"}", "timestamp" },
    { "{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:00\"}", "timestamp" },
    { "{\"total_power\":1,\"timestamp\":\"2025-10-16\"}", "timestamp" },
    { "{\"total_power\":1,\"timestamp\":\"1999-12-31T23:59:59Z\"}", "timestamp" },
    { "{\"total_power\":1,\"timestamp\":\"1970-01-01T00:00:00Z\"}", "timestamp" },
    { "{\"total_power\":1,\"timestamp\":\"2100-01-01T00:00:00Z\"}", "timestamp" },
    /* The same field twice. */
    { "{\"total_power\":1,\"total_power\":2}", "total_power" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SyTestResponse) res = post_single (fx, fx->plain_key, cases[i].body);

      assert_rejected (fx, res, 400, cases[i].field, fx->plain, 0, cases[i].body);
    }

  /* Two hours ahead of this clock is too far; a few minutes is tolerated. */
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
    g_autoptr(GDateTime) later = g_date_time_add_hours (now, 2);
    g_autoptr(GDateTime) soon = g_date_time_add_minutes (now, 5);
    g_autoptr(SyTestResponse) res = NULL;
    g_autofree char *soon_text = g_date_time_format (soon, "%Y-%m-%dT%H:%M:%SZ");
    g_autofree char *soon_body = g_strdup_printf ("{\"total_power\":1,\"timestamp\":\"%s\"}", soon_text);

    future = g_date_time_format (later, "%Y-%m-%dT%H:%M:%SZ");
    future_body = g_strdup_printf ("{\"total_power\":1,\"timestamp\":\"%s\"}", future);
    res = post_single (fx, fx->plain_key, future_body);
    assert_rejected (fx, res, 400, "timestamp", fx->plain, 0, future_body);
    g_assert_cmpuint (status_of (post_single (fx, fx->plain_key, soon_body)), ==, 201);
    g_assert_cmpint (count_readings (fx, fx->plain), ==, 1);
  }

  /* A meter key may not write to another meter. */
  other_meter = g_strdup_printf ("{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":1,"
                                 "\"timestamp\":\"2025-10-16T10:00:00Z\"}", fx->optional);
  {
    g_autoptr(SyTestResponse) res = post_single (fx, fx->plain_key, other_meter);

    assert_rejected (fx, res, 400, "meter_id", fx->optional, 0, other_meter);
    g_assert_cmpint (count_readings (fx, fx->plain), ==, 1);
  }
}

static void
test_bad_bulk (IngestFixture *fx,
               gconstpointer  data)
{
  static const BadCase cases[] = {
    { "[]", "readings" },
    { "{\"readings\":[]}", "readings" },
    { "{\"readings\":{}}", "readings" },
    { "{\"data\":[{\"total_power\":1}]}", "readings" },
    { "", "body" },
    { "[{\"total_power\":1},", "body" },
    { "42", "body" },
    { "[{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:00Z\"},{\"total_power\":\"2\"}]", "[1].total_power" },
    { "[{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:00Z\"},5]", "[1]" },
    { "{\"readings\":[{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:00Z\"},{\"voltage_a\":-5}]}",
      "readings[1].voltage_a" },
    { "{\"readings\":[{\"total_power\":1,\"timestamp\":\"1999-01-01T00:00:00Z\"}]}", "readings[0].timestamp" },
    /* Only the last of four is bad: the bulk is atomic. */
    { "[{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:00Z\"},"
      " {\"total_power\":2,\"timestamp\":\"2025-10-16T10:00:01Z\"},"
      " {\"total_power\":3,\"timestamp\":\"2025-10-16T10:00:02Z\"},"
      " {\"total_power\":4,\"timestamp\":\"2025-10-16T10:00:03\"}]", "[3].timestamp" },
    { "{\"readings\":[{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:00Z\"},"
      " {\"total_power\":2,\"timestamp\":\"2025-10-16T10:00:01Z\"},"
      " {\"power_factor\":-1.01,\"timestamp\":\"2025-10-16T10:00:02Z\"}]}", "readings[2].power_factor" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SyTestResponse) res = post_bulk (fx, fx->plain_key, cases[i].body);

      assert_rejected (fx, res, 400, cases[i].field, fx->plain, 0, cases[i].body);
    }

  /* The valid part of the atomic case goes in on its own, so it was only the bad element. */
  g_assert_cmpuint (status_of (post_bulk (fx, fx->plain_key,
                                          "[{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:00Z\"},"
                                          " {\"total_power\":2,\"timestamp\":\"2025-10-16T10:00:01Z\"},"
                                          " {\"total_power\":3,\"timestamp\":\"2025-10-16T10:00:02Z\"}]")), ==, 201);
  g_assert_cmpint (count_readings (fx, fx->plain), ==, 3);
}

static guint
post_signed (IngestFixture *fx,
             const char    *key,
             const char    *signature,
             const char    *body)
{
  return status_of (post_raw (fx, "/api/energy/energy-data/", key, signature, body, -1));
}

static void
test_signatures (IngestFixture *fx,
                 gconstpointer  data)
{
  const char *b1 = "{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:01Z\"}";
  const char *b2 = "{\"total_power\":2,\"timestamp\":\"2025-10-16T10:00:02Z\"}";
  const char *b3 = "{\"total_power\":3,\"timestamp\":\"2025-10-16T10:00:03Z\"}";
  const char *b4 = "{\"total_power\":4,\"timestamp\":\"2025-10-16T10:00:04Z\"}";
  const char *b1_spaced = "{\"total_power\": 1, \"timestamp\": \"2025-10-16T10:00:01Z\"}";
  g_autofree char *sig1 = sy_test_hmac_hex (SECRET, b1);
  g_autofree char *sig2 = sy_test_hmac_hex (SECRET, b2);
  g_autofree char *sig2_upper = g_ascii_strup (sig2, -1);
  g_autofree char *sig3 = sy_test_hmac_hex (SECRET, b3);
  g_autofree char *sig3_prefixed = g_strconcat ("sha256=", sig3, NULL);
  g_autofree char *sig1_other_key = sy_test_hmac_hex ("another-secret-entirely", b1);
  g_autofree char *sig1_truncated = g_strndup (sig1, 63);

  /* Required: missing or wrong is 401 and stores nothing. */
  {
    g_autoptr(SyTestResponse) res = post_raw (fx, "/api/energy/energy-data/", fx->required_key, NULL, b1, -1);

    assert_rejected (fx, res, 401, NULL, fx->required, 0, "missing signature");
  }
  g_assert_cmpuint (post_signed (fx, fx->required_key, sig2, b1), ==, 401);
  g_assert_cmpuint (post_signed (fx, fx->required_key, sig1_other_key, b1), ==, 401);
  g_assert_cmpuint (post_signed (fx, fx->required_key, sig1_truncated, b1), ==, 401);
  g_assert_cmpuint (post_signed (fx, fx->required_key, "", b1), ==, 401);
  /* The signature covers the raw bytes, not the parsed JSON. */
  g_assert_cmpuint (post_signed (fx, fx->required_key, sig1, b1_spaced), ==, 401);
  g_assert_cmpint (count_readings (fx, fx->required), ==, 0);

  g_assert_cmpuint (post_signed (fx, fx->required_key, sig1, b1), ==, 201);
  g_assert_cmpuint (post_signed (fx, fx->required_key, sig2_upper, b2), ==, 201);
  g_assert_cmpuint (post_signed (fx, fx->required_key, sig3_prefixed, b3), ==, 201);
  g_assert_cmpint (count_readings (fx, fx->required), ==, 3);

  /* Optional: none is fine, a right one is fine, a wrong one is 401. */
  g_assert_cmpuint (post_signed (fx, fx->optional_key, NULL, b1), ==, 201);
  g_assert_cmpuint (post_signed (fx, fx->optional_key, sig2, b2), ==, 201);
  g_assert_cmpuint (post_signed (fx, fx->optional_key, sig3, b4), ==, 401);
  g_assert_cmpuint (post_signed (fx, fx->optional_key, sig1, b4), ==, 401);
  g_assert_cmpint (count_readings (fx, fx->optional), ==, 2);

  /* A signature for a meter without a secret cannot be verified. */
  g_assert_cmpuint (post_signed (fx, fx->plain_key, sig1, b1), ==, 401);
  g_assert_cmpint (count_readings (fx, fx->plain), ==, 0);

  /* Bulk bodies are signed the same way. */
  {
    const char *bulk = "[{\"total_power\":5,\"timestamp\":\"2025-10-16T10:00:05Z\"},"
                       "{\"total_power\":6,\"timestamp\":\"2025-10-16T10:00:06Z\"}]";
    g_autofree char *sig = sy_test_hmac_hex (SECRET, bulk);
    g_autoptr(SyTestResponse) unsigned_res = post_raw (fx, "/api/energy/energy-data/bulk", fx->required_key,
                                                       NULL, bulk, -1);
    g_autoptr(SyTestResponse) wrong_res = post_raw (fx, "/api/energy/energy-data/bulk", fx->required_key,
                                                    sig1, bulk, -1);
    g_autoptr(SyTestResponse) res = post_raw (fx, "/api/energy/energy-data/bulk", fx->required_key,
                                              sig, bulk, -1);

    sy_test_assert_problem (unsigned_res, 401);
    sy_test_assert_problem (wrong_res, 401);
    assert_status (res, 201, "signed bulk");
    g_assert_cmpint (json_object_get_int_member (sy_test_response_object (res), "accepted"), ==, 2);
    g_assert_cmpint (count_readings (fx, fx->required), ==, 5);
  }
}

static void
test_device_key (IngestFixture *fx,
                 gconstpointer  data)
{
  static const char * const bad_keys[] = {
    "00000000-0000-4000-8000-000000000000",
    "not-a-key",
    "",
  };

  {
    g_autoptr(SyTestResponse) res = post_single (fx, NULL, OK_READING);

    assert_rejected (fx, res, 401, NULL, fx->plain, 0, "no key");
  }
  {
    g_autoptr(SyTestResponse) res = post_bulk (fx, NULL, "[" OK_READING "]");

    assert_rejected (fx, res, 401, NULL, fx->plain, 0, "no key, bulk");
  }

  for (guint i = 0; i < G_N_ELEMENTS (bad_keys); i++)
    {
      g_autoptr(SyTestResponse) res = post_single (fx, bad_keys[i], OK_READING);

      assert_rejected (fx, res, 401, NULL, fx->plain, 0, bad_keys[i]);
    }

  /* A key in another case is another key. */
  {
    g_autofree char *upper = g_ascii_strup (fx->plain_key, -1);
    g_autoptr(SyTestResponse) res = post_single (fx, upper, OK_READING);

    assert_rejected (fx, res, 401, NULL, fx->plain, 0, "upper-case key");
  }

  /* An admin bearer token is no device key. */
  {
    g_autofree char *auth = g_strconcat ("Bearer ", fx->token, NULL);
    const char *headers[] = { "Authorization", auth, NULL };
    g_autoptr(SyTestResponse) res = sy_test_request (fx->daemon, "POST", "/api/energy/energy-data/", headers,
                                                     "application/json", OK_READING, -1);

    assert_rejected (fx, res, 401, NULL, fx->plain, 0, "bearer instead of key");
  }

  /* Authentication comes before validation: a bad body with a bad key is 401. */
  {
    g_autoptr(SyTestResponse) res = post_single (fx, "00000000-0000-4000-8000-000000000000", "{oops");

    sy_test_assert_problem (res, 401);
  }
}

static void
test_limits (IngestFixture *fx,
             gconstpointer  data)
{
  g_autoptr(GString) big = g_string_new (NULL);
  g_autoptr(GString) exact = g_string_new (NULL);
  g_autoptr(GString) six = g_string_new ("[");
  g_autoptr(GString) five = g_string_new ("[");
  g_autoptr(SyTestResponse) res = NULL;

  /* A valid reading padded past 4096 bytes with whitespace. */
  g_string_append (big, "{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:00Z\"");
  while (big->len < 5000)
    g_string_append_c (big, ' ');
  g_string_append_c (big, '}');
  res = post_single (fx, fx->plain_key, big->str);
  assert_rejected (fx, res, 413, NULL, fx->plain, 0, "5000-byte single");
  g_clear_pointer (&res, sy_test_response_free);

  g_string_prepend_c (big, '[');
  g_string_append_c (big, ']');
  res = post_bulk (fx, fx->plain_key, big->str);
  assert_rejected (fx, res, 413, NULL, fx->plain, 0, "5000-byte bulk");
  g_clear_pointer (&res, sy_test_response_free);

  /* Exactly at the limit is accepted. */
  g_string_append (exact, "{\"total_power\":7,\"timestamp\":\"2025-10-16T10:00:07Z\"");
  while (exact->len < 4095)
    g_string_append_c (exact, ' ');
  g_string_append_c (exact, '}');
  g_assert_cmpuint (exact->len, ==, 4096);
  res = post_single (fx, fx->plain_key, exact->str);
  assert_status (res, 201, "4096-byte single");
  g_clear_pointer (&res, sy_test_response_free);

  /* Six readings are one too many; five are fine. */
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *item = g_strdup_printf ("%s{\"total_power\":%u,\"timestamp\":\"2025-10-16T10:01:0%uZ\"}",
                                               i > 0 ? "," : "", i, i);

      g_string_append (six, item);
      if (i < 5)
        g_string_append (five, item);
    }
  g_string_append_c (six, ']');
  g_string_append_c (five, ']');

  res = post_bulk (fx, fx->plain_key, six->str);
  assert_rejected (fx, res, 413, NULL, fx->plain, 1, "six readings");
  g_clear_pointer (&res, sy_test_response_free);

  {
    g_autofree char *wrapped = g_strdup_printf ("{\"readings\":%s}", six->str);

    res = post_bulk (fx, fx->plain_key, wrapped);
    assert_rejected (fx, res, 413, NULL, fx->plain, 1, "six readings, wrapped");
    g_clear_pointer (&res, sy_test_response_free);
  }

  res = post_bulk (fx, fx->plain_key, five->str);
  assert_status (res, 201, "five readings");
  g_assert_cmpint (json_object_get_int_member (sy_test_response_object (res), "accepted"), ==, 5);
  g_assert_cmpint (count_readings (fx, fx->plain), ==, 6);

  /* The daemon still serves after refusing. */
  g_clear_pointer (&res, sy_test_response_free);
  res = sy_test_json (fx->daemon, "GET", "/api/health", NULL, NULL);
  assert_status (res, 200, "health after 413");
}

static void
test_duplicates (IngestFixture *fx,
                 gconstpointer  data)
{
  g_autoptr(JsonArray) readings = NULL;
  JsonObject *r;

  g_assert_cmpuint (status_of (post_single (fx, fx->plain_key,
                                            "{\"total_power\":10,\"voltage_a\":230,\"timestamp\":\"2025-10-16T10:00:00Z\"}")), ==, 201);
  g_assert_cmpint (count_readings (fx, fx->plain), ==, 1);

  /* The same (meter, timestamp) again, even with other values: 201, stored once. The same
   * instant written another way is the same timestamp. */
  g_assert_cmpuint (status_of (post_single (fx, fx->plain_key,
                                            "{\"total_power\":10,\"voltage_a\":230,\"timestamp\":\"2025-10-16T10:00:00Z\"}")), ==, 201);
  g_assert_cmpuint (status_of (post_single (fx, fx->plain_key,
                                            "{\"total_power\":99,\"timestamp\":\"2025-10-16T12:00:00.000+02:00\"}")), ==, 201);
  g_assert_cmpint (count_readings (fx, fx->plain), ==, 1);

  /* A bulk repeating a stored reading and itself. */
  {
    g_autoptr(SyTestResponse) res = post_bulk (fx, fx->plain_key,
                                               "[{\"total_power\":10,\"timestamp\":\"2025-10-16T10:00:00Z\"},"
                                               " {\"total_power\":11,\"timestamp\":\"2025-10-16T10:00:01Z\"},"
                                               " {\"total_power\":12,\"timestamp\":\"2025-10-16T10:00:01Z\"}]");

    assert_status (res, 201, "bulk with duplicates");
    g_assert_cmpint (json_object_get_int_member (sy_test_response_object (res), "accepted"), ==, 3);
  }
  g_assert_cmpint (count_readings (fx, fx->plain), ==, 2);

  /* The first value stays. */
  readings = list_readings (fx, fx->plain);
  r = json_array_get_object_element (readings, 0);
  assert_double_member (r, "total_power", 10);
  assert_double_member (r, "voltage_a", 230);
  r = json_array_get_object_element (readings, 1);
  assert_double_member (r, "total_power", 11);

  /* Another meter may use the same timestamp. */
  g_assert_cmpuint (status_of (post_raw (fx, "/api/energy/energy-data", fx->optional_key, NULL,
                                         "{\"total_power\":5,\"timestamp\":\"2025-10-16T10:00:00Z\"}", -1)), ==, 201);
  g_assert_cmpint (count_readings (fx, fx->optional), ==, 1);
}

static void
test_all_fields_and_extras (IngestFixture *fx,
                            gconstpointer  data)
{
  g_autoptr(JsonArray) readings = NULL;
  JsonObject *r;
  JsonObject *extras;

  g_assert_cmpuint (status_of (post_single (fx, fx->plain_key,
                                            "{\"total_power\":-1250.75,\"total_energy\":98765.4321,"
                                            "\"voltage_a\":229.9,\"voltage_b\":230.4,\"voltage_c\":231,"
                                            "\"current_a\":5.5,\"current_b\":0,\"current_c\":6.25,"
                                            "\"power_factor\":-0.97,\"frequency\":49.98,"
                                            "\"thd_v_pct\":2.5,\"thd_i_pct\":150,\"breaker_state\":\"closed\","
                                            "\"reactive_power\":-250.5,\"temperature_c\":41,"
                                            "\"firmware\":\"1.2.3\",\"flags\":[1,2],"
                                            "\"timestamp\":\"2025-10-16T10:00:00Z\"}")), ==, 201);

  readings = list_readings (fx, fx->plain);
  g_assert_cmpuint (json_array_get_length (readings), ==, 1);
  r = json_array_get_object_element (readings, 0);
  assert_double_member (r, "total_power", -1250.75);
  assert_double_member (r, "total_energy", 98765.4321);
  assert_double_member (r, "voltage_a", 229.9);
  assert_double_member (r, "voltage_b", 230.4);
  assert_double_member (r, "voltage_c", 231);
  assert_double_member (r, "current_a", 5.5);
  assert_double_member (r, "current_b", 0);
  assert_double_member (r, "current_c", 6.25);
  assert_double_member (r, "power_factor", -0.97);
  assert_double_member (r, "frequency", 49.98);
  assert_double_member (r, "thd_v_pct", 2.5);
  assert_double_member (r, "thd_i_pct", 150);
  g_assert_cmpstr (json_object_get_string_member (r, "breaker_state"), ==, "closed");

  /* Other numeric fields are kept; other non-numeric ones carry nothing to store. */
  g_assert_true (json_object_has_member (r, "extras"));
  extras = json_object_get_object_member (r, "extras");
  g_assert_cmpuint (json_object_get_size (extras), ==, 2);
  assert_double_member (extras, "reactive_power", -250.5);
  assert_double_member (extras, "temperature_c", 41);
}

static void
test_gateway (IngestFixture *fx,
              gconstpointer  data)
{
  g_autofree char *k1 = NULL;
  g_autofree char *k2 = NULL;
  g_autofree char *k3 = NULL;
  g_autofree char *body = NULL;
  g_autofree char *device_key = NULL;
  g_autoptr(JsonObject) device = NULL;
  g_autoptr(JsonArray) r1 = NULL;
  g_autoptr(JsonArray) r2 = NULL;
  gint64 m1 = create_meter (fx, "", &k1);
  gint64 m2 = create_meter (fx, "", &k2);
  gint64 m3 = create_meter (fx, "", &k3);

  body = g_strdup_printf ("{\"name\":\"gw\",\"meter_ids\":[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "]}", m1, m2);
  device = call_object (fx, "POST", "/api/energy/devices", body, 201);
  device_key = g_strdup (json_object_get_string_member (device, "device_key"));

  /* Each reading lands on its meter. */
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("[{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":111,\"timestamp\":\"2025-10-16T10:00:00Z\"},"
                          " {\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":222,\"timestamp\":\"2025-10-16T10:00:00Z\"},"
                          " {\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":112,\"timestamp\":\"2025-10-16T10:00:01Z\"}]",
                          m1, m2, m1);
  {
    g_autoptr(SyTestResponse) res = post_bulk (fx, device_key, body);

    assert_status (res, 201, "gateway bulk");
    g_assert_cmpint (json_object_get_int_member (sy_test_response_object (res), "accepted"), ==, 3);
  }
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":223,\"timestamp\":\"2025-10-16T10:00:01Z\"}", m2);
  g_assert_cmpuint (status_of (post_single (fx, device_key, body)), ==, 201);

  r1 = list_readings (fx, m1);
  r2 = list_readings (fx, m2);
  g_assert_cmpuint (json_array_get_length (r1), ==, 2);
  g_assert_cmpuint (json_array_get_length (r2), ==, 2);
  assert_double_member (json_array_get_object_element (r1, 0), "total_power", 111);
  assert_double_member (json_array_get_object_element (r1, 1), "total_power", 112);
  assert_double_member (json_array_get_object_element (r2, 0), "total_power", 222);
  assert_double_member (json_array_get_object_element (r2, 1), "total_power", 223);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (r2, 0), "meter_id"), ==, m2);
  g_assert_cmpint (count_readings (fx, m3), ==, 0);

  /* A meter the gateway does not serve, or none at all: 400 on meter_id, nothing stored. */
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("[{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:05Z\"},"
                          " {\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:05Z\"}]",
                          m1, m3);
  {
    g_autoptr(SyTestResponse) res = post_bulk (fx, device_key, body);

    assert_rejected (fx, res, 400, "[1].meter_id", m1, 2, "meter not served");
    g_assert_cmpint (count_readings (fx, m3), ==, 0);
  }
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"readings\":[{\"meter_id\":987654,\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:05Z\"}]}");
  {
    g_autoptr(SyTestResponse) res = post_bulk (fx, device_key, body);

    assert_rejected (fx, res, 400, "readings[0].meter_id", m1, 2, "unknown meter");
  }
  {
    g_autoptr(SyTestResponse) res = post_single (fx, device_key, "{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:05Z\"}");

    assert_rejected (fx, res, 400, "meter_id", m1, 2, "gateway without meter_id");
  }
  {
    g_autoptr(SyTestResponse) res = post_bulk (fx, device_key,
                                               "[{\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:05Z\"}]");

    assert_rejected (fx, res, 400, "[0].meter_id", m1, 2, "gateway bulk without meter_id");
  }
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:05Z\"}", m3);
  {
    g_autoptr(SyTestResponse) res = post_single (fx, device_key, body);

    assert_rejected (fx, res, 400, "meter_id", m3, 0, "single for a meter not served");
  }
  {
    g_autoptr(SyTestResponse) res = post_single (fx, device_key,
                                                 "{\"meter_id\":\"1\",\"total_power\":1,\"timestamp\":\"2025-10-16T10:00:05Z\"}");

    assert_rejected (fx, res, 400, "meter_id", m1, 2, "string meter_id");
  }
  g_assert_cmpint (count_readings (fx, m2), ==, 2);

  /* The meters' own keys still work next to the gateway's. */
  g_assert_cmpuint (status_of (post_single (fx, k3, "{\"total_power\":3,\"timestamp\":\"2025-10-16T10:00:05Z\"}")), ==, 201);
  g_assert_cmpint (count_readings (fx, m3), ==, 1);
}

static void
test_list_access (IngestFixture *fx,
                  gconstpointer  data)
{
  g_autofree char *reader = sy_test_daemon_token (fx->daemon, "meters:read");
  g_autofree char *other = sy_test_daemon_token (fx->daemon, "analytics:read");
  g_autofree char *path = g_strdup_printf ("/api/energy/energy-data/?meter_id=%" G_GINT64_FORMAT, fx->plain);
  g_autoptr(SyTestResponse) res = NULL;
  g_autoptr(JsonObject) page = NULL;
  g_autofree char *next = NULL;

  res = sy_test_json (fx->daemon, "GET", path, NULL, NULL);
  sy_test_assert_problem (res, 401);
  g_assert_nonnull (soup_message_headers_get_one (res->headers, "WWW-Authenticate"));
  g_clear_pointer (&res, sy_test_response_free);

  res = sy_test_json (fx->daemon, "GET", path, other, NULL);
  sy_test_assert_problem (res, 403);
  g_clear_pointer (&res, sy_test_response_free);

  /* A device key reads nothing. */
  {
    const char *headers[] = { "X-Device-Key", fx->plain_key, NULL };

    res = sy_test_request (fx->daemon, "GET", path, headers, NULL, NULL, 0);
    sy_test_assert_problem (res, 401);
    g_clear_pointer (&res, sy_test_response_free);
  }

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"total_power\":%u,\"timestamp\":\"2025-10-16T10:00:0%uZ\"}", i, 4 - i);

      g_assert_cmpuint (status_of (post_single (fx, fx->plain_key, body)), ==, 201);
    }

  res = sy_test_json (fx->daemon, "GET", path, reader, NULL);
  assert_status (res, 200, "list with meters:read");
  g_assert_cmpint (json_object_get_int_member (sy_test_response_object (res), "count"), ==, 5);
  g_clear_pointer (&res, sy_test_response_free);

  /* Pages, oldest first. */
  {
    g_autofree char *paged = g_strconcat (path, "&limit=2&offset=2", NULL);
    JsonArray *results;

    page = call_object (fx, "GET", paged, NULL, 200);
    g_assert_cmpint (json_object_get_int_member (page, "count"), ==, 5);
    results = json_object_get_array_member (page, "results");
    g_assert_cmpuint (json_array_get_length (results), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (results, 0), "timestamp"), ==,
                     "2025-10-16T10:00:02Z");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (results, 1), "timestamp"), ==,
                     "2025-10-16T10:00:03Z");
    g_assert_false (json_object_get_null_member (page, "previous"));
    next = g_strdup (json_object_get_string_member (page, "next"));
    g_clear_pointer (&page, json_object_unref);

    page = call_object (fx, "GET", next, NULL, 200);
    results = json_object_get_array_member (page, "results");
    g_assert_cmpuint (json_array_get_length (results), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (results, 0), "timestamp"), ==,
                     "2025-10-16T10:00:04Z");
    g_assert_true (json_object_get_null_member (page, "next"));
  }

  /* Bad queries. */
  {
    static const struct
    {
      const char *query;
      guint       status;
      const char *field;
    } cases[] = {
      { "", 400, "meter_id" },
      { "?meter_id=abc", 400, "meter_id" },
      { "?meter_id=987654", 404, NULL },
      { "?meter_id=1&from=yesterday", 400, "from" },
      { "?meter_id=1&to=2025-10-16T10:00:00", 400, "to" },
      { "?meter_id=1&from=2025-10-16T11:00:00Z&to=2025-10-16T10:00:00Z", 400, "to" },
      { "?meter_id=1&limit=5000", 400, "limit" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autofree char *p = g_strconcat ("/api/energy/energy-data", cases[i].query, NULL);
        const char *named;

        res = sy_test_json (fx->daemon, "GET", p, reader, NULL);
        named = sy_test_assert_problem (res, cases[i].status);
        g_assert_cmpstr (named, ==, cases[i].field);
        g_clear_pointer (&res, sy_test_response_free);
      }
  }
}

/* Rollups, read from the database after the daemon stopped. */

typedef struct
{
  gint64 res_s;
  gint64 bucket_ms;
  gint64 count;
  gint64 power_count;
  double sum_power;
  double min_power;
  double max_power;
  double avg_power;
  double energy_delta;
} ExpectedRollup;

static void
assert_rollup (sqlite3              *db,
               gint64                meter,
               const ExpectedRollup *e)
{
  sqlite3_stmt *stmt = NULL;
  const double expected[] = { e->sum_power, e->min_power, e->max_power, e->avg_power, e->energy_delta };
  static const char * const names[] = { "sum_power", "min_power", "max_power", "avg_power", "energy_delta" };

  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT count, power_count, sum_power, min_power, max_power, avg_power, "
                                       "energy_delta FROM rollups WHERE meter_id = ? AND res_s = ? AND bucket_ms = ?",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, meter);
  sqlite3_bind_int64 (stmt, 2, e->res_s);
  sqlite3_bind_int64 (stmt, 3, e->bucket_ms);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    g_error ("no rollup for res %" G_GINT64_FORMAT " bucket %" G_GINT64_FORMAT, e->res_s, e->bucket_ms);

  if (sqlite3_column_int64 (stmt, 0) != e->count || sqlite3_column_int64 (stmt, 1) != e->power_count)
    g_error ("res %" G_GINT64_FORMAT ": count %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT
             "/%" G_GINT64_FORMAT, e->res_s, (gint64) sqlite3_column_int64 (stmt, 0),
             (gint64) sqlite3_column_int64 (stmt, 1), e->count, e->power_count);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      double got = sqlite3_column_double (stmt, 2 + i);

      if (sqlite3_column_type (stmt, 2 + i) == SQLITE_NULL || fabs (got - expected[i]) > 1e-9)
        g_error ("res %" G_GINT64_FORMAT ": %s is %.12g, expected %.12g", e->res_s, names[i], got, expected[i]);
    }

  sqlite3_finalize (stmt);
}

static void
test_rollups (IngestFixture *fx,
              gconstpointer  data)
{
  const gint64 day_ms = T0_MS / 86400000 * 86400000;
  sqlite3 *db = NULL;
  g_autoptr(SyTestResponse) res = NULL;
  const ExpectedRollup expected[] = {
    /* 10:00: +5 s (500 W, 8.5 kWh), +10 s (3000, 9), +30 s (1000, 10), +50 s (no power). */
    { 60, T0_MS, 4, 3, 4500, 500, 3000, 1500, 1.5 },
    /* 10:01: +70 s (2000, 12). */
    { 60, T0_MS + 60000, 1, 1, 2000, 2000, 2000, 2000, 0 },
    { 900, T0_MS, 5, 4, 6500, 500, 3000, 1625, 3.5 },
    { 3600, T0_MS, 5, 4, 6500, 500, 3000, 1625, 3.5 },
    { 86400, day_ms, 5, 4, 6500, 500, 3000, 1625, 3.5 },
  };

  /* Out of order inside the bulk. */
  res = post_bulk (fx, fx->plain_key,
                   "[{\"total_power\":1000,\"total_energy\":10,\"timestamp\":\"2025-10-16T10:00:30Z\"},"
                   " {\"total_power\":3000,\"total_energy\":9,\"timestamp\":\"2025-10-16T10:00:10Z\"},"
                   " {\"total_power\":2000,\"total_energy\":12,\"timestamp\":\"2025-10-16T10:01:10Z\"}]");
  assert_status (res, 201, "bulk");
  g_clear_pointer (&res, sy_test_response_free);

  /* Earlier than everything stored, a duplicate with other values, and no power at all. */
  g_assert_cmpuint (status_of (post_single (fx, fx->plain_key,
                                            "{\"total_power\":500,\"total_energy\":8.5,\"timestamp\":\"2025-10-16T10:00:05Z\"}")), ==, 201);
  g_assert_cmpuint (status_of (post_single (fx, fx->plain_key,
                                            "{\"total_power\":99999,\"total_energy\":99,\"timestamp\":\"2025-10-16T10:00:30Z\"}")), ==, 201);
  g_assert_cmpuint (status_of (post_bulk (fx, fx->plain_key,
                                          "[{\"total_power\":1000,\"total_energy\":10,\"timestamp\":\"2025-10-16T10:00:30Z\"},"
                                          " {\"voltage_a\":231.5,\"timestamp\":\"2025-10-16T10:00:50Z\"}]")), ==, 201);
  /* Refused requests leave no trace in the rollups either. */
  g_assert_cmpuint (status_of (post_bulk (fx, fx->plain_key,
                                          "[{\"total_power\":7777,\"timestamp\":\"2025-10-16T10:00:40Z\"},"
                                          " {\"total_power\":\"bad\",\"timestamp\":\"2025-10-16T10:00:41Z\"}]")), ==, 400);

  g_assert_cmpint (count_readings (fx, fx->plain), ==, 5);

  sy_test_daemon_stop (fx->daemon);

  g_assert_cmpint (sqlite3_open_v2 (fx->daemon->db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    assert_rollup (db, fx->plain, &expected[i]);

  {
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM rollups WHERE meter_id = ?", -1, &stmt, NULL), ==, SQLITE_OK);
    sqlite3_bind_int64 (stmt, 1, fx->plain);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int64 (stmt, 0), ==, G_N_ELEMENTS (expected));
    sqlite3_finalize (stmt);

    /* Nothing for the meters that got nothing. */
    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM rollups WHERE meter_id != ?", -1, &stmt, NULL), ==, SQLITE_OK);
    sqlite3_bind_int64 (stmt, 1, fx->plain);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int64 (stmt, 0), ==, 0);
    sqlite3_finalize (stmt);
  }
  sqlite3_close (db);
}

int
main (int   argc,
      char *argv[])
{
  static const char * const limits[] = { "--max-body-bytes", "4096", "--max-bulk-readings", "5", NULL };

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, args) \
  g_test_add ("/switchyard/api/ingest/" path, IngestFixture, args, fixture_setup, func, fixture_teardown)

  ADD ("curl-example", test_curl_example, NULL);
  ADD ("default-timestamp", test_default_timestamp, NULL);
  ADD ("bulk-forms", test_bulk_forms, NULL);
  ADD ("trailing-slash", test_trailing_slash, NULL);
  ADD ("bad-input/single", test_bad_single, NULL);
  ADD ("bad-input/bulk", test_bad_bulk, NULL);
  ADD ("signatures", test_signatures, NULL);
  ADD ("device-key", test_device_key, NULL);
  ADD ("limits", test_limits, limits);
  ADD ("duplicates", test_duplicates, NULL);
  ADD ("fields-and-extras", test_all_fields_and_extras, NULL);
  ADD ("gateway", test_gateway, NULL);
  ADD ("list-access", test_list_access, NULL);
  ADD ("rollups", test_rollups, NULL);
#undef ADD

  return g_test_run ();
}
