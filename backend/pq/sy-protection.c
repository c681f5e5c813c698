/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-pq"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sy-error.h"
#include "sy-protection-private.h"
#include "sy-time.h"

#define MAX_BREAKER_ID_BYTES 64
#define MAX_CAUSE_BYTES      200
/* Devices buffer alarms; a day is enough to catch up after a link outage. */
#define MAX_AGE_MS           (24 * 3600 * (gint64) 1000)
#define MAX_FUTURE_MS        (5 * 60 * (gint64) 1000)

#define PROTECTION_COLUMNS \
  "id, meter_id, site_id, device_id, type, severity, ts_ms, breaker_id, state, previous_state, leakage_ma, " \
  "cause, source, ack_ms, ack_by, ack_note, created_ms"

#define FILTER_SQL \
  " WHERE (?1 = 0 OR meter_id = ?1) AND (?2 = 0 OR site_id = ?2) AND (?3 IS NULL OR type = ?3)" \
  " AND (?4 IS NULL OR state = ?4) AND ts_ms >= ?5 AND ts_ms < ?6" \
  " AND severity >= ?7 AND (?8 < 0 OR (ack_ms IS NOT NULL) = ?8)"

static const char * const types[] = { "trip", "earth_leakage", "breaker_state", NULL };
static const char * const breaker_states[] = { "open", "closed", "tripped", NULL };
static const char * const sources[] = { "device", "reading", NULL };

static const char *
static_string (const char * const *table,
               const char         *text)
{
  for (guint i = 0; table[i] != NULL; i++)
    {
      if (g_strcmp0 (table[i], text) == 0)
        return table[i];
    }

  return NULL;
}

gboolean
_sy_protection_type_is_valid (const char *type)
{
  return static_string (types, type) != NULL;
}

SyProtectionEvent *
_sy_protection_event_new (void)
{
  SyProtectionEvent *event = g_new0 (SyProtectionEvent, 1);

  event->source = "device";
  return event;
}

void
_sy_protection_event_free (SyProtectionEvent *event)
{
  if (event == NULL)
    return;

  g_free (event->breaker_id);
  g_free (event->state);
  g_free (event->previous_state);
  g_free (event->cause);
  g_free (event->ack_by);
  g_free (event->ack_note);
  g_free (event);
}

SyPqSeverity
_sy_protection_severity (const SyProtectionEvent *event)
{
  g_return_val_if_fail (event != NULL, SY_PQ_SEVERITY_INFO);

  if (g_strcmp0 (event->type, "trip") == 0 || g_strcmp0 (event->type, "earth_leakage") == 0)
    return SY_PQ_SEVERITY_CRITICAL;
  if (g_strcmp0 (event->state, "tripped") == 0)
    return SY_PQ_SEVERITY_CRITICAL;

  return SY_PQ_SEVERITY_INFO;
}

static gboolean
get_string (JsonObject  *body,
            const char  *field,
            gsize        max_len,
            char       **out,
            GError     **error)
{
  JsonNode *node = json_object_get_member (body, field);
  const char *text;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      sy_error_set_field (error, field, "must be a string");
      return FALSE;
    }

  text = json_node_get_string (node);
  if (text[0] == '\0' || strlen (text) > max_len)
    {
      sy_error_set_field (error, field, "must be 1 to %" G_GSIZE_FORMAT " bytes", max_len);
      return FALSE;
    }

  g_free (*out);
  *out = g_strdup (text);
  return TRUE;
}

