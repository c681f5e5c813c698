/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-api-automations"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "sy-test-util.h"

/* Automations against the real daemon, with a real HTTP receiver: a SoupServer on 127.0.0.1:0
 * in a thread of this process that answers each path from a script (statuses in order, then a
 * default), can be slow, and verifies the Standard Webhooks signature of every request. */

#define SECRET        "s3cret-for-tests"
#define WAIT_S        15
#define SCHEDULE      "--webhook-retry-schedule=0,0.3,0.3,0.3"

/* Receiver */

typedef struct
{
  char     *path;
  char     *webhook_id;
  char     *body;
  gboolean  signature_ok;
  gboolean  signed_;
  gint64    at_us;
  guint     status;
} Hit;

typedef struct
{
  GArray  *statuses;         /* guint: answered in order */
  guint    fallback;         /* then this */
  guint    delay_ms;
  guint    retry_after_s;    /* with 429 */
} Script;

typedef struct
{
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
  SoupServer   *server;
  guint16       port;
  GMutex        mutex;
  GCond         cond;
  gboolean      ready;
  GHashTable   *scripts;     /* path -> Script */
  GPtrArray    *hits;        /* Hit */
} Receiver;

static void
hit_free (Hit *hit)
{
  g_free (hit->path);
  g_free (hit->webhook_id);
  g_free (hit->body);
  g_free (hit);
}

static void
script_free (Script *script)
{
  g_array_unref (script->statuses);
  g_free (script);
}

/* Standard Webhooks: v1,<base64 HMAC-SHA256 (secret, id.timestamp.body)>. */
static gboolean
verify_signature (const char *id,
                  const char *ts,
                  const char *body,
                  const char *signature)
{
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) SECRET, strlen (SECRET));
  g_autofree char *signed_text = g_strdup_printf ("%s.%s.%s", id, ts, body);
  g_autofree char *expected = NULL;
  g_autofree char *b64 = NULL;
  guint8 digest[32];
  gsize len = sizeof digest;

  g_hmac_update (hmac, (const guchar *) signed_text, -1);
  g_hmac_get_digest (hmac, digest, &len);
  b64 = g_base64_encode (digest, len);
  expected = g_strdup_printf ("v1,%s", b64);

  return signature != NULL && g_str_equal (expected, signature);
}

typedef struct
{
  SoupServerMessage *msg;
  guint              status;
} Delayed;

static gboolean
delayed_cb (gpointer user_data)
{
  Delayed *d = user_data;

  soup_server_message_set_status (d->msg, d->status, NULL);
  soup_server_message_unpause (d->msg);
  return G_SOURCE_REMOVE;
}

/* Also when the receiver stops before the answer is due. */
static void
delayed_free (gpointer user_data)
{
  Delayed *d = user_data;

  g_object_unref (d->msg);
  g_free (d);
}

static void
receiver_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Receiver *r = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  Hit *hit = g_new0 (Hit, 1);
  const char *signature = soup_message_headers_get_one (headers, "webhook-signature");
  Script *script;
  guint status = 200;
  guint delay = 0;
  guint retry_after = 0;

  hit->path = g_strdup (path);
  hit->webhook_id = g_strdup (soup_message_headers_get_one (headers, "webhook-id"));
  hit->body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  hit->signed_ = signature != NULL;
  hit->signature_ok = hit->webhook_id != NULL &&
                      verify_signature (hit->webhook_id, soup_message_headers_get_one (headers, "webhook-timestamp") ?: "",
                                        hit->body, signature);
  hit->at_us = g_get_monotonic_time ();

  g_mutex_lock (&r->mutex);
  script = g_hash_table_lookup (r->scripts, path);
  if (script != NULL)
    {
      if (script->statuses->len > 0)
        {
          status = g_array_index (script->statuses, guint, 0);
          g_array_remove_index (script->statuses, 0);
        }
      else
        status = script->fallback;
      delay = script->delay_ms;
      retry_after = script->retry_after_s;
    }
  hit->status = status;
  g_ptr_array_add (r->hits, hit);
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->mutex);

  if (status == 429 && retry_after > 0)
    {
      g_autofree char *text = g_strdup_printf ("%u", retry_after);

      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", text);
    }

  if (delay > 0)
    {
      Delayed *d = g_new0 (Delayed, 1);
      GSource *source = g_timeout_source_new (delay);

      d->msg = g_object_ref (msg);
      d->status = status;
      soup_server_message_pause (msg);
      g_source_set_callback (source, delayed_cb, d, delayed_free);
      g_source_attach (source, r->context);
      g_source_unref (source);
      return;
    }

  soup_server_message_set_status (msg, status, NULL);
}

static gpointer
receiver_thread (gpointer user_data)
{
  Receiver *r = user_data;
  g_autoptr(GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (r->context);
  r->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (r->server, NULL, receiver_cb, r, NULL);
  soup_server_listen_local (r->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (r->server);
  r->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_mutex_lock (&r->mutex);
  r->ready = TRUE;
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->mutex);

  g_main_loop_run (r->loop);

  soup_server_disconnect (r->server);
  g_clear_object (&r->server);
  while (g_main_context_iteration (r->context, FALSE))
    ;
  g_main_context_pop_thread_default (r->context);
  return NULL;
}

static Receiver *
receiver_new (void)
{
  Receiver *r = g_new0 (Receiver, 1);

  g_mutex_init (&r->mutex);
  g_cond_init (&r->cond);
  r->context = g_main_context_new ();
  r->loop = g_main_loop_new (r->context, FALSE);
  r->scripts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) script_free);
  r->hits = g_ptr_array_new_with_free_func ((GDestroyNotify) hit_free);
  r->thread = g_thread_new ("receiver", receiver_thread, r);

  g_mutex_lock (&r->mutex);
  while (!r->ready)
    g_cond_wait (&r->cond, &r->mutex);
  g_mutex_unlock (&r->mutex);

  return r;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
receiver_free (Receiver *r)
{
  g_main_context_invoke (r->context, quit_cb, r->loop);
  g_thread_join (r->thread);
  g_main_loop_unref (r->loop);
  g_main_context_unref (r->context);
  g_hash_table_unref (r->scripts);
  g_ptr_array_unref (r->hits);
  g_mutex_clear (&r->mutex);
  g_cond_clear (&r->cond);
  g_free (r);
}

/* @statuses: answered in order (0-terminated), then @fallback. */
static void
receiver_script (Receiver   *r,
                 const char *path,
                 guint       fallback,
                 guint       delay_ms,
                 guint       retry_after_s,
                 ...)
{
  Script *script = g_new0 (Script, 1);
  va_list args;
  guint status;

  script->statuses = g_array_new (FALSE, FALSE, sizeof (guint));
  script->fallback = fallback;
  script->delay_ms = delay_ms;
  script->retry_after_s = retry_after_s;
  va_start (args, retry_after_s);
  while ((status = va_arg (args, guint)) != 0)
    g_array_append_val (script->statuses, status);
  va_end (args);

  g_mutex_lock (&r->mutex);
  g_hash_table_replace (r->scripts, g_strdup (path), script);
  g_mutex_unlock (&r->mutex);
}

static guint
receiver_count (Receiver   *r,
                const char *path)
{
  guint n = 0;

  g_mutex_lock (&r->mutex);
  for (guint i = 0; i < r->hits->len; i++)
    if (g_str_equal (((Hit *) g_ptr_array_index (r->hits, i))->path, path))
      n++;
  g_mutex_unlock (&r->mutex);

  return n;
}

