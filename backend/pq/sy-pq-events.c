/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-pq"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sy-error.h"
#include "sy-pq-config-private.h"
#include "sy-pq-events-private.h"
#include "sy-time.h"

#define EVENT_COLUMNS \
  "id, meter_id, site_id, type, state, severity, start_ms, end_ms, nominal_voltage, threshold, value, " \
  "worst_phase, phases, dip_class, method, ack_ms, ack_by, ack_note"

/* The same filter for pq_events and protection_events; the time column differs. */
#define FILTER_SQL(time_column) \
  " WHERE (?1 = 0 OR meter_id = ?1) AND (?2 = 0 OR site_id = ?2) AND (?3 IS NULL OR type = ?3)" \
  " AND (?4 IS NULL OR state = ?4) AND " time_column " >= ?5 AND " time_column " < ?6" \
  " AND severity >= ?7 AND (?8 < 0 OR (ack_ms IS NOT NULL) = ?8)"

#define TEN_MINUTES_MS (10 * 60 * 1000)
#define WEEK_MS        (7 * 24 * 3600 * (gint64) 1000)

void
_sy_pq_filter_init (SyPqFilter *filter)
{
  g_return_if_fail (filter != NULL);

  memset (filter, 0, sizeof *filter);
  filter->from_ms = G_MININT64;
  filter->to_ms = G_MAXINT64;
  filter->acknowledged = -1;
}

void
_sy_pq_json_append_string (GString    *out,
                           const char *text)
{
  if (text == NULL)
    {
      g_string_append (out, "null");
      return;
    }

  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = *p;

      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, c);
          break;
        }
    }
  g_string_append_c (out, '"');
}

static const char *
static_method (const char *text)
{
  static const char * const methods[] = { "nema", "iec_vuf", "thd_v" };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      if (g_strcmp0 (text, methods[i]) == 0)
        return methods[i];
    }

  return NULL;
}

