/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-demo"

#include "config.h"

#include <libsoup/soup.h>
#include <math.h>

#include "sy-demo-private.h"
#include "sy-error.h"
#include "sy-registry-private.h"
#include "sy-time.h"

/* The demo depot: a site created through the registry like any other, and a simulator that
 * posts one reading per meter every second through the real HTTP ingestion path, so that the
 * demo exercises exactly what a field meter would. */

#define DEMO_SITE_NAME        "Demo depot"
#define TICK_MS               1000
/* The shape of the day follows the depot's local time; a fixed UTC+1 is close enough for a
 * demo and keeps the simulator free of time-zone data. */
#define LOCAL_UTC_OFFSET_H    1.0
#define SUNRISE_H             7.0
#define SUNSET_H              19.0
#define PV_PEAK_W             40000.0
#define BATTERY_CAPACITY_KWH  100.0
#define BATTERY_MAX_W         20000.0
#define BATTERY_RAMP_W_PER_S  2500.0
#define BATTERY_EFFICIENCY    0.95
#define PEAK_SHAVE_W          30000.0
#define NOMINAL_VOLTAGE       230.0
#define NOMINAL_FREQUENCY     50.0
#define MAX_ERROR_BODY        200

typedef enum
{
  ROLE_GRID,
  ROLE_PV,
  ROLE_WORKSHOP,
  ROLE_OFFICES,
  ROLE_CHARGER,
  ROLE_BATTERY,
} DemoRole;

typedef struct
{
  const char *name;
  const char *kind;
  DemoRole    role;
  double      initial_energy_kwh;  /* register of a meter that has no reading yet */
  double      power_factor;        /* typical; each reading varies around it */
} MeterSpec;

static const MeterSpec meter_specs[] = {
  { "Grid connection", "grid",       ROLE_GRID,     84213.5, 0.970 },
  { "Rooftop PV",      "pv",         ROLE_PV,       31877.2, 0.985 },
  { "Workshop",        "load",       ROLE_WORKSHOP, 52104.8, 0.955 },
  { "Offices",         "load",       ROLE_OFFICES,  27391.4, 0.965 },
  { "Charger 1",       "ev_charger", ROLE_CHARGER,   4120.6, 0.980 },
  { "Charger 2",       "ev_charger", ROLE_CHARGER,   3877.9, 0.980 },
  { "Charger 3",       "ev_charger", ROLE_CHARGER,   4502.3, 0.980 },
  { "Charger 4",       "ev_charger", ROLE_CHARGER,   3315.0, 0.980 },
  /* The battery's register is net (charge minus discharge), so it starts well above zero. */
  { "Battery",         "battery",    ROLE_BATTERY,   1250.0, 0.985 },
};

typedef struct
{
  const char *name;
  const char *members[5];
} GroupSpec;

static const GroupSpec group_specs[] = {
  { "Buildings",   { "Workshop", "Offices", NULL } },
  { "EV chargers", { "Charger 1", "Charger 2", "Charger 3", "Charger 4", NULL } },
};

static const char find_site_sql[] =
  "SELECT name, id FROM sites WHERE name = '" DEMO_SITE_NAME "' ORDER BY id LIMIT 1";
static const char site_meters_sql[] =
  "SELECT name, id FROM meters WHERE site_id = ?1 ORDER BY id";
static const char site_groups_sql[] =
  "SELECT name, id FROM meter_groups WHERE site_id = ?1 ORDER BY id";
/* (meter_id, ts_ms) is the primary key: this is one b-tree seek from the end. */
static const char last_register_sql[] =
  "SELECT total_energy, CASE WHEN json_valid (extras) THEN json_extract (extras, '$.soc_pct') END "
  "FROM readings WHERE meter_id = ?1 AND total_energy IS NOT NULL ORDER BY ts_ms DESC LIMIT 1";

typedef struct
{
  const MeterSpec *spec;
  gint64           id;
  char            *device_key;
  double           energy_kwh;
  double           power_w;
  double           drift;           /* slow AR(1) noise, relative */
  double           phase_weight[3]; /* fixed imbalance between the phases, sums to 3 */
  /* A charging session, or a machine running in the workshop. */
  gboolean         active;
  gint64           active_until_ms;
  double           active_w;
  /* Backend thread only. */
  gboolean         in_flight;
  gboolean         failing;
} DemoMeter;

struct _SyDemo
{
  GObject        parent_instance;

  /* Immutable after construction; the worker reads them. */
  SyStore       *store;
  SyAuth        *auth;

  /* Backend thread only. */
  GMainContext  *context;
  GUri          *ingest_uri;
  SoupSession   *session;
  GCancellable  *cancellable;
  GSource       *tick_source;
  GPtrArray     *meters;            /* DemoMeter */
  GRand         *rand;
  gboolean       started;
  gboolean       stopped;
  gboolean       paused;
  gint64         last_ts_ms;
  double         cloud;
  double         cloud_target;
  gint64         cloud_until_ms;
  double         voltage[3];
  double         frequency;
  double         thd_v_pct;
  double         soc_pct;
  double         surplus_w;

