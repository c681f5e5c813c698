/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-store"

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sy-error.h"
#include "sy-ingest-private.h"
#include "sy-store-private.h"

#define MIGRATIONS_PATH "/io/github/switchyard/Switchyard/sql/"
#define WAIT_TIMEOUT_S  10

/* 2025-10-16T10:00:00Z: a whole minute, quarter-hour and hour. */
#define T0_MS G_GINT64_CONSTANT (1760608800000)

typedef struct
{
  char    *dir;
  char    *path;
  SyStore *store;
} StoreFixture;

static void
store_setup (StoreFixture  *fx,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("sy-store-XXXXXX", &error);
  g_assert_no_error (error);
  fx->path = g_build_filename (fx->dir, "switchyard.db", NULL);
  fx->store = _sy_store_open (fx->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fx->store);
}

static void
store_teardown (StoreFixture  *fx,
                gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (fx->store != NULL)
    {
      _sy_store_close (fx->store);
      g_assert_finalize_object (fx->store);
    }

  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (fx->dir, name, NULL);
      g_unlink (child);
    }
  g_rmdir (fx->dir);
  g_free (fx->path);
  g_free (fx->dir);
}

/* A connection of the test's own, outside the store's pool. */
static sqlite3 *
open_readonly (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);

  return db;
}

static char *
query_text (sqlite3    *db,
            const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);

  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

static gint64
count_sites (sqlite3    *db,
             const char *name)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM sites WHERE ?1 IS NULL OR name = ?1",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);

  return sqlite3_column_int64 (stmt, 0);
}

/* Iterates @context until *@flag is set; fails the test after WAIT_TIMEOUT_S. */
static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_until (GMainContext   *context,
            const gboolean *flag)
{
  gboolean timed_out = FALSE;
  GSource *source = g_timeout_source_new_seconds (WAIT_TIMEOUT_S);

  g_source_set_callback (source, timeout_cb, &timed_out, NULL);
  g_source_attach (source, context);

  while (!*flag && !timed_out)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (source);
  g_source_unref (source);

  if (!*flag)
    g_error ("Timed out after %d s", WAIT_TIMEOUT_S);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
test_migrations (StoreFixture  *fx,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  static const char * const tables[] = {
    "sites", "meters", "meter_groups", "meter_group_members", "devices", "device_meters",
    "oauth_clients", "oauth_tokens", "readings", "rollups",
  };
  sqlite3 *db;
  int latest;
  guint n;

  /* The newest numbered migration in the resource sets the version. */
  names = g_resources_enumerate_children (MIGRATIONS_PATH, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  g_assert_no_error (error);
  n = g_strv_length (names);
  g_assert_cmpuint (n, >, 0);
  qsort (names, n, sizeof (char *), compare_names);
  latest = atoi (names[n - 1]);
  g_assert_cmpint (latest, >=, 1);
  g_assert_cmpint (atoi (names[0]), ==, 1);

  g_assert_cmpint (_sy_store_get_schema_version (fx->store), ==, latest);
  g_assert_cmpstr (_sy_store_get_path (fx->store), ==, fx->path);

  db = open_readonly (fx->path);
  g_assert_cmpint (_sy_sql_query_int64 (db, "PRAGMA user_version", -1), ==, latest);
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '%s'",
                                              tables[i]);

      if (_sy_sql_query_int64 (db, sql, -1) != 1)
        g_error ("table %s is missing after the migrations", tables[i]);
    }
  sqlite3_close (db);
}

