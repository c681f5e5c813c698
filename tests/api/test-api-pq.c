/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-api-pq"

#include "config.h"

#include <string.h>

#include "sy-test-util.h"

/* /api/energy/pq/… and /api/energy/protection/… against the real daemon: thresholds and their
 * validation, events detected from posted readings, filters, acknowledgement, protection
 * events from devices (key and signature) and from readings, the EN 50160 weekly summary. */

#define SECRET         "pq-hmac-secret-for-the-breaker"
#define WAIT_TIMEOUT_S 10

typedef struct
{
  SyTestDaemon *daemon;
  char         *admin;
  char         *writer;         /* pq:read pq:write */
  char         *writer_client;  /* its client id */
  char         *reader;         /* pq:read */
  gint64        site;
  gint64        other_site;
  gint64        meter;          /* site */
  gint64        meter2;         /* site, signature required */
  gint64        other;          /* other_site */
  char         *meter_key;
  char         *meter2_key;
  char         *other_key;
  gint64        base_ms;        /* a whole minute, 50 minutes ago */
} PqFixture;

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
call (PqFixture  *fx,
      const char *token,
      const char *method,
      const char *path,
      const char *body,
      guint       status)
{
  g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, method, path, token, body);
  g_autofree char *what = g_strdup_printf ("%s %s", method, path);

  assert_status (res, status, what);
  return json_object_ref (sy_test_response_object (res));
}

/* Asserts a 400 naming @field. */
static void
assert_field_error (PqFixture  *fx,
                    const char *method,
                    const char *path,
                    const char *body,
                    const char *field)
{
  g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, method, path, fx->writer, body);
  const char *named = sy_test_assert_problem (res, 400);

  if (g_strcmp0 (named, field) != 0)
    g_error ("%s %s %s: expected an error on %s, got %s (%s)", method, path, body ? body : "", field,
             named ? named : "(none)", body_text (res));
}

static gint64
create_object (PqFixture   *fx,
               const char  *collection,
               const char  *body,
               char       **out_key)
{
  g_autoptr(JsonObject) obj = call (fx, fx->admin, "POST", collection, body, 201);

  if (out_key != NULL)
    *out_key = g_strdup (json_object_get_string_member (obj, "device_key"));
  return json_object_get_int_member (obj, "id");
}

static char *
token_for (PqFixture   *fx,
           const char  *scopes,
           char       **out_client_id)
{
  g_autoptr(JsonObject) client = sy_test_daemon_create_client (fx->daemon, "pq", scopes);
  g_autofree char *form = NULL;
  g_autoptr(SyTestResponse) res = NULL;

  form = soup_form_encode ("grant_type", "client_credentials",
                           "client_id", json_object_get_string_member (client, "client_id"),
                           "client_secret", json_object_get_string_member (client, "client_secret"),
                           NULL);
  res = sy_test_request (fx->daemon, "POST", "/api/oauth/token", NULL, "application/x-www-form-urlencoded", form, -1);
  assert_status (res, 200, "token");
  if (out_client_id != NULL)
    *out_client_id = g_strdup (json_object_get_string_member (client, "client_id"));

  return g_strdup (json_object_get_string_member (sy_test_response_object (res), "access_token"));
}

static void
fixture_setup (PqFixture     *fx,
               gconstpointer  data)
{
  g_autofree char *body = NULL;

  fx->daemon = sy_test_daemon_new (NULL);
  sy_test_daemon_start (fx->daemon);
  fx->admin = sy_test_daemon_token (fx->daemon, "admin");
  fx->writer = token_for (fx, "pq:read pq:write", &fx->writer_client);
  fx->reader = token_for (fx, "pq:read", NULL);

  fx->site = create_object (fx, "/api/energy/sites", "{\"name\":\"PQ\"}", NULL);
  fx->other_site = create_object (fx, "/api/energy/sites", "{\"name\":\"Elsewhere\"}", NULL);
  body = g_strdup_printf ("{\"name\":\"Incomer\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\"}", fx->site);
  fx->meter = create_object (fx, "/api/energy/meters", body, &fx->meter_key);
  g_free (body);
  body = g_strdup_printf ("{\"name\":\"Feeder\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"load\","
                          "\"hmac_secret\":\"" SECRET "\",\"require_signature\":true}", fx->site);
  fx->meter2 = create_object (fx, "/api/energy/meters", body, &fx->meter2_key);
  g_free (body);
  body = g_strdup_printf ("{\"name\":\"Other\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"grid\"}", fx->other_site);
  fx->other = create_object (fx, "/api/energy/meters", body, &fx->other_key);

  fx->base_ms = (g_get_real_time () / 1000 / 60000 - 50) * 60000;
}

static void
fixture_teardown (PqFixture     *fx,
                  gconstpointer  data)
{
  sy_test_daemon_stop (fx->daemon);
  sy_test_daemon_free (fx->daemon);
  g_free (fx->admin);
  g_free (fx->writer);
  g_free (fx->writer_client);
  g_free (fx->reader);
  g_free (fx->meter_key);
  g_free (fx->meter2_key);
  g_free (fx->other_key);
}