  /* Whether the worker still uses the store; see wait_for_worker(). */
  GMutex         worker_mutex;
  GCond          worker_cond;
  gboolean       worker_running;
};

G_DEFINE_FINAL_TYPE (SyDemo, sy_demo, G_TYPE_OBJECT)

static void
demo_meter_free (gpointer data)
{
  DemoMeter *meter = data;

  g_free (meter->device_key);
  g_free (meter);
}

typedef struct
{
  GPtrArray *meters;   /* DemoMeter */
  double     soc_pct;  /* NAN when unknown */
} PrepareResult;

static void
prepare_result_free (gpointer data)
{
  PrepareResult *result = data;

  g_clear_pointer (&result->meters, g_ptr_array_unref);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PrepareResult, prepare_result_free)

typedef struct
{
  SyDemo      *self;
  DemoMeter   *meter;
  SoupMessage *msg;
} PostData;

static void
post_data_free (PostData *post)
{
  g_clear_object (&post->msg);
  g_clear_object (&post->self);
  g_free (post);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostData, post_data_free)

static gboolean
on_own_context (SyDemo *self)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();

  return context == self->context;
}

/* Registry results and lookups. */

static GHashTable *
ids_table_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
ids_table_add (GHashTable *ids,
               const char *name,
               gint64      id)
{
  /* The oldest object of a name wins, as in the query order. */
  if (!g_hash_table_contains (ids, name))
    g_hash_table_insert (ids, g_strdup (name), g_memdup2 (&id, sizeof id));
}

static gint64
ids_table_lookup (GHashTable *ids,
                  const char *name)
{
  const gint64 *id = g_hash_table_lookup (ids, name);

  return id != NULL ? *id : 0;
}

/* Reader connection: any thread but the writer. Adds the (name, id) rows of @sql to @ids; @sql
 * takes @param as ?1 when it has a parameter. */
static gboolean
query_ids (SyStore     *store,
           const char  *sql,
           gint64       param,
           GHashTable  *ids,
           GError     **error)
{
  g_auto(SyReaderGuard) guard = { store, _sy_store_reader_acquire (store) };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = _sy_sql_prepare (guard.db, sql, error);
  if (stmt == NULL)
    return FALSE;

  if (sqlite3_bind_parameter_count (stmt) > 0)
    sqlite3_bind_int64 (stmt, 1, param);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (stmt, 0);

      if (name != NULL)
        ids_table_add (ids, name, sqlite3_column_int64 (stmt, 1));
    }

  return _sy_sql_check (guard.db, rc, "Looking up the demo site", error);
}

/* Creates one registry object and returns its id, or 0 with @error set. */
static gint64
create_object (SyAuth          *auth,
               SyRegistryKind   kind,
               JsonObject      *body,
               GError         **error)
{
  g_autoptr(JsonNode) node = NULL;
  gint64 id = 0;

  node = _sy_registry_create (auth, kind, body, error);
  if (node == NULL)
    {
      g_prefix_error (error, "“%s”: ", json_object_get_string_member_with_default (body, "name", ""));
      return 0;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    id = json_object_get_int_member_with_default (json_node_get_object (node), "id", 0);

  if (id <= 0)
    g_set_error (error, SY_ERROR, SY_ERROR_INTERNAL,
                 "The registry answered “%s” without an id",
                 json_object_get_string_member_with_default (body, "name", ""));

  return id;
}

static JsonObject *
site_body (void)
{
  JsonObject *body = json_object_new ();

  json_object_set_string_member (body, "name", DEMO_SITE_NAME);
  json_object_set_double_member (body, "latitude", 52.52);
  json_object_set_double_member (body, "longitude", 13.40);
  json_object_set_string_member (body, "timezone", "Europe/Berlin");

  return body;
}

static JsonObject *
meter_body (const MeterSpec *spec,
            gint64           site_id)
{
  JsonObject *body = json_object_new ();

  json_object_set_string_member (body, "name", spec->name);
  json_object_set_int_member (body, "site_id", site_id);
  json_object_set_string_member (body, "kind", spec->kind);
  json_object_set_int_member (body, "phases", 3);
  json_object_set_double_member (body, "nominal_voltage", NOMINAL_VOLTAGE);

  return body;
}

static JsonObject *
group_body (const GroupSpec *spec,
            gint64           site_id,
            GHashTable      *meter_ids)
{
  JsonObject *body = json_object_new ();
  JsonArray *members = json_array_new ();

  for (guint i = 0; spec->members[i] != NULL; i++)
    {
      gint64 id = ids_table_lookup (meter_ids, spec->members[i]);

      if (id > 0)
        json_array_add_int_element (members, id);
    }

  json_object_set_string_member (body, "name", spec->name);
  json_object_set_int_member (body, "site_id", site_id);
  json_object_set_array_member (body, "meter_ids", members);

  return body;
}

/* The site, each meter and each group are looked up by name and created only when missing, so
 * this is idempotent across restarts and also completes a creation that was interrupted half
 * way. Meters and groups the operator added to the site are left alone. */
gboolean
_sy_demo_ensure_site (SyStore  *store,
                      GError  **error)
{
  g_autoptr(SyAuth) auth = NULL;
  g_autoptr(GHashTable) sites = ids_table_new ();
  g_autoptr(GHashTable) meters = ids_table_new ();
  g_autoptr(GHashTable) groups = ids_table_new ();
  gint64 site_id;

  g_return_val_if_fail (SY_IS_STORE (store), FALSE);

  /* A private SyAuth only serves the registry calls; see _sy_demo_new(). */
  auth = _sy_auth_new (store, 0);

  if (!query_ids (store, find_site_sql, 0, sites, error))
    return FALSE;

  site_id = ids_table_lookup (sites, DEMO_SITE_NAME);
  if (site_id == 0)
    {
      g_autoptr(JsonObject) body = site_body ();

      site_id = create_object (auth, SY_REGISTRY_SITE, body, error);
      if (site_id == 0)
        return FALSE;
      g_message ("Created the demo site “%s”", DEMO_SITE_NAME);
    }

  if (!query_ids (store, site_meters_sql, site_id, meters, error))
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (meter_specs); i++)
    {
      g_autoptr(JsonObject) body = NULL;
      gint64 id;

      if (ids_table_lookup (meters, meter_specs[i].name) != 0)
        continue;

      /* The answer's device_key is dropped: the simulator rotates the keys when it starts. */
      body = meter_body (&meter_specs[i], site_id);
      id = create_object (auth, SY_REGISTRY_METER, body, error);
      if (id == 0)
        return FALSE;
      ids_table_add (meters, meter_specs[i].name, id);
    }

  if (!query_ids (store, site_groups_sql, site_id, groups, error))
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (group_specs); i++)
    {
      g_autoptr(JsonObject) body = NULL;

      if (ids_table_lookup (groups, group_specs[i].name) != 0)
        continue;

      body = group_body (&group_specs[i], site_id, meters);
      if (create_object (auth, SY_REGISTRY_GROUP, body, error) == 0)
        return FALSE;
    }

  return TRUE;
}

