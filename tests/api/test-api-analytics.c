/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-api-analytics"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sy-test-util.h"

/* /api/energy/analytics/ against the real daemon, on readings with known answers: a register
 * reset inside a quarter hour, a 45-minute gap, partial quarter hours at both ends, an empty
 * range, a meter with one reading, a site with grid, PV and battery, and bad parameters.
 *
 * Meter A (load, 12 kW, a reading every 5 minutes, +1 kWh each), 2025-10-16 UTC:
 *   10:00 100 | 10:05 101 | ... | 10:30 106 | 10:35 0.5 (reset) | 10:40 1.5 | 10:45 2.5
 *   (10:40 and 10:45 at 24 kW) | gap | 11:30 10.5 | 11:35 11.5
 * Meter B (load, 6 kW): 10:00 50 | 10:30 53 | 11:00 56. Group AB = A + B.
 * Site S2: grid (signed) 12:00 1000 | 12:15 1001 | 12:30 1000.5 | 12:45 1000 | 13:00 1000,
 *   pv 200 | 200.5 | 201.5 | 202.5 | 203, battery 50 (12:00) | 50.5 (13:00). */

typedef struct
{
  SyTestDaemon *daemon;
  char         *token;      /* analytics:read */
  char         *admin;
  gint64        site;
  gint64        site2;
  gint64        a, b, c;
  gint64        grid, pv, battery;
  gint64        group;
} Fixture;

static Fixture fx;

static const char *
body_text (SyTestResponse *res)
{
  const char *data = g_bytes_get_data (res->body, NULL);

  return data != NULL ? data : "";
}

static JsonObject *
get_object (const char *path,
            guint       status)
{
  g_autoptr(SyTestResponse) res = sy_test_json (fx.daemon, "GET", path, fx.token, NULL);

  if (res->status != status)
    g_error ("GET %s: expected %u, got %u: %.*s", path, status, res->status,
             (int) g_bytes_get_size (res->body), body_text (res));

  return json_object_ref (sy_test_response_object (res));
}

static JsonObject *
call_admin (const char *method,
            const char *path,
            const char *body)
{
  g_autoptr(SyTestResponse) res = sy_test_json (fx.daemon, method, path, fx.admin, body);

  if (res->status != 201)
    g_error ("%s %s: %u %.*s", method, path, res->status, (int) g_bytes_get_size (res->body), body_text (res));
  return json_object_ref (sy_test_response_object (res));
}

static gint64
create_meter (gint64       site,
              const char  *kind,
              char       **key)
{
  g_autofree char *body = g_strdup_printf ("{\"name\":\"%s\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"%s\"}",
                                           kind, site, kind);
  g_autoptr(JsonObject) obj = call_admin ("POST", "/api/energy/meters", body);

  *key = g_strdup (json_object_get_string_member (obj, "device_key"));
  return json_object_get_int_member (obj, "id");
}

static void
post_bulk (const char *key,
           const char *body)
{
  const char *headers[] = { "X-Device-Key", key, NULL };
  g_autoptr(SyTestResponse) res = sy_test_request (fx.daemon, "POST", "/api/energy/energy-data/bulk", headers,
                                                   "application/json", body, -1);

  if (res->status != 201)
    g_error ("bulk: %u %.*s", res->status, (int) g_bytes_get_size (res->body), body_text (res));
}

