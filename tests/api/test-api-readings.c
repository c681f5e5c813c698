/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-api-readings"

#include "config.h"

#include <string.h>

#include "sy-test-util.h"

/* GET /api/energy/energy-data/latest and /rollups against the real daemon: readings posted
 * with known values across bucket boundaries, read back as exact numbers. */

typedef struct
{
  SyTestDaemon *daemon;
  char         *token;        /* meters:read only */
  char         *admin;
  gint64        site;
  gint64        other_site;
  gint64        a;            /* site: the bucket-boundary readings */
  gint64        b;            /* site: one reading; member of group */
  gint64        c;            /* site: no readings; member of group */
  gint64        d;            /* other_site: one reading */
  gint64        group;        /* b and c */
  char         *a_key;
  char         *b_key;
  char         *c_key;
  char         *d_key;
} ReadingsFixture;

static const char *
body_text (SyTestResponse *res)
{
  const char *data = g_bytes_get_data (res->body, NULL);

  return data != NULL ? data : "";
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
call_object (ReadingsFixture *fx,
             const char      *token,
             const char      *method,
             const char      *path,
             const char      *body,
             guint            status)
{
  g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, method, path, token, body);
  g_autofree char *what = g_strdup_printf ("%s %s", method, path);

  assert_status (res, status, what);

  return json_object_ref (sy_test_response_object (res));
}

static gint64
create_object (ReadingsFixture  *fx,
               const char       *collection,
               const char       *body,
               char            **out_key)
{
  g_autoptr(JsonObject) obj = call_object (fx, fx->admin, "POST", collection, body, 201);

  if (out_key != NULL)
    *out_key = g_strdup (json_object_get_string_member (obj, "device_key"));
  return json_object_get_int_member (obj, "id");
}

static gint64
create_meter (ReadingsFixture  *fx,
              gint64            site,
              char            **out_key)
{
  g_autofree char *body = g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"load\"}", site);

  return create_object (fx, "/api/energy/meters", body, out_key);
}

static void
post_bulk (ReadingsFixture *fx,
           const char      *key,
           const char      *body)
{
  const char *headers[] = { "X-Device-Key", key, NULL };
  g_autoptr(SyTestResponse) res = sy_test_request (fx->daemon, "POST", "/api/energy/energy-data/bulk", headers,
                                                   "application/json", body, -1);

  assert_status (res, 201, "POST /api/energy/energy-data/bulk");
}

static void
fixture_setup (ReadingsFixture *fx,
               gconstpointer    data)
{
  g_autofree char *group_body = NULL;

  fx->daemon = sy_test_daemon_new (NULL);
  sy_test_daemon_start (fx->daemon);
  fx->admin = sy_test_daemon_token (fx->daemon, "admin");
  fx->token = sy_test_daemon_token (fx->daemon, "meters:read");

  fx->site = create_object (fx, "/api/energy/sites", "{\"name\":\"Readings\"}", NULL);
  fx->other_site = create_object (fx, "/api/energy/sites", "{\"name\":\"Other\"}", NULL);
  fx->a = create_meter (fx, fx->site, &fx->a_key);
  fx->b = create_meter (fx, fx->site, &fx->b_key);
  fx->c = create_meter (fx, fx->site, &fx->c_key);
  fx->d = create_meter (fx, fx->other_site, &fx->d_key);

  group_body = g_strdup_printf ("{\"name\":\"BC\",\"meter_ids\":[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "]}",
                                fx->b, fx->c);
  fx->group = create_object (fx, "/api/energy/groups", group_body, NULL);

  /* Two requests, out of order, so the rollups merge across batches. 10:00:45 has no power,
   * so it counts but does not weigh in the power figures. */
  post_bulk (fx, fx->a_key,
             "[{\"timestamp\":\"2025-10-16T10:14:59Z\",\"total_power\":200,\"total_energy\":11.25},"
             " {\"timestamp\":\"2025-10-16T10:15:00Z\",\"total_power\":50,\"total_energy\":12,"
             "  \"breaker_state\":\"closed\",\"temperature\":21.5},"
             " {\"timestamp\":\"2025-10-16T10:00:50Z\",\"total_power\":150,\"total_energy\":10.25}]");
  post_bulk (fx, fx->a_key,
             "[{\"timestamp\":\"2025-10-16T10:00:30Z\",\"total_power\":100,\"total_energy\":10},"
             " {\"timestamp\":\"2025-10-16T10:00:45Z\",\"voltage_a\":230},"
             " {\"timestamp\":\"2025-10-16T10:01:10Z\",\"total_power\":300,\"total_energy\":10.5}]");
  post_bulk (fx, fx->b_key,
             "[{\"timestamp\":\"2025-10-16T10:04:00Z\",\"total_power\":900,\"total_energy\":4.5},"
             " {\"timestamp\":\"2025-10-16T10:05:00Z\",\"total_power\":1000,\"total_energy\":5,\"voltage_a\":231.5}]");
  post_bulk (fx, fx->d_key,
             "[{\"timestamp\":\"2025-10-16T11:00:00Z\",\"total_power\":7}]");
}

