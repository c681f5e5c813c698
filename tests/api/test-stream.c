/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-stream"

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "sy-test-util.h"

/* /api/stream against the real daemon: authentication and validation before the upgrade, the
 * message format, topic filters, heartbeats, a client that stops reading, and the close on
 * stop. */

#define WAIT_S 10
/* 2025-10-16T10:00:00Z */
#define T0_MS G_GINT64_CONSTANT (1760608800000)

typedef struct
{
  SyTestDaemon *daemon;
  char         *admin;
  char         *stream_token;
  char         *meters_token;
  gint64        meter;
  char         *key;
} StreamFixture;

static void
fixture_setup (StreamFixture *fx,
               gconstpointer  data)
{
  g_autoptr(SyTestResponse) site = NULL;
  g_autoptr(SyTestResponse) meter = NULL;
  g_autofree char *body = NULL;

  fx->daemon = sy_test_daemon_new (NULL);
  sy_test_daemon_start (fx->daemon);
  fx->admin = sy_test_daemon_token (fx->daemon, "admin");
  fx->stream_token = sy_test_daemon_token (fx->daemon, "stream:read");
  fx->meters_token = sy_test_daemon_token (fx->daemon, "meters:read");

  site = sy_test_json (fx->daemon, "POST", "/api/energy/sites", fx->admin, "{\"name\":\"Stream\"}");
  g_assert_cmpuint (site->status, ==, 201);
  body = g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"load\"}",
                          json_object_get_int_member (sy_test_response_object (site), "id"));
  meter = sy_test_json (fx->daemon, "POST", "/api/energy/meters", fx->admin, body);
  g_assert_cmpuint (meter->status, ==, 201);
  fx->meter = json_object_get_int_member (sy_test_response_object (meter), "id");
  fx->key = g_strdup (json_object_get_string_member (sy_test_response_object (meter), "device_key"));
}

static void
fixture_teardown (StreamFixture *fx,
                  gconstpointer  data)
{
  sy_test_daemon_free (fx->daemon);
  g_free (fx->admin);
  g_free (fx->stream_token);
  g_free (fx->meters_token);
  g_free (fx->key);
}

static char *
iso (gint64 ms)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (ms / 1000);
  g_autofree char *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", base, (int) (ms % 1000));
}

static void
post_reading (StreamFixture *fx,
              gint64         ts_ms,
              double         power)
{
  const char *headers[] = { "X-Device-Key", fx->key, NULL };
  g_autofree char *ts = iso (ts_ms);
  g_autofree char *body = g_strdup_printf ("{\"total_power\":%g,\"timestamp\":\"%s\"}", power, ts);
  g_autoptr(SyTestResponse) res = sy_test_request (fx->daemon, "POST", "/api/energy/energy-data/",
                                                   headers, NULL, body, -1);

  g_assert_cmpuint (res->status, ==, 201);
}

/* A handshake by hand over a raw socket, for the refusals (libsoup's client does not let a
 * request with "Connection: Upgrade" end with an ordinary answer). Reads until the server
 * closes; returns the status, the head and the body. */
static guint
raw_http (StreamFixture  *fx,
          const char     *path_and_query,
          const char     *token,
          gboolean        websocket,
          char          **out_head,
          char          **out_body)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) request = g_string_new (NULL);
  g_autoptr(GString) response = g_string_new (NULL);
  const char *hostport = fx->daemon->base_url + strlen ("http://");
  const char *split;
  char buf[4096];
  gssize n;

  g_socket_client_set_enable_proxy (client, FALSE);
  conn = g_socket_client_connect_to_host (client, hostport, 0, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (conn), WAIT_S);

  g_string_append_printf (request, "GET %s HTTP/1.1\r\nHost: %s\r\n", path_and_query, hostport);
  if (websocket)
    g_string_append (request, "Connection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
  else
    g_string_append (request, "Connection: close\r\n");
  if (token != NULL)
    g_string_append_printf (request, "Authorization: Bearer %s\r\n", token);
  g_string_append (request, "\r\n");

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request->str, request->len,
                             NULL, NULL, &error);
  g_assert_no_error (error);

  while ((n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)), buf, sizeof buf, NULL, &error)) > 0)
    {
      g_string_append_len (response, buf, n);
      if (g_str_has_prefix (response->str, "HTTP/1.1 101"))
        g_error ("GET %s was upgraded", path_and_query);
    }
  g_assert_no_error (error);

  split = strstr (response->str, "\r\n\r\n");
  g_assert_nonnull (split);
  g_assert_true (g_str_has_prefix (response->str, "HTTP/1.1 "));
  *out_head = g_strndup (response->str, split - response->str);
  *out_body = g_strdup (split + 4);

  return (guint) g_ascii_strtoull (response->str + strlen ("HTTP/1.1 "), NULL, 10);
}

