/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-analytics"

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sy-analytics-private.h"
#include "sy-error.h"

#define RESET_FACTOR     2.0
#define RESET_SLACK_KWH  0.01
#define INTERVAL_SAMPLES 64

static const char raw_energy_sql[] =
  "SELECT ts_ms, total_energy, total_power FROM readings "
  "WHERE meter_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 AND total_energy IS NOT NULL ORDER BY ts_ms";
static const char prev_energy_sql[] =
  "SELECT ts_ms, total_energy, total_power FROM readings "
  "WHERE meter_id = ?1 AND ts_ms < ?2 AND total_energy IS NOT NULL ORDER BY ts_ms DESC LIMIT 1";

static const char *meter_columns = "m.id, m.site_id, m.kind, m.name";

const char *
_sy_entity_type_name (SyEntityType type)
{
  switch (type)
    {
    case SY_ENTITY_METER:
      return "meter";
    case SY_ENTITY_GROUP:
      return "group";
    case SY_ENTITY_SITE:
      return "site";
    default:
      g_assert_not_reached ();
    }
}

gboolean
_sy_meter_kind_is_signed (const char *kind)
{
  return g_strcmp0 (kind, "grid") == 0 || g_strcmp0 (kind, "battery") == 0;
}

gint64
_sy_analytics_floor (gint64 a,
                     gint64 b)
{
  gint64 q = a / b;

  if ((a % b != 0) && ((a < 0) != (b < 0)))
    q--;
  return q * b;
}

static void
meter_info_clear (gpointer data)
{
  SyMeterInfo *info = data;

  g_clear_pointer (&info->name, g_free);
}

static const char *
exists_sql (SyEntityType type)
{
  switch (type)
    {
    case SY_ENTITY_METER:
      return "SELECT name FROM meters WHERE id = ?1";
    case SY_ENTITY_GROUP:
      return "SELECT name FROM meter_groups WHERE id = ?1";
    case SY_ENTITY_SITE:
      return "SELECT name FROM sites WHERE id = ?1";
    default:
      g_assert_not_reached ();
    }
}

char *
_sy_analytics_dup_name (sqlite3      *db,
                        SyEntityType  type,
                        gint64        id)
{
  g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db, exists_sql (type), NULL);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return NULL;
  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

GArray *
_sy_analytics_load_meters (sqlite3       *db,
                           SyEntityType   type,
                           gint64         id,
                           GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) meters = NULL;
  g_autofree char *name = NULL;
  g_autofree char *sql = NULL;
  int rc;

  name = _sy_analytics_dup_name (db, type, id);
  if (name == NULL)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No %s %" G_GINT64_FORMAT,
                   _sy_entity_type_name (type), id);
      return NULL;
    }

  switch (type)
    {
    case SY_ENTITY_METER:
      sql = g_strdup_printf ("SELECT %s FROM meters m WHERE m.id = ?1", meter_columns);
      break;
    case SY_ENTITY_GROUP:
      sql = g_strdup_printf ("SELECT %s FROM meters m JOIN meter_group_members g ON g.meter_id = m.id "
                             "WHERE g.group_id = ?1 ORDER BY m.id", meter_columns);
      break;
    case SY_ENTITY_SITE:
      sql = g_strdup_printf ("SELECT %s FROM meters m WHERE m.site_id = ?1 ORDER BY m.id", meter_columns);
      break;
    default:
      g_assert_not_reached ();
    }

  stmt = _sy_sql_prepare (db, sql, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);

  meters = g_array_new (FALSE, TRUE, sizeof (SyMeterInfo));
  g_array_set_clear_func (meters, meter_info_clear);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SyMeterInfo info = { 0, };

      info.id = sqlite3_column_int64 (stmt, 0);
      info.site_id = sqlite3_column_int64 (stmt, 1);
      g_strlcpy (info.kind, (const char *) sqlite3_column_text (stmt, 2), sizeof info.kind);
      info.name = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      info.signed_register = _sy_meter_kind_is_signed (info.kind);
      g_array_append_val (meters, info);
    }
  if (!_sy_sql_check (db, rc, "Listing meters", error))
    return NULL;

  return g_steal_pointer (&meters);
}

void
_sy_analytics_db_init (SyAnalyticsDb *adb,
                       sqlite3       *db)
{
  memset (adb, 0, sizeof *adb);
  adb->db = db;
}

