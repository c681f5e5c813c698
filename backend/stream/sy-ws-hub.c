/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-stream"

#include "config.h"

#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "sy-error.h"
#include "sy-time.h"
#include "sy-ws-hub-private.h"

#define STREAM_SCOPE       "stream:read"
#define MAX_TOPICS         32
#define MAX_TOPIC_LEN      64
#define MAX_INCOMING_BYTES 4096
#define SHUTDOWN_WAIT_MS   500

/* Back-pressure. SoupWebsocketConnection (libsoup 3.2) queues every frame it is handed without
 * limit and cannot tell how much is still unsent, so a client that stops reading would make it
 * grow forever. We therefore keep our own bounded queue per client and hand libsoup a frame
 * only when the socket under the connection can take it right away: the socket must poll
 * writable and its kernel send queue (ioctl SIOCOUTQ: bytes not yet acknowledged by the peer)
 * must be below SEND_QUEUE_LIMIT. Then libsoup's non-blocking write goes straight to the kernel
 * and at most one partly written frame stays inside libsoup. Otherwise we wait for G_IO_OUT on
 * the socket (g_socket_create_source) or, when it is writable but the peer is not acknowledging,
 * poll again after RETRY_INTERVAL_MS. While we wait, new messages go to the queue, which drops
 * its oldest entries once it holds max_queue messages; the client is told how many it lost
 * ("stream.dropped") before the next message it gets. Ingestion never waits for a client. */
#define SEND_QUEUE_LIMIT   (64 * 1024)
#define RETRY_INTERVAL_MS  20

typedef struct
{
  SyWsHub                 *hub;        /* unowned: the hub owns the client */
  SoupWebsocketConnection *conn;
  GSocket                 *socket;
  GStrv                    topics;     /* NULL: every event type */
  GQueue                   queue;      /* GBytes, oldest first */
  guint64                  dropped;    /* since the last stream.dropped */
  guint                    heartbeat_s;
  GSource                 *wait_source;
  GSource                 *heartbeat_source;
  gulong                   closed_id;
  gboolean                 gone;
} Client;

struct _SyWsHub
{
  GObject         parent_instance;

  SyEventBus     *bus;
  SyAuth         *auth;
  SyWsRejectFunc  reject;
  guint          *in_flight;
  GPtrArray      *clients;          /* Client */
  guint           subscription;
  guint           max_queue;
  gboolean        shut_down;
  GSource        *reap_source;

  GMutex          stats_mutex;
  guint           n_clients;
  guint64         dropped_total;
};

G_DEFINE_FINAL_TYPE (SyWsHub, sy_ws_hub, G_TYPE_OBJECT)

static void hub_event_cb  (const char *type,
                           gint64      ts_ms,
                           JsonNode   *data,
                           gpointer    user_data);
static void client_flush  (Client     *client);

/* "2026-01-02T03:04:05.006Z": always with milliseconds, unlike sy_time_append_iso8601(). */
static void
append_ts (GString *out,
           gint64   ms)
{
  gsize start = out->len;

  sy_time_append_iso8601 (out, ms);
  if (memchr (out->str + start, '.', out->len - start) == NULL)
    g_string_insert (out, out->len - 1, ".000");
}

static GBytes *
serialize_event (const char *type,
                 gint64      ts_ms,
                 JsonNode   *data)
{
  GString *out = g_string_sized_new (256);

  /* Event types are validated identifiers (see topic_is_valid), so they need no escaping. */
  g_string_append (out, "{\"type\":\"");
  g_string_append (out, type);
  g_string_append (out, "\",\"ts\":\"");
  append_ts (out, ts_ms);
  g_string_append_c (out, '"');
  if (data != NULL)
    {
      g_autofree char *json = json_to_string (data, FALSE);

      g_string_append (out, ",\"data\":");
      g_string_append (out, json);
    }
  g_string_append_c (out, '}');

  return g_string_free_to_bytes (out);
}