static void
fixture_teardown (ReadingsFixture *fx,
                  gconstpointer    data)
{
  sy_test_daemon_free (fx->daemon);
  g_free (fx->token);
  g_free (fx->admin);
  g_free (fx->a_key);
  g_free (fx->b_key);
  g_free (fx->c_key);
  g_free (fx->d_key);
}

static JsonArray *
get_results (ReadingsFixture *fx,
             const char      *path,
             gint64           expected_bucket_s)
{
  g_autoptr(JsonObject) obj = call_object (fx, fx->token, "GET", path, NULL, 200);

  if (expected_bucket_s > 0)
    g_assert_cmpint (json_object_get_int_member (obj, "bucket_s"), ==, expected_bucket_s);
  else
    g_assert_false (json_object_has_member (obj, "bucket_s"));

  return json_array_ref (json_object_get_array_member (obj, "results"));
}

static void
assert_number (JsonObject *obj,
               const char *member,
               double      expected)
{
  JsonNode *node = json_object_get_member (obj, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    g_error ("\"%s\" is missing or null, expected %g", member, expected);
  g_assert_cmpfloat (json_node_get_double (node), ==, expected);
}

static void
assert_bucket (JsonArray  *results,
               guint       index,
               gint64      meter,
               const char *timestamp,
               gint64      count,
               double      min_power,
               double      max_power,
               double      avg_power,
               double      energy_delta)
{
  JsonObject *bucket;

  g_assert_cmpuint (index, <, json_array_get_length (results));
  bucket = json_array_get_object_element (results, index);

  g_assert_cmpint (json_object_get_int_member (bucket, "meter_id"), ==, meter);
  g_assert_cmpstr (json_object_get_string_member (bucket, "timestamp"), ==, timestamp);
  g_assert_cmpint (json_object_get_int_member (bucket, "count"), ==, count);
  assert_number (bucket, "min_power", min_power);
  assert_number (bucket, "max_power", max_power);
  assert_number (bucket, "avg_power", avg_power);
  assert_number (bucket, "energy_delta_kwh", energy_delta);
}

static char *
rollups_path (gint64      meter,
              const char *bucket,
              const char *from,
              const char *to)
{
  return g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%" G_GINT64_FORMAT "&bucket=%s&from=%s&to=%s",
                          meter, bucket, from, to);
}

