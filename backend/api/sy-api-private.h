/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "sy-auth-private.h"
#include "sy-automations-private.h"
#include "sy-event-bus-private.h"
#include "sy-ingest-private.h"
#include "sy-store-private.h"
#include "sy-types.h"
#include "sy-ws-hub-private.h"

G_BEGIN_DECLS

/* What every handler may use. Owned by SyApiServer; the objects are thread-safe except the
 * event bus, which is backend-thread only. */
typedef struct
{
  SyStore      *store;
  SyAuth       *auth;
  SyEventBus   *bus;
  GMainContext *context;          /* the backend thread's */
  gsize         max_body_bytes;
  guint         max_bulk_readings;
  gint64        started_ms;
  guint         in_flight;        /* paused requests; backend thread only */
  SyAutomations *automations;     /* created by SyBackend on the backend thread; nullable */
  SyWsHub      *hub;              /* /api/stream; created by SyApiServer, backend thread only */
  struct _SyMqtt *mqtt;           /* backend/stream/sy-mqtt-private.h; NULL when MQTT is off */
} SyApiContext;

/* A request as a worker thread sees it: copies only, no libsoup objects. */
typedef struct
{
  SyApiContext *api;
  char         *method;
  char         *path;             /* without the trailing slash */
  GHashTable   *query;            /* never NULL */
  GBytes       *body;             /* never NULL */
  char         *content_type;     /* nullable */
  char         *authorization;    /* nullable */
  char         *client_id;        /* set after bearer authentication */
  gint64        id;               /* {id} in the route pattern */
  char         *arg;              /* {name} in the route pattern */
} SyRequest;

typedef struct
{
  guint        status;            /* default 200 */
  GString     *body;              /* JSON text; empty = no body */
  const char  *content_type;      /* default application/json */
  char        *location;          /* nullable: Location header for 201 */
  gboolean     no_store;          /* Cache-Control: no-store (tokens, secrets) */
} SyResponse;

/* Runs on a worker thread after authentication. Fill @res or return FALSE with a SY_ERROR. */
typedef gboolean (*SyRouteFunc)   (SyRequest          *req,
                                   SyResponse         *res,
                                   GError            **error);
/* Runs on the backend thread with the raw message (ingestion). */
typedef void     (*SyRouteDirect) (SyApiContext       *api,
                                   SoupServerMessage  *msg,
                                   const char         *path);

typedef struct
{
  const char    *method;
  const char    *pattern;         /* "/api/energy/meters/{id}/rotate_key"; no trailing slash */
  const char    *scope;           /* NULL = public; SY_SCOPE_DEVICE = X-Device-Key (direct routes) */
  SyRouteFunc    func;
  SyRouteDirect  direct;
} SyRoute;

#define SY_SCOPE_DEVICE "device"

/* Route tables, one per resource file. */
const SyRoute *_sy_api_health_routes   (guint *n_routes);
const SyRoute *_sy_api_oauth_routes    (guint *n_routes);
const SyRoute *_sy_api_clients_routes  (guint *n_routes);
const SyRoute *_sy_api_sites_routes    (guint *n_routes);
const SyRoute *_sy_api_meters_routes   (guint *n_routes);
const SyRoute *_sy_api_groups_routes   (guint *n_routes);
const SyRoute *_sy_api_devices_routes  (guint *n_routes);
const SyRoute *_sy_api_ingest_routes   (guint *n_routes);
const SyRoute *_sy_api_readings_routes (guint *n_routes);
const SyRoute *_sy_api_automations_routes (guint *n_routes);
const SyRoute *_sy_api_pq_routes       (guint *n_routes);
const SyRoute *_sy_api_analytics_routes (guint *n_routes);

/* Backend thread: the device authentication of ingestion (X-Device-Key, body size,
 * X-Signature, Content-Type) for every route a device posts to (sy-api-ingest.c). */
SyDeviceInfo  *_sy_api_authenticate_device (SyApiContext       *api,
                                            SoupServerMessage  *msg,
                                            GBytes            **out_body,
                                            GError            **error);

