/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-client"

#include "config.h"

#include <string.h>

#include "sy-client.h"
#include "sy-test-util.h"

/* SyClient against the real daemon: REST results and error mapping, pagination, the stream and
 * its reconnection after the daemon restarts. */

#define WAIT_S 10

typedef struct
{
  SyTestDaemon *daemon;
  char         *admin;
  SyClient     *client;
  gint64        site;
} ClientFixture;

static guint16
free_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) any = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  any = g_inet_socket_address_new (loopback, 0);
  g_socket_bind (socket, any, TRUE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
fixture_setup (ClientFixture *fx,
               gconstpointer  data)
{
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", free_port ());
  const char *args[] = { "--listen", listen, NULL };
  g_autoptr(SyTestResponse) site = NULL;

  fx->daemon = sy_test_daemon_new (args);
  sy_test_daemon_start (fx->daemon);
  fx->admin = sy_test_daemon_token (fx->daemon, "admin");
  fx->client = sy_client_new (fx->daemon->base_url, fx->admin);

  site = sy_test_json (fx->daemon, "POST", "/api/energy/sites", fx->admin, "{\"name\":\"Client\"}");
  g_assert_cmpuint (site->status, ==, 201);
  fx->site = json_object_get_int_member (sy_test_response_object (site), "id");
}

static void
fixture_teardown (ClientFixture *fx,
                  gconstpointer  data)
{
  g_assert_finalize_object (fx->client);
  sy_test_daemon_free (fx->daemon);
  g_free (fx->admin);
}

static gboolean
flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
iterate_for (double seconds)
{
  gboolean done = FALSE;

  g_timeout_add ((guint) (seconds * 1000), flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  while (*slot == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  if (*slot == NULL)
    g_error ("No answer within %d s", WAIT_S);

  return *slot;
}

static JsonNode *
request (ClientFixture  *fx,
         SyClient       *client,
         const char     *method,
         const char     *path,
         const char     *body,
         GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonNode) node = body ? json_from_string (body, NULL) : NULL;

  sy_client_request_async (client, method, path, node, NULL, result_cb, &result);
  wait_result (&result);

  return sy_client_request_finish (client, result, error);
}

static void
test_requests (ClientFixture *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(SyClient) anonymous = sy_client_new (fx->daemon->base_url, "not-a-token");
  g_autofree char *body = NULL;

  node = request (fx, fx->client, "GET", "/api/health", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  g_assert_true (json_node_is_immutable (node));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "status"), ==, "ok");
  g_clear_pointer (&node, json_node_unref);

  body = g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"load\"}", fx->site);
  node = request (fx, fx->client, "POST", "/api/energy/meters", body, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "site_id"), ==, fx->site);
  g_clear_pointer (&node, json_node_unref);

  node = request (fx, fx->client, "GET", "/api/energy/meters/999999", NULL, &error);
  g_assert_null (node);
  g_assert_error (error, SY_CLIENT_ERROR, SY_CLIENT_ERROR_NOT_FOUND);
  g_clear_error (&error);

  node = request (fx, fx->client, "POST", "/api/energy/meters", "{\"name\":\"m\"}", &error);
  g_assert_error (error, SY_CLIENT_ERROR, SY_CLIENT_ERROR_INVALID);
  /* The problem's detail, not a status line. */
  g_assert_false (g_str_has_prefix (error->message, "HTTP "));
  g_clear_error (&error);

  node = request (fx, anonymous, "GET", "/api/energy/meters", NULL, &error);
  g_assert_error (error, SY_CLIENT_ERROR, SY_CLIENT_ERROR_UNAUTHORIZED);
  g_assert_cmpstr (error->message, ==, "Invalid, expired or revoked token");
  g_clear_error (&error);

  g_clear_object (&anonymous);
}

static void
test_list_all (ClientFixture *fx,
               gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) all = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autofree char *path = g_strdup_printf ("/api/energy/meters?site_id=%" G_GINT64_FORMAT "&limit=2", fx->site);

  for (guint i = 0; i < 7; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"name\":\"m%u\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"load\"}",
                                               i, fx->site);
      g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, "POST", "/api/energy/meters", fx->admin, body);

      g_assert_cmpuint (res->status, ==, 201);
    }

  /* Seven meters, two per page: four pages. */
  sy_client_list_all_async (fx->client, path, NULL, result_cb, &result);
  wait_result (&result);
  all = sy_client_list_all_finish (fx->client, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (all), ==, 7);

  for (guint i = 0; i < 7; i++)
    {
      JsonObject *meter = json_array_get_object_element (all, i);
      gint64 *id = g_new (gint64, 1);

      *id = json_object_get_int_member (meter, "id");
      g_assert_false (g_hash_table_contains (seen, id));
      g_hash_table_add (seen, id);
    }
}

