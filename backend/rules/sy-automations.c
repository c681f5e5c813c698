/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-rules"

#include "config.h"

#include <string.h>

#include "sy-actions-private.h"
#include "sy-automations-private.h"
#include "sy-error.h"
#include "sy-ingest-private.h"
#include "sy-jsonlogic-private.h"
#include "sy-registry-private.h"
#include "sy-time.h"

/* Rules and actions live in SQLite and, compiled, in an immutable in-memory snapshot that every
 * change replaces whole (reload after the commit, on the worker that made the change). The
 * engine reads the snapshot on the backend thread under a short lock. Counters and throttle
 * state outlive snapshots. Meters and sites are cached for the rule data and refreshed on a
 * worker (every REGISTRY_TTL_MS, or soon after an event names an unknown meter). */

#define REGISTRY_TTL_MS        30000
#define MAX_HELD_EVENTS        10000
#define MAX_THROTTLE_S         (30 * 86400)

typedef struct
{
  gint evaluated;
  gint matched;
  gint throttled;
  gint errors;
  gint fired;
  gint cycle_skips;
} Counters;

typedef struct
{
  gint64       id;
  char        *name;
  char        *event_key;
  SyJsonLogic *logic;
  gint64       throttle_ms;
  char        *dedupe_template;
  gboolean     enabled;
  GArray      *action_ids;       /* gint64 */
  Counters    *counters;         /* owned by SyAutomations.counters */
} Rule;

typedef struct
{
  gatomicrefcount  ref_count;
  GPtrArray       *rules;        /* Rule */
  GHashTable      *actions;      /* gint64 * -> SyAction */
} Snapshot;

struct _SyAutomations
{
  GObject              parent_instance;

  SyStore             *store;
  SyAuth              *auth;
  SyEventBus          *bus;
  SyAutomationsConfig  config;
  SyOutbox            *outbox;
  GMainContext        *context;
  guint                subscriptions[4];

  GMutex               mutex;
  Snapshot            *snapshot;
  GHashTable          *counters;     /* gint64 * -> Counters */
  GHashTable          *fired;        /* "rule_id:key" -> gint64[2]: last fired, end of its window */
  guint                fired_since_prune;
  GHashTable          *meters;       /* gint64 * -> JsonNode (object) */
  GHashTable          *sites;        /* gint64 * -> JsonNode (object) */
  GHashTable          *missing;      /* gint64 * -> gint64 *: meters a refresh did not find, when */
  gint64               registry_loaded_ms;
  gboolean             registry_loading;

  guint64              events_seen;  /* backend thread */
  GQueue               held;         /* HeldEvent: waiting for a registry refresh; backend thread */
  gboolean             shut_down;
};

/* An event naming a meter the cache does not know yet (just created): evaluated once the
 * refresh it started completes, so that a new meter's first readings see "meter" and "site". */
typedef struct
{
  char     *type;
  gint64    ts_ms;
  JsonNode *event;
} HeldEvent;

static void
held_event_free (HeldEvent *held)
{
  g_free (held->type);
  json_node_unref (held->event);
  g_free (held);
}

static void evaluate_event (SyAutomations *self,
                            const char    *type,
                            gint64         ts_ms,
                            JsonNode      *event,
                            gboolean       replay);

G_DEFINE_FINAL_TYPE (SyAutomations, sy_automations, G_TYPE_OBJECT)

static gint64 *
int64_dup (gint64 value)
{
  return g_memdup2 (&value, sizeof value);
}

/* Snapshots */

static void
rule_free (Rule *rule)
{
  g_free (rule->name);
  g_free (rule->event_key);
  g_clear_pointer (&rule->logic, sy_jsonlogic_unref);
  g_free (rule->dedupe_template);
  g_clear_pointer (&rule->action_ids, g_array_unref);
  g_free (rule);
}

static Snapshot *
snapshot_ref (Snapshot *snap)
{
  g_atomic_ref_count_inc (&snap->ref_count);
  return snap;
}

static void
snapshot_unref (Snapshot *snap)
{
  if (snap == NULL || !g_atomic_ref_count_dec (&snap->ref_count))
    return;

  g_ptr_array_unref (snap->rules);
  g_hash_table_unref (snap->actions);
  g_free (snap);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Snapshot, snapshot_unref)

static Snapshot *
get_snapshot (SyAutomations *self)
{
  Snapshot *snap;

  g_mutex_lock (&self->mutex);
  snap = snapshot_ref (self->snapshot);
  g_mutex_unlock (&self->mutex);

  return snap;
}

static Counters *
counters_for (SyAutomations *self,
              gint64         rule_id)
{
  Counters *c;

  g_mutex_lock (&self->mutex);
  c = g_hash_table_lookup (self->counters, &rule_id);
  if (c == NULL)
    {
      c = g_new0 (Counters, 1);
      g_hash_table_insert (self->counters, int64_dup (rule_id), c);
    }
  g_mutex_unlock (&self->mutex);

  return c;
}

static gboolean
load_snapshot (SyAutomations  *self,
               sqlite3        *db,
               Snapshot      **out,
               GError        **error)
{
  g_autoptr(Snapshot) snap = g_new0 (Snapshot, 1);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_atomic_ref_count_init (&snap->ref_count);
  snap->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rule_free);
  snap->actions = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) _sy_action_unref);

  stmt = _sy_sql_prepare (db, "SELECT id, name, type, config, enabled FROM automation_actions", error);
  if (stmt == NULL)
    return FALSE;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr(JsonNode) config = json_from_string ((const char *) sqlite3_column_text (stmt, 3), NULL);
      SyActionType type;
      gint64 id = sqlite3_column_int64 (stmt, 0);

      if (config == NULL || !_sy_action_type_from_string ((const char *) sqlite3_column_text (stmt, 2), &type))
        {
          g_warning ("Action %" G_GINT64_FORMAT " is unreadable; ignored", id);
          continue;
        }
      g_hash_table_insert (snap->actions, int64_dup (id),
                           _sy_action_new (id, (const char *) sqlite3_column_text (stmt, 1), type, config,
                                           sqlite3_column_int (stmt, 4) != 0));
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = _sy_sql_prepare (db,
                          "SELECT r.id, r.name, r.event_key, r.jsonlogic, r.throttle_seconds, r.dedupe_template, r.enabled, "
                          "(SELECT group_concat (action_id) FROM (SELECT action_id FROM automation_rule_actions "
                          " WHERE rule_id = r.id ORDER BY position)) "
                          "FROM automation_rules r ORDER BY r.id",
                          error);
  if (stmt == NULL)
    return FALSE;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr(JsonNode) logic_json = json_from_string ((const char *) sqlite3_column_text (stmt, 3), NULL);
      g_autoptr(GError) local_error = NULL;
      Rule *rule = g_new0 (Rule, 1);
      const char *ids = (const char *) sqlite3_column_text (stmt, 7);

      rule->id = sqlite3_column_int64 (stmt, 0);
      rule->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      rule->event_key = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      rule->throttle_ms = sqlite3_column_int64 (stmt, 4) * 1000;
      rule->dedupe_template = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
      rule->enabled = sqlite3_column_int (stmt, 6) != 0;
      rule->action_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      rule->counters = counters_for (self, rule->id);
      if (ids != NULL)
        {
          g_auto(GStrv) parts = g_strsplit (ids, ",", -1);

          for (guint i = 0; parts[i] != NULL; i++)
            {
              gint64 id = g_ascii_strtoll (parts[i], NULL, 10);

              g_array_append_val (rule->action_ids, id);
            }
        }

      if (logic_json != NULL)
        rule->logic = sy_jsonlogic_compile (logic_json, "jsonlogic", &local_error);
      if (rule->logic == NULL)
        {
          g_warning ("Rule %" G_GINT64_FORMAT " does not compile (%s); disabled",
                     rule->id, local_error ? local_error->message : "unreadable");
          rule->enabled = FALSE;
        }
      g_ptr_array_add (snap->rules, rule);
    }

  *out = g_steal_pointer (&snap);
  return TRUE;
}

static const char * const event_types[] = {
  SY_EVENT_DATA_INGESTED, SY_RULES_EVENT_PQ, SY_RULES_EVENT_PROTECTION, SY_EVENT_ALERT,
};

static void event_cb (const char *type,
                      gint64      ts_ms,
                      JsonNode   *event,
                      gpointer    user_data);

/* Backend thread. Subscribed only to the event types some enabled rule listens to: publishers
 * build an event's JSON only when somebody listens (ingestion skips it without subscribers). */
static void
sync_subscriptions (SyAutomations *self)
{
  g_autoptr(Snapshot) snap = NULL;

  if (self->shut_down)
    return;

  g_mutex_lock (&self->mutex);
  snap = snapshot_ref (self->snapshot);
  g_mutex_unlock (&self->mutex);

  for (guint i = 0; i < G_N_ELEMENTS (event_types); i++)
    {
      gboolean wanted = FALSE;

      for (guint r = 0; r < snap->rules->len && !wanted; r++)
        {
          Rule *rule = g_ptr_array_index (snap->rules, r);

          wanted = rule->enabled && g_str_equal (rule->event_key, event_types[i]);
        }

      if (wanted && self->subscriptions[i] == 0)
        self->subscriptions[i] = _sy_event_bus_subscribe (self->bus, event_types[i], event_cb, self, NULL);
      else if (!wanted && self->subscriptions[i] != 0)
        {
          _sy_event_bus_unsubscribe (self->bus, self->subscriptions[i]);
          self->subscriptions[i] = 0;
        }
    }
}

static gboolean
sync_subscriptions_cb (gpointer user_data)
{
  sync_subscriptions (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
reload (SyAutomations  *self,
        GError        **error)
{
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  Snapshot *snap = NULL;
  Snapshot *old;

  guard.db = _sy_store_reader_acquire (self->store);
  if (!load_snapshot (self, guard.db, &snap, error))
    return FALSE;

  g_mutex_lock (&self->mutex);
  old = self->snapshot;
  self->snapshot = snap;
  g_mutex_unlock (&self->mutex);

  snapshot_unref (old);

  /* Called from workers after CRUD, and once on the backend thread before subscribing. */
  if (self->context != NULL)
    g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, sync_subscriptions_cb,
                                g_object_ref (self), g_object_unref);
  return TRUE;
}

/* Called after a committed change: the change stands even if the reload fails. */
static void
reload_after_change (SyAutomations *self)
{
  g_autoptr(GError) error = NULL;

  if (!reload (self, &error))
    g_warning ("Reloading automations: %s", error->message);
}

static SyAction *
lookup_action_cb (gint64   action_id,
                  gpointer user_data)
{
  SyAutomations *self = user_data;
  SyAction *action;

  g_mutex_lock (&self->mutex);
  action = g_hash_table_lookup (self->snapshot->actions, &action_id);
  if (action != NULL)
    _sy_action_ref (action);
  g_mutex_unlock (&self->mutex);

  return action;
}

/* Registry cache */

static GHashTable *
index_by_id (JsonNode *array)
{
  GHashTable *table = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) json_node_unref);
  JsonArray *items = json_node_get_array (array);

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonNode *item = json_array_get_element (items, i);

      if (JSON_NODE_HOLDS_OBJECT (item))
        g_hash_table_insert (table, int64_dup (json_object_get_int_member_with_default (json_node_get_object (item), "id", 0)),
                             json_node_ref (item));
    }

  return table;
}