static char *
iso (gint64 ms)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (ms / 1000);
  g_autofree char *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");

  /* As the server writes them: milliseconds only when there are some. */
  if (ms % 1000 == 0)
    return g_strdup_printf ("%sZ", base);
  return g_strdup_printf ("%s.%03dZ", base, (int) (ms % 1000));
}

/* Posts readings "t_ms:va,vb,vc[,thd][;…]" relative to base_ms, in one bulk request. */
static void
post_trace (PqFixture  *fx,
            const char *key,
            const char *trace)
{
  g_auto(GStrv) samples = g_strsplit (trace, ";", -1);
  g_autoptr(GString) body = g_string_new ("[");
  const char *headers[] = { "X-Device-Key", key, NULL };
  g_autoptr(SyTestResponse) res = NULL;

  for (guint i = 0; samples[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (samples[i], ":", 2);
      g_auto(GStrv) values = g_strsplit (parts[1], ",", -1);
      g_autofree char *ts = iso (fx->base_ms + g_ascii_strtoll (parts[0], NULL, 10));

      g_string_append_printf (body, "%s{\"timestamp\":\"%s\",\"voltage_a\":%s,\"voltage_b\":%s,\"voltage_c\":%s",
                              i > 0 ? "," : "", ts, values[0], values[1], values[2]);
      if (values[3] != NULL)
        g_string_append_printf (body, ",\"thd_v_pct\":%s", values[3]);
      g_string_append_c (body, '}');
    }
  g_string_append_c (body, ']');

  res = sy_test_request (fx->daemon, "POST", "/api/energy/energy-data/bulk", headers, "application/json", body->str, -1);
  assert_status (res, 201, "POST bulk");
}

/* Events are written after the readings' commit: poll until @path lists @count events. */
static JsonObject *
wait_for_events (PqFixture  *fx,
                 const char *path,
                 gint64      count)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(JsonObject) page = call (fx, fx->reader, "GET", path, NULL, 200);

      if (json_object_get_int_member (page, "count") == count)
        return g_steal_pointer (&page);
      if (g_get_monotonic_time () > deadline)
        g_error ("%s: expected %" G_GINT64_FORMAT " events, have %" G_GINT64_FORMAT, path, count,
                 json_object_get_int_member (page, "count"));
      g_usleep (20000);
    }
}

static JsonObject *
result (JsonObject *page,
        guint       i)
{
  return json_array_get_object_element (json_object_get_array_member (page, "results"), i);
}