static gboolean
insert_site (SyWriteBatch  *batch,
             gpointer       data,
             GError       **error)
{
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = _sy_sql_prepare (db, "INSERT INTO sites (name, created_ms) VALUES (?, 0)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, data, -1, SQLITE_TRANSIENT);

  return _sy_sql_check (db, sqlite3_step (stmt), "Inserting site", error);
}

/* Inserts a row, then violates a CHECK constraint: the row must not survive. */
static gboolean
insert_site_then_fail (SyWriteBatch  *batch,
                       gpointer       data,
                       GError       **error)
{
  if (!insert_site (batch, data, error))
    return FALSE;

  return insert_site (batch, (gpointer) "", error);
}

static void
test_reopen_keeps_schema (StoreFixture  *fx,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  int version = _sy_store_get_schema_version (fx->store);
  sqlite3 *db;

  g_assert_true (_sy_store_write_sync (fx->store, insert_site, (gpointer) "kept", &error));
  g_assert_no_error (error);

  _sy_store_close (fx->store);
  _sy_store_close (fx->store);
  g_assert_finalize_object (fx->store);

  /* Running the migrations again would fail on CREATE TABLE, or drop the row. */
  fx->store = _sy_store_open (fx->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (_sy_store_get_schema_version (fx->store), ==, version);

  db = open_readonly (fx->path);
  g_assert_cmpint (_sy_sql_query_int64 (db, "PRAGMA user_version", -1), ==, version);
  g_assert_cmpint (count_sites (db, "kept"), ==, 1);
  sqlite3_close (db);
}

static void
test_wal_mode (StoreFixture  *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *mode = NULL;
  g_autofree char *wal = g_strconcat (fx->path, "-wal", NULL);
  sqlite3 *db;

  db = open_readonly (fx->path);
  mode = query_text (db, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  sqlite3_close (db);

  g_assert_true (_sy_store_write_sync (fx->store, insert_site, (gpointer) "wal", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (wal, G_FILE_TEST_EXISTS));
}

static gboolean
insert_orphan_meter (SyWriteBatch  *batch,
                     gpointer       data,
                     GError       **error)
{
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = _sy_sql_prepare (db,
                          "INSERT INTO meters (site_id, name, kind, device_key_hash, created_ms) "
                          "VALUES (4242, 'orphan', 'grid', 'x', 0)",
                          error);
  if (stmt == NULL)
    return FALSE;

  return _sy_sql_check (db, sqlite3_step (stmt), "Inserting meter", error);
}

static void
test_foreign_keys (StoreFixture  *fx,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  sqlite3 *db;

  g_assert_false (_sy_store_write_sync (fx->store, insert_orphan_meter, NULL, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_CONFLICT);

  db = open_readonly (fx->path);
  g_assert_cmpint (_sy_sql_query_int64 (db, "SELECT count(*) FROM meters", -1), ==, 0);
  sqlite3_close (db);
}

static void
test_write_sync_visible (StoreFixture  *fx,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(SyReaderGuard) guard = { fx->store, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_true (_sy_store_write_sync (fx->store, insert_site, (gpointer) "visible", &error));
  g_assert_no_error (error);

  /* Committed before write_sync returned, so a pool reader sees it at once. */
  guard.db = _sy_store_reader_acquire (fx->store);
  stmt = _sy_sql_prepare (guard.db, "SELECT name, timezone FROM sites", &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "visible");
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 1), ==, "UTC");
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* Readers are read-only. */
  g_assert_cmpint (sqlite3_exec (guard.db, "DELETE FROM sites", NULL, NULL, NULL), !=, SQLITE_OK);
  _sy_reader_guard_release (&guard);

  /* A failing lone job stores nothing and reports why. */
  g_assert_false (_sy_store_write_sync (fx->store, insert_site_then_fail, (gpointer) "lone-bad", &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_CONFLICT);

  guard.db = _sy_store_reader_acquire (fx->store);
  g_assert_cmpint (count_sites (guard.db, "lone-bad"), ==, 0);
  g_assert_cmpint (count_sites (guard.db, NULL), ==, 1);
}

/* Group commit. A gate job holds the writer so that the jobs queued behind it run as one batch. */

typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean running;
  gboolean open;
} Gate;

static gboolean
gate_write (SyWriteBatch  *batch,
            gpointer       data,
            GError       **error)
{
  Gate *gate = data;
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;

  g_mutex_lock (&gate->mutex);
  gate->running = TRUE;
  g_cond_broadcast (&gate->cond);
  while (!gate->open)
    {
      if (!g_cond_wait_until (&gate->cond, &gate->mutex, deadline))
        break;
    }
  g_mutex_unlock (&gate->mutex);

  return TRUE;
}

typedef struct
{
  guint jobs;
  guint flushes;
  guint jobs_at_flush;
} BatchCounter;

static const char batch_key;

static gboolean
count_flush (SyWriteBatch  *batch,
             gpointer       hook_data,
             GError       **error)
{
  BatchCounter *counter = hook_data;

  counter->flushes++;
  counter->jobs_at_flush = counter->jobs;
  counter->jobs = 0;

  return TRUE;
}

typedef struct
{
  const char   *name;
  gboolean      fail;
  BatchCounter *counter;
  gboolean      done;
  GError       *error;
  guint        *freed;
  GThread      *done_thread;
} Job;

static gboolean
job_write (SyWriteBatch  *batch,
           gpointer       data,
           GError       **error)
{
  Job *job = data;

  if (job->fail)
    return insert_site_then_fail (batch, (gpointer) job->name, error);

  if (_sy_write_batch_get_hook (batch, &batch_key) == NULL)
    _sy_write_batch_add_hook (batch, &batch_key, job->counter, count_flush, NULL);
  g_assert_true (_sy_write_batch_get_hook (batch, &batch_key) == job->counter);
  job->counter->jobs++;

  return insert_site (batch, (gpointer) job->name, error);
}

static void
job_data_free (gpointer data)
{
  Job *job = data;

  (*job->freed)++;
}

static void
job_done (const GError *error,
          gpointer      user_data)
{
  Job *job = user_data;

  g_assert_false (job->done);
  job->done = TRUE;
  job->done_thread = g_thread_self ();
  if (error != NULL)
    job->error = g_error_copy (error);
}

typedef struct
{
  SyStore      *store;
  GMainContext *context;
  Job          *jobs;
  guint         n_jobs;
} Producer;

static gpointer
producer_thread (gpointer data)
{
  Producer *p = data;

  for (guint i = 0; i < p->n_jobs; i++)
    _sy_store_write (p->store, 1, job_write, &p->jobs[i], job_data_free, p->context, job_done, &p->jobs[i]);

  return NULL;
}

static void
gate_done (const GError *error,
           gpointer      user_data)
{
  g_assert_null (error);
  *(gboolean *) user_data = TRUE;
}

static gboolean
all_jobs_done (Job   *jobs,
               guint  n)
{
  for (guint i = 0; i < n; i++)
    {
      if (!jobs[i].done)
        return FALSE;
    }

  return TRUE;
}

static void
test_group_commit_isolates_failure (StoreFixture  *fx,
                                    gconstpointer  data)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  static const char * const names[] = { "job-0", "job-1", "job-bad", "job-3", "job-4" };
  Job jobs[G_N_ELEMENTS (names)] = { { 0 } };
  BatchCounter counter = { 0 };
  Gate gate = { 0 };
  Producer producer = { fx->store, context, jobs, G_N_ELEMENTS (jobs) };
  gboolean gate_finished = FALSE;
  guint freed = 0;
  GThread *thread;
  sqlite3 *db;
  gint64 deadline;

  g_mutex_init (&gate.mutex);
  g_cond_init (&gate.cond);

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      jobs[i].name = names[i];
      jobs[i].fail = g_str_equal (names[i], "job-bad");
      jobs[i].counter = &counter;
      jobs[i].freed = &freed;
    }

  _sy_store_write (fx->store, 1, gate_write, &gate, NULL, context, gate_done, &gate_finished);

  /* Wait until the writer is inside the gate, so that every job below queues behind it. */
  deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;
  g_mutex_lock (&gate.mutex);
  while (!gate.running)
    {
      if (!g_cond_wait_until (&gate.cond, &gate.mutex, deadline))
        g_error ("The writer never ran the gate job");
    }
  g_mutex_unlock (&gate.mutex);

  thread = g_thread_new ("producer", producer_thread, &producer);
  g_thread_join (thread);

  g_mutex_lock (&gate.mutex);
  gate.open = TRUE;
  g_cond_broadcast (&gate.cond);
  g_mutex_unlock (&gate.mutex);

  wait_until (context, &gate_finished);
  deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;
  while (!all_jobs_done (jobs, G_N_ELEMENTS (jobs)))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Jobs did not complete within %d s", WAIT_TIMEOUT_S);
      g_main_context_iteration (context, FALSE);
      g_usleep (1000);
    }

  /* The four good jobs shared one transaction: one flush of the batch's hook. */
  g_assert_cmpuint (counter.flushes, ==, 1);
  g_assert_cmpuint (counter.jobs_at_flush, ==, 4);
  g_assert_cmpuint (freed, ==, G_N_ELEMENTS (jobs));

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      /* Completions come back on the context given to _sy_store_write(). */
      g_assert_true (jobs[i].done_thread == g_thread_self ());
      if (jobs[i].fail)
        {
          g_assert_error (jobs[i].error, SY_ERROR, SY_ERROR_CONFLICT);
        }
      else if (jobs[i].error != NULL)
        {
          g_error ("%s failed: %s", jobs[i].name, jobs[i].error->message);
        }
      g_clear_error (&jobs[i].error);
    }

  db = open_readonly (fx->path);
  g_assert_cmpint (count_sites (db, NULL), ==, 4);
  g_assert_cmpint (count_sites (db, "job-bad"), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (!g_str_equal (names[i], "job-bad"))
        g_assert_cmpint (count_sites (db, names[i]), ==, 1);
    }
  sqlite3_close (db);

  g_mutex_clear (&gate.mutex);
  g_cond_clear (&gate.cond);
}

