/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-client"

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "sy-client.h"

#define REQUEST_TIMEOUT_S    60
#define BACKOFF_MIN_MS       500
#define BACKOFF_MAX_MS       30000
#define STABLE_CONNECTION_US (10 * G_USEC_PER_SEC)
/* The server sends a heartbeat every 5 s: three missed ones mean the connection is dead. */
#define SILENCE_LIMIT_US     (3 * 5 * G_USEC_PER_SEC)
#define WATCHDOG_INTERVAL_S  1
#define MAX_PAGES            100000

struct _SyClient
{
  GObject                  parent_instance;

  char                    *base_url;
  char                    *token;
  SoupSession             *session;
  GCancellable            *cancellable;

  /* Stream */
  GStrv                    topics;
  gboolean                 streaming;
  SyClientState            state;
  gint64                   last_event_ms;
  guint                    reconnects;
  gboolean                 ever_connected;
  guint                    backoff_ms;
  SoupWebsocketConnection *conn;
  gulong                   message_id;
  gulong                   closed_id;
  GCancellable            *stream_cancellable;
  GSource                 *retry_source;
  GSource                 *watchdog_source;
  gint64                   connected_us;
  gint64                   last_message_us;
};

G_DEFINE_FINAL_TYPE (SyClient, sy_client, G_TYPE_OBJECT)

G_DEFINE_QUARK (sy-client-error-quark, sy_client_error)

enum {
  PROP_0,
  PROP_STATE,
  PROP_LAST_EVENT_MS,
  PROP_RECONNECTS,
  N_PROPS
};

enum {
  EVENT,
  STREAM_ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void stream_connect      (SyClient *self);
static void stream_drop         (SyClient *self,
                                 gboolean  retry);

GType
sy_client_state_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      static const GEnumValue values[] = {
        { SY_CLIENT_STATE_DISCONNECTED, "SY_CLIENT_STATE_DISCONNECTED", "disconnected" },
        { SY_CLIENT_STATE_CONNECTING, "SY_CLIENT_STATE_CONNECTING", "connecting" },
        { SY_CLIENT_STATE_CONNECTED, "SY_CLIENT_STATE_CONNECTED", "connected" },
        { 0, NULL, NULL },
      };
      GType type = g_enum_register_static (g_intern_static_string ("SyClientState"), values);

      g_once_init_leave (&type_id, type);
    }

  return type_id;
}

static SyClientError
error_for_status (guint status)
{
  switch (status)
    {
    case 400:
    case 413:
    case 422:
      return SY_CLIENT_ERROR_INVALID;
    case 401:
      return SY_CLIENT_ERROR_UNAUTHORIZED;
    case 403:
      return SY_CLIENT_ERROR_FORBIDDEN;
    case 404:
      return SY_CLIENT_ERROR_NOT_FOUND;
    case 409:
      return SY_CLIENT_ERROR_CONFLICT;
    default:
      return SY_CLIENT_ERROR_FAILED;
    }
}

/* Parses @bytes as JSON; the root is returned sealed. */
static JsonNode *
parse_json (GBytes  *bytes,
            GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  gsize len = 0;
  const char *data = bytes ? g_bytes_get_data (bytes, &len) : NULL;
  JsonNode *root;

  /* Response bodies are not NUL-terminated: always pass the length. */
  if (data == NULL || len == 0 ||
      !json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      g_set_error (error, SY_CLIENT_ERROR, SY_CLIENT_ERROR_PROTOCOL, "Not JSON: %s",
                   local_error ? local_error->message : "empty body");
      return NULL;
    }

  root = json_parser_steal_root (parser);
  if (root == NULL)
    {
      g_set_error_literal (error, SY_CLIENT_ERROR, SY_CLIENT_ERROR_PROTOCOL, "Empty JSON document");
      return NULL;
    }
  json_node_seal (root);

  return root;
}

/* The message of a failed answer: the problem's detail (or title), else the status line. */
static void
set_http_error (GError      **error,
                SoupMessage  *msg,
                GBytes       *body)
{
  guint status = soup_message_get_status (msg);
  g_autoptr(JsonNode) node = parse_json (body, NULL);
  const char *text = NULL;

  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *obj = json_node_get_object (node);

      text = json_object_get_string_member_with_default (obj, "detail", NULL);
      if (text == NULL)
        text = json_object_get_string_member_with_default (obj, "title", NULL);
    }

  if (text != NULL)
    g_set_error_literal (error, SY_CLIENT_ERROR, error_for_status (status), text);
  else
    g_set_error (error, SY_CLIENT_ERROR, error_for_status (status), "HTTP %u %s", status,
                 soup_message_get_reason_phrase (msg) ? soup_message_get_reason_phrase (msg) : "");
}