static gboolean
load_registry (SyAutomations  *self,
               GError        **error)
{
  g_autoptr(JsonNode) meters = NULL;
  g_autoptr(JsonNode) sites = NULL;
  gint64 total = 0;

  meters = _sy_registry_list (self->auth, SY_REGISTRY_METER, NULL, G_MAXINT32, 0, &total, error);
  if (meters == NULL)
    return FALSE;
  sites = _sy_registry_list (self->auth, SY_REGISTRY_SITE, NULL, G_MAXINT32, 0, &total, error);
  if (sites == NULL)
    return FALSE;

  g_mutex_lock (&self->mutex);
  g_clear_pointer (&self->meters, g_hash_table_unref);
  g_clear_pointer (&self->sites, g_hash_table_unref);
  self->meters = index_by_id (meters);
  self->sites = index_by_id (sites);
  self->registry_loaded_ms = sy_time_now_ms ();
  self->registry_loading = FALSE;
  g_mutex_unlock (&self->mutex);

  return TRUE;
}

static gboolean
drain_held_cb (gpointer user_data)
{
  SyAutomations *self = user_data;
  HeldEvent *held;

  while (!self->shut_down && (held = g_queue_pop_head (&self->held)) != NULL)
    {
      evaluate_event (self, held->type, held->ts_ms, held->event, TRUE);
      held_event_free (held);
    }

  return G_SOURCE_REMOVE;
}

static void
refresh_registry_thread (GTask        *task,
                         gpointer      source_object,
                         gpointer      task_data,
                         GCancellable *cancellable)
{
  SyAutomations *self = source_object;
  g_autoptr(GError) error = NULL;

  if (!load_registry (self, &error))
    {
      g_warning ("Refreshing the meter cache: %s", error->message);
      g_mutex_lock (&self->mutex);
      self->registry_loading = FALSE;
      self->registry_loaded_ms = sy_time_now_ms ();
      g_mutex_unlock (&self->mutex);
    }
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, drain_held_cb,
                              g_object_ref (self), g_object_unref);
  g_task_return_boolean (task, TRUE);
}

/* Returns new references (or NULL) and starts a refresh when the cache is stale or missed.
 * Returns TRUE when the meter is unknown but a refresh is (now) under way. */
static gboolean
lookup_meter (SyAutomations  *self,
              gint64          meter_id,
              JsonNode      **out_meter,
              JsonNode      **out_site)
{
  gboolean pending = FALSE;
  gint64 now = sy_time_now_ms ();
  JsonNode *meter = NULL;
  JsonNode *site = NULL;
  gboolean refresh = FALSE;
  gboolean miss;
  gint64 *missing_since;

  g_mutex_lock (&self->mutex);
  if (self->meters != NULL && meter_id > 0)
    meter = g_hash_table_lookup (self->meters, &meter_id);
  if (meter != NULL)
    {
      gint64 site_id = json_object_get_int_member_with_default (json_node_get_object (meter), "site_id", 0);

      site = g_hash_table_lookup (self->sites, &site_id);
    }
  /* A meter no refresh found stays unknown for a while (deleted, or never existed). */
  missing_since = meter_id > 0 ? g_hash_table_lookup (self->missing, &meter_id) : NULL;
  miss = meter == NULL && meter_id > 0 && (missing_since == NULL || now - *missing_since > REGISTRY_TTL_MS);
  if (!self->registry_loading && (now - self->registry_loaded_ms > REGISTRY_TTL_MS || miss))
    {
      self->registry_loading = TRUE;
      refresh = TRUE;
    }
  pending = miss && self->registry_loading;
  *out_meter = meter ? json_node_ref (meter) : NULL;
  *out_site = site ? json_node_ref (site) : NULL;
  g_mutex_unlock (&self->mutex);

  if (refresh)
    {
      g_autoptr(GTask) task = g_task_new (self, NULL, NULL, NULL);

      g_task_set_source_tag (task, lookup_meter);
      g_task_run_in_thread (task, refresh_registry_thread);
    }

  return pending;
}

/* The rule data: {"event", "meter", "site", "now"}. */
static JsonNode *
build_rule_data (SyAutomations *self,
                 JsonNode      *event,
                 JsonNode      *meter,
                 JsonNode      *site,
                 gint64         now)
{
  JsonObject *obj = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_member (obj, "event", event ? json_node_ref (event) : json_node_new (JSON_NODE_NULL));
  json_object_set_member (obj, "meter", meter ? json_node_ref (meter) : json_node_new (JSON_NODE_NULL));
  json_object_set_member (obj, "site", site ? json_node_ref (site) : json_node_new (JSON_NODE_NULL));
  json_object_set_int_member (obj, "now", now);
  json_node_take_object (node, obj);

  return node;
}

static gint64
event_meter_id (JsonNode *event)
{
  JsonNode *id;

  if (event == NULL || !JSON_NODE_HOLDS_OBJECT (event))
    return 0;
  id = json_object_get_member (json_node_get_object (event), "meter_id");
  if (id == NULL || json_node_get_value_type (id) != G_TYPE_INT64)
    return 0;

  return json_node_get_int (id);
}

/* The rule ids an alert.triggered event carries in "chain". */
static GArray *
event_chain (JsonNode *event)
{
  GArray *chain = g_array_new (FALSE, FALSE, sizeof (gint64));
  JsonNode *node;

  if (event == NULL || !JSON_NODE_HOLDS_OBJECT (event))
    return chain;
  node = json_object_get_member (json_node_get_object (event), "chain");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return chain;

  for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
    {
      JsonNode *item = json_array_get_element (json_node_get_array (node), i);
      gint64 id = JSON_NODE_HOLDS_VALUE (item) ? json_node_get_int (item) : 0;

      g_array_append_val (chain, id);
    }

  return chain;
}

static gboolean
chain_contains (GArray *chain,
                gint64  rule_id)
{
  for (guint i = 0; chain != NULL && i < chain->len; i++)
    if (g_array_index (chain, gint64, i) == rule_id)
      return TRUE;

  return FALSE;
}

/* Throttle */

static char *
throttle_key (gint64      rule_id,
              const char *dedupe_key)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT ":%s", rule_id, dedupe_key);
}

/* TRUE when @rule fired for @dedupe_key less than its throttle ago; *remaining_ms set then. */
static gboolean
is_throttled (SyAutomations *self,
              Rule          *rule,
              const char    *dedupe_key,
              gint64         now,
              gint64        *remaining_ms)
{
  g_autofree char *key = NULL;
  gint64 *last;
  gboolean throttled = FALSE;

  if (rule->throttle_ms <= 0)
    return FALSE;

  key = throttle_key (rule->id, dedupe_key);
  g_mutex_lock (&self->mutex);
  last = g_hash_table_lookup (self->fired, key);
  if (last != NULL && now - *last < rule->throttle_ms && now >= *last)
    {
      throttled = TRUE;
      if (remaining_ms)
        *remaining_ms = *last + rule->throttle_ms - now;
    }
  g_mutex_unlock (&self->mutex);

  return throttled;
}

typedef struct
{
  gint64    rule_id;
  char     *dedupe_key;
  gint64    fired_ms;
  gboolean  prune;
} FiredJob;

static void
fired_job_free (gpointer data)
{
  FiredJob *job = data;

  g_free (job->dedupe_key);
  g_free (job);
}

static gboolean
fired_write (SyWriteBatch  *batch,
             gpointer       data,
             GError       **error)
{
  FiredJob *job = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  /* The rule may be gone meanwhile: then there is nothing to remember. */
  stmt = _sy_sql_prepare (db,
                          "INSERT INTO automation_fired (rule_id, dedupe_key, fired_ms) "
                          "SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM automation_rules WHERE id = ?1) "
                          "ON CONFLICT (rule_id, dedupe_key) DO UPDATE SET fired_ms = excluded.fired_ms",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, job->rule_id);
  sqlite3_bind_text (stmt, 2, job->dedupe_key, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, job->fired_ms);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Recording a rule firing", error))
    return FALSE;

  if (job->prune)
    {
      g_clear_pointer (&stmt, sqlite3_finalize);
      stmt = _sy_sql_prepare (db,
                              "DELETE FROM automation_fired WHERE fired_ms < ?1 - "
                              "coalesce ((SELECT throttle_seconds * 1000 FROM automation_rules WHERE id = rule_id), 0)",
                              error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, job->fired_ms);
      return _sy_sql_check (db, sqlite3_step (stmt), "Forgetting old rule firings", error);
    }

  return TRUE;
}

static void
fired_done (const GError *error,
            gpointer      user_data)
{
  if (error != NULL)
    g_warning ("Recording a rule firing: %s", error->message);
}

static gint64 *
fired_value (gint64 fired_ms,
             gint64 until_ms)
{
  gint64 *value = g_new (gint64, 2);

  value[0] = fired_ms;
  value[1] = until_ms;
  return value;
}

static void
record_fired (SyAutomations *self,
              Rule          *rule,
              const char    *dedupe_key,
              gint64         now)
{
  FiredJob *job;
  gboolean prune = FALSE;

  if (rule->throttle_ms <= 0)
    return;

  g_mutex_lock (&self->mutex);
  g_hash_table_replace (self->fired, throttle_key (rule->id, dedupe_key), fired_value (now, now + rule->throttle_ms));
  /* Keys whose window is over are forgotten now and then (dedupe keys can be many). */
  if (++self->fired_since_prune >= 4096)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, self->fired);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        if (((gint64 *) value)[1] < now)
          g_hash_table_iter_remove (&iter);
      self->fired_since_prune = 0;
      prune = TRUE;
    }
  g_mutex_unlock (&self->mutex);

  job = g_new0 (FiredJob, 1);
  job->rule_id = rule->id;
  job->dedupe_key = g_strdup (dedupe_key);
  job->fired_ms = now;
  job->prune = prune;
  _sy_store_write (self->store, 1, fired_write, job, fired_job_free, NULL, fired_done, NULL);
}

/* The engine (backend thread) */

static SyDeliveryNew *
render_delivery (Snapshot         *snap,
                 gint64            action_id,
                 JsonNode         *data,
                 const SyFireInfo *info,
                 const char       *event_text)
{
  SyAction *action = g_hash_table_lookup (snap->actions, &action_id);
  g_autoptr(JsonNode) payload = NULL;
  SyDeliveryNew *delivery;

  if (action == NULL)
    return NULL;

  payload = _sy_action_render (action->type, action->config, data, info);
  delivery = g_new0 (SyDeliveryNew, 1);
  delivery->action_id = action_id;
  delivery->rule_id = info->rule_id;
  delivery->event_type = g_strdup (info->event_type);
  delivery->event = g_strdup (event_text);
  delivery->payload = json_to_string (payload, FALSE);

  return delivery;
}

static void
event_cb (const char *type,
          gint64      ts_ms,
          JsonNode   *event,
          gpointer    user_data)
{
  evaluate_event (user_data, type, ts_ms, event, FALSE);
}