static void
assert_number (JsonObject *obj,
               const char *member,
               double      expected)
{
  JsonNode *node = json_object_get_member (obj, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    g_error ("\"%s\" is missing or null, expected %g", member, expected);
  if (fabs (json_node_get_double (node) - expected) > 1e-6 * MAX (1.0, fabs (expected)))
    g_error ("\"%s\" is %.9g, expected %.9g", member, json_node_get_double (node), expected);
}

static void
assert_null (JsonObject *obj,
             const char *member)
{
  JsonNode *node = json_object_get_member (obj, member);

  g_assert_nonnull (node);
  if (!JSON_NODE_HOLDS_NULL (node))
    g_error ("\"%s\" should be null", member);
}

static void
setup_data (void)
{
  g_autofree char *a_key = NULL, *b_key = NULL, *c_key = NULL;
  g_autofree char *g_key = NULL, *pv_key = NULL, *bat_key = NULL;
  g_autofree char *group_body = NULL;
  g_autoptr(JsonObject) site = NULL;
  g_autoptr(JsonObject) site2 = NULL;
  g_autoptr(JsonObject) group = NULL;
  g_autoptr(GString) a = g_string_new ("[");

  fx.daemon = sy_test_daemon_new (NULL);
  sy_test_daemon_start (fx.daemon);
  fx.admin = sy_test_daemon_token (fx.daemon, "admin");
  fx.token = sy_test_daemon_token (fx.daemon, "analytics:read");

  site = call_admin ("POST", "/api/energy/sites", "{\"name\":\"Analytics\"}");
  fx.site = json_object_get_int_member (site, "id");
  site2 = call_admin ("POST", "/api/energy/sites", "{\"name\":\"Solar\",\"latitude\":52.52,\"longitude\":13.4}");
  fx.site2 = json_object_get_int_member (site2, "id");

  fx.a = create_meter (fx.site, "load", &a_key);
  fx.b = create_meter (fx.site, "load", &b_key);
  fx.c = create_meter (fx.site, "load", &c_key);
  fx.grid = create_meter (fx.site2, "grid", &g_key);
  fx.pv = create_meter (fx.site2, "pv", &pv_key);
  fx.battery = create_meter (fx.site2, "battery", &bat_key);

  group_body = g_strdup_printf ("{\"name\":\"AB\",\"meter_ids\":[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "]}",
                                fx.a, fx.b);
  group = call_admin ("POST", "/api/energy/groups", group_body);
  fx.group = json_object_get_int_member (group, "id");

  for (guint i = 0; i <= 6; i++)
    g_string_append_printf (a, "{\"timestamp\":\"2025-10-16T10:%02u:00Z\",\"total_power\":12000,\"total_energy\":%u},",
                            i * 5, 100 + i);
  g_string_append (a,
                   "{\"timestamp\":\"2025-10-16T10:35:00Z\",\"total_power\":12000,\"total_energy\":0.5},"
                   "{\"timestamp\":\"2025-10-16T10:40:00Z\",\"total_power\":24000,\"total_energy\":1.5},"
                   "{\"timestamp\":\"2025-10-16T10:45:00Z\",\"total_power\":24000,\"total_energy\":2.5},"
                   "{\"timestamp\":\"2025-10-16T11:30:00Z\",\"total_power\":12000,\"total_energy\":10.5},"
                   "{\"timestamp\":\"2025-10-16T11:35:00Z\",\"total_power\":12000,\"total_energy\":11.5}]");
  post_bulk (a_key, a->str);

  post_bulk (b_key,
             "[{\"timestamp\":\"2025-10-16T10:00:00Z\",\"total_power\":6000,\"total_energy\":50},"
             " {\"timestamp\":\"2025-10-16T10:30:00Z\",\"total_power\":6000,\"total_energy\":53},"
             " {\"timestamp\":\"2025-10-16T11:00:00Z\",\"total_power\":6000,\"total_energy\":56}]");

  /* One reading, now (for the live trail and the one-reading KPI). */
  post_bulk (c_key, "[{\"total_power\":750,\"total_energy\":5}]");

  post_bulk (g_key,
             "[{\"timestamp\":\"2025-10-16T12:00:00Z\",\"total_power\":4000,\"total_energy\":1000},"
             " {\"timestamp\":\"2025-10-16T12:15:00Z\",\"total_power\":4000,\"total_energy\":1001},"
             " {\"timestamp\":\"2025-10-16T12:30:00Z\",\"total_power\":-2000,\"total_energy\":1000.5},"
             " {\"timestamp\":\"2025-10-16T12:45:00Z\",\"total_power\":-2000,\"total_energy\":1000},"
             " {\"timestamp\":\"2025-10-16T13:00:00Z\",\"total_power\":0,\"total_energy\":1000}]");
  post_bulk (pv_key,
             "[{\"timestamp\":\"2025-10-16T12:00:00Z\",\"total_power\":2000,\"total_energy\":200},"
             " {\"timestamp\":\"2025-10-16T12:15:00Z\",\"total_power\":4000,\"total_energy\":200.5},"
             " {\"timestamp\":\"2025-10-16T12:30:00Z\",\"total_power\":4000,\"total_energy\":201.5},"
             " {\"timestamp\":\"2025-10-16T12:45:00Z\",\"total_power\":2000,\"total_energy\":202.5},"
             " {\"timestamp\":\"2025-10-16T13:00:00Z\",\"total_power\":0,\"total_energy\":203}]");
  post_bulk (bat_key,
             "[{\"timestamp\":\"2025-10-16T12:00:00Z\",\"total_power\":500,\"total_energy\":50},"
             " {\"timestamp\":\"2025-10-16T13:00:00Z\",\"total_power\":500,\"total_energy\":50.5}]");
}

