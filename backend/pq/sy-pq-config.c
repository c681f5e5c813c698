/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-pq"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sy-error.h"
#include "sy-pq-config-private.h"
#include "sy-time.h"

/* Every configurable field: JSON member, column and struct member share the name. */
typedef struct
{
  const char *name;
  gsize       offset;
  double      fallback;
  gboolean    integer;
} ConfigField;

static const ConfigField fields[] = {
  { "sag_v_threshold", G_STRUCT_OFFSET (SyPqConfig, sag_v_threshold), 0.9, FALSE },
  { "swell_v_threshold", G_STRUCT_OFFSET (SyPqConfig, swell_v_threshold), 1.1, FALSE },
  { "interruption_v_threshold", G_STRUCT_OFFSET (SyPqConfig, interruption_v_threshold), 0.1, FALSE },
  { "hysteresis_pct", G_STRUCT_OFFSET (SyPqConfig, hysteresis_pct), 2.0, FALSE },
  { "thd_pct_threshold", G_STRUCT_OFFSET (SyPqConfig, thd_pct_threshold), 8.0, FALSE },
  { "imbalance_pct_threshold", G_STRUCT_OFFSET (SyPqConfig, imbalance_pct_threshold), 2.0, FALSE },
  { "voltage_min_duration_ms", G_STRUCT_OFFSET (SyPqConfig, voltage_min_duration_ms), 0, TRUE },
  { "thd_min_duration_ms", G_STRUCT_OFFSET (SyPqConfig, thd_min_duration_ms), 0, TRUE },
  { "imbalance_min_duration_ms", G_STRUCT_OFFSET (SyPqConfig, imbalance_min_duration_ms), 0, TRUE },
};

#define N_FIELDS           G_N_ELEMENTS (fields)
#define FIELD_PTR(c, i)    ((double *) ((guint8 *) (c) + fields[i].offset))
#define MAX_DURATION_MS    3600000.0

typedef enum
{
  SOURCE_DEFAULT,
  SOURCE_SITE,
  SOURCE_METER,
} Source;

static const char * const source_names[] = { "default", "site", "meter" };

/* One stored row: which fields it sets and their values. */
typedef struct
{
  gboolean found;
  gboolean set[N_FIELDS];
  double   values[N_FIELDS];
} ConfigRow;

static int config_generation;

void
_sy_pq_config_init_defaults (SyPqConfig *config)
{
  g_return_if_fail (config != NULL);

  for (guint i = 0; i < N_FIELDS; i++)
    *FIELD_PTR (config, i) = fields[i].fallback;
}

guint
_sy_pq_config_get_generation (void)
{
  return (guint) g_atomic_int_get (&config_generation);
}

gboolean
_sy_pq_config_validate (const SyPqConfig  *c,
                        GError           **error)
{
  g_return_val_if_fail (c != NULL, FALSE);

  /* Field by field first, so that a single bad value is named as itself. */
  if (!(c->sag_v_threshold > 0 && c->sag_v_threshold < 1))
    {
      sy_error_set_field (error, "sag_v_threshold", "must be greater than 0 and below 1 (a fraction of the nominal voltage)");
      return FALSE;
    }
  if (!(c->swell_v_threshold > 1 && c->swell_v_threshold <= 10))
    {
      sy_error_set_field (error, "swell_v_threshold", "must be above 1 and at most 10 (a fraction of the nominal voltage)");
      return FALSE;
    }
  if (!(c->interruption_v_threshold > 0 && c->interruption_v_threshold < 1))
    {
      sy_error_set_field (error, "interruption_v_threshold", "must be greater than 0 and below 1 (a fraction of the nominal voltage)");
      return FALSE;
    }
  if (!(c->hysteresis_pct >= 0 && c->hysteresis_pct <= 50))
    {
      sy_error_set_field (error, "hysteresis_pct", "must not be negative (and at most 50)");
      return FALSE;
    }
  if (!(c->thd_pct_threshold > 0 && c->thd_pct_threshold <= 100))
    {
      sy_error_set_field (error, "thd_pct_threshold", "must be positive (and at most 100)");
      return FALSE;
    }
  if (!(c->imbalance_pct_threshold > 0 && c->imbalance_pct_threshold <= 100))
    {
      sy_error_set_field (error, "imbalance_pct_threshold", "must be positive (and at most 100)");
      return FALSE;
    }
  for (guint i = 0; i < N_FIELDS; i++)
    {
      double v = *FIELD_PTR (c, i);

      if (fields[i].integer && !(v >= 0 && v <= MAX_DURATION_MS))
        {
          sy_error_set_field (error, fields[i].name, "must not be negative (and at most one hour)");
          return FALSE;
        }
    }

  /* Then the rules between fields. */
  if (c->interruption_v_threshold >= c->sag_v_threshold)
    {
      sy_error_set_field (error, "interruption_v_threshold", "must be below sag_v_threshold (%g)", c->sag_v_threshold);
      return FALSE;
    }
  if (c->sag_v_threshold + c->hysteresis_pct / 100 >= 1 ||
      c->swell_v_threshold - c->hysteresis_pct / 100 <= 1)
    {
      sy_error_set_field (error, "hysteresis_pct", "too large: a dip or swell could not end inside the nominal band");
      return FALSE;
    }

  return TRUE;
}