/* Lower-case dotted identifiers: "data.ingested", "pq.event". */
static gboolean
topic_is_valid (const char *topic)
{
  gsize len = strlen (topic);
  char prev = '.';

  if (len == 0 || len > MAX_TOPIC_LEN)
    return FALSE;

  for (const char *c = topic; *c != '\0'; c++)
    {
      if (*c == '.')
        {
          if (prev == '.')
            return FALSE;
        }
      else if (!g_ascii_islower (*c) && !g_ascii_isdigit (*c) && *c != '_' && *c != '-')
        return FALSE;
      prev = *c;
    }

  return prev != '.';
}

static gboolean
parse_topics (const char  *text,
              GStrv       *out,
              GError     **error)
{
  g_auto(GStrv) parts = NULL;

  if (text == NULL)
    return TRUE;

  parts = g_strsplit (text, ",", -1);
  if (parts[0] == NULL)
    {
      sy_error_set_field (error, "topics", "at least one event type, or leave the parameter out");
      return FALSE;
    }
  if (g_strv_length (parts) > MAX_TOPICS)
    {
      sy_error_set_field (error, "topics", "at most %d topics", MAX_TOPICS);
      return FALSE;
    }

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (!topic_is_valid (parts[i]))
        {
          sy_error_set_field (error, "topics", "not an event type: \"%s\"", parts[i]);
          return FALSE;
        }
    }

  *out = g_steal_pointer (&parts);
  return TRUE;
}

static gboolean
parse_heartbeat (const char  *text,
                 guint       *out,
                 GError     **error)
{
  guint64 value;

  if (text == NULL)
    return TRUE;

  if (!g_ascii_string_to_unsigned (text, 10, 1, 60, &value, NULL))
    {
      sy_error_set_field (error, "heartbeat", "an integer from 1 to 60 (seconds)");
      return FALSE;
    }

  *out = (guint) value;
  return TRUE;
}

static void
stats_add (SyWsHub *self,
           int      clients,
           guint64  dropped)
{
  g_mutex_lock (&self->stats_mutex);
  self->n_clients += clients;
  self->dropped_total += dropped;
  g_mutex_unlock (&self->stats_mutex);
}

/* Clients */

static void
client_free (Client *client)
{
  if (client->wait_source != NULL)
    g_source_destroy (client->wait_source);
  g_clear_pointer (&client->wait_source, g_source_unref);
  if (client->heartbeat_source != NULL)
    g_source_destroy (client->heartbeat_source);
  g_clear_pointer (&client->heartbeat_source, g_source_unref);
  g_clear_signal_handler (&client->closed_id, client->conn);
  g_clear_object (&client->conn);
  g_clear_object (&client->socket);
  g_clear_pointer (&client->topics, g_strfreev);
  g_queue_clear_full (&client->queue, (GDestroyNotify) g_bytes_unref);
  g_free (client);
}

static gboolean
client_wants (Client     *client,
              const char *type)
{
  return client->topics == NULL || g_strv_contains ((const char * const *) client->topics, type);
}

static void
client_push (Client *client,
             GBytes *bytes)
{
  if (client->gone)
    return;

  if (client->queue.length >= client->hub->max_queue)
    {
      g_bytes_unref (g_queue_pop_head (&client->queue));
      client->dropped++;
      stats_add (client->hub, 0, 1);
    }
  g_queue_push_tail (&client->queue, g_bytes_ref (bytes));

  /* While a wait is armed the socket is known to be full: queue only, no syscalls. */
  if (client->wait_source == NULL)
    client_flush (client);
}

static gboolean
wait_done_cb (gpointer user_data)
{
  Client *client = user_data;

  g_clear_pointer (&client->wait_source, g_source_unref);
  client_flush (client);

  return G_SOURCE_REMOVE;
}

static gboolean
socket_writable_cb (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  return wait_done_cb (user_data);
}

/* TRUE when the socket takes a frame now; otherwise arms client->wait_source (unless the
 * socket failed: libsoup notices that on its own and closes the connection). */