static void
count_done (const GError *error,
            gpointer      user_data)
{
  guint *counts = user_data;

  if (error == NULL)
    counts[0]++;
  else
    {
      g_assert_error ((GError *) error, SY_ERROR, SY_ERROR_UNAVAILABLE);
      counts[1]++;
    }
}

static void
test_close_flushes (StoreFixture  *fx,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint counts[2] = { 0, 0 };
  sqlite3 *db;

  /* No context: completions run on the writer thread, and close() waits for them. */
  for (guint i = 0; i < 50; i++)
    {
      char *name = g_strdup_printf ("queued-%u", i);

      g_ptr_array_add (names, name);
      _sy_store_write (fx->store, 1, insert_site, name, NULL, NULL, count_done, counts);
    }
  _sy_store_close (fx->store);
  g_assert_cmpuint (counts[0], ==, names->len);
  g_assert_cmpuint (counts[1], ==, 0);

  /* After close, writes fail instead of vanishing. */
  _sy_store_write (fx->store, 1, insert_site, (gpointer) "late", NULL, NULL, count_done, counts);
  g_assert_cmpuint (counts[1], ==, 1);
  g_assert_false (_sy_store_write_sync (fx->store, insert_site, (gpointer) "late", &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_UNAVAILABLE);

  db = open_readonly (fx->path);
  g_assert_cmpint (count_sites (db, NULL), ==, names->len);
  g_assert_cmpint (count_sites (db, "late"), ==, 0);
  for (guint i = 0; i < names->len; i++)
    g_assert_cmpint (count_sites (db, names->pdata[i]), ==, 1);
  sqlite3_close (db);
}

/* Ingestion and rollups. */

typedef struct
{
  gboolean  done;
  guint     inserted;
  guint     n;
  GError   *error;
} IngestWait;

static void
ingest_done (const GError *error,
             GArray       *readings,
             guint         inserted,
             gpointer      user_data)
{
  IngestWait *wait = user_data;

  wait->done = TRUE;
  wait->inserted = inserted;
  wait->n = readings->len;
  if (error != NULL)
    wait->error = g_error_copy (error);
}

/* NAN leaves a value absent. */
static void
add_reading (GArray *readings,
             gint64  meter_id,
             gint64  ts_ms,
             double  power,
             double  energy,
             double  voltage)
{
  SyReading r = { 0 };

  r.meter_id = meter_id;
  r.ts_ms = ts_ms;
  if (!isnan (power))
    {
      r.values[SY_READING_TOTAL_POWER] = power;
      r.present |= 1u << SY_READING_TOTAL_POWER;
    }
  if (!isnan (energy))
    {
      r.values[SY_READING_TOTAL_ENERGY] = energy;
      r.present |= 1u << SY_READING_TOTAL_ENERGY;
    }
  if (!isnan (voltage))
    {
      r.values[SY_READING_VOLTAGE_A] = voltage;
      r.present |= 1u << SY_READING_VOLTAGE_A;
    }

  g_array_append_val (readings, r);
}

static guint
submit (SyStore *store,
        GArray  *readings)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  IngestWait wait = { 0 };
  guint n = readings->len;

  _sy_ingest_submit (store, readings, context, ingest_done, &wait);
  wait_until (context, &wait.done);
  g_assert_no_error (wait.error);
  g_assert_cmpuint (wait.n, ==, n);

  return wait.inserted;
}