static JsonObject *
kpi (const char *entity,
     gint64      id,
     const char *from,
     const char *to)
{
  g_autofree char *path = g_strdup_printf ("/api/energy/analytics/kpi?%s=%" G_GINT64_FORMAT "&from=%s&to=%s",
                                           entity, id, from, to);

  return get_object (path, 200);
}

static void
test_kpi_meter (void)
{
  g_autoptr(JsonObject) obj = kpi ("meter_id", fx.a, "2025-10-16T10:00:00Z", "2025-10-16T12:00:00Z");

  /* 6 steps of 1, the reset (nothing), 2 steps of 1, 8 across the gap, 1. */
  assert_number (obj, "energy_imported_kwh", 17);
  assert_number (obj, "energy_exported_kwh", 0);
  g_assert_cmpint (json_object_get_int_member (obj, "register_resets"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (obj, "readings"), ==, 12);
  /* Typical interval 5 min: 24 expected in two hours. */
  g_assert_cmpint (json_object_get_int_member (obj, "expected_readings"), ==, 24);
  assert_number (obj, "completeness_pct", 50);
  assert_number (obj, "avg_power_w", 14000);
  assert_number (obj, "peak_power_w", 24000);
  assert_number (obj, "peak_demand_15min_kw", 24);
  g_assert_cmpstr (json_object_get_string_member (obj, "peak_demand_at"), ==, "2025-10-16T10:45:00Z");
  assert_number (obj, "load_factor", 14000.0 / 24000.0);
  assert_null (obj, "pv_yield_kwh");
  assert_null (obj, "self_consumption_pct");
  assert_null (obj, "autarky_pct");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (obj, "entity"), "type"), ==, "meter");
}

static void
test_kpi_partial_quarters (void)
{
  /* Raw edges [10:07, 10:15) and [10:45, 10:52); the energy starts from 10:05 (101). */
  g_autoptr(JsonObject) obj = kpi ("meter_id", fx.a, "2025-10-16T10:07:00Z", "2025-10-16T10:52:00Z");

  assert_number (obj, "energy_imported_kwh", 7);
  g_assert_cmpint (json_object_get_int_member (obj, "readings"), ==, 8);
  /* Only whole quarters count for demand: 10:15 (12 kW) and 10:30 (16 kW). */
  assert_number (obj, "peak_demand_15min_kw", 16);
  g_assert_cmpstr (json_object_get_string_member (obj, "peak_demand_at"), ==, "2025-10-16T10:30:00Z");
  assert_number (obj, "peak_power_w", 24000);
}