static void
evaluate_event (SyAutomations *self,
                const char    *type,
                gint64         ts_ms,
                JsonNode      *event,
                gboolean       replay)
{
  g_autoptr(Snapshot) snap = get_snapshot (self);
  g_autoptr(JsonNode) data = NULL;
  g_autoptr(JsonNode) meter = NULL;
  g_autoptr(JsonNode) site = NULL;
  g_autoptr(GArray) chain = NULL;
  g_autoptr(GPtrArray) deliveries = NULL;
  g_autofree char *event_text = NULL;
  gint64 now = 0;

  self->events_seen++;

  for (guint i = 0; i < snap->rules->len; i++)
    {
      Rule *rule = g_ptr_array_index (snap->rules, i);
      g_autoptr(GError) error = NULL;
      g_autofree char *dedupe_key = NULL;
      gboolean match = FALSE;
      SyFireInfo info = { 0 };

      if (!rule->enabled || !g_str_equal (rule->event_key, type))
        continue;

      /* Built once per event, for the first rule that listens. */
      if (data == NULL)
        {
          gint64 meter_id = event_meter_id (event);

          now = sy_time_now_ms ();
          if (lookup_meter (self, meter_id, &meter, &site) && !replay && self->held.length < MAX_HELD_EVENTS)
            {
              HeldEvent *held = g_new0 (HeldEvent, 1);

              held->type = g_strdup (type);
              held->ts_ms = ts_ms;
              held->event = json_node_ref (event);
              g_queue_push_tail (&self->held, held);
              self->events_seen--;
              return;
            }
          if (replay && meter == NULL && meter_id > 0)
            {
              g_mutex_lock (&self->mutex);
              g_hash_table_replace (self->missing, int64_dup (meter_id), int64_dup (now));
              g_mutex_unlock (&self->mutex);
            }
          data = build_rule_data (self, event, meter, site, now);
          chain = g_str_equal (type, SY_EVENT_ALERT) ? event_chain (event) : g_array_new (FALSE, FALSE, sizeof (gint64));
        }

      /* An alert caused by this rule (directly or through others) never fires it again. */
      if (chain->len >= SY_RULE_CHAIN_MAX_DEPTH || chain_contains (chain, rule->id))
        {
          g_atomic_int_inc (&rule->counters->cycle_skips);
          continue;
        }

      g_atomic_int_inc (&rule->counters->evaluated);
      if (!sy_jsonlogic_matches (rule->logic, data, &match, &error))
        {
          g_atomic_int_inc (&rule->counters->errors);
          g_debug ("Rule %" G_GINT64_FORMAT ": %s", rule->id, error->message);
          continue;
        }
      if (!match)
        continue;

      g_atomic_int_inc (&rule->counters->matched);
      dedupe_key = _sy_template_render (rule->dedupe_template, data);
      if (is_throttled (self, rule, dedupe_key, now, NULL))
        {
          g_atomic_int_inc (&rule->counters->throttled);
          continue;
        }

      g_atomic_int_inc (&rule->counters->fired);
      record_fired (self, rule, dedupe_key, now);

      info.rule_id = rule->id;
      info.rule_name = rule->name;
      info.event_type = type;
      info.dedupe_key = dedupe_key;
      info.now_ms = now;
      info.event_ts_ms = ts_ms;
      info.chain = chain;

      if (event_text == NULL)
        event_text = json_to_string (event, FALSE);
      if (deliveries == NULL)
        deliveries = g_ptr_array_new_with_free_func ((GDestroyNotify) _sy_delivery_new_free);
      for (guint a = 0; a < rule->action_ids->len; a++)
        {
          SyDeliveryNew *delivery = render_delivery (snap, g_array_index (rule->action_ids, gint64, a),
                                                     data, &info, event_text);

          if (delivery != NULL)
            g_ptr_array_add (deliveries, delivery);
        }
    }

  if (deliveries != NULL && deliveries->len > 0 && self->outbox != NULL)
    _sy_outbox_submit (self->outbox, g_steal_pointer (&deliveries));
}

/* Object */

static void
sy_automations_finalize (GObject *object)
{
  SyAutomations *self = (SyAutomations *) object;

  g_queue_clear_full (&self->held, (GDestroyNotify) held_event_free);
  g_clear_pointer (&self->snapshot, snapshot_unref);
  g_clear_pointer (&self->counters, g_hash_table_unref);
  g_clear_pointer (&self->fired, g_hash_table_unref);
  g_clear_pointer (&self->meters, g_hash_table_unref);
  g_clear_pointer (&self->sites, g_hash_table_unref);
  g_clear_pointer (&self->missing, g_hash_table_unref);
  g_clear_pointer (&self->config.retry_schedule, g_free);
  g_clear_pointer (&self->config.allow_list, g_free);
  g_clear_pointer (&self->config.plugins_dir, g_free);
  g_clear_pointer (&self->config.smtp_relay, g_free);
  g_clear_pointer (&self->config.smtp_from, g_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_object (&self->bus);
  g_clear_object (&self->auth);
  g_clear_object (&self->store);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (sy_automations_parent_class)->finalize (object);
}

static void
sy_automations_class_init (SyAutomationsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sy_automations_finalize;
}

static void
sy_automations_init (SyAutomations *self)
{
  g_mutex_init (&self->mutex);
  self->counters = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->fired = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->missing = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
}

static gboolean
load_fired (SyAutomations  *self,
            GError        **error)
{
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;

  guard.db = _sy_store_reader_acquire (self->store);
  stmt = _sy_sql_prepare (guard.db,
                          "SELECT f.rule_id, f.dedupe_key, f.fired_ms, f.fired_ms + r.throttle_seconds * 1000 FROM automation_fired f "
                          "JOIN automation_rules r ON r.id = f.rule_id "
                          "WHERE f.fired_ms > ? - r.throttle_seconds * 1000",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, sy_time_now_ms ());
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_hash_table_replace (self->fired,
                          throttle_key (sqlite3_column_int64 (stmt, 0), (const char *) sqlite3_column_text (stmt, 1)),
                          fired_value (sqlite3_column_int64 (stmt, 2), sqlite3_column_int64 (stmt, 3)));

  return TRUE;
}

SyAutomations *
_sy_automations_new (SyStore                   *store,
                     SyAuth                    *auth,
                     SyEventBus                *bus,
                     const SyAutomationsConfig *config,
                     GError                   **error)
{
  g_autoptr(SyAutomations) self = NULL;
  g_return_val_if_fail (SY_IS_STORE (store), NULL);
  g_return_val_if_fail (config != NULL, NULL);

  self = g_object_new (SY_TYPE_AUTOMATIONS, NULL);
  self->store = g_object_ref (store);
  self->auth = g_object_ref (auth);
  self->bus = g_object_ref (bus);
  self->context = g_main_context_ref_thread_default ();
  self->config = *config;
  self->config.retry_schedule = g_strdup (config->retry_schedule);
  self->config.plugins_dir = g_strdup (config->plugins_dir);
  self->config.smtp_relay = g_strdup (config->smtp_relay);
  self->config.smtp_from = g_strdup (config->smtp_from);
  self->config.allow_list = g_strdup (config->allow_list);

  if (!reload (self, error) || !load_fired (self, error) || !load_registry (self, error))
    return NULL;

  self->outbox = _sy_outbox_new (store, bus, &self->config, lookup_action_cb, self, error);
  if (self->outbox == NULL)
    return NULL;

  sync_subscriptions (self);

  return g_steal_pointer (&self);
}

void
_sy_automations_shutdown (SyAutomations *self)
{
  g_return_if_fail (SY_IS_AUTOMATIONS (self));

  self->shut_down = TRUE;
  g_queue_clear_full (&self->held, (GDestroyNotify) held_event_free);
  for (guint i = 0; i < G_N_ELEMENTS (self->subscriptions); i++)
    {
      if (self->subscriptions[i] != 0)
        _sy_event_bus_unsubscribe (self->bus, self->subscriptions[i]);
      self->subscriptions[i] = 0;
    }
  g_clear_pointer (&self->outbox, _sy_outbox_free);
}

SyOutbox *
_sy_automations_get_outbox (SyAutomations *self)
{
  g_return_val_if_fail (SY_IS_AUTOMATIONS (self), NULL);

  return self->outbox;
}

guint64
_sy_automations_get_events_seen (SyAutomations *self)
{
  return self->events_seen;
}

/* Body helpers */

static gboolean
reject_unknown (JsonObject         *obj,
                const char * const *known,
                GError            **error)
{
  g_autoptr(GList) members = json_object_get_members (obj);

  for (GList *l = members; l != NULL; l = l->next)
    {
      if (!g_strv_contains (known, l->data))
        {
          sy_error_set_field (error, l->data, "unknown field");
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
body_string (JsonObject  *obj,
             const char  *field,
             gboolean     required,
             gsize        max_len,
             const char **out,
             GError     **error)
{
  JsonNode *node = json_object_get_member (obj, field);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        {
          sy_error_set_field (error, field, "required");
          return FALSE;
        }
      return TRUE;
    }
  if (json_node_get_value_type (node) != G_TYPE_STRING ||
      strlen (json_node_get_string (node)) > max_len ||
      (required && json_node_get_string (node)[0] == '\0'))
    {
      sy_error_set_field (error, field, "must be a string of %s%" G_GSIZE_FORMAT " characters",
                          required ? "1 to " : "at most ", max_len);
      return FALSE;
    }

  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
body_bool (JsonObject  *obj,
           const char  *field,
           gboolean    *out,
           GError     **error)
{
  JsonNode *node = json_object_get_member (obj, field);

  if (node == NULL)
    return TRUE;
  if (json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      sy_error_set_field (error, field, "must be true or false");
      return FALSE;
    }

  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
body_int (JsonObject  *obj,
          const char  *field,
          gint64       min,
          gint64       max,
          gint64      *out,
          GError     **error)
{
  JsonNode *node = json_object_get_member (obj, field);

  if (node == NULL)
    return TRUE;
  if (json_node_get_value_type (node) != G_TYPE_INT64 ||
      json_node_get_int (node) < min || json_node_get_int (node) > max)
    {
      sy_error_set_field (error, field, "must be an integer between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
                          min, max);
      return FALSE;
    }

  *out = json_node_get_int (node);
  return TRUE;
}

static char *
node_to_text (JsonNode *node)
{
  return json_to_string (node, FALSE);
}

static void
bind_text_or_null (sqlite3_stmt *stmt,
                   int           index,
                   const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

static void
add_int_or_null (JsonBuilder  *b,
                 const char   *name,
                 sqlite3_stmt *stmt,
                 int           column)
{
  json_builder_set_member_name (b, name);
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, sqlite3_column_int64 (stmt, column));
}

static void
add_text_or_null (JsonBuilder  *b,
                  const char   *name,
                  sqlite3_stmt *stmt,
                  int           column)
{
  json_builder_set_member_name (b, name);
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    json_builder_add_null_value (b);
  else
    json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, column));
}

static void
add_json_or_null (JsonBuilder  *b,
                  const char   *name,
                  sqlite3_stmt *stmt,
                  int           column)
{
  JsonNode *node = NULL;

  json_builder_set_member_name (b, name);
  if (sqlite3_column_type (stmt, column) != SQLITE_NULL)
    node = json_from_string ((const char *) sqlite3_column_text (stmt, column), NULL);
  if (node != NULL)
    json_builder_add_value (b, node);
  else
    json_builder_add_null_value (b);
}

static void
add_time (JsonBuilder  *b,
          const char   *name,
          sqlite3_stmt *stmt,
          int           column)
{
  json_builder_set_member_name (b, name);
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    json_builder_add_null_value (b);
  else
    {
      g_autofree char *text = sy_time_format_iso8601 (sqlite3_column_int64 (stmt, column));

      json_builder_add_string_value (b, text);
    }
}

/* Actions */

#define ACTION_COLUMNS "id, name, type, config, enabled, disabled_reason, created_by, created_ms, updated_ms"

static JsonNode *
action_row_to_json (sqlite3_stmt *stmt)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) config = json_from_string ((const char *) sqlite3_column_text (stmt, 3), NULL);
  SyActionType type = SY_ACTION_WEBHOOK;

  _sy_action_type_from_string ((const char *) sqlite3_column_text (stmt, 2), &type);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 0));
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 1));
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 2));
  json_builder_set_member_name (b, "config");
  if (config != NULL)
    json_builder_add_value (b, _sy_action_config_public (type, config));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, sqlite3_column_int (stmt, 4) != 0);
  add_text_or_null (b, "disabled_reason", stmt, 5);
  add_text_or_null (b, "created_by", stmt, 6);
  add_time (b, "created_at", stmt, 7);
  add_time (b, "updated_at", stmt, 8);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