static gboolean
client_can_send (Client *client)
{
  GIOCondition condition;
  int pending = 0;

  condition = g_socket_condition_check (client->socket, G_IO_OUT | G_IO_ERR | G_IO_HUP);
  if (condition & (G_IO_ERR | G_IO_HUP))
    return FALSE;

  if (!(condition & G_IO_OUT))
    {
      client->wait_source = g_socket_create_source (client->socket, G_IO_OUT, NULL);
      g_source_set_callback (client->wait_source, G_SOURCE_FUNC (socket_writable_cb), client, NULL);
    }
  else if (ioctl (g_socket_get_fd (client->socket), SIOCOUTQ, &pending) == 0 &&
           pending > SEND_QUEUE_LIMIT)
    {
      client->wait_source = g_timeout_source_new (RETRY_INTERVAL_MS);
      g_source_set_callback (client->wait_source, wait_done_cb, client, NULL);
    }
  else
    return TRUE;

  g_source_attach (client->wait_source, g_main_context_get_thread_default ());
  return FALSE;
}

static void
client_flush (Client *client)
{
  while (!client->gone && client->wait_source == NULL &&
         (client->dropped > 0 || client->queue.length > 0))
    {
      g_autoptr(GBytes) bytes = NULL;

      if (soup_websocket_connection_get_state (client->conn) != SOUP_WEBSOCKET_STATE_OPEN)
        return;
      if (!client_can_send (client))
        return;

      if (client->dropped > 0)
        {
          g_autoptr(GString) notice = g_string_new ("{\"type\":\"stream.dropped\",\"ts\":\"");

          append_ts (notice, sy_time_now_ms ());
          g_string_append_printf (notice, "\",\"data\":{\"dropped\":%" G_GUINT64_FORMAT "}}",
                                  client->dropped);
          client->dropped = 0;
          bytes = g_string_free_to_bytes (g_steal_pointer (&notice));
        }
      else
        bytes = g_queue_pop_head (&client->queue);

      soup_websocket_connection_send_message (client->conn, SOUP_WEBSOCKET_DATA_TEXT, bytes);
    }
}

static gboolean
heartbeat_cb (gpointer user_data)
{
  Client *client = user_data;
  g_autoptr(GBytes) bytes = serialize_event ("stream.heartbeat", sy_time_now_ms (), NULL);

  client_push (client, bytes);

  return G_SOURCE_CONTINUE;
}

/* Removes the clients that closed. Deferred to an idle so that no client disappears while the
 * hub or the event bus iterates. */
static gboolean
reap_cb (gpointer user_data)
{
  SyWsHub *self = user_data;

  g_clear_pointer (&self->reap_source, g_source_unref);

  for (guint i = self->clients->len; i > 0; i--)
    {
      Client *client = g_ptr_array_index (self->clients, i - 1);

      if (client->gone)
        {
          g_ptr_array_remove_index (self->clients, i - 1);
          stats_add (self, -1, 0);
        }
    }

  if (self->clients->len == 0 && self->subscription != 0)
    {
      _sy_event_bus_unsubscribe (self->bus, self->subscription);
      self->subscription = 0;
    }

  return G_SOURCE_REMOVE;
}

static void
client_closed_cb (SoupWebsocketConnection *conn,
                  Client                  *client)
{
  SyWsHub *self = client->hub;

  g_debug ("Stream client closed (code %u)", soup_websocket_connection_get_close_code (conn));

  client->gone = TRUE;
  if (self->reap_source == NULL)
    {
      self->reap_source = g_idle_source_new ();
      g_source_set_callback (self->reap_source, reap_cb, self, NULL);
      g_source_attach (self->reap_source, g_main_context_get_thread_default ());
    }
}

static void
hub_add_client (SyWsHub                 *self,
                SoupWebsocketConnection *conn,
                GSocket                 *socket,
                GStrv                    topics,
                guint                    heartbeat_s)
{
  Client *client = g_new0 (Client, 1);

  client->hub = self;
  client->conn = g_object_ref (conn);
  client->socket = g_object_ref (socket);
  client->topics = topics;
  client->heartbeat_s = heartbeat_s;
  g_queue_init (&client->queue);

  soup_websocket_connection_set_keepalive_interval (conn, heartbeat_s);
  soup_websocket_connection_set_max_incoming_payload_size (conn, MAX_INCOMING_BYTES);
  client->closed_id = g_signal_connect (conn, "closed", G_CALLBACK (client_closed_cb), client);

  client->heartbeat_source = g_timeout_source_new_seconds (heartbeat_s);
  g_source_set_callback (client->heartbeat_source, heartbeat_cb, client, NULL);
  g_source_attach (client->heartbeat_source, g_main_context_get_thread_default ());

  g_ptr_array_add (self->clients, client);
  stats_add (self, 1, 0);

  if (self->subscription == 0)
    self->subscription = _sy_event_bus_subscribe (self->bus, NULL, hub_event_cb, self, NULL);
}

