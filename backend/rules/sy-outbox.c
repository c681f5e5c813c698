/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-outbox"
#define _GNU_SOURCE 1          /* memfd_create */

#include "config.h"

#include <errno.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sy-auth-private.h"
#include "sy-error.h"
#include "sy-outbox-private.h"
#include "sy-time.h"

/* The outbox keeps an in-memory queue of the deliveries that are due some time (pending or
 * failed with a retry scheduled), ordered by next attempt, mirroring the `deliveries` table. Every
 * state change is written through the store's writer (asynchronously: the backend thread never
 * waits on SQLite); the queue is rebuilt from the table at start-up. */

#define MAX_RUNNING        32
#define MAX_RETRY_AFTER_MS (24 * 3600 * 1000)

typedef struct
{
  gint64         id;
  gint64         action_id;
  gint64         rule_id;
  char          *payload;
  char          *message_id;
  guint          attempts;
  gint64         next_ms;
  GSequenceIter *iter;             /* in the queue, or NULL */
} Delivery;

struct _SyOutbox
{
  gatomicrefcount       ref_count;

  SyStore              *store;
  SyEventBus           *bus;
  GMainContext         *context;
  GArray               *schedule_ms;      /* gint64 delay before attempt i+1 */
  char                **allow_list;
  char                 *plugins_dir;      /* canonical, or NULL */
  char                 *smtp_relay;       /* host:port, or NULL */
  char                 *smtp_from;
  gint64                approval_ttl_ms;
  SyBreakers           *breakers;
  SyOutboxLookupAction  lookup;
  gpointer              lookup_data;

  SoupSession          *session;
  GResolver            *resolver;
  GCancellable         *cancellable;
  GSequence            *queue;            /* Delivery, by (next_ms, id) */
  GHashTable           *queued;           /* id -> Delivery (queued ones) */
  guint                 running;
  GSource              *timer;
  gboolean              shut_down;

  gint                  queue_length;     /* atomic: queued + running */
  gint                  completed;        /* atomic: succeeded or dead */
};

static void pump (SyOutbox *self);

static SyOutbox *
outbox_ref (SyOutbox *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
outbox_unref (SyOutbox *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_clear_pointer (&self->schedule_ms, g_array_unref);
  g_clear_pointer (&self->allow_list, g_strfreev);
  g_clear_pointer (&self->plugins_dir, g_free);
  g_clear_pointer (&self->smtp_relay, g_free);
  g_clear_pointer (&self->smtp_from, g_free);
  g_clear_pointer (&self->breakers, _sy_breakers_free);
  g_clear_pointer (&self->queue, g_sequence_free);
  g_clear_pointer (&self->queued, g_hash_table_unref);
  g_clear_object (&self->session);
  g_clear_object (&self->resolver);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->bus);
  g_clear_object (&self->store);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self);
}

static void
delivery_free (Delivery *d)
{
  g_free (d->payload);
  g_free (d->message_id);
  g_free (d);
}

void
_sy_delivery_new_free (SyDeliveryNew *delivery)
{
  g_free (delivery->event_type);
  g_free (delivery->event);
  g_free (delivery->payload);
  g_free (delivery);
}

GArray *
_sy_outbox_parse_schedule (const char  *text,
                           GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text ? text : SY_OUTBOX_DEFAULT_SCHEDULE, ",", 64);
  g_autoptr(GArray) schedule = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *end = NULL;
      double seconds = g_ascii_strtod (g_strstrip (parts[i]), &end);
      gint64 ms;

      if (end == parts[i] || *end != '\0' || !(seconds >= 0 && seconds <= 7 * 86400))
        {
          g_set_error (error, SY_ERROR, SY_ERROR_INVALID,
                       "Retry schedule: “%s” is not a number of seconds (0 to 604800)", parts[i]);
          return NULL;
        }
      ms = (gint64) (seconds * 1000);
      g_array_append_val (schedule, ms);
    }

  if (schedule->len == 0)
    {
      g_set_error_literal (error, SY_ERROR, SY_ERROR_INVALID, "Retry schedule: at least one attempt");
      return NULL;
    }

  return g_steal_pointer (&schedule);
}

static gint
compare_delivery (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  const Delivery *da = a;
  const Delivery *db = b;

  if (da->next_ms != db->next_ms)
    return da->next_ms < db->next_ms ? -1 : 1;
  return da->id < db->id ? -1 : da->id > db->id;
}

static void
enqueue (SyOutbox *self,
         Delivery *d)
{
  Delivery *old = g_hash_table_lookup (self->queued, &d->id);

  if (old != NULL)
    {
      g_sequence_remove (old->iter);
      g_hash_table_remove (self->queued, &d->id);
      delivery_free (old);
      g_atomic_int_add (&self->queue_length, -1);
    }

  d->iter = g_sequence_insert_sorted (self->queue, d, compare_delivery, NULL);
  g_hash_table_insert (self->queued, &d->id, d);
  g_atomic_int_inc (&self->queue_length);
}

SyOutbox *
_sy_outbox_new (SyStore                   *store,
                SyEventBus                *bus,
                const SyAutomationsConfig *config,
                SyOutboxLookupAction       lookup,
                gpointer                   lookup_data,
                GError                   **error)
{
  g_auto(SyReaderGuard) guard = { store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) schedule = NULL;
  SyOutbox *self;
  gint64 now = sy_time_now_ms ();

  schedule = _sy_outbox_parse_schedule (config->retry_schedule, error);
  if (schedule == NULL)
    return NULL;

  self = g_new0 (SyOutbox, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->store = g_object_ref (store);
  self->bus = g_object_ref (bus);
  self->context = g_main_context_ref_thread_default ();
  self->schedule_ms = g_steal_pointer (&schedule);
  self->allow_list = g_strsplit_set (config->allow_list ? config->allow_list : "", ", ", -1);
  self->approval_ttl_ms = (config->approval_ttl_s ? config->approval_ttl_s : 900) * (gint64) 1000;
  if (config->smtp_relay != NULL && config->smtp_relay[0] != '\0')
    {
      self->smtp_relay = g_strdup (config->smtp_relay);
      self->smtp_from = g_strdup (config->smtp_from ? config->smtp_from : "switchyard@localhost");
    }
  if (config->plugins_dir != NULL && config->plugins_dir[0] != '\0')
    self->plugins_dir = realpath (config->plugins_dir, NULL);
  self->breakers = _sy_breakers_new (config->breaker_threshold ? config->breaker_threshold : 5,
                                     config->breaker_cooldown_ms ? config->breaker_cooldown_ms : 60000);
  self->lookup = lookup;
  self->lookup_data = lookup_data;
  self->cancellable = g_cancellable_new ();
  self->resolver = g_resolver_get_default ();
  self->queue = g_sequence_new (NULL);
  self->queued = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->session = soup_session_new_with_options ("user-agent", "switchyard-webhooks/" PACKAGE_VERSION,
                                                 "max-conns-per-host", 16,
                                                 "max-conns", 64,
                                                 NULL);
  /* Never through a proxy: the SSRF guard checks the addresses we connect to. */
  soup_session_set_proxy_resolver (self->session, NULL);

  guard.db = _sy_store_reader_acquire (store);
  stmt = _sy_sql_prepare (guard.db,
                          "SELECT id, action_id, rule_id, payload, message_id, attempts, next_attempt_at, status "
                          "FROM deliveries WHERE status IN ('pending', 'in_flight', 'failed') ORDER BY id",
                          error);
  if (stmt == NULL)
    {
      outbox_unref (self);
      return NULL;
    }

  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      Delivery *d = g_new0 (Delivery, 1);

      d->id = sqlite3_column_int64 (stmt, 0);
      d->action_id = sqlite3_column_int64 (stmt, 1);
      d->rule_id = sqlite3_column_int64 (stmt, 2);
      d->payload = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      d->message_id = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
      d->attempts = sqlite3_column_int (stmt, 5);
      d->next_ms = sqlite3_column_type (stmt, 6) == SQLITE_NULL ? now : sqlite3_column_int64 (stmt, 6);
      /* Interrupted mid-attempt: try again now (receivers dedupe on webhook-id). */
      if (g_str_equal ((const char *) sqlite3_column_text (stmt, 7), "in_flight"))
        d->next_ms = now;
      enqueue (self, d);
    }

  if (g_sequence_get_length (self->queue) > 0)
    g_message ("Resuming %d pending deliveries", g_sequence_get_length (self->queue));

  pump (self);
  return self;
}