/* Simulator start-up, on a worker thread. */

static gboolean
read_last_register (SyStore    *store,
                    DemoMeter  *meter,
                    double     *soc_pct,
                    GError    **error)
{
  g_auto(SyReaderGuard) guard = { store, _sy_store_reader_acquire (store) };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = _sy_sql_prepare (guard.db, last_register_sql, error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, meter->id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      meter->energy_kwh = sqlite3_column_double (stmt, 0);
      if (meter->spec->role == ROLE_BATTERY && sqlite3_column_type (stmt, 1) != SQLITE_NULL)
        *soc_pct = sqlite3_column_double (stmt, 1);
    }

  return _sy_sql_check (guard.db, rc, "Reading the last energy register", error);
}

static void
worker_finished (SyDemo *self)
{
  g_mutex_lock (&self->worker_mutex);
  self->worker_running = FALSE;
  g_cond_broadcast (&self->worker_cond);
  g_mutex_unlock (&self->worker_mutex);
}

/* Only the hash of a device key is stored, so a restarted simulator cannot recover the keys it
 * had: it rotates the key of every demo meter instead and posts with the new ones. That is also
 * why nobody else can hold a working key of a demo meter while the demo runs. */
static void
prepare_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  SyDemo *self = task_data;
  g_autoptr(PrepareResult) result = g_new0 (PrepareResult, 1);
  g_autoptr(GHashTable) sites = ids_table_new ();
  g_autoptr(GHashTable) meter_ids = ids_table_new ();
  GError *error = NULL;
  gint64 site_id;

  result->meters = g_ptr_array_new_with_free_func (demo_meter_free);
  result->soc_pct = NAN;

  if (!query_ids (self->store, find_site_sql, 0, sites, &error))
    goto out;

  site_id = ids_table_lookup (sites, DEMO_SITE_NAME);
  if (site_id == 0)
    {
      g_set_error (&error, SY_ERROR, SY_ERROR_NOT_FOUND, "There is no site “%s”", DEMO_SITE_NAME);
      goto out;
    }

  if (!query_ids (self->store, site_meters_sql, site_id, meter_ids, &error))
    goto out;

  for (guint i = 0; i < G_N_ELEMENTS (meter_specs); i++)
    {
      gint64 id = ids_table_lookup (meter_ids, meter_specs[i].name);
      DemoMeter *meter;

      /* A demo meter the operator deleted is simply not simulated. */
      if (id == 0)
        continue;

      meter = g_new0 (DemoMeter, 1);
      meter->spec = &meter_specs[i];
      meter->id = id;
      meter->energy_kwh = meter_specs[i].initial_energy_kwh;
      g_ptr_array_add (result->meters, meter);

      if (!read_last_register (self->store, meter, &result->soc_pct, &error))
        goto out;
    }

  for (guint i = 0; i < result->meters->len; i++)
    {
      DemoMeter *meter = g_ptr_array_index (result->meters, i);
      g_autoptr(JsonNode) node = NULL;
      const char *key = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, &error))
        goto out;

      node = _sy_registry_rotate_key (self->auth, SY_REGISTRY_METER, meter->id, &error);
      if (node == NULL)
        {
          g_prefix_error (&error, "Rotating the key of “%s”: ", meter->spec->name);
          goto out;
        }

      if (JSON_NODE_HOLDS_OBJECT (node))
        key = json_object_get_string_member_with_default (json_node_get_object (node), "device_key", NULL);
      if (key == NULL || key[0] == '\0')
        {
          g_set_error (&error, SY_ERROR, SY_ERROR_INTERNAL,
                       "Rotating the key of “%s” gave no device_key", meter->spec->name);
          goto out;
        }
      meter->device_key = g_strdup (key);
    }