static void
assert_refused (StreamFixture *fx,
                const char    *path_and_query,
                const char    *token,
                gboolean       websocket,
                guint          status)
{
  g_autofree char *head = NULL;
  g_autofree char *body = NULL;
  g_autofree char *lower = NULL;
  g_autoptr(JsonNode) problem = NULL;
  guint got;

  g_test_message ("GET %s", path_and_query);
  got = raw_http (fx, path_and_query, token, websocket, &head, &body);

  if (got != status)
    g_error ("GET %s: expected %u, got %u:\n%s\n\n%s", path_and_query, status, got, head, body);

  lower = g_ascii_strdown (head, -1);
  g_assert_nonnull (strstr (lower, "content-type: application/problem+json"));
  problem = json_from_string (body, NULL);
  g_assert_nonnull (problem);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (problem), "status"), ==, status);
  if (status == 401)
    g_assert_nonnull (strstr (lower, "www-authenticate: bearer"));
  g_assert_null (strstr (lower, "sec-websocket-accept"));
}

static void
test_refusals (StreamFixture *fx,
               gconstpointer  data)
{
  assert_refused (fx, "/api/stream", NULL, TRUE, 401);
  assert_refused (fx, "/api/stream", "not-a-token", TRUE, 401);
  assert_refused (fx, "/api/stream?access_token=not-a-token", NULL, TRUE, 401);
  assert_refused (fx, "/api/stream", fx->meters_token, TRUE, 403);
  {
    g_autofree char *path = g_strconcat ("/api/stream?access_token=", fx->meters_token, NULL);

    assert_refused (fx, path, NULL, TRUE, 403);
  }

  /* A plain GET, and malformed parameters. */
  assert_refused (fx, "/api/stream", fx->stream_token, FALSE, 400);
  assert_refused (fx, "/api/stream?topics=Data.Ingested", fx->stream_token, TRUE, 400);
  assert_refused (fx, "/api/stream?topics=data..ingested", fx->stream_token, TRUE, 400);
  assert_refused (fx, "/api/stream?topics=", fx->stream_token, TRUE, 400);
  assert_refused (fx, "/api/stream?topics=data.ingested,", fx->stream_token, TRUE, 400);
  assert_refused (fx, "/api/stream?heartbeat=0", fx->stream_token, TRUE, 400);
  assert_refused (fx, "/api/stream?heartbeat=61", fx->stream_token, TRUE, 400);

  /* Other methods. */
  {
    g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, "POST", "/api/stream", fx->stream_token, "{}");

    sy_test_assert_problem (res, 405);
  }
}

/* A libsoup WebSocket client; messages collect in a queue. */
typedef struct
{
  SoupWebsocketConnection *conn;
  GQueue                   messages;   /* JsonNode */
  gboolean                 closed;
  GError                  *error;
  guint                    status;
  gboolean                 done;
} WsClient;

static void
ws_message_cb (SoupWebsocketConnection *conn,
               int                      type,
               GBytes                  *message,
               WsClient                *ws)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  json_parser_load_from_data (parser, data, len, &error);
  g_assert_no_error (error);
  g_queue_push_tail (&ws->messages, json_node_ref (json_parser_get_root (parser)));
}

static void
ws_closed_cb (SoupWebsocketConnection *conn,
              WsClient                *ws)
{
  ws->closed = TRUE;
}

static void
ws_connected_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  WsClient *ws = user_data;

  ws->conn = soup_session_websocket_connect_finish (SOUP_SESSION (object), result, &ws->error);
  if (ws->conn != NULL)
    {
      g_signal_connect (ws->conn, "message", G_CALLBACK (ws_message_cb), ws);
      g_signal_connect (ws->conn, "closed", G_CALLBACK (ws_closed_cb), ws);
    }
  ws->done = TRUE;
}

static gboolean
flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the default context until *@flag or @timeout_s; FALSE on timeout. */
static gboolean
wait_for (gboolean *flag,
          double    timeout_s)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add ((guint) (timeout_s * 1000), flag_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);

  return !timed_out;
}