static void
hub_event_cb (const char *type,
              gint64      ts_ms,
              JsonNode   *data,
              gpointer    user_data)
{
  SyWsHub *self = user_data;
  g_autoptr(GBytes) bytes = NULL;

  for (guint i = 0; i < self->clients->len; i++)
    {
      Client *client = g_ptr_array_index (self->clients, i);

      if (client->gone || !client_wants (client, type))
        continue;

      /* Serialised once, shared by every client's queue. */
      if (bytes == NULL)
        {
          if (!topic_is_valid (type))
            {
              g_warning ("Not streaming an event with the malformed type \"%s\"", type);
              return;
            }
          bytes = serialize_event (type, ts_ms, data);
        }
      client_push (client, bytes);
    }
}

/* The upgrade request */

typedef struct
{
  SyWsHub           *hub;
  SoupServerMessage *msg;
  char              *authorization;
  GStrv              topics;
  guint              heartbeat_s;
  gboolean           gone;
  gulong             disconnected_id;
} Upgrade;

static void
upgrade_free (Upgrade *u)
{
  g_clear_signal_handler (&u->disconnected_id, u->msg);
  g_clear_object (&u->msg);
  g_clear_object (&u->hub);
  g_free (u->authorization);
  g_strfreev (u->topics);
  g_free (u);
}

/* What waits for the 101 to be written; owned by the message's signal handler. */
typedef struct
{
  SyWsHub *hub;
  GStrv    topics;
  guint    heartbeat_s;
  gboolean done;
} Pending;

static void
pending_free (gpointer  data,
              GClosure *closure)
{
  Pending *p = data;

  g_clear_object (&p->hub);
  g_strfreev (p->topics);
  g_free (p);
}

static void
refuse (SyWsHub           *self,
        SoupServerMessage *msg,
        GError            *error)
{
  self->reject (msg, error);
}

/* The 101 is on the wire: take the connection from the HTTP server (as libsoup's own
 * complete_websocket_upgrade() does) and hand it to a new client. */
static void
wrote_informational_cb (SoupServerMessage *msg,
                        Pending           *p)
{
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(SoupWebsocketConnection) conn = NULL;
  g_autoptr(GSocket) socket = NULL;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  if (p->done)
    return;
  p->done = TRUE;

  g_object_ref (msg);
  socket = g_object_ref (soup_server_message_get_socket (msg));
  stream = soup_server_message_steal_connection (msg);
  conn = soup_websocket_connection_new (stream, soup_server_message_get_uri (msg),
                                        SOUP_WEBSOCKET_CONNECTION_SERVER,
                                        soup_message_headers_get_one (headers, "Origin"),
                                        NULL, NULL);
  g_object_unref (msg);

  if (p->hub->shut_down)
    {
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server stopping");
      return;
    }

  hub_add_client (p->hub, conn, socket, g_steal_pointer (&p->topics), p->heartbeat_s);
}

static void
upgrade_disconnected_cb (SoupServerMessage *msg,
                         Upgrade           *u)
{
  u->gone = TRUE;
}