static void
set_network_error (GError       **error,
                   const GError  *cause)
{
  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, cause->message);
  else
    g_set_error_literal (error, SY_CLIENT_ERROR, SY_CLIENT_ERROR_NETWORK, cause->message);
}

static void
sy_client_dispose (GObject *object)
{
  SyClient *self = (SyClient *) object;

  self->streaming = FALSE;
  stream_drop (self, FALSE);
  g_cancellable_cancel (self->cancellable);
  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (sy_client_parent_class)->dispose (object);
}

static void
sy_client_finalize (GObject *object)
{
  SyClient *self = (SyClient *) object;

  g_clear_pointer (&self->base_url, g_free);
  g_clear_pointer (&self->token, g_free);
  g_clear_pointer (&self->topics, g_strfreev);

  G_OBJECT_CLASS (sy_client_parent_class)->finalize (object);
}

static void
sy_client_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  SyClient *self = SY_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_LAST_EVENT_MS:
      g_value_set_int64 (value, self->last_event_ms);
      break;

    case PROP_RECONNECTS:
      g_value_set_uint (value, self->reconnects);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sy_client_class_init (SyClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sy_client_dispose;
  object_class->finalize = sy_client_finalize;
  object_class->get_property = sy_client_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       SY_TYPE_CLIENT_STATE, SY_CLIENT_STATE_DISCONNECTED,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAST_EVENT_MS] =
    g_param_spec_int64 ("last-event-ms", NULL, NULL,
                        0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_RECONNECTS] =
    g_param_spec_uint ("reconnects", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SyClient::event:
   *
   * Emitted on the client's context for every stream message but the heartbeats, detailed by
   * the message's type.
   */
  signals[EVENT] =
    g_signal_new ("event",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_INT64,
                  JSON_TYPE_NODE | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * SyClient::stream-error:
   *
   * Emitted on the client's context when a stream connection attempt fails or is refused; the
   * client keeps retrying.
   */
  signals[STREAM_ERROR] =
    g_signal_new ("stream-error",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
sy_client_init (SyClient *self)
{
  self->cancellable = g_cancellable_new ();
  self->backoff_ms = BACKOFF_MIN_MS;
}

SyClient *
sy_client_new (const char *base_url,
               const char *token)
{
  SyClient *self;
  gsize len;

  g_return_val_if_fail (base_url != NULL, NULL);

  self = g_object_new (SY_TYPE_CLIENT, NULL);
  self->base_url = g_strdup (base_url);
  len = strlen (self->base_url);
  while (len > 0 && self->base_url[len - 1] == '/')
    self->base_url[--len] = '\0';
  self->token = g_strdup (token);
  /* Created on the caller's thread-default context: every callback arrives there. */
  self->session = soup_session_new_with_options ("timeout", REQUEST_TIMEOUT_S, NULL);

  return self;
}

const char *
sy_client_get_base_url (SyClient *self)
{
  g_return_val_if_fail (SY_IS_CLIENT (self), NULL);

  return self->base_url;
}

static SoupMessage *
new_message (SyClient    *self,
             const char  *method,
             const char  *url,
             GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  SoupMessage *msg;

  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, SY_CLIENT_ERROR, SY_CLIENT_ERROR_FAILED, "Invalid URL %s: %s", url,
                   local_error->message);
      return NULL;
    }

  msg = soup_message_new_from_uri (method, uri);
  if (self->token != NULL)
    {
      g_autofree char *authorization = g_strconcat ("Bearer ", self->token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", authorization);
    }

  return msg;
}

/* REST */

static void
request_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SoupMessage *msg = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint status;

  bytes = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);
  if (bytes == NULL)
    {
      GError *mapped = NULL;

      set_network_error (&mapped, error);
      g_task_return_error (task, mapped);
      return;
    }

  status = soup_message_get_status (msg);
  if (status >= 200 && status < 300)
    {
      JsonNode *node;

      if (status == 204 || g_bytes_get_size (bytes) == 0)
        {
          node = json_node_new (JSON_NODE_NULL);
          json_node_seal (node);
        }
      else
        {
          GError *parse_error = NULL;

          node = parse_json (bytes, &parse_error);
          if (node == NULL)
            {
              g_task_return_error (task, parse_error);
              return;
            }
        }
      g_task_return_pointer (task, node, (GDestroyNotify) json_node_unref);
    }
  else
    {
      GError *http_error = NULL;

      set_http_error (&http_error, msg, bytes);
      g_task_return_error (task, http_error);
    }
}