gboolean
_sy_protection_event_parse (JsonObject         *body,
                            gint64              now_ms,
                            SyProtectionEvent  *event,
                            GError            **error)
{
  static const char * const known[] = {
    "type", "meter_id", "breaker_id", "state", "leakage_ma", "cause", "timestamp", NULL,
  };
  g_autoptr(GList) members = NULL;
  g_autofree char *type = NULL;
  g_autofree char *state = NULL;
  g_autofree char *timestamp = NULL;
  JsonNode *node;

  g_return_val_if_fail (body != NULL && event != NULL, FALSE);

  members = json_object_get_members (body);
  for (const GList *l = members; l != NULL; l = l->next)
    {
      if (!g_strv_contains (known, l->data))
        {
          sy_error_set_field (error, l->data, "unknown field");
          return FALSE;
        }
    }

  if (!get_string (body, "type", 32, &type, error))
    return FALSE;
  if (type == NULL)
    {
      sy_error_set_field (error, "type", "required (trip, earth_leakage or breaker_state)");
      return FALSE;
    }
  event->type = static_string (types, type);
  if (event->type == NULL)
    {
      sy_error_set_field (error, "type", "must be trip, earth_leakage or breaker_state");
      return FALSE;
    }

  node = json_object_get_member (body, "meter_id");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
          json_node_get_int (node) <= 0)
        {
          sy_error_set_field (error, "meter_id", "must be a positive integer id");
          return FALSE;
        }
      event->meter_id = json_node_get_int (node);
    }

  if (!get_string (body, "breaker_id", MAX_BREAKER_ID_BYTES, &event->breaker_id, error) ||
      !get_string (body, "cause", MAX_CAUSE_BYTES, &event->cause, error) ||
      !get_string (body, "state", 16, &state, error) ||
      !get_string (body, "timestamp", 64, &timestamp, error))
    return FALSE;

  if (state != NULL)
    {
      if (static_string (breaker_states, state) == NULL)
        {
          sy_error_set_field (error, "state", "must be open, closed or tripped");
          return FALSE;
        }
      event->state = g_steal_pointer (&state);
    }

  node = json_object_get_member (body, "leakage_ma");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      GType vt = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
      double value = (vt == G_TYPE_DOUBLE || vt == G_TYPE_INT64) ? json_node_get_double (node) : NAN;

      if (!isfinite (value) || value < 0 || value > 1e6)
        {
          sy_error_set_field (error, "leakage_ma", "must be a number of milliamperes, 0 or more");
          return FALSE;
        }
      event->has_leakage = TRUE;
      event->leakage_ma = value;
    }

  event->ts_ms = now_ms;
  if (timestamp != NULL)
    {
      if (!sy_time_parse_iso8601 (timestamp, strlen (timestamp), &event->ts_ms))
        {
          sy_error_set_field (error, "timestamp", "not a valid ISO-8601 timestamp with time zone");
          return FALSE;
        }
      if (event->ts_ms > now_ms + MAX_FUTURE_MS || event->ts_ms < now_ms - MAX_AGE_MS)
        {
          sy_error_set_field (error, "timestamp", "more than 5 minutes ahead or a day behind the server clock");
          return FALSE;
        }
    }

  /* What each type is about. */
  if (g_str_equal (event->type, "trip") && event->breaker_id == NULL)
    {
      sy_error_set_field (error, "breaker_id", "required for a trip");
      return FALSE;
    }
  if (g_str_equal (event->type, "earth_leakage") && !event->has_leakage)
    {
      sy_error_set_field (error, "leakage_ma", "required for an earth_leakage alarm");
      return FALSE;
    }
  if (g_str_equal (event->type, "breaker_state") && event->state == NULL)
    {
      sy_error_set_field (error, "state", "required for a breaker_state change");
      return FALSE;
    }

  event->severity = _sy_protection_severity (event);
  return TRUE;
}