static void
bind_text_or_null (sqlite3_stmt *stmt,
                   int           index,
                   const char   *text)
{
  if (text != NULL && text[0] != '\0')
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

gboolean
_sy_pq_events_upsert (SyWriteBatch     *batch,
                      const SyPqEvent  *e,
                      GError          **error)
{
  static const char sql[] =
    "INSERT INTO pq_events (id, meter_id, site_id, type, state, severity, start_ms, end_ms, duration_ms, "
    "nominal_voltage, threshold, value, worst_phase, phases, dip_class, method, updated_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
    "ON CONFLICT (id) DO UPDATE SET state = excluded.state, severity = excluded.severity, "
    "end_ms = excluded.end_ms, duration_ms = excluded.duration_ms, value = excluded.value, "
    "worst_phase = excluded.worst_phase, phases = excluded.phases, dip_class = excluded.dip_class, "
    "method = excluded.method, updated_ms = excluded.updated_ms";
  sqlite3_stmt *stmt;
  char phase[2] = { 0 };
  char phases[4] = { 0 };
  guint n = 0;
  int rc;

  stmt = _sy_write_batch_prepare (batch, sql, error);
  if (stmt == NULL)
    return FALSE;

  if (e->worst_phase >= 0 && e->worst_phase < 3)
    phase[0] = "abc"[e->worst_phase];
  for (guint i = 0; i < 3; i++)
    {
      if (e->phases & (1u << i))
        phases[n++] = "abc"[i];
    }

  sqlite3_bind_int64 (stmt, 1, e->id);
  sqlite3_bind_int64 (stmt, 2, e->meter_id);
  if (e->site_id > 0)
    sqlite3_bind_int64 (stmt, 3, e->site_id);
  else
    sqlite3_bind_null (stmt, 3);
  sqlite3_bind_text (stmt, 4, _sy_pq_event_type_name (e->type), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, e->closed ? "closed" : "open", -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 6, e->severity);
  sqlite3_bind_int64 (stmt, 7, e->start_ms);
  if (e->closed)
    {
      sqlite3_bind_int64 (stmt, 8, e->end_ms);
      sqlite3_bind_int64 (stmt, 9, e->end_ms - e->start_ms);
    }
  else
    {
      sqlite3_bind_null (stmt, 8);
      sqlite3_bind_null (stmt, 9);
    }
  sqlite3_bind_double (stmt, 10, e->nominal);
  sqlite3_bind_double (stmt, 11, e->threshold);
  sqlite3_bind_double (stmt, 12, e->value);
  bind_text_or_null (stmt, 13, phase);
  bind_text_or_null (stmt, 14, phases);
  bind_text_or_null (stmt, 15, e->dip_class);
  bind_text_or_null (stmt, 16, e->method);
  sqlite3_bind_int64 (stmt, 17, sy_time_now_ms ());

  rc = sqlite3_step (stmt);
  return _sy_sql_check (_sy_write_batch_get_db (batch), rc == SQLITE_DONE ? SQLITE_OK : rc,
                        "Storing a power-quality event", error);
}

/* Reads one row selected with EVENT_COLUMNS. */
static void
read_event (sqlite3_stmt *stmt,
            SyPqEvent    *e)
{
  const char *text;

  memset (e, 0, sizeof *e);
  e->id = sqlite3_column_int64 (stmt, 0);
  e->meter_id = sqlite3_column_int64 (stmt, 1);
  e->site_id = sqlite3_column_int64 (stmt, 2);
  if (!_sy_pq_event_type_from_name ((const char *) sqlite3_column_text (stmt, 3), &e->type))
    e->type = SY_PQ_EVENT_DIP;
  e->closed = g_strcmp0 ((const char *) sqlite3_column_text (stmt, 4), "closed") == 0;
  e->reported = TRUE;
  e->severity = CLAMP (sqlite3_column_int (stmt, 5), SY_PQ_SEVERITY_INFO, SY_PQ_SEVERITY_CRITICAL);
  e->start_ms = sqlite3_column_int64 (stmt, 6);
  e->end_ms = sqlite3_column_int64 (stmt, 7);
  e->last_ms = e->closed ? e->end_ms : e->start_ms;
  e->nominal = sqlite3_column_double (stmt, 8);
  e->threshold = sqlite3_column_double (stmt, 9);
  e->value = sqlite3_column_double (stmt, 10);

  text = (const char *) sqlite3_column_text (stmt, 11);
  e->worst_phase = text != NULL && text[0] >= 'a' && text[0] <= 'c' ? text[0] - 'a' : -1;
  text = (const char *) sqlite3_column_text (stmt, 12);
  for (; text != NULL && *text != '\0'; text++)
    {
      if (*text >= 'a' && *text <= 'c')
        e->phases |= 1u << (*text - 'a');
    }
  text = (const char *) sqlite3_column_text (stmt, 13);
  if (text != NULL)
    g_strlcpy (e->dip_class, text, sizeof e->dip_class);
  e->method = static_method ((const char *) sqlite3_column_text (stmt, 14));
  if (sqlite3_column_type (stmt, 15) != SQLITE_NULL)
    {
      e->ack_ms = sqlite3_column_int64 (stmt, 15);
      e->ack_by = g_strdup ((const char *) sqlite3_column_text (stmt, 16));
      e->ack_note = g_strdup ((const char *) sqlite3_column_text (stmt, 17));
    }
}

gboolean
_sy_pq_events_load_open (sqlite3         *db,
                         gint64           meter_id,
                         SyPqMeterState  *state,
                         GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = _sy_sql_prepare (db, "SELECT " EVENT_COLUMNS " FROM pq_events WHERE state = 'open' AND meter_id = ? "
                          "ORDER BY id", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, meter_id);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SyPqEvent e;

      read_event (stmt, &e);
      /* The state machine never carries an acknowledgement: the row keeps it. */
      _sy_pq_event_clear (&e);
      e.ack_ms = 0;
      _sy_pq_event_clear (&state->events[e.type]);
      state->events[e.type] = e;
      state->active[e.type] = TRUE;
      state->last_ts_ms = MAX (state->last_ts_ms, e.start_ms);
    }

  return rc == SQLITE_DONE || _sy_sql_check (db, rc, "Loading open events", error);
}