static void
test_config (PqFixture     *fx,
             gconstpointer  data)
{
  g_autofree char *exact = g_strdup_printf ("{\"meter_id\": %" G_GINT64_FORMAT ", \"sag_v_threshold\": 0.9, "
                                            "\"swell_v_threshold\": 1.1, \"thd_pct_threshold\": 5.0, "
                                            "\"imbalance_pct_threshold\": 2.0}", fx->meter);
  g_autofree char *path = g_strdup_printf ("/api/energy/pq/config?meter_id=%" G_GINT64_FORMAT, fx->meter);
  g_autofree char *path2 = g_strdup_printf ("/api/energy/pq/config?meter_id=%" G_GINT64_FORMAT, fx->meter2);
  g_autofree char *site_body = g_strdup_printf ("{\"site_id\": %" G_GINT64_FORMAT ", \"thd_pct_threshold\": 6, "
                                                "\"hysteresis_pct\": 3}", fx->site);
  g_autoptr(JsonObject) before = NULL;
  g_autoptr(JsonObject) set = NULL;
  g_autoptr(JsonObject) got = NULL;
  g_autoptr(JsonObject) inherited = NULL;
  JsonObject *sources;

  /* Defaults before anything is set. */
  before = call (fx, fx->reader, "GET", path, NULL, 200);
  g_assert_cmpfloat (json_object_get_double_member (before, "thd_pct_threshold"), ==, 8.0);
  g_assert_cmpfloat (json_object_get_double_member (before, "nominal_voltage"), ==, 230);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (before, "sources"), "sag_v_threshold"),
                   ==, "default");

  /* The exact body. */
  set = call (fx, fx->writer, "POST", "/api/energy/pq/config", exact, 200);
  g_assert_cmpint (json_object_get_int_member (set, "meter_id"), ==, fx->meter);
  g_assert_cmpfloat (json_object_get_double_member (set, "thd_pct_threshold"), ==, 5.0);
  g_assert_cmpfloat (json_object_get_double_member (set, "hysteresis_pct"), ==, 2.0);
  g_assert_cmpfloat (json_object_get_double_member (set, "interruption_v_threshold"), ==, 0.1);

  got = call (fx, fx->reader, "GET", path, NULL, 200);
  g_assert_cmpfloat (json_object_get_double_member (got, "sag_v_threshold"), ==, 0.9);
  g_assert_cmpfloat (json_object_get_double_member (got, "swell_v_threshold"), ==, 1.1);
  g_assert_cmpfloat (json_object_get_double_member (got, "thd_pct_threshold"), ==, 5.0);
  g_assert_cmpfloat (json_object_get_double_member (got, "imbalance_pct_threshold"), ==, 2.0);
  g_assert_cmpint (json_object_get_int_member (got, "voltage_min_duration_ms"), ==, 0);
  sources = json_object_get_object_member (got, "sources");
  g_assert_cmpstr (json_object_get_string_member (sources, "thd_pct_threshold"), ==, "meter");
  g_assert_cmpstr (json_object_get_string_member (sources, "hysteresis_pct"), ==, "default");

  /* Site defaults: the meter's own values win, the rest is inherited. */
  g_clear_pointer (&got, json_object_unref);
  got = call (fx, fx->writer, "POST", "/api/energy/pq/config", site_body, 200);
  g_assert_cmpint (json_object_get_int_member (got, "site_id"), ==, fx->site);
  g_assert_false (json_object_has_member (got, "meter_id"));
  g_clear_pointer (&got, json_object_unref);
  got = call (fx, fx->reader, "GET", path, NULL, 200);
  g_assert_cmpfloat (json_object_get_double_member (got, "thd_pct_threshold"), ==, 5.0);
  g_assert_cmpfloat (json_object_get_double_member (got, "hysteresis_pct"), ==, 3.0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (got, "sources"), "hysteresis_pct"),
                   ==, "site");
  inherited = call (fx, fx->reader, "GET", path2, NULL, 200);
  g_assert_cmpfloat (json_object_get_double_member (inherited, "thd_pct_threshold"), ==, 6.0);
  g_clear_pointer (&got, json_object_unref);
  {
    g_autofree char *site_path = g_strdup_printf ("/api/energy/pq/config?site_id=%" G_GINT64_FORMAT, fx->site);

    got = call (fx, fx->reader, "GET", site_path, NULL, 200);
    g_assert_cmpfloat (json_object_get_double_member (got, "thd_pct_threshold"), ==, 6.0);
    g_assert_cmpfloat (json_object_get_double_member (got, "sag_v_threshold"), ==, 0.9);
  }

  /* null inherits again. */
  {
    g_autofree char *reset = g_strdup_printf ("{\"meter_id\": %" G_GINT64_FORMAT ", \"thd_pct_threshold\": null}",
                                              fx->meter);
    g_autoptr(JsonObject) after = call (fx, fx->writer, "POST", "/api/energy/pq/config", reset, 200);

    g_assert_cmpfloat (json_object_get_double_member (after, "thd_pct_threshold"), ==, 6.0);
    g_assert_cmpfloat (json_object_get_double_member (after, "sag_v_threshold"), ==, 0.9);
  }

  /* Validation: each error names its field. */
  {
    static const struct
    {
      const char *fields;
      const char *field;
    } bad[] = {
      { "\"sag_v_threshold\": 1", "sag_v_threshold" },
      { "\"sag_v_threshold\": 1.05", "sag_v_threshold" },
      { "\"sag_v_threshold\": -0.9", "sag_v_threshold" },
      { "\"swell_v_threshold\": 1", "swell_v_threshold" },
      { "\"swell_v_threshold\": 0.95", "swell_v_threshold" },
      { "\"thd_pct_threshold\": -5", "thd_pct_threshold" },
      { "\"imbalance_pct_threshold\": -2.0", "imbalance_pct_threshold" },
      { "\"hysteresis_pct\": -1", "hysteresis_pct" },
      { "\"interruption_v_threshold\": 0.95", "interruption_v_threshold" },
      { "\"voltage_min_duration_ms\": -10", "voltage_min_duration_ms" },
      { "\"voltage_min_duration_ms\": 1.5", "voltage_min_duration_ms" },
      { "\"thd_pct_threshold\": \"5\"", "thd_pct_threshold" },
      { "\"sag\": 0.9", "sag" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree char *body = g_strdup_printf ("{\"meter_id\": %" G_GINT64_FORMAT ", %s}", fx->meter, bad[i].fields);

        assert_field_error (fx, "POST", "/api/energy/pq/config", body, bad[i].field);
      }
  }
  assert_field_error (fx, "POST", "/api/energy/pq/config", "{\"sag_v_threshold\": 0.8}", "meter_id");
  assert_field_error (fx, "POST", "/api/energy/pq/config", "{\"meter_id\": 999999}", "meter_id");
  {
    g_autofree char *both = g_strdup_printf ("{\"meter_id\": %" G_GINT64_FORMAT ", \"site_id\": %" G_GINT64_FORMAT "}",
                                             fx->meter, fx->site);

    assert_field_error (fx, "POST", "/api/energy/pq/config", both, "site_id");
  }
  assert_field_error (fx, "GET", "/api/energy/pq/config", NULL, "meter_id");

  /* A rejected change leaves the stored one alone. */
  g_clear_pointer (&got, json_object_unref);
  got = call (fx, fx->reader, "GET", path, NULL, 200);
  g_assert_cmpfloat (json_object_get_double_member (got, "sag_v_threshold"), ==, 0.9);

  /* Scopes. */
  {
    g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, "POST", "/api/energy/pq/config", fx->reader, exact);
    g_autoptr(SyTestResponse) anon = sy_test_json (fx->daemon, "GET", path, NULL, NULL);
    g_autoptr(SyTestResponse) missing = sy_test_json (fx->daemon, "GET", "/api/energy/pq/config?meter_id=999999",
                                                      fx->reader, NULL);

    sy_test_assert_problem (res, 403);
    sy_test_assert_problem (anon, 401);
    sy_test_assert_problem (missing, 404);
  }
}