static void
test_kpi_empty_and_one (void)
{
  g_autoptr(JsonObject) empty = kpi ("meter_id", fx.a, "2025-10-17T00:00:00Z", "2025-10-17T01:00:00Z");
  g_autoptr(JsonObject) one = NULL;
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) before = g_date_time_add_hours (now, -1);
  g_autoptr(GDateTime) after = g_date_time_add_minutes (now, 5);

  assert_number (empty, "energy_imported_kwh", 0);
  g_assert_cmpint (json_object_get_int_member (empty, "readings"), ==, 0);
  assert_null (empty, "avg_power_w");
  assert_null (empty, "peak_power_w");
  assert_null (empty, "peak_demand_15min_kw");
  assert_null (empty, "peak_demand_at");
  assert_null (empty, "load_factor");
  g_assert_cmpint (json_object_get_int_member (empty, "expected_readings"), ==, 12);
  assert_number (empty, "completeness_pct", 0);

  from = g_date_time_format (before, "%Y-%m-%dT%H:%M:%SZ");
  to = g_date_time_format (after, "%Y-%m-%dT%H:%M:%SZ");
  one = kpi ("meter_id", fx.c, from, to);
  assert_number (one, "energy_imported_kwh", 0);
  g_assert_cmpint (json_object_get_int_member (one, "readings"), ==, 1);
  assert_number (one, "avg_power_w", 750);
  assert_number (one, "peak_power_w", 750);
  /* One reading has no interval: completeness cannot be known. */
  assert_null (one, "expected_readings");
  assert_null (one, "completeness_pct");
}

static void
test_kpi_group_and_site (void)
{
  g_autoptr(JsonObject) group = kpi ("group_id", fx.group, "2025-10-16T10:00:00Z", "2025-10-16T12:00:00Z");
  g_autoptr(JsonObject) site = kpi ("site_id", fx.site2, "2025-10-16T12:00:00Z", "2025-10-16T13:15:00Z");

  /* A 17 + B 6; demand is coincident: 10:30 is A 16 kW + B 6 kW, 10:45 is A 24 kW alone. */
  assert_number (group, "energy_imported_kwh", 23);
  g_assert_cmpint (json_object_get_int_member (group, "meters"), ==, 2);
  assert_number (group, "avg_power_w", 14000 + 6000);
  assert_number (group, "peak_demand_15min_kw", 24);

  /* Grid: +1, -0.5, -0.5; PV 3; battery net +0.5. */
  g_assert_cmpint (json_object_get_int_member (site, "meters"), ==, 3);
  assert_number (site, "energy_imported_kwh", 1);
  assert_number (site, "energy_exported_kwh", 1);
  assert_number (site, "pv_yield_kwh", 3);
  assert_number (site, "consumption_kwh", 2.5);
  assert_number (site, "self_consumption_pct", 100.0 * 2 / 3);
  assert_number (site, "autarky_pct", 60);
  assert_number (site, "peak_demand_15min_kw", 4);
  g_assert_cmpstr (json_object_get_string_member (site, "peak_demand_at"), ==, "2025-10-16T12:00:00Z");
  g_assert_cmpint (json_object_get_int_member (site, "register_resets"), ==, 0);
}

static JsonArray *
matrix_values (JsonObject *obj,
               guint       row)
{
  JsonArray *values = json_object_get_array_member (obj, "values");

  g_assert_cmpuint (row, <, json_array_get_length (values));
  return json_array_get_array_element (values, row);
}

static void
assert_cell (JsonArray *row,
             guint      column,
             double     expected)
{
  JsonNode *node = json_array_get_element (row, column);

  if (isnan (expected))
    {
      g_assert_true (JSON_NODE_HOLDS_NULL (node));
      return;
    }
  g_assert_false (JSON_NODE_HOLDS_NULL (node));
  g_assert_cmpfloat_with_epsilon (json_node_get_double (node), expected, 1e-6);
}