/* Copies of the hits on @path. */
static GPtrArray *
receiver_hits (Receiver   *r,
               const char *path)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) hit_free);

  g_mutex_lock (&r->mutex);
  for (guint i = 0; i < r->hits->len; i++)
    {
      Hit *hit = g_ptr_array_index (r->hits, i);

      if (g_str_equal (hit->path, path))
        {
          Hit *copy = g_memdup2 (hit, sizeof *hit);

          copy->path = g_strdup (hit->path);
          copy->webhook_id = g_strdup (hit->webhook_id);
          copy->body = g_strdup (hit->body);
          g_ptr_array_add (out, copy);
        }
    }
  g_mutex_unlock (&r->mutex);

  return out;
}

/* Fixture */

typedef struct
{
  SyTestDaemon *daemon;
  char         *token;
  Receiver     *receiver;
  gint64        next_ts;      /* readings get distinct timestamps */
} Fixture;

static void
fixture_setup_args (Fixture            *fx,
                    const char * const *args)
{
  fx->receiver = receiver_new ();
  fx->daemon = sy_test_daemon_new (args);
  sy_test_daemon_start (fx->daemon);
  fx->token = sy_test_daemon_token (fx->daemon, "automations:read automations:write meters:read meters:write relay:write");
  fx->next_ts = g_get_real_time () / 1000 - 3600 * 1000;
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  const char *args[] = {
    "--webhook-allow=127.0.0.1", SCHEDULE, "--breaker-threshold=3", "--breaker-cooldown-ms=2500",
    "--approval-ttl=3", NULL,
  };

  fixture_setup_args (fx, args);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  sy_test_daemon_free (fx->daemon);
  receiver_free (fx->receiver);
  g_free (fx->token);
}

static const char *
body_text (SyTestResponse *res)
{
  return res->body && g_bytes_get_data (res->body, NULL) ? (const char *) g_bytes_get_data (res->body, NULL) : "";
}

/* Sends, asserts @status and returns the answer's object (a new ref, or NULL without a body). */
static JsonObject *
call (Fixture    *fx,
      const char *token,
      const char *method,
      const char *path,
      const char *body,
      guint       status)
{
  g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, method, path, token ? token : fx->token, body);

  if (res->status != status)
    g_error ("%s %s %s: expected %u, got %u: %.*s", method, path, body ? body : "", status, res->status,
             (int) g_bytes_get_size (res->body), body_text (res));
  if (status >= 400 || res->json == NULL || !JSON_NODE_HOLDS_OBJECT (res->json))
    return NULL;

  return json_object_ref (json_node_get_object (res->json));
}

static const char *
problem_field (Fixture    *fx,
               const char *method,
               const char *path,
               const char *body,
               guint       status,
               char      **out_field)
{
  g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, method, path, fx->token, body);
  const char *field;

  if (res->status != status)
    g_error ("%s %s %s: expected %u, got %u: %.*s", method, path, body, status, res->status,
             (int) g_bytes_get_size (res->body), body_text (res));
  field = sy_test_assert_problem (res, status);
  *out_field = g_strdup (field);
  return *out_field;
}

static gint64
create_id (Fixture    *fx,
           const char *path,
           const char *body)
{
  g_autoptr(JsonObject) obj = call (fx, NULL, "POST", path, body, 201);

  return json_object_get_int_member (obj, "id");
}

/* A site and a grid meter; returns the meter's device key. */
static char *
create_meter (Fixture *fx,
              gint64  *out_id)
{
  g_autoptr(JsonObject) site = call (fx, NULL, "POST", "/api/energy/sites", "{\"name\":\"Depot\"}", 201);
  g_autofree char *body = g_strdup_printf ("{\"name\":\"Main\",\"kind\":\"grid\",\"site_id\":%" G_GINT64_FORMAT "}",
                                           json_object_get_int_member (site, "id"));
  g_autoptr(JsonObject) meter = call (fx, NULL, "POST", "/api/energy/meters", body, 201);

  *out_id = json_object_get_int_member (meter, "id");
  return g_strdup (json_object_get_string_member (meter, "device_key"));
}

static void
post_reading (Fixture    *fx,
              const char *key,
              double      power)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (fx->next_ts / 1000);
  g_autofree char *stamp = NULL;
  g_autofree char *body = NULL;
  g_autoptr(SyTestResponse) res = NULL;
  const char *headers[] = { "X-Device-Key", key, NULL };

  /* Whole seconds apart, so every reading is new. */
  fx->next_ts += 1000;
  stamp = g_date_time_format (when, "%Y-%m-%dT%H:%M:%SZ");
  body = g_strdup_printf ("{\"total_power\":%.1f,\"timestamp\":\"%s\"}", power, stamp);
  res = sy_test_request (fx->daemon, "POST", "/api/energy/energy-data", headers, NULL, body, -1);
  if (res->status != 201)
    g_error ("posting a reading: %u %s", res->status, body_text (res));
}

static gint64
rule_counter (Fixture    *fx,
              gint64      rule_id,
              const char *name)
{
  g_autofree char *path = g_strdup_printf ("/api/automations/rules/%" G_GINT64_FORMAT, rule_id);
  g_autoptr(JsonObject) rule = call (fx, NULL, "GET", path, NULL, 200);

  return json_object_get_int_member (json_object_get_object_member (rule, "counters"), name);
}

static void
wait_counter (Fixture    *fx,
              gint64      rule_id,
              const char *name,
              gint64      expected)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  gint64 value;

  while ((value = rule_counter (fx, rule_id, name)) != expected)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("rule %" G_GINT64_FORMAT ": %s is %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
                 rule_id, name, value, expected);
      g_usleep (50 * 1000);
    }
}

static JsonObject *
get_delivery (Fixture *fx,
              gint64   id)
{
  g_autofree char *path = g_strdup_printf ("/api/automations/deliveries/%" G_GINT64_FORMAT, id);

  return call (fx, NULL, "GET", path, NULL, 200);
}

/* The deliveries of @action_id, newest first. */
static JsonArray *
deliveries_of (Fixture *fx,
               gint64   action_id)
{
  g_autofree char *path = g_strdup_printf ("/api/automations/deliveries?action_id=%" G_GINT64_FORMAT, action_id);
  g_autoptr(JsonObject) page = call (fx, NULL, "GET", path, NULL, 200);

  return json_array_ref (json_object_get_array_member (page, "results"));
}

/* Waits until @action_id has @count deliveries, all in @status; returns the newest one's id. */
static gint64
wait_deliveries (Fixture    *fx,
                 gint64      action_id,
                 guint       count,
                 const char *status)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(JsonArray) items = deliveries_of (fx, action_id);
      guint matching = 0;

      for (guint i = 0; i < json_array_get_length (items); i++)
        if (g_str_equal (json_object_get_string_member (json_array_get_object_element (items, i), "status"), status))
          matching++;

      if (json_array_get_length (items) == count && matching == count)
        return json_object_get_int_member (json_array_get_object_element (items, 0), "id");

      if (g_get_monotonic_time () > deadline)
        {
          g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);
          g_autofree char *text = NULL;

          json_node_set_array (node, items);
          text = json_to_string (node, TRUE);
          g_error ("action %" G_GINT64_FORMAT ": expected %u deliveries %s, have %s", action_id, count, status, text);
        }
      g_usleep (50 * 1000);
    }
}

static gint64
create_webhook (Fixture    *fx,
                const char *path,
                const char *extra)
{
  g_autofree char *body = g_strdup_printf ("{\"name\":\"hook %s\",\"type\":\"webhook\",\"url\":\"http://127.0.0.1:%u%s\","
                                           "\"secret\":\"" SECRET "\",\"timeout_s\":2%s}",
                                           path, fx->receiver->port, path, extra ? extra : "");

  return create_id (fx, "/api/automations/actions", body);
}