out:
  /* The last use of @self: see _sy_demo_start(). */
  worker_finished (self);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&result), prepare_result_free);
}

/* Blocks until the worker no longer uses the store. The backend closes the store right after its
 * thread stops the demo, so the worker must be done by then; it checks the cancellable between
 * SQLite steps, which bounds the wait to one registry write. */
static void
wait_for_worker (SyDemo *self)
{
  g_mutex_lock (&self->worker_mutex);
  while (self->worker_running)
    g_cond_wait (&self->worker_cond, &self->worker_mutex);
  g_mutex_unlock (&self->worker_mutex);
}

/* The model. Every function below runs on the backend thread. */

static double
gaussian (GRand *rand)
{
  /* Box-Muller; 1 - u keeps the logarithm finite. */
  double u = 1.0 - g_rand_double (rand);
  double v = g_rand_double (rand);

  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

static double
smoothstep (double x)
{
  x = CLAMP (x, 0.0, 1.0);
  return x * x * (3.0 - 2.0 * x);
}

static double
local_hour (gint64 ts_ms)
{
  double hours = (double) ts_ms / 3600000.0 + LOCAL_UTC_OFFSET_H;

  return fmod (hours, 24.0);
}

/* 0 at night, 1 during working hours, with ramps in the morning and the evening. */
static double
working_fraction (double hour)
{
  if (hour < 6.0 || hour >= 20.0)
    return 0.0;
  if (hour < 9.0)
    return smoothstep ((hour - 6.0) / 3.0);
  if (hour < 17.0)
    return 1.0;
  return 1.0 - smoothstep ((hour - 17.0) / 3.0);
}

static double
pv_clear_sky_w (double hour)
{
  double x;

  if (hour <= SUNRISE_H || hour >= SUNSET_H)
    return 0.0;

  /* sin^1.5 over the day peaks at noon between sunrise and sunset (13:00) and starts flatter
   * than a plain sine, as a real PV curve does. */
  x = (hour - SUNRISE_H) / (SUNSET_H - SUNRISE_H);
  return PV_PEAK_W * pow (sin (G_PI * x), 1.5);
}

static void
step_site (SyDemo *self,
           gint64  ts_ms)
{
  /* Passing clouds: a new target every few minutes, mostly clear sky, approached smoothly. */
  if (ts_ms >= self->cloud_until_ms)
    {
      if (g_rand_double (self->rand) < 0.3)
        self->cloud_target = g_rand_double_range (self->rand, 0.25, 0.7);
      else
        self->cloud_target = g_rand_double_range (self->rand, 0.88, 1.0);
      self->cloud_until_ms = ts_ms + g_rand_int_range (self->rand, 60, 600) * 1000;
    }
  self->cloud += (self->cloud_target - self->cloud) * 0.05 + 0.005 * gaussian (self->rand);
  self->cloud = CLAMP (self->cloud, 0.15, 1.0);

  /* Everything on the site sees the same grid: voltage, frequency and THD wander together,
   * pulled back towards nominal. */
  for (guint k = 0; k < 3; k++)
    {
      self->voltage[k] += 0.05 * (NOMINAL_VOLTAGE - self->voltage[k]) + 0.15 * gaussian (self->rand);
      self->voltage[k] = CLAMP (self->voltage[k], NOMINAL_VOLTAGE - 1.7, NOMINAL_VOLTAGE + 1.7);
    }
  self->frequency += 0.1 * (NOMINAL_FREQUENCY - self->frequency) + 0.002 * gaussian (self->rand);
  self->frequency = CLAMP (self->frequency, NOMINAL_FREQUENCY - 0.02, NOMINAL_FREQUENCY + 0.02);
  self->thd_v_pct += 0.02 * (1.8 - self->thd_v_pct) + 0.03 * gaussian (self->rand);
  self->thd_v_pct = CLAMP (self->thd_v_pct, 1.1, 2.8);
}

/* Sessions (chargers) and machines (workshop) that come and go at random. */
static void
step_activity (SyDemo    *self,
               DemoMeter *meter,
               gint64     ts_ms,
               double     start_probability,
               double     min_w,
               double     max_w,
               int        min_s,
               int        max_s)
{
  if (meter->active && ts_ms >= meter->active_until_ms)
    meter->active = FALSE;
  else if (!meter->active && g_rand_double (self->rand) < start_probability)
    {
      meter->active = TRUE;
      meter->active_w = g_rand_double_range (self->rand, min_w, max_w);
      meter->active_until_ms = ts_ms + (gint64) g_rand_int_range (self->rand, min_s, max_s) * 1000;
    }
}

static double
step_drift (SyDemo    *self,
            DemoMeter *meter,
            double     amplitude)
{
  meter->drift = 0.98 * meter->drift + 0.2 * amplitude * gaussian (self->rand);
  meter->drift = CLAMP (meter->drift, -3.0 * amplitude, 3.0 * amplitude);

  return 1.0 + meter->drift + 0.3 * amplitude * gaussian (self->rand);
}

/* A depot's fleet is out by day (a few top-ups), comes back in the late afternoon and charges
 * into the night. Per charger: the chance that a session starts in a given idle second, and
 * how long sessions last. */
static void
charger_profile (double  hour,
                 double *start_probability,
                 int    *min_s,
                 int    *max_s)
{
  if (hour >= 7.0 && hour < 16.0)
    {
      *start_probability = 1.0 / 14400.0;
      *min_s = 15 * 60;
      *max_s = 60 * 60;
    }
  else if (hour >= 16.0 && hour < 22.0)
    {
      *start_probability = 1.0 / 900.0;
      *min_s = 45 * 60;
      *max_s = 150 * 60;
    }
  else
    {
      *start_probability = 1.0 / 7200.0;
      *min_s = 30 * 60;
      *max_s = 120 * 60;
    }
}

static void
step_meters (SyDemo *self,
             gint64  ts_ms,
             double  dt_s)
{
  double hour = local_hour (ts_ms);
  double work = working_fraction (hour);
  double pv_w = 0.0;
  double load_w = 0.0;
  DemoMeter *battery = NULL;
  DemoMeter *grid = NULL;
  double target_w = 0.0;
  double stored_kwh;

  for (guint i = 0; i < self->meters->len; i++)
    {
      DemoMeter *meter = g_ptr_array_index (self->meters, i);
      double power_w = 0.0;

      switch (meter->spec->role)
        {
        case ROLE_PV:
          power_w = pv_clear_sky_w (hour) * self->cloud * (1.0 + 0.01 * gaussian (self->rand));
          power_w = MAX (power_w, 0.0);
          pv_w += power_w;
          break;

        case ROLE_WORKSHOP:
          {
            /* 8 kW at night; by day lights, ventilation and tools, machines (3 to 18 kW) that
             * switch on and off on top, and a quieter lunch hour. */
            double lunch = hour >= 12.0 && hour < 13.0 ? 0.5 : 1.0;

            step_activity (self, meter, ts_ms, work > 0.5 ? 1.0 / 400.0 : 0.0,
                           3000.0, 18000.0, 30, 400);
            power_w = (8000.0 + 6000.0 * work * lunch) * step_drift (self, meter, 0.03);
            if (meter->active)
              power_w += meter->active_w;
            power_w = CLAMP (power_w, 6500.0, 35000.0);
            load_w += power_w;
          }
          break;

        case ROLE_OFFICES:
          {
            /* 5 kW at night; by day up to 20 kW when the heating and everyone's computers start
             * around 9:30. */
            double lunch = hour >= 12.0 && hour < 13.0 ? 0.7 : 1.0;
            double morning = 8000.0 * exp (-pow ((hour - 9.5) / 0.8, 2.0));

            power_w = (5000.0 + 5000.0 * work * lunch + morning) * step_drift (self, meter, 0.02);
            power_w = CLAMP (power_w, 4000.0, 20000.0);
            load_w += power_w;
          }
          break;

        case ROLE_CHARGER:
          {
            double probability;
            int min_s, max_s;

            charger_profile (hour, &probability, &min_s, &max_s);
            step_activity (self, meter, ts_ms, probability, 7000.0, 11000.0, min_s, max_s);
            power_w = meter->active ? meter->active_w * (1.0 + 0.003 * gaussian (self->rand)) : 0.0;
            load_w += power_w;
          }
          break;

        /* These two follow from the others, below. */
        case ROLE_BATTERY:
          battery = meter;
          continue;

        case ROLE_GRID:
          grid = meter;
          continue;

        default:
          g_assert_not_reached ();
        }

      meter->power_w = power_w;
    }

  if (battery != NULL)
    {
      /* The battery's controller acts on the previous second's measurement, so the grid
       * meter hovers around zero instead of sitting on it while the battery follows PV. */
      double surplus_w = self->surplus_w;

      self->surplus_w = pv_w - load_w;

      /* Soak up PV surplus; shave the evening peak (the import above a threshold, so that the
       * stored energy lasts the evening); rest otherwise. Positive is charging. */
      if (surplus_w > 500.0 && self->soc_pct < 95.0)
        target_w = MIN (surplus_w, BATTERY_MAX_W);
      else if (hour >= 17.0 && hour < 21.0 && -surplus_w > PEAK_SHAVE_W && self->soc_pct > 10.0)
        target_w = -MIN (-surplus_w - PEAK_SHAVE_W, BATTERY_MAX_W);

      battery->power_w += CLAMP (target_w - battery->power_w,
                                 -BATTERY_RAMP_W_PER_S * dt_s, BATTERY_RAMP_W_PER_S * dt_s);
      if (fabs (battery->power_w) < 1.0)
        battery->power_w = 0.0;

      stored_kwh = battery->power_w * dt_s / 3.6e6;
      stored_kwh = stored_kwh > 0 ? stored_kwh * BATTERY_EFFICIENCY : stored_kwh / BATTERY_EFFICIENCY;
      self->soc_pct += 100.0 * stored_kwh / BATTERY_CAPACITY_KWH;
      self->soc_pct = CLAMP (self->soc_pct, 0.0, 100.0);
    }

  if (grid != NULL)
    grid->power_w = load_w + (battery != NULL ? battery->power_w : 0.0) - pv_w;

  /* Signed registers: the grid's is net import, the battery's net charge. */
  for (guint i = 0; i < self->meters->len; i++)
    {
      DemoMeter *meter = g_ptr_array_index (self->meters, i);

      meter->energy_kwh += meter->power_w * dt_s / 3.6e6;
    }
}

static void
append_number (GString    *out,
               const char *name,
               const char *format,
               double      value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* g_ascii_formatd: JSON wants a dot whatever the locale. */
  g_string_append_printf (out, ",\"%s\":%s", name, g_ascii_formatd (buf, sizeof buf, format, value));
}

static GBytes *
render_reading (SyDemo    *self,
                DemoMeter *meter,
                gint64     ts_ms)
{
  static const char *const voltage_names[3] = { "voltage_a", "voltage_b", "voltage_c" };
  static const char *const current_names[3] = { "current_a", "current_b", "current_c" };
  g_autofree char *timestamp = sy_time_format_iso8601 (ts_ms);
  GString *out = g_string_sized_new (384);
  double voltage[3];
  double power_factor;

  power_factor = meter->spec->power_factor + 0.003 * gaussian (self->rand);
  power_factor = CLAMP (power_factor, 0.95, 0.99);

  g_string_append_printf (out, "{\"timestamp\":\"%s\"", timestamp);
  append_number (out, "total_power", "%.1f", meter->power_w);
  append_number (out, "total_energy", "%.4f", meter->energy_kwh);
  for (guint k = 0; k < 3; k++)
    {
      voltage[k] = CLAMP (self->voltage[k] + 0.1 * gaussian (self->rand),
                          NOMINAL_VOLTAGE - 2.0, NOMINAL_VOLTAGE + 2.0);
      append_number (out, voltage_names[k], "%.1f", voltage[k]);
    }
  for (guint k = 0; k < 3; k++)
    {
      double current = fabs (meter->power_w) * meter->phase_weight[k] / 3.0 / (voltage[k] * power_factor);

      append_number (out, current_names[k], "%.2f", current);
    }
  append_number (out, "power_factor", "%.3f", power_factor);
  append_number (out, "frequency", "%.3f", self->frequency);
  append_number (out, "thd_v_pct", "%.2f",
                 CLAMP (self->thd_v_pct + 0.05 * gaussian (self->rand), 1.0, 3.0));
  /* Extra numeric fields are kept with the reading; the state of charge comes back from there
   * after a restart. */
  if (meter->spec->role == ROLE_BATTERY)
    append_number (out, "soc_pct", "%.2f", self->soc_pct);
  g_string_append_c (out, '}');

  return g_string_free_to_bytes (out);
}

static void
post_failed (DemoMeter  *meter,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

/* One warning per meter and outage, not one per second. */
static void
post_failed (DemoMeter  *meter,
             const char *format,
             ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  if (meter->failing)
    return;
  meter->failing = TRUE;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  g_warning ("Demo: posting a reading of “%s” failed (%s); retrying every second, quietly",
             meter->spec->name, reason);
}

static void
post_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(PostData) post = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  DemoMeter *meter = post->meter;
  guint status;

  g_assert (SY_IS_DEMO (post->self));

  body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);
  meter->in_flight = FALSE;

  if (body == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        post_failed (meter, "%s", error->message);
      return;
    }

  status = soup_message_get_status (post->msg);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      gsize len;
      const char *data = g_bytes_get_data (body, &len);

      post_failed (meter, "HTTP %u: %.*s", status, (int) MIN (len, MAX_ERROR_BODY), data ? data : "");
      return;
    }

  if (meter->failing)
    {
      meter->failing = FALSE;
      g_message ("Demo: posting readings of “%s” works again", meter->spec->name);
    }
}

