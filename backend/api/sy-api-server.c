/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "sy-api-server-private.h"
#include "sy-error.h"
#include "sy-pq-detector-private.h"

#define LISTEN_BACKLOG 1024

struct _SyApiServer
{
  GObject       parent_instance;

  SyApiContext  api;
  SoupServer   *server;
  GPtrArray    *routes;     /* const SyRoute * */
  guint16       port;

  /* Work-around for libsoup 3.2 (Debian 12): a keep-alive connection that the client closes
   * while idle is never closed on our side (upstream fixed it in 3.3), so each one would hold a
   * file descriptor in CLOSE_WAIT forever. We track the sockets and close idle ones that have
   * reached end-of-stream. */
  GHashTable   *sockets;       /* GSocket (owned) -> guint in-flight request count */
  GSource      *reaper;

  SyPqDetector *pq;            /* power-quality detection on data.ingested */
};

#define REAPER_INTERVAL_S 2

G_DEFINE_FINAL_TYPE (SyApiServer, sy_api_server, G_TYPE_OBJECT)

typedef const SyRoute *(*RoutesFunc) (guint *n_routes);

/* GET /api/stream: the WebSocket upgrade, done by the hub (backend/stream/). */
static void
stream_upgrade (SyApiContext      *api,
                SoupServerMessage *msg,
                const char        *path)
{
  _sy_ws_hub_upgrade (api->hub, msg);
}

static const SyRoute stream_routes[] = {
  { "GET", "/api/stream", "stream:read", NULL, stream_upgrade },
};

static const SyRoute *
stream_route_table (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (stream_routes);
  return stream_routes;
}

static const RoutesFunc route_tables[] = {
  _sy_api_health_routes,
  _sy_api_oauth_routes,
  _sy_api_clients_routes,
  _sy_api_sites_routes,
  _sy_api_meters_routes,
  _sy_api_groups_routes,
  _sy_api_devices_routes,
  _sy_api_ingest_routes,
  _sy_api_readings_routes,
  _sy_api_automations_routes,
  _sy_api_pq_routes,
  _sy_api_analytics_routes,
  stream_route_table,
};

GPtrArray *
_sy_api_dup_all_routes (void)
{
  GPtrArray *routes = g_ptr_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (route_tables); i++)
    {
      guint n = 0;
      const SyRoute *table = route_tables[i] (&n);

      for (guint j = 0; j < n; j++)
        g_ptr_array_add (routes, (gpointer) &table[j]);
    }

  return routes;
}

/* Matches @path (no trailing slash) against @pattern, filling {id} (a positive integer) and
 * {name} (any one segment). */
static gboolean
match_pattern (const char  *pattern,
               const char  *path,
               gint64      *id,
               char       **arg)
{
  const char *p = pattern;
  const char *s = path;

  while (*p != '\0')
    {
      if (*p == '{')
        {
          const char *close = strchr (p, '}');
          const char *seg_end = strchr (s, '/');
          gsize seg_len;

          if (close == NULL)
            return FALSE;
          if (seg_end == NULL)
            seg_end = s + strlen (s);
          seg_len = seg_end - s;
          if (seg_len == 0)
            return FALSE;

          if (strncmp (p, "{id}", 4) == 0)
            {
              guint64 v = 0;

              if (seg_len > 15)
                return FALSE;
              for (const char *c = s; c < seg_end; c++)
                {
                  if (!g_ascii_isdigit (*c))
                    return FALSE;
                  v = v * 10 + (*c - '0');
                }
              if (v == 0)
                return FALSE;
              *id = (gint64) v;
            }
          else
            {
              g_free (*arg);
              *arg = g_uri_unescape_segment (s, seg_end, NULL);
              if (*arg == NULL)
                return FALSE;
            }

          p = close + 1;
          s = seg_end;
          continue;
        }

      if (*p != *s)
        return FALSE;
      p++;
      s++;
    }

  return *s == '\0';
}

static void
request_free (SyRequest *req)
{
  g_free (req->method);
  g_free (req->path);
  g_clear_pointer (&req->query, g_hash_table_unref);
  g_clear_pointer (&req->body, g_bytes_unref);
  g_free (req->content_type);
  g_free (req->authorization);
  g_free (req->client_id);
  g_free (req->arg);
  g_free (req);
}

static void
response_clear (SyResponse *res)
{
  if (res->body != NULL)
    g_string_free (res->body, TRUE);
  g_free (res->location);
}

typedef struct
{
  SyApiServer       *self;
  SoupServerMessage *msg;
  const SyRoute     *route;
  SyRequest         *req;
  SyResponse         res;
  gboolean           gone;
  gulong             disconnected_id;
} Dispatch;

