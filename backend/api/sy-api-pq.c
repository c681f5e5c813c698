/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <string.h>

#include "sy-api-private.h"
#include "sy-error.h"
#include "sy-pq-config-private.h"
#include "sy-pq-events-private.h"
#include "sy-protection-private.h"
#include "sy-time.h"

/* /api/energy/pq/… and /api/energy/protection/…: thresholds, power-quality and protection
 * events, the EN 50160 weekly summary. The capabilities live in backend/pq/. */

#define MAX_NOTE_BYTES 2000

static gboolean
get_config (SyRequest   *req,
            SyResponse  *res,
            GError     **error)
{
  gint64 meter_id = 0;
  gint64 site_id = 0;
  JsonNode *node;

  if (!_sy_query_get_int (req, "meter_id", 1, G_MAXINT64, &meter_id, error) ||
      !_sy_query_get_int (req, "site_id", 1, G_MAXINT64, &site_id, error))
    return FALSE;

  if ((meter_id > 0) == (site_id > 0))
    {
      sy_error_set_field (error, "meter_id", "give either meter_id or site_id (the site defaults)");
      return FALSE;
    }

  node = _sy_pq_config_get (req->api->store, meter_id, site_id, error);
  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, node);
  return TRUE;
}

static gboolean
post_config (SyRequest   *req,
             SyResponse  *res,
             GError     **error)
{
  g_autoptr(JsonObject) body = _sy_request_parse_object (req, error);
  JsonNode *node;

  if (body == NULL)
    return FALSE;

  node = _sy_pq_config_set (req->api->store, body, req->client_id, error);
  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, node);
  return TRUE;
}