/* Backend thread: the transport-independent halves of ingestion, shared by HTTP and MQTT
 * (sy-api-ingest.c). verify: device key → device, body size, signature (NULL = none sent).
 * submit: parse, resolve meters, queue for the writer; @done runs after the commit and after
 * data.ingested was emitted; FALSE (and no @done) when the body is refused. */
SyDeviceInfo  *_sy_api_verify_device       (SyApiContext       *api,
                                            const char         *device_key,
                                            const char         *data,
                                            gsize               len,
                                            const char         *signature,
                                            GError            **error);
gboolean       _sy_api_ingest_submit       (SyApiContext       *api,
                                            SyDeviceInfo       *device,
                                            const char         *data,
                                            gsize               len,
                                            gboolean            bulk,
                                            SyIngestDone        done,
                                            gpointer            user_data,
                                            GError            **error);

/* Every route the server answers, for the OpenAPI completeness test. */
GPtrArray     *_sy_api_dup_all_routes  (void);

/* Responses. */
void        _sy_response_take_json      (SyResponse        *res,
                                         guint              status,
                                         JsonNode          *node);
void        _sy_response_set_builder    (SyResponse        *res,
                                         guint              status,
                                         JsonBuilder       *builder);
GBytes     *_sy_problem_to_bytes        (const GError      *error,
                                         const char        *instance);
void        _sy_message_set_problem     (SoupServerMessage *msg,
                                         const GError      *error);
void        _sy_message_set_json        (SoupServerMessage *msg,
                                         guint              status,
                                         const char        *json,
                                         gssize             len);

/* Request bodies (json-glib; not for the ingestion hot path). */
JsonObject *_sy_request_parse_object    (SyRequest         *req,
                                         GError           **error);
GHashTable *_sy_request_parse_form      (SyRequest         *req,
                                         GError           **error);

/* Field readers: FALSE with a field error on a wrong type; absent leaves *out unchanged and
 * fails only when @required. */
gboolean    _sy_json_get_string         (JsonObject        *obj,
                                         const char        *field,
                                         gboolean           required,
                                         gsize              max_len,
                                         const char       **out,
                                         GError           **error);
gboolean    _sy_json_get_int            (JsonObject        *obj,
                                         const char        *field,
                                         gboolean           required,
                                         gint64             min,
                                         gint64             max,
                                         gint64            *out,
                                         GError           **error);
gboolean    _sy_json_get_double         (JsonObject        *obj,
                                         const char        *field,
                                         gboolean           required,
                                         double             min,
                                         double             max,
                                         double            *out,
                                         GError           **error);
gboolean    _sy_json_get_bool           (JsonObject        *obj,
                                         const char        *field,
                                         gboolean           required,
                                         gboolean          *out,
                                         GError           **error);
/* An array of positive integer ids. *out is a new GArray of gint64, or untouched if absent. */
gboolean    _sy_json_get_id_array       (JsonObject        *obj,
                                         const char        *field,
                                         gboolean           required,
                                         GArray           **out,
                                         GError           **error);
gboolean    _sy_json_reject_unknown     (JsonObject        *obj,
                                         const char * const *known,
                                         GError           **error);

/* Query parameters. */
gboolean    _sy_query_get_int           (SyRequest         *req,
                                         const char        *name,
                                         gint64             min,
                                         gint64             max,
                                         gint64            *out,
                                         GError           **error);
gboolean    _sy_query_get_time          (SyRequest         *req,
                                         const char        *name,
                                         gint64            *out_ms,
                                         GError           **error);

typedef struct
{
  gint64 limit;
  gint64 offset;
} SyPage;

gboolean    _sy_query_get_page          (SyRequest         *req,
                                         SyPage            *page,
                                         GError           **error);
/* {"count": total, "next": ..., "previous": ..., "results": [ <results> ]}: @results is the
 * already-written items, comma-separated. */
void        _sy_response_set_page       (SyResponse        *res,
                                         SyRequest         *req,
                                         const SyPage      *page,
                                         gint64             total,
                                         const char        *results);

/* Small JSON writer for lists. */
void        _sy_json_append_string      (GString           *out,
                                         const char        *text);
void        _sy_json_append_double      (GString           *out,
                                         double             value);

G_END_DECLS