void
_sy_outbox_free (SyOutbox *self)
{
  if (self == NULL)
    return;

  self->shut_down = TRUE;
  g_cancellable_cancel (self->cancellable);
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
  if (self->queue != NULL)
    {
      g_hash_table_remove_all (self->queued);
      for (GSequenceIter *it = g_sequence_get_begin_iter (self->queue); !g_sequence_iter_is_end (it);
           it = g_sequence_iter_next (it))
        delivery_free (g_sequence_get (it));
      g_sequence_remove_range (g_sequence_get_begin_iter (self->queue), g_sequence_get_end_iter (self->queue));
    }
  outbox_unref (self);
}

SyBreakers *
_sy_outbox_get_breakers (SyOutbox *self)
{
  return self->breakers;
}

guint
_sy_outbox_get_queue_length (SyOutbox *self)
{
  return (guint) g_atomic_int_get (&self->queue_length);
}

guint64
_sy_outbox_get_completed (SyOutbox *self)
{
  return (guint) g_atomic_int_get (&self->completed);
}

/* Writes */

typedef enum
{
  EXTRA_NONE,
  EXTRA_ANNOTATION,
  EXTRA_APPROVAL,
  EXTRA_DISABLE_ACTION,
} Extra;

typedef struct
{
  gint64      delivery_id;
  const char *status;
  guint       attempts;
  gint64      next_ms;            /* 0: NULL */
  char       *last_error;
  guint       response_code;      /* 0: NULL */
  gint64      latency_ms;         /* < 0: NULL */
  Extra       extra;
  gint64      action_id;
  gint64      rule_id;
  char       *payload;
  gint64      ttl_ms;
} UpdateJob;

static void
update_job_free (gpointer data)
{
  UpdateJob *job = data;

  g_free (job->last_error);
  g_free (job->payload);
  g_free (job);
}

