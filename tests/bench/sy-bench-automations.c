/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <stdlib.h>

#include "sy-automations-private.h"
#include "sy-event-bus-private.h"
#include "sy-registry-private.h"
#include "sy-time.h"

/* The automations engine in process, on a real SQLite file: (1) rule evaluations per second for
 * data.ingested events emitted on the bus (the whole path: rule data with the cached meter and
 * site, JSONLogic, dedupe key, throttle), and (2) webhook deliveries per second to a local
 * receiver (a SoupServer in a thread): outbox insert, HTTP POST with signature, status update.
 * Prints one line per figure and a BENCH line. Arguments: [seconds] [deliveries]. */

typedef struct
{
  GMainContext *context;
  GMainLoop    *loop;
  SoupServer   *server;
  guint16       port;
  gint          hits;
  GMutex        mutex;
  GCond         cond;
  gboolean      ready;
} Receiver;

static void
receiver_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Receiver *r = user_data;

  g_atomic_int_inc (&r->hits);
  soup_server_message_set_status (msg, 204, NULL);
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
  if (!soup_server_listen_local (r->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("receiver: %s", error->message);
  uris = soup_server_get_uris (r->server);
  r->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_mutex_lock (&r->mutex);
  r->ready = TRUE;
  g_cond_signal (&r->cond);
  g_mutex_unlock (&r->mutex);

  g_main_loop_run (r->loop);
  soup_server_disconnect (r->server);
  g_clear_object (&r->server);
  g_main_context_pop_thread_default (r->context);
  return NULL;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static JsonObject *
object_from (const char *text)
{
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  return json_object_ref (json_node_get_object (node));
}

static gint64
create (SyAutomations *automations,
        gboolean       rule,
        const char    *text)
{
  g_autoptr(JsonObject) body = object_from (text);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = rule
    ? _sy_automations_create_rule (automations, body, "bench", &error)
    : _sy_automations_create_action (automations, body, "bench", &error);

  if (node == NULL)
    g_error ("creating %s: %s", text, error->message);

  return json_object_get_int_member (json_node_get_object (node), "id");
}

static JsonNode *
reading (gint64 meter_id,
         gint64 ts_ms,
         double power)
{
  g_autofree char *stamp = sy_time_format_iso8601 (ts_ms);
  g_autofree char *text = g_strdup_printf ("{\"meter_id\":%" G_GINT64_FORMAT ",\"timestamp\":\"%s\",\"total_power\":%.1f,"
                                           "\"voltage_a\":229.8,\"current_a\":8.9,\"frequency\":50.01}",
                                           meter_id, stamp, power);

  return json_from_string (text, NULL);
}

int
main (int   argc,
      char *argv[])
{
  double seconds = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 2.0;
  guint n_deliveries = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 3000;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("sy-bench-automations-XXXXXX", &error);
  g_autofree char *db_path = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(SyStore) store = NULL;
  g_autoptr(SyAuth) auth = NULL;
  g_autoptr(SyEventBus) bus = NULL;
  g_autoptr(SyAutomations) automations = NULL;
  g_autoptr(JsonNode) site = NULL;
  g_autoptr(JsonNode) meter = NULL;
  g_autofree char *meter_body = NULL;
  g_autofree char *hook = NULL;
  g_autofree char *rule = NULL;
  g_autofree char *allow = NULL;
  SyAutomationsConfig config = { 0 };
  Receiver receiver = { 0 };
  GThread *thread;
  gint64 meter_id, action_id, rule_id, start, elapsed, deadline;
  guint64 events = 0;
  double eval_per_s, deliveries_per_s;
  gint64 ts;

  g_assert_no_error (error);
  db_path = g_build_filename (dir, "bench.db", NULL);

  receiver.context = g_main_context_new ();
  receiver.loop = g_main_loop_new (receiver.context, FALSE);
  g_mutex_init (&receiver.mutex);
  g_cond_init (&receiver.cond);
  thread = g_thread_new ("receiver", receiver_thread, &receiver);
  g_mutex_lock (&receiver.mutex);
  while (!receiver.ready)
    g_cond_wait (&receiver.cond, &receiver.mutex);
  g_mutex_unlock (&receiver.mutex);

  /* This thread plays the backend thread. */
  g_main_context_push_thread_default (context);

  store = _sy_store_open (db_path, &error);
  g_assert_no_error (error);
  auth = _sy_auth_new (store, 0);
  bus = _sy_event_bus_new ();

  {
    g_autoptr(JsonObject) body = object_from ("{\"name\":\"Bench site\"}");

    site = _sy_registry_create (auth, SY_REGISTRY_SITE, body, &error);
    g_assert_no_error (error);
  }
  meter_body = g_strdup_printf ("{\"name\":\"Workshop\",\"kind\":\"load\",\"site_id\":%" G_GINT64_FORMAT "}",
                                json_object_get_int_member (json_node_get_object (site), "id"));
  {
    g_autoptr(JsonObject) body = object_from (meter_body);

    meter = _sy_registry_create (auth, SY_REGISTRY_METER, body, &error);
    g_assert_no_error (error);
  }
  meter_id = json_object_get_int_member (json_node_get_object (meter), "id");

  config.retry_schedule = (char *) "0,0.1,0.1";
  allow = g_strdup ("127.0.0.1");
  config.allow_list = allow;
  automations = _sy_automations_new (store, auth, bus, &config, &error);
  g_assert_no_error (error);

  /* 1. Evaluations: the rule, throttled so that it fires once. */
  rule_id = create (automations, TRUE,
                    "{\"name\":\"HighPower\",\"event_key\":\"data.ingested\",\"throttle_seconds\":3600,"
                    "\"dedupe_template\":\"meter:{meter_id}\",\"jsonlogic\":{\">\":[{\"var\":[\"event.total_power\",0]},5000]}}");
  {
    g_autoptr(JsonNode) event = reading (meter_id, sy_time_now_ms (), 6120.5);

    start = g_get_monotonic_time ();
    do
      {
        for (guint i = 0; i < 10000; i++)
          _sy_event_bus_emit (bus, SY_EVENT_DATA_INGESTED, 0, event);
        events += 10000;
        elapsed = g_get_monotonic_time () - start;
      }
    while (elapsed < seconds * G_USEC_PER_SEC);
  }
  eval_per_s = events / (elapsed / (double) G_USEC_PER_SEC);
  g_print ("engine data.ingested rule evaluations/s=%.0f ns/event=%.0f events=%" G_GUINT64_FORMAT "\n",
           eval_per_s, 1e9 / eval_per_s, events);

  {
    g_autofree char *path = NULL;
    g_autoptr(JsonObject) body = object_from ("{\"enabled\":false}");
    g_autoptr(JsonNode) node = _sy_automations_update_rule (automations, rule_id, body, &error);

    g_assert_no_error (error);
    g_assert_nonnull (node);
  }

  /* 2. Deliveries: every reading fires a signed webhook. */
  hook = g_strdup_printf ("{\"name\":\"bench hook\",\"type\":\"webhook\",\"url\":\"http://127.0.0.1:%u/hook\","
                          "\"secret\":\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}", receiver.port);
  action_id = create (automations, FALSE, hook);
  rule = g_strdup_printf ("{\"name\":\"Every reading\",\"event_key\":\"data.ingested\",\"dedupe_template\":\"{event.timestamp}\","
                          "\"jsonlogic\":{\">\":[{\"var\":\"event.total_power\"},5000]},\"rule_actions\":[{\"action_id\":%" G_GINT64_FORMAT "}]}",
                          action_id);
  create (automations, TRUE, rule);

  ts = sy_time_now_ms () - 86400000;
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n_deliveries; i++)
    {
      g_autoptr(JsonNode) event = reading (meter_id, ts + i * 1000, 6000 + i);

      _sy_event_bus_emit (bus, SY_EVENT_DATA_INGESTED, ts + i * 1000, event);
      if (i % 100 == 0)
        while (g_main_context_iteration (context, FALSE))
          ;
    }
  deadline = start + 300 * G_USEC_PER_SEC;
  while (_sy_outbox_get_completed (_sy_automations_get_outbox (automations)) < n_deliveries)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("only %u of %u deliveries completed in 300 s",
                 (guint) _sy_outbox_get_completed (_sy_automations_get_outbox (automations)), n_deliveries);
      g_main_context_iteration (context, TRUE);
    }
  elapsed = g_get_monotonic_time () - start;
  deliveries_per_s = n_deliveries / (elapsed / (double) G_USEC_PER_SEC);
  g_print ("outbox webhook deliveries/s=%.0f deliveries=%u receiver_hits=%d elapsed_s=%.2f\n",
           deliveries_per_s, n_deliveries, g_atomic_int_get (&receiver.hits), elapsed / (double) G_USEC_PER_SEC);
  if ((guint) g_atomic_int_get (&receiver.hits) != n_deliveries)
    g_error ("the receiver saw %d requests for %u deliveries", g_atomic_int_get (&receiver.hits), n_deliveries);

  g_print ("BENCH {\"rule_evaluations_per_s\":%.0f,\"webhook_deliveries_per_s\":%.0f}\n", eval_per_s, deliveries_per_s);

  _sy_automations_shutdown (automations);
  g_clear_object (&automations);
  while (g_main_context_iteration (context, FALSE))
    ;
  _sy_store_close (store);
  g_main_context_pop_thread_default (context);

  g_main_context_invoke (receiver.context, quit_cb, receiver.loop);
  g_thread_join (thread);
  g_main_loop_unref (receiver.loop);
  g_main_context_unref (receiver.context);

  {
    g_autofree char *wal = g_strconcat (db_path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (db_path, "-shm", NULL);

    g_unlink (db_path);
    g_unlink (wal);
    g_unlink (shm);
    g_rmdir (dir);
  }

  return EXIT_SUCCESS;
}