void
sy_client_request_async (SyClient            *self,
                         const char          *method,
                         const char          *path,
                         JsonNode            *body,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  SoupMessage *msg;

  g_return_if_fail (SY_IS_CLIENT (self));
  g_return_if_fail (method != NULL);
  g_return_if_fail (path != NULL && path[0] == '/');

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sy_client_request_async);

  url = g_strconcat (self->base_url, path, NULL);
  msg = new_message (self, method, url, &error);
  if (msg == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_set_task_data (task, msg, g_object_unref);

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept",
                                "application/json, application/problem+json");
  if (body != NULL)
    {
      g_autofree char *json = json_to_string (body, FALSE);
      gsize len = strlen (json);
      g_autoptr(GBytes) bytes = g_bytes_new_take (g_steal_pointer (&json), len);

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }

  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT,
                                    cancellable ? cancellable : self->cancellable,
                                    request_done_cb, g_steal_pointer (&task));
}

JsonNode *
sy_client_request_finish (SyClient      *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (SY_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  JsonArray *results;
  guint      pages;
} ListAll;

static void
list_all_free (ListAll *la)
{
  g_clear_pointer (&la->results, json_array_unref);
  g_free (la);
}

static void list_page_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data);

static void
list_all_fetch (GTask      *task,
                const char *path)
{
  SyClient *self = g_task_get_source_object (task);

  sy_client_request_async (self, "GET", path, NULL, g_task_get_cancellable (task), list_page_cb, task);
}

/* The path and query of a `next` link: the server sends "/api/...?limit=&offset=", but a full
 * URL is accepted too. */
static char *
next_path (const char *next)
{
  g_autoptr(GUri) uri = NULL;

  if (next[0] == '/')
    return g_strdup (next);

  uri = g_uri_parse (next, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL)
    return NULL;

  return g_uri_join (G_URI_FLAGS_ENCODED, NULL, NULL, NULL, -1, g_uri_get_path (uri),
                     g_uri_get_query (uri), NULL);
}

static void
list_page_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ListAll *la = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *path = NULL;
  JsonObject *page;
  JsonNode *results;
  JsonNode *next;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (node == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node) ||
      (results = json_object_get_member (page = json_node_get_object (node), "results")) == NULL ||
      !JSON_NODE_HOLDS_ARRAY (results))
    {
      g_task_return_new_error (task, SY_CLIENT_ERROR, SY_CLIENT_ERROR_PROTOCOL,
                               "Not a paginated list");
      return;
    }

  for (guint i = 0; i < json_array_get_length (json_node_get_array (results)); i++)
    json_array_add_element (la->results, json_node_copy (json_array_get_element (json_node_get_array (results), i)));

  next = json_object_get_member (page, "next");
  if (next != NULL && JSON_NODE_HOLDS_VALUE (next) && json_node_get_value_type (next) == G_TYPE_STRING)
    path = next_path (json_node_get_string (next));

  if (path == NULL)
    {
      json_array_seal (la->results);
      g_task_return_pointer (task, json_array_ref (la->results), (GDestroyNotify) json_array_unref);
      return;
    }

  if (++la->pages > MAX_PAGES)
    {
      g_task_return_new_error (task, SY_CLIENT_ERROR, SY_CLIENT_ERROR_PROTOCOL, "Too many pages");
      return;
    }

  list_all_fetch (g_steal_pointer (&task), path);
}

void
sy_client_list_all_async (SyClient            *self,
                          const char          *path,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task;
  ListAll *la;

  g_return_if_fail (SY_IS_CLIENT (self));
  g_return_if_fail (path != NULL && path[0] == '/');

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, sy_client_list_all_async);
  la = g_new0 (ListAll, 1);
  la->results = json_array_new ();
  g_task_set_task_data (task, la, (GDestroyNotify) list_all_free);

  list_all_fetch (task, path);
}