static void
bind_filter (sqlite3_stmt     *stmt,
             const SyPqFilter *f)
{
  sqlite3_bind_int64 (stmt, 1, f->meter_id);
  sqlite3_bind_int64 (stmt, 2, f->site_id);
  bind_text_or_null (stmt, 3, f->type);
  bind_text_or_null (stmt, 4, f->state);
  sqlite3_bind_int64 (stmt, 5, f->from_ms);
  sqlite3_bind_int64 (stmt, 6, f->to_ms);
  sqlite3_bind_int (stmt, 7, f->min_severity);
  sqlite3_bind_int (stmt, 8, f->acknowledged);
}

static gint64
count_rows (sqlite3          *db,
            const char       *sql,
            const SyPqFilter *filter,
            GError          **error)
{
  g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db, sql, error);

  if (stmt == NULL)
    return -1;
  bind_filter (stmt, filter);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      _sy_sql_check (db, sqlite3_errcode (db), "Counting events", error);
      return -1;
    }

  return sqlite3_column_int64 (stmt, 0);
}

gboolean
_sy_pq_events_list (SyStore          *store,
                    const SyPqFilter *filter,
                    gint64            limit,
                    gint64            offset,
                    GString          *items,
                    gint64           *out_total,
                    GError          **error)
{
  g_auto(SyReaderGuard) guard = { store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 total;
  int rc;

  g_return_val_if_fail (SY_IS_STORE (store), FALSE);
  g_return_val_if_fail (filter != NULL && items != NULL, FALSE);

  guard.db = _sy_store_reader_acquire (store);

  total = count_rows (guard.db, "SELECT count(*) FROM pq_events" FILTER_SQL ("start_ms"), filter, error);
  if (total < 0)
    return FALSE;

  stmt = _sy_sql_prepare (guard.db, "SELECT " EVENT_COLUMNS " FROM pq_events" FILTER_SQL ("start_ms")
                          " ORDER BY start_ms DESC, id DESC LIMIT ?9 OFFSET ?10", error);
  if (stmt == NULL)
    return FALSE;
  bind_filter (stmt, filter);
  sqlite3_bind_int64 (stmt, 9, limit);
  sqlite3_bind_int64 (stmt, 10, offset);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SyPqEvent e;

      read_event (stmt, &e);
      if (items->len > 0)
        g_string_append_c (items, ',');
      _sy_pq_event_append_json (items, &e);
      _sy_pq_event_clear (&e);
    }
  if (rc != SQLITE_DONE)
    return _sy_sql_check (guard.db, rc, "Listing events", error);

  *out_total = total;
  return TRUE;
}

char *
_sy_pq_events_get (SyStore  *store,
                   gint64    id,
                   GError  **error)
{
  g_auto(SyReaderGuard) guard = { store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GString *out;
  SyPqEvent e;

  g_return_val_if_fail (SY_IS_STORE (store), NULL);

  guard.db = _sy_store_reader_acquire (store);
  stmt = _sy_sql_prepare (guard.db, "SELECT " EVENT_COLUMNS " FROM pq_events WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No power-quality event %" G_GINT64_FORMAT, id);
      return NULL;
    }

  read_event (stmt, &e);
  out = g_string_new (NULL);
  _sy_pq_event_append_json (out, &e);
  _sy_pq_event_clear (&e);

  return g_string_free (out, FALSE);
}

typedef struct
{
  const char *table;
  gint64      id;
  const char *client_id;
  const char *note;
  gboolean    found;
} AckWrite;