static void
test_detection (PqFixture     *fx,
                gconstpointer  data)
{
  g_autofree char *path = g_strdup_printf ("/api/energy/pq/events?meter_id=%" G_GINT64_FORMAT "&state=closed", fx->meter);
  g_autoptr(JsonObject) page = NULL;
  g_autoptr(JsonObject) one = NULL;
  g_autofree char *one_path = NULL;
  JsonObject *dip;
  JsonArray *phases;

  /* Phase B sags to 78 % for 340 ms; B and A recover at different times. */
  post_trace (fx, fx->meter_key,
              "0:230,230,230;100:200,190,230;200:195,179.4,230;300:205,230,230;440:230,230,230");

  page = wait_for_events (fx, path, 1);
  dip = result (page, 0);
  g_assert_cmpstr (json_object_get_string_member (dip, "type"), ==, "dip");
  g_assert_cmpstr (json_object_get_string_member (dip, "state"), ==, "closed");
  g_assert_cmpint (json_object_get_int_member (dip, "duration_ms"), ==, 340);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (dip, "residual_voltage"), 179.4, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (dip, "value_pct_of_nominal"), 78, 1e-9);
  g_assert_cmpstr (json_object_get_string_member (dip, "worst_phase"), ==, "b");
  g_assert_cmpstr (json_object_get_string_member (dip, "dip_class"), ==, "2B");
  g_assert_cmpint (json_object_get_int_member (dip, "site_id"), ==, fx->site);
  phases = json_object_get_array_member (dip, "phases");
  g_assert_cmpuint (json_array_get_length (phases), ==, 2);
  g_assert_true (json_object_get_null_member (dip, "acknowledged"));

  one_path = g_strdup_printf ("/api/energy/pq/events/%" G_GINT64_FORMAT, json_object_get_int_member (dip, "id"));
  one = call (fx, fx->reader, "GET", one_path, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (one, "id"), ==, json_object_get_int_member (dip, "id"));
  g_assert_cmpstr (json_object_get_string_member (one, "start"), ==, json_object_get_string_member (dip, "start"));

  {
    g_autoptr(SyTestResponse) missing = sy_test_json (fx->daemon, "GET", "/api/energy/pq/events/999999", fx->reader, NULL);

    sy_test_assert_problem (missing, 404);
  }

  /* An ongoing swell is listed as open. */
  post_trace (fx, fx->meter_key, "1000:230,230,230;1100:230,285,230");
  g_clear_pointer (&page, json_object_unref);
  g_free (path);
  path = g_strdup_printf ("/api/energy/pq/events?meter_id=%" G_GINT64_FORMAT "&state=open", fx->meter);
  page = wait_for_events (fx, path, 1);
  g_assert_cmpstr (json_object_get_string_member (result (page, 0), "type"), ==, "swell");
  g_assert_cmpstr (json_object_get_string_member (result (page, 0), "severity"), ==, "critical");
  g_assert_true (json_object_get_null_member (result (page, 0), "end"));
}