typedef struct
{
  GPtrArray *types;
  gint64     last_ts_ms;
  guint      errors;
} Events;

static void
event_cb (SyClient   *client,
          const char *type,
          gint64      ts_ms,
          JsonNode   *data,
          Events     *events)
{
  g_ptr_array_add (events->types, g_strdup (type));
  events->last_ts_ms = ts_ms;
  g_assert_true (JSON_NODE_HOLDS_OBJECT (data));
}

static void
stream_error_cb (SyClient     *client,
                 const GError *error,
                 Events       *events)
{
  g_assert_nonnull (error);
  events->errors++;
}

static void
wait_state (SyClient      *client,
            SyClientState  state,
            double         timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  while (sy_client_get_state (client) != state && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  if (sy_client_get_state (client) != state)
    g_error ("State %d, expected %d after %.0f s", sy_client_get_state (client), state, timeout_s);
}

static void
post_reading (ClientFixture *fx,
              const char    *key,
              const char    *timestamp)
{
  const char *headers[] = { "X-Device-Key", key, NULL };
  g_autofree char *body = g_strdup_printf ("{\"total_power\":5,\"timestamp\":\"%s\"}", timestamp);
  g_autoptr(SyTestResponse) res = sy_test_request (fx->daemon, "POST", "/api/energy/energy-data/",
                                                   headers, NULL, body, -1);

  g_assert_cmpuint (res->status, ==, 201);
}

static void
wait_events (Events *events,
             guint   n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  while (events->types->len < n && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (events->types->len, >=, n);
}

static void
test_stream (ClientFixture *fx,
             gconstpointer  data)
{
  g_autofree char *body = g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"load\"}", fx->site);
  g_autoptr(SyTestResponse) meter = sy_test_json (fx->daemon, "POST", "/api/energy/meters", fx->admin, body);
  const char *key = json_object_get_string_member (sy_test_response_object (meter), "device_key");
  const char * const topics[] = { "data.ingested", NULL };
  Events events = { g_ptr_array_new_with_free_func (g_free), 0, 0 };

  g_signal_connect (fx->client, "event::data.ingested", G_CALLBACK (event_cb), &events);
  g_signal_connect (fx->client, "stream-error", G_CALLBACK (stream_error_cb), &events);

  g_assert_cmpint (sy_client_get_state (fx->client), ==, SY_CLIENT_STATE_DISCONNECTED);
  sy_client_start_stream (fx->client, topics);
  g_assert_cmpint (sy_client_get_state (fx->client), ==, SY_CLIENT_STATE_CONNECTING);
  wait_state (fx->client, SY_CLIENT_STATE_CONNECTED, WAIT_S);

  post_reading (fx, key, "2025-10-16T10:00:00.125Z");
  wait_events (&events, 1);
  g_assert_cmpstr (g_ptr_array_index (events.types, 0), ==, "data.ingested");
  g_assert_cmpint (events.last_ts_ms, ==, G_GINT64_CONSTANT (1760608800125));
  g_assert_cmpint (sy_client_get_last_event_ms (fx->client), >, 0);
  g_assert_cmpuint (sy_client_get_reconnects (fx->client), ==, 0);

  /* The daemon goes away: the client goes back to connecting and keeps trying. */
  sy_test_daemon_stop (fx->daemon);
  wait_state (fx->client, SY_CLIENT_STATE_CONNECTING, WAIT_S);
  iterate_for (2);
  g_assert_cmpint (sy_client_get_state (fx->client), ==, SY_CLIENT_STATE_CONNECTING);
  g_assert_cmpuint (events.errors, >, 0);

  /* Back on the same port and database: connected again within the backoff. */
  sy_test_daemon_start (fx->daemon);
  wait_state (fx->client, SY_CLIENT_STATE_CONNECTED, 20);
  g_assert_cmpuint (sy_client_get_reconnects (fx->client), >=, 1);

  post_reading (fx, key, "2025-10-16T10:00:01Z");
  wait_events (&events, 2);
  g_assert_cmpint (events.last_ts_ms, ==, G_GINT64_CONSTANT (1760608801000));

  sy_client_stop_stream (fx->client);
  g_assert_cmpint (sy_client_get_state (fx->client), ==, SY_CLIENT_STATE_DISCONNECTED);
  g_signal_handlers_disconnect_by_data (fx->client, &events);
  g_ptr_array_unref (events.types);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/switchyard/api/client/requests", ClientFixture, NULL, fixture_setup, test_requests, fixture_teardown);
  g_test_add ("/switchyard/api/client/list-all", ClientFixture, NULL, fixture_setup, test_list_all, fixture_teardown);
  g_test_add ("/switchyard/api/client/stream", ClientFixture, NULL, fixture_setup, test_stream, fixture_teardown);

  return g_test_run ();
}