static gboolean
ack_write (SyWriteBatch  *batch,
           gpointer       data,
           GError       **error)
{
  AckWrite *w = data;
  /* Literals: the writer caches statements by the address of their SQL. */
  static const char pq_sql[] = "UPDATE pq_events SET ack_ms = ?1, ack_by = ?2, ack_note = ?3 WHERE id = ?4";
  static const char protection_sql[] =
    "UPDATE protection_events SET ack_ms = ?1, ack_by = ?2, ack_note = ?3 WHERE id = ?4";
  sqlite3_stmt *stmt = _sy_write_batch_prepare (batch, g_str_equal (w->table, "pq_events") ? pq_sql : protection_sql,
                                                error);
  int rc;

  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, sy_time_now_ms ());
  bind_text_or_null (stmt, 2, w->client_id);
  bind_text_or_null (stmt, 3, w->note);
  sqlite3_bind_int64 (stmt, 4, w->id);
  rc = sqlite3_step (stmt);
  if (!_sy_sql_check (_sy_write_batch_get_db (batch), rc == SQLITE_DONE ? SQLITE_OK : rc, "Acknowledging", error))
    return FALSE;

  w->found = sqlite3_changes (_sy_write_batch_get_db (batch)) > 0;
  return TRUE;
}

gboolean
_sy_pq_ack_row (SyStore     *store,
                const char  *table,
                gint64       id,
                const char  *client_id,
                const char  *note,
                GError     **error)
{
  AckWrite w = { table, id, client_id, note, FALSE };

  g_return_val_if_fail (SY_IS_STORE (store), FALSE);
  g_return_val_if_fail (g_str_equal (table, "pq_events") || g_str_equal (table, "protection_events"), FALSE);

  if (!_sy_store_write_sync (store, ack_write, &w, error))
    return FALSE;

  if (!w.found)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No event %" G_GINT64_FORMAT, id);
      return FALSE;
    }

  return TRUE;
}

char *
_sy_pq_events_acknowledge (SyStore     *store,
                           gint64       id,
                           const char  *client_id,
                           const char  *note,
                           GError     **error)
{
  if (!_sy_pq_ack_row (store, "pq_events", id, client_id, note, error))
    {
      if (error != NULL && g_error_matches (*error, SY_ERROR, SY_ERROR_NOT_FOUND))
        {
          g_clear_error (error);
          g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No power-quality event %" G_GINT64_FORMAT, id);
        }
      return NULL;
    }

  return _sy_pq_events_get (store, id, error);
}

gboolean
_sy_pq_parse_iso_week (const char *text,
                       gint64     *out_ms)
{
  g_autoptr(GDate) jan4 = NULL;
  g_autoptr(GDate) epoch = NULL;
  guint64 year;
  guint64 week;
  char *end;

  if (text == NULL || strlen (text) != 8 || text[4] != '-' || text[5] != 'W' ||
      !g_ascii_isdigit (text[0]) || !g_ascii_isdigit (text[6]) || !g_ascii_isdigit (text[7]))
    return FALSE;

  year = g_ascii_strtoull (text, &end, 10);
  if (end != text + 4 || year < 1970 || year > 9998)
    return FALSE;
  week = g_ascii_strtoull (text + 6, &end, 10);
  if (*end != '\0' || week < 1 || week > 53)
    return FALSE;

  /* 4 January is always in week 1; its week's Monday starts the ISO year. */
  jan4 = g_date_new_dmy (4, G_DATE_JANUARY, (GDateYear) year);
  g_date_subtract_days (jan4, g_date_get_weekday (jan4) - G_DATE_MONDAY);
  g_date_add_days (jan4, (week - 1) * 7);
  if (g_date_get_iso8601_week_of_year (jan4) != week)
    return FALSE;

  epoch = g_date_new_dmy (1, G_DATE_JANUARY, 1970);
  *out_ms = (gint64) (g_date_get_julian (jan4) - g_date_get_julian (epoch)) * 86400 * 1000;
  return TRUE;
}