/* A rule firing @action_id for every reading above 5000 W (no throttle: one key per reading). */
static gint64
create_rule_for (Fixture *fx,
                 gint64   action_id)
{
  g_autofree char *body = g_strdup_printf ("{\"name\":\"Every high reading\",\"event_key\":\"data.ingested\","
                                           "\"dedupe_template\":\"{event.timestamp}\","
                                           "\"jsonlogic\":{\">\":[{\"var\":\"event.total_power\"},5000]},"
                                           "\"rule_actions\":[{\"action_id\":%" G_GINT64_FORMAT "}]}", action_id);

  return create_id (fx, "/api/automations/rules", body);
}

/* Tests */

static void
test_rule_crud (Fixture       *fx,
                gconstpointer  data)
{
  g_autofree char *field = NULL;
  g_autofree char *body = NULL;
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) rule = NULL;
  g_autoptr(JsonObject) updated = NULL;
  g_autoptr(JsonObject) list = NULL;
  gint64 action_id;
  gint64 rule_id;

  action_id = create_id (fx, "/api/automations/actions",
                         "{\"name\":\"note\",\"type\":\"annotate\",\"text\":\"{event.total_power} W\"}");

  /* The issue's exact body. */
  body = g_strdup_printf ("{\"name\":\"HighPower\",\"event_key\":\"data.ingested\",\"throttle_seconds\":300,"
                          "\"dedupe_template\":\"meter:{meter_id}\",\"jsonlogic\":{\">\":[{\"var\":[\"event.total_power\",0]},5000]},"
                          "\"rule_actions\":[{\"action_id\":%" G_GINT64_FORMAT "}]}", action_id);
  rule = call (fx, NULL, "POST", "/api/automations/rules", body, 201);
  rule_id = json_object_get_int_member (rule, "id");
  g_assert_cmpstr (json_object_get_string_member (rule, "name"), ==, "HighPower");
  g_assert_cmpint (json_object_get_int_member (rule, "throttle_seconds"), ==, 300);
  g_assert_true (json_object_get_boolean_member (rule, "enabled"));
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (
                     json_object_get_array_member (rule, "rule_actions"), 0), "action_id"), ==, action_id);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (rule, "counters"), "evaluated"), ==, 0);

  /* Unknown action, compile errors with their path, bad event key, unknown field. */
  g_assert_cmpstr (problem_field (fx, "POST", "/api/automations/rules",
                                  "{\"name\":\"x\",\"event_key\":\"data.ingested\",\"jsonlogic\":true,"
                                  "\"rule_actions\":[{\"action_id\":9999}]}", 400, &field),
                   ==, "rule_actions[0].action_id");
  g_clear_pointer (&field, g_free);
  g_assert_cmpstr (problem_field (fx, "POST", "/api/automations/rules",
                                  "{\"name\":\"x\",\"event_key\":\"data.ingested\","
                                  "\"jsonlogic\":{\"and\":[true,{\"nope\":[1]}]}}", 400, &field),
                   ==, "jsonlogic.and[1].nope");
  g_clear_pointer (&field, g_free);
  g_assert_cmpstr (problem_field (fx, "POST", "/api/automations/rules",
                                  "{\"name\":\"x\",\"event_key\":\"data.ingested\","
                                  "\"jsonlogic\":{\"if\":[true,{\"var\":[\"a\",1,2]}]}}", 400, &field),
                   ==, "jsonlogic.if[1].var");
  g_clear_pointer (&field, g_free);
  g_assert_cmpstr (problem_field (fx, "POST", "/api/automations/rules",
                                  "{\"name\":\"x\",\"event_key\":\"meter.exploded\",\"jsonlogic\":true}", 400, &field),
                   ==, "event_key");
  g_clear_pointer (&field, g_free);
  g_assert_cmpstr (problem_field (fx, "POST", "/api/automations/rules",
                                  "{\"name\":\"x\",\"event_key\":\"data.ingested\",\"jsonlogic\":true,\"colour\":1}", 400, &field),
                   ==, "colour");
  g_clear_pointer (&field, g_free);
  g_assert_cmpstr (problem_field (fx, "POST", "/api/automations/actions",
                                  "{\"name\":\"x\",\"type\":\"webhook\",\"url\":\"ftp://example.com/\"}", 400, &field),
                   ==, "config.url");
  g_clear_pointer (&field, g_free);

  /* Patch, list, the action is in use, delete. */
  path = g_strdup_printf ("/api/automations/rules/%" G_GINT64_FORMAT, rule_id);
  updated = call (fx, NULL, "PATCH", path, "{\"enabled\":false,\"throttle_seconds\":60}", 200);
  g_assert_false (json_object_get_boolean_member (updated, "enabled"));
  g_assert_cmpint (json_object_get_int_member (updated, "throttle_seconds"), ==, 60);
  g_assert_cmpstr (json_object_get_string_member (updated, "dedupe_template"), ==, "meter:{meter_id}");
  list = call (fx, NULL, "GET", "/api/automations/rules", NULL, 200);
  g_assert_cmpint (json_object_get_int_member (list, "count"), ==, 1);

  {
    g_autofree char *action_path = g_strdup_printf ("/api/automations/actions/%" G_GINT64_FORMAT, action_id);

    g_clear_pointer (&field, g_free);
    problem_field (fx, "DELETE", action_path, NULL, 409, &field);
    g_clear_pointer (&list, json_object_unref);
    list = call (fx, NULL, "DELETE", path, NULL, 204);
    g_clear_pointer (&list, json_object_unref);
    list = call (fx, NULL, "DELETE", action_path, NULL, 204);
  }
  g_clear_pointer (&field, g_free);
  problem_field (fx, "GET", path, NULL, 404, &field);
}

static void
test_throttle_dedupe (Fixture       *fx,
                      gconstpointer  data)
{
  g_autofree char *key_a = NULL;
  g_autofree char *key_b = NULL;
  g_autofree char *body = NULL;
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) notes = NULL;
  gint64 meter_a, meter_b, action_id, rule_id;

  key_a = create_meter (fx, &meter_a);
  key_b = create_meter (fx, &meter_b);
  action_id = create_id (fx, "/api/automations/actions",
                         "{\"name\":\"note\",\"type\":\"annotate\",\"text\":\"{event.total_power} W on {meter.name} at {site.name}\"}");
  body = g_strdup_printf ("{\"name\":\"HighPower\",\"event_key\":\"data.ingested\",\"throttle_seconds\":2,"
                          "\"dedupe_template\":\"meter:{meter_id}\",\"jsonlogic\":{\">\":[{\"var\":[\"event.total_power\",0]},5000]},"
                          "\"rule_actions\":[{\"action_id\":%" G_GINT64_FORMAT "}]}", action_id);
  rule_id = create_id (fx, "/api/automations/rules", body);

  post_reading (fx, key_a, 6000);   /* fires for meter A */
  post_reading (fx, key_a, 7000);   /* throttled */
  post_reading (fx, key_a, 100);    /* no match */
  post_reading (fx, key_b, 8000);   /* another key: fires */
  post_reading (fx, key_a, 9000);   /* throttled */
  wait_counter (fx, rule_id, "evaluated", 5);
  g_assert_cmpint (rule_counter (fx, rule_id, "matched"), ==, 4);
  g_assert_cmpint (rule_counter (fx, rule_id, "fired"), ==, 2);
  g_assert_cmpint (rule_counter (fx, rule_id, "throttled"), ==, 2);
  g_assert_cmpint (rule_counter (fx, rule_id, "errors"), ==, 0);

  /* After the window, meter A fires again. */
  g_usleep (2200 * 1000);
  post_reading (fx, key_a, 6500);
  wait_counter (fx, rule_id, "fired", 3);

  /* The notes are on the meters' timelines, rendered from the rule data. */
  wait_deliveries (fx, action_id, 3, "succeeded");
  path = g_strdup_printf ("/api/automations/annotations?meter_id=%" G_GINT64_FORMAT, meter_a);
  notes = call (fx, NULL, "GET", path, NULL, 200);
  g_assert_cmpint (json_object_get_int_member (notes, "count"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (notes, "results"), 0), "text"),
                   ==, "6000 W on Main at Depot");

  /* Disabled: not evaluated. */
  g_free (path);
  path = g_strdup_printf ("/api/automations/rules/%" G_GINT64_FORMAT, rule_id);
  json_object_unref (call (fx, NULL, "PATCH", path, "{\"enabled\":false}", 200));
  post_reading (fx, key_b, 9999);
  post_reading (fx, key_a, 9999);
  g_usleep (300 * 1000);
  g_assert_cmpint (rule_counter (fx, rule_id, "evaluated"), ==, 6);

  /* A restart does not fire again inside the window (persisted last-fired time). */
  json_object_unref (call (fx, NULL, "PATCH", path, "{\"enabled\":true,\"throttle_seconds\":300}", 200));
  sy_test_daemon_stop (fx->daemon);
  sy_test_daemon_start (fx->daemon);
  g_free (fx->token);
  fx->token = sy_test_daemon_token (fx->daemon, "automations:read automations:write meters:read meters:write");
  post_reading (fx, key_a, 9999);
  wait_counter (fx, rule_id, "evaluated", 1);
  g_assert_cmpint (rule_counter (fx, rule_id, "throttled"), ==, 1);
  g_assert_cmpint (rule_counter (fx, rule_id, "fired"), ==, 0);
}