static void
config_row_clear (ConfigRow *row)
{
  memset (row, 0, sizeof *row);
}

static gboolean
load_row (sqlite3     *db,
          const char  *owner_column,
          gint64       owner_id,
          ConfigRow   *row,
          GError     **error)
{
  g_autoptr(GString) sql = g_string_new ("SELECT ");
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  config_row_clear (row);
  if (owner_id <= 0)
    return TRUE;

  for (guint i = 0; i < N_FIELDS; i++)
    g_string_append_printf (sql, "%s%s", i > 0 ? ", " : "", fields[i].name);
  g_string_append_printf (sql, " FROM pq_config WHERE %s = ?", owner_column);

  stmt = _sy_sql_prepare (db, sql->str, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, owner_id);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      row->found = TRUE;
      for (guint i = 0; i < N_FIELDS; i++)
        {
          if (sqlite3_column_type (stmt, i) != SQLITE_NULL)
            {
              row->set[i] = TRUE;
              row->values[i] = sqlite3_column_double (stmt, i);
            }
        }
      return TRUE;
    }

  return rc == SQLITE_DONE || _sy_sql_check (db, rc, "Reading pq_config", error);
}

/* Fills @out from @meter, then @site, then the defaults; @sources may be NULL. */
static void
merge_rows (const ConfigRow *meter,
            const ConfigRow *site,
            SyPqConfig      *out,
            Source          *sources)
{
  for (guint i = 0; i < N_FIELDS; i++)
    {
      Source source = SOURCE_DEFAULT;
      double value = fields[i].fallback;

      if (meter != NULL && meter->set[i])
        {
          source = SOURCE_METER;
          value = meter->values[i];
        }
      else if (site != NULL && site->set[i])
        {
          source = SOURCE_SITE;
          value = site->values[i];
        }

      *FIELD_PTR (out, i) = value;
      if (sources != NULL)
        sources[i] = source;
    }
}

static gboolean
load_meter (sqlite3  *db,
            gint64    meter_id,
            double   *nominal,
            int      *phases,
            gint64   *site_id,
            GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = _sy_sql_prepare (db, "SELECT nominal_voltage, phases, site_id FROM meters WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, meter_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No meter %" G_GINT64_FORMAT, meter_id);
      return FALSE;
    }

  *nominal = sqlite3_column_double (stmt, 0);
  *phases = sqlite3_column_int (stmt, 1);
  *site_id = sqlite3_column_int64 (stmt, 2);
  return TRUE;
}

static gboolean
site_exists (sqlite3 *db,
             gint64   site_id)
{
  g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db, "SELECT 1 FROM sites WHERE id = ?", NULL);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, site_id);
  return sqlite3_step (stmt) == SQLITE_ROW;
}

/**
 * _sy_pq_config_load_effective:
 *
 * Any thread that owns @db; used by the detector when it first sees a meter and after a
 * configuration change.
 */
gboolean
_sy_pq_config_load_effective (sqlite3     *db,
                              gint64       meter_id,
                              SyPqConfig  *out,
                              double      *out_nominal,
                              int         *out_phases,
                              gint64      *out_site_id,
                              GError     **error)
{
  ConfigRow meter_row;
  ConfigRow site_row;
  double nominal = 0;
  int phases = 0;
  gint64 site_id = 0;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (!load_meter (db, meter_id, &nominal, &phases, &site_id, error) ||
      !load_row (db, "meter_id", meter_id, &meter_row, error) ||
      !load_row (db, "site_id", site_id, &site_row, error))
    return FALSE;

  merge_rows (&meter_row, &site_row, out, NULL);

  if (out_nominal != NULL)
    *out_nominal = nominal;
  if (out_phases != NULL)
    *out_phases = phases;
  if (out_site_id != NULL)
    *out_site_id = site_id;
  return TRUE;
}