/* The filters shared by both event lists; @pq chooses which types and states are valid. */
static gboolean
get_filter (SyRequest   *req,
            gboolean     pq,
            SyPqFilter  *filter,
            GError     **error)
{
  const char *text;

  _sy_pq_filter_init (filter);

  if (!_sy_query_get_int (req, "meter_id", 1, G_MAXINT64, &filter->meter_id, error) ||
      !_sy_query_get_int (req, "site_id", 1, G_MAXINT64, &filter->site_id, error) ||
      !_sy_query_get_time (req, "from", &filter->from_ms, error) ||
      !_sy_query_get_time (req, "to", &filter->to_ms, error))
    return FALSE;

  if (filter->from_ms >= filter->to_ms)
    {
      sy_error_set_field (error, "to", "must be after from");
      return FALSE;
    }

  text = g_hash_table_lookup (req->query, "type");
  if (text != NULL && text[0] != '\0')
    {
      SyPqEventType type;

      if (pq ? !_sy_pq_event_type_from_name (text, &type) : !_sy_protection_type_is_valid (text))
        {
          sy_error_set_field (error, "type", pq ? "must be dip, swell, interruption, thd or imbalance"
                                                : "must be trip, earth_leakage or breaker_state");
          return FALSE;
        }
      filter->type = text;
    }

  text = g_hash_table_lookup (req->query, "state");
  if (text != NULL && text[0] != '\0')
    {
      static const char * const pq_states[] = { "open", "closed", NULL };
      static const char * const breaker_states[] = { "open", "closed", "tripped", NULL };

      if (!g_strv_contains (pq ? pq_states : breaker_states, text))
        {
          sy_error_set_field (error, "state", pq ? "must be open or closed" : "must be open, closed or tripped");
          return FALSE;
        }
      filter->state = text;
    }

  text = g_hash_table_lookup (req->query, "min_severity");
  if (text != NULL && text[0] != '\0' && !_sy_pq_severity_from_name (text, &filter->min_severity))
    {
      sy_error_set_field (error, "min_severity", "must be info, warning or critical");
      return FALSE;
    }

  text = g_hash_table_lookup (req->query, "acknowledged");
  if (text != NULL && text[0] != '\0')
    {
      if (g_str_equal (text, "true"))
        filter->acknowledged = 1;
      else if (g_str_equal (text, "false"))
        filter->acknowledged = 0;
      else
        {
          sy_error_set_field (error, "acknowledged", "must be true or false");
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
list_events (SyRequest   *req,
             SyResponse  *res,
             gboolean     pq,
             GError     **error)
{
  g_autoptr(GString) items = g_string_new (NULL);
  SyPqFilter filter;
  gint64 total = 0;
  SyPage page;
  gboolean ok;

  if (!_sy_query_get_page (req, &page, error) || !get_filter (req, pq, &filter, error))
    return FALSE;

  if (pq)
    ok = _sy_pq_events_list (req->api->store, &filter, page.limit, page.offset, items, &total, error);
  else
    ok = _sy_protection_list (req->api->store, &filter, page.limit, page.offset, items, &total, error);
  if (!ok)
    return FALSE;

  _sy_response_set_page (res, req, &page, total, items->str);
  return TRUE;
}

static void
take_text (SyResponse *res,
           char       *json)
{
  if (res->body != NULL)
    g_string_free (res->body, TRUE);
  res->body = g_string_new (json);
  g_free (json);
  res->status = 200;
}

/* Body: {"note": "..."} (the note may be left out; an empty body is fine too). */
static gboolean
get_note (SyRequest    *req,
          char        **out_note,
          GError      **error)
{
  g_autoptr(JsonObject) body = NULL;
  static const char * const known[] = { "note", NULL };
  const char *note = NULL;

  if (g_bytes_get_size (req->body) == 0)
    return TRUE;

  body = _sy_request_parse_object (req, error);
  if (body == NULL ||
      !_sy_json_reject_unknown (body, known, error) ||
      !_sy_json_get_string (body, "note", FALSE, MAX_NOTE_BYTES, &note, error))
    return FALSE;

  *out_note = g_strdup (note);
  return TRUE;
}

static gboolean
list_pq_events (SyRequest   *req,
                SyResponse  *res,
                GError     **error)
{
  return list_events (req, res, TRUE, error);
}

static gboolean
get_pq_event (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  char *json = _sy_pq_events_get (req->api->store, req->id, error);

  if (json == NULL)
    return FALSE;

  take_text (res, json);
  return TRUE;
}

static gboolean
ack_pq_event (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  g_autofree char *note = NULL;
  char *json;

  if (!get_note (req, &note, error))
    return FALSE;

  json = _sy_pq_events_acknowledge (req->api->store, req->id, req->client_id, note, error);
  if (json == NULL)
    return FALSE;

  take_text (res, json);
  return TRUE;
}

static gboolean
get_summary (SyRequest   *req,
             SyResponse  *res,
             GError     **error)
{
  const char *week = g_hash_table_lookup (req->query, "week");
  gint64 meter_id = 0;
  gint64 week_start = 0;
  JsonNode *node;

  if (!_sy_query_get_int (req, "meter_id", 1, G_MAXINT64, &meter_id, error))
    return FALSE;
  if (meter_id == 0)
    {
      sy_error_set_field (error, "meter_id", "required");
      return FALSE;
    }

  if (week == NULL || week[0] == '\0')
    {
      /* The current ISO week. */
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *text = g_date_time_format (now, "%G-W%V");

      if (!_sy_pq_parse_iso_week (text, &week_start))
        {
          g_set_error (error, SY_ERROR, SY_ERROR_INTERNAL, "Cannot compute the current week (%s)", text);
          return FALSE;
        }
    }
  else if (!_sy_pq_parse_iso_week (week, &week_start))
    {
      sy_error_set_field (error, "week", "must be an ISO week like 2026-W48");
      return FALSE;
    }

  node = _sy_pq_summary (req->api->store, meter_id, week_start, error);
  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, 200, node);
  return TRUE;
}

static gboolean
list_protection_events (SyRequest   *req,
                        SyResponse  *res,
                        GError     **error)
{
  return list_events (req, res, FALSE, error);
}

static gboolean
get_protection_event (SyRequest   *req,
                      SyResponse  *res,
                      GError     **error)
{
  char *json = _sy_protection_get (req->api->store, req->id, error);

  if (json == NULL)
    return FALSE;

  take_text (res, json);
  return TRUE;
}

static gboolean
ack_protection_event (SyRequest   *req,
                      SyResponse  *res,
                      GError     **error)
{
  g_autofree char *note = NULL;
  char *json;

  if (!get_note (req, &note, error))
    return FALSE;

  json = _sy_protection_acknowledge (req->api->store, req->id, req->client_id, note, error);
  if (json == NULL)
    return FALSE;

  take_text (res, json);
  return TRUE;
}

/* POST /api/energy/protection/events: authenticated like ingestion, answered after the
 * commit. Runs on the backend thread. */

typedef struct
{
  SyApiContext      *api;
  SoupServerMessage *msg;
  gboolean           gone;
  gulong             disconnected_id;
} ProtectionRequest;

static void
protection_disconnected_cb (SoupServerMessage *msg,
                            ProtectionRequest *pr)
{
  pr->gone = TRUE;
}

static void
protection_done_cb (const GError            *error,
                    const SyProtectionEvent *event,
                    gpointer                 user_data)
{
  ProtectionRequest *pr = user_data;

  pr->api->in_flight--;

  if (!pr->gone)
    {
      if (error != NULL)
        {
          _sy_message_set_problem (pr->msg, error);
        }
      else
        {
          g_autoptr(GString) json = g_string_new (NULL);
          g_autofree char *location = g_strdup_printf ("/api/energy/protection/events/%" G_GINT64_FORMAT, event->id);

          _sy_protection_event_append_json (json, event);
          _sy_message_set_json (pr->msg, 201, json->str, json->len);
          soup_message_headers_replace (soup_server_message_get_response_headers (pr->msg), "Location", location);
        }
      soup_server_message_unpause (pr->msg);
    }

  g_clear_signal_handler (&pr->disconnected_id, pr->msg);
  g_clear_object (&pr->msg);
  g_free (pr);
}

static void
post_protection_event (SyApiContext      *api,
                       SoupServerMessage *msg,
                       const char        *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SyDeviceInfo) device = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(SyProtectionEvent) event = NULL;
  ProtectionRequest *pr;
  const char *data;
  JsonNode *root;
  gsize len;

  device = _sy_api_authenticate_device (api, msg, &body, &error);
  if (device == NULL)
    goto fail;

  data = g_bytes_get_data (body, &len);
  if (len == 0 || !json_parser_load_from_data (parser, data, len, &parse_error))
    {
      sy_error_set_field (&error, "body", "malformed JSON%s%s", parse_error ? ": " : "",
                          parse_error ? parse_error->message : "");
      goto fail;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      sy_error_set_field (&error, "body", "a JSON object is required");
      goto fail;
    }

  event = _sy_protection_event_new ();
  if (!_sy_protection_event_parse (json_node_get_object (root), sy_time_now_ms (), event, &error))
    goto fail;

  /* The meter, as for readings: a meter key owns one, a gateway names one it serves. */
  if (device->device_id == 0)
    {
      if (event->meter_id != 0 && event->meter_id != device->meter_id)
        {
          sy_error_set_field (&error, "meter_id", "meter %" G_GINT64_FORMAT " does not belong to this device key",
                              event->meter_id);
          goto fail;
        }
      event->meter_id = device->meter_id;
    }
  else
    {
      if (event->meter_id == 0 || !_sy_device_info_has_meter (device, event->meter_id))
        {
          sy_error_set_field (&error, "meter_id", "required: a meter this gateway serves");
          goto fail;
        }
      event->device_id = device->device_id;
    }

  pr = g_new0 (ProtectionRequest, 1);
  pr->api = api;
  pr->msg = g_object_ref (msg);
  pr->disconnected_id = g_signal_connect (msg, "disconnected", G_CALLBACK (protection_disconnected_cb), pr);

  soup_server_message_pause (msg);
  api->in_flight++;
  _sy_protection_submit (api->store, api->bus, api->context, g_steal_pointer (&event), protection_done_cb, pr);
  return;

fail:
  _sy_message_set_problem (msg, error);
}

static const SyRoute routes[] = {
  { "GET", "/api/energy/pq/config", "pq:read", get_config, NULL },
  { "POST", "/api/energy/pq/config", "pq:write", post_config, NULL },
  { "GET", "/api/energy/pq/events", "pq:read", list_pq_events, NULL },
  { "GET", "/api/energy/pq/events/{id}", "pq:read", get_pq_event, NULL },
  { "POST", "/api/energy/pq/events/{id}/acknowledge", "pq:write", ack_pq_event, NULL },
  { "GET", "/api/energy/pq/summary", "pq:read", get_summary, NULL },
  { "POST", "/api/energy/protection/events", SY_SCOPE_DEVICE, NULL, post_protection_event },
  { "GET", "/api/energy/protection/events", "pq:read", list_protection_events, NULL },
  { "GET", "/api/energy/protection/events/{id}", "pq:read", get_protection_event, NULL },
  { "POST", "/api/energy/protection/events/{id}/acknowledge", "pq:write", ack_protection_event, NULL },
};

const SyRoute *
_sy_api_pq_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}