static gboolean
write_extra (sqlite3    *db,
             UpdateJob  *job,
             gint64      now,
             GError    **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) payload = NULL;

  switch (job->extra)
    {
    case EXTRA_NONE:
      return TRUE;

    case EXTRA_ANNOTATION:
      {
        JsonObject *p;

        payload = json_from_string (job->payload, NULL);
        if (payload == NULL || !JSON_NODE_HOLDS_OBJECT (payload))
          return TRUE;
        p = json_node_get_object (payload);
        stmt = _sy_sql_prepare (db,
                                "INSERT INTO annotations (meter_id, ts_ms, text, rule_id, action_id, delivery_id, created_ms) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?)", error);
        if (stmt == NULL)
          return FALSE;
        sqlite3_bind_int64 (stmt, 1, json_object_get_int_member_with_default (p, "meter_id", 0));
        sqlite3_bind_int64 (stmt, 2, json_object_get_int_member_with_default (p, "ts_ms", now));
        sqlite3_bind_text (stmt, 3, json_object_get_string_member_with_default (p, "text", ""), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64 (stmt, 4, job->rule_id);
        sqlite3_bind_int64 (stmt, 5, job->action_id);
        sqlite3_bind_int64 (stmt, 6, job->delivery_id);
        sqlite3_bind_int64 (stmt, 7, now);
        return _sy_sql_check (db, sqlite3_step (stmt), "Storing the annotation", error);
      }

    case EXTRA_APPROVAL:
      stmt = _sy_sql_prepare (db,
                              "INSERT INTO automation_approvals (action_id, rule_id, delivery_id, command, status, "
                              "requested_by, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, 'pending', "
                              "(SELECT created_by FROM automation_rules WHERE id = ?2), ?5, ?6)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, job->action_id);
      sqlite3_bind_int64 (stmt, 2, job->rule_id);
      sqlite3_bind_int64 (stmt, 3, job->delivery_id);
      sqlite3_bind_text (stmt, 4, job->payload, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 5, now);
      sqlite3_bind_int64 (stmt, 6, now + job->ttl_ms);
      if (!_sy_sql_check (db, sqlite3_step (stmt), "Requesting the approval", error))
        return FALSE;
      g_clear_pointer (&stmt, sqlite3_finalize);
      stmt = _sy_sql_prepare (db,
                              "INSERT INTO automation_audit (ts_ms, actor, what, object_id, detail) "
                              "VALUES (?, 'automations', 'approval.requested', ?, ?)", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, now);
      sqlite3_bind_int64 (stmt, 2, sqlite3_last_insert_rowid (db));
      sqlite3_bind_text (stmt, 3, job->payload, -1, SQLITE_STATIC);
      return _sy_sql_check (db, sqlite3_step (stmt), "Auditing the approval", error);

    case EXTRA_DISABLE_ACTION:
      stmt = _sy_sql_prepare (db,
                              "UPDATE automation_actions SET enabled = 0, disabled_reason = ?, updated_ms = ? WHERE id = ?",
                              error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, "the receiver answered 410 Gone", -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, now);
      sqlite3_bind_int64 (stmt, 3, job->action_id);
      return _sy_sql_check (db, sqlite3_step (stmt), "Disabling the action", error);

    default:
      g_assert_not_reached ();
    }
}

static gboolean
update_write (SyWriteBatch  *batch,
              gpointer       data,
              GError       **error)
{
  UpdateJob *job = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now = sy_time_now_ms ();

  if (!write_extra (db, job, now, error))
    return FALSE;

  stmt = _sy_sql_prepare (db,
                          "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, "
                          "response_code = coalesce (?, response_code), latency_ms = coalesce (?, latency_ms), "
                          "updated_ms = ? WHERE id = ?",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, job->status, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, job->attempts);
  if (job->next_ms > 0)
    sqlite3_bind_int64 (stmt, 3, job->next_ms);
  if (job->last_error != NULL)
    sqlite3_bind_text (stmt, 4, job->last_error, -1, SQLITE_STATIC);
  if (job->response_code > 0)
    sqlite3_bind_int (stmt, 5, job->response_code);
  if (job->latency_ms >= 0)
    sqlite3_bind_int64 (stmt, 6, job->latency_ms);
  sqlite3_bind_int64 (stmt, 7, now);
  sqlite3_bind_int64 (stmt, 8, job->delivery_id);

  return _sy_sql_check (db, sqlite3_step (stmt), "Updating the delivery", error);
}

static void
update_done (const GError *error,
             gpointer      user_data)
{
  if (error != NULL)
    g_warning ("Recording a delivery: %s", error->message);
}

static UpdateJob *
update_job_new (Delivery   *d,
                const char *status)
{
  UpdateJob *job = g_new0 (UpdateJob, 1);

  job->delivery_id = d->id;
  job->status = status;
  job->attempts = d->attempts;
  job->latency_ms = -1;
  job->action_id = d->action_id;
  job->rule_id = d->rule_id;

  return job;
}

static void
write_update (SyOutbox  *self,
              UpdateJob *job)
{
  _sy_store_write (self->store, 1, update_write, job, update_job_free, NULL, update_done, NULL);
}

/* Final states */

static void
finish (SyOutbox   *self,
        Delivery   *d,
        UpdateJob  *job)
{
  write_update (self, job);
  g_atomic_int_add (&self->queue_length, -1);
  g_atomic_int_inc (&self->completed);
  delivery_free (d);
}

static void
finish_dead (SyOutbox   *self,
             Delivery   *d,
             const char *reason)
{
  UpdateJob *job = update_job_new (d, "dead");

  job->last_error = g_strdup (reason);
  finish (self, d, job);
}

/* A failed attempt: retry on the schedule (at least @retry_after_ms later) or give up. */
static void
schedule_retry (SyOutbox   *self,
                Delivery   *d,
                const char *reason,
                guint       response_code,
                gint64      latency_ms,
                gint64      retry_after_ms)
{
  UpdateJob *job;
  gint64 delay;

  if (d->attempts >= self->schedule_ms->len)
    {
      g_autofree char *text = g_strdup_printf ("gave up after %u attempts: %s", d->attempts, reason);

      job = update_job_new (d, "dead");
      job->last_error = g_steal_pointer (&text);
      job->response_code = response_code;
      job->latency_ms = latency_ms;
      finish (self, d, job);
      return;
    }

  delay = g_array_index (self->schedule_ms, gint64, d->attempts);
  /* ±20 % jitter so that a burst of failures does not retry in lockstep. */
  if (delay > 0)
    delay = (gint64) (delay * g_random_double_range (0.8, 1.2));
  delay = MAX (delay, MIN (retry_after_ms, MAX_RETRY_AFTER_MS));

  d->next_ms = sy_time_now_ms () + delay;

  job = update_job_new (d, "failed");
  job->next_ms = d->next_ms;
  job->last_error = g_strdup (reason);
  job->response_code = response_code;
  job->latency_ms = latency_ms;
  write_update (self, job);

  g_atomic_int_add (&self->queue_length, -1);
  enqueue (self, d);
}

/* Not an attempt: the breaker is open. */
static void
postpone (SyOutbox   *self,
          Delivery   *d,
          gint64      at_ms,
          const char *reason)
{
  UpdateJob *job = update_job_new (d, d->attempts > 0 ? "failed" : "pending");

  d->next_ms = at_ms;
  job->next_ms = at_ms;
  job->last_error = g_strdup (reason);
  write_update (self, job);

  g_atomic_int_add (&self->queue_length, -1);
  enqueue (self, d);
}

/* Webhooks */

typedef struct
{
  SyOutbox     *self;
  Delivery     *d;
  SyAction     *action;
  char         *destination;
  char         *host;
  SoupMessage  *msg;
  GCancellable *cancellable;
  gulong        cancel_id;
  GSource      *timeout;
  gint64        start_us;
  gboolean      timed_out;
  char         *refused;          /* the connection went to a refused address */
} Attempt;

static void
attempt_free (Attempt *a)
{
  if (a->timeout != NULL)
    {
      g_source_destroy (a->timeout);
      g_source_unref (a->timeout);
    }
  if (a->cancel_id != 0)
    g_cancellable_disconnect (a->self->cancellable, a->cancel_id);
  g_clear_object (&a->msg);
  g_clear_object (&a->cancellable);
  g_clear_pointer (&a->action, _sy_action_unref);
  g_free (a->destination);
  g_free (a->host);
  g_free (a->refused);
  outbox_unref (a->self);
  g_free (a);
}

static gboolean
in_cidr (GInetAddress *address,
         const char   *cidr)
{
  g_autoptr(GInetAddressMask) mask = g_inet_address_mask_new_from_string (cidr, NULL);

  return mask != NULL &&
         g_inet_address_mask_get_family (mask) == g_inet_address_get_family (address) &&
         g_inet_address_mask_matches (mask, address);
}

gboolean
_sy_outbox_address_allowed (GInetAddress  *address,
                            const char    *host,
                            char         **allow_list)
{
  g_autofree char *text = g_inet_address_to_string (address);
  static const char * const blocked[] = {
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4",
    "fc00::/7", "64:ff9b::/96", "::ffff:0:0/96",
  };
  gboolean internal;

  for (guint i = 0; allow_list != NULL && allow_list[i] != NULL; i++)
    {
      if (allow_list[i][0] == '\0')
        continue;
      if (g_ascii_strcasecmp (allow_list[i], host) == 0 || g_str_equal (allow_list[i], text) ||
          (strchr (allow_list[i], '/') != NULL && in_cidr (address, allow_list[i])))
        return TRUE;
    }

  internal = g_inet_address_get_is_any (address) ||
             g_inet_address_get_is_loopback (address) ||
             g_inet_address_get_is_link_local (address) ||
             g_inet_address_get_is_site_local (address) ||
             g_inet_address_get_is_multicast (address);
  for (guint i = 0; !internal && i < G_N_ELEMENTS (blocked); i++)
    internal = in_cidr (address, blocked[i]);

  return !internal;
}

static void
attempt_failed (Attempt    *a,
                const char *reason,
                guint       code,
                gboolean    breaker_failure,
                gint64      retry_after_ms)
{
  gint64 latency = (g_get_monotonic_time () - a->start_us) / 1000;

  if (breaker_failure)
    _sy_breakers_record (a->self->breakers, a->destination, FALSE, sy_time_now_ms ());
  a->self->running--;
  schedule_retry (a->self, a->d, reason, code, a->start_us ? latency : -1, retry_after_ms);
  a->d = NULL;
}

static gint64
parse_retry_after (SoupMessage *msg)
{
  const char *text = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Retry-After");
  guint64 seconds;

  if (text == NULL)
    return 0;
  if (g_ascii_string_to_unsigned (text, 10, 0, 86400, &seconds, NULL))
    return (gint64) seconds * 1000;

  {
    g_autoptr(GDateTime) when = soup_date_time_new_from_http_string (text);

    if (when != NULL)
      return MAX (0, g_date_time_to_unix (when) * 1000 - sy_time_now_ms ());
  }

  return 0;
}

static void
sent_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Attempt *a = user_data;
  SyOutbox *self = a->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  gint64 latency;
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);

  if (self->shut_down)
    {
      /* Stays in_flight in SQLite: the next start retries it. */
      delivery_free (a->d);
      attempt_free (a);
      return;
    }

  latency = (g_get_monotonic_time () - a->start_us) / 1000;

  if (a->refused != NULL)
    {
      self->running--;
      finish_dead (self, g_steal_pointer (&a->d), a->refused);
      goto out;
    }

  if (body == NULL)
    {
      g_autofree char *reason = a->timed_out
        ? g_strdup_printf ("timed out after %" G_GINT64_FORMAT " s",
                           json_object_get_int_member_with_default (json_node_get_object (a->action->config), "timeout_s", 10))
        : g_strdup_printf ("network error: %s", error->message);

      attempt_failed (a, reason, 0, TRUE, 0);
      goto out;
    }

  status = soup_message_get_status (a->msg);

  if (status >= 200 && status < 300)
    {
      UpdateJob *job = update_job_new (a->d, "succeeded");

      _sy_breakers_record (self->breakers, a->destination, TRUE, sy_time_now_ms ());
      job->response_code = status;
      job->latency_ms = latency;
      self->running--;
      finish (self, g_steal_pointer (&a->d), job);
    }
  else if (status == 410)
    {
      UpdateJob *job = update_job_new (a->d, "dead");

      _sy_breakers_record (self->breakers, a->destination, TRUE, sy_time_now_ms ());
      g_atomic_int_set (&a->action->enabled, 0);
      job->response_code = status;
      job->latency_ms = latency;
      job->last_error = g_strdup ("410 Gone: the action is disabled");
      job->extra = EXTRA_DISABLE_ACTION;
      self->running--;
      g_message ("Action %" G_GINT64_FORMAT " disabled: %s answered 410 Gone", a->action->id, a->destination);
      finish (self, g_steal_pointer (&a->d), job);
    }
  else
    {
      g_autofree char *reason = g_strdup_printf ("HTTP %u %s", status,
                                                 soup_message_get_reason_phrase (a->msg) ?: "");

      /* 429 is the receiver pacing us, not a broken destination. */
      attempt_failed (a, reason, status, status >= 500 || status == 408, parse_retry_after (a->msg));
    }