static JsonNode *
config_to_json (gint64            meter_id,
                gint64            site_id,
                double            nominal,
                int               phases,
                const SyPqConfig *config,
                const Source     *sources)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  if (meter_id > 0)
    {
      json_builder_set_member_name (builder, "meter_id");
      json_builder_add_int_value (builder, meter_id);
    }
  json_builder_set_member_name (builder, "site_id");
  json_builder_add_int_value (builder, site_id);
  if (meter_id > 0)
    {
      json_builder_set_member_name (builder, "nominal_voltage");
      json_builder_add_double_value (builder, nominal);
      json_builder_set_member_name (builder, "phases");
      json_builder_add_int_value (builder, phases);
    }

  for (guint i = 0; i < N_FIELDS; i++)
    {
      double v = *FIELD_PTR (config, i);

      json_builder_set_member_name (builder, fields[i].name);
      if (fields[i].integer)
        json_builder_add_int_value (builder, (gint64) v);
      else
        json_builder_add_double_value (builder, v);
    }

  /* Where each value comes from, so that an operator sees what a site default overrides. */
  json_builder_set_member_name (builder, "sources");
  json_builder_begin_object (builder);
  for (guint i = 0; i < N_FIELDS; i++)
    {
      json_builder_set_member_name (builder, fields[i].name);
      json_builder_add_string_value (builder, source_names[sources[i]]);
    }
  json_builder_end_object (builder);

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

JsonNode *
_sy_pq_config_get (SyStore  *store,
                   gint64    meter_id,
                   gint64    site_id,
                   GError  **error)
{
  g_auto(SyReaderGuard) guard = { store, NULL };
  ConfigRow meter_row;
  ConfigRow site_row;
  SyPqConfig config;
  Source sources[N_FIELDS];
  double nominal = 0;
  int phases = 0;

  g_return_val_if_fail (SY_IS_STORE (store), NULL);
  g_return_val_if_fail ((meter_id > 0) != (site_id > 0), NULL);

  guard.db = _sy_store_reader_acquire (store);

  if (meter_id > 0)
    {
      if (!load_meter (guard.db, meter_id, &nominal, &phases, &site_id, error) ||
          !load_row (guard.db, "meter_id", meter_id, &meter_row, error))
        return NULL;
    }
  else
    {
      if (!site_exists (guard.db, site_id))
        {
          g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No site %" G_GINT64_FORMAT, site_id);
          return NULL;
        }
      config_row_clear (&meter_row);
    }

  if (!load_row (guard.db, "site_id", site_id, &site_row, error))
    return NULL;

  merge_rows (&meter_row, &site_row, &config, sources);

  return config_to_json (meter_id, site_id, nominal, phases, &config, sources);
}

typedef struct
{
  gint64      meter_id;
  gint64      site_id;
  ConfigRow   row;
  const char *client_id;
} ConfigWrite;

/* Statements on the writer are cached by the address of their SQL, so it is a literal; the
 * columns follow the order of fields[]. */
static const char config_delete_sql[] = "DELETE FROM pq_config WHERE meter_id IS ?1 AND site_id IS ?2";
static const char config_insert_sql[] =
  "INSERT INTO pq_config (meter_id, site_id, updated_ms, updated_by, sag_v_threshold, swell_v_threshold, "
  "interruption_v_threshold, hysteresis_pct, thd_pct_threshold, imbalance_pct_threshold, "
  "voltage_min_duration_ms, thd_min_duration_ms, imbalance_min_duration_ms) "
  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
G_STATIC_ASSERT (N_FIELDS == 9);

static void
bind_owner (sqlite3_stmt *stmt,
            int           index,
            gint64        id)
{
  if (id > 0)
    sqlite3_bind_int64 (stmt, index, id);
  else
    sqlite3_bind_null (stmt, index);
}