static void
check_token (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Upgrade *u = task_data;
  GError *error = NULL;

  if (!_sy_auth_check_bearer (u->hub->auth, u->authorization, STREAM_SCOPE, NULL, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
token_checked_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Upgrade *u = user_data;
  SyWsHub *self = u->hub;
  g_autoptr(GError) error = NULL;
  Pending *p;

  (*self->in_flight)--;

  if (u->gone)
    goto out;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      refuse (self, u->msg, error);
    }
  else if (self->shut_down)
    {
      g_set_error_literal (&error, SY_ERROR, SY_ERROR_UNAVAILABLE, "The server is stopping");
      refuse (self, u->msg, error);
    }
  else if (!soup_websocket_server_process_handshake (u->msg, NULL, NULL, NULL, NULL))
    {
      g_set_error_literal (&error, SY_ERROR, SY_ERROR_INVALID, "Not a valid WebSocket handshake");
      refuse (self, u->msg, error);
    }
  else
    {
      p = g_new0 (Pending, 1);
      p->hub = g_object_ref (self);
      p->topics = g_steal_pointer (&u->topics);
      p->heartbeat_s = u->heartbeat_s;
      g_signal_connect_data (u->msg, "wrote-informational", G_CALLBACK (wrote_informational_cb),
                             p, pending_free, 0);
    }

  soup_server_message_unpause (u->msg);

out:
  upgrade_free (u);
}

void
_sy_ws_hub_upgrade (SyWsHub           *self,
                    SoupServerMessage *msg)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) query = NULL;
  g_autoptr(GTask) task = NULL;
  g_auto(GStrv) topics = NULL;
  GUri *uri = soup_server_message_get_uri (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  g_autofree char *from_query = NULL;
  guint heartbeat_s = SY_WS_HUB_DEFAULT_HEARTBEAT_S;
  Upgrade *u;

  g_return_if_fail (SY_IS_WS_HUB (self));
  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));

  if (self->shut_down)
    {
      g_set_error_literal (&error, SY_ERROR, SY_ERROR_UNAVAILABLE, "The server is stopping");
      refuse (self, msg, error);
      return;
    }

  if (g_uri_get_query (uri) != NULL)
    {
      query = g_uri_parse_params (g_uri_get_query (uri), -1, "&", G_URI_PARAMS_NONE, &error);
      if (query == NULL)
        {
          g_autoptr(GError) invalid = g_error_new (SY_ERROR, SY_ERROR_INVALID, "Malformed query: %s",
                                                   error->message);

          refuse (self, msg, invalid);
          return;
        }
    }

  /* Browsers cannot set headers on a WebSocket: the token may come as ?access_token=. */
  if (authorization == NULL && query != NULL && g_hash_table_contains (query, "access_token"))
    authorization = from_query = g_strconcat ("Bearer ", (const char *) g_hash_table_lookup (query, "access_token"), NULL);

  if (authorization == NULL)
    {
      g_set_error_literal (&error, SY_ERROR, SY_ERROR_UNAUTHORIZED,
                           "Missing bearer token: send Authorization: Bearer <token> or ?access_token=");
      refuse (self, msg, error);
      return;
    }

  if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &error))
    {
      g_autofree char *detail = g_strdup_printf ("Not a WebSocket handshake: %s", error->message);

      g_clear_error (&error);
      g_set_error_literal (&error, SY_ERROR, SY_ERROR_INVALID, detail);
      refuse (self, msg, error);
      return;
    }

  if (!parse_topics (query ? g_hash_table_lookup (query, "topics") : NULL, &topics, &error) ||
      !parse_heartbeat (query ? g_hash_table_lookup (query, "heartbeat") : NULL, &heartbeat_s, &error))
    {
      refuse (self, msg, error);
      return;
    }

  /* The token check may read SQLite: a worker does it while the message waits. */
  u = g_new0 (Upgrade, 1);
  u->hub = g_object_ref (self);
  u->msg = g_object_ref (msg);
  u->authorization = g_strdup (authorization);
  u->topics = g_steal_pointer (&topics);
  u->heartbeat_s = heartbeat_s;
  u->disconnected_id = g_signal_connect (msg, "disconnected", G_CALLBACK (upgrade_disconnected_cb), u);

  soup_server_message_pause (msg);
  (*self->in_flight)++;

  task = g_task_new (NULL, NULL, token_checked_cb, u);
  g_task_set_source_tag (task, _sy_ws_hub_upgrade);
  g_task_set_task_data (task, u, NULL);
  g_task_run_in_thread (task, check_token);
}

static gboolean
wake_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