static JsonNode *
load_action (sqlite3  *db,
             gint64    id,
             GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db, "SELECT " ACTION_COLUMNS " FROM automation_actions WHERE id = ?", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No action %" G_GINT64_FORMAT, id);
      return NULL;
    }

  return action_row_to_json (stmt);
}

JsonNode *
_sy_automations_list_actions (SyAutomations  *self,
                              gint64          limit,
                              gint64          offset,
                              gint64         *out_total,
                              GError        **error)
{
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonArray) items = json_array_new ();
  JsonNode *node;

  guard.db = _sy_store_reader_acquire (self->store);
  *out_total = _sy_sql_query_int64 (guard.db, "SELECT count(*) FROM automation_actions", 0);
  stmt = _sy_sql_prepare (guard.db, "SELECT " ACTION_COLUMNS " FROM automation_actions ORDER BY id LIMIT ? OFFSET ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, limit);
  sqlite3_bind_int64 (stmt, 2, offset);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    json_array_add_element (items, action_row_to_json (stmt));

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, items);
  return node;
}

JsonNode *
_sy_automations_get_action (SyAutomations  *self,
                            gint64          id,
                            GError        **error)
{
  g_auto(SyReaderGuard) guard = { self->store, NULL };

  guard.db = _sy_store_reader_acquire (self->store);
  return load_action (guard.db, id, error);
}

typedef struct
{
  gint64       id;
  const char  *name;
  const char  *type;
  char        *config;          /* JSON text */
  gboolean     set_enabled;
  gboolean     enabled;
  const char  *client_id;
  JsonNode    *result;
} ActionWrite;

static void
action_write_clear (ActionWrite *w)
{
  g_free (w->config);
  g_clear_pointer (&w->result, json_node_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ActionWrite, action_write_clear)

/* The config is either {"config": {...}} or the type's fields beside name and type. */
static JsonNode *
extract_config (JsonObject *body)
{
  static const char * const top[] = { "name", "type", "enabled", "config", NULL };
  g_autoptr(GList) members = NULL;
  JsonObject *config;
  JsonNode *node;

  if (json_object_has_member (body, "config"))
    return json_node_copy (json_object_get_member (body, "config"));

  config = json_object_new ();
  members = json_object_get_members (body);
  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (top, l->data))
      json_object_set_member (config, l->data, json_node_copy (json_object_get_member (body, l->data)));

  if (json_object_get_size (config) == 0)
    {
      json_object_unref (config);
      return NULL;
    }

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, config);
  return node;
}

static gboolean
action_create_write (SyWriteBatch  *batch,
                     gpointer       data,
                     GError       **error)
{
  ActionWrite *w = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now = sy_time_now_ms ();

  stmt = _sy_sql_prepare (db,
                          "INSERT INTO automation_actions (name, type, config, enabled, created_by, created_ms, updated_ms) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, w->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, w->type, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, w->config, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 4, w->set_enabled ? w->enabled : TRUE);
  bind_text_or_null (stmt, 5, w->client_id);
  sqlite3_bind_int64 (stmt, 6, now);
  sqlite3_bind_int64 (stmt, 7, now);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Creating the action", error))
    return FALSE;

  w->result = load_action (db, sqlite3_last_insert_rowid (db), error);
  return w->result != NULL;
}

JsonNode *
_sy_automations_create_action (SyAutomations  *self,
                               JsonObject     *body,
                               const char     *client_id,
                               GError        **error)
{
  g_auto(ActionWrite) w = { 0 };
  g_autoptr(JsonNode) raw = NULL;
  g_autoptr(JsonNode) config = NULL;
  SyActionType type;

  if (!body_string (body, "name", TRUE, 200, &w.name, error) ||
      !body_string (body, "type", TRUE, 32, &w.type, error) ||
      !body_bool (body, "enabled", &w.enabled, error))
    return NULL;
  w.set_enabled = json_object_has_member (body, "enabled");

  if (!_sy_action_type_from_string (w.type, &type))
    {
      sy_error_set_field (error, "type", "must be one of webhook, annotate, alert, relay_command, notify_email, plugin_action");
      return NULL;
    }

  raw = extract_config (body);
  if (raw == NULL)
    {
      raw = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (raw, json_object_new ());
    }
  config = _sy_action_config_validate (type, raw, "config", error);
  if (config == NULL)
    return NULL;

  w.config = node_to_text (config);
  w.client_id = client_id;

  if (!_sy_store_write_sync (self->store, action_create_write, &w, error))
    return NULL;

  reload_after_change (self);
  return g_steal_pointer (&w.result);
}

static gboolean
action_update_write (SyWriteBatch  *batch,
                     gpointer       data,
                     GError       **error)
{
  ActionWrite *w = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = _sy_sql_prepare (db,
                          "UPDATE automation_actions SET name = coalesce (?1, name), config = coalesce (?2, config), "
                          "enabled = CASE WHEN ?3 THEN ?4 ELSE enabled END, "
                          "disabled_reason = CASE WHEN ?3 AND ?4 THEN NULL ELSE disabled_reason END, "
                          "updated_ms = ?5 WHERE id = ?6",
                          error);
  if (stmt == NULL)
    return FALSE;
  bind_text_or_null (stmt, 1, w->name);
  bind_text_or_null (stmt, 2, w->config);
  sqlite3_bind_int (stmt, 3, w->set_enabled);
  sqlite3_bind_int (stmt, 4, w->enabled);
  sqlite3_bind_int64 (stmt, 5, sy_time_now_ms ());
  sqlite3_bind_int64 (stmt, 6, w->id);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Updating the action", error))
    return FALSE;

  w->result = load_action (db, w->id, error);
  return w->result != NULL;
}

JsonNode *
_sy_automations_update_action (SyAutomations  *self,
                               gint64          id,
                               JsonObject     *body,
                               GError        **error)
{
  g_auto(ActionWrite) w = { 0 };
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) changes = NULL;
  g_autoptr(JsonNode) current = NULL;
  const char *type_text = NULL;
  SyActionType type;

  w.id = id;
  if (!body_string (body, "name", FALSE, 200, &w.name, error) ||
      !body_string (body, "type", FALSE, 32, &type_text, error) ||
      !body_bool (body, "enabled", &w.enabled, error))
    return NULL;
  if (w.name != NULL && w.name[0] == '\0')
    {
      sy_error_set_field (error, "name", "must not be empty");
      return NULL;
    }
  w.set_enabled = json_object_has_member (body, "enabled");

  guard.db = _sy_store_reader_acquire (self->store);
  stmt = _sy_sql_prepare (guard.db, "SELECT type, config FROM automation_actions WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No action %" G_GINT64_FORMAT, id);
      return NULL;
    }
  _sy_action_type_from_string ((const char *) sqlite3_column_text (stmt, 0), &type);
  current = json_from_string ((const char *) sqlite3_column_text (stmt, 1), NULL);
  g_clear_pointer (&stmt, sqlite3_finalize);
  _sy_reader_guard_release (&guard);

  if (type_text != NULL && !g_str_equal (type_text, _sy_action_type_to_string (type)))
    {
      sy_error_set_field (error, "type", "cannot change (create a new action instead)");
      return NULL;
    }

  /* Config fields merge into the current config (so a PATCH keeps the secret). */
  changes = extract_config (body);
  if (changes != NULL)
    {
      g_autoptr(JsonNode) merged = NULL;
      g_autoptr(GList) members = NULL;
      JsonObject *target;

      if (!JSON_NODE_HOLDS_OBJECT (changes))
        {
          sy_error_set_field (error, "config", "must be an object");
          return NULL;
        }
      merged = json_node_copy (current);
      target = json_node_get_object (merged);
      members = json_object_get_members (json_node_get_object (changes));
      for (GList *l = members; l != NULL; l = l->next)
        {
          JsonNode *value = json_object_get_member (json_node_get_object (changes), l->data);

          if (JSON_NODE_HOLDS_NULL (value))
            json_object_remove_member (target, l->data);
          else
            json_object_set_member (target, l->data, json_node_copy (value));
        }

      {
        g_autoptr(JsonNode) config = _sy_action_config_validate (type, merged, "config", error);

        if (config == NULL)
          return NULL;
        w.config = node_to_text (config);
      }
    }

  if (!_sy_store_write_sync (self->store, action_update_write, &w, error))
    return NULL;

  reload_after_change (self);
  return g_steal_pointer (&w.result);
}

static gboolean
action_delete_write (SyWriteBatch  *batch,
                     gpointer       data,
                     GError       **error)
{
  gint64 id = *(gint64 *) data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = _sy_sql_prepare (db, "SELECT group_concat (DISTINCT rule_id) FROM automation_rule_actions WHERE action_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_CONFLICT, "Action %" G_GINT64_FORMAT " is used by rule(s) %s",
                   id, (const char *) sqlite3_column_text (stmt, 0));
      return FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = _sy_sql_prepare (db, "DELETE FROM automation_actions WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Deleting the action", error))
    return FALSE;
  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No action %" G_GINT64_FORMAT, id);
      return FALSE;
    }

  return TRUE;
}

gboolean
_sy_automations_delete_action (SyAutomations  *self,
                               gint64          id,
                               GError        **error)
{
  if (!_sy_store_write_sync (self->store, action_delete_write, &id, error))
    return FALSE;

  reload_after_change (self);
  return TRUE;
}

/* Rules */

#define RULE_COLUMNS "id, name, description, event_key, jsonlogic, throttle_seconds, dedupe_template, enabled, " \
                     "created_by, created_ms, updated_ms, " \
                     "(SELECT group_concat (action_id) FROM (SELECT action_id FROM automation_rule_actions " \
                     " WHERE rule_id = automation_rules.id ORDER BY position))"

static void
add_counters (JsonBuilder   *b,
              SyAutomations *self,
              gint64         rule_id)
{
  Counters *c = counters_for (self, rule_id);

  json_builder_set_member_name (b, "counters");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "evaluated");
  json_builder_add_int_value (b, g_atomic_int_get (&c->evaluated));
  json_builder_set_member_name (b, "matched");
  json_builder_add_int_value (b, g_atomic_int_get (&c->matched));
  json_builder_set_member_name (b, "throttled");
  json_builder_add_int_value (b, g_atomic_int_get (&c->throttled));
  json_builder_set_member_name (b, "errors");
  json_builder_add_int_value (b, g_atomic_int_get (&c->errors));
  json_builder_set_member_name (b, "fired");
  json_builder_add_int_value (b, g_atomic_int_get (&c->fired));
  json_builder_set_member_name (b, "cycle_skips");
  json_builder_add_int_value (b, g_atomic_int_get (&c->cycle_skips));
  json_builder_end_object (b);
}