static void
dispatch_free (Dispatch *d)
{
  g_clear_signal_handler (&d->disconnected_id, d->msg);
  g_clear_object (&d->msg);
  g_clear_pointer (&d->req, request_free);
  response_clear (&d->res);
  g_free (d);
}

static void
run_route (GTask        *task,
           gpointer      source_object,
           gpointer      task_data,
           GCancellable *cancellable)
{
  Dispatch *d = task_data;
  GError *error = NULL;

  if (d->route->scope != NULL &&
      !_sy_auth_check_bearer (d->req->api->auth, d->req->authorization,
                              g_str_equal (d->route->scope, "token") ? NULL : d->route->scope,
                              &d->req->client_id, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (!d->route->func (d->req, &d->res, &error))
    {
      g_assert (error != NULL);
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

void
_sy_message_set_json (SoupServerMessage *msg,
                      guint              status,
                      const char        *json,
                      gssize             len)
{
  soup_server_message_set_status (msg, status, NULL);
  if (json != NULL)
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                      json, len < 0 ? strlen (json) : (gsize) len);
}

void
_sy_message_set_problem (SoupServerMessage *msg,
                         const GError      *error)
{
  g_autoptr(GBytes) bytes = NULL;
  guint status = sy_error_http_status (error);
  gsize len;
  const char *data;

  bytes = _sy_problem_to_bytes (error, g_uri_get_path (soup_server_message_get_uri (msg)));
  data = g_bytes_get_data (bytes, &len);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/problem+json", SOUP_MEMORY_COPY, data, len);

  /* RFC 6749 5.2: a client that authenticated (or should have) with HTTP Basic at the token
   * and revocation endpoints is challenged with Basic; everything else takes bearer tokens. */
  if (status == 401)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "WWW-Authenticate",
                                  g_str_has_prefix (g_uri_get_path (soup_server_message_get_uri (msg)), "/api/oauth/")
                                  ? "Basic realm=\"switchyard\""
                                  : "Bearer realm=\"switchyard\"");

  if (status >= 500)
    g_warning ("%s %s: %s", soup_server_message_get_method (msg),
               g_uri_get_path (soup_server_message_get_uri (msg)), error->message);
}

static void
route_done (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Dispatch *d = user_data;
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *headers;

  d->self->api.in_flight--;

  if (d->gone)
    goto out;

  headers = soup_server_message_get_response_headers (d->msg);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      _sy_message_set_problem (d->msg, error);
    }
  else
    {
      soup_server_message_set_status (d->msg, d->res.status ? d->res.status : 200, NULL);
      if (d->res.body != NULL && d->res.body->len > 0)
        {
          gsize len = d->res.body->len;

          soup_server_message_set_response (d->msg,
                                            d->res.content_type ? d->res.content_type : "application/json",
                                            SOUP_MEMORY_TAKE, g_string_free (g_steal_pointer (&d->res.body), FALSE), len);
        }
      if (d->res.location != NULL)
        soup_message_headers_replace (headers, "Location", d->res.location);
    }

  if (d->res.no_store)
    {
      soup_message_headers_replace (headers, "Cache-Control", "no-store");
      soup_message_headers_replace (headers, "Pragma", "no-cache");
    }

  soup_server_message_unpause (d->msg);

out:
  dispatch_free (d);
}

static void
message_disconnected_cb (SoupServerMessage *msg,
                         Dispatch          *d)
{
  d->gone = TRUE;
}

static GHashTable *
copy_query (GHashTable *query)
{
  GHashTable *copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (query != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, query);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_insert (copy, g_strdup (key), g_strdup (value));
    }

  return copy;
}

static void
dispatch_worker (SyApiServer       *self,
                 SoupServerMessage *msg,
                 const SyRoute     *route,
                 char              *path,
                 gint64             id,
                 char              *arg,
                 GHashTable        *query)
{
  g_autoptr(GTask) task = NULL;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  Dispatch *d;

  d = g_new0 (Dispatch, 1);
  d->self = self;
  d->msg = g_object_ref (msg);
  d->route = route;
  d->req = g_new0 (SyRequest, 1);
  d->req->api = &self->api;
  d->req->method = g_strdup (soup_server_message_get_method (msg));
  d->req->path = path;
  d->req->id = id;
  d->req->arg = arg;
  d->req->query = copy_query (query);
  d->req->body = soup_message_body_flatten (body);
  d->req->content_type = g_strdup (soup_message_headers_get_one (headers, "Content-Type"));
  d->req->authorization = g_strdup (soup_message_headers_get_one (headers, "Authorization"));
  d->disconnected_id = g_signal_connect (msg, "disconnected", G_CALLBACK (message_disconnected_cb), d);

  soup_server_message_pause (msg);
  self->api.in_flight++;

  task = g_task_new (self, NULL, route_done, d);
  g_task_set_source_tag (task, dispatch_worker);
  g_task_set_task_data (task, d, NULL);
  g_task_run_in_thread (task, run_route);
}