out:
  attempt_free (a);
  pump (self);
}

/* The address libsoup actually connected to, checked again before a byte of the request goes
 * out: a name that resolved to a public address for the check and to an internal one for the
 * connection (DNS rebinding) is refused here. */
static void
network_event_cb (SoupMessage        *msg,
                  GSocketClientEvent  event,
                  GIOStream          *connection,
                  gpointer            user_data)
{
  Attempt *a = user_data;
  g_autoptr(GSocketAddress) remote = NULL;
  GInetAddress *address;

  if (event != G_SOCKET_CLIENT_CONNECTED || !G_IS_SOCKET_CONNECTION (connection))
    return;

  remote = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION (connection), NULL);
  if (remote == NULL || !G_IS_INET_SOCKET_ADDRESS (remote))
    return;

  address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
  if (!_sy_outbox_address_allowed (address, a->host, a->self->allow_list))
    {
      g_autofree char *text = g_inet_address_to_string (address);

      g_free (a->refused);
      a->refused = g_strdup_printf ("refused destination: %s connected to %s, a loopback, private or link-local "
                                    "address (allow-list it in the configuration)", a->host, text);
      g_cancellable_cancel (a->cancellable);
    }
}

static gboolean
timeout_cb (gpointer user_data)
{
  Attempt *a = user_data;

  a->timed_out = TRUE;
  g_cancellable_cancel (a->cancellable);
  g_clear_pointer (&a->timeout, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
cancel_attempt_cb (GCancellable *outbox_cancellable,
                   gpointer      user_data)
{
  g_cancellable_cancel (user_data);
}

static char *
sign (const char *secret,
      const char *msg_id,
      gint64      ts,
      const char *body)
{
  g_autoptr(GHmac) hmac = NULL;
  g_autofree guchar *key = NULL;
  g_autofree char *ts_text = g_strdup_printf ("%" G_GINT64_FORMAT, ts);
  gsize key_len;
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  g_autofree char *b64 = NULL;

  /* Standard Webhooks secrets are "whsec_<base64 key>"; anything else is the key itself. */
  if (g_str_has_prefix (secret, "whsec_"))
    key = g_base64_decode (secret + 6, &key_len);
  else
    {
      key = (guchar *) g_strdup (secret);
      key_len = strlen (secret);
    }

  hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  g_hmac_update (hmac, (const guchar *) msg_id, -1);
  g_hmac_update (hmac, (const guchar *) ".", 1);
  g_hmac_update (hmac, (const guchar *) ts_text, -1);
  g_hmac_update (hmac, (const guchar *) ".", 1);
  g_hmac_update (hmac, (const guchar *) body, -1);
  g_hmac_get_digest (hmac, digest, &digest_len);
  b64 = g_base64_encode (digest, digest_len);

  return g_strdup_printf ("v1,%s", b64);
}

static void
send_attempt (Attempt *a)
{
  SyOutbox *self = a->self;
  JsonObject *cfg = json_node_get_object (a->action->config);
  const char *url = json_object_get_string_member (cfg, "url");
  const char *method = json_object_get_string_member_with_default (cfg, "method", "POST");
  const char *secret = json_object_get_string_member_with_default (cfg, "secret", NULL);
  gint64 timeout_s = json_object_get_int_member_with_default (cfg, "timeout_s", 10);
  gint64 retry_at = 0;
  gint64 ts = sy_time_now_ms () / 1000;
  SoupMessageHeaders *headers;
  g_autoptr(GBytes) body = NULL;
  UpdateJob *job;

  if (!_sy_breakers_allow (self->breakers, a->destination, sy_time_now_ms (), &retry_at))
    {
      g_autofree char *reason = g_strdup_printf ("circuit open for %s", a->destination);

      self->running--;
      postpone (self, g_steal_pointer (&a->d), retry_at, reason);
      attempt_free (a);
      pump (self);
      return;
    }

  a->d->attempts++;
  job = update_job_new (a->d, "in_flight");
  write_update (self, job);

  a->msg = soup_message_new (method, url);
  if (a->msg == NULL)
    {
      self->running--;
      finish_dead (self, g_steal_pointer (&a->d), "invalid URL");
      attempt_free (a);
      pump (self);
      return;
    }

  g_signal_connect (a->msg, "network-event", G_CALLBACK (network_event_cb), a);
  headers = soup_message_get_request_headers (a->msg);
  if (json_object_has_member (cfg, "headers"))
    {
      JsonObject *h = json_object_get_object_member (cfg, "headers");
      g_autoptr(GList) names = json_object_get_members (h);

      for (GList *l = names; l != NULL; l = l->next)
        soup_message_headers_replace (headers, l->data, json_object_get_string_member (h, l->data));
    }

  {
    g_autofree char *ts_text = g_strdup_printf ("%" G_GINT64_FORMAT, ts);

    soup_message_headers_replace (headers, "webhook-id", a->d->message_id);
    soup_message_headers_replace (headers, "webhook-timestamp", ts_text);
    if (secret != NULL)
      {
        g_autofree char *signature = sign (secret, a->d->message_id, ts, a->d->payload);

        soup_message_headers_replace (headers, "webhook-signature", signature);
      }
  }

  body = g_bytes_new (a->d->payload, strlen (a->d->payload));
  soup_message_set_request_body_from_bytes (a->msg, "application/json", body);

  a->cancellable = g_cancellable_new ();
  a->cancel_id = g_cancellable_connect (self->cancellable, G_CALLBACK (cancel_attempt_cb),
                                        g_object_ref (a->cancellable), g_object_unref);
  a->timeout = g_timeout_source_new ((guint) timeout_s * 1000);
  g_source_set_callback (a->timeout, timeout_cb, a, NULL);
  g_source_attach (a->timeout, self->context);
  a->start_us = g_get_monotonic_time ();

  soup_session_send_and_read_async (self->session, a->msg, G_PRIORITY_DEFAULT, a->cancellable, sent_cb, a);
}

static gboolean
check_addresses (Attempt  *a,
                 GList    *addresses,
                 char    **out_reason)
{
  for (GList *l = addresses; l != NULL; l = l->next)
    {
      if (!_sy_outbox_address_allowed (l->data, a->host, a->self->allow_list))
        {
          g_autofree char *text = g_inet_address_to_string (l->data);

          *out_reason = g_strdup_printf ("refused destination: %s resolves to %s, a loopback, private or "
                                         "link-local address (allow-list it in the configuration)",
                                         a->host, text);
          return FALSE;
        }
    }

  return TRUE;
}

static void
resolved_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Attempt *a = user_data;
  SyOutbox *self = a->self;
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  GList *addresses;

  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (object), result, &error);

  if (self->shut_down)
    {
      g_resolver_free_addresses (addresses);
      delivery_free (a->d);
      attempt_free (a);
      return;
    }

  if (addresses == NULL)
    {
      g_autofree char *text = g_strdup_printf ("cannot resolve %s: %s", a->host, error->message);

      a->d->attempts++;
      attempt_failed (a, text, 0, TRUE, 0);
      attempt_free (a);
      pump (self);
      return;
    }

  if (!check_addresses (a, addresses, &reason))
    {
      g_resolver_free_addresses (addresses);
      a->d->attempts++;
      self->running--;
      finish_dead (self, g_steal_pointer (&a->d), reason);
      attempt_free (a);
      pump (self);
      return;
    }

  g_resolver_free_addresses (addresses);
  send_attempt (a);
}

