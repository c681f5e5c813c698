/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* SyClient: the one way the UI (and tests) reach a backend, in-process over loopback or remote
 * with --connect (STYLE.md 5.3-5.5). It lives on the thread-default GMainContext of the thread
 * that created it (the UI thread); every callback and signal arrives there. */

#define SY_CLIENT_ERROR (sy_client_error_quark ())

typedef enum
{
  SY_CLIENT_ERROR_FAILED,         /* anything else, including 5xx */
  SY_CLIENT_ERROR_NETWORK,        /* no connection, timeout, reset */
  SY_CLIENT_ERROR_PROTOCOL,       /* not JSON where JSON was promised */
  SY_CLIENT_ERROR_INVALID,        /* 400, 413, 422: the problem's detail is the message */
  SY_CLIENT_ERROR_UNAUTHORIZED,   /* 401 */
  SY_CLIENT_ERROR_FORBIDDEN,      /* 403 */
  SY_CLIENT_ERROR_NOT_FOUND,      /* 404 */
  SY_CLIENT_ERROR_CONFLICT,       /* 409 */
} SyClientError;

typedef enum
{
  SY_CLIENT_STATE_DISCONNECTED,   /* stream not started, or stopped */
  SY_CLIENT_STATE_CONNECTING,     /* (re)connecting with backoff */
  SY_CLIENT_STATE_CONNECTED,      /* stream open */
} SyClientState;

#define SY_TYPE_CLIENT_STATE (sy_client_state_get_type ())
#define SY_TYPE_CLIENT (sy_client_get_type ())
G_DECLARE_FINAL_TYPE (SyClient, sy_client, SY, CLIENT, GObject)

GQuark         sy_client_error_quark             (void);
GType          sy_client_state_get_type          (void) G_GNUC_CONST;

/* @base_url: "http://127.0.0.1:8080" (no /api); @token: a bearer token. */
SyClient      *sy_client_new                     (const char           *base_url,
                                                  const char           *token);
const char    *sy_client_get_base_url            (SyClient             *self);

/* REST. @path starts with "/api/". @body may be NULL; it is not consumed. The result is the
 * parsed JSON of a 2xx answer (a JSON null node for 204), sealed; free with json_node_unref.
 * Errors are SY_CLIENT_ERROR; for problem+json answers the message is the problem's detail
 * (or title). */
void           sy_client_request_async           (SyClient             *self,
                                                  const char           *method,
                                                  const char           *path,
                                                  JsonNode             *body,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
JsonNode      *sy_client_request_finish          (SyClient             *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);
/* GET of every page of a paginated list ({"count","next","results"}), concatenated into one
 * JSON array. @path may carry a query ("/api/energy/meters?site_id=1"). */
void           sy_client_list_all_async          (SyClient             *self,
                                                  const char           *path,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
JsonArray     *sy_client_list_all_finish         (SyClient             *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

/* Download: GET @path and write its body into @out as it arrives (for streamed exports). @out
 * is not closed. @progress (may be NULL) gets the bytes written so far after each chunk, on
 * the client's thread. A non-2xx answer is an error as for sy_client_request_async(), and
 * cancelling @cancellable stops the transfer (G_IO_ERROR_CANCELLED). The result is the number
 * of bytes written, or -1 with @error set. */
typedef void (*SyClientProgressCallback)         (goffset               bytes,
                                                  gpointer              user_data);

void           sy_client_download_async          (SyClient             *self,
                                                  const char           *path,
                                                  GOutputStream        *out,
                                                  GCancellable         *cancellable,
                                                  SyClientProgressCallback progress,
                                                  gpointer              progress_data,
                                                  GDestroyNotify        progress_destroy,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
goffset        sy_client_download_finish         (SyClient             *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

/* Live stream (/api/stream over WebSocket). Starting it connects, and reconnects with
 * exponential backoff (0.5 s doubling to 30 s, jittered) until sy_client_stop_stream().
 * @topics: NULL for every event type. Each message becomes the "event" signal, detailed by its
 * type ("event::data.ingested"):
 *   void (*event) (SyClient *client, const char *type, gint64 ts_ms, JsonNode *data);
 * A {"type":"stream.dropped","data":{"dropped":N}} message from the server (the client was too
 * slow and lost N messages) is emitted like any other event.
 * Properties: "state" (SyClientState), "last-event-ms" (gint64, wall-clock ms of the last
 * message received, 0 if none), "reconnects" (guint). */
/* "stream-error": a connection attempt failed or was refused; the client keeps retrying (at the
 * longest backoff after a 401 or 403), so the UI can only say why:
 *   void (*stream_error) (SyClient *client, const GError *error);
 * The error is SY_CLIENT_ERROR (UNAUTHORIZED, FORBIDDEN, NETWORK...). */
void           sy_client_start_stream            (SyClient             *self,
                                                  const char * const   *topics);
void           sy_client_stop_stream             (SyClient             *self);
SyClientState  sy_client_get_state               (SyClient             *self);
gint64         sy_client_get_last_event_ms       (SyClient             *self);
guint          sy_client_get_reconnects          (SyClient             *self);

G_END_DECLS