void
_sy_protection_event_append_json (GString                 *out,
                                  const SyProtectionEvent *e)
{
  g_string_append_printf (out, "{\"id\":%" G_GINT64_FORMAT ",\"meter_id\":", e->id);
  if (e->meter_id > 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, e->meter_id);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"site_id\":");
  if (e->site_id > 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, e->site_id);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"device_id\":");
  if (e->device_id > 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, e->device_id);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"type\":");
  _sy_pq_json_append_string (out, e->type);
  g_string_append (out, ",\"severity\":");
  _sy_pq_json_append_string (out, _sy_pq_severity_name (CLAMP (e->severity, SY_PQ_SEVERITY_INFO, SY_PQ_SEVERITY_CRITICAL)));
  g_string_append (out, ",\"timestamp\":\"");
  sy_time_append_iso8601 (out, e->ts_ms);
  g_string_append (out, "\",\"breaker_id\":");
  _sy_pq_json_append_string (out, e->breaker_id);
  g_string_append (out, ",\"state\":");
  _sy_pq_json_append_string (out, e->state);
  g_string_append (out, ",\"previous_state\":");
  _sy_pq_json_append_string (out, e->previous_state);
  g_string_append (out, ",\"leakage_ma\":");
  if (e->has_leakage)
    g_string_append_printf (out, "%.6g", e->leakage_ma);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"cause\":");
  _sy_pq_json_append_string (out, e->cause);
  g_string_append (out, ",\"source\":");
  _sy_pq_json_append_string (out, e->source);
  g_string_append (out, ",\"acknowledged\":");
  if (e->ack_ms > 0)
    {
      g_string_append (out, "{\"at\":\"");
      sy_time_append_iso8601 (out, e->ack_ms);
      g_string_append (out, "\",\"by\":");
      _sy_pq_json_append_string (out, e->ack_by);
      g_string_append (out, ",\"note\":");
      _sy_pq_json_append_string (out, e->ack_note);
      g_string_append_c (out, '}');
    }
  else
    g_string_append (out, "null");
  g_string_append_c (out, '}');
}

typedef struct
{
  SyProtectionEvent *event;
  SyEventBus        *bus;
  SyProtectionDone   done;
  gpointer           user_data;
} ProtectionWrite;

static void
protection_write_free (ProtectionWrite *w)
{
  _sy_protection_event_free (w->event);
  g_clear_object (&w->bus);
  g_free (w);
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

static gboolean
protection_write_func (SyWriteBatch  *batch,
                       gpointer       data,
                       GError       **error)
{
  ProtectionWrite *w = data;
  SyProtectionEvent *e = w->event;
  sqlite3_stmt *stmt;
  int rc;

  stmt = _sy_write_batch_prepare (batch,
                                  "INSERT INTO protection_events (meter_id, site_id, device_id, type, severity, ts_ms, "
                                  "breaker_id, state, previous_state, leakage_ma, cause, source, created_ms) "
                                  "VALUES (?1, (SELECT site_id FROM meters WHERE id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                                  "?9, ?10, ?11, ?12) RETURNING id, site_id",
                                  error);
  if (stmt == NULL)
    return FALSE;

  e->created_ms = sy_time_now_ms ();
  if (e->meter_id > 0)
    sqlite3_bind_int64 (stmt, 1, e->meter_id);
  else
    sqlite3_bind_null (stmt, 1);
  if (e->device_id > 0)
    sqlite3_bind_int64 (stmt, 2, e->device_id);
  else
    sqlite3_bind_null (stmt, 2);
  sqlite3_bind_text (stmt, 3, e->type, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 4, e->severity);
  sqlite3_bind_int64 (stmt, 5, e->ts_ms);
  bind_text_or_null (stmt, 6, e->breaker_id);
  bind_text_or_null (stmt, 7, e->state);
  bind_text_or_null (stmt, 8, e->previous_state);
  if (e->has_leakage)
    sqlite3_bind_double (stmt, 9, e->leakage_ma);
  else
    sqlite3_bind_null (stmt, 9);
  bind_text_or_null (stmt, 10, e->cause);
  sqlite3_bind_text (stmt, 11, e->source, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 12, e->created_ms);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      e->id = sqlite3_column_int64 (stmt, 0);
      e->site_id = sqlite3_column_int64 (stmt, 1);
      rc = sqlite3_step (stmt);
    }
  /* The statement is cached by the batch: finish it so the insert is complete. */
  sqlite3_reset (stmt);

  return _sy_sql_check (_sy_write_batch_get_db (batch), rc == SQLITE_DONE ? SQLITE_OK : rc,
                        "Storing a protection event", error);
}