static void
test_rollups (ReadingsFixture *fx,
              gconstpointer    data)
{
  g_autofree char *path = NULL;
  g_autoptr(JsonArray) results = NULL;

  /* 1 minute: the 10:00 bucket holds 10:00:30, 10:00:45 (no power) and 10:00:50. */
  path = rollups_path (fx->a, "1m", "2025-10-16T10:00:00Z", "2025-10-16T10:16:00Z");
  results = get_results (fx, path, 60);
  g_assert_cmpuint (json_array_get_length (results), ==, 4);
  assert_bucket (results, 0, fx->a, "2025-10-16T10:00:00Z", 3, 100, 150, 125, 0.25);
  assert_bucket (results, 1, fx->a, "2025-10-16T10:01:00Z", 1, 300, 300, 300, 0);
  assert_bucket (results, 2, fx->a, "2025-10-16T10:14:00Z", 1, 200, 200, 200, 0);
  assert_bucket (results, 3, fx->a, "2025-10-16T10:15:00Z", 1, 50, 50, 50, 0);
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&path, g_free);

  /* 15 minutes: 10:14:59 closes the first bucket, 10:15:00 opens the next. */
  path = rollups_path (fx->a, "15m", "2025-10-16T10:00:00Z", "2025-10-16T10:30:00Z");
  results = get_results (fx, path, 900);
  g_assert_cmpuint (json_array_get_length (results), ==, 2);
  assert_bucket (results, 0, fx->a, "2025-10-16T10:00:00Z", 5, 100, 300, 187.5, 1.25);
  assert_bucket (results, 1, fx->a, "2025-10-16T10:15:00Z", 1, 50, 50, 50, 0);
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&path, g_free);

  /* Buckets overlapping [from, to): a from inside a bucket keeps it, to is exclusive. */
  path = rollups_path (fx->a, "1m", "2025-10-16T10:00:40Z", "2025-10-16T10:15:00Z");
  results = get_results (fx, path, 60);
  g_assert_cmpuint (json_array_get_length (results), ==, 3);
  assert_bucket (results, 0, fx->a, "2025-10-16T10:00:00Z", 3, 100, 150, 125, 0.25);
  assert_bucket (results, 2, fx->a, "2025-10-16T10:14:00Z", 1, 200, 200, 200, 0);
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&path, g_free);

  /* Hours and days hold everything. */
  path = rollups_path (fx->a, "1h", "2025-10-16T10:00:00Z", "2025-10-16T11:00:00Z");
  results = get_results (fx, path, 3600);
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  assert_bucket (results, 0, fx->a, "2025-10-16T10:00:00Z", 6, 50, 300, 160, 2);
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&path, g_free);

  path = rollups_path (fx->a, "1d", "2025-10-16T00:00:00Z", "2025-10-17T00:00:00Z");
  results = get_results (fx, path, 86400);
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  assert_bucket (results, 0, fx->a, "2025-10-16T00:00:00Z", 6, 50, 300, 160, 2);
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&path, g_free);

  /* Several meters, asked in any order: by meter, then time. c has no data. */
  path = g_strdup_printf ("/api/energy/energy-data/rollups/?meter_id=%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                          ",%" G_GINT64_FORMAT "&bucket=15m&from=2025-10-16T10:00:00Z&to=2025-10-16T10:30:00Z",
                          fx->c, fx->b, fx->a);
  results = get_results (fx, path, 900);
  g_assert_cmpuint (json_array_get_length (results), ==, 3);
  assert_bucket (results, 0, fx->a, "2025-10-16T10:00:00Z", 5, 100, 300, 187.5, 1.25);
  assert_bucket (results, 1, fx->a, "2025-10-16T10:15:00Z", 1, 50, 50, 50, 0);
  assert_bucket (results, 2, fx->b, "2025-10-16T10:00:00Z", 2, 900, 1000, 950, 0.5);
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&path, g_free);

  /* A bucket with readings but no power: nulls, not zeros. */
  post_bulk (fx, fx->c_key, "[{\"timestamp\":\"2025-10-16T12:00:00Z\",\"voltage_a\":229}]");
  path = rollups_path (fx->c, "1h", "2025-10-16T12:00:00Z", "2025-10-16T13:00:00Z");
  results = get_results (fx, path, 3600);
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  {
    JsonObject *bucket = json_array_get_object_element (results, 0);
    static const char * const nullable[] = { "min_power", "max_power", "avg_power", "energy_delta_kwh" };

    g_assert_cmpint (json_object_get_int_member (bucket, "count"), ==, 1);
    for (guint i = 0; i < G_N_ELEMENTS (nullable); i++)
      {
        g_assert_true (json_object_has_member (bucket, nullable[i]));
        g_assert_true (json_object_get_null_member (bucket, nullable[i]));
      }
  }
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&path, g_free);

  /* The default range is the last 24 h: the 2025 data is not in it. */
  path = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%" G_GINT64_FORMAT "&bucket=1m", fx->a);
  results = get_results (fx, path, 60);
  g_assert_cmpuint (json_array_get_length (results), ==, 0);
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&path, g_free);

  /* ... and `to` alone means the 24 h before it. */
  path = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%" G_GINT64_FORMAT
                          "&bucket=1d&to=2025-10-17T00:00:00Z", fx->a);
  results = get_results (fx, path, 86400);
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
}