static void
test_matrix (void)
{
  g_autofree char *path = g_strdup_printf ("/api/energy/analytics/matrix?meter_id=%" G_GINT64_FORMAT
                                           "&group_id=%" G_GINT64_FORMAT
                                           "&bucket=hour&from=2025-10-16T10:00:00Z&to=2025-10-16T12:00:00Z",
                                           fx.a, fx.group);
  g_autoptr(JsonObject) obj = get_object (path, 200);
  JsonArray *columns = json_object_get_array_member (obj, "columns");
  JsonArray *rows = json_object_get_array_member (obj, "rows");
  g_autoptr(JsonObject) power = NULL;
  g_autoptr(JsonObject) quarter = NULL;
  g_autoptr(JsonObject) weekly = NULL;
  g_autofree char *power_path = NULL;
  g_autofree char *quarter_path = NULL;
  g_autofree char *weekly_path = NULL;

  g_assert_cmpstr (json_object_get_string_member (obj, "unit"), ==, "kWh");
  g_assert_cmpuint (json_array_get_length (columns), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (columns, 0), ==, "2025-10-16T10:00:00Z");
  g_assert_cmpstr (json_array_get_string_element (columns, 1), ==, "2025-10-16T11:00:00Z");
  g_assert_cmpuint (json_array_get_length (rows), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 1), "type"), ==, "group");

  /* The hour holding the reset is replayed from the raw readings: 6 + 0 + 1 + 1. */
  assert_cell (matrix_values (obj, 0), 0, 8);
  assert_cell (matrix_values (obj, 0), 1, 9);
  assert_cell (matrix_values (obj, 1), 0, 11);
  assert_cell (matrix_values (obj, 1), 1, 12);

  power_path = g_strdup_printf ("/api/energy/analytics/matrix?meter_id=%" G_GINT64_FORMAT
                                "&bucket=hour&metric=avg_power&from=2025-10-16T10:00:00Z&to=2025-10-16T13:00:00Z",
                                fx.a);
  power = get_object (power_path, 200);
  g_assert_cmpstr (json_object_get_string_member (power, "unit"), ==, "W");
  assert_cell (matrix_values (power, 0), 0, 14400);
  assert_cell (matrix_values (power, 0), 1, 12000);
  assert_cell (matrix_values (power, 0), 2, NAN);

  /* Partial columns at both ends: 10:07 and 10:52 fall in the 10:00 and 10:45 quarters. */
  quarter_path = g_strdup_printf ("/api/energy/analytics/matrix?meter_id=%" G_GINT64_FORMAT
                                  "&bucket=15min&metric=max_power&from=2025-10-16T10:07:00Z&to=2025-10-16T10:52:00Z",
                                  fx.a);
  quarter = get_object (quarter_path, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (quarter, "columns")), ==, 4);
  assert_cell (matrix_values (quarter, 0), 2, 24000);
  assert_cell (matrix_values (quarter, 0), 3, 24000);

  /* 2025-10-16 is a Thursday: column 3 * 24 + 10. */
  weekly_path = g_strdup_printf ("/api/energy/analytics/matrix?meter_id=%" G_GINT64_FORMAT
                                 "&bucket=weekday_hour&from=2025-10-13T00:00:00Z&to=2025-10-20T00:00:00Z", fx.a);
  weekly = get_object (weekly_path, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (weekly, "columns")), ==, 168);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (weekly, "columns"), 82), ==,
                   "Thu 10:00");
  assert_cell (matrix_values (weekly, 0), 82, 8);
  assert_cell (matrix_values (weekly, 0), 83, 9);
  assert_cell (matrix_values (weekly, 0), 84, NAN);
}

static SyTestResponse *
get_raw (const char *path,
         const char *token)
{
  g_autofree char *auth = token ? g_strdup_printf ("Bearer %s", token) : NULL;
  const char *headers[] = { "Authorization", auth, NULL };

  return sy_test_request (fx.daemon, "GET", path, token ? headers : NULL, NULL, NULL, 0);
}