static void
start_webhook (SyOutbox *self,
               Delivery *d,
               SyAction *action)
{
  JsonObject *cfg = json_node_get_object (action->config);
  g_autoptr(GUri) uri = g_uri_parse (json_object_get_string_member (cfg, "url"), G_URI_FLAGS_NONE, NULL);
  g_autoptr(GInetAddress) literal = NULL;
  Attempt *a;

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    {
      self->running--;
      finish_dead (self, d, "invalid URL");
      return;
    }

  a = g_new0 (Attempt, 1);
  a->self = outbox_ref (self);
  a->d = d;
  a->action = _sy_action_ref (action);
  a->destination = _sy_webhook_destination (json_object_get_string_member (cfg, "url"));
  a->host = g_strdup (g_uri_get_host (uri));

  literal = g_inet_address_new_from_string (a->host);
  if (literal != NULL)
    {
      GList one = { literal, NULL, NULL };
      g_autofree char *reason = NULL;

      if (!check_addresses (a, &one, &reason))
        {
          a->d->attempts++;
          self->running--;
          finish_dead (self, g_steal_pointer (&a->d), reason);
          attempt_free (a);
          return;
        }
      send_attempt (a);
      return;
    }

  g_resolver_lookup_by_name_async (self->resolver, a->host, self->cancellable, resolved_cb, a);
}

/* Plugins: an executable of the plugins directory gets the payload ({"plugin", "input"}) on
 * stdin, within a time limit (killed after timeout_s) and an output limit (killed when stdout
 * exceeds max_output_bytes). Exit status 0 is success; another status or a timeout is a failed
 * attempt (retried on the schedule); too much output is final. stdin is a memfd, not a pipe, so
 * that a plugin that does not read it cannot SIGPIPE the daemon. */

typedef struct
{
  SyOutbox     *self;
  Delivery     *d;
  char         *plugin;
  GSubprocess  *process;
  GInputStream *stdout_stream;
  GCancellable *cancellable;
  gulong        cancel_id;
  GSource      *timeout;
  GByteArray   *output;
  gsize         max_output;
  gint64        timeout_s;
  gint64        start_us;
  guint         pending;          /* the read loop and the wait */
  gboolean      timed_out;
  gboolean      too_much;
} PluginRun;

static void
plugin_run_free (PluginRun *run)
{
  if (run->timeout != NULL)
    {
      g_source_destroy (run->timeout);
      g_source_unref (run->timeout);
    }
  if (run->cancel_id != 0)
    g_cancellable_disconnect (run->self->cancellable, run->cancel_id);
  g_clear_object (&run->stdout_stream);
  g_clear_object (&run->process);
  g_clear_object (&run->cancellable);
  g_byte_array_unref (run->output);
  g_free (run->plugin);
  outbox_unref (run->self);
  g_free (run);
}

static void
plugin_finished (PluginRun *run)
{
  SyOutbox *self = run->self;
  gint64 latency = (g_get_monotonic_time () - run->start_us) / 1000;

  if (self->shut_down)
    {
      delivery_free (run->d);
      plugin_run_free (run);
      return;
    }

  self->running--;

  if (run->too_much)
    {
      UpdateJob *job = update_job_new (run->d, "dead");

      job->last_error = g_strdup_printf ("plugin %s wrote more than %" G_GSIZE_FORMAT " bytes and was killed",
                                         run->plugin, run->max_output);
      job->latency_ms = latency;
      finish (self, g_steal_pointer (&run->d), job);
    }
  else if (run->timed_out)
    {
      g_autofree char *reason = g_strdup_printf ("plugin %s timed out after %" G_GINT64_FORMAT " s",
                                                 run->plugin, run->timeout_s);

      schedule_retry (self, g_steal_pointer (&run->d), reason, 0, latency, 0);
    }
  else if (g_subprocess_get_if_exited (run->process) && g_subprocess_get_exit_status (run->process) == 0)
    {
      UpdateJob *job = update_job_new (run->d, "succeeded");

      job->latency_ms = latency;
      finish (self, g_steal_pointer (&run->d), job);
    }
  else
    {
      g_autofree char *head = g_strndup ((const char *) run->output->data, MIN (run->output->len, 200));
      g_autofree char *reason = NULL;

      g_strdelimit (head, "\r\n", ' ');
      if (g_subprocess_get_if_exited (run->process))
        reason = g_strdup_printf ("plugin %s exited with status %d: %s", run->plugin,
                                  g_subprocess_get_exit_status (run->process), head);
      else
        reason = g_strdup_printf ("plugin %s was killed by signal %d", run->plugin,
                                  g_subprocess_get_term_sig (run->process));
      schedule_retry (self, g_steal_pointer (&run->d), reason, 0, latency, 0);
    }

  plugin_run_free (run);
  pump (self);
}

static void
plugin_step_done (PluginRun *run)
{
  if (--run->pending == 0)
    plugin_finished (run);
}

static void plugin_read (PluginRun *run);

static void
plugin_read_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  PluginRun *run = user_data;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result, NULL);

  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      plugin_step_done (run);
      return;
    }

  if (run->output->len + g_bytes_get_size (bytes) > run->max_output)
    {
      run->too_much = TRUE;
      g_subprocess_force_exit (run->process);
      plugin_step_done (run);
      return;
    }

  g_byte_array_append (run->output, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  plugin_read (run);
}

static void
plugin_read (PluginRun *run)
{
  g_input_stream_read_bytes_async (run->stdout_stream, 8192, G_PRIORITY_DEFAULT, run->cancellable,
                                   plugin_read_cb, run);
}

static void
plugin_wait_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  PluginRun *run = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  plugin_step_done (run);
}