static void
test_filters_ack (PqFixture     *fx,
                  gconstpointer  data)
{
  g_autofree char *all = g_strdup_printf ("/api/energy/pq/events?site_id=%" G_GINT64_FORMAT, fx->site);
  g_autoptr(JsonObject) page = NULL;
  g_autoptr(JsonObject) acked = NULL;
  g_autofree char *ack_path = NULL;
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  gint64 dip_id;

  /* A dip (warning), a THD event (warning) and an interruption (critical, with its dip). */
  post_trace (fx, fx->meter_key,
              "0:230,230,230,3;100:230,190,230,3;200:230,230,230,3;"
              "1000:230,230,230,9.5;1200:230,230,230,3;"
              "5000:2,1,3,3;6000:230,230,230,3");
  /* Elsewhere: one dip. */
  post_trace (fx, fx->other_key, "0:230,230,230;100:150,230,230;200:230,230,230");

  page = wait_for_events (fx, all, 4);
  /* Newest first (the outage opened its interruption after its dip, at the same time). */
  g_assert_cmpstr (json_object_get_string_member (result (page, 0), "type"), ==, "interruption");
  g_assert_cmpstr (json_object_get_string_member (result (page, 0), "dip_class"), ==, "SI");
  g_assert_cmpstr (json_object_get_string_member (result (page, 1), "type"), ==, "dip");
  g_assert_cmpstr (json_object_get_string_member (result (page, 1), "dip_class"), ==, "5C");   /* 1 s */
  g_assert_cmpstr (json_object_get_string_member (result (page, 2), "type"), ==, "thd");
  g_assert_cmpstr (json_object_get_string_member (result (page, 3), "type"), ==, "dip");
  dip_id = json_object_get_int_member (result (page, 3), "id");
  g_clear_pointer (&page, json_object_unref);

  {
    static const struct
    {
      const char *query;
      gint64      count;
    } cases[] = {
      { "&type=thd", 1 },
      { "&type=interruption", 1 },
      { "&type=swell", 0 },
      { "&min_severity=critical", 2 },
      { "&min_severity=warning", 4 },
      { "&state=open", 0 },
      { "&acknowledged=true", 0 },
      { "&acknowledged=false", 4 },
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autofree char *path = g_strconcat (all, cases[i].query, NULL);
        g_autoptr(JsonObject) p = call (fx, fx->reader, "GET", path, NULL, 200);

        if (json_object_get_int_member (p, "count") != cases[i].count)
          g_error ("%s: expected %" G_GINT64_FORMAT ", got %" G_GINT64_FORMAT, path, cases[i].count,
                   json_object_get_int_member (p, "count"));
      }
  }

  {
    g_autofree char *other = g_strdup_printf ("/api/energy/pq/events?meter_id=%" G_GINT64_FORMAT, fx->other);
    g_autofree char *everything = g_strdup ("/api/energy/pq/events?limit=2");
    g_autoptr(JsonObject) p = wait_for_events (fx, other, 1);
    g_autoptr(JsonObject) q = call (fx, fx->reader, "GET", everything, NULL, 200);

    g_assert_cmpint (json_object_get_int_member (result (p, 0), "site_id"), ==, fx->other_site);
    g_assert_cmpint (json_object_get_int_member (q, "count"), ==, 5);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (q, "results")), ==, 2);
    g_assert_nonnull (json_object_get_string_member (q, "next"));
  }

  /* from/to bound the start. */
  from = iso (fx->base_ms + 900);
  to = iso (fx->base_ms + 1500);
  {
    g_autofree char *path = g_strdup_printf ("%s&from=%s&to=%s", all, from, to);
    g_autoptr(JsonObject) p = call (fx, fx->reader, "GET", path, NULL, 200);

    g_assert_cmpint (json_object_get_int_member (p, "count"), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (result (p, 0), "type"), ==, "thd");
    g_assert_cmpfloat (json_object_get_double_member (result (p, 0), "worst_value"), ==, 9.5);
    g_assert_cmpstr (json_object_get_string_member (result (p, 0), "method"), ==, "thd_v");
  }

  /* Bad filters name themselves. */
  assert_field_error (fx, "GET", "/api/energy/pq/events?type=sag", NULL, "type");
  assert_field_error (fx, "GET", "/api/energy/pq/events?state=ongoing", NULL, "state");
  assert_field_error (fx, "GET", "/api/energy/pq/events?min_severity=high", NULL, "min_severity");
  assert_field_error (fx, "GET", "/api/energy/pq/events?acknowledged=yes", NULL, "acknowledged");
  assert_field_error (fx, "GET", "/api/energy/pq/events?from=yesterday", NULL, "from");

  /* Acknowledge: who and when, with the note. */
  ack_path = g_strdup_printf ("/api/energy/pq/events/%" G_GINT64_FORMAT "/acknowledge", dip_id);
  {
    g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, "POST", ack_path, fx->reader, "{\"note\":\"x\"}");

    sy_test_assert_problem (res, 403);
  }
  assert_field_error (fx, "POST", ack_path, "{\"note\": 5}", "note");
  acked = call (fx, fx->writer, "POST", ack_path, "{\"note\": \"Utility confirmed a fault on the 20 kV line\"}", 200);
  g_assert_cmpint (json_object_get_int_member (acked, "id"), ==, dip_id);
  {
    JsonObject *ack = json_object_get_object_member (acked, "acknowledged");
    gint64 at_ms = 0;
    g_autoptr(GDateTime) at = g_date_time_new_from_iso8601 (json_object_get_string_member (ack, "at"), NULL);

    g_assert_nonnull (at);
    at_ms = g_date_time_to_unix (at) * 1000;
    g_assert_cmpint (ABS (at_ms - g_get_real_time () / 1000), <, 60000);
    g_assert_cmpstr (json_object_get_string_member (ack, "by"), ==, fx->writer_client);
    g_assert_cmpstr (json_object_get_string_member (ack, "note"), ==, "Utility confirmed a fault on the 20 kV line");
  }
  {
    g_autofree char *path = g_strconcat (all, "&acknowledged=true", NULL);
    g_autoptr(JsonObject) p = call (fx, fx->reader, "GET", path, NULL, 200);

    g_assert_cmpint (json_object_get_int_member (p, "count"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (result (p, 0), "id"), ==, dip_id);
  }
  {
    g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, "POST", "/api/energy/pq/events/999999/acknowledge",
                                                  fx->writer, "{}");

    sy_test_assert_problem (res, 404);
  }
}