static void
post_reading (SyDemo    *self,
              DemoMeter *meter,
              GBytes    *body)
{
  g_autoptr(SoupMessage) msg = NULL;
  PostData *post;

  msg = soup_message_new_from_uri (SOUP_METHOD_POST, self->ingest_uri);
  /* A reading is keyed by (meter, timestamp) and a repeat is a no-op, so the POST is idempotent;
   * saying so lets libsoup reuse kept-alive connections instead of opening one per post. */
  soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "X-Device-Key",
                                meter->device_key);
  soup_message_set_request_body_from_bytes (msg, "application/json", body);

  post = g_new0 (PostData, 1);
  post->self = g_object_ref (self);
  post->meter = meter;
  post->msg = g_object_ref (msg);

  meter->in_flight = TRUE;
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, self->cancellable,
                                    post_cb, post);
}

static gboolean tick_cb (gpointer user_data);

/* Ticks land on whole seconds of the wall clock, so readings have round timestamps. */
static void
schedule_tick (SyDemo *self,
               gint64  next_ts_ms)
{
  gint64 delay = next_ts_ms - sy_time_now_ms ();
  GSource *source;

  g_assert (self->tick_source == NULL);

  source = g_timeout_source_new ((guint) CLAMP (delay, 1, TICK_MS));
  g_source_set_name (source, "[sy-demo] tick");
  g_source_set_callback (source, tick_cb, self, NULL);
  g_source_attach (source, self->context);
  self->tick_source = source;
}