static gboolean
plugin_timeout_cb (gpointer user_data)
{
  PluginRun *run = user_data;

  run->timed_out = TRUE;
  g_subprocess_force_exit (run->process);
  g_clear_pointer (&run->timeout, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
plugin_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  g_subprocess_force_exit (user_data);
}

/* The plugin's path, or NULL with the reason. */
static char *
plugin_path (SyOutbox    *self,
             const char  *plugin,
             char       **out_reason)
{
  g_autofree char *joined = NULL;
  g_autofree char *real = NULL;

  if (self->plugins_dir == NULL)
    {
      *out_reason = g_strdup ("not configured: no plugins directory (switchyardd --plugins-dir)");
      return NULL;
    }

  joined = g_build_filename (self->plugins_dir, plugin, NULL);
  real = realpath (joined, NULL);
  if (real == NULL || !g_str_has_prefix (real, self->plugins_dir) || real[strlen (self->plugins_dir)] != '/' ||
      !g_file_test (real, G_FILE_TEST_IS_REGULAR) || access (real, X_OK) != 0)
    {
      *out_reason = g_strdup_printf ("plugin %s is not an executable file of %s", plugin, self->plugins_dir);
      return NULL;
    }

  return g_steal_pointer (&real);
}

static void
start_plugin (SyOutbox *self,
              Delivery *d,
              SyAction *action)
{
  JsonObject *cfg = json_node_get_object (action->config);
  const char *plugin = json_object_get_string_member (cfg, "plugin");
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *id_text = NULL;
  gsize len = strlen (d->payload);
  PluginRun *run;
  int fd;

  d->attempts++;

  path = plugin_path (self, plugin, &reason);
  if (path == NULL)
    {
      self->running--;
      finish_dead (self, d, reason);
      return;
    }

  fd = memfd_create ("switchyard-plugin-input", MFD_CLOEXEC);
  if (fd < 0 || write (fd, d->payload, len) != (gssize) len || lseek (fd, 0, SEEK_SET) != 0)
    {
      g_autofree char *text = g_strdup_printf ("cannot pass the input to plugin %s: %s", plugin, g_strerror (errno));

      if (fd >= 0)
        close (fd);
      self->running--;
      schedule_retry (self, d, text, 0, -1, 0);
      return;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_take_stdin_fd (launcher, fd);
  g_subprocess_launcher_set_cwd (launcher, self->plugins_dir);
  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, d->id);
  {
    const char *env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C.UTF-8", NULL, NULL };
    g_autofree char *delivery_env = g_strconcat ("SWITCHYARD_DELIVERY_ID=", id_text, NULL);

    env[2] = delivery_env;
    g_subprocess_launcher_set_environ (launcher, (char **) env);
  }

  run = g_new0 (PluginRun, 1);
  run->self = outbox_ref (self);
  run->d = d;
  run->plugin = g_strdup (plugin);
  run->output = g_byte_array_new ();
  run->max_output = (gsize) json_object_get_int_member_with_default (cfg, "max_output_bytes", 65536);
  run->timeout_s = json_object_get_int_member_with_default (cfg, "timeout_s", 30);
  run->start_us = g_get_monotonic_time ();
  run->process = g_subprocess_launcher_spawn (launcher, &error, path, NULL);
  if (run->process == NULL)
    {
      g_autofree char *text = g_strdup_printf ("cannot start plugin %s: %s", plugin, error->message);

      self->running--;
      schedule_retry (self, g_steal_pointer (&run->d), text, 0, -1, 0);
      plugin_run_free (run);
      return;
    }

  write_update (self, update_job_new (d, "in_flight"));

  run->cancellable = g_cancellable_new ();
  run->cancel_id = g_cancellable_connect (self->cancellable, G_CALLBACK (plugin_cancelled_cb),
                                          g_object_ref (run->process), g_object_unref);
  run->stdout_stream = g_object_ref (g_subprocess_get_stdout_pipe (run->process));
  run->timeout = g_timeout_source_new ((guint) run->timeout_s * 1000);
  g_source_set_callback (run->timeout, plugin_timeout_cb, run, NULL);
  g_source_attach (run->timeout, self->context);

  run->pending = 2;
  plugin_read (run);
  g_subprocess_wait_async (run->process, NULL, plugin_wait_cb, run);
}

/* E-mail: plain SMTP to the configured relay (no TLS, no AUTH: a local relay such as a
 * site's postfix), one message per delivery, on a worker thread with blocking I/O and a socket
 * timeout. A 5xx answer is final; 4xx and network errors are retried on the schedule. */

#define SMTP_TIMEOUT_S 30

typedef struct
{
  char    *relay;
  char    *from;
  char    *payload;
  char    *message_id;
  gboolean permanent;     /* out: a 5xx */
} EmailJob;

static void
email_job_free (EmailJob *job)
{
  g_free (job->relay);
  g_free (job->from);
  g_free (job->payload);
  g_free (job->message_id);
  g_free (job);
}

/* Reads one reply (all its lines) and checks its code's first digit. */
static gboolean
smtp_expect (GDataInputStream  *in,
             char               expected,
             EmailJob          *job,
             GError           **error)
{
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (in, NULL, NULL, error);

      if (line == NULL)
        {
          if (error != NULL && *error == NULL)
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "the relay closed the connection");
          return FALSE;
        }
      g_strchomp (line);
      if (strlen (line) < 3 || !g_ascii_isdigit (line[0]))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not an SMTP reply: %s", line);
          return FALSE;
        }
      if (line[3] == '-')
        continue;
      if (line[0] != expected)
        {
          job->permanent = line[0] == '5';
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "SMTP relay answered “%s”", line);
          return FALSE;
        }
      return TRUE;
    }
}

static gboolean
smtp_send (GOutputStream  *out,
           const char     *text,
           GError        **error)
{
  return g_output_stream_write_all (out, text, strlen (text), NULL, NULL, error);
}

static char *
smtp_header_text (const char *text)
{
  g_autofree char *clean = g_strdup (text);
  gboolean ascii = TRUE;

  g_strdelimit (clean, "\r\n", ' ');
  for (const char *p = clean; *p != '\0'; p++)
    ascii = ascii && (guchar) *p < 0x80;
  if (ascii)
    return g_steal_pointer (&clean);

  {
    g_autofree char *b64 = g_base64_encode ((const guchar *) clean, strlen (clean));

    return g_strdup_printf ("=?UTF-8?B?%s?=", b64);
  }
}