static void
server_callback (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *raw_path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  SyApiServer *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_strdup (raw_path);
  const char *method = soup_server_message_get_method (msg);
  g_autoptr(GString) allow = g_string_new (NULL);
  gsize len = strlen (path);

  /* A trailing slash is optional everywhere. */
  while (len > 1 && path[len - 1] == '/')
    path[--len] = '\0';

  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "X-Content-Type-Options", "nosniff");

  for (guint i = 0; i < self->routes->len; i++)
    {
      const SyRoute *route = g_ptr_array_index (self->routes, i);
      gint64 id = 0;
      g_autofree char *arg = NULL;

      if (!match_pattern (route->pattern, path, &id, &arg))
        continue;

      if (!g_str_equal (route->method, method))
        {
          if (allow->len > 0)
            g_string_append (allow, ", ");
          g_string_append (allow, route->method);
          continue;
        }

      if (route->direct != NULL)
        route->direct (&self->api, msg, path);
      else
        dispatch_worker (self, msg, route, g_steal_pointer (&path), id, g_steal_pointer (&arg), query);
      return;
    }

  if (allow->len > 0)
    {
      /* RFC 9110 15.5.6: a 405 names the methods the resource does support. */
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", allow->str);
      g_set_error (&error, SY_ERROR, SY_ERROR_METHOD_NOT_ALLOWED, "%s is not allowed on %s", method, raw_path);
    }
  else
    g_set_error (&error, SY_ERROR, SY_ERROR_NOT_FOUND, "No such resource: %s", raw_path);

  _sy_message_set_problem (msg, error);
}

/* Runs once the headers are in, before the body: refuse oversized bodies without reading them. */
static void
early_callback (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  SyApiServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  goffset length = soup_message_headers_get_content_length (headers);

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      length > (goffset) self->api.max_body_bytes)
    {
      g_autoptr(GError) error = NULL;

      g_set_error (&error, SY_ERROR, SY_ERROR_TOO_LARGE,
                   "The body is %" G_GOFFSET_FORMAT " bytes; the limit is %" G_GSIZE_FORMAT " bytes",
                   length, self->api.max_body_bytes);
      _sy_message_set_problem (msg, error);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
    }
}

static void
request_started_cb (SoupServer        *server,
                    SoupServerMessage *msg,
                    SyApiServer       *self)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  guint *count;

  if (socket == NULL)
    return;

  count = g_hash_table_lookup (self->sockets, socket);
  if (count == NULL)
    {
      count = g_new0 (guint, 1);
      g_hash_table_insert (self->sockets, g_object_ref (socket), count);
    }
  (*count)++;
}

static void
request_ended_cb (SoupServer        *server,
                  SoupServerMessage *msg,
                  SyApiServer       *self)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  guint *count = socket ? g_hash_table_lookup (self->sockets, socket) : NULL;

  if (count != NULL && *count > 0)
    (*count)--;
}

static gboolean
reap_idle_sockets_cb (gpointer user_data)
{
  SyApiServer *self = user_data;
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->sockets);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GSocket *socket = key;
      char byte;
      gssize n;

      if (g_socket_is_closed (socket))
        {
          g_hash_table_iter_remove (&iter);
          continue;
        }

      if (*(guint *) value > 0)
        continue;

      n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        {
          g_socket_close (socket, NULL);
          g_hash_table_iter_remove (&iter);
        }
    }

  return G_SOURCE_CONTINUE;
}

static void
sy_api_server_dispose (GObject *object)
{
  SyApiServer *self = (SyApiServer *) object;

  if (self->reaper != NULL)
    g_source_destroy (self->reaper);
  g_clear_pointer (&self->reaper, g_source_unref);

  if (self->server != NULL)
    soup_server_disconnect (self->server);
  /* After the listeners: stream clients get a 1001 close and a moment to answer it. */
  if (self->api.hub != NULL)
    _sy_ws_hub_shutdown (self->api.hub);
  g_clear_object (&self->api.hub);
  g_clear_object (&self->pq);
  g_clear_object (&self->server);

  G_OBJECT_CLASS (sy_api_server_parent_class)->dispose (object);
}