static JsonObject *
latest_of (JsonArray *results,
           guint      index,
           gint64     meter,
           const char *timestamp)
{
  JsonObject *obj;
  g_autoptr(GDateTime) ts = NULL;
  double age_now;

  g_assert_cmpuint (index, <, json_array_get_length (results));
  obj = json_array_get_object_element (results, index);
  g_assert_cmpint (json_object_get_int_member (obj, "meter_id"), ==, meter);
  g_assert_cmpstr (json_object_get_string_member (obj, "timestamp"), ==, timestamp);

  /* age_s is the distance to the server's clock, the same clock as ours. */
  ts = g_date_time_new_from_iso8601 (timestamp, NULL);
  g_assert_nonnull (ts);
  age_now = (g_get_real_time () / 1000000.0) - g_date_time_to_unix (ts);
  g_assert_true (json_object_has_member (obj, "age_s"));
  g_assert_cmpfloat (json_object_get_double_member (obj, "age_s"), >, age_now - 60);
  g_assert_cmpfloat (json_object_get_double_member (obj, "age_s"), <=, age_now + 1);

  return obj;
}

static JsonArray *
latest (ReadingsFixture *fx,
        const char      *query)
{
  g_autofree char *path = g_strconcat ("/api/energy/energy-data/latest", query, NULL);

  return get_results (fx, path, 0);
}

static void
test_latest (ReadingsFixture *fx,
             gconstpointer    data)
{
  g_autoptr(JsonArray) results = NULL;
  g_autofree char *query = NULL;
  JsonObject *obj;

  /* Every meter with readings, by id; c has none and is left out. */
  results = latest (fx, "");
  g_assert_cmpuint (json_array_get_length (results), ==, 3);
  obj = latest_of (results, 0, fx->a, "2025-10-16T10:15:00Z");
  g_assert_cmpfloat (json_object_get_double_member (obj, "total_power"), ==, 50);
  g_assert_cmpfloat (json_object_get_double_member (obj, "total_energy"), ==, 12);
  g_assert_cmpstr (json_object_get_string_member (obj, "breaker_state"), ==, "closed");
  g_assert_cmpfloat (json_object_get_double_member (json_object_get_object_member (obj, "extras"), "temperature"),
                     ==, 21.5);
  g_assert_false (json_object_has_member (obj, "voltage_a"));
  obj = latest_of (results, 1, fx->b, "2025-10-16T10:05:00Z");
  g_assert_cmpfloat (json_object_get_double_member (obj, "total_power"), ==, 1000);
  g_assert_cmpfloat (json_object_get_double_member (obj, "voltage_a"), ==, 231.5);
  latest_of (results, 2, fx->d, "2025-10-16T11:00:00Z");
  g_clear_pointer (&results, json_array_unref);

  /* By site, by several sites. */
  query = g_strdup_printf ("?site_id=%" G_GINT64_FORMAT, fx->site);
  results = latest (fx, query);
  g_assert_cmpuint (json_array_get_length (results), ==, 2);
  latest_of (results, 0, fx->a, "2025-10-16T10:15:00Z");
  latest_of (results, 1, fx->b, "2025-10-16T10:05:00Z");
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&query, g_free);

  query = g_strdup_printf ("/?site_id=%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT, fx->other_site, fx->site);
  results = latest (fx, query);
  g_assert_cmpuint (json_array_get_length (results), ==, 3);
  latest_of (results, 0, fx->a, "2025-10-16T10:15:00Z");
  latest_of (results, 2, fx->d, "2025-10-16T11:00:00Z");
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&query, g_free);

  /* By group: b and c, and c has nothing. */
  query = g_strdup_printf ("?group_id=%" G_GINT64_FORMAT, fx->group);
  results = latest (fx, query);
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  latest_of (results, 0, fx->b, "2025-10-16T10:05:00Z");
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&query, g_free);

  /* By meter; a meter without readings gives an empty list, not a 404. */
  query = g_strdup_printf ("?meter_id=%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT,
                           fx->d, fx->c, fx->d);
  results = latest (fx, query);
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  latest_of (results, 0, fx->d, "2025-10-16T11:00:00Z");
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&query, g_free);

  query = g_strdup_printf ("?meter_id=%" G_GINT64_FORMAT, fx->c);
  results = latest (fx, query);
  g_assert_cmpuint (json_array_get_length (results), ==, 0);
  g_clear_pointer (&results, json_array_unref);
  g_clear_pointer (&query, g_free);

  /* A newer reading replaces the answer. */
  post_bulk (fx, fx->b_key, "[{\"timestamp\":\"2025-10-16T10:05:00.250Z\",\"total_power\":1}]");
  query = g_strdup_printf ("?meter_id=%" G_GINT64_FORMAT, fx->b);
  results = latest (fx, query);
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  obj = latest_of (results, 0, fx->b, "2025-10-16T10:05:00.250Z");
  g_assert_cmpfloat (json_object_get_double_member (obj, "total_power"), ==, 1);
  g_assert_false (json_object_has_member (obj, "voltage_a"));
}