static gboolean
email_send (EmailJob  *job,
            GError   **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(JsonNode) payload = json_from_string (job->payload, NULL);
  g_autoptr(GString) message = g_string_new (NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%a, %d %b %Y %H:%M:%S +0000");
  g_autofree char *subject = NULL;
  GOutputStream *out;
  JsonObject *p;
  JsonArray *to;
  const char *body;

  if (payload == NULL || !JSON_NODE_HOLDS_OBJECT (payload))
    {
      job->permanent = TRUE;
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "unreadable payload");
      return FALSE;
    }
  p = json_node_get_object (payload);
  to = json_object_get_array_member (p, "to");
  subject = smtp_header_text (json_object_get_string_member_with_default (p, "subject", ""));
  body = json_object_get_string_member_with_default (p, "body", "");

  g_socket_client_set_timeout (client, SMTP_TIMEOUT_S);
  connection = g_socket_client_connect_to_host (client, job->relay, 25, NULL, error);
  if (connection == NULL)
    return FALSE;
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  if (!smtp_expect (in, '2', job, error) ||
      !smtp_send (out, "EHLO switchyard\r\n", error) || !smtp_expect (in, '2', job, error))
    return FALSE;

  {
    g_autofree char *mail = g_strdup_printf ("MAIL FROM:<%s>\r\n", job->from);

    if (!smtp_send (out, mail, error) || !smtp_expect (in, '2', job, error))
      return FALSE;
  }

  for (guint i = 0; to != NULL && i < json_array_get_length (to); i++)
    {
      g_autofree char *rcpt = g_strdup_printf ("RCPT TO:<%s>\r\n", json_array_get_string_element (to, i));

      if (!smtp_send (out, rcpt, error) || !smtp_expect (in, '2', job, error))
        return FALSE;
    }

  if (!smtp_send (out, "DATA\r\n", error) || !smtp_expect (in, '3', job, error))
    return FALSE;

  g_string_append_printf (message, "From: <%s>\r\nTo: ", job->from);
  for (guint i = 0; to != NULL && i < json_array_get_length (to); i++)
    g_string_append_printf (message, "%s<%s>", i ? ", " : "", json_array_get_string_element (to, i));
  g_string_append_printf (message, "\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@switchyard>\r\n"
                          "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n",
                          subject, date, job->message_id);
  /* CRLF line ends, and a leading dot doubled (RFC 5321 4.5.2). */
  for (const char *line = body; *line != '\0';)
    {
      const char *end = strchr (line, '\n');
      gsize len = end ? (gsize) (end - line) : strlen (line);

      if (len > 0 && line[len - 1] == '\r')
        len--;
      if (line[0] == '.')
        g_string_append_c (message, '.');
      g_string_append_len (message, line, len);
      g_string_append (message, "\r\n");
      if (end == NULL)
        break;
      line = end + 1;
    }
  g_string_append (message, ".\r\n");

  if (!smtp_send (out, message->str, error) || !smtp_expect (in, '2', job, error))
    return FALSE;

  smtp_send (out, "QUIT\r\n", NULL);
  return TRUE;
}

static void
email_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  GError *error = NULL;

  if (email_send (task_data, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

typedef struct
{
  SyOutbox *self;
  Delivery *d;
  gint64    start_us;
} EmailRun;

static void
email_done (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  EmailRun *run = user_data;
  SyOutbox *self = run->self;
  EmailJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gint64 latency = (g_get_monotonic_time () - run->start_us) / 1000;

  if (self->shut_down)
    {
      delivery_free (run->d);
      goto out;
    }

  self->running--;
  if (g_task_propagate_boolean (G_TASK (result), &error))
    {
      UpdateJob *update = update_job_new (run->d, "succeeded");

      update->latency_ms = latency;
      finish (self, g_steal_pointer (&run->d), update);
    }
  else if (job->permanent)
    {
      UpdateJob *update = update_job_new (run->d, "dead");

      update->latency_ms = latency;
      update->last_error = g_strdup (error->message);
      finish (self, g_steal_pointer (&run->d), update);
    }
  else
    schedule_retry (self, g_steal_pointer (&run->d), error->message, 0, latency, 0);

  pump (self);

out:
  outbox_unref (self);
  g_free (run);
}

static void
start_email (SyOutbox *self,
             Delivery *d)
{
  g_autoptr(GTask) task = NULL;
  EmailJob *job;
  EmailRun *run;

  d->attempts++;

  if (self->smtp_relay == NULL)
    {
      self->running--;
      finish_dead (self, d, "not configured: no SMTP relay (switchyardd --smtp-relay)");
      return;
    }

  write_update (self, update_job_new (d, "in_flight"));

  job = g_new0 (EmailJob, 1);
  job->relay = g_strdup (self->smtp_relay);
  job->from = g_strdup (self->smtp_from);
  job->payload = g_strdup (d->payload);
  job->message_id = g_strdup (d->message_id);

  run = g_new0 (EmailRun, 1);
  run->self = outbox_ref (self);
  run->d = d;
  run->start_us = g_get_monotonic_time ();

  task = g_task_new (NULL, NULL, email_done, run);
  g_task_set_source_tag (task, start_email);
  g_task_set_task_data (task, job, (GDestroyNotify) email_job_free);
  g_task_run_in_thread (task, email_thread);
}

/* Local actions */

static void
run_local (SyOutbox *self,
           Delivery *d,
           SyAction *action)
{
  UpdateJob *job;

  d->attempts++;

  switch (action->type)
    {
    case SY_ACTION_ANNOTATE:
      job = update_job_new (d, "succeeded");
      job->extra = EXTRA_ANNOTATION;
      job->payload = g_strdup (d->payload);
      finish (self, d, job);
      break;

    case SY_ACTION_RELAY_COMMAND:
      job = update_job_new (d, "succeeded");
      job->extra = EXTRA_APPROVAL;
      job->payload = g_strdup (d->payload);
      job->ttl_ms = self->approval_ttl_ms;
      finish (self, d, job);
      break;

    case SY_ACTION_ALERT:
      {
        g_autoptr(JsonNode) payload = json_from_string (d->payload, NULL);

        job = update_job_new (d, "succeeded");
        finish (self, d, job);
        /* After the bookkeeping: subscribers may submit new deliveries. */
        if (payload != NULL)
          _sy_event_bus_emit (self->bus, SY_EVENT_ALERT, sy_time_now_ms (), payload);
      }
      break;

    case SY_ACTION_WEBHOOK:
    case SY_ACTION_PLUGIN:
    case SY_ACTION_NOTIFY_EMAIL:
    case SY_ACTION_N_TYPES:
    default:
      g_assert_not_reached ();
    }
}

static void
execute (SyOutbox *self,
         Delivery *d)
{
  g_autoptr(SyAction) action = self->lookup (d->action_id, self->lookup_data);

  if (action == NULL)
    {
      finish_dead (self, d, "the action was deleted");
      return;
    }
  if (!g_atomic_int_get (&action->enabled))
    {
      finish_dead (self, d, "the action is disabled");
      return;
    }

  if (action->type == SY_ACTION_WEBHOOK)
    {
      self->running++;
      start_webhook (self, d, action);
    }
  else if (action->type == SY_ACTION_PLUGIN)
    {
      self->running++;
      start_plugin (self, d, action);
    }
  else if (action->type == SY_ACTION_NOTIFY_EMAIL)
    {
      self->running++;
      start_email (self, d);
    }
  else
    run_local (self, d, action);
}

static gboolean
timer_cb (gpointer user_data)
{
  SyOutbox *self = user_data;

  g_clear_pointer (&self->timer, g_source_unref);
  pump (self);
  return G_SOURCE_REMOVE;
}

static void
pump (SyOutbox *self)
{
  gint64 now = sy_time_now_ms ();
  GSequenceIter *first;

  if (self->shut_down)
    return;

  while (self->running < MAX_RUNNING && !g_sequence_is_empty (self->queue))
    {
      Delivery *d;

      first = g_sequence_get_begin_iter (self->queue);
      d = g_sequence_get (first);
      if (d->next_ms > now)
        break;

      g_sequence_remove (first);
      g_hash_table_remove (self->queued, &d->id);
      d->iter = NULL;
      execute (self, d);
    }

  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }

  if (self->running < MAX_RUNNING && !g_sequence_is_empty (self->queue))
    {
      Delivery *d = g_sequence_get (g_sequence_get_begin_iter (self->queue));
      gint64 delay = MAX (0, d->next_ms - sy_time_now_ms ());

      self->timer = g_timeout_source_new ((guint) MIN (delay, 60000));
      g_source_set_callback (self->timer, timer_cb, self, NULL);
      g_source_attach (self->timer, self->context);
    }
}

/* Submitting */

typedef struct
{
  SyOutbox  *self;
  GPtrArray *news;          /* SyDeliveryNew */
  GArray    *ids;           /* gint64 */
  GPtrArray *message_ids;   /* char * */
  GPtrArray *destinations;  /* char *, nullable items */
} InsertJob;

static void
insert_job_free (gpointer data)
{
  InsertJob *job = data;

  g_ptr_array_unref (job->news);
  g_array_unref (job->ids);
  g_ptr_array_unref (job->message_ids);
  g_ptr_array_unref (job->destinations);
  outbox_unref (job->self);
  g_free (job);
}

static gboolean
insert_write (SyWriteBatch  *batch,
              gpointer       data,
              GError       **error)
{
  InsertJob *job = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now = sy_time_now_ms ();

  stmt = _sy_sql_prepare (db,
                          "INSERT INTO deliveries (action_id, rule_id, event_type, event, payload, message_id, "
                          "destination, status, attempts, next_attempt_at, created_ms, updated_ms) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
                          error);
  if (stmt == NULL)
    return FALSE;

  g_array_set_size (job->ids, 0);
  for (guint i = 0; i < job->news->len; i++)
    {
      SyDeliveryNew *n = g_ptr_array_index (job->news, i);
      const char *destination = g_ptr_array_index (job->destinations, i);
      gint64 id;

      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      sqlite3_bind_int64 (stmt, 1, n->action_id);
      if (n->rule_id > 0)
        sqlite3_bind_int64 (stmt, 2, n->rule_id);
      sqlite3_bind_text (stmt, 3, n->event_type, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, n->event, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, n->payload, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 6, g_ptr_array_index (job->message_ids, i), -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 7, destination, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 8, now);
      sqlite3_bind_int64 (stmt, 9, now);
      sqlite3_bind_int64 (stmt, 10, now);
      if (!_sy_sql_check (db, sqlite3_step (stmt), "Storing a delivery", error))
        return FALSE;
      id = sqlite3_last_insert_rowid (db);
      g_array_append_val (job->ids, id);
    }

  return TRUE;
}

static void
insert_done (const GError *error,
             gpointer      user_data)
{
  InsertJob *job = user_data;
  SyOutbox *self = job->self;
  gint64 now = sy_time_now_ms ();

  if (error != NULL)
    {
      g_warning ("Storing %u deliveries: %s", job->news->len, error->message);
      return;
    }
  if (self->shut_down)
    return;

  for (guint i = 0; i < job->news->len && i < job->ids->len; i++)
    {
      SyDeliveryNew *n = g_ptr_array_index (job->news, i);
      Delivery *d = g_new0 (Delivery, 1);

      d->id = g_array_index (job->ids, gint64, i);
      d->action_id = n->action_id;
      d->rule_id = n->rule_id;
      d->payload = g_steal_pointer (&n->payload);
      d->message_id = g_strdup (g_ptr_array_index (job->message_ids, i));
      d->next_ms = now;
      enqueue (self, d);
    }

  pump (self);
}

void
_sy_outbox_submit (SyOutbox  *self,
                   GPtrArray *deliveries)
{
  InsertJob *job;

  g_return_if_fail (self != NULL);

  if (deliveries->len == 0 || self->shut_down)
    {
      g_ptr_array_unref (deliveries);
      return;
    }

  job = g_new0 (InsertJob, 1);
  job->self = outbox_ref (self);
  job->news = deliveries;
  job->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  job->message_ids = g_ptr_array_new_with_free_func (g_free);
  job->destinations = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < deliveries->len; i++)
    {
      SyDeliveryNew *n = g_ptr_array_index (deliveries, i);
      g_autoptr(SyAction) action = self->lookup (n->action_id, self->lookup_data);
      g_autofree char *uuid = _sy_auth_random_uuid ();

      g_ptr_array_add (job->message_ids, g_strdup_printf ("msg_%s", uuid));
      g_ptr_array_add (job->destinations,
                       action != NULL && action->type == SY_ACTION_WEBHOOK
                       ? _sy_webhook_destination (json_object_get_string_member (json_node_get_object (action->config), "url"))
                       : NULL);
    }

  _sy_store_write (self->store, deliveries->len, insert_write, job, insert_job_free,
                   self->context, insert_done, job);
}