static void
test_export (void)
{
  g_autofree char *csv_path = g_strdup_printf ("/api/energy/analytics/export?meter_id=%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                                               "&from=2025-10-16T10:00:00Z&to=2025-10-16T12:00:00Z",
                                               fx.a, fx.b);
  g_autofree char *json_path = g_strconcat (csv_path, "&format=json", NULL);
  g_autofree char *hour_path = g_strdup_printf ("/api/energy/analytics/export?meter_id=%" G_GINT64_FORMAT
                                                "&bucket=1h&from=2025-10-16T10:00:00Z&to=2025-10-16T12:00:00Z", fx.a);
  g_autoptr(SyTestResponse) csv = get_raw (csv_path, fx.token);
  g_autoptr(SyTestResponse) json = get_raw (json_path, fx.token);
  g_autoptr(SyTestResponse) hours = get_raw (hour_path, fx.token);
  g_autofree char *text = NULL;
  g_autofree char *hour_text = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) hour_lines = NULL;
  g_autofree char *first = NULL;

  g_assert_cmpuint (csv->status, ==, 200);
  g_assert_true (g_str_has_prefix (csv->content_type, "text/csv"));
  g_assert_cmpint (soup_message_headers_get_encoding (csv->headers), ==, SOUP_ENCODING_CHUNKED);
  text = g_strndup (g_bytes_get_data (csv->body, NULL), g_bytes_get_size (csv->body));
  lines = g_strsplit (text, "\r\n", -1);
  /* Header, 12 + 3 rows, and the empty string after the last CRLF. */
  g_assert_cmpuint (g_strv_length (lines), ==, 1 + 12 + 3 + 1);
  g_assert_cmpstr (lines[16], ==, "");
  g_assert_true (g_str_has_prefix (lines[0], "meter_id,timestamp,total_power [W],total_energy [kWh],voltage_a [V]"));
  g_assert_true (g_str_has_suffix (lines[0], ",breaker_state"));
  first = g_strdup_printf ("%" G_GINT64_FORMAT ",2025-10-16T10:35:00Z,12000,0.5,,,,,,,,,,,", fx.a);
  g_assert_cmpstr (lines[8], ==, first);

  g_assert_cmpuint (json->status, ==, 200);
  g_assert_nonnull (json->json);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (json->json), "count"), ==, 15);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (json->json),
                                                                         "results")), ==, 15);

  g_assert_cmpuint (hours->status, ==, 200);
  hour_text = g_strndup (g_bytes_get_data (hours->body, NULL), g_bytes_get_size (hours->body));
  hour_lines = g_strsplit (hour_text, "\r\n", -1);
  g_assert_cmpstr (hour_lines[0], ==, "meter_id,bucket_start,count [1],avg_power [W],min_power [W],max_power [W],energy [kWh]");
  g_assert_true (g_str_has_suffix (hour_lines[1], ",2025-10-16T10:00:00Z,10,14400,12000,24000,8"));
  g_assert_true (g_str_has_suffix (hour_lines[2], ",2025-10-16T11:00:00Z,2,12000,12000,12000,9"));
}