static void
test_dry_run (Fixture       *fx,
              gconstpointer  data)
{
  g_autofree char *body = NULL;
  g_autofree char *field = NULL;
  g_autoptr(JsonObject) plain = NULL;
  g_autoptr(JsonObject) run = NULL;
  g_autoptr(JsonObject) by_id = NULL;
  g_autoptr(JsonObject) payload = NULL;
  g_autofree char *key = NULL;
  gint64 meter_id, action_id, rule_id;
  JsonObject *action;

  plain = call (fx, NULL, "POST", "/api/automations/rules/dry-run",
                "{\"jsonlogic\":{\"cat\":[\"a\",{\"var\":\"x.y\"}]},\"data\":{\"x\":{\"y\":42}}}", 200);
  g_assert_cmpstr (json_object_get_string_member (plain, "result"), ==, "a42");
  g_assert_cmpstr (problem_field (fx, "POST", "/api/automations/rules/dry-run",
                                  "{\"jsonlogic\":{\"or\":[{\"zz\":1}]},\"data\":null}", 400, &field), ==, "jsonlogic.or[0].zz");

  key = create_meter (fx, &meter_id);
  action_id = create_webhook (fx, "/dry", ",\"payload\":{\"power\":\"{event.total_power}\",\"text\":\"{meter.name}: {event.total_power} W\"}");
  body = g_strdup_printf ("{\"rule\":{\"name\":\"t\",\"event_key\":\"data.ingested\",\"dedupe_template\":\"meter:{meter_id}\","
                          "\"jsonlogic\":{\">\":[{\"var\":\"event.total_power\"},5000]},\"rule_actions\":[{\"action_id\":%" G_GINT64_FORMAT "}]},"
                          "\"event\":{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":6100}}", action_id, meter_id);
  run = call (fx, NULL, "POST", "/api/automations/rules/dry-run", body, 200);
  g_assert_true (json_object_get_boolean_member (run, "matched"));
  g_assert_true (json_object_get_boolean_member (run, "result"));
  g_assert_false (json_object_get_boolean_member (run, "throttled"));
  g_assert_cmpstr (json_object_get_string_member (run, "dedupe_key"), ==, "meter:1");
  action = json_array_get_object_element (json_object_get_array_member (run, "actions"), 0);
  g_assert_cmpstr (json_object_get_string_member (action, "type"), ==, "webhook");
  payload = json_object_ref (json_object_get_object_member (action, "payload"));
  g_assert_cmpfloat (json_object_get_double_member (payload, "power"), ==, 6100);
  g_assert_cmpstr (json_object_get_string_member (payload, "text"), ==, "Main: 6100 W");

  /* By id, after it fired once: throttled. No side effects: nothing was delivered. */
  g_free (body);
  body = g_strdup_printf ("{\"name\":\"t\",\"event_key\":\"data.ingested\",\"throttle_seconds\":300,\"dedupe_template\":\"meter:{meter_id}\","
                          "\"jsonlogic\":{\">\":[{\"var\":\"event.total_power\"},5000]},\"rule_actions\":[{\"action_id\":%" G_GINT64_FORMAT "}]}",
                          action_id);
  rule_id = create_id (fx, "/api/automations/rules", body);
  g_free (body);
  body = g_strdup_printf ("{\"rule_id\":%" G_GINT64_FORMAT ",\"event\":{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":100}}",
                          rule_id, meter_id);
  by_id = call (fx, NULL, "POST", "/api/automations/rules/dry-run", body, 200);
  g_assert_false (json_object_get_boolean_member (by_id, "matched"));
  g_assert_cmpuint (receiver_count (fx->receiver, "/dry"), ==, 0);

  post_reading (fx, key, 7000);
  wait_deliveries (fx, action_id, 1, "succeeded");
  g_clear_pointer (&by_id, json_object_unref);
  g_free (body);
  body = g_strdup_printf ("{\"rule_id\":%" G_GINT64_FORMAT ",\"event\":{\"meter_id\":%" G_GINT64_FORMAT ",\"total_power\":7000}}",
                          rule_id, meter_id);
  by_id = call (fx, NULL, "POST", "/api/automations/rules/dry-run", body, 200);
  g_assert_true (json_object_get_boolean_member (by_id, "matched"));
  g_assert_true (json_object_get_boolean_member (by_id, "throttled"));
  g_assert_false (json_object_get_boolean_member (by_id, "would_fire"));
  g_assert_cmpuint (receiver_count (fx->receiver, "/dry"), ==, 1);

  /* Backtest: the stored readings, replayed with the rule's throttle. */
  {
    g_autoptr(JsonObject) bt = NULL;
    g_autofree char *bt_path = g_strdup_printf ("/api/automations/rules/%" G_GINT64_FORMAT "/backtest", rule_id);

    post_reading (fx, key, 8000);
    post_reading (fx, key, 10);
    bt = call (fx, NULL, "POST", bt_path, "{\"from\":\"2000-01-01T00:00:00Z\",\"to\":\"2100-01-01T00:00:00Z\"}", 200);
    g_assert_cmpint (json_object_get_int_member (bt, "readings"), ==, 3);
    g_assert_cmpint (json_object_get_int_member (bt, "matched"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (bt, "fired"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (bt, "throttled"), ==, 1);
    g_assert_false (json_object_get_boolean_member (bt, "truncated"));
  }
}

static void
test_webhook_delivery (Fixture       *fx,
                       gconstpointer  data)
{
  g_autofree char *key = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(JsonObject) delivery = NULL;
  g_autoptr(JsonObject) action = NULL;
  g_autoptr(JsonObject) metrics = NULL;
  gint64 meter_id, ok_action, flaky_action, gone_action, paced_action, dead_action, id;

  key = create_meter (fx, &meter_id);
  receiver_script (fx->receiver, "/flaky", 200, 0, 0, 500, 503, 0);
  receiver_script (fx->receiver, "/gone", 410, 0, 0, 0);
  receiver_script (fx->receiver, "/paced", 200, 0, 1, 429, 0);
  receiver_script (fx->receiver, "/down", 500, 0, 0, 0);
  ok_action = create_webhook (fx, "/ok", NULL);
  flaky_action = create_webhook (fx, "/flaky", NULL);
  gone_action = create_webhook (fx, "/gone", NULL);
  paced_action = create_webhook (fx, "/paced", NULL);
  dead_action = create_webhook (fx, "/down", NULL);
  create_rule_for (fx, ok_action);
  create_rule_for (fx, flaky_action);
  create_rule_for (fx, gone_action);
  create_rule_for (fx, paced_action);
  create_rule_for (fx, dead_action);

  post_reading (fx, key, 6000);

  /* Success, signed. */
  id = wait_deliveries (fx, ok_action, 1, "succeeded");
  delivery = get_delivery (fx, id);
  g_assert_cmpint (json_object_get_int_member (delivery, "response_code"), ==, 200);
  g_assert_cmpint (json_object_get_int_member (delivery, "attempts"), ==, 1);
  hits = receiver_hits (fx->receiver, "/ok");
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_true (((Hit *) hits->pdata[0])->signed_);
  g_assert_true (((Hit *) hits->pdata[0])->signature_ok);
  g_assert_cmpstr (((Hit *) hits->pdata[0])->webhook_id, ==, json_object_get_string_member (delivery, "message_id"));
  g_assert_nonnull (strstr (((Hit *) hits->pdata[0])->body, "\"total_power\":6000"));

  /* 500, 503, then 200: three attempts with the same webhook-id. */
  id = wait_deliveries (fx, flaky_action, 1, "succeeded");
  g_clear_pointer (&delivery, json_object_unref);
  delivery = get_delivery (fx, id);
  g_assert_cmpint (json_object_get_int_member (delivery, "attempts"), ==, 3);
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = receiver_hits (fx->receiver, "/flaky");
  g_assert_cmpuint (hits->len, ==, 3);
  g_assert_cmpstr (((Hit *) hits->pdata[0])->webhook_id, ==, ((Hit *) hits->pdata[2])->webhook_id);

  /* 410: dead, and the action is disabled. */
  id = wait_deliveries (fx, gone_action, 1, "dead");
  {
    g_autofree char *path = g_strdup_printf ("/api/automations/actions/%" G_GINT64_FORMAT, gone_action);
    gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

    do
      {
        g_clear_pointer (&action, json_object_unref);
        action = call (fx, NULL, "GET", path, NULL, 200);
        g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      }
    while (json_object_get_boolean_member (action, "enabled"));
    g_assert_nonnull (json_object_get_string_member (action, "disabled_reason"));
  }

  /* 429 with Retry-After: 1 — the retry waits at least that long (the schedule says 0.3 s). */
  wait_deliveries (fx, paced_action, 1, "succeeded");
  g_clear_pointer (&hits, g_ptr_array_unref);
  hits = receiver_hits (fx->receiver, "/paced");
  g_assert_cmpuint (hits->len, ==, 2);
  g_assert_cmpint (((Hit *) hits->pdata[1])->at_us - ((Hit *) hits->pdata[0])->at_us, >=, 950 * 1000);

  /* Always 500: dead after the schedule's four attempts; a manual retry then succeeds. */
  id = wait_deliveries (fx, dead_action, 1, "dead");
  g_clear_pointer (&delivery, json_object_unref);
  delivery = get_delivery (fx, id);
  g_assert_cmpint (json_object_get_int_member (delivery, "attempts"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (delivery, "response_code"), ==, 500);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (delivery, "last_error"), "gave up after 4 attempts"));
  receiver_script (fx->receiver, "/down", 200, 0, 0, 0);
  {
    g_autofree char *path = g_strdup_printf ("/api/automations/deliveries/%" G_GINT64_FORMAT "/retry", id);

    json_object_unref (call (fx, NULL, "POST", path, NULL, 202));
  }
  wait_deliveries (fx, dead_action, 1, "succeeded");

  /* Failures first, metrics. */
  {
    g_autoptr(JsonObject) page = call (fx, NULL, "GET", "/api/automations/deliveries?order=failures_first", NULL, 200);
    JsonObject *first = json_array_get_object_element (json_object_get_array_member (page, "results"), 0);

    g_assert_cmpstr (json_object_get_string_member (first, "status"), ==, "dead");
  }
  metrics = call (fx, NULL, "GET", "/api/automations/deliveries/metrics", NULL, 200);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (metrics, "counts"), "succeeded"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (metrics, "counts"), "dead"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (metrics, "queue_depth"), ==, 0);
  g_assert_true (json_object_has_member (json_object_get_object_member (metrics, "latency_ms"), "p95"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (metrics, "breakers")), ==, 1);
}