/* GET @path with the meters:read token: @status, naming @field (NULL: no field). */
static void
assert_refused (ReadingsFixture *fx,
                const char      *path,
                guint            status,
                const char      *field)
{
  g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, "GET", path, fx->token, NULL);
  const char *named;

  if (res->status != status)
    g_error ("GET %s: expected %u, got %u: %.*s", path, status, res->status,
             (int) g_bytes_get_size (res->body), body_text (res));
  named = sy_test_assert_problem (res, status);
  if (g_strcmp0 (named, field) != 0)
    g_error ("GET %s: the problem names \"%s\", expected \"%s\"", path, named ? named : "(none)",
             field ? field : "(none)");
}

static void
test_bad_parameters (ReadingsFixture *fx,
                     gconstpointer    data)
{
  static const struct
  {
    const char *query;      /* after "?meter_id=<a>" */
    const char *field;
  } rollup_cases[] = {
    { "", "bucket" },
    { "&bucket=", "bucket" },
    { "&bucket=5m", "bucket" },
    { "&bucket=60", "bucket" },
    { "&bucket=1M", "bucket" },
    { "&bucket=1m&from=yesterday", "from" },
    { "&bucket=1m&to=2025-10-16", "to" },
    { "&bucket=1m&from=2025-10-16T10:00:00Z&to=2025-10-16T10:00:00Z", "to" },
    { "&bucket=1m&from=2025-10-16T11:00:00Z&to=2025-10-16T10:00:00Z", "to" },
    /* 100 000 one-minute buckets fit, one more does not. */
    { "&bucket=1m&from=2025-01-01T00:00:00Z&to=2025-03-11T10:40:00.001Z", "to" },
    { "&bucket=1m&from=2020-01-01T00:00:00Z", "from" },
    { "&bucket=1h&from=2000-01-01T00:00:00Z&to=2025-01-01T00:00:00Z", "to" },
  };
  static const char * const bad_ids[] = { "abc", "0", "-1", "1,", ",1", "1,,2", "1;2", "1.5", " 1",
                                          "99999999999999999999" };

  for (guint i = 0; i < G_N_ELEMENTS (rollup_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%" G_GINT64_FORMAT "%s",
                                               fx->a, rollup_cases[i].query);

      assert_refused (fx, path, 400, rollup_cases[i].field);
    }

  /* Exactly 100 000 buckets are fine. */
  {
    g_autofree char *path = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%" G_GINT64_FORMAT
                                             "&bucket=1m&from=2025-01-01T00:00:00Z&to=2025-03-11T10:40:00Z", fx->a);
    g_autoptr(JsonArray) results = get_results (fx, path, 60);

    g_assert_cmpuint (json_array_get_length (results), ==, 0);
  }

  for (guint i = 0; i < G_N_ELEMENTS (bad_ids); i++)
    {
      g_autofree char *escaped = g_uri_escape_string (bad_ids[i], ",", FALSE);
      g_autofree char *rollups = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%s&bucket=1m", escaped);
      g_autofree char *by_meter = g_strdup_printf ("/api/energy/energy-data/latest?meter_id=%s", escaped);
      g_autofree char *by_site = g_strdup_printf ("/api/energy/energy-data/latest?site_id=%s", escaped);
      g_autofree char *by_group = g_strdup_printf ("/api/energy/energy-data/latest?group_id=%s", escaped);

      assert_refused (fx, rollups, 400, "meter_id");
      assert_refused (fx, by_meter, 400, "meter_id");
      assert_refused (fx, by_site, 400, "site_id");
      assert_refused (fx, by_group, 400, "group_id");
    }

  /* meter_id is required for rollups. */
  assert_refused (fx, "/api/energy/energy-data/rollups?bucket=1m", 400, "meter_id");
  assert_refused (fx, "/api/energy/energy-data/rollups?meter_id=&bucket=1m", 400, "meter_id");

  /* Unknown ids: 404 alone, 400 naming the field in a list. */
  {
    g_autofree char *one = g_strdup ("/api/energy/energy-data/rollups?meter_id=987654&bucket=1m");
    g_autofree char *list = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%" G_GINT64_FORMAT
                                             ",987654&bucket=1m", fx->a);
    g_autofree char *latest_list = g_strdup_printf ("/api/energy/energy-data/latest?meter_id=%" G_GINT64_FORMAT
                                                    ",987654", fx->a);
    g_autofree char *site_list = g_strdup_printf ("/api/energy/energy-data/latest?site_id=%" G_GINT64_FORMAT
                                                  ",987654", fx->site);

    assert_refused (fx, one, 404, NULL);
    assert_refused (fx, list, 400, "meter_id");
    assert_refused (fx, "/api/energy/energy-data/latest?meter_id=987654", 404, NULL);
    assert_refused (fx, latest_list, 400, "meter_id");
    assert_refused (fx, "/api/energy/energy-data/latest?site_id=987654", 404, NULL);
    assert_refused (fx, site_list, 400, "site_id");
    assert_refused (fx, "/api/energy/energy-data/latest?group_id=987654", 404, NULL);
  }

  /* At most one filter for latest; the problem names the second. */
  {
    g_autofree char *site_meter = g_strdup_printf ("/api/energy/energy-data/latest?site_id=%" G_GINT64_FORMAT
                                                   "&meter_id=%" G_GINT64_FORMAT, fx->site, fx->a);
    g_autofree char *site_group = g_strdup_printf ("/api/energy/energy-data/latest?group_id=%" G_GINT64_FORMAT
                                                   "&site_id=%" G_GINT64_FORMAT, fx->group, fx->site);

    assert_refused (fx, site_meter, 400, "meter_id");
    assert_refused (fx, site_group, 400, "group_id");
  }

  /* Too many ids, or too many buckets for all of them together. */
  {
    g_autoptr(GString) ids = g_string_new (NULL);
    g_autofree char *rollups = NULL;
    g_autofree char *wide = NULL;

    for (guint i = 1; i <= 101; i++)
      g_string_append_printf (ids, "%s%u", i > 1 ? "," : "", i);
    rollups = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%s&bucket=1d", ids->str);
    assert_refused (fx, rollups, 400, "meter_id");

    /* 20 meters x 60 000 buckets. */
    g_string_truncate (ids, 0);
    for (guint i = 1; i <= 20; i++)
      g_string_append_printf (ids, "%s%u", i > 1 ? "," : "", i);
    wide = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%s&bucket=1m"
                            "&from=2025-01-01T00:00:00Z&to=2025-02-11T16:00:00Z", ids->str);
    assert_refused (fx, wide, 400, "meter_id");
  }
}