JsonArray *
sy_client_list_all_finish (SyClient      *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (SY_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Download: a GET whose body is spliced into a caller's output stream, chunk by chunk, with
 * progress. */

#define DOWNLOAD_CHUNK (64 * 1024)

typedef struct
{
  SoupMessage              *msg;
  GInputStream             *in;
  GOutputStream            *out;
  SyClientProgressCallback  progress;
  gpointer                  progress_data;
  GDestroyNotify            progress_destroy;
  goffset                   bytes;
} Download;

static void
download_free (Download *dl)
{
  g_clear_object (&dl->msg);
  g_clear_object (&dl->in);
  g_clear_object (&dl->out);
  if (dl->progress_destroy != NULL)
    dl->progress_destroy (dl->progress_data);
  g_free (dl);
}

static void download_read_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data);

static void
download_read_next (GTask *task)
{
  Download *dl = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (dl->in, DOWNLOAD_CHUNK, G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                                   download_read_cb, task);
}

static void
download_write_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Download *dl = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gsize written = 0;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, &written, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  dl->bytes += (goffset) written;
  if (dl->progress != NULL)
    dl->progress (dl->bytes, dl->progress_data);

  download_read_next (g_steal_pointer (&task));
}

static void
download_read_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Download *dl = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  GCancellable *cancellable;
  gsize len;
  const void *data;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, &error);
  if (bytes == NULL)
    {
      GError *net_error = NULL;

      set_network_error (&net_error, error);
      g_task_return_error (task, net_error);
      return;
    }

  data = g_bytes_get_data (bytes, &len);
  if (len == 0)
    {
      g_task_return_int (task, dl->bytes);
      return;
    }

  /* The task keeps @bytes alive until the write is done. */
  g_object_set_data_full (G_OBJECT (task), "sy-download-chunk", g_bytes_ref (bytes),
                          (GDestroyNotify) g_bytes_unref);
  cancellable = g_task_get_cancellable (task);
  g_output_stream_write_all_async (dl->out, data, len, G_PRIORITY_DEFAULT, cancellable,
                                   download_write_cb, g_steal_pointer (&task));
}

/* A failed answer: read (a bounded part of) its problem body for the message. */
static void
download_problem_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Download *dl = g_task_get_task_data (task);
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, NULL);
  GError *error = NULL;

  set_http_error (&error, dl->msg, bytes);
  g_task_return_error (task, error);
}

static void
download_sent_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Download *dl = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  guint status;

  dl->in = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (dl->in == NULL)
    {
      GError *net_error = NULL;

      set_network_error (&net_error, error);
      g_task_return_error (task, net_error);
      return;
    }

  status = soup_message_get_status (dl->msg);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      GCancellable *cancellable = g_task_get_cancellable (task);

      g_input_stream_read_bytes_async (dl->in, DOWNLOAD_CHUNK, G_PRIORITY_DEFAULT, cancellable,
                                       download_problem_cb, g_steal_pointer (&task));
      return;
    }

  download_read_next (g_steal_pointer (&task));
}