static WsClient *
ws_open (StreamFixture *fx,
         const char    *query,
         const char    *token)
{
  static SoupSession *session;
  g_autofree char *url = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  WsClient *ws = g_new0 (WsClient, 1);

  if (session == NULL)
    session = soup_session_new ();

  url = g_strdup_printf ("ws://%s/api/stream%s", fx->daemon->base_url + strlen ("http://"), query ? query : "");
  msg = soup_message_new ("GET", url);
  if (token != NULL)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }

  g_queue_init (&ws->messages);
  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL, ws_connected_cb, ws);
  if (!wait_for (&ws->done, WAIT_S))
    g_error ("The WebSocket handshake did not finish within %d s", WAIT_S);
  ws->status = soup_message_get_status (msg);

  return ws;
}

static void
ws_free (WsClient *ws)
{
  if (ws->conn != NULL)
    {
      g_signal_handlers_disconnect_by_data (ws->conn, ws);
      if (soup_websocket_connection_get_state (ws->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_object_unref (ws->conn);
    }
  g_queue_clear_full (&ws->messages, (GDestroyNotify) json_node_unref);
  g_clear_error (&ws->error);
  g_free (ws);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WsClient, ws_free)

static gboolean
has_messages (WsClient *ws)
{
  return ws->messages.length > 0;
}

/* The next message that is not a heartbeat; fails after WAIT_S. */
static JsonObject *
ws_next_event (WsClient *ws)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      while (has_messages (ws))
        {
          g_autoptr(JsonNode) node = g_queue_pop_head (&ws->messages);
          JsonObject *obj = json_node_get_object (node);

          if (!g_str_equal (json_object_get_string_member (obj, "type"), "stream.heartbeat"))
            return json_object_ref (obj);
        }
      g_main_context_iteration (NULL, TRUE);
    }

  g_error ("No stream event within %d s", WAIT_S);
}

static void
assert_ts_format (const char *ts)
{
  /* ISO-8601 UTC with milliseconds: 2025-10-16T10:00:00.000Z */
  g_assert_nonnull (ts);
  g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$", ts, 0, 0));
}

static void
test_events (StreamFixture *fx,
             gconstpointer  data)
{
  g_autoptr(WsClient) header = ws_open (fx, "?topics=data.ingested", fx->stream_token);
  g_autofree char *query = g_strconcat ("?access_token=", fx->admin, NULL);
  g_autoptr(WsClient) all = ws_open (fx, query, NULL);
  g_autoptr(SyTestResponse) health = NULL;
  WsClient *clients[] = { header, all };

  g_assert_no_error (header->error);
  g_assert_no_error (all->error);
  g_assert_cmpuint (header->status, ==, 101);

  health = sy_test_json (fx->daemon, "GET", "/api/health", NULL, NULL);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (sy_test_response_object (health), "stream"),
                                               "clients"), ==, 2);

  post_reading (fx, T0_MS + 250, 1234.5);

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      g_autoptr(JsonObject) event = ws_next_event (clients[i]);
      JsonObject *reading = json_object_get_object_member (event, "data");

      g_assert_cmpstr (json_object_get_string_member (event, "type"), ==, "data.ingested");
      assert_ts_format (json_object_get_string_member (event, "ts"));
      g_assert_cmpstr (json_object_get_string_member (event, "ts"), ==, "2025-10-16T10:00:00.250Z");
      g_assert_nonnull (reading);
      g_assert_cmpint (json_object_get_int_member (reading, "meter_id"), ==, fx->meter);
      g_assert_cmpfloat (json_object_get_double_member (reading, "total_power"), ==, 1234.5);
      g_assert_cmpstr (json_object_get_string_member (reading, "timestamp"), ==, "2025-10-16T10:00:00.250Z");
    }
}

static void
test_topics (StreamFixture *fx,
             gconstpointer  data)
{
  g_autoptr(WsClient) other = ws_open (fx, "?topics=pq.event&heartbeat=1", fx->stream_token);
  guint heartbeats = 0;
  gboolean elapsed = FALSE;

  g_assert_no_error (other->error);

  post_reading (fx, T0_MS, 1);
  post_reading (fx, T0_MS + 1000, 2);

  /* Two heartbeats (1 s apart) and nothing else; under load they may come late, so wait for
   * them rather than for a fixed time, up to a bound that fails the test. */
  for (guint rounds = 0; heartbeats < 2; rounds++)
    {
      g_assert_cmpuint (rounds, <, 50);
      g_assert_false (wait_for (&elapsed, 0.2));
      while (has_messages (other))
        {
          g_autoptr(JsonNode) node = g_queue_pop_head (&other->messages);
          JsonObject *obj = json_node_get_object (node);

          g_assert_cmpstr (json_object_get_string_member (obj, "type"), ==, "stream.heartbeat");
          assert_ts_format (json_object_get_string_member (obj, "ts"));
          heartbeats++;
        }
    }
  g_assert_false (other->closed);
}