/* Retry from the API */

typedef struct
{
  gint64    id;
  Delivery *d;
} RetryJob;

static gboolean
retry_write (SyWriteBatch  *batch,
             gpointer       data,
             GError       **error)
{
  RetryJob *job = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const char *status;
  gint64 now = sy_time_now_ms ();

  stmt = _sy_sql_prepare (db,
                          "SELECT status, action_id, rule_id, payload, message_id, attempts FROM deliveries WHERE id = ?",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, job->id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No delivery %" G_GINT64_FORMAT, job->id);
      return FALSE;
    }

  status = (const char *) sqlite3_column_text (stmt, 0);
  if (g_str_equal (status, "succeeded") || g_str_equal (status, "in_flight"))
    {
      g_set_error (error, SY_ERROR, SY_ERROR_CONFLICT, "Delivery %" G_GINT64_FORMAT " is %s", job->id, status);
      return FALSE;
    }

  job->d = g_new0 (Delivery, 1);
  job->d->id = job->id;
  job->d->action_id = sqlite3_column_int64 (stmt, 1);
  job->d->rule_id = sqlite3_column_int64 (stmt, 2);
  job->d->payload = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  job->d->message_id = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
  job->d->attempts = sqlite3_column_int (stmt, 5);
  job->d->next_ms = now;
  g_clear_pointer (&stmt, sqlite3_finalize);

  stmt = _sy_sql_prepare (db,
                          "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_ms = ? WHERE id = ?",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_int64 (stmt, 2, now);
  sqlite3_bind_int64 (stmt, 3, job->id);
  return _sy_sql_check (db, sqlite3_step (stmt), "Retrying the delivery", error);
}

typedef struct
{
  SyOutbox *self;
  Delivery *d;
} RequeueData;

static gboolean
requeue_cb (gpointer user_data)
{
  RequeueData *rd = user_data;

  if (!rd->self->shut_down)
    {
      /* A manual retry is one more attempt, even past the schedule's end. */
      if (rd->d->attempts >= rd->self->schedule_ms->len)
        rd->d->attempts = rd->self->schedule_ms->len - 1;
      enqueue (rd->self, g_steal_pointer (&rd->d));
      pump (rd->self);
    }

  return G_SOURCE_REMOVE;
}

static void
requeue_data_free (gpointer user_data)
{
  RequeueData *rd = user_data;

  if (rd->d != NULL)
    delivery_free (rd->d);
  outbox_unref (rd->self);
  g_free (rd);
}

gboolean
_sy_outbox_retry (SyOutbox  *self,
                  gint64     delivery_id,
                  GError   **error)
{
  RetryJob job = { delivery_id, NULL };
  RequeueData *rd;

  if (!_sy_store_write_sync (self->store, retry_write, &job, error))
    {
      if (job.d != NULL)
        delivery_free (job.d);
      return FALSE;
    }

  rd = g_new0 (RequeueData, 1);
  rd->self = outbox_ref (self);
  rd->d = job.d;
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, requeue_cb, rd, requeue_data_free);
  return TRUE;
}