static JsonNode *
rule_row_to_json (SyAutomations *self,
                  sqlite3_stmt  *stmt)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const char *ids = (const char *) sqlite3_column_text (stmt, 11);
  gint64 id = sqlite3_column_int64 (stmt, 0);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 1));
  add_text_or_null (b, "description", stmt, 2);
  json_builder_set_member_name (b, "event_key");
  json_builder_add_string_value (b, (const char *) sqlite3_column_text (stmt, 3));
  add_json_or_null (b, "jsonlogic", stmt, 4);
  json_builder_set_member_name (b, "throttle_seconds");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 5));
  add_text_or_null (b, "dedupe_template", stmt, 6);
  json_builder_set_member_name (b, "enabled");
  json_builder_add_boolean_value (b, sqlite3_column_int (stmt, 7) != 0);
  json_builder_set_member_name (b, "rule_actions");
  json_builder_begin_array (b);
  if (ids != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (ids, ",", -1);

      for (guint i = 0; parts[i] != NULL; i++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "action_id");
          json_builder_add_int_value (b, g_ascii_strtoll (parts[i], NULL, 10));
          json_builder_end_object (b);
        }
    }
  json_builder_end_array (b);
  add_text_or_null (b, "created_by", stmt, 8);
  add_time (b, "created_at", stmt, 9);
  add_time (b, "updated_at", stmt, 10);
  add_counters (b, self, id);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

static JsonNode *
load_rule (SyAutomations  *self,
           sqlite3        *db,
           gint64          id,
           GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db, "SELECT " RULE_COLUMNS " FROM automation_rules WHERE id = ?", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No rule %" G_GINT64_FORMAT, id);
      return NULL;
    }

  return rule_row_to_json (self, stmt);
}

JsonNode *
_sy_automations_list_rules (SyAutomations  *self,
                            gint64          limit,
                            gint64          offset,
                            gint64         *out_total,
                            GError        **error)
{
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonArray) items = json_array_new ();
  JsonNode *node;

  guard.db = _sy_store_reader_acquire (self->store);
  *out_total = _sy_sql_query_int64 (guard.db, "SELECT count(*) FROM automation_rules", 0);
  stmt = _sy_sql_prepare (guard.db, "SELECT " RULE_COLUMNS " FROM automation_rules ORDER BY id LIMIT ? OFFSET ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, limit);
  sqlite3_bind_int64 (stmt, 2, offset);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    json_array_add_element (items, rule_row_to_json (self, stmt));

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, items);
  return node;
}

JsonNode *
_sy_automations_get_rule (SyAutomations  *self,
                          gint64          id,
                          GError        **error)
{
  g_auto(SyReaderGuard) guard = { self->store, NULL };

  guard.db = _sy_store_reader_acquire (self->store);
  return load_rule (self, guard.db, id, error);
}

/* A rule body, validated. Fields not given stay unset (PATCH). */
typedef struct
{
  SyAutomations *self;
  gint64         id;
  const char    *name;
  const char    *description;
  gboolean       set_description;
  const char    *event_key;
  char          *jsonlogic;       /* JSON text */
  SyJsonLogic   *logic;
  gint64         throttle_seconds;
  gboolean       set_throttle;
  const char    *dedupe_template;
  gboolean       set_dedupe;
  gboolean       enabled;
  gboolean       set_enabled;
  GArray        *action_ids;      /* NULL: unchanged */
  const char    *client_id;
  JsonNode      *result;
} RuleWrite;

static void
rule_write_clear (RuleWrite *w)
{
  g_free (w->jsonlogic);
  g_clear_pointer (&w->logic, sy_jsonlogic_unref);
  g_clear_pointer (&w->action_ids, g_array_unref);
  g_clear_pointer (&w->result, json_node_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RuleWrite, rule_write_clear)

static gboolean
parse_rule_body (JsonObject  *body,
                 gboolean     create,
                 RuleWrite   *w,
                 GError     **error)
{
  static const char * const known[] = {
    "name", "description", "event_key", "jsonlogic", "throttle_seconds", "dedupe_template", "enabled",
    "rule_actions", NULL,
  };
  JsonNode *logic = json_object_get_member (body, "jsonlogic");
  JsonNode *actions = json_object_get_member (body, "rule_actions");

  if (!reject_unknown (body, known, error) ||
      !body_string (body, "name", create, 200, &w->name, error) ||
      !body_string (body, "description", FALSE, 2000, &w->description, error) ||
      !body_string (body, "event_key", create, 64, &w->event_key, error) ||
      !body_int (body, "throttle_seconds", 0, MAX_THROTTLE_S, &w->throttle_seconds, error) ||
      !body_string (body, "dedupe_template", FALSE, 500, &w->dedupe_template, error) ||
      !body_bool (body, "enabled", &w->enabled, error))
    return FALSE;

  if (w->name != NULL && w->name[0] == '\0')
    {
      sy_error_set_field (error, "name", "must not be empty");
      return FALSE;
    }
  w->set_description = json_object_has_member (body, "description");
  w->set_throttle = json_object_has_member (body, "throttle_seconds");
  w->set_dedupe = json_object_has_member (body, "dedupe_template");
  w->set_enabled = json_object_has_member (body, "enabled");
  if (create && !w->set_enabled)
    w->enabled = TRUE;

  if (w->event_key != NULL && !_sy_rule_event_key_is_valid (w->event_key))
    {
      sy_error_set_field (error, "event_key", "must be one of data.ingested, pq.event, protection.event, alert.triggered");
      return FALSE;
    }

  if (logic == NULL && create)
    {
      sy_error_set_field (error, "jsonlogic", "required");
      return FALSE;
    }
  if (logic != NULL)
    {
      w->logic = sy_jsonlogic_compile (logic, "jsonlogic", error);
      if (w->logic == NULL)
        return FALSE;
      w->jsonlogic = node_to_text (logic);
    }

  if (actions != NULL)
    {
      JsonArray *array;

      if (!JSON_NODE_HOLDS_ARRAY (actions) || json_array_get_length (array = json_node_get_array (actions)) > 32)
        {
          sy_error_set_field (error, "rule_actions", "must be an array of at most 32 {\"action_id\": N}");
          return FALSE;
        }
      w->action_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *item = json_array_get_element (array, i);
          JsonNode *id = JSON_NODE_HOLDS_OBJECT (item) ? json_object_get_member (json_node_get_object (item), "action_id") : NULL;
          g_autofree char *field = g_strdup_printf ("rule_actions[%u].action_id", i);
          gint64 value;

          if (id == NULL || json_node_get_value_type (id) != G_TYPE_INT64 || json_node_get_int (id) < 1)
            {
              sy_error_set_field (error, field, "required: a positive integer");
              return FALSE;
            }
          if (JSON_NODE_HOLDS_OBJECT (item) && json_object_get_size (json_node_get_object (item)) != 1)
            {
              g_autofree char *item_field = g_strdup_printf ("rule_actions[%u]", i);

              sy_error_set_field (error, item_field, "only action_id is allowed");
              return FALSE;
            }
          value = json_node_get_int (id);
          g_array_append_val (w->action_ids, value);
        }
    }

  return TRUE;
}

