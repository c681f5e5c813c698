/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Automation actions: their types, the validation of their configuration and the rendering of
 * what one run of an action does (the payload a delivery stores). Pure functions, any thread. */

typedef enum
{
  SY_ACTION_WEBHOOK,
  SY_ACTION_ANNOTATE,
  SY_ACTION_ALERT,
  SY_ACTION_RELAY_COMMAND,
  SY_ACTION_NOTIFY_EMAIL,
  SY_ACTION_PLUGIN,
  SY_ACTION_N_TYPES
} SyActionType;

/* Events a rule can listen to. */
#define SY_RULES_EVENT_PQ            "pq.event"
#define SY_RULES_EVENT_PROTECTION    "protection.event"
#define SY_EVENT_ALERT         "alert.triggered"

/* An alert chain longer than this never fires another rule. */
#define SY_RULE_CHAIN_MAX_DEPTH 8

const char *_sy_action_type_to_string   (SyActionType   type);
gboolean    _sy_action_type_from_string (const char    *text,
                                         SyActionType  *out);
gboolean    _sy_rule_event_key_is_valid (const char    *event_key);

/* Validates @config (a JSON object) for @type, rejecting unknown fields; errors are field
 * errors named "<prefix>.<field>". Returns a new object with the defaults filled in. */
JsonNode   *_sy_action_config_validate  (SyActionType   type,
                                         JsonNode      *config,
                                         const char    *prefix,
                                         GError       **error);
/* The config as the API shows it: without the webhook secret (has_secret instead). */
JsonNode   *_sy_action_config_public    (SyActionType   type,
                                         JsonNode      *config);

/* "{a.b}" placeholders: a dot path into @data (array items by index); a path not found there is
 * looked up in data.event, so "meter:{meter_id}" names the event's meter. A missing value renders
 * as "". Strings render without quotes, other values as compact JSON. "{{" is a literal "{". */
char       *_sy_template_render         (const char    *template_text,
                                         JsonNode      *data);
/* Renders every string inside @value; a string that is exactly one placeholder becomes the
 * referenced JSON value (numbers stay numbers). */
JsonNode   *_sy_template_render_json    (JsonNode      *value,
                                         JsonNode      *data);
/* The value at a dot path, or NULL. Borrowed. */
JsonNode   *_sy_json_lookup_path        (JsonNode      *data,
                                         const char    *path);

/* What firing a rule knows besides the rule data. */
typedef struct
{
  gint64      rule_id;
  const char *rule_name;
  const char *event_type;
  const char *dedupe_key;
  gint64      now_ms;
  gint64      event_ts_ms;
  GArray     *chain;         /* gint64 rule ids of the triggering event (nullable) */
} SyFireInfo;

/* The payload of one run of an action, rendered from @data. For webhooks this is the body. */
JsonNode   *_sy_action_render           (SyActionType       type,
                                         JsonNode          *config,
                                         JsonNode          *data,
                                         const SyFireInfo  *info);

/* An action as the engine and the outbox hold it: immutable but for @enabled (atomic), shared
 * between threads by reference. */
typedef struct
{
  gatomicrefcount  ref_count;
  gint64           id;
  char            *name;
  SyActionType     type;
  JsonNode        *config;        /* validated, with the secret */
  gint             enabled;       /* g_atomic_int_*; a 410 clears it */
} SyAction;

SyAction   *_sy_action_new              (gint64         id,
                                         const char    *name,
                                         SyActionType   type,
                                         JsonNode      *config,
                                         gboolean       enabled);
SyAction   *_sy_action_ref              (SyAction      *action);
void        _sy_action_unref            (SyAction      *action);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyAction, _sy_action_unref)

/* The destination a webhook's circuit breaker is keyed on: "scheme://host:port". */
char       *_sy_webhook_destination     (const char    *url);

G_END_DECLS