void
_sy_analytics_db_clear (SyAnalyticsDb *adb)
{
  g_clear_pointer (&adb->raw_energy, sqlite3_finalize);
  g_clear_pointer (&adb->prev_energy, sqlite3_finalize);
  adb->db = NULL;
}

static sqlite3_stmt *
get_stmt (SyAnalyticsDb  *adb,
          sqlite3_stmt  **slot,
          const char     *sql,
          GError        **error)
{
  if (*slot == NULL)
    *slot = _sy_sql_prepare (adb->db, sql, error);
  else
    sqlite3_reset (*slot);

  return *slot;
}

void
_sy_energy_walker_init (SyEnergyWalker *w,
                        gboolean        signed_register)
{
  memset (w, 0, sizeof *w);
  w->signed_register = signed_register;
  w->prev_power = NAN;
}

static double
column_or_nan (sqlite3_stmt *stmt,
               int           column)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return NAN;
  return sqlite3_column_double (stmt, column);
}

gboolean
_sy_energy_walker_seed (SyEnergyWalker *w,
                        SyAnalyticsDb  *adb,
                        gint64          meter_id,
                        gint64          before_ms,
                        GError        **error)
{
  sqlite3_stmt *stmt = get_stmt (adb, &adb->prev_energy, prev_energy_sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, meter_id);
  sqlite3_bind_int64 (stmt, 2, before_ms);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      w->have_prev = TRUE;
      w->prev_ts = sqlite3_column_int64 (stmt, 0);
      w->prev_value = sqlite3_column_double (stmt, 1);
      w->prev_power = fabs (column_or_nan (stmt, 2));
      rc = SQLITE_DONE;
    }
  sqlite3_reset (stmt);

  return _sy_sql_check (adb->db, rc, "Reading the previous register", error);
}

/* The largest step the power readings allow, kWh; INFINITY when either is unknown. */
static double
plausible_kwh (double  power_a,
               double  power_b,
               gint64  dt_ms)
{
  if (isnan (power_a) || isnan (power_b))
    return INFINITY;

  return RESET_FACTOR * MAX (power_a, power_b) / 1000.0 * (double) MAX (dt_ms, 0) / 3.6e6 + RESET_SLACK_KWH;
}

double
_sy_energy_walker_step (SyEnergyWalker *w,
                        gint64          ts_ms,
                        double          value,
                        double          power_w)
{
  double dv = 0.0;
  double power = fabs (power_w);

  if (w->have_prev)
    {
      dv = value - w->prev_value;

      if (!w->signed_register)
        {
          if (dv < 0)
            {
              w->resets++;
              dv = 0.0;
            }
        }
      else if (fabs (dv) > plausible_kwh (w->prev_power, power, ts_ms - w->prev_ts))
        {
          w->resets++;
          dv = 0.0;
        }

      if (dv > 0)
        w->imported += dv;
      else
        w->exported -= dv;
    }

  w->have_prev = TRUE;
  w->prev_ts = ts_ms;
  w->prev_value = value;
  w->prev_power = power;

  return dv;
}

gboolean
_sy_energy_walker_raw (SyEnergyWalker *w,
                       SyAnalyticsDb  *adb,
                       gint64          meter_id,
                       gint64          from_ms,
                       gint64          to_ms,
                       double         *out_net,
                       GError        **error)
{
  sqlite3_stmt *stmt = get_stmt (adb, &adb->raw_energy, raw_energy_sql, error);
  double net = 0.0;
  int rc;

  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, meter_id);
  sqlite3_bind_int64 (stmt, 2, from_ms);
  sqlite3_bind_int64 (stmt, 3, to_ms);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    net += _sy_energy_walker_step (w, sqlite3_column_int64 (stmt, 0), sqlite3_column_double (stmt, 1),
                                   column_or_nan (stmt, 2));
  sqlite3_reset (stmt);

  *out_net = net;
  return _sy_sql_check (adb->db, rc, "Reading registers", error);
}

void
_sy_rollup_row_read (sqlite3_stmt *stmt,
                     SyRollupRow  *row)
{
  row->bucket_ms = sqlite3_column_int64 (stmt, 0);
  row->count = sqlite3_column_int64 (stmt, 1);
  row->power_count = sqlite3_column_int64 (stmt, 2);
  row->sum_power = sqlite3_column_double (stmt, 3);
  row->min_power = column_or_nan (stmt, 4);
  row->max_power = column_or_nan (stmt, 5);
  if (sqlite3_column_type (stmt, 6) == SQLITE_NULL)
    {
      row->energy_first_ts = -1;
      row->energy_last_ts = -1;
      row->energy_first = row->energy_last = NAN;
    }
  else
    {
      row->energy_first_ts = sqlite3_column_int64 (stmt, 6);
      row->energy_first = sqlite3_column_double (stmt, 7);
      row->energy_last_ts = sqlite3_column_int64 (stmt, 8);
      row->energy_last = sqlite3_column_double (stmt, 9);
    }
}

