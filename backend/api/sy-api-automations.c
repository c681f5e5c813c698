/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api"

#include "config.h"

#include <string.h>

#include "sy-api-private.h"
#include "sy-automations-private.h"
#include "sy-error.h"

/* /api/automations: actions, rules (with dry-run and backtest), deliveries, annotations and
 * relay approvals, over SyAutomations (backend/rules/). Approving or rejecting a relay command
 * takes the scope relay:write (the scope grammar has only read/write; "relay:write" is the
 * issue's "relay:approve"). */

#define APPROVE_SCOPE "relay:write"

static SyAutomations *
automations (SyRequest  *req,
             GError    **error)
{
  if (req->api->automations == NULL)
    {
      g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAVAILABLE, "Automations are not running");
      return NULL;
    }

  return req->api->automations;
}

/* Writes a JSON array as one page. */
static void
set_page (SyResponse   *res,
          SyRequest    *req,
          const SyPage *page,
          gint64        total,
          JsonNode     *items)
{
  g_autofree char *text = json_to_string (items, FALSE);

  text[strlen (text) - 1] = '\0';
  _sy_response_set_page (res, req, page, total, text + 1);
}

typedef JsonNode *(*ListFunc) (SyAutomations *self,
                               gint64         limit,
                               gint64         offset,
                               gint64        *out_total,
                               GError       **error);

static gboolean
list_with (SyRequest   *req,
           SyResponse  *res,
           ListFunc     func,
           GError     **error)
{
  SyAutomations *self = automations (req, error);
  g_autoptr(JsonNode) items = NULL;
  gint64 total = 0;
  SyPage page;

  if (self == NULL || !_sy_query_get_page (req, &page, error))
    return FALSE;

  items = func (self, page.limit, page.offset, &total, error);
  if (items == NULL)
    return FALSE;

  set_page (res, req, &page, total, items);
  return TRUE;
}

static gboolean
answer (SyResponse  *res,
        guint        status,
        JsonNode    *node)
{
  if (node == NULL)
    return FALSE;

  _sy_response_take_json (res, status, node);
  return TRUE;
}

/* Actions */

static gboolean
list_actions (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  return list_with (req, res, _sy_automations_list_actions, error);
}

static gboolean
create_action (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  SyAutomations *self = automations (req, error);
  g_autoptr(JsonObject) body = NULL;
  JsonNode *node;

  if (self == NULL || (body = _sy_request_parse_object (req, error)) == NULL)
    return FALSE;

  node = _sy_automations_create_action (self, body, req->client_id, error);
  if (node == NULL)
    return FALSE;

  res->location = g_strdup_printf ("/api/automations/actions/%" G_GINT64_FORMAT,
                                   json_object_get_int_member (json_node_get_object (node), "id"));
  return answer (res, 201, node);
}

static gboolean
get_action (SyRequest   *req,
            SyResponse  *res,
            GError     **error)
{
  SyAutomations *self = automations (req, error);

  return self != NULL && answer (res, 200, _sy_automations_get_action (self, req->id, error));
}

static gboolean
update_action (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  SyAutomations *self = automations (req, error);
  g_autoptr(JsonObject) body = NULL;

  if (self == NULL || (body = _sy_request_parse_object (req, error)) == NULL)
    return FALSE;

  return answer (res, 200, _sy_automations_update_action (self, req->id, body, error));
}

static gboolean
delete_action (SyRequest   *req,
               SyResponse  *res,
               GError     **error)
{
  SyAutomations *self = automations (req, error);

  if (self == NULL || !_sy_automations_delete_action (self, req->id, error))
    return FALSE;

  res->status = 204;
  return TRUE;
}

/* Rules */

static gboolean
list_rules (SyRequest   *req,
            SyResponse  *res,
            GError     **error)
{
  return list_with (req, res, _sy_automations_list_rules, error);
}

static gboolean
create_rule (SyRequest   *req,
             SyResponse  *res,
             GError     **error)
{
  SyAutomations *self = automations (req, error);
  g_autoptr(JsonObject) body = NULL;
  JsonNode *node;

  if (self == NULL || (body = _sy_request_parse_object (req, error)) == NULL)
    return FALSE;

  node = _sy_automations_create_rule (self, body, req->client_id, error);
  if (node == NULL)
    return FALSE;

  res->location = g_strdup_printf ("/api/automations/rules/%" G_GINT64_FORMAT,
                                   json_object_get_int_member (json_node_get_object (node), "id"));
  return answer (res, 201, node);
}

static gboolean
get_rule (SyRequest   *req,
          SyResponse  *res,
          GError     **error)
{
  SyAutomations *self = automations (req, error);

  return self != NULL && answer (res, 200, _sy_automations_get_rule (self, req->id, error));
}