static gboolean
tick_cb (gpointer user_data)
{
  SyDemo *self = user_data;
  gint64 now_ms = sy_time_now_ms ();
  gint64 ts_ms = (now_ms + TICK_MS / 2) / TICK_MS * TICK_MS;
  double dt_s = 1.0;

  g_assert (on_own_context (self));

  g_clear_pointer (&self->tick_source, g_source_unref);

  if (self->last_ts_ms != 0)
    {
      /* A timer that fires a little early must not repeat a second; a clock that jumped back
       * far is followed. */
      if (ts_ms <= self->last_ts_ms && self->last_ts_ms - ts_ms < 2 * TICK_MS)
        ts_ms = self->last_ts_ms + TICK_MS;
      dt_s = CLAMP ((ts_ms - self->last_ts_ms) / 1000.0, 0.0, 5.0);
    }
  self->last_ts_ms = ts_ms;

  step_site (self, ts_ms);
  step_meters (self, ts_ms, dt_s);

  for (guint i = 0; i < self->meters->len && !self->paused; i++)
    {
      DemoMeter *meter = g_ptr_array_index (self->meters, i);
      g_autoptr(GBytes) body = NULL;

      /* A meter whose previous post hangs skips a reading rather than piling up requests. */
      if (meter->in_flight)
        continue;

      body = render_reading (self, meter, ts_ms);
      post_reading (self, meter, body);
    }

  schedule_tick (self, ts_ms + TICK_MS);

  return G_SOURCE_REMOVE;
}