static const char *
breaker_state (Fixture *fx)
{
  static char state[32];
  g_autoptr(JsonObject) metrics = call (fx, NULL, "GET", "/api/automations/deliveries/metrics", NULL, 200);
  JsonArray *breakers = json_object_get_array_member (metrics, "breakers");

  g_assert_cmpuint (json_array_get_length (breakers), ==, 1);
  g_strlcpy (state, json_object_get_string_member (json_array_get_object_element (breakers, 0), "state"), sizeof state);
  return state;
}

static void
test_slow_receiver (Fixture       *fx,
                    gconstpointer  data)
{
  g_autofree char *key = NULL;
  g_autofree char *body = NULL;
  g_autoptr(JsonObject) delivery = NULL;
  gint64 meter_id, action_id, id, deadline;

  /* The first answer takes 1.5 s, the action waits 1 s: a timeout, then a retry succeeds. */
  key = create_meter (fx, &meter_id);
  receiver_script (fx->receiver, "/slow", 200, 1500, 0, 0);
  body = g_strdup_printf ("{\"name\":\"slow\",\"type\":\"webhook\",\"url\":\"http://127.0.0.1:%u/slow\",\"timeout_s\":1}",
                          fx->receiver->port);
  action_id = create_id (fx, "/api/automations/actions", body);
  create_rule_for (fx, action_id);
  post_reading (fx, key, 6000);

  deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  while (receiver_count (fx->receiver, "/slow") < 1)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (10 * 1000);
    }
  receiver_script (fx->receiver, "/slow", 200, 0, 0, 0);

  id = wait_deliveries (fx, action_id, 1, "succeeded");
  delivery = get_delivery (fx, id);
  g_assert_cmpint (json_object_get_int_member (delivery, "attempts"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (delivery, "response_code"), ==, 200);
  g_assert_cmpuint (receiver_count (fx->receiver, "/slow"), ==, 2);
  /* Unsigned without a secret. */
  {
    g_autoptr(GPtrArray) hits = receiver_hits (fx->receiver, "/slow");

    g_assert_false (((Hit *) hits->pdata[1])->signed_);
  }
}

static void
test_breaker (Fixture       *fx,
              gconstpointer  data)
{
  g_autofree char *key = NULL;
  gint64 meter_id, action_id, deadline;
  guint hits_while_open;

  /* Threshold 3, cool-down 2.5 s (fixture). */
  key = create_meter (fx, &meter_id);
  receiver_script (fx->receiver, "/down", 500, 0, 0, 0);
  action_id = create_webhook (fx, "/down", NULL);
  create_rule_for (fx, action_id);

  post_reading (fx, key, 6000);
  post_reading (fx, key, 6000);
  post_reading (fx, key, 6000);

  /* Closed → open after 3 consecutive failures. */
  deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  while (!g_str_equal (breaker_state (fx), "open"))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20 * 1000);
    }

  /* Open: nothing goes out during the cool-down. */
  hits_while_open = receiver_count (fx->receiver, "/down");
  g_usleep (1000 * 1000);
  g_assert_cmpuint (receiver_count (fx->receiver, "/down"), ==, hits_while_open);

  /* The destination recovers: after the cool-down one probe (half-open) succeeds → closed, and
   * everything postponed goes out. */
  receiver_script (fx->receiver, "/down", 200, 0, 0, 0);
  wait_deliveries (fx, action_id, 3, "succeeded");
  g_assert_cmpstr (breaker_state (fx), ==, "closed");
  g_assert_cmpuint (receiver_count (fx->receiver, "/down"), ==, hits_while_open + 3);
}