static void
test_live_trail (void)
{
  g_autofree char *path = g_strdup_printf ("/api/energy/analytics/live_trail?meter_id=%" G_GINT64_FORMAT "&seconds=3600", fx.c);
  g_autofree char *old = g_strdup_printf ("/api/energy/analytics/live_trail?group_id=%" G_GINT64_FORMAT, fx.group);
  g_autoptr(JsonObject) obj = get_object (path, 200);
  g_autoptr(JsonObject) none = get_object (old, 200);
  JsonArray *results = json_object_get_array_member (obj, "results");

  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  assert_number (json_array_get_object_element (results, 0), "total_power", 750);
  g_assert_cmpint (json_object_get_int_member (obj, "seconds"), ==, 3600);
  /* The group's readings are from 2025: nothing in the last 900 s, but both members listed. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (none, "results")), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (none, "meter_ids")), ==, 2);
}

static void
expect_field (const char *path,
              const char *field)
{
  g_autoptr(SyTestResponse) res = get_raw (path, fx.token);
  const char *got = sy_test_assert_problem (res, 400);

  if (g_strcmp0 (got, field) != 0)
    g_error ("%s: expected a 400 naming %s, got %s", path, field, got ? got : "(none)");
}

static void
test_bad_parameters (void)
{
  g_autofree char *both = g_strdup_printf ("/api/energy/analytics/kpi?meter_id=%" G_GINT64_FORMAT "&group_id=1", fx.a);
  g_autofree char *a = g_strdup_printf ("meter_id=%" G_GINT64_FORMAT, fx.a);
  g_autofree char *p = NULL;

  expect_field ("/api/energy/analytics/kpi", "meter_id");
  expect_field ("/api/energy/analytics/kpi?meter_id=abc", "meter_id");
  expect_field ("/api/energy/analytics/kpi?meter_id=0", "meter_id");
  expect_field (both, "group_id");
  expect_field ("/api/energy/analytics/kpi?account_id=1", "account_id");

  p = g_strdup_printf ("/api/energy/analytics/kpi?%s&from=yesterday", a);
  expect_field (p, "from");
  g_free (p);
  p = g_strdup_printf ("/api/energy/analytics/kpi?%s&from=2025-10-16T12:00:00Z&to=2025-10-16T11:00:00Z", a);
  expect_field (p, "to");
  g_free (p);
  p = g_strdup_printf ("/api/energy/analytics/kpi?%s&from=2015-10-16T12:00:00Z&to=2025-10-16T11:00:00Z", a);
  expect_field (p, "to");
  g_free (p);
  p = g_strdup_printf ("/api/energy/analytics/matrix?%s&bucket=week", a);
  expect_field (p, "bucket");
  g_free (p);
  p = g_strdup_printf ("/api/energy/analytics/matrix?%s&metric=volts", a);
  expect_field (p, "metric");
  g_free (p);
  expect_field ("/api/energy/analytics/matrix?bucket=hour", "meter_id");
  expect_field ("/api/energy/analytics/matrix?meter_id=1,x", "meter_id");
  expect_field ("/api/energy/analytics/matrix?meter_id=999999,1", "meter_id");
  p = g_strdup_printf ("/api/energy/analytics/live_trail?%s&seconds=0", a);
  expect_field (p, "seconds");
  g_free (p);
  p = g_strdup_printf ("/api/energy/analytics/live_trail?%s&seconds=86401", a);
  expect_field (p, "seconds");
  g_free (p);
  expect_field ("/api/energy/analytics/live_trail?site_id=1", "site_id");
  expect_field ("/api/energy/analytics/export", "meter_id");
  p = g_strdup_printf ("/api/energy/analytics/export?%s&bucket=2h", a);
  expect_field (p, "bucket");
  g_free (p);
  p = g_strdup_printf ("/api/energy/analytics/export?%s&format=xml", a);
  expect_field (p, "format");
  g_free (p);
  p = g_strdup_printf ("/api/energy/analytics/export?%s&to=soon", a);
  expect_field (p, "to");
  g_clear_pointer (&p, g_free);

  /* Unknown single entities are 404s. */
  {
    g_autoptr(SyTestResponse) res = get_raw ("/api/energy/analytics/kpi?meter_id=999999", fx.token);
    g_autoptr(SyTestResponse) exp = get_raw ("/api/energy/analytics/export?meter_id=999999", fx.token);

    sy_test_assert_problem (res, 404);
    sy_test_assert_problem (exp, 404);
  }
}

static void
test_auth (void)
{
  g_autofree char *meters = sy_test_daemon_token (fx.daemon, "meters:read");
  g_autofree char *kpi_path = g_strdup_printf ("/api/energy/analytics/kpi?meter_id=%" G_GINT64_FORMAT, fx.a);
  g_autofree char *export_path = g_strdup_printf ("/api/energy/analytics/export?meter_id=%" G_GINT64_FORMAT, fx.a);
  g_autoptr(SyTestResponse) r1 = get_raw (kpi_path, NULL);
  g_autoptr(SyTestResponse) r2 = get_raw (kpi_path, meters);
  g_autoptr(SyTestResponse) r3 = get_raw (export_path, NULL);
  g_autoptr(SyTestResponse) r4 = get_raw (export_path, meters);
  g_autoptr(SyTestResponse) r5 = get_raw (export_path, fx.admin);

  sy_test_assert_problem (r1, 401);
  sy_test_assert_problem (r2, 403);
  sy_test_assert_problem (r3, 401);
  sy_test_assert_problem (r4, 403);
  g_assert_cmpuint (r5->status, ==, 200);
}