static void
protection_write_done (const GError *error,
                       gpointer      user_data)
{
  ProtectionWrite *w = user_data;

  if (error == NULL && w->bus != NULL)
    {
      g_autoptr(GString) json = g_string_new (NULL);
      g_autoptr(JsonNode) node = NULL;

      _sy_protection_event_append_json (json, w->event);
      node = json_from_string (json->str, NULL);
      if (node != NULL)
        _sy_event_bus_emit (w->bus, SY_EVENT_PROTECTION, w->event->ts_ms, node);
    }
  else if (error != NULL && w->done == NULL)
    {
      g_warning ("Storing a %s protection event: %s", w->event->type, error->message);
    }

  if (w->done != NULL)
    w->done (error, w->event, w->user_data);

  protection_write_free (w);
}

void
_sy_protection_submit (SyStore            *store,
                       SyEventBus         *bus,
                       GMainContext       *context,
                       SyProtectionEvent  *event,
                       SyProtectionDone    done,
                       gpointer            user_data)
{
  ProtectionWrite *w;

  g_return_if_fail (SY_IS_STORE (store));
  g_return_if_fail (event != NULL);
  g_return_if_fail (static_string (types, event->type) != NULL);
  g_return_if_fail (static_string (sources, event->source) != NULL);

  w = g_new0 (ProtectionWrite, 1);
  w->event = event;
  w->bus = bus != NULL ? g_object_ref (bus) : NULL;
  w->done = done;
  w->user_data = user_data;

  _sy_store_write (store, 1, protection_write_func, w, NULL, context, protection_write_done, w);
}

char *
_sy_protection_last_breaker_state (sqlite3 *db,
                                   gint64   meter_id,
                                   gint64   before_ms)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = _sy_sql_prepare (db, "SELECT breaker_state FROM readings WHERE meter_id = ? AND ts_ms < ? "
                          "AND breaker_state IS NOT NULL ORDER BY ts_ms DESC LIMIT 1", NULL);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, meter_id);
  sqlite3_bind_int64 (stmt, 2, before_ms);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return NULL;

  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

static SyProtectionEvent *
read_event (sqlite3_stmt *stmt)
{
  SyProtectionEvent *e = _sy_protection_event_new ();

  e->id = sqlite3_column_int64 (stmt, 0);
  e->meter_id = sqlite3_column_int64 (stmt, 1);
  e->site_id = sqlite3_column_int64 (stmt, 2);
  e->device_id = sqlite3_column_int64 (stmt, 3);
  e->type = static_string (types, (const char *) sqlite3_column_text (stmt, 4));
  e->severity = CLAMP (sqlite3_column_int (stmt, 5), SY_PQ_SEVERITY_INFO, SY_PQ_SEVERITY_CRITICAL);
  e->ts_ms = sqlite3_column_int64 (stmt, 6);
  e->breaker_id = g_strdup ((const char *) sqlite3_column_text (stmt, 7));
  e->state = g_strdup ((const char *) sqlite3_column_text (stmt, 8));
  e->previous_state = g_strdup ((const char *) sqlite3_column_text (stmt, 9));
  e->has_leakage = sqlite3_column_type (stmt, 10) != SQLITE_NULL;
  e->leakage_ma = sqlite3_column_double (stmt, 10);
  e->cause = g_strdup ((const char *) sqlite3_column_text (stmt, 11));
  e->source = static_string (sources, (const char *) sqlite3_column_text (stmt, 12));
  if (sqlite3_column_type (stmt, 13) != SQLITE_NULL)
    {
      e->ack_ms = sqlite3_column_int64 (stmt, 13);
      e->ack_by = g_strdup ((const char *) sqlite3_column_text (stmt, 14));
      e->ack_note = g_strdup ((const char *) sqlite3_column_text (stmt, 15));
    }
  e->created_ms = sqlite3_column_int64 (stmt, 16);

  return e;
}

