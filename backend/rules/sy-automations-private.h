/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

#include "sy-auth-private.h"
#include "sy-event-bus-private.h"
#include "sy-outbox-private.h"
#include "sy-store-private.h"

G_BEGIN_DECLS

/* Automations: rules on events, their actions, the deliveries outbox, annotations and relay
 * approvals. The rule engine runs on the backend thread (a subscriber of the event bus) with
 * rules compiled in memory and meters/sites cached, so that it never waits on SQLite; the
 * management functions below run on worker threads and block on SQLite. Results are JSON in the
 * API's shape; errors are SY_ERROR_* (field errors name the body's field). */

#define SY_TYPE_AUTOMATIONS (sy_automations_get_type ())
G_DECLARE_FINAL_TYPE (SyAutomations, sy_automations, SY, AUTOMATIONS, GObject)

/* Most readings one backtest replays. */
#define SY_BACKTEST_MAX_READINGS 1000000

/* Backend thread (it subscribes to @bus and starts the outbox on the thread-default context).
 * Loads rules, actions, throttle state, the registry cache and pending deliveries. */
SyAutomations *_sy_automations_new             (SyStore                   *store,
                                                SyAuth                    *auth,
                                                SyEventBus                *bus,
                                                const SyAutomationsConfig *config,
                                                GError                   **error);
/* Backend thread: unsubscribes and stops the outbox. */
void           _sy_automations_shutdown        (SyAutomations             *self);
SyOutbox      *_sy_automations_get_outbox      (SyAutomations             *self);
/* Any thread: how many events the engine has evaluated rules on. */
guint64        _sy_automations_get_events_seen (SyAutomations             *self);

/* Worker threads. */
JsonNode  *_sy_automations_list_actions     (SyAutomations  *self,
                                             gint64          limit,
                                             gint64          offset,
                                             gint64         *out_total,
                                             GError        **error);
JsonNode  *_sy_automations_get_action       (SyAutomations  *self,
                                             gint64          id,
                                             GError        **error);
JsonNode  *_sy_automations_create_action    (SyAutomations  *self,
                                             JsonObject     *body,
                                             const char     *client_id,
                                             GError        **error);
JsonNode  *_sy_automations_update_action    (SyAutomations  *self,
                                             gint64          id,
                                             JsonObject     *body,
                                             GError        **error);
gboolean   _sy_automations_delete_action    (SyAutomations  *self,
                                             gint64          id,
                                             GError        **error);

JsonNode  *_sy_automations_list_rules       (SyAutomations  *self,
                                             gint64          limit,
                                             gint64          offset,
                                             gint64         *out_total,
                                             GError        **error);
JsonNode  *_sy_automations_get_rule         (SyAutomations  *self,
                                             gint64          id,
                                             GError        **error);
JsonNode  *_sy_automations_create_rule      (SyAutomations  *self,
                                             JsonObject     *body,
                                             const char     *client_id,
                                             GError        **error);
JsonNode  *_sy_automations_update_rule      (SyAutomations  *self,
                                             gint64          id,
                                             JsonObject     *body,
                                             GError        **error);
gboolean   _sy_automations_delete_rule      (SyAutomations  *self,
                                             gint64          id,
                                             GError        **error);

/* {"rule": {...}} or {"rule_id": N} with {"event": {...}}, or {"jsonlogic": ..., "data": ...}. */
JsonNode  *_sy_automations_dry_run          (SyAutomations  *self,
                                             JsonObject     *body,
                                             GError        **error);
JsonNode  *_sy_automations_backtest         (SyAutomations  *self,
                                             gint64          rule_id,
                                             JsonObject     *body,
                                             GError        **error);

typedef struct
{
  const char *status;          /* nullable */
  gint64      action_id;       /* 0: any */
  gint64      rule_id;         /* 0: any */
  gboolean    failures_first;
} SyDeliveryFilter;

JsonNode  *_sy_automations_list_deliveries  (SyAutomations          *self,
                                             const SyDeliveryFilter *filter,
                                             gint64                  limit,
                                             gint64                  offset,
                                             gint64                 *out_total,
                                             GError                **error);
JsonNode  *_sy_automations_get_delivery     (SyAutomations          *self,
                                             gint64                  id,
                                             GError                **error);
JsonNode  *_sy_automations_retry_delivery   (SyAutomations          *self,
                                             gint64                  id,
                                             GError                **error);
JsonNode  *_sy_automations_delivery_metrics (SyAutomations          *self,
                                             GError                **error);

JsonNode  *_sy_automations_list_annotations (SyAutomations  *self,
                                             gint64          meter_id,
                                             gint64          from_ms,
                                             gint64          to_ms,
                                             gint64          limit,
                                             gint64          offset,
                                             gint64         *out_total,
                                             GError        **error);

JsonNode  *_sy_automations_list_approvals   (SyAutomations  *self,
                                             const char     *status,
                                             gint64          limit,
                                             gint64          offset,
                                             gint64         *out_total,
                                             GError        **error);
JsonNode  *_sy_automations_get_approval     (SyAutomations  *self,
                                             gint64          id,
                                             GError        **error);
/* SY_ERROR_FORBIDDEN when @client_id requested the command (created the rule); CONFLICT when
 * it is no longer pending (expired included). */
JsonNode  *_sy_automations_decide_approval  (SyAutomations  *self,
                                             gint64          id,
                                             gboolean        approve,
                                             const char     *client_id,
                                             const char     *reason,
                                             GError        **error);

G_END_DECLS