static void
test_forecast (void)
{
  g_autofree char *path = g_strdup_printf ("/api/energy/analytics/forecast?meter_id=%" G_GINT64_FORMAT
                                           "&from=2025-10-17T00:00:00Z&horizon_hours=2", fx.a);
  g_autofree char *now = g_strdup_printf ("/api/energy/analytics/forecast?meter_id=%" G_GINT64_FORMAT, fx.a);
  g_autofree char *a = g_strdup_printf ("meter_id=%" G_GINT64_FORMAT, fx.a);
  g_autofree char *p = NULL;
  g_autoptr(JsonObject) obj = get_object (path, 200);
  JsonArray *points = json_object_get_array_member (obj, "points");
  JsonObject *first;

  /* One morning of history: nothing to backtest, so auto takes the seasonal naive forecast,
   * which falls back to the last value (12 kW at 11:35) where a day ago is empty. */
  g_assert_cmpstr (json_object_get_string_member (obj, "method"), ==, "seasonal_naive");
  g_assert_cmpstr (json_object_get_string_member (obj, "requested_method"), ==, "auto");
  g_assert_cmpstr (json_object_get_string_member (obj, "target"), ==, "demand");
  g_assert_cmpstr (json_object_get_string_member (obj, "origin"), ==, "2025-10-17T00:00:00Z");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (obj, "accuracy"), "days"), ==, 0);
  g_assert_cmpuint (json_array_get_length (points), ==, 8);
  first = json_array_get_object_element (points, 0);
  g_assert_cmpstr (json_object_get_string_member (first, "timestamp"), ==, "2025-10-17T00:00:00Z");
  assert_number (first, "value", 12);
  assert_null (first, "lower");

  /* No history in the last 28 days. */
  {
    g_autoptr(SyTestResponse) res = get_raw (now, fx.token);

    sy_test_assert_problem (res, 409);
  }

  p = g_strdup_printf ("/api/energy/analytics/forecast?%s&method=arima", a);
  expect_field (p, "method");
  g_free (p);
  p = g_strdup_printf ("/api/energy/analytics/forecast?%s&method=clear_sky", a);
  expect_field (p, "method");
  g_free (p);
  p = g_strdup_printf ("/api/energy/analytics/forecast?%s&horizon_hours=0", a);
  expect_field (p, "horizon_hours");
  g_free (p);
  p = g_strdup_printf ("/api/energy/analytics/forecast?%s&target=wind", a);
  expect_field (p, "target");
  g_free (p);
  p = g_strdup_printf ("/api/energy/analytics/forecast?site_id=%" G_GINT64_FORMAT "&target=pv", fx.site);
  expect_field (p, "target");
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/switchyard/api/analytics/kpi/meter", test_kpi_meter);
  g_test_add_func ("/switchyard/api/analytics/kpi/partial-quarters", test_kpi_partial_quarters);
  g_test_add_func ("/switchyard/api/analytics/kpi/empty-and-one", test_kpi_empty_and_one);
  g_test_add_func ("/switchyard/api/analytics/kpi/group-and-site", test_kpi_group_and_site);
  g_test_add_func ("/switchyard/api/analytics/matrix", test_matrix);
  g_test_add_func ("/switchyard/api/analytics/export", test_export);
  g_test_add_func ("/switchyard/api/analytics/live-trail", test_live_trail);
  g_test_add_func ("/switchyard/api/analytics/bad-parameters", test_bad_parameters);
  g_test_add_func ("/switchyard/api/analytics/auth", test_auth);
  g_test_add_func ("/switchyard/api/analytics/forecast", test_forecast);

  setup_data ();
  status = g_test_run ();

  sy_test_daemon_stop (fx.daemon);
  sy_test_daemon_free (fx.daemon);
  g_free (fx.token);
  g_free (fx.admin);

  return status;
}