typedef struct
{
  gint64 meter_id;
  gint64 res_s;
  gint64 bucket_ms;
  gint64 count;
  gint64 power_count;
  double sum_power;
  double min_power;     /* NAN: NULL */
  double max_power;
  double avg_power;
  double energy_delta;
} ExpectedRollup;

static void
assert_nullable_double (sqlite3_stmt *stmt,
                        int           column,
                        double        expected,
                        const char   *what)
{
  if (isnan (expected))
    {
      if (sqlite3_column_type (stmt, column) != SQLITE_NULL)
        g_error ("%s: expected NULL, got %g", what, sqlite3_column_double (stmt, column));
      return;
    }

  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    g_error ("%s: expected %g, got NULL", what, expected);
  if (fabs (sqlite3_column_double (stmt, column) - expected) > 1e-9)
    g_error ("%s: expected %.12g, got %.12g", what, expected, sqlite3_column_double (stmt, column));
}

static void
assert_rollup (sqlite3              *db,
               const ExpectedRollup *e)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *what = g_strdup_printf ("meter %" G_GINT64_FORMAT " res %" G_GINT64_FORMAT " bucket %" G_GINT64_FORMAT,
                                           e->meter_id, e->res_s, e->bucket_ms);
  g_autofree char *w_min = g_strconcat (what, " min_power", NULL);
  g_autofree char *w_max = g_strconcat (what, " max_power", NULL);
  g_autofree char *w_avg = g_strconcat (what, " avg_power", NULL);
  g_autofree char *w_delta = g_strconcat (what, " energy_delta", NULL);

  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT count, power_count, sum_power, min_power, max_power, avg_power, "
                                       "energy_delta FROM rollups WHERE meter_id = ? AND res_s = ? AND bucket_ms = ?",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, e->meter_id);
  sqlite3_bind_int64 (stmt, 2, e->res_s);
  sqlite3_bind_int64 (stmt, 3, e->bucket_ms);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    g_error ("%s: no rollup row", what);

  if (sqlite3_column_int64 (stmt, 0) != e->count)
    g_error ("%s: count %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT, what,
             (gint64) sqlite3_column_int64 (stmt, 0), e->count);
  if (sqlite3_column_int64 (stmt, 1) != e->power_count)
    g_error ("%s: power_count %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT, what,
             (gint64) sqlite3_column_int64 (stmt, 1), e->power_count);
  g_assert_cmpfloat_with_epsilon (sqlite3_column_double (stmt, 2), e->sum_power, 1e-9);
  assert_nullable_double (stmt, 3, e->min_power, w_min);
  assert_nullable_double (stmt, 4, e->max_power, w_max);
  assert_nullable_double (stmt, 5, e->avg_power, w_avg);
  assert_nullable_double (stmt, 6, e->energy_delta, w_delta);
}