static void
init_meter_state (SyDemo *self,
                  gint64  now_ms)
{
  double hour = local_hour (now_ms);

  for (guint i = 0; i < self->meters->len; i++)
    {
      DemoMeter *meter = g_ptr_array_index (self->meters, i);
      double sum = 0.0;

      for (guint k = 0; k < 3; k++)
        {
          meter->phase_weight[k] = g_rand_double_range (self->rand, 0.96, 1.04);
          sum += meter->phase_weight[k];
        }
      for (guint k = 0; k < 3; k++)
        meter->phase_weight[k] *= 3.0 / sum;

      /* Start in the middle of the day's business rather than with every charger idle. */
      if (meter->spec->role == ROLE_CHARGER &&
          g_rand_double (self->rand) < (hour >= 7.0 && hour < 16.0 ? 0.15 : 0.5))
        {
          meter->active = TRUE;
          meter->active_w = g_rand_double_range (self->rand, 7000.0, 11000.0);
          meter->active_until_ms = now_ms + (gint64) g_rand_int_range (self->rand, 60, 90 * 60) * 1000;
        }
    }
}

static void
prepare_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GWeakRef *weak = user_data;
  g_autoptr(SyDemo) self = g_weak_ref_get (weak);
  g_autoptr(PrepareResult) prepared = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now_ms;

  g_weak_ref_clear (weak);
  g_free (weak);

  prepared = g_task_propagate_pointer (G_TASK (result), &error);
  if (self == NULL)
    return;

  g_assert (on_own_context (self));

  if (prepared == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Demo simulator not started: %s", error->message);
      return;
    }

  if (self->stopped)
    return;

  if (prepared->meters->len == 0)
    {
      g_warning ("Demo simulator not started: the site “%s” has no demo meters", DEMO_SITE_NAME);
      return;
    }

  g_clear_pointer (&self->meters, g_ptr_array_unref);
  self->meters = g_steal_pointer (&prepared->meters);
  if (!isnan (prepared->soc_pct))
    self->soc_pct = CLAMP (prepared->soc_pct, 0.0, 100.0);

  now_ms = sy_time_now_ms ();
  init_meter_state (self, now_ms);

  g_debug ("Demo simulator posting as %u meters", self->meters->len);
  schedule_tick (self, (now_ms / TICK_MS + 1) * TICK_MS);
}

static void
sy_demo_dispose (GObject *object)
{
  SyDemo *self = (SyDemo *) object;

  if (self->started)
    _sy_demo_stop (self);

  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->auth);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (sy_demo_parent_class)->dispose (object);
}