static SyTestResponse *
post_protection (PqFixture  *fx,
                 const char *key,
                 const char *signature,
                 const char *body)
{
  const char *headers[] = { "X-Device-Key", key, signature ? "X-Signature" : NULL, signature, NULL };

  return sy_test_request (fx->daemon, "POST", "/api/energy/protection/events", headers, "application/json", body, -1);
}

static void
test_protection (PqFixture     *fx,
                 gconstpointer  data)
{
  g_autofree char *ts = iso (fx->base_ms + 20);
  g_autofree char *trip = g_strdup_printf ("{\"type\":\"trip\",\"breaker_id\":\"Q3\",\"cause\":\"overcurrent\","
                                           "\"timestamp\":\"%s\"}", ts);
  const char *leak = "{\"type\":\"earth_leakage\",\"breaker_id\":\"RCD-2\",\"leakage_ma\":32.5}";
  g_autofree char *signature = sy_test_hmac_hex (SECRET, leak);
  g_autofree char *trip_id_path = NULL;
  g_autofree char *list_path = g_strdup_printf ("/api/energy/protection/events?site_id=%" G_GINT64_FORMAT, fx->site);
  g_autoptr(JsonObject) page = NULL;
  g_autoptr(JsonObject) one = NULL;
  g_autoptr(JsonObject) acked = NULL;
  JsonObject *obj;
  gint64 trip_id;

  {
    g_autoptr(SyTestResponse) res = post_protection (fx, fx->meter_key, NULL, trip);
    const char *location;

    assert_status (res, 201, "POST trip");
    obj = sy_test_response_object (res);
    trip_id = json_object_get_int_member (obj, "id");
    g_assert_cmpint (trip_id, >, 0);
    g_assert_cmpstr (json_object_get_string_member (obj, "type"), ==, "trip");
    g_assert_cmpstr (json_object_get_string_member (obj, "breaker_id"), ==, "Q3");
    g_assert_cmpstr (json_object_get_string_member (obj, "severity"), ==, "critical");
    g_assert_cmpstr (json_object_get_string_member (obj, "timestamp"), ==, ts);
    g_assert_cmpint (json_object_get_int_member (obj, "meter_id"), ==, fx->meter);
    g_assert_cmpint (json_object_get_int_member (obj, "site_id"), ==, fx->site);
    location = soup_message_headers_get_one (res->headers, "Location");
    trip_id_path = g_strdup_printf ("/api/energy/protection/events/%" G_GINT64_FORMAT, trip_id);
    g_assert_cmpstr (location, ==, trip_id_path);
  }

  /* Authentication as for readings. */
  {
    g_autoptr(SyTestResponse) no_key = post_protection (fx, "not-a-key", NULL, trip);
    g_autoptr(SyTestResponse) unsigned_ = post_protection (fx, fx->meter2_key, NULL, leak);
    g_autoptr(SyTestResponse) bad_sig = post_protection (fx, fx->meter2_key, "00ff", leak);
    g_autoptr(SyTestResponse) signed_ = post_protection (fx, fx->meter2_key, signature, leak);

    sy_test_assert_problem (no_key, 401);
    sy_test_assert_problem (unsigned_, 401);
    sy_test_assert_problem (bad_sig, 401);
    assert_status (signed_, 201, "POST signed earth_leakage");
    obj = sy_test_response_object (signed_);
    g_assert_cmpfloat (json_object_get_double_member (obj, "leakage_ma"), ==, 32.5);
    g_assert_cmpint (json_object_get_int_member (obj, "meter_id"), ==, fx->meter2);
  }

  /* Validation names the field. */
  {
    static const struct
    {
      const char *body;
      const char *field;
    } bad[] = {
      { "{\"type\":\"trip\"}", "breaker_id" },
      { "{\"type\":\"earth_leakage\"}", "leakage_ma" },
      { "{\"type\":\"earth_leakage\",\"leakage_ma\":-1}", "leakage_ma" },
      { "{\"type\":\"breaker_state\"}", "state" },
      { "{\"type\":\"breaker_state\",\"state\":\"half\"}", "state" },
      { "{\"type\":\"explosion\"}", "type" },
      { "{\"breaker_id\":\"Q1\"}", "type" },
      { "{\"type\":\"trip\",\"breaker_id\":\"Q1\",\"colour\":\"red\"}", "colour" },
      { "{\"type\":\"trip\",\"breaker_id\":\"Q1\",\"timestamp\":\"soon\"}", "timestamp" },
      { "{\"type\":\"trip\",\"breaker_id\":\"Q1\",\"meter_id\":999999}", "meter_id" },
      { "[1]", "body" },
      { "{", "body" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(SyTestResponse) res = post_protection (fx, fx->meter_key, NULL, bad[i].body);
        const char *named = sy_test_assert_problem (res, 400);

        if (g_strcmp0 (named, bad[i].field) != 0)
          g_error ("%s: expected an error on %s, got %s", bad[i].body, bad[i].field, named ? named : "(none)");
      }
  }

  /* A breaker_state change in readings is one too. */
  {
    const char *headers[] = { "X-Device-Key", fx->meter_key, NULL };
    g_autofree char *t1 = iso (fx->base_ms + 30000);
    g_autofree char *t2 = iso (fx->base_ms + 31000);
    g_autofree char *t3 = iso (fx->base_ms + 32000);
    g_autofree char *body = g_strdup_printf ("[{\"timestamp\":\"%s\",\"total_power\":1,\"breaker_state\":\"closed\"},"
                                             "{\"timestamp\":\"%s\",\"total_power\":1,\"breaker_state\":\"closed\"},"
                                             "{\"timestamp\":\"%s\",\"total_power\":0,\"breaker_state\":\"open\"}]",
                                             t1, t2, t3);
    g_autoptr(SyTestResponse) res = sy_test_request (fx->daemon, "POST", "/api/energy/energy-data/bulk", headers,
                                                     "application/json", body, -1);
    g_autofree char *path = g_strconcat (list_path, "&type=breaker_state", NULL);
    g_autoptr(JsonObject) p = NULL;

    assert_status (res, 201, "POST readings with breaker_state");
    p = wait_for_events (fx, path, 1);
    g_assert_cmpstr (json_object_get_string_member (result (p, 0), "state"), ==, "open");
    g_assert_cmpstr (json_object_get_string_member (result (p, 0), "previous_state"), ==, "closed");
    g_assert_cmpstr (json_object_get_string_member (result (p, 0), "source"), ==, "reading");
    g_assert_cmpstr (json_object_get_string_member (result (p, 0), "timestamp"), ==, t3);
  }

  /* Lists, newest first, with filters. */
  page = call (fx, fx->reader, "GET", list_path, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (page, "count"), ==, 3);
  {
    static const struct
    {
      const char *query;
      gint64      count;
    } cases[] = {
      { "&type=trip", 1 },
      { "&type=earth_leakage", 1 },
      { "&state=open", 1 },
      { "&min_severity=critical", 2 },
      { "&min_severity=info", 3 },
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autofree char *path = g_strconcat (list_path, cases[i].query, NULL);
        g_autoptr(JsonObject) p = call (fx, fx->reader, "GET", path, NULL, 200);

        if (json_object_get_int_member (p, "count") != cases[i].count)
          g_error ("%s: expected %" G_GINT64_FORMAT ", got %" G_GINT64_FORMAT, path, cases[i].count,
                   json_object_get_int_member (p, "count"));
      }
  }
  /* A gateway names the meter, which it must serve. */
  {
    g_autofree char *device_body = g_strdup_printf ("{\"name\":\"gw\",\"meter_ids\":[%" G_GINT64_FORMAT "]}", fx->other);
    g_autoptr(JsonObject) device = call (fx, fx->admin, "POST", "/api/energy/devices", device_body, 201);
    const char *gw_key = json_object_get_string_member (device, "device_key");
    g_autofree char *served = g_strdup_printf ("{\"type\":\"trip\",\"breaker_id\":\"F1\",\"meter_id\":%" G_GINT64_FORMAT "}",
                                               fx->other);
    g_autofree char *not_served = g_strdup_printf ("{\"type\":\"trip\",\"breaker_id\":\"F1\",\"meter_id\":%" G_GINT64_FORMAT "}",
                                                   fx->meter);
    g_autoptr(SyTestResponse) ok = post_protection (fx, gw_key, NULL, served);
    g_autoptr(SyTestResponse) refused = post_protection (fx, gw_key, NULL, not_served);
    g_autoptr(SyTestResponse) unnamed = post_protection (fx, gw_key, NULL, "{\"type\":\"trip\",\"breaker_id\":\"F1\"}");
    g_autofree char *other = g_strdup_printf ("/api/energy/protection/events?site_id=%" G_GINT64_FORMAT, fx->other_site);
    g_autoptr(JsonObject) p = NULL;

    assert_status (ok, 201, "gateway trip");
    g_assert_cmpint (json_object_get_int_member (sy_test_response_object (ok), "device_id"), ==,
                     json_object_get_int_member (device, "id"));
    g_assert_cmpstr (sy_test_assert_problem (refused, 400), ==, "meter_id");
    g_assert_cmpstr (sy_test_assert_problem (unnamed, 400), ==, "meter_id");

    p = call (fx, fx->reader, "GET", other, NULL, 200);
    g_assert_cmpint (json_object_get_int_member (p, "count"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (result (p, 0), "meter_id"), ==, fx->other);
  }
  assert_field_error (fx, "GET", "/api/energy/protection/events?type=dip", NULL, "type");

  one = call (fx, fx->reader, "GET", trip_id_path, NULL, 200);
  g_assert_cmpstr (json_object_get_string_member (one, "cause"), ==, "overcurrent");

  {
    g_autofree char *ack_path = g_strconcat (trip_id_path, "/acknowledge", NULL);

    acked = call (fx, fx->writer, "POST", ack_path, "{\"note\":\"Reset after inspection\"}", 200);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (acked, "acknowledged"), "by"), ==,
                     fx->writer_client);
  }
}