static gint64
floor_bucket (gint64 ts_ms,
              gint64 res_s)
{
  return ts_ms / (res_s * 1000) * (res_s * 1000);
}

static void
test_ingest_rollups (StoreFixture  *fx,
                     gconstpointer  data)
{
  g_autoptr(GArray) first = _sy_reading_array_new (4);
  g_autoptr(GArray) second = _sy_reading_array_new (4);
  const gint64 day = floor_bucket (T0_MS, 86400);
  sqlite3 *db;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (_sy_rollup_resolutions[0], ==, 60);
  g_assert_cmpint (_sy_rollup_resolutions[1], ==, 900);
  g_assert_cmpint (_sy_rollup_resolutions[2], ==, 3600);
  g_assert_cmpint (_sy_rollup_resolutions[3], ==, 86400);

  /* Meter 7, out of order inside the batch, spanning two minutes. Meter 8 and 9 share the
   * batch but not the buckets. */
  add_reading (first, 7, T0_MS + 30000, 1000, 10.0, NAN);
  add_reading (first, 7, T0_MS + 10000, 3000, 9.0, NAN);
  add_reading (first, 7, T0_MS + 70000, 2000, 12.0, NAN);
  add_reading (first, 8, T0_MS + 10000, 42, NAN, NAN);
  add_reading (first, 9, T0_MS, NAN, 5.0, NAN);
  g_assert_cmpuint (submit (fx->store, g_steal_pointer (&first)), ==, 5);

  /* An earlier reading than any stored one, a duplicate of a stored one with other values, a
   * reading without power or energy, and the same timestamp twice in one batch. */
  add_reading (second, 7, T0_MS + 5000, 500, 8.5, NAN);
  add_reading (second, 7, T0_MS + 30000, 99999, 99.0, NAN);
  add_reading (second, 7, T0_MS + 50000, NAN, NAN, 231.5);
  add_reading (second, 7, T0_MS + 50000, 77777, 77.0, NAN);
  g_assert_cmpuint (submit (fx->store, g_steal_pointer (&second)), ==, 2);

  db = open_readonly (fx->path);

  /* The first value stored for a (meter, timestamp) wins. */
  g_assert_cmpint (_sy_sql_query_int64 (db, "SELECT count(*) FROM readings WHERE meter_id = 7", -1), ==, 5);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT total_power, total_energy, voltage_a FROM readings "
                                           "WHERE meter_id = 7 AND ts_ms = ?", -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, T0_MS + 30000);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpfloat (sqlite3_column_double (stmt, 0), ==, 1000);
  g_assert_cmpfloat (sqlite3_column_double (stmt, 1), ==, 10.0);
  g_assert_cmpint (sqlite3_column_type (stmt, 2), ==, SQLITE_NULL);
  sqlite3_reset (stmt);
  sqlite3_bind_int64 (stmt, 1, T0_MS + 50000);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_type (stmt, 0), ==, SQLITE_NULL);
  g_assert_cmpfloat (sqlite3_column_double (stmt, 2), ==, 231.5);
  g_clear_pointer (&stmt, sqlite3_finalize);

  {
    const ExpectedRollup expected[] = {
      /* 10:00 minute: +5 (500, 8.5), +10 (3000, 9), +30 (1000, 10), +50 (no power). */
      { 7, 60, T0_MS, 4, 3, 4500, 500, 3000, 1500, 1.5 },
      /* 10:01 minute: +70 (2000, 12). */
      { 7, 60, T0_MS + 60000, 1, 1, 2000, 2000, 2000, 2000, 0 },
      { 7, 900, T0_MS, 5, 4, 6500, 500, 3000, 1625, 3.5 },
      { 7, 3600, T0_MS, 5, 4, 6500, 500, 3000, 1625, 3.5 },
      { 7, 86400, day, 5, 4, 6500, 500, 3000, 1625, 3.5 },
      { 8, 60, T0_MS, 1, 1, 42, 42, 42, 42, NAN },
      { 8, 86400, day, 1, 1, 42, 42, 42, 42, NAN },
      { 9, 60, T0_MS, 1, 0, 0, NAN, NAN, NAN, 0 },
      { 9, 3600, T0_MS, 1, 0, 0, NAN, NAN, NAN, 0 },
    };

    for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
      assert_rollup (db, &expected[i]);
  }

  g_assert_cmpint (_sy_sql_query_int64 (db, "SELECT count(*) FROM rollups WHERE meter_id = 7", -1), ==, 5);
  g_assert_cmpint (_sy_sql_query_int64 (db, "SELECT count(*) FROM rollups WHERE meter_id = 8", -1), ==, 4);
  g_assert_cmpint (_sy_sql_query_int64 (db, "SELECT count(*) FROM rollups WHERE meter_id = 9", -1), ==, 4);
  g_assert_cmpint (_sy_sql_query_int64 (db, "SELECT count(*) FROM rollups", -1), ==, 13);
  sqlite3_close (db);
}