static void
test_restart_pending (Fixture       *fx,
                      gconstpointer  data)
{
  g_autofree char *key = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(JsonObject) delivery = NULL;
  const char *args[] = { "--webhook-allow=127.0.0.1", "--webhook-retry-schedule=0,2,0.2", NULL };
  gint64 meter_id, action_id, id;

  /* This test's own daemon: the second attempt comes 2 s after the first. */
  sy_test_daemon_free (fx->daemon);
  g_free (fx->token);
  fx->daemon = sy_test_daemon_new (args);
  sy_test_daemon_start (fx->daemon);
  fx->token = sy_test_daemon_token (fx->daemon, "automations:read automations:write meters:write meters:read");

  key = create_meter (fx, &meter_id);
  receiver_script (fx->receiver, "/later", 200, 0, 0, 500, 0);
  action_id = create_webhook (fx, "/later", NULL);
  create_rule_for (fx, action_id);
  post_reading (fx, key, 6000);
  id = wait_deliveries (fx, action_id, 1, "failed");

  /* Down before the retry is due; up again later: the delivery completes. */
  sy_test_daemon_stop (fx->daemon);
  g_assert_cmpuint (receiver_count (fx->receiver, "/later"), ==, 1);
  sy_test_daemon_start (fx->daemon);
  g_free (fx->token);
  fx->token = sy_test_daemon_token (fx->daemon, "automations:read");

  wait_deliveries (fx, action_id, 1, "succeeded");
  delivery = get_delivery (fx, id);
  g_assert_cmpint (json_object_get_int_member (delivery, "attempts"), ==, 2);
  hits = receiver_hits (fx->receiver, "/later");
  g_assert_cmpuint (hits->len, ==, 2);
  g_assert_cmpstr (((Hit *) hits->pdata[0])->webhook_id, ==, ((Hit *) hits->pdata[1])->webhook_id);
  g_assert_true (((Hit *) hits->pdata[1])->signature_ok);
}

static void
test_ssrf (Fixture       *fx,
           gconstpointer  data)
{
  g_autofree char *key = NULL;
  g_autoptr(JsonObject) delivery = NULL;
  const char *args[] = { SCHEDULE, NULL };
  gint64 meter_id, local_action, metadata_action, id;

  /* No allow-list: loopback, private and link-local destinations are refused. */
  sy_test_daemon_free (fx->daemon);
  g_free (fx->token);
  fx->daemon = sy_test_daemon_new (args);
  sy_test_daemon_start (fx->daemon);
  fx->token = sy_test_daemon_token (fx->daemon, "automations:read automations:write meters:write meters:read");

  key = create_meter (fx, &meter_id);
  local_action = create_webhook (fx, "/ssrf", NULL);
  metadata_action = create_id (fx, "/api/automations/actions",
                               "{\"name\":\"metadata\",\"type\":\"webhook\",\"url\":\"http://169.254.169.254/latest/meta-data\"}");
  create_rule_for (fx, local_action);
  create_rule_for (fx, metadata_action);
  post_reading (fx, key, 6000);

  id = wait_deliveries (fx, local_action, 1, "dead");
  delivery = get_delivery (fx, id);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (delivery, "last_error"), "refused destination"));
  g_clear_pointer (&delivery, json_object_unref);
  id = wait_deliveries (fx, metadata_action, 1, "dead");
  delivery = get_delivery (fx, id);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (delivery, "last_error"), "refused destination"));
  g_assert_cmpuint (receiver_count (fx->receiver, "/ssrf"), ==, 0);
}

/* Waits until the newest delivery of @action_id has a last_error containing @text. */
static JsonObject *
wait_delivery_error (Fixture    *fx,
                     gint64      action_id,
                     const char *text)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(JsonArray) items = deliveries_of (fx, action_id);
      JsonObject *newest = json_array_get_length (items) > 0 ? json_array_get_object_element (items, 0) : NULL;
      const char *error = newest ? json_object_get_string_member (newest, "last_error") : NULL;

      if (error != NULL && strstr (error, text) != NULL)
        return json_object_ref (newest);
      if (g_get_monotonic_time () > deadline)
        g_error ("action %" G_GINT64_FORMAT ": no delivery failed with “%s” (last error: %s)", action_id, text,
                 error ? error : "none");
      g_usleep (50 * 1000);
    }
}

static void
write_plugin (const char *dir,
              const char *name,
              const char *script)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, script, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
}

static gint64
create_plugin_action (Fixture    *fx,
                      const char *plugin,
                      const char *extra)
{
  g_autofree char *body = g_strdup_printf ("{\"name\":\"%s\",\"type\":\"plugin_action\",\"plugin\":\"%s\"%s}",
                                           plugin, plugin, extra ? extra : "");
  gint64 id = create_id (fx, "/api/automations/actions", body);

  create_rule_for (fx, id);
  return id;
}

static void
test_plugins (Fixture       *fx,
              gconstpointer  data)
{
  g_autofree char *dir = g_dir_make_tmp ("sy-test-plugins-XXXXXX", NULL);
  g_autofree char *dir_arg = g_strconcat ("--plugins-dir=", dir, NULL);
  g_autofree char *escape = g_build_filename (dir, "escape", NULL);
  g_autofree char *recorded = NULL;
  g_autofree char *recorded_path = g_build_filename (dir, "record.out", NULL);
  g_autofree char *key = NULL;
  g_autofree char *field = NULL;
  g_autoptr(JsonObject) delivery = NULL;
  const char *args[] = { SCHEDULE, dir_arg, NULL };
  gint64 meter_id, record, flaky, slow, chatty, escaping, id;

  g_assert_nonnull (dir);
  write_plugin (dir, "record", "#!/bin/sh\ncat > record.out\necho recorded\n");
  write_plugin (dir, "flaky", "#!/bin/sh\nif [ ! -e flaky.mark ]; then touch flaky.mark; echo boom; exit 3; fi\nexit 0\n");
  write_plugin (dir, "slow", "#!/bin/sh\nexec sleep 30\n");
  write_plugin (dir, "chatty", "#!/bin/sh\nexec head -c 100000 /dev/zero\n");
  g_assert_cmpint (symlink ("/bin/true", escape), ==, 0);

  /* This test's own daemon, with a plugins directory. */
  sy_test_daemon_free (g_steal_pointer (&fx->daemon));
  g_free (fx->token);
  fx->daemon = sy_test_daemon_new (args);
  sy_test_daemon_start (fx->daemon);
  fx->token = sy_test_daemon_token (fx->daemon, "automations:read automations:write meters:write meters:read");

  g_assert_cmpstr (problem_field (fx, "POST", "/api/automations/actions",
                                  "{\"name\":\"x\",\"type\":\"plugin_action\",\"plugin\":\"../../bin/sh\"}", 400, &field),
                   ==, "config.plugin");

  key = create_meter (fx, &meter_id);
  record = create_plugin_action (fx, "record", NULL);
  flaky = create_plugin_action (fx, "flaky", NULL);
  slow = create_plugin_action (fx, "slow", ",\"timeout_s\":1");
  chatty = create_plugin_action (fx, "chatty", ",\"max_output_bytes\":1000");
  escaping = create_plugin_action (fx, "escape", NULL);
  post_reading (fx, key, 6000);

  /* JSON on stdin: the rendered payload with the rule data. */
  wait_deliveries (fx, record, 1, "succeeded");
  g_assert_true (g_file_get_contents (recorded_path, &recorded, NULL, NULL));
  g_assert_nonnull (strstr (recorded, "\"plugin\":\"record\""));
  g_assert_nonnull (strstr (recorded, "\"total_power\":6000"));

  /* Exit status 3 is a failed attempt; the retry succeeds. */
  id = wait_deliveries (fx, flaky, 1, "succeeded");
  delivery = get_delivery (fx, id);
  g_assert_cmpint (json_object_get_int_member (delivery, "attempts"), ==, 2);
  g_clear_pointer (&delivery, json_object_unref);

  /* Time and output limits; nothing outside the directory. */
  delivery = wait_delivery_error (fx, slow, "timed out after 1 s");
  g_clear_pointer (&delivery, json_object_unref);
  id = wait_deliveries (fx, chatty, 1, "dead");
  delivery = get_delivery (fx, id);
  g_assert_nonnull (strstr (json_object_get_string_member (delivery, "last_error"), "more than 1000 bytes"));
  g_clear_pointer (&delivery, json_object_unref);
  id = wait_deliveries (fx, escaping, 1, "dead");
  delivery = get_delivery (fx, id);
  g_assert_nonnull (strstr (json_object_get_string_member (delivery, "last_error"), "is not an executable file of"));

  {
    static const char * const files[] = { "record", "flaky", "slow", "chatty", "escape", "record.out", "flaky.mark" };

    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *path = g_build_filename (dir, files[i], NULL);

        g_unlink (path);
      }
    g_rmdir (dir);
  }
}