static gboolean
replace_rule_actions (sqlite3    *db,
                      RuleWrite  *w,
                      GError    **error)
{
  g_autoptr(sqlite3_stmt) check = NULL;
  g_autoptr(sqlite3_stmt) del = NULL;
  g_autoptr(sqlite3_stmt) ins = NULL;

  if (w->action_ids == NULL)
    return TRUE;

  check = _sy_sql_prepare (db, "SELECT 1 FROM automation_actions WHERE id = ?", error);
  del = _sy_sql_prepare (db, "DELETE FROM automation_rule_actions WHERE rule_id = ?", error);
  ins = _sy_sql_prepare (db, "INSERT INTO automation_rule_actions (rule_id, position, action_id) VALUES (?, ?, ?)", error);
  if (check == NULL || del == NULL || ins == NULL)
    return FALSE;

  sqlite3_bind_int64 (del, 1, w->id);
  if (!_sy_sql_check (db, sqlite3_step (del), "Replacing the rule's actions", error))
    return FALSE;

  for (guint i = 0; i < w->action_ids->len; i++)
    {
      gint64 action_id = g_array_index (w->action_ids, gint64, i);

      sqlite3_reset (check);
      sqlite3_bind_int64 (check, 1, action_id);
      if (sqlite3_step (check) != SQLITE_ROW)
        {
          g_autofree char *field = g_strdup_printf ("rule_actions[%u].action_id", i);

          sy_error_set_field (error, field, "no action %" G_GINT64_FORMAT, action_id);
          return FALSE;
        }

      sqlite3_reset (ins);
      sqlite3_bind_int64 (ins, 1, w->id);
      sqlite3_bind_int (ins, 2, i);
      sqlite3_bind_int64 (ins, 3, action_id);
      if (!_sy_sql_check (db, sqlite3_step (ins), "Linking the rule to its action", error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
rule_create_write (SyWriteBatch  *batch,
                   gpointer       data,
                   GError       **error)
{
  RuleWrite *w = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now = sy_time_now_ms ();

  stmt = _sy_sql_prepare (db,
                          "INSERT INTO automation_rules (name, description, event_key, jsonlogic, throttle_seconds, "
                          "dedupe_template, enabled, created_by, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, w->name, -1, SQLITE_STATIC);
  bind_text_or_null (stmt, 2, w->description);
  sqlite3_bind_text (stmt, 3, w->event_key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, w->jsonlogic, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, w->throttle_seconds);
  bind_text_or_null (stmt, 6, w->dedupe_template);
  sqlite3_bind_int (stmt, 7, w->enabled);
  bind_text_or_null (stmt, 8, w->client_id);
  sqlite3_bind_int64 (stmt, 9, now);
  sqlite3_bind_int64 (stmt, 10, now);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Creating the rule", error))
    return FALSE;
  w->id = sqlite3_last_insert_rowid (db);

  if (!replace_rule_actions (db, w, error))
    return FALSE;

  w->result = load_rule (w->self, db, w->id, error);
  return w->result != NULL;
}

JsonNode *
_sy_automations_create_rule (SyAutomations  *self,
                             JsonObject     *body,
                             const char     *client_id,
                             GError        **error)
{
  g_auto(RuleWrite) w = { 0 };

  w.self = self;
  if (!parse_rule_body (body, TRUE, &w, error))
    return NULL;
  if (w.action_ids == NULL)
    w.action_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  w.client_id = client_id;

  if (!_sy_store_write_sync (self->store, rule_create_write, &w, error))
    return NULL;

  reload_after_change (self);
  return g_steal_pointer (&w.result);
}

static gboolean
rule_update_write (SyWriteBatch  *batch,
                   gpointer       data,
                   GError       **error)
{
  RuleWrite *w = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = _sy_sql_prepare (db,
                          "UPDATE automation_rules SET name = coalesce (?1, name), "
                          "description = CASE WHEN ?2 THEN ?3 ELSE description END, "
                          "event_key = coalesce (?4, event_key), jsonlogic = coalesce (?5, jsonlogic), "
                          "throttle_seconds = CASE WHEN ?6 THEN ?7 ELSE throttle_seconds END, "
                          "dedupe_template = CASE WHEN ?8 THEN ?9 ELSE dedupe_template END, "
                          "enabled = CASE WHEN ?10 THEN ?11 ELSE enabled END, updated_ms = ?12 WHERE id = ?13",
                          error);
  if (stmt == NULL)
    return FALSE;
  bind_text_or_null (stmt, 1, w->name);
  sqlite3_bind_int (stmt, 2, w->set_description);
  bind_text_or_null (stmt, 3, w->description);
  bind_text_or_null (stmt, 4, w->event_key);
  bind_text_or_null (stmt, 5, w->jsonlogic);
  sqlite3_bind_int (stmt, 6, w->set_throttle);
  sqlite3_bind_int64 (stmt, 7, w->throttle_seconds);
  sqlite3_bind_int (stmt, 8, w->set_dedupe);
  bind_text_or_null (stmt, 9, w->dedupe_template);
  sqlite3_bind_int (stmt, 10, w->set_enabled);
  sqlite3_bind_int (stmt, 11, w->enabled);
  sqlite3_bind_int64 (stmt, 12, sy_time_now_ms ());
  sqlite3_bind_int64 (stmt, 13, w->id);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Updating the rule", error))
    return FALSE;
  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No rule %" G_GINT64_FORMAT, w->id);
      return FALSE;
    }

  if (!replace_rule_actions (db, w, error))
    return FALSE;

  w->result = load_rule (w->self, db, w->id, error);
  return w->result != NULL;
}

JsonNode *
_sy_automations_update_rule (SyAutomations  *self,
                             gint64          id,
                             JsonObject     *body,
                             GError        **error)
{
  g_auto(RuleWrite) w = { 0 };

  w.self = self;
  w.id = id;
  if (!parse_rule_body (body, FALSE, &w, error))
    return NULL;

  if (!_sy_store_write_sync (self->store, rule_update_write, &w, error))
    return NULL;

  reload_after_change (self);
  return g_steal_pointer (&w.result);
}

static gboolean
rule_delete_write (SyWriteBatch  *batch,
                   gpointer       data,
                   GError       **error)
{
  gint64 id = *(gint64 *) data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = _sy_sql_prepare (db, "DELETE FROM automation_rules WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Deleting the rule", error))
    return FALSE;
  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No rule %" G_GINT64_FORMAT, id);
      return FALSE;
    }

  return TRUE;
}

gboolean
_sy_automations_delete_rule (SyAutomations  *self,
                             gint64          id,
                             GError        **error)
{
  g_autofree char *prefix = g_strdup_printf ("%" G_GINT64_FORMAT ":", id);
  GHashTableIter iter;
  gpointer key;

  if (!_sy_store_write_sync (self->store, rule_delete_write, &id, error))
    return FALSE;

  g_mutex_lock (&self->mutex);
  g_hash_table_iter_init (&iter, self->fired);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_str_has_prefix (key, prefix))
      g_hash_table_iter_remove (&iter);
  g_mutex_unlock (&self->mutex);

  reload_after_change (self);
  return TRUE;
}

/* Dry run */

static JsonNode *
dry_run_jsonlogic (JsonObject  *body,
                   GError     **error)
{
  static const char * const known[] = { "jsonlogic", "data", NULL };
  g_autoptr(SyJsonLogic) logic = NULL;
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (!reject_unknown (body, known, error))
    return NULL;

  logic = sy_jsonlogic_compile (json_object_get_member (body, "jsonlogic"), "jsonlogic", error);
  if (logic == NULL)
    return NULL;

  result = sy_jsonlogic_evaluate (logic, json_object_get_member (body, "data"), error);
  if (result == NULL)
    {
      g_autofree char *message = g_strdup ((*error)->message);

      g_clear_error (error);
      sy_error_set_field (error, "jsonlogic", "evaluation failed: %s", message);
      return NULL;
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "result");
  json_builder_add_value (b, g_steal_pointer (&result));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* A rule to try: from the snapshot (rule_id) or compiled from the body (rule). */
typedef struct
{
  Rule        rule;
  gboolean    owned;
} TryRule;

static void
try_rule_clear (TryRule *t)
{
  if (t->owned)
    {
      g_free (t->rule.name);
      g_free (t->rule.event_key);
      g_clear_pointer (&t->rule.logic, sy_jsonlogic_unref);
      g_free (t->rule.dedupe_template);
      g_clear_pointer (&t->rule.action_ids, g_array_unref);
    }
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TryRule, try_rule_clear)

static gboolean
get_try_rule (SyAutomations  *self,
              Snapshot       *snap,
              JsonObject     *body,
              TryRule        *out,
              GError        **error)
{
  JsonNode *rule_id = json_object_get_member (body, "rule_id");
  JsonNode *rule = json_object_get_member (body, "rule");

  if ((rule_id == NULL) == (rule == NULL))
    {
      sy_error_set_field (error, "rule", "give either rule or rule_id (or jsonlogic with data)");
      return FALSE;
    }

  if (rule_id != NULL)
    {
      gint64 id;

      if (json_node_get_value_type (rule_id) != G_TYPE_INT64)
        {
          sy_error_set_field (error, "rule_id", "must be an integer");
          return FALSE;
        }
      id = json_node_get_int (rule_id);
      for (guint i = 0; i < snap->rules->len; i++)
        {
          Rule *r = g_ptr_array_index (snap->rules, i);

          if (r->id == id && r->logic != NULL)
            {
              out->rule = *r;
              out->owned = FALSE;
              return TRUE;
            }
        }
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No rule %" G_GINT64_FORMAT, id);
      return FALSE;
    }

  if (!JSON_NODE_HOLDS_OBJECT (rule))
    {
      sy_error_set_field (error, "rule", "must be an object");
      return FALSE;
    }

  {
    g_auto(RuleWrite) w = { 0 };
    g_autoptr(JsonNode) copy = json_node_copy (rule);
    JsonObject *obj = json_node_get_object (copy);

    /* A rule being drafted needs no name yet; its event defaults to data.ingested. */
    if (!json_object_has_member (obj, "name"))
      json_object_set_string_member (obj, "name", "dry-run");
    if (!json_object_has_member (obj, "event_key"))
      json_object_set_string_member (obj, "event_key", SY_EVENT_DATA_INGESTED);

    if (!parse_rule_body (obj, TRUE, &w, error))
      {
        g_prefix_error (error, "rule.");
        return FALSE;
      }
    out->owned = TRUE;
    out->rule.id = 0;
    out->rule.name = g_strdup (w.name);
    out->rule.event_key = g_strdup (w.event_key);
    out->rule.logic = g_steal_pointer (&w.logic);
    out->rule.throttle_ms = w.throttle_seconds * 1000;
    out->rule.dedupe_template = g_strdup (w.dedupe_template);
    out->rule.enabled = w.enabled;
    out->rule.action_ids = w.action_ids ? g_steal_pointer (&w.action_ids) : g_array_new (FALSE, FALSE, sizeof (gint64));
    for (guint i = 0; i < out->rule.action_ids->len; i++)
      {
        gint64 action_id = g_array_index (out->rule.action_ids, gint64, i);

        if (!g_hash_table_contains (snap->actions, &action_id))
          {
            g_autofree char *field = g_strdup_printf ("rule.rule_actions[%u].action_id", i);

            sy_error_set_field (error, field, "no action %" G_GINT64_FORMAT, action_id);
            return FALSE;
          }
      }
  }

  return TRUE;
}

JsonNode *
_sy_automations_dry_run (SyAutomations  *self,
                         JsonObject     *body,
                         GError        **error)
{
  static const char * const known[] = { "rule", "rule_id", "event", NULL };
  g_autoptr(Snapshot) snap = NULL;
  g_auto(TryRule) t = { { 0 }, FALSE };
  g_autoptr(JsonNode) meter = NULL;
  g_autoptr(JsonNode) site = NULL;
  g_autoptr(JsonNode) data = NULL;
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autofree char *dedupe_key = NULL;
  g_autoptr(GArray) chain = NULL;
  JsonNode *event;
  gint64 meter_id;
  gint64 now = sy_time_now_ms ();
  gint64 remaining = 0;
  gboolean matched;
  gboolean throttled = FALSE;
  gboolean cycle = FALSE;

  if (json_object_has_member (body, "jsonlogic"))
    return dry_run_jsonlogic (body, error);

  if (!reject_unknown (body, known, error))
    return NULL;

  event = json_object_get_member (body, "event");
  if (event == NULL || !JSON_NODE_HOLDS_OBJECT (event))
    {
      sy_error_set_field (error, "event", "required: the event's JSON object");
      return NULL;
    }

  snap = get_snapshot (self);
  if (!get_try_rule (self, snap, body, &t, error))
    return NULL;

  /* The registry, fresh (a worker may wait on SQLite). */
  meter_id = event_meter_id (event);
  if (meter_id > 0)
    {
      meter = _sy_registry_get (self->auth, SY_REGISTRY_METER, meter_id, NULL);
      if (meter != NULL)
        site = _sy_registry_get (self->auth, SY_REGISTRY_SITE,
                                 json_object_get_int_member_with_default (json_node_get_object (meter), "site_id", 0), NULL);
    }
  data = build_rule_data (self, event, meter, site, now);

  result = sy_jsonlogic_evaluate (t.rule.logic, data, error);
  if (result == NULL)
    {
      g_autofree char *message = g_strdup ((*error)->message);

      g_clear_error (error);
      sy_error_set_field (error, "jsonlogic", "evaluation failed: %s", message);
      return NULL;
    }
  matched = sy_jsonlogic_truthy (result);
  dedupe_key = _sy_template_render (t.rule.dedupe_template, data);
  if (t.rule.id > 0)
    throttled = is_throttled (self, &t.rule, dedupe_key, now, &remaining);
  chain = g_str_equal (t.rule.event_key, SY_EVENT_ALERT) ? event_chain (event) : g_array_new (FALSE, FALSE, sizeof (gint64));
  cycle = t.rule.id > 0 && (chain->len >= SY_RULE_CHAIN_MAX_DEPTH || chain_contains (chain, t.rule.id));

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "matched");
  json_builder_add_boolean_value (b, matched);
  json_builder_set_member_name (b, "result");
  json_builder_add_value (b, g_steal_pointer (&result));
  json_builder_set_member_name (b, "dedupe_key");
  json_builder_add_string_value (b, dedupe_key);
  json_builder_set_member_name (b, "throttled");
  json_builder_add_boolean_value (b, throttled);
  json_builder_set_member_name (b, "throttle_remaining_s");
  json_builder_add_double_value (b, remaining / 1000.0);
  json_builder_set_member_name (b, "cycle_blocked");
  json_builder_add_boolean_value (b, cycle);
  json_builder_set_member_name (b, "would_fire");
  json_builder_add_boolean_value (b, matched && !throttled && !cycle && t.rule.enabled);
  json_builder_set_member_name (b, "data");
  json_builder_add_value (b, json_node_copy (data));
  json_builder_set_member_name (b, "actions");
  json_builder_begin_array (b);
  for (guint i = 0; i < t.rule.action_ids->len; i++)
    {
      gint64 action_id = g_array_index (t.rule.action_ids, gint64, i);
      SyAction *action = g_hash_table_lookup (snap->actions, &action_id);
      SyFireInfo info = { 0 };

      if (action == NULL)
        continue;
      info.rule_id = t.rule.id;
      info.rule_name = t.rule.name;
      info.event_type = t.rule.event_key;
      info.dedupe_key = dedupe_key;
      info.now_ms = now;
      info.chain = chain;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "action_id");
      json_builder_add_int_value (b, action_id);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, action->name);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, _sy_action_type_to_string (action->type));
      json_builder_set_member_name (b, "enabled");
      json_builder_add_boolean_value (b, g_atomic_int_get (&action->enabled));
      json_builder_set_member_name (b, "payload");
      json_builder_add_value (b, _sy_action_render (action->type, action->config, data, &info));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