static void
test_summary (PqFixture     *fx,
              gconstpointer  data)
{
  g_autoptr(GString) trace = g_string_new (NULL);
  g_autoptr(GDateTime) base = g_date_time_new_from_unix_utc (fx->base_ms / 1000);
  g_autofree char *week = g_date_time_format (base, "%G-W%V");
  g_autofree char *path = NULL;
  g_autofree char *events_path = g_strdup_printf ("/api/energy/pq/events?meter_id=%" G_GINT64_FORMAT
                                                  "&state=closed&type=dip", fx->other);
  g_autoptr(JsonObject) summary = NULL;
  g_autoptr(JsonObject) page = NULL;
  gint64 interval0 = (fx->base_ms / 600000 + 1) * 600000 - fx->base_ms;   /* start of the next 10 min */
  JsonObject *voltage;
  JsonObject *thd;
  JsonObject *imbalance;
  JsonArray *counts;

  /* Three whole 10-minute intervals, one reading a minute: normal; 87 % (a 10-minute dip, class
   * 1E); THD 9 %. */
  for (int i = 0; i < 30; i++)
    {
      gint64 t = interval0 + i * 60000;
      const char *v = i >= 10 && i < 20 ? "200,200,200" : "230,230,230";
      const char *h = i >= 20 ? "9" : "3";

      g_string_append_printf (trace, "%s%" G_GINT64_FORMAT ":%s,%s", i > 0 ? ";" : "", t, v, h);
    }
  post_trace (fx, fx->other_key, trace->str);
  page = wait_for_events (fx, events_path, 1);
  g_assert_cmpstr (json_object_get_string_member (result (page, 0), "dip_class"), ==, "1E");

  /* Readings a week could contain fall in the week of base_ms unless the test runs right at a
   * week boundary; ask for the week of the first interval. */
  {
    g_autoptr(GDateTime) first = g_date_time_new_from_unix_utc ((fx->base_ms + interval0) / 1000);

    g_free (week);
    week = g_date_time_format (first, "%G-W%V");
  }
  path = g_strdup_printf ("/api/energy/pq/summary?meter_id=%" G_GINT64_FORMAT "&week=%s", fx->other, week);
  summary = call (fx, fx->reader, "GET", path, NULL, 200);

  g_assert_cmpint (json_object_get_int_member (summary, "intervals_total"), ==, 1008);
  g_assert_cmpint (json_object_get_int_member (summary, "intervals_with_data"), ==, 3);
  voltage = json_object_get_object_member (summary, "voltage");
  g_assert_cmpint (json_object_get_int_member (voltage, "intervals_measured"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (voltage, "intervals_within"), ==, 2);
  g_assert_false (json_object_get_boolean_member (voltage, "compliant"));
  thd = json_object_get_object_member (summary, "thd");
  g_assert_cmpint (json_object_get_int_member (thd, "intervals_within"), ==, 2);
  imbalance = json_object_get_object_member (summary, "imbalance");
  g_assert_cmpint (json_object_get_int_member (imbalance, "intervals_within"), ==, 3);
  g_assert_true (json_object_get_boolean_member (imbalance, "compliant"));

  counts = json_object_get_array_member (json_object_get_object_member (summary, "dips"), "counts");
  g_assert_cmpuint (json_array_get_length (counts), ==, 5);
  /* Row 1 (90 > u >= 80), column E (more than 5 s). */
  g_assert_cmpint (json_array_get_int_element (json_array_get_array_element (counts, 0), 4), ==, 1);
  g_assert_cmpint (json_array_get_int_element (json_array_get_array_element (counts, 0), 0), ==, 0);

  assert_field_error (fx, "GET", "/api/energy/pq/summary?meter_id=1&week=2026-48", NULL, "week");
  assert_field_error (fx, "GET", "/api/energy/pq/summary", NULL, "meter_id");
  {
    g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, "GET", "/api/energy/pq/summary?meter_id=999999",
                                                  fx->reader, NULL);

    sy_test_assert_problem (res, 404);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/switchyard/api/pq/config", PqFixture, NULL, fixture_setup, test_config, fixture_teardown);
  g_test_add ("/switchyard/api/pq/detection", PqFixture, NULL, fixture_setup, test_detection, fixture_teardown);
  g_test_add ("/switchyard/api/pq/filters-acknowledge", PqFixture, NULL, fixture_setup, test_filters_ack,
              fixture_teardown);
  g_test_add ("/switchyard/api/pq/protection", PqFixture, NULL, fixture_setup, test_protection, fixture_teardown);
  g_test_add ("/switchyard/api/pq/summary", PqFixture, NULL, fixture_setup, test_summary, fixture_teardown);

  return g_test_run ();
}