void
_sy_ws_hub_shutdown (SyWsHub *self)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gint64 deadline = g_get_monotonic_time () + SHUTDOWN_WAIT_MS * 1000;
  GSource *wake;

  g_return_if_fail (SY_IS_WS_HUB (self));

  if (self->shut_down)
    return;
  self->shut_down = TRUE;

  for (guint i = 0; i < self->clients->len; i++)
    {
      Client *client = g_ptr_array_index (self->clients, i);

      if (client->heartbeat_source != NULL)
        g_source_destroy (client->heartbeat_source);
      if (client->wait_source != NULL)
        g_source_destroy (client->wait_source);
      g_clear_pointer (&client->wait_source, g_source_unref);

      if (soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (client->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server stopping");
    }

  /* Give the peers a moment to answer the close frames, so that they see a clean close rather
   * than a reset. A client that does not read at all costs SHUTDOWN_WAIT_MS. */
  wake = g_timeout_source_new (10);
  g_source_set_callback (wake, wake_cb, NULL, NULL);
  g_source_attach (wake, context);

  for (;;)
    {
      gboolean open = FALSE;

      for (guint i = 0; i < self->clients->len && !open; i++)
        {
          Client *client = g_ptr_array_index (self->clients, i);

          open = !client->gone;
        }

      if (!open || g_get_monotonic_time () >= deadline)
        break;
      g_main_context_iteration (context, TRUE);
    }

  g_source_destroy (wake);
  g_source_unref (wake);

  if (self->reap_source != NULL)
    g_source_destroy (self->reap_source);
  g_clear_pointer (&self->reap_source, g_source_unref);
  stats_add (self, -(int) self->clients->len, 0);
  g_ptr_array_set_size (self->clients, 0);

  if (self->subscription != 0)
    _sy_event_bus_unsubscribe (self->bus, self->subscription);
  self->subscription = 0;
}

void
_sy_ws_hub_get_stats (SyWsHub *self,
                      guint   *out_clients,
                      guint64 *out_dropped)
{
  g_return_if_fail (SY_IS_WS_HUB (self));

  g_mutex_lock (&self->stats_mutex);
  if (out_clients != NULL)
    *out_clients = self->n_clients;
  if (out_dropped != NULL)
    *out_dropped = self->dropped_total;
  g_mutex_unlock (&self->stats_mutex);
}

static void
sy_ws_hub_dispose (GObject *object)
{
  SyWsHub *self = (SyWsHub *) object;

  self->shut_down = TRUE;
  if (self->reap_source != NULL)
    g_source_destroy (self->reap_source);
  g_clear_pointer (&self->reap_source, g_source_unref);
  if (self->clients != NULL)
    g_ptr_array_set_size (self->clients, 0);
  if (self->subscription != 0 && self->bus != NULL)
    _sy_event_bus_unsubscribe (self->bus, self->subscription);
  self->subscription = 0;
  g_clear_object (&self->bus);
  g_clear_object (&self->auth);

  G_OBJECT_CLASS (sy_ws_hub_parent_class)->dispose (object);
}

static void
sy_ws_hub_finalize (GObject *object)
{
  SyWsHub *self = (SyWsHub *) object;

  g_clear_pointer (&self->clients, g_ptr_array_unref);
  g_mutex_clear (&self->stats_mutex);

  G_OBJECT_CLASS (sy_ws_hub_parent_class)->finalize (object);
}

static void
sy_ws_hub_class_init (SyWsHubClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sy_ws_hub_dispose;
  object_class->finalize = sy_ws_hub_finalize;
}

static void
sy_ws_hub_init (SyWsHub *self)
{
  self->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  self->max_queue = SY_WS_HUB_DEFAULT_MAX_QUEUE;
  g_mutex_init (&self->stats_mutex);
}

SyWsHub *
_sy_ws_hub_new (SyEventBus     *bus,
                SyAuth         *auth,
                SyWsRejectFunc  reject_func,
                guint          *in_flight)
{
  SyWsHub *self;

  g_return_val_if_fail (SY_IS_EVENT_BUS (bus), NULL);
  g_return_val_if_fail (SY_IS_AUTH (auth), NULL);
  g_return_val_if_fail (reject_func != NULL, NULL);
  g_return_val_if_fail (in_flight != NULL, NULL);

  self = g_object_new (SY_TYPE_WS_HUB, NULL);
  self->bus = g_object_ref (bus);
  self->auth = g_object_ref (auth);
  self->reject = reject_func;
  self->in_flight = in_flight;

  return self;
}