/* Backtest */

static gboolean
body_time (JsonObject  *body,
           const char  *field,
           gint64      *out,
           GError     **error)
{
  JsonNode *node = json_object_get_member (body, field);

  if (node == NULL)
    {
      sy_error_set_field (error, field, "required (ISO-8601 or milliseconds)");
      return FALSE;
    }
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    {
      *out = json_node_get_int (node);
      return TRUE;
    }
  if (json_node_get_value_type (node) == G_TYPE_STRING &&
      sy_time_parse_iso8601 (json_node_get_string (node), strlen (json_node_get_string (node)), out))
    return TRUE;

  sy_error_set_field (error, field, "not an ISO-8601 timestamp with time zone or milliseconds");
  return FALSE;
}

static const char backtest_sql[] =
  "SELECT meter_id, ts_ms, total_power, total_energy, voltage_a, voltage_b, voltage_c, "
  "current_a, current_b, current_c, power_factor, frequency, thd_v_pct, thd_i_pct, breaker_state, extras "
  "FROM readings WHERE ts_ms >= ?1 AND ts_ms < ?2 AND (?3 = 0 OR meter_id = ?3) ORDER BY ts_ms, meter_id LIMIT ?4";

JsonNode *
_sy_automations_backtest (SyAutomations  *self,
                          gint64          rule_id,
                          JsonObject     *body,
                          GError        **error)
{
  static const char * const known[] = { "from", "to", "meter_id", "max_readings", NULL };
  g_autoptr(Snapshot) snap = get_snapshot (self);
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GHashTable) last_fired = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) samples = json_node_new (JSON_NODE_ARRAY);
  g_autoptr(JsonArray) sample_array = json_array_new ();
  Rule *rule = NULL;
  gint64 from = 0, to = 0, meter_filter = 0, max_readings = SY_BACKTEST_MAX_READINGS;
  gint64 readings = 0, matched = 0, fired = 0, throttled = 0, errors = 0;
  gint64 first_fire = 0, last_fire = 0;
  gboolean truncated = FALSE;

  if (!reject_unknown (body, known, error) ||
      !body_time (body, "from", &from, error) ||
      !body_time (body, "to", &to, error) ||
      !body_int (body, "meter_id", 1, G_MAXINT64, &meter_filter, error) ||
      !body_int (body, "max_readings", 1, SY_BACKTEST_MAX_READINGS, &max_readings, error))
    return NULL;
  if (from >= to)
    {
      sy_error_set_field (error, "to", "must be after from");
      return NULL;
    }

  for (guint i = 0; i < snap->rules->len; i++)
    if (((Rule *) g_ptr_array_index (snap->rules, i))->id == rule_id)
      rule = g_ptr_array_index (snap->rules, i);
  if (rule == NULL || rule->logic == NULL)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No rule %" G_GINT64_FORMAT, rule_id);
      return NULL;
    }
  if (!g_str_equal (rule->event_key, SY_EVENT_DATA_INGESTED))
    {
      g_set_error (error, SY_ERROR, SY_ERROR_CONFLICT,
                   "Rule %" G_GINT64_FORMAT " listens to %s; only data.ingested rules can be backtested on stored readings",
                   rule_id, rule->event_key);
      return NULL;
    }

  /* The registry, fresh. */
  if (!load_registry (self, error))
    return NULL;

  guard.db = _sy_store_reader_acquire (self->store);
  stmt = _sy_sql_prepare (guard.db, backtest_sql, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, from);
  sqlite3_bind_int64 (stmt, 2, to);
  sqlite3_bind_int64 (stmt, 3, meter_filter);
  sqlite3_bind_int64 (stmt, 4, max_readings + 1);

  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      SyReading r = { 0 };
      g_autoptr(JsonNode) event = NULL;
      g_autoptr(JsonNode) meter = NULL;
      g_autoptr(JsonNode) site = NULL;
      g_autoptr(JsonNode) data = NULL;
      g_autofree char *dedupe_key = NULL;
      g_autofree char *key = NULL;
      g_autoptr(GError) local_error = NULL;
      gboolean match = FALSE;
      gint64 *last;

      if (readings == max_readings)
        {
          truncated = TRUE;
          break;
        }
      readings++;

      r.meter_id = sqlite3_column_int64 (stmt, 0);
      r.ts_ms = sqlite3_column_int64 (stmt, 1);
      for (guint v = 0; v < SY_READING_N_VALUES; v++)
        {
          if (sqlite3_column_type (stmt, 2 + v) != SQLITE_NULL)
            {
              r.present |= 1u << v;
              r.values[v] = sqlite3_column_double (stmt, 2 + v);
            }
        }
      r.breaker_state = (char *) sqlite3_column_text (stmt, 14);
      r.extras_json = (char *) sqlite3_column_text (stmt, 15);

      event = _sy_reading_to_json (&r);
      g_mutex_lock (&self->mutex);
      if (self->meters != NULL && (meter = g_hash_table_lookup (self->meters, &r.meter_id)) != NULL)
        {
          gint64 site_id = json_object_get_int_member_with_default (json_node_get_object (meter), "site_id", 0);

          meter = json_node_ref (meter);
          site = g_hash_table_lookup (self->sites, &site_id);
          if (site != NULL)
            site = json_node_ref (site);
        }
      g_mutex_unlock (&self->mutex);

      /* "now" is the reading's time: the rule sees the past as it happened. */
      data = build_rule_data (self, event, meter, site, r.ts_ms);
      if (!sy_jsonlogic_matches (rule->logic, data, &match, &local_error))
        {
          errors++;
          continue;
        }
      if (!match)
        continue;
      matched++;

      dedupe_key = _sy_template_render (rule->dedupe_template, data);
      key = g_strdup (dedupe_key);
      last = g_hash_table_lookup (last_fired, key);
      if (rule->throttle_ms > 0 && last != NULL && r.ts_ms - *last < rule->throttle_ms)
        {
          throttled++;
          continue;
        }
      g_hash_table_replace (last_fired, g_steal_pointer (&key), int64_dup (r.ts_ms));
      fired++;
      if (first_fire == 0)
        first_fire = r.ts_ms;
      last_fire = r.ts_ms;
      if (json_array_get_length (sample_array) < 20)
        {
          JsonObject *o = json_object_new ();
          g_autofree char *at = sy_time_format_iso8601 (r.ts_ms);

          json_object_set_string_member (o, "at", at);
          json_object_set_int_member (o, "meter_id", r.meter_id);
          json_object_set_string_member (o, "dedupe_key", dedupe_key);
          json_array_add_object_element (sample_array, o);
        }
    }

  json_node_set_array (samples, sample_array);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "rule_id");
  json_builder_add_int_value (b, rule_id);
  json_builder_set_member_name (b, "readings");
  json_builder_add_int_value (b, readings);
  json_builder_set_member_name (b, "truncated");
  json_builder_add_boolean_value (b, truncated);
  json_builder_set_member_name (b, "max_readings");
  json_builder_add_int_value (b, max_readings);
  json_builder_set_member_name (b, "matched");
  json_builder_add_int_value (b, matched);
  json_builder_set_member_name (b, "fired");
  json_builder_add_int_value (b, fired);
  json_builder_set_member_name (b, "throttled");
  json_builder_add_int_value (b, throttled);
  json_builder_set_member_name (b, "errors");
  json_builder_add_int_value (b, errors);
  json_builder_set_member_name (b, "first_fire");
  if (first_fire)
    {
      g_autofree char *text = sy_time_format_iso8601 (first_fire);
      json_builder_add_string_value (b, text);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "last_fire");
  if (last_fire)
    {
      g_autofree char *text = sy_time_format_iso8601 (last_fire);
      json_builder_add_string_value (b, text);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "fires");
  json_builder_add_value (b, g_steal_pointer (&samples));
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

/* Deliveries */

#define DELIVERY_COLUMNS "id, action_id, rule_id, event_type, event, payload, message_id, destination, status, " \
                         "attempts, next_attempt_at, last_error, response_code, latency_ms, created_ms, updated_ms"

static JsonNode *
delivery_row_to_json (sqlite3_stmt *stmt)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 0));
  json_builder_set_member_name (b, "action_id");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 1));
  add_int_or_null (b, "rule_id", stmt, 2);
  add_text_or_null (b, "event_type", stmt, 3);
  add_json_or_null (b, "event", stmt, 4);
  add_json_or_null (b, "payload", stmt, 5);
  add_text_or_null (b, "message_id", stmt, 6);
  add_text_or_null (b, "destination", stmt, 7);
  add_text_or_null (b, "status", stmt, 8);
  json_builder_set_member_name (b, "attempts");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 9));
  add_time (b, "next_attempt_at", stmt, 10);
  add_text_or_null (b, "last_error", stmt, 11);
  add_int_or_null (b, "response_code", stmt, 12);
  add_int_or_null (b, "latency_ms", stmt, 13);
  add_time (b, "created_at", stmt, 14);
  add_time (b, "updated_at", stmt, 15);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

JsonNode *
_sy_automations_list_deliveries (SyAutomations          *self,
                                 const SyDeliveryFilter *filter,
                                 gint64                  limit,
                                 gint64                  offset,
                                 gint64                 *out_total,
                                 GError                **error)
{
  static const char where[] =
    " WHERE (?1 IS NULL OR status = ?1) AND (?2 = 0 OR action_id = ?2) AND (?3 = 0 OR rule_id = ?3)";
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) count = NULL;
  g_autoptr(JsonArray) items = json_array_new ();
  g_autofree char *sql = NULL;
  g_autofree char *count_sql = NULL;
  JsonNode *node;

  sql = g_strconcat ("SELECT " DELIVERY_COLUMNS " FROM deliveries", where,
                     filter->failures_first
                     ? " ORDER BY CASE status WHEN 'dead' THEN 0 WHEN 'failed' THEN 1 WHEN 'in_flight' THEN 2 "
                       "WHEN 'pending' THEN 3 ELSE 4 END, id DESC"
                     : " ORDER BY id DESC",
                     " LIMIT ?4 OFFSET ?5", NULL);
  count_sql = g_strconcat ("SELECT count(*) FROM deliveries", where, NULL);

  guard.db = _sy_store_reader_acquire (self->store);
  count = _sy_sql_prepare (guard.db, count_sql, error);
  stmt = count ? _sy_sql_prepare (guard.db, sql, error) : NULL;
  if (stmt == NULL)
    return NULL;

  for (int pass = 0; pass < 2; pass++)
    {
      sqlite3_stmt *s = pass == 0 ? count : stmt;

      bind_text_or_null (s, 1, filter->status);
      sqlite3_bind_int64 (s, 2, filter->action_id);
      sqlite3_bind_int64 (s, 3, filter->rule_id);
    }
  sqlite3_bind_int64 (stmt, 4, limit);
  sqlite3_bind_int64 (stmt, 5, offset);

  *out_total = sqlite3_step (count) == SQLITE_ROW ? sqlite3_column_int64 (count, 0) : 0;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    json_array_add_element (items, delivery_row_to_json (stmt));

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, items);
  return node;
}

JsonNode *
_sy_automations_get_delivery (SyAutomations  *self,
                              gint64          id,
                              GError        **error)
{
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;

  guard.db = _sy_store_reader_acquire (self->store);
  stmt = _sy_sql_prepare (guard.db, "SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No delivery %" G_GINT64_FORMAT, id);
      return NULL;
    }

  return delivery_row_to_json (stmt);
}