static gboolean
config_write (SyWriteBatch  *batch,
              gpointer       data,
              GError       **error)
{
  ConfigWrite *w = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  sqlite3_stmt *del;
  sqlite3_stmt *ins;
  int rc;

  del = _sy_write_batch_prepare (batch, config_delete_sql, error);
  if (del == NULL)
    return FALSE;
  bind_owner (del, 1, w->meter_id);
  bind_owner (del, 2, w->site_id);
  rc = sqlite3_step (del);
  if (!_sy_sql_check (db, rc, "Replacing pq_config", error))
    return FALSE;

  ins = _sy_write_batch_prepare (batch, config_insert_sql, error);
  if (ins == NULL)
    return FALSE;

  bind_owner (ins, 1, w->meter_id);
  bind_owner (ins, 2, w->site_id);
  sqlite3_bind_int64 (ins, 3, sy_time_now_ms ());
  if (w->client_id != NULL)
    sqlite3_bind_text (ins, 4, w->client_id, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (ins, 4);

  for (guint i = 0; i < N_FIELDS; i++)
    {
      if (!w->row.set[i])
        sqlite3_bind_null (ins, 5 + i);
      else if (fields[i].integer)
        sqlite3_bind_int64 (ins, 5 + i, (gint64) w->row.values[i]);
      else
        sqlite3_bind_double (ins, 5 + i, w->row.values[i]);
    }

  rc = sqlite3_step (ins);
  return _sy_sql_check (db, rc, "Storing pq_config", error);
}

/* Reads one body field into @row: a number (an integer for durations) or null (inherit). */
static gboolean
parse_field (JsonObject  *body,
             guint        i,
             ConfigRow   *row,
             GError     **error)
{
  JsonNode *node = json_object_get_member (body, fields[i].name);
  GType type;
  double value;

  if (node == NULL)
    return TRUE;

  if (JSON_NODE_HOLDS_NULL (node))
    {
      row->set[i] = FALSE;
      return TRUE;
    }

  type = json_node_get_value_type (node);
  if (!JSON_NODE_HOLDS_VALUE (node) || (type != G_TYPE_DOUBLE && type != G_TYPE_INT64))
    {
      sy_error_set_field (error, fields[i].name, "must be a number or null");
      return FALSE;
    }

  value = json_node_get_double (node);
  if (!isfinite (value) || (fields[i].integer && (type != G_TYPE_INT64 && value != floor (value))))
    {
      sy_error_set_field (error, fields[i].name, "must be %s", fields[i].integer ? "an integer" : "a finite number");
      return FALSE;
    }

  row->set[i] = TRUE;
  row->values[i] = value;
  return TRUE;
}

/* The pq room sits below api/, so it reads its few body fields itself. */
static gboolean
reject_unknown (JsonObject          *body,
                const char * const  *known,
                GError             **error)
{
  g_autoptr(GList) members = json_object_get_members (body);

  for (const GList *l = members; l != NULL; l = l->next)
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
get_id (JsonObject  *body,
        const char  *field,
        gint64      *out,
        GError     **error)
{
  JsonNode *node = json_object_get_member (body, field);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
      json_node_get_int (node) <= 0)
    {
      sy_error_set_field (error, field, "must be a positive integer id");
      return FALSE;
    }

  *out = json_node_get_int (node);
  return TRUE;
}

JsonNode *
_sy_pq_config_set (SyStore     *store,
                   JsonObject  *body,
                   const char  *client_id,
                   GError     **error)
{
  g_autofree const char **known = NULL;
  ConfigWrite w = { 0 };
  ConfigRow site_row;
  SyPqConfig effective;

  g_return_val_if_fail (SY_IS_STORE (store), NULL);
  g_return_val_if_fail (body != NULL, NULL);

  known = g_new0 (const char *, N_FIELDS + 3);
  known[0] = "meter_id";
  known[1] = "site_id";
  for (guint i = 0; i < N_FIELDS; i++)
    known[2 + i] = fields[i].name;

  if (!reject_unknown (body, (const char * const *) known, error))
    return NULL;

  if (!get_id (body, "meter_id", &w.meter_id, error) ||
      !get_id (body, "site_id", &w.site_id, error))
    return NULL;

  if ((w.meter_id > 0) == (w.site_id > 0))
    {
      sy_error_set_field (error, w.meter_id > 0 ? "site_id" : "meter_id",
                          "give either meter_id (a meter's thresholds) or site_id (the site defaults)");
      return NULL;
    }

  {
    g_auto(SyReaderGuard) guard = { store, NULL };
    gint64 meter_site = 0;
    double nominal;
    int phases;

    guard.db = _sy_store_reader_acquire (store);

    if (w.meter_id > 0)
      {
        g_autoptr(GError) local_error = NULL;

        if (!load_meter (guard.db, w.meter_id, &nominal, &phases, &meter_site, &local_error))
          {
            if (g_error_matches (local_error, SY_ERROR, SY_ERROR_NOT_FOUND))
              sy_error_set_field (error, "meter_id", "no meter %" G_GINT64_FORMAT, w.meter_id);
            else
              g_propagate_error (error, g_steal_pointer (&local_error));
            return NULL;
          }
        if (!load_row (guard.db, "meter_id", w.meter_id, &w.row, error) ||
            !load_row (guard.db, "site_id", meter_site, &site_row, error))
          return NULL;
      }
    else
      {
        if (!site_exists (guard.db, w.site_id))
          {
            sy_error_set_field (error, "site_id", "no site %" G_GINT64_FORMAT, w.site_id);
            return NULL;
          }
        if (!load_row (guard.db, "site_id", w.site_id, &w.row, error))
          return NULL;
        config_row_clear (&site_row);
      }
  }

  for (guint i = 0; i < N_FIELDS; i++)
    {
      if (!parse_field (body, i, &w.row, error))
        return NULL;
    }

  merge_rows (&w.row, &site_row, &effective, NULL);
  if (!_sy_pq_config_validate (&effective, error))
    return NULL;

  w.client_id = client_id;
  if (!_sy_store_write_sync (store, config_write, &w, error))
    return NULL;

  g_atomic_int_inc (&config_generation);

  return _sy_pq_config_get (store, w.meter_id, w.meter_id > 0 ? 0 : w.site_id, error);
}