static gboolean
update_rule (SyRequest   *req,
             SyResponse  *res,
             GError     **error)
{
  SyAutomations *self = automations (req, error);
  g_autoptr(JsonObject) body = NULL;

  if (self == NULL || (body = _sy_request_parse_object (req, error)) == NULL)
    return FALSE;

  return answer (res, 200, _sy_automations_update_rule (self, req->id, body, error));
}

static gboolean
delete_rule (SyRequest   *req,
             SyResponse  *res,
             GError     **error)
{
  SyAutomations *self = automations (req, error);

  if (self == NULL || !_sy_automations_delete_rule (self, req->id, error))
    return FALSE;

  res->status = 204;
  return TRUE;
}

static gboolean
dry_run (SyRequest   *req,
         SyResponse  *res,
         GError     **error)
{
  SyAutomations *self = automations (req, error);
  g_autoptr(JsonObject) body = NULL;

  if (self == NULL || (body = _sy_request_parse_object (req, error)) == NULL)
    return FALSE;

  return answer (res, 200, _sy_automations_dry_run (self, body, error));
}

static gboolean
backtest (SyRequest   *req,
          SyResponse  *res,
          GError     **error)
{
  SyAutomations *self = automations (req, error);
  g_autoptr(JsonObject) body = NULL;

  if (self == NULL || (body = _sy_request_parse_object (req, error)) == NULL)
    return FALSE;

  return answer (res, 200, _sy_automations_backtest (self, req->id, body, error));
}

/* Deliveries */

static gboolean
list_deliveries (SyRequest   *req,
                 SyResponse  *res,
                 GError     **error)
{
  static const char * const statuses[] = { "pending", "in_flight", "succeeded", "failed", "dead", NULL };
  SyAutomations *self = automations (req, error);
  g_autoptr(JsonNode) items = NULL;
  SyDeliveryFilter filter = { NULL, 0, 0, FALSE };
  const char *order = g_hash_table_lookup (req->query, "order");
  const char *failures_first = g_hash_table_lookup (req->query, "failures_first");
  gint64 total = 0;
  SyPage page;

  if (self == NULL ||
      !_sy_query_get_page (req, &page, error) ||
      !_sy_query_get_int (req, "action_id", 1, G_MAXINT64, &filter.action_id, error) ||
      !_sy_query_get_int (req, "rule_id", 1, G_MAXINT64, &filter.rule_id, error))
    return FALSE;

  filter.status = g_hash_table_lookup (req->query, "status");
  if (filter.status != NULL && !g_strv_contains (statuses, filter.status))
    {
      sy_error_set_field (error, "status", "must be one of pending, in_flight, succeeded, failed, dead");
      return FALSE;
    }
  if (order != NULL && !g_str_equal (order, "failures_first") && !g_str_equal (order, "newest"))
    {
      sy_error_set_field (error, "order", "must be newest or failures_first");
      return FALSE;
    }
  filter.failures_first = (order != NULL && g_str_equal (order, "failures_first")) ||
                          (failures_first != NULL && (g_str_equal (failures_first, "true") || g_str_equal (failures_first, "1")));

  items = _sy_automations_list_deliveries (self, &filter, page.limit, page.offset, &total, error);
  if (items == NULL)
    return FALSE;

  set_page (res, req, &page, total, items);
  return TRUE;
}

static gboolean
get_delivery (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  SyAutomations *self = automations (req, error);

  return self != NULL && answer (res, 200, _sy_automations_get_delivery (self, req->id, error));
}

static gboolean
retry_delivery (SyRequest   *req,
                SyResponse  *res,
                GError     **error)
{
  SyAutomations *self = automations (req, error);

  return self != NULL && answer (res, 202, _sy_automations_retry_delivery (self, req->id, error));
}

static gboolean
delivery_metrics (SyRequest   *req,
                  SyResponse  *res,
                  GError     **error)
{
  SyAutomations *self = automations (req, error);

  return self != NULL && answer (res, 200, _sy_automations_delivery_metrics (self, error));
}

/* Annotations */

static gboolean
list_annotations (SyRequest   *req,
                  SyResponse  *res,
                  GError     **error)
{
  SyAutomations *self = automations (req, error);
  g_autoptr(JsonNode) items = NULL;
  gint64 meter_id = 0;
  gint64 from = 0;
  gint64 to = G_MAXINT64;
  gint64 total = 0;
  SyPage page;

  if (self == NULL ||
      !_sy_query_get_page (req, &page, error) ||
      !_sy_query_get_int (req, "meter_id", 1, G_MAXINT64, &meter_id, error) ||
      !_sy_query_get_time (req, "from", &from, error) ||
      !_sy_query_get_time (req, "to", &to, error))
    return FALSE;

  if (meter_id == 0)
    {
      sy_error_set_field (error, "meter_id", "required");
      return FALSE;
    }
  if (from >= to)
    {
      sy_error_set_field (error, "to", "must be after from");
      return FALSE;
    }

  items = _sy_automations_list_annotations (self, meter_id, from, to, page.limit, page.offset, &total, error);
  if (items == NULL)
    return FALSE;

  set_page (res, req, &page, total, items);
  return TRUE;
}