void
sy_client_download_async (SyClient                 *self,
                          const char               *path,
                          GOutputStream            *out,
                          GCancellable             *cancellable,
                          SyClientProgressCallback  progress,
                          gpointer                  progress_data,
                          GDestroyNotify            progress_destroy,
                          GAsyncReadyCallback       callback,
                          gpointer                  user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  Download *dl;

  g_return_if_fail (SY_IS_CLIENT (self));
  g_return_if_fail (path != NULL && path[0] == '/');
  g_return_if_fail (G_IS_OUTPUT_STREAM (out));

  task = g_task_new (self, cancellable ? cancellable : self->cancellable, callback, user_data);
  g_task_set_source_tag (task, sy_client_download_async);

  dl = g_new0 (Download, 1);
  dl->out = g_object_ref (out);
  dl->progress = progress;
  dl->progress_data = progress_data;
  dl->progress_destroy = progress_destroy;
  g_task_set_task_data (task, dl, (GDestroyNotify) download_free);

  url = g_strconcat (self->base_url, path, NULL);
  dl->msg = new_message (self, "GET", url, &error);
  if (dl->msg == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  soup_session_send_async (self->session, dl->msg, G_PRIORITY_DEFAULT, cancellable ? cancellable : self->cancellable,
                           download_sent_cb, g_steal_pointer (&task));
}

goffset
sy_client_download_finish (SyClient      *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (SY_IS_CLIENT (self), -1);
  g_return_val_if_fail (g_task_is_valid (result, self), -1);

  return g_task_propagate_int (G_TASK (result), error);
}

/* Stream */

static void
set_state (SyClient      *self,
           SyClientState  state)
{
  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static gboolean
retry_cb (gpointer user_data)
{
  SyClient *self = user_data;

  g_clear_pointer (&self->retry_source, g_source_unref);
  stream_connect (self);

  return G_SOURCE_REMOVE;
}

/* Exponential backoff, 0.5 s doubling to 30 s, with ±20 % jitter. */
static void
schedule_retry (SyClient *self,
                gboolean  max_backoff)
{
  guint delay_ms;

  if (max_backoff)
    self->backoff_ms = BACKOFF_MAX_MS;
  delay_ms = (guint) (self->backoff_ms * g_random_double_range (0.8, 1.2));
  self->backoff_ms = MIN (self->backoff_ms * 2, BACKOFF_MAX_MS);

  set_state (self, SY_CLIENT_STATE_CONNECTING);

  g_assert (self->retry_source == NULL);
  self->retry_source = g_timeout_source_new (delay_ms);
  g_source_set_callback (self->retry_source, retry_cb, self, NULL);
  g_source_attach (self->retry_source, g_main_context_get_thread_default ());
}

/* Forgets the current connection (if any) and, when @retry, schedules the next attempt. */
static void
stream_drop (SyClient *self,
             gboolean  retry)
{
  if (self->stream_cancellable != NULL)
    g_cancellable_cancel (self->stream_cancellable);
  g_clear_object (&self->stream_cancellable);

  if (self->retry_source != NULL)
    g_source_destroy (self->retry_source);
  g_clear_pointer (&self->retry_source, g_source_unref);
  if (self->watchdog_source != NULL)
    g_source_destroy (self->watchdog_source);
  g_clear_pointer (&self->watchdog_source, g_source_unref);

  if (self->conn != NULL)
    {
      g_clear_signal_handler (&self->message_id, self->conn);
      g_clear_signal_handler (&self->closed_id, self->conn);
      if (soup_websocket_connection_get_state (self->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (self->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&self->conn);

      /* A connection that lasted resets the backoff. */
      if (g_get_monotonic_time () - self->connected_us > STABLE_CONNECTION_US)
        self->backoff_ms = BACKOFF_MIN_MS;
    }

  if (retry && self->streaming)
    schedule_retry (self, FALSE);
}

static gboolean
watchdog_cb (gpointer user_data)
{
  SyClient *self = user_data;

  if (g_get_monotonic_time () - self->last_message_us > SILENCE_LIMIT_US)
    {
      g_debug ("No stream message for %d s: reconnecting", (int) (SILENCE_LIMIT_US / G_USEC_PER_SEC));
      g_clear_pointer (&self->watchdog_source, g_source_unref);
      stream_drop (self, TRUE);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static void
stream_message_cb (SoupWebsocketConnection *conn,
                   int                      type,
                   GBytes                  *message,
                   SyClient                *self)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GDateTime) dt = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *obj;
  const char *event_type;
  const char *ts;
  JsonNode *data;
  gint64 ts_ms = 0;

  self->last_message_us = g_get_monotonic_time ();

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;

  node = parse_json (message, &error);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_warning ("Ignoring a stream message that is not a JSON object: %s",
                 error ? error->message : "wrong type");
      return;
    }

  obj = json_node_get_object (node);
  event_type = json_object_get_string_member_with_default (obj, "type", NULL);
  if (event_type == NULL)
    return;
  if (g_str_equal (event_type, "stream.heartbeat"))
    return;

  ts = json_object_get_string_member_with_default (obj, "ts", NULL);
  if (ts != NULL && (dt = g_date_time_new_from_iso8601 (ts, NULL)) != NULL)
    ts_ms = g_date_time_to_unix (dt) * 1000 + g_date_time_get_microsecond (dt) / 1000;

  data = json_object_get_member (obj, "data");

  self->last_event_ms = g_get_real_time () / 1000;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_EVENT_MS]);

  g_signal_emit (self, signals[EVENT], g_quark_from_string (event_type), event_type, ts_ms, data);
}

static void
stream_closed_cb (SoupWebsocketConnection *conn,
                  SyClient                *self)
{
  g_debug ("Stream closed (code %u)", soup_websocket_connection_get_close_code (conn));
  stream_drop (self, TRUE);
}

static void
stream_connected_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(SoupWebsocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupMessage) msg = user_data;
  SyClient *self;
  guint status;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (object), result, &error);

  /* Cancelled: the stream was stopped or the client disposed; @self may be gone. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = g_object_get_data (G_OBJECT (msg), "sy-client");
  g_assert (SY_IS_CLIENT (self));
  g_clear_object (&self->stream_cancellable);

  if (conn == NULL)
    {
      g_autoptr(GError) reported = NULL;

      status = soup_message_get_status (msg);
      if (SOUP_STATUS_IS_CLIENT_ERROR (status) || SOUP_STATUS_IS_SERVER_ERROR (status))
        g_set_error (&reported, SY_CLIENT_ERROR, error_for_status (status),
                     "The stream was refused: HTTP %u %s", status,
                     soup_message_get_reason_phrase (msg) ? soup_message_get_reason_phrase (msg) : "");
      else
        set_network_error (&reported, error);

      g_debug ("Stream connection failed: %s", reported->message);
      /* Refused credentials will not fix themselves quickly: retry slowly, and say why. */
      schedule_retry (self, status == 401 || status == 403);
      g_signal_emit (self, signals[STREAM_ERROR], 0, reported);
      return;
    }

  self->conn = g_steal_pointer (&conn);
  self->connected_us = self->last_message_us = g_get_monotonic_time ();
  self->message_id = g_signal_connect (self->conn, "message", G_CALLBACK (stream_message_cb), self);
  self->closed_id = g_signal_connect (self->conn, "closed", G_CALLBACK (stream_closed_cb), self);

  self->watchdog_source = g_timeout_source_new_seconds (WATCHDOG_INTERVAL_S);
  g_source_set_callback (self->watchdog_source, watchdog_cb, self, NULL);
  g_source_attach (self->watchdog_source, g_main_context_get_thread_default ());

  if (self->ever_connected)
    {
      self->reconnects++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECONNECTS]);
    }
  self->ever_connected = TRUE;
  set_state (self, SY_CLIENT_STATE_CONNECTED);
}