gboolean
_sy_energy_walker_bucket (SyEnergyWalker    *w,
                          SyAnalyticsDb     *adb,
                          gint64             meter_id,
                          const SyRollupRow *row,
                          double            *out_net,
                          GError           **error)
{
  double power = NAN;
  double inner;
  double net;
  gboolean suspicious;

  *out_net = 0.0;
  if (row->energy_first_ts < 0)
    return TRUE;

  if (!isnan (row->min_power))
    power = MAX (fabs (row->min_power), fabs (row->max_power));

  /* The bucket's extremes stand in for the power at its first reading. */
  net = _sy_energy_walker_step (w, row->energy_first_ts, row->energy_first, power);

  if (row->energy_last_ts == row->energy_first_ts)
    {
      *out_net = net;
      return TRUE;
    }

  inner = row->energy_last - row->energy_first;
  suspicious = (!w->signed_register && inner < 0) ||
               fabs (inner) > plausible_kwh (power, power, row->energy_last_ts - row->energy_first_ts);

  if (suspicious)
    {
      double replayed;

      if (!_sy_energy_walker_raw (w, adb, meter_id, row->energy_first_ts + 1, row->energy_last_ts + 1,
                                  &replayed, error))
        return FALSE;
      net += replayed;
    }
  else
    net += _sy_energy_walker_step (w, row->energy_last_ts, row->energy_last, power);

  *out_net = net;
  return TRUE;
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

gint64
_sy_analytics_typical_interval (SyAnalyticsDb *adb,
                                gint64         meter_id,
                                gint64         before_ms,
                                GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 ts[INTERVAL_SAMPLES + 1];
  gint64 gaps[INTERVAL_SAMPLES];
  guint n = 0;
  int rc;

  stmt = _sy_sql_prepare (adb->db,
                          "SELECT ts_ms FROM readings WHERE meter_id = ?1 AND ts_ms < ?2 "
                          "ORDER BY ts_ms DESC LIMIT " G_STRINGIFY (INTERVAL_SAMPLES) " + 1",
                          error);
  if (stmt == NULL)
    return -1;

  sqlite3_bind_int64 (stmt, 1, meter_id);
  sqlite3_bind_int64 (stmt, 2, before_ms);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW && n < G_N_ELEMENTS (ts))
    ts[n++] = sqlite3_column_int64 (stmt, 0);
  if (rc != SQLITE_ROW && !_sy_sql_check (adb->db, rc, "Reading timestamps", error))
    return -1;

  if (n < 2)
    return 0;

  for (guint i = 0; i + 1 < n; i++)
    gaps[i] = ts[i] - ts[i + 1];
  qsort (gaps, n - 1, sizeof gaps[0], (int (*) (const void *, const void *)) compare_gint64);

  return gaps[(n - 1) / 2];
}

void
_sy_analytics_append_number (GString *out,
                             double   value)
{
  char buf[48];
  char *end = buf + sizeof buf;
  char *p = end;
  guint64 whole, frac;
  gboolean negative;
  double scaled;

  if (!isfinite (value))
    {
      g_string_append_len (out, "null", 4);
      return;
    }

  negative = value < 0;
  scaled = round (fabs (value) * 1e6);
  if (scaled >= 9e15)
    {
      char text[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (text, sizeof text, "%.15g", value);
      g_string_append (out, text);
      return;
    }

  whole = (guint64) scaled / 1000000;
  frac = (guint64) scaled % 1000000;

  if (frac != 0)
    {
      int digits = 6;

      while (frac % 10 == 0)
        {
          frac /= 10;
          digits--;
        }
      while (digits-- > 0)
        {
          *--p = (char) ('0' + frac % 10);
          frac /= 10;
        }
      *--p = '.';
    }
  do
    {
      *--p = (char) ('0' + whole % 10);
      whole /= 10;
    }
  while (whole != 0);
  if (negative && (end - p != 1 || p[0] != '0'))
    *--p = '-';

  g_string_append_len (out, p, end - p);
}

void
_sy_analytics_append_json_string (GString    *out,
                                  const char *text)
{
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        default:
          if (*p < 0x20)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
}