/* A local SMTP sink: a threaded socket service on 127.0.0.1 that answers 451 to the first
 * MAIL FROM (a temporary failure), 550 to RCPT TO:<nobody@...>, and keeps every DATA. */
typedef struct
{
  GThread        *thread;
  GMainContext   *context;
  GMainLoop      *loop;
  GCond           cond;
  gboolean        ready;
  GSocketService *service;
  guint16         port;
  GMutex          mutex;
  GPtrArray      *messages;     /* char *: the raw DATA */
  guint           temp_failures;
} SmtpSink;

static gboolean
smtp_write (GOutputStream *out,
            const char    *text)
{
  return g_output_stream_write_all (out, text, strlen (text), NULL, NULL, NULL);
}

static gboolean
smtp_run_cb (GThreadedSocketService *service,
             GSocketConnection      *connection,
             GObject                *source,
             gpointer                user_data)
{
  SmtpSink *sink = user_data;
  g_autoptr(GDataInputStream) in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  char *line;

  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  smtp_write (out, "220 sink ESMTP\r\n");
  while ((line = g_data_input_stream_read_line (in, NULL, NULL, NULL)) != NULL)
    {
      if (g_str_has_prefix (line, "EHLO"))
        smtp_write (out, "250-sink\r\n250 8BITMIME\r\n");
      else if (g_str_has_prefix (line, "MAIL FROM:"))
        {
          gboolean fail;

          g_mutex_lock (&sink->mutex);
          fail = sink->temp_failures > 0;
          if (fail)
            sink->temp_failures--;
          g_mutex_unlock (&sink->mutex);
          smtp_write (out, fail ? "451 4.3.0 try again later\r\n" : "250 OK\r\n");
        }
      else if (g_str_has_prefix (line, "RCPT TO:"))
        smtp_write (out, strstr (line, "<nobody@") ? "550 5.1.1 no such user\r\n" : "250 OK\r\n");
      else if (g_str_equal (line, "DATA"))
        {
          g_autoptr(GString) data = g_string_new (NULL);
          char *text;

          smtp_write (out, "354 go ahead\r\n");
          while ((text = g_data_input_stream_read_line (in, NULL, NULL, NULL)) != NULL && !g_str_equal (text, "."))
            {
              g_string_append (data, text);
              g_string_append (data, "\n");
              g_free (text);
            }
          g_free (text);
          g_mutex_lock (&sink->mutex);
          g_ptr_array_add (sink->messages, g_string_free (g_steal_pointer (&data), FALSE));
          g_mutex_unlock (&sink->mutex);
          smtp_write (out, "250 2.0.0 queued\r\n");
        }
      else if (g_str_equal (line, "QUIT"))
        {
          smtp_write (out, "221 bye\r\n");
          g_free (line);
          break;
        }
      else
        smtp_write (out, "502 not implemented\r\n");
      g_free (line);
    }

  return TRUE;
}