static void
stream_connect (SyClient *self)
{
  g_autoptr(GString) url = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  SoupMessage *msg;

  g_assert (self->conn == NULL && self->stream_cancellable == NULL);

  if (g_str_has_prefix (self->base_url, "https://"))
    g_string_append_printf (url, "wss://%s", self->base_url + strlen ("https://"));
  else if (g_str_has_prefix (self->base_url, "http://"))
    g_string_append_printf (url, "ws://%s", self->base_url + strlen ("http://"));
  else
    g_string_append (url, self->base_url);
  g_string_append (url, "/api/stream");

  if (self->topics != NULL && self->topics[0] != NULL)
    {
      g_autofree char *joined = g_strjoinv (",", self->topics);
      g_autofree char *escaped = g_uri_escape_string (joined, ",", TRUE);

      g_string_append_printf (url, "?topics=%s", escaped);
    }

  set_state (self, SY_CLIENT_STATE_CONNECTING);

  msg = new_message (self, "GET", url->str, &error);
  if (msg == NULL)
    {
      schedule_retry (self, TRUE);
      g_signal_emit (self, signals[STREAM_ERROR], 0, error);
      return;
    }

  /* The message carries the client for the callback, which must not touch it once cancelled. */
  g_object_set_data (G_OBJECT (msg), "sy-client", self);
  self->stream_cancellable = g_cancellable_new ();
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        self->stream_cancellable, stream_connected_cb, msg);
}

void
sy_client_start_stream (SyClient           *self,
                        const char * const *topics)
{
  g_return_if_fail (SY_IS_CLIENT (self));

  self->streaming = FALSE;
  stream_drop (self, FALSE);

  g_clear_pointer (&self->topics, g_strfreev);
  self->topics = topics ? g_strdupv ((char **) topics) : NULL;
  self->streaming = TRUE;
  self->backoff_ms = BACKOFF_MIN_MS;

  stream_connect (self);
}

void
sy_client_stop_stream (SyClient *self)
{
  g_return_if_fail (SY_IS_CLIENT (self));

  self->streaming = FALSE;
  stream_drop (self, FALSE);
  set_state (self, SY_CLIENT_STATE_DISCONNECTED);
}

SyClientState
sy_client_get_state (SyClient *self)
{
  g_return_val_if_fail (SY_IS_CLIENT (self), SY_CLIENT_STATE_DISCONNECTED);

  return self->state;
}

gint64
sy_client_get_last_event_ms (SyClient *self)
{
  g_return_val_if_fail (SY_IS_CLIENT (self), 0);

  return self->last_event_ms;
}

guint
sy_client_get_reconnects (SyClient *self)
{
  g_return_val_if_fail (SY_IS_CLIENT (self), 0);

  return self->reconnects;
}