static void
test_close_on_stop (StreamFixture *fx,
                    gconstpointer  data)
{
  g_autoptr(WsClient) ws = ws_open (fx, NULL, fx->stream_token);

  g_assert_no_error (ws->error);
  sy_test_daemon_stop (fx->daemon);
  if (!wait_for (&ws->closed, WAIT_S))
    g_error ("The stream was not closed when the daemon stopped");
  g_assert_cmpuint (soup_websocket_connection_get_close_code (ws->conn), ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
}

/* The slow client: a raw socket that does the handshake by hand, with a small receive buffer,
 * then stops reading. */

static void
client_event_cb (GSocketClient      *client,
                 GSocketClientEvent  event,
                 GSocketConnectable *connectable,
                 GIOStream          *connection,
                 gpointer            user_data)
{
  if (event == G_SOCKET_CLIENT_CONNECTING)
    {
      GSocket *socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection));
      g_autoptr(GError) error = NULL;

      g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, 16 * 1024, &error);
      g_assert_no_error (error);
    }
}

static GSocketConnection *
raw_connect (StreamFixture *fx,
             const char    *query)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) request = g_string_new (NULL);
  g_autoptr(GString) response = g_string_new (NULL);
  GSocketConnection *conn;
  const char *hostport = fx->daemon->base_url + strlen ("http://");

  g_socket_client_set_enable_proxy (client, FALSE);
  g_signal_connect (client, "event", G_CALLBACK (client_event_cb), NULL);
  conn = g_socket_client_connect_to_host (client, hostport, 0, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (conn), WAIT_S);

  g_string_append_printf (request,
                          "GET /api/stream%s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\n"
                          "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Authorization: Bearer %s\r\n\r\n",
                          query, hostport, fx->stream_token);
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request->str, request->len,
                             NULL, NULL, &error);
  g_assert_no_error (error);

  /* Byte by byte up to the blank line, so no frame is consumed. */
  while (!g_str_has_suffix (response->str, "\r\n\r\n"))
    {
      char c;

      g_assert_cmpint (g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)), &c, 1, NULL, &error), ==, 1);
      g_assert_no_error (error);
      g_string_append_c (response, c);
    }
  g_assert_true (g_str_has_prefix (response->str, "HTTP/1.1 101"));

  return conn;
}

/* Reads one server frame (unmasked); returns the payload of a text frame, NULL for others. */
static char *
raw_read_frame (GSocketConnection *conn)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  g_autoptr(GError) error = NULL;
  guint8 head[2];
  guint64 len;
  char *payload;
  gsize n;

  g_input_stream_read_all (in, head, 2, &n, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (head[1] & 0x80, ==, 0);
  len = head[1] & 0x7f;
  if (len >= 126)
    {
      guint8 ext[8];
      guint ext_len = len == 126 ? 2 : 8;

      g_input_stream_read_all (in, ext, ext_len, &n, NULL, &error);
      g_assert_no_error (error);
      len = 0;
      for (guint i = 0; i < ext_len; i++)
        len = (len << 8) | ext[i];
    }
  g_assert_cmpuint (len, <, 1024 * 1024);

  payload = g_malloc (len + 1);
  g_input_stream_read_all (in, payload, len, &n, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, len);
  payload[len] = '\0';

  if ((head[0] & 0x0f) != 0x1)
    g_clear_pointer (&payload, g_free);

  return payload;
}

static gint64
daemon_rss_kib (StreamFixture *fx)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", g_subprocess_get_identifier (fx->daemon->process));
  g_autofree char *text = NULL;
  const char *line;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  line = strstr (text, "VmRSS:");
  g_assert_nonnull (line);

  return g_ascii_strtoll (line + strlen ("VmRSS:"), NULL, 10);
}

/* Under AddressSanitizer freed memory stays in its quarantine, so RSS only grows. */
static gboolean
daemon_is_sanitized (StreamFixture *fx)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/maps", g_subprocess_get_identifier (fx->daemon->process));
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));

  return strstr (text, "libasan") != NULL;
}