/* The service accepts on the context that is thread-default where it starts: its own thread. */
static gpointer
smtp_sink_thread (gpointer user_data)
{
  SmtpSink *sink = user_data;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  g_main_context_push_thread_default (sink->context);
  sink->service = g_threaded_socket_service_new (4);
  g_socket_listener_add_address (G_SOCKET_LISTENER (sink->service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  sink->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (sink->service, "run", G_CALLBACK (smtp_run_cb), sink);
  g_socket_service_start (sink->service);

  g_mutex_lock (&sink->mutex);
  sink->ready = TRUE;
  g_cond_broadcast (&sink->cond);
  g_mutex_unlock (&sink->mutex);

  g_main_loop_run (sink->loop);

  g_socket_service_stop (sink->service);
  g_socket_listener_close (G_SOCKET_LISTENER (sink->service));
  g_clear_object (&sink->service);
  while (g_main_context_iteration (sink->context, FALSE))
    ;
  g_main_context_pop_thread_default (sink->context);
  return NULL;
}

static SmtpSink *
smtp_sink_new (void)
{
  SmtpSink *sink = g_new0 (SmtpSink, 1);

  g_mutex_init (&sink->mutex);
  g_cond_init (&sink->cond);
  sink->messages = g_ptr_array_new_with_free_func (g_free);
  sink->context = g_main_context_new ();
  sink->loop = g_main_loop_new (sink->context, FALSE);
  sink->thread = g_thread_new ("smtp-sink", smtp_sink_thread, sink);
  g_mutex_lock (&sink->mutex);
  while (!sink->ready)
    g_cond_wait (&sink->cond, &sink->mutex);
  g_mutex_unlock (&sink->mutex);

  return sink;
}

static void
smtp_sink_free (SmtpSink *sink)
{
  g_main_context_invoke (sink->context, quit_cb, sink->loop);
  g_thread_join (sink->thread);
  g_main_loop_unref (sink->loop);
  g_main_context_unref (sink->context);
  g_ptr_array_unref (sink->messages);
  g_mutex_clear (&sink->mutex);
  g_cond_clear (&sink->cond);
  g_free (sink);
}

static void
test_email (Fixture       *fx,
            gconstpointer  data)
{
  SmtpSink *sink = smtp_sink_new ();
  g_autofree char *relay_arg = g_strdup_printf ("--smtp-relay=127.0.0.1:%u", sink->port);
  g_autofree char *key = NULL;
  g_autofree char *message = NULL;
  g_autoptr(JsonObject) delivery = NULL;
  const char *args[] = { SCHEDULE, relay_arg, "--smtp-from=switchyard@example.com", NULL };
  gint64 meter_id, mail, refused, id;

  sink->temp_failures = 1;
  sy_test_daemon_free (fx->daemon);
  g_free (fx->token);
  fx->daemon = sy_test_daemon_new (args);
  sy_test_daemon_start (fx->daemon);
  fx->token = sy_test_daemon_token (fx->daemon, "automations:read automations:write meters:write meters:read");

  key = create_meter (fx, &meter_id);
  mail = create_id (fx, "/api/automations/actions",
                    "{\"name\":\"mail\",\"type\":\"notify_email\",\"to\":[\"ops@example.com\",\"boss@example.com\"],"
                    "\"subject\":\"High power on {meter.name}\",\"body\":\"{event.total_power} W at {site.name}\\n.dotted line\"}");
  create_rule_for (fx, mail);
  post_reading (fx, key, 6000);

  /* 451 first (retried), then sent. */
  id = wait_deliveries (fx, mail, 1, "succeeded");
  delivery = get_delivery (fx, id);
  g_assert_cmpint (json_object_get_int_member (delivery, "attempts"), ==, 2);
  g_mutex_lock (&sink->mutex);
  g_assert_cmpuint (sink->messages->len, ==, 1);
  message = g_strdup (sink->messages->pdata[0]);
  g_mutex_unlock (&sink->mutex);
  g_assert_nonnull (strstr (message, "Subject: High power on Main\n"));
  g_assert_nonnull (strstr (message, "To: <ops@example.com>, <boss@example.com>\n"));
  g_assert_nonnull (strstr (message, "From: <switchyard@example.com>\n"));
  g_assert_nonnull (strstr (message, "\n6000 W at Depot\n..dotted line\n"));

  /* 550 is final. */
  g_clear_pointer (&delivery, json_object_unref);
  refused = create_id (fx, "/api/automations/actions",
                       "{\"name\":\"nobody\",\"type\":\"notify_email\",\"to\":[\"nobody@example.com\"],"
                       "\"subject\":\"x\",\"body\":\"y\"}");
  create_rule_for (fx, refused);
  post_reading (fx, key, 7000);
  id = wait_deliveries (fx, refused, 1, "dead");
  delivery = get_delivery (fx, id);
  g_assert_cmpint (json_object_get_int_member (delivery, "attempts"), ==, 1);
  g_assert_nonnull (strstr (json_object_get_string_member (delivery, "last_error"), "550"));

  sy_test_daemon_stop (fx->daemon);
  smtp_sink_free (sink);
}

static void
test_approvals (Fixture       *fx,
                gconstpointer  data)
{
  g_autofree char *key = NULL;
  g_autofree char *other = sy_test_daemon_token (fx->daemon, "automations:read relay:write");
  g_autofree char *reader = sy_test_daemon_token (fx->daemon, "automations:read");
  g_autoptr(JsonObject) page = NULL;
  g_autoptr(JsonObject) decided = NULL;
  g_autofree char *body = NULL;
  g_autofree char *approve_path = NULL;
  g_autofree char *expired_path = NULL;
  gint64 meter_id, action_id, first, second, deadline;

  key = create_meter (fx, &meter_id);
  action_id = create_id (fx, "/api/automations/actions",
                         "{\"name\":\"shed\",\"type\":\"relay_command\",\"device_id\":7,\"relay\":\"k1\",\"state\":\"off\"}");
  create_rule_for (fx, action_id);
  post_reading (fx, key, 6000);
  post_reading (fx, key, 6000);

  deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  do
    {
      g_clear_pointer (&page, json_object_unref);
      page = call (fx, NULL, "GET", "/api/automations/approvals?status=pending", NULL, 200);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    }
  while (json_object_get_int_member (page, "count") < 2);
  first = json_object_get_int_member (json_array_get_object_element (json_object_get_array_member (page, "results"), 0), "id");
  second = json_object_get_int_member (json_array_get_object_element (json_object_get_array_member (page, "results"), 1), "id");

  /* The rule's creator cannot approve; a token without relay:write cannot either; another
   * client can. */
  approve_path = g_strdup_printf ("/api/automations/approvals/%" G_GINT64_FORMAT "/approve", first);
  g_assert_null (call (fx, NULL, "POST", approve_path, NULL, 403));
  g_assert_null (call (fx, reader, "POST", approve_path, NULL, 403));
  decided = call (fx, other, "POST", approve_path, "{\"reason\":\"checked on site\"}", 200);
  g_assert_cmpstr (json_object_get_string_member (decided, "status"), ==, "recorded");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (decided, "command"), "device_id"), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (decided, "command"), "state"), ==, "off");
  g_assert_null (call (fx, other, "POST", approve_path, NULL, 409));

  /* Approvals expire (3 s in this fixture). */
  g_usleep (3200 * 1000);
  expired_path = g_strdup_printf ("/api/automations/approvals/%" G_GINT64_FORMAT "/approve", second);
  g_assert_null (call (fx, other, "POST", expired_path, NULL, 409));
  body = g_strdup_printf ("/api/automations/approvals/%" G_GINT64_FORMAT, second);
  g_clear_pointer (&decided, json_object_unref);
  decided = call (fx, NULL, "GET", body, NULL, 200);
  g_assert_cmpstr (json_object_get_string_member (decided, "status"), ==, "expired");
}

static void
test_alert_chain (Fixture       *fx,
                  gconstpointer  data)
{
  g_autofree char *key = NULL;
  g_autofree char *body = NULL;
  gint64 meter_id, alert_action, note_action, rule_a, rule_b;

  /* Rule A raises an alert on a high reading; rule B listens to alerts and raises another. B
   * fires on A's alert, then its own alert reaches only A... which does not listen to alerts,
   * and B never fires on an alert whose chain holds B. */
  key = create_meter (fx, &meter_id);
  alert_action = create_id (fx, "/api/automations/actions",
                            "{\"name\":\"alarm\",\"type\":\"alert\",\"severity\":\"critical\",\"message\":\"{event.total_power} W\"}");
  note_action = create_id (fx, "/api/automations/actions",
                           "{\"name\":\"note\",\"type\":\"annotate\",\"text\":\"alert {event.severity}: {event.message}\"}");
  rule_a = create_rule_for (fx, alert_action);
  body = g_strdup_printf ("{\"name\":\"on alerts\",\"event_key\":\"alert.triggered\",\"jsonlogic\":{\"==\":[{\"var\":\"event.severity\"},\"critical\"]},"
                          "\"rule_actions\":[{\"action_id\":%" G_GINT64_FORMAT "},{\"action_id\":%" G_GINT64_FORMAT "}]}",
                          alert_action, note_action);
  rule_b = create_id (fx, "/api/automations/rules", body);

  post_reading (fx, key, 6000);
  wait_counter (fx, rule_b, "fired", 1);
  wait_counter (fx, rule_b, "cycle_skips", 1);
  g_usleep (300 * 1000);
  g_assert_cmpint (rule_counter (fx, rule_a, "fired"), ==, 1);
  g_assert_cmpint (rule_counter (fx, rule_b, "fired"), ==, 1);
  wait_deliveries (fx, note_action, 1, "succeeded");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/switchyard/api/automations/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("rules/crud", test_rule_crud);
  ADD ("rules/throttle-dedupe", test_throttle_dedupe);
  ADD ("rules/dry-run-backtest", test_dry_run);
  ADD ("rules/alert-chain", test_alert_chain);
  ADD ("deliveries/webhook", test_webhook_delivery);
  ADD ("deliveries/slow-receiver", test_slow_receiver);
  ADD ("deliveries/breaker", test_breaker);
  ADD ("deliveries/restart", test_restart_pending);
  ADD ("deliveries/ssrf", test_ssrf);
  ADD ("approvals", test_approvals);
  ADD ("plugins", test_plugins);
  ADD ("email", test_email);

#undef ADD

  return g_test_run ();
}