static void
add_share (JsonBuilder *b,
           const char  *name,
           double       limit,
           gint64       within,
           gint64       measured)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "limit");
  json_builder_add_double_value (b, limit);
  json_builder_set_member_name (b, "intervals_measured");
  json_builder_add_int_value (b, measured);
  json_builder_set_member_name (b, "intervals_within");
  json_builder_add_int_value (b, within);
  json_builder_set_member_name (b, "share_within");
  if (measured > 0)
    json_builder_add_double_value (b, (double) within / measured);
  else
    json_builder_add_null_value (b);
  /* EN 50160: 95 % of the 10-minute values of a week. */
  json_builder_set_member_name (b, "compliant");
  if (measured > 0)
    json_builder_add_boolean_value (b, within * 100 >= measured * 95);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
}

static void
add_table (JsonBuilder        *b,
           const char         *name,
           const char * const *rows,
           guint               n_rows,
           const char * const *columns,
           guint               n_columns,
           const gint64       *counts)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "rows");
  json_builder_begin_array (b);
  for (guint r = 0; r < n_rows; r++)
    json_builder_add_string_value (b, rows[r]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "columns");
  json_builder_begin_array (b);
  for (guint c = 0; c < n_columns; c++)
    json_builder_add_string_value (b, columns[c]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "counts");
  json_builder_begin_array (b);
  for (guint r = 0; r < n_rows; r++)
    {
      json_builder_begin_array (b);
      for (guint c = 0; c < n_columns; c++)
        json_builder_add_int_value (b, counts[r * n_columns + c]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

JsonNode *
_sy_pq_summary (SyStore  *store,
                gint64    meter_id,
                gint64    week_start_ms,
                GError  **error)
{
  static const char * const dip_rows[] = { "90>u>=80", "80>u>=70", "70>u>=40", "40>u>=5", "5>u" };
  static const char * const dip_columns[] = { "10<=t<=200", "200<t<=500", "500<t<=1000", "1000<t<=5000",
                                              "5000<t<=60000" };
  static const char * const swell_rows[] = { "u>=120", "120>u>110" };
  static const char * const swell_columns[] = { "10<=t<=500", "500<t<=5000", "5000<t<=60000" };
  g_auto(SyReaderGuard) guard = { store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *from_text = NULL;
  g_autofree char *to_text = NULL;
  gint64 week_end_ms = week_start_ms + WEEK_MS;
  gint64 dips[5 * 5] = { 0 };
  gint64 swells[2 * 3] = { 0 };
  gint64 short_interruptions = 0;
  gint64 long_interruptions = 0;
  gint64 with_data = 0;
  gint64 v_measured = 0, v_within = 0;
  gint64 thd_measured = 0, thd_within = 0;
  gint64 imb_measured = 0, imb_within = 0;
  SyPqConfig config;
  double nominal = 0;
  int phases = 0;
  gint64 site_id = 0;
  int rc;

  g_return_val_if_fail (SY_IS_STORE (store), NULL);

  guard.db = _sy_store_reader_acquire (store);

  if (!_sy_pq_config_load_effective (guard.db, meter_id, &config, &nominal, &phases, &site_id, error))
    return NULL;

  /* 10-minute means of the stored readings (EN 50160 evaluates 10-minute RMS means). */
  stmt = _sy_sql_prepare (guard.db,
                          "SELECT avg (voltage_a), avg (voltage_b), avg (voltage_c), avg (thd_v_pct) "
                          "FROM readings WHERE meter_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 "
                          "GROUP BY (ts_ms - ?2) / 600000", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, meter_id);
  sqlite3_bind_int64 (stmt, 2, week_start_ms);
  sqlite3_bind_int64 (stmt, 3, week_end_ms);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      double v[3];
      guint present = 0;
      gboolean ok = TRUE;

      with_data++;
      for (int i = 0; i < 3; i++)
        {
          if (sqlite3_column_type (stmt, i) == SQLITE_NULL)
            continue;
          present |= 1u << i;
          v[i] = sqlite3_column_double (stmt, i);
          if (fabs (v[i] - nominal) > 0.1 * nominal)
            ok = FALSE;
        }
      if (present != 0)
        {
          v_measured++;
          v_within += ok;
        }
      if (present == 7)
        {
          imb_measured++;
          imb_within += _sy_pq_imbalance_nema (v) <= 2.0;
        }
      if (sqlite3_column_type (stmt, 3) != SQLITE_NULL)
        {
          thd_measured++;
          thd_within += sqlite3_column_double (stmt, 3) <= 8.0;
        }
    }
  if (rc != SQLITE_DONE)
    {
      _sy_sql_check (guard.db, rc, "Reading the week's readings", error);
      return NULL;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* Closed events that started in the week, by class. */
  stmt = _sy_sql_prepare (guard.db,
                          "SELECT type, dip_class, count(*) FROM pq_events WHERE meter_id = ?1 AND start_ms >= ?2 "
                          "AND start_ms < ?3 AND state = 'closed' AND dip_class IS NOT NULL GROUP BY type, dip_class",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, meter_id);
  sqlite3_bind_int64 (stmt, 2, week_start_ms);
  sqlite3_bind_int64 (stmt, 3, week_end_ms);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *type = (const char *) sqlite3_column_text (stmt, 0);
      const char *cls = (const char *) sqlite3_column_text (stmt, 1);
      gint64 n = sqlite3_column_int64 (stmt, 2);

      if (g_strcmp0 (type, "dip") == 0 && strlen (cls) == 2 && cls[0] >= '1' && cls[0] <= '5' &&
          cls[1] >= 'A' && cls[1] <= 'E')
        dips[(cls[0] - '1') * 5 + (cls[1] - 'A')] += n;
      else if (g_strcmp0 (type, "swell") == 0 && strlen (cls) == 3 && cls[0] == 'S' &&
               (cls[1] == '1' || cls[1] == '2') && cls[2] >= 'A' && cls[2] <= 'C')
        swells[(cls[1] - '1') * 3 + (cls[2] - 'A')] += n;
      else if (g_strcmp0 (type, "interruption") == 0)
        {
          if (g_strcmp0 (cls, "LI") == 0)
            long_interruptions += n;
          else
            short_interruptions += n;
        }
    }
  if (rc != SQLITE_DONE)
    {
      _sy_sql_check (guard.db, rc, "Counting the week's events", error);
      return NULL;
    }

  from_text = sy_time_format_iso8601 (week_start_ms);
  to_text = sy_time_format_iso8601 (week_end_ms);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "meter_id");
  json_builder_add_int_value (b, meter_id);
  json_builder_set_member_name (b, "from");
  json_builder_add_string_value (b, from_text);
  json_builder_set_member_name (b, "to");
  json_builder_add_string_value (b, to_text);
  json_builder_set_member_name (b, "nominal_voltage");
  json_builder_add_double_value (b, nominal);
  json_builder_set_member_name (b, "intervals_total");
  json_builder_add_int_value (b, WEEK_MS / TEN_MINUTES_MS);
  json_builder_set_member_name (b, "intervals_with_data");
  json_builder_add_int_value (b, with_data);
  add_share (b, "voltage", 10.0, v_within, v_measured);
  add_share (b, "thd", 8.0, thd_within, thd_measured);
  add_share (b, "imbalance", 2.0, imb_within, imb_measured);
  add_table (b, "dips", dip_rows, 5, dip_columns, 5, dips);
  add_table (b, "swells", swell_rows, 2, swell_columns, 3, swells);
  json_builder_set_member_name (b, "interruptions");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "short");
  json_builder_add_int_value (b, short_interruptions);
  json_builder_set_member_name (b, "long");
  json_builder_add_int_value (b, long_interruptions);
  json_builder_end_object (b);
  json_builder_end_object (b);

  return json_builder_get_root (b);
}