static void
sy_api_server_finalize (GObject *object)
{
  SyApiServer *self = (SyApiServer *) object;

  g_clear_object (&self->api.store);
  g_clear_object (&self->api.auth);
  g_clear_object (&self->api.bus);
  g_clear_pointer (&self->api.context, g_main_context_unref);
  g_clear_pointer (&self->routes, g_ptr_array_unref);
  g_clear_pointer (&self->sockets, g_hash_table_unref);

  G_OBJECT_CLASS (sy_api_server_parent_class)->finalize (object);
}

static void
sy_api_server_class_init (SyApiServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sy_api_server_dispose;
  object_class->finalize = sy_api_server_finalize;
}

static void
sy_api_server_init (SyApiServer *self)
{
}

SyApiServer *
_sy_api_server_new (const SyApiContext *api)
{
  SyApiServer *self;

  g_return_val_if_fail (api != NULL, NULL);

  self = g_object_new (SY_TYPE_API_SERVER, NULL);
  self->api = *api;
  g_object_ref (self->api.store);
  g_object_ref (self->api.auth);
  g_object_ref (self->api.bus);
  g_main_context_ref (self->api.context);
  if (self->api.max_body_bytes == 0)
    self->api.max_body_bytes = 8 * 1024 * 1024;
  if (self->api.max_bulk_readings == 0)
    self->api.max_bulk_readings = 10000;

  self->api.hub = _sy_ws_hub_new (self->api.bus, self->api.auth, _sy_message_set_problem,
                                 &self->api.in_flight);
  if (self->api.store != NULL && self->api.bus != NULL)
    self->pq = _sy_pq_detector_new (self->api.store, self->api.bus, self->api.context);
  self->routes = _sy_api_dup_all_routes ();
  self->server = soup_server_new ("server-header", "switchyard/" PACKAGE_VERSION " ", NULL);
  soup_server_add_early_handler (self->server, "/api", early_callback, self, NULL);
  soup_server_add_handler (self->server, "/api", server_callback, self, NULL);

  self->sockets = g_hash_table_new_full (NULL, NULL, g_object_unref, g_free);
  g_signal_connect (self->server, "request-started", G_CALLBACK (request_started_cb), self);
  g_signal_connect (self->server, "request-finished", G_CALLBACK (request_ended_cb), self);
  g_signal_connect (self->server, "request-aborted", G_CALLBACK (request_ended_cb), self);
  self->reaper = g_timeout_source_new_seconds (REAPER_INTERVAL_S);
  g_source_set_callback (self->reaper, reap_idle_sockets_cb, self, NULL);
  g_source_attach (self->reaper, g_main_context_get_thread_default ());

  return self;
}

gboolean
_sy_api_server_listen (SyApiServer  *self,
                       const char   *host,
                       guint16       port,
                       GError      **error)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GSocketAddress) sockaddr = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) socket = NULL;

  g_return_val_if_fail (SY_IS_API_SERVER (self), FALSE);

  if (host == NULL || g_str_equal (host, "localhost"))
    host = "127.0.0.1";

  address = g_inet_address_new_from_string (host);
  if (address == NULL)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_INVALID, "Not an IP address: %s", host);
      return FALSE;
    }

  sockaddr = g_inet_socket_address_new (address, port);
  socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return FALSE;

  /* libsoup's default backlog of 10 makes clients time out under load (PERFORMANCE.md). */
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_bind (socket, sockaddr, TRUE, error) ||
      !g_socket_listen (socket, error))
    {
      g_prefix_error (error, "Listening on %s:%u: ", host, port);
      return FALSE;
    }

  if (!soup_server_listen_socket (self->server, socket, 0, error))
    return FALSE;

  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return FALSE;
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  return TRUE;
}

guint16
_sy_api_server_get_port (SyApiServer *self)
{
  g_return_val_if_fail (SY_IS_API_SERVER (self), 0);

  return self->port;
}

SyApiContext *
_sy_api_server_get_api (SyApiServer *self)
{
  g_return_val_if_fail (SY_IS_API_SERVER (self), NULL);

  return &self->api;
}

guint
_sy_api_server_get_in_flight (SyApiServer *self)
{
  g_return_val_if_fail (SY_IS_API_SERVER (self), 0);

  return self->api.in_flight;
}

void
_sy_api_server_disconnect (SyApiServer *self)
{
  g_return_if_fail (SY_IS_API_SERVER (self));

  if (self->server != NULL)
    soup_server_disconnect (self->server);
}