static void
sy_demo_finalize (GObject *object)
{
  SyDemo *self = (SyDemo *) object;

  g_assert (self->tick_source == NULL);

  g_clear_pointer (&self->meters, g_ptr_array_unref);
  g_clear_pointer (&self->ingest_uri, g_uri_unref);
  g_clear_pointer (&self->rand, g_rand_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_mutex_clear (&self->worker_mutex);
  g_cond_clear (&self->worker_cond);

  G_OBJECT_CLASS (sy_demo_parent_class)->finalize (object);
}

static void
sy_demo_class_init (SyDemoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sy_demo_dispose;
  object_class->finalize = sy_demo_finalize;
}

static void
sy_demo_init (SyDemo *self)
{
  g_mutex_init (&self->worker_mutex);
  g_cond_init (&self->worker_cond);

  self->meters = g_ptr_array_new_with_free_func (demo_meter_free);
  self->rand = g_rand_new ();
  self->cancellable = g_cancellable_new ();
  self->cloud = 1.0;
  self->cloud_target = 1.0;
  for (guint k = 0; k < 3; k++)
    self->voltage[k] = NOMINAL_VOLTAGE;
  self->frequency = NOMINAL_FREQUENCY;
  self->thd_v_pct = 1.8;
  self->soc_pct = 50.0;
}

/* The demo keeps a SyAuth of its own for its registry calls. Key rotation invalidates only that
 * SyAuth's device cache, which is enough: the serving SyAuth can never have cached an old demo
 * key, because the keys are never disclosed (creation drops them and each start rotates). */
SyDemo *
_sy_demo_new (SyStore    *store,
              const char *base_url)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GProxyResolver) no_proxy = NULL;
  g_autofree char *url = NULL;
  SyDemo *self;

  g_return_val_if_fail (SY_IS_STORE (store), NULL);
  g_return_val_if_fail (base_url != NULL, NULL);

  self = g_object_new (SY_TYPE_DEMO, NULL);
  self->store = g_object_ref (store);
  self->auth = _sy_auth_new (store, 0);
  self->context = g_main_context_ref_thread_default ();

  url = g_strconcat (base_url, g_str_has_suffix (base_url, "/") ? "" : "/",
                     "api/energy/energy-data/", NULL);
  self->ingest_uri = g_uri_parse (url, G_URI_FLAGS_NONE, &error);
  if (self->ingest_uri == NULL)
    g_warning ("Demo simulator disabled: bad base URL “%s”: %s", base_url, error->message);

  /* The session binds to the thread-default context, the backend's. The API is on loopback:
   * an http_proxy from the environment must not reroute it. */
  no_proxy = g_simple_proxy_resolver_new (NULL, NULL);
  self->session = soup_session_new_with_options ("max-conns-per-host", (int) G_N_ELEMENTS (meter_specs),
                                                 "timeout", 10,
                                                 "proxy-resolver", no_proxy,
                                                 "user-agent", "switchyard-demo/" PACKAGE_VERSION,
                                                 NULL);

  return self;
}

void
_sy_demo_start (SyDemo *self)
{
  g_autoptr(GTask) task = NULL;
  GWeakRef *weak;

  g_return_if_fail (SY_IS_DEMO (self));
  g_return_if_fail (!self->started);
  g_assert (on_own_context (self));

  self->started = TRUE;
  if (self->ingest_uri == NULL)
    return;

  g_mutex_lock (&self->worker_mutex);
  self->worker_running = TRUE;
  g_mutex_unlock (&self->worker_mutex);

  /* The task must not keep the demo alive: GTask delivers the result from the worker a moment
   * after the worker function returned, possibly after the backend thread's last iteration, and
   * the demo (with its SoupSession) must die on the backend thread. So the callback gets a weak
   * reference, and the worker borrows the demo, which _sy_demo_stop() (run by dispose at the
   * latest) keeps alive until the worker function is done with it. */
  weak = g_new0 (GWeakRef, 1);
  g_weak_ref_init (weak, self);
  task = g_task_new (NULL, self->cancellable, prepare_cb, weak);
  g_task_set_source_tag (task, _sy_demo_start);
  g_task_set_name (task, "[sy-demo] prepare");
  g_task_set_task_data (task, self, NULL);
  g_task_run_in_thread (task, prepare_thread);
}

/* Idempotent. In-flight posts complete with G_IO_ERROR_CANCELLED on the backend context. */
void
_sy_demo_stop (SyDemo *self)
{
  g_return_if_fail (SY_IS_DEMO (self));

  if (self->stopped)
    return;

  g_assert (on_own_context (self));

  self->stopped = TRUE;
  g_cancellable_cancel (self->cancellable);

  if (self->tick_source != NULL)
    {
      g_source_destroy (self->tick_source);
      g_clear_pointer (&self->tick_source, g_source_unref);
    }

  wait_for_worker (self);

  if (self->session != NULL)
    soup_session_abort (self->session);
}

void
_sy_demo_set_paused (SyDemo   *self,
                     gboolean  paused)
{
  g_return_if_fail (SY_IS_DEMO (self));
  g_assert (on_own_context (self));

  self->paused = !!paused;
}