JsonNode *
_sy_automations_retry_delivery (SyAutomations  *self,
                                gint64          id,
                                GError        **error)
{
  if (!_sy_outbox_retry (self->outbox, id, error))
    return NULL;

  return _sy_automations_get_delivery (self, id, error);
}

JsonNode *
_sy_automations_delivery_metrics (SyAutomations  *self,
                                  GError        **error)
{
  static const char * const statuses[] = { "pending", "in_flight", "succeeded", "failed", "dead" };
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 counts[G_N_ELEMENTS (statuses)] = { 0 };
  gint64 done;

  guard.db = _sy_store_reader_acquire (self->store);
  stmt = _sy_sql_prepare (guard.db, "SELECT status, count(*) FROM deliveries GROUP BY status", error);
  if (stmt == NULL)
    return NULL;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
      if (g_str_equal ((const char *) sqlite3_column_text (stmt, 0), statuses[i]))
        counts[i] = sqlite3_column_int64 (stmt, 1);
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* Latency of the last 10 000 answered attempts. */
  stmt = _sy_sql_prepare (guard.db,
                          "SELECT latency_ms FROM (SELECT latency_ms FROM deliveries WHERE latency_ms IS NOT NULL "
                          "ORDER BY id DESC LIMIT 10000) ORDER BY latency_ms",
                          error);
  if (stmt == NULL)
    return NULL;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 v = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (latencies, v);
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "counts");
  json_builder_begin_object (b);
  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      json_builder_set_member_name (b, statuses[i]);
      json_builder_add_int_value (b, counts[i]);
    }
  json_builder_end_object (b);

  done = counts[2] + counts[4];
  json_builder_set_member_name (b, "success_rate");
  if (done > 0)
    json_builder_add_double_value (b, (double) counts[2] / done);
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "latency_ms");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "p50");
  if (latencies->len > 0)
    json_builder_add_int_value (b, g_array_index (latencies, gint64, (latencies->len - 1) / 2));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "p95");
  if (latencies->len > 0)
    json_builder_add_int_value (b, g_array_index (latencies, gint64, (guint) ((latencies->len - 1) * 0.95)));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "samples");
  json_builder_add_int_value (b, latencies->len);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "queue_depth");
  json_builder_add_int_value (b, counts[0] + counts[1] + counts[3]);
  json_builder_set_member_name (b, "breakers");
  json_builder_add_value (b, _sy_breakers_to_json (_sy_outbox_get_breakers (self->outbox)));
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

/* Annotations */

JsonNode *
_sy_automations_list_annotations (SyAutomations  *self,
                                  gint64          meter_id,
                                  gint64          from_ms,
                                  gint64          to_ms,
                                  gint64          limit,
                                  gint64          offset,
                                  gint64         *out_total,
                                  GError        **error)
{
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) count = NULL;
  g_autoptr(JsonArray) items = json_array_new ();
  JsonNode *node;

  guard.db = _sy_store_reader_acquire (self->store);
  count = _sy_sql_prepare (guard.db, "SELECT count(*) FROM annotations WHERE meter_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3", error);
  stmt = count ? _sy_sql_prepare (guard.db,
                                  "SELECT id, meter_id, ts_ms, text, rule_id, action_id, delivery_id, created_ms"
                                  " FROM annotations WHERE meter_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3"
                                  " ORDER BY ts_ms, id LIMIT ?4 OFFSET ?5", error) : NULL;
  if (stmt == NULL)
    return NULL;
  for (int pass = 0; pass < 2; pass++)
    {
      sqlite3_stmt *s = pass == 0 ? count : stmt;

      sqlite3_bind_int64 (s, 1, meter_id);
      sqlite3_bind_int64 (s, 2, from_ms);
      sqlite3_bind_int64 (s, 3, to_ms);
    }
  sqlite3_bind_int64 (stmt, 4, limit);
  sqlite3_bind_int64 (stmt, 5, offset);

  *out_total = sqlite3_step (count) == SQLITE_ROW ? sqlite3_column_int64 (count, 0) : 0;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 0));
      json_builder_set_member_name (b, "meter_id");
      json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 1));
      add_time (b, "timestamp", stmt, 2);
      add_text_or_null (b, "text", stmt, 3);
      add_int_or_null (b, "rule_id", stmt, 4);
      add_int_or_null (b, "action_id", stmt, 5);
      add_int_or_null (b, "delivery_id", stmt, 6);
      add_time (b, "created_at", stmt, 7);
      json_builder_end_object (b);
      json_array_add_element (items, json_builder_get_root (b));
    }

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, items);
  return node;
}

/* Approvals */

#define APPROVAL_COLUMNS "id, action_id, rule_id, delivery_id, command, " \
                         "CASE WHEN status = 'pending' AND expires_ms <= ?9 THEN 'expired' ELSE status END, " \
                         "requested_by, decided_by, reason, created_ms, expires_ms, decided_ms"

static JsonNode *
approval_row_to_json (sqlite3_stmt *stmt)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 0));
  json_builder_set_member_name (b, "action_id");
  json_builder_add_int_value (b, sqlite3_column_int64 (stmt, 1));
  add_int_or_null (b, "rule_id", stmt, 2);
  add_int_or_null (b, "delivery_id", stmt, 3);
  add_json_or_null (b, "command", stmt, 4);
  add_text_or_null (b, "status", stmt, 5);
  add_text_or_null (b, "requested_by", stmt, 6);
  add_text_or_null (b, "decided_by", stmt, 7);
  add_text_or_null (b, "reason", stmt, 8);
  add_time (b, "created_at", stmt, 9);
  add_time (b, "expires_at", stmt, 10);
  add_time (b, "decided_at", stmt, 11);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}

static JsonNode *
load_approval (sqlite3  *db,
               gint64    id,
               GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db, "SELECT " APPROVAL_COLUMNS " FROM automation_approvals WHERE id = ?1", error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 9, sy_time_now_ms ());
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No approval %" G_GINT64_FORMAT, id);
      return NULL;
    }

  return approval_row_to_json (stmt);
}

JsonNode *
_sy_automations_list_approvals (SyAutomations  *self,
                                const char     *status,
                                gint64          limit,
                                gint64          offset,
                                gint64         *out_total,
                                GError        **error)
{
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) count = NULL;
  g_autoptr(JsonArray) items = json_array_new ();
  static const char filter[] =
    " FROM automation_approvals WHERE (?1 IS NULL OR "
    "CASE WHEN status = 'pending' AND expires_ms <= ?9 THEN 'expired' ELSE status END = ?1)";
  g_autofree char *sql = g_strconcat ("SELECT " APPROVAL_COLUMNS, filter, " ORDER BY id DESC LIMIT ?2 OFFSET ?3", NULL);
  g_autofree char *count_sql = g_strconcat ("SELECT count(*)", filter, NULL);
  gint64 now = sy_time_now_ms ();
  JsonNode *node;

  guard.db = _sy_store_reader_acquire (self->store);
  count = _sy_sql_prepare (guard.db, count_sql, error);
  stmt = count ? _sy_sql_prepare (guard.db, sql, error) : NULL;
  if (stmt == NULL)
    return NULL;
  bind_text_or_null (count, 1, status);
  sqlite3_bind_int64 (count, 9, now);
  bind_text_or_null (stmt, 1, status);
  sqlite3_bind_int64 (stmt, 2, limit);
  sqlite3_bind_int64 (stmt, 3, offset);
  sqlite3_bind_int64 (stmt, 9, now);

  *out_total = sqlite3_step (count) == SQLITE_ROW ? sqlite3_column_int64 (count, 0) : 0;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    json_array_add_element (items, approval_row_to_json (stmt));

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, items);
  return node;
}

JsonNode *
_sy_automations_get_approval (SyAutomations  *self,
                              gint64          id,
                              GError        **error)
{
  g_auto(SyReaderGuard) guard = { self->store, NULL };

  guard.db = _sy_store_reader_acquire (self->store);
  return load_approval (guard.db, id, error);
}

typedef struct
{
  gint64      id;
  gboolean    approve;
  const char *client_id;
  const char *reason;
  JsonNode   *result;
} DecideWrite;

static gboolean
audit (sqlite3     *db,
       const char  *actor,
       const char  *what,
       gint64       object_id,
       const char  *detail,
       GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db,
                                                  "INSERT INTO automation_audit (ts_ms, actor, what, object_id, detail) "
                                                  "VALUES (?, ?, ?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, sy_time_now_ms ());
  bind_text_or_null (stmt, 2, actor);
  sqlite3_bind_text (stmt, 3, what, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, object_id);
  bind_text_or_null (stmt, 5, detail);

  return _sy_sql_check (db, sqlite3_step (stmt), "Writing the audit trail", error);
}

static gboolean
decide_write (SyWriteBatch  *batch,
              gpointer       data,
              GError       **error)
{
  DecideWrite *w = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *command = NULL;
  g_autofree char *status = NULL;
  g_autofree char *requested_by = NULL;
  gint64 now = sy_time_now_ms ();
  gint64 expires;

  stmt = _sy_sql_prepare (db, "SELECT status, requested_by, expires_ms, command FROM automation_approvals WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, w->id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No approval %" G_GINT64_FORMAT, w->id);
      return FALSE;
    }
  status = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  requested_by = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  expires = sqlite3_column_int64 (stmt, 2);
  command = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!g_str_equal (status, "pending"))
    {
      g_set_error (error, SY_ERROR, SY_ERROR_CONFLICT, "Approval %" G_GINT64_FORMAT " is %s, not pending", w->id, status);
      return FALSE;
    }
  if (expires <= now)
    {
      /* Record the expiry, then refuse (the expiry stays: its savepoint is ours, so write it in a
       * separate statement the caller can see through the error). */
      g_set_error (error, SY_ERROR, SY_ERROR_CONFLICT, "Approval %" G_GINT64_FORMAT " expired", w->id);
      return FALSE;
    }
  if (w->approve && requested_by != NULL && g_strcmp0 (requested_by, w->client_id) == 0)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_FORBIDDEN,
                   "A relay command needs a second person: client %s requested it and cannot approve it", w->client_id);
      return FALSE;
    }

  /* No MQTT yet: an approved command is recorded, not sent. */
  stmt = _sy_sql_prepare (db,
                          "UPDATE automation_approvals SET status = ?, decided_by = ?, reason = ?, decided_ms = ? WHERE id = ?",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, w->approve ? "recorded" : "rejected", -1, SQLITE_STATIC);
  bind_text_or_null (stmt, 2, w->client_id);
  bind_text_or_null (stmt, 3, w->reason);
  sqlite3_bind_int64 (stmt, 4, now);
  sqlite3_bind_int64 (stmt, 5, w->id);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Deciding the approval", error))
    return FALSE;

  if (!audit (db, w->client_id, w->approve ? "approval.approved" : "approval.rejected", w->id, command, error))
    return FALSE;
  if (w->approve && !audit (db, w->client_id, "relay_command.recorded", w->id, command, error))
    return FALSE;

  w->result = load_approval (db, w->id, error);
  return w->result != NULL;
}

JsonNode *
_sy_automations_decide_approval (SyAutomations  *self,
                                 gint64          id,
                                 gboolean        approve,
                                 const char     *client_id,
                                 const char     *reason,
                                 GError        **error)
{
  DecideWrite w = { id, approve, client_id, reason, NULL };

  if (!_sy_store_write_sync (self->store, decide_write, &w, error))
    {
      g_clear_pointer (&w.result, json_node_unref);
      return NULL;
    }

  return w.result;
}