/* Approvals */

static gboolean
list_approvals (SyRequest   *req,
                SyResponse  *res,
                GError     **error)
{
  static const char * const statuses[] = { "pending", "rejected", "expired", "recorded", NULL };
  SyAutomations *self = automations (req, error);
  g_autoptr(JsonNode) items = NULL;
  const char *status = g_hash_table_lookup (req->query, "status");
  gint64 total = 0;
  SyPage page;

  if (self == NULL || !_sy_query_get_page (req, &page, error))
    return FALSE;
  if (status != NULL && !g_strv_contains (statuses, status))
    {
      sy_error_set_field (error, "status", "must be one of pending, rejected, expired, recorded");
      return FALSE;
    }

  items = _sy_automations_list_approvals (self, status, page.limit, page.offset, &total, error);
  if (items == NULL)
    return FALSE;

  set_page (res, req, &page, total, items);
  return TRUE;
}

static gboolean
get_approval (SyRequest   *req,
              SyResponse  *res,
              GError     **error)
{
  SyAutomations *self = automations (req, error);

  return self != NULL && answer (res, 200, _sy_automations_get_approval (self, req->id, error));
}

static gboolean
decide (SyRequest   *req,
        SyResponse  *res,
        gboolean     approve,
        GError     **error)
{
  static const char * const known[] = { "reason", NULL };
  SyAutomations *self = automations (req, error);
  g_autoptr(JsonObject) body = NULL;
  const char *reason = NULL;

  if (self == NULL)
    return FALSE;

  /* The body is optional: {"reason": "..."}. */
  if (g_bytes_get_size (req->body) > 0)
    {
      body = _sy_request_parse_object (req, error);
      if (body == NULL ||
          !_sy_json_reject_unknown (body, known, error) ||
          !_sy_json_get_string (body, "reason", FALSE, 2000, &reason, error))
        return FALSE;
    }

  return answer (res, 200, _sy_automations_decide_approval (self, req->id, approve, req->client_id, reason, error));
}

static gboolean
approve (SyRequest   *req,
         SyResponse  *res,
         GError     **error)
{
  return decide (req, res, TRUE, error);
}

static gboolean
reject (SyRequest   *req,
        SyResponse  *res,
        GError     **error)
{
  return decide (req, res, FALSE, error);
}

static const SyRoute routes[] = {
  { "GET", "/api/automations/actions", "automations:read", list_actions, NULL },
  { "POST", "/api/automations/actions", "automations:write", create_action, NULL },
  { "GET", "/api/automations/actions/{id}", "automations:read", get_action, NULL },
  { "PATCH", "/api/automations/actions/{id}", "automations:write", update_action, NULL },
  { "DELETE", "/api/automations/actions/{id}", "automations:write", delete_action, NULL },
  { "GET", "/api/automations/rules", "automations:read", list_rules, NULL },
  { "POST", "/api/automations/rules", "automations:write", create_rule, NULL },
  { "POST", "/api/automations/rules/dry-run", "automations:read", dry_run, NULL },
  { "GET", "/api/automations/rules/{id}", "automations:read", get_rule, NULL },
  { "PATCH", "/api/automations/rules/{id}", "automations:write", update_rule, NULL },
  { "DELETE", "/api/automations/rules/{id}", "automations:write", delete_rule, NULL },
  { "POST", "/api/automations/rules/{id}/backtest", "automations:read", backtest, NULL },
  { "GET", "/api/automations/deliveries", "automations:read", list_deliveries, NULL },
  { "GET", "/api/automations/deliveries/metrics", "automations:read", delivery_metrics, NULL },
  { "GET", "/api/automations/deliveries/{id}", "automations:read", get_delivery, NULL },
  { "POST", "/api/automations/deliveries/{id}/retry", "automations:write", retry_delivery, NULL },
  { "GET", "/api/automations/annotations", "automations:read", list_annotations, NULL },
  { "GET", "/api/automations/approvals", "automations:read", list_approvals, NULL },
  { "GET", "/api/automations/approvals/{id}", "automations:read", get_approval, NULL },
  { "POST", "/api/automations/approvals/{id}/approve", APPROVE_SCOPE, approve, NULL },
  { "POST", "/api/automations/approvals/{id}/reject", APPROVE_SCOPE, reject, NULL },
};

const SyRoute *
_sy_api_automations_routes (guint *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}