static void
test_access (ReadingsFixture *fx,
             gconstpointer    data)
{
  g_autofree char *writer = sy_test_daemon_token (fx->daemon, "meters:write");
  g_autofree char *rollups = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%" G_GINT64_FORMAT "&bucket=1m",
                                              fx->a);
  const char *paths[] = { "/api/energy/energy-data/latest", rollups };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(SyTestResponse) anonymous = sy_test_json (fx->daemon, "GET", paths[i], NULL, NULL);
      g_autoptr(SyTestResponse) forbidden = sy_test_json (fx->daemon, "GET", paths[i], writer, NULL);
      g_autoptr(SyTestResponse) bogus = sy_test_json (fx->daemon, "GET", paths[i], "not-a-token", NULL);
      g_autoptr(SyTestResponse) admin = sy_test_json (fx->daemon, "GET", paths[i], fx->admin, NULL);
      g_autoptr(SyTestResponse) post = sy_test_json (fx->daemon, "POST", paths[i], fx->token, "{}");

      sy_test_assert_problem (anonymous, 401);
      sy_test_assert_problem (bogus, 401);
      sy_test_assert_problem (forbidden, 403);
      sy_test_assert_problem (post, 405);
      assert_status (admin, 200, paths[i]);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/switchyard/api/readings/" path, ReadingsFixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("rollups", test_rollups);
  ADD ("latest", test_latest);
  ADD ("bad-parameters", test_bad_parameters);
  ADD ("access", test_access);
#undef ADD

  return g_test_run ();
}