#define SLOW_BATCHES   6
#define SLOW_BATCH     10000

static void
test_slow_client (StreamFixture *fx,
                  gconstpointer  data)
{
  g_autoptr(GSocketConnection) slow = raw_connect (fx, "?topics=data.ingested");
  g_autoptr(SyTestResponse) health = NULL;
  const char *headers[] = { "X-Device-Key", fx->key, NULL };
  gint64 rss_before, rss_after;
  gint64 started;
  gint64 last_ts = 0;
  gint64 dropped = 0;
  gboolean saw_newest = FALSE;
  guint after_notice = 0;

  rss_before = daemon_rss_kib (fx);
  started = g_get_monotonic_time ();

  for (guint b = 0; b < SLOW_BATCHES; b++)
    {
      g_autoptr(GString) body = g_string_new ("[");
      g_autoptr(SyTestResponse) res = NULL;

      for (guint i = 0; i < SLOW_BATCH; i++)
        {
          g_autofree char *ts = NULL;

          last_ts = T0_MS + ((gint64) b * SLOW_BATCH + i) * 1000;
          ts = iso (last_ts);
          g_string_append_printf (body, "%s{\"total_power\":%u,\"timestamp\":\"%s\"}", i ? "," : "", i, ts);
        }
      g_string_append_c (body, ']');

      res = sy_test_request (fx->daemon, "POST", "/api/energy/energy-data/bulk", headers, NULL, body->str, body->len);
      g_assert_cmpuint (res->status, ==, 201);
    }

  /* Ingestion did not wait for the client. */
  g_assert_cmpint (g_get_monotonic_time () - started, <, 60 * G_USEC_PER_SEC);

  rss_after = daemon_rss_kib (fx);
  g_test_message ("daemon RSS %" G_GINT64_FORMAT " KiB -> %" G_GINT64_FORMAT " KiB", rss_before, rss_after);
  /* Measured: about +6.5 MiB with the bounded queue (mostly SQLite and malloc arenas), +18 MiB
   * when every frame goes straight to libsoup's unbounded queue. */
  if (daemon_is_sanitized (fx))
    g_test_message ("AddressSanitizer build: its quarantine makes RSS meaningless, not checked");
  else
    g_assert_cmpint (rss_after - rss_before, <, 12 * 1024);

  health = sy_test_json (fx->daemon, "GET", "/api/health", NULL, NULL);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (sy_test_response_object (health), "stream"),
                                               "dropped"), >, 0);

  /* Resume: what was in flight, then the notice, then the newest messages up to the last. */
  while (!saw_newest)
    {
      g_autofree char *text = raw_read_frame (slow);
      g_autoptr(JsonNode) node = NULL;
      JsonObject *obj;
      const char *type;

      if (text == NULL)
        continue;
      node = json_from_string (text, NULL);
      g_assert_nonnull (node);
      obj = json_node_get_object (node);
      type = json_object_get_string_member (obj, "type");

      if (g_str_equal (type, "stream.dropped"))
        {
          gint64 n = json_object_get_int_member (json_object_get_object_member (obj, "data"), "dropped");

          g_assert_cmpint (n, >, 0);
          dropped += n;
          after_notice = 0;
        }
      else if (g_str_equal (type, "data.ingested"))
        {
          g_autofree char *newest = iso (last_ts);

          after_notice++;
          if (g_str_equal (json_object_get_string_member (obj, "ts"), newest))
            saw_newest = TRUE;
        }
    }

  g_test_message ("dropped %" G_GINT64_FORMAT ", then %u messages", dropped, after_notice);
  g_assert_cmpint (dropped, >, 0);
  g_assert_cmpuint (after_notice, >, 0);
  g_assert_cmpuint (after_notice, <=, 1024);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/switchyard/api/stream/refusals", StreamFixture, NULL, fixture_setup, test_refusals, fixture_teardown);
  g_test_add ("/switchyard/api/stream/events", StreamFixture, NULL, fixture_setup, test_events, fixture_teardown);
  g_test_add ("/switchyard/api/stream/topics", StreamFixture, NULL, fixture_setup, test_topics, fixture_teardown);
  g_test_add ("/switchyard/api/stream/slow-client", StreamFixture, NULL, fixture_setup, test_slow_client, fixture_teardown);
  g_test_add ("/switchyard/api/stream/close-on-stop", StreamFixture, NULL, fixture_setup, test_close_on_stop, fixture_teardown);

  return g_test_run ();
}