static void
bind_filter (sqlite3_stmt     *stmt,
             const SyPqFilter *f)
{
  sqlite3_bind_int64 (stmt, 1, f->meter_id);
  sqlite3_bind_int64 (stmt, 2, f->site_id);
  if (f->type != NULL)
    sqlite3_bind_text (stmt, 3, f->type, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, 3);
  if (f->state != NULL)
    sqlite3_bind_text (stmt, 4, f->state, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, 4);
  sqlite3_bind_int64 (stmt, 5, f->from_ms);
  sqlite3_bind_int64 (stmt, 6, f->to_ms);
  sqlite3_bind_int (stmt, 7, f->min_severity);
  sqlite3_bind_int (stmt, 8, f->acknowledged);
}

gboolean
_sy_protection_list (SyStore          *store,
                     const SyPqFilter *filter,
                     gint64            limit,
                     gint64            offset,
                     GString          *items,
                     gint64           *out_total,
                     GError          **error)
{
  g_auto(SyReaderGuard) guard = { store, NULL };
  g_autoptr(sqlite3_stmt) count = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (SY_IS_STORE (store), FALSE);

  guard.db = _sy_store_reader_acquire (store);

  count = _sy_sql_prepare (guard.db, "SELECT count(*) FROM protection_events" FILTER_SQL, error);
  if (count == NULL)
    return FALSE;
  bind_filter (count, filter);
  rc = sqlite3_step (count);
  if (rc != SQLITE_ROW)
    return _sy_sql_check (guard.db, rc, "Counting protection events", error);

  stmt = _sy_sql_prepare (guard.db, "SELECT " PROTECTION_COLUMNS " FROM protection_events" FILTER_SQL
                          " ORDER BY ts_ms DESC, id DESC LIMIT ?9 OFFSET ?10", error);
  if (stmt == NULL)
    return FALSE;
  bind_filter (stmt, filter);
  sqlite3_bind_int64 (stmt, 9, limit);
  sqlite3_bind_int64 (stmt, 10, offset);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(SyProtectionEvent) e = read_event (stmt);

      if (items->len > 0)
        g_string_append_c (items, ',');
      _sy_protection_event_append_json (items, e);
    }
  if (rc != SQLITE_DONE)
    return _sy_sql_check (guard.db, rc, "Listing protection events", error);

  *out_total = sqlite3_column_int64 (count, 0);
  return TRUE;
}

char *
_sy_protection_get (SyStore  *store,
                    gint64    id,
                    GError  **error)
{
  g_auto(SyReaderGuard) guard = { store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(SyProtectionEvent) e = NULL;
  GString *out;

  g_return_val_if_fail (SY_IS_STORE (store), NULL);

  guard.db = _sy_store_reader_acquire (store);
  stmt = _sy_sql_prepare (guard.db, "SELECT " PROTECTION_COLUMNS " FROM protection_events WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No protection event %" G_GINT64_FORMAT, id);
      return NULL;
    }

  e = read_event (stmt);
  out = g_string_new (NULL);
  _sy_protection_event_append_json (out, e);
  return g_string_free (out, FALSE);
}

char *
_sy_protection_acknowledge (SyStore     *store,
                            gint64       id,
                            const char  *client_id,
                            const char  *note,
                            GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!_sy_pq_ack_row (store, "protection_events", id, client_id, note, &local_error))
    {
      if (g_error_matches (local_error, SY_ERROR, SY_ERROR_NOT_FOUND))
        g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No protection event %" G_GINT64_FORMAT, id);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  return _sy_protection_get (store, id, error);
}