static void
test_ingest_all_duplicates (StoreFixture  *fx,
                            gconstpointer  data)
{
  g_autoptr(GArray) first = _sy_reading_array_new (2);
  g_autoptr(GArray) again = _sy_reading_array_new (2);
  sqlite3 *db;

  add_reading (first, 3, T0_MS, 100, 1.0, NAN);
  add_reading (first, 3, T0_MS + 1000, 300, 2.0, NAN);
  g_assert_cmpuint (submit (fx->store, g_steal_pointer (&first)), ==, 2);

  add_reading (again, 3, T0_MS, 100, 1.0, NAN);
  add_reading (again, 3, T0_MS + 1000, 300, 2.0, NAN);
  g_assert_cmpuint (submit (fx->store, g_steal_pointer (&again)), ==, 0);

  db = open_readonly (fx->path);
  {
    const ExpectedRollup minute = { 3, 60, T0_MS, 2, 2, 400, 100, 300, 200, 1.0 };

    assert_rollup (db, &minute);
  }
  g_assert_cmpint (_sy_sql_query_int64 (db, "SELECT count(*) FROM readings", -1), ==, 2);
  sqlite3_close (db);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add ("/switchyard/backend/store/migrations", StoreFixture, NULL,
              store_setup, test_migrations, store_teardown);
  g_test_add ("/switchyard/backend/store/reopen", StoreFixture, NULL,
              store_setup, test_reopen_keeps_schema, store_teardown);
  g_test_add ("/switchyard/backend/store/wal", StoreFixture, NULL,
              store_setup, test_wal_mode, store_teardown);
  g_test_add ("/switchyard/backend/store/foreign-keys", StoreFixture, NULL,
              store_setup, test_foreign_keys, store_teardown);
  g_test_add ("/switchyard/backend/store/write-sync-visible", StoreFixture, NULL,
              store_setup, test_write_sync_visible, store_teardown);
  g_test_add ("/switchyard/backend/store/group-commit/isolates-failure", StoreFixture, NULL,
              store_setup, test_group_commit_isolates_failure, store_teardown);
  g_test_add ("/switchyard/backend/store/close-flushes", StoreFixture, NULL,
              store_setup, test_close_flushes, store_teardown);
  g_test_add ("/switchyard/backend/store/ingest/rollups", StoreFixture, NULL,
              store_setup, test_ingest_rollups, store_teardown);
  g_test_add ("/switchyard/backend/store/ingest/duplicates", StoreFixture, NULL,
              store_setup, test_ingest_all_duplicates, store_teardown);

  return g_test_run ();
}
