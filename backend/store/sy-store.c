/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-store"

#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "sy-error.h"
#include "sy-store-private.h"

#define N_READERS        4
#define MAX_BATCH_WEIGHT 50000
#define MIGRATIONS_PATH  "/io/github/switchyard/Switchyard/sql/"

typedef struct
{
  SyStoreWriteFunc  func;
  gpointer          data;
  GDestroyNotify    data_free;
  guint             weight;
  GMainContext     *context;
  SyStoreWriteDone  done;
  gpointer          user_data;
  GError           *error;

  /* For _sy_store_write_sync(). */
  GMutex           *sync_mutex;
  GCond            *sync_cond;
  gboolean         *sync_done;
  GError          **sync_error;

  gboolean          is_stop;
} WriteJob;

typedef struct
{
  gconstpointer    key;
  gpointer         data;
  SyWriteHookFunc  flush;
  GDestroyNotify   free_func;
} WriteHook;

struct _SyWriteBatch
{
  SyStore *store;
  GArray  *hooks;
};

struct _SyStore
{
  GObject       parent_instance;

  char         *path;
  int           schema_version;

  sqlite3      *writer;
  GHashTable   *writer_stmts;   /* const char *sql (by address) -> sqlite3_stmt * */
  GThread      *writer_thread;
  GAsyncQueue  *queue;          /* WriteJob * */

  /* Checkpoints run on their own thread and connection so that copying the WAL back into the
   * database never stalls a commit (and with it every waiting request). */
  GThread      *checkpoint_thread;
  GMutex        checkpoint_mutex;
  GCond         checkpoint_cond;
  guint         checkpoint_wanted : 1;
  guint         checkpoint_stop : 1;

  GMutex        readers_mutex;
  GCond         readers_cond;
  GPtrArray    *readers_free;
  GPtrArray    *readers_all;

  guint         closed : 1;
};

G_DEFINE_FINAL_TYPE (SyStore, sy_store, G_TYPE_OBJECT)

gboolean
_sy_sql_check (sqlite3     *db,
               int          rc,
               const char  *what,
               GError     **error)
{
  int code;

  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
    return TRUE;

  code = (rc & 0xff) == SQLITE_CONSTRAINT ? SY_ERROR_CONFLICT :
         (rc & 0xff) == SQLITE_BUSY ? SY_ERROR_UNAVAILABLE : SY_ERROR_INTERNAL;
  g_set_error (error, SY_ERROR, code, "%s: %s", what, db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
  return FALSE;
}

gboolean
_sy_sql_exec (sqlite3     *db,
              const char  *sql,
              GError     **error)
{
  char *errmsg = NULL;
  int rc;

  rc = sqlite3_exec (db, sql, NULL, NULL, &errmsg);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_INTERNAL, "SQL failed: %s", errmsg ? errmsg : sqlite3_errstr (rc));
      sqlite3_free (errmsg);
      return FALSE;
    }

  return TRUE;
}

sqlite3_stmt *
_sy_sql_prepare (sqlite3     *db,
                 const char  *sql,
                 GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
  if (!_sy_sql_check (db, rc, "Preparing statement", error))
    return NULL;

  return stmt;
}

gint64
_sy_sql_query_int64 (sqlite3    *db,
                     const char *sql,
                     gint64      fallback)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 ret = fallback;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    ret = sqlite3_column_int64 (stmt, 0);

  return ret;
}

static void
finalize_stmt (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Migrations are numbered SQL files in the gresource (data/sql/NNNN-name.sql). Each runs in its
 * own transaction and bumps PRAGMA user_version, so a failed one leaves the previous schema. */
static gboolean
run_migrations (SyStore  *self,
                GError  **error)
{
  g_auto(GStrv) names = NULL;
  int version;

  names = g_resources_enumerate_children (MIGRATIONS_PATH, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (names == NULL)
    {
      g_prefix_error (error, "Listing migrations: ");
      return FALSE;
    }
  qsort (names, g_strv_length (names), sizeof (char *), compare_strings);

  version = (int) _sy_sql_query_int64 (self->writer, "PRAGMA user_version", 0);

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *resource = g_strconcat (MIGRATIONS_PATH, names[i], NULL);
      g_autoptr(GBytes) bytes = NULL;
      g_autofree char *sql = NULL;
      g_autofree char *bump = NULL;
      int number = atoi (names[i]);

      if (number <= version)
        continue;

      bytes = g_resources_lookup_data (resource, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
      if (bytes == NULL)
        return FALSE;

      sql = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      bump = g_strdup_printf ("PRAGMA user_version = %d", number);

      if (!_sy_sql_exec (self->writer, "BEGIN IMMEDIATE", error))
        return FALSE;

      if (!_sy_sql_exec (self->writer, sql, error) ||
          !_sy_sql_exec (self->writer, bump, error) ||
          !_sy_sql_exec (self->writer, "COMMIT", error))
        {
          _sy_sql_exec (self->writer, "ROLLBACK", NULL);
          g_prefix_error (error, "Migration %s: ", names[i]);
          return FALSE;
        }

      g_debug ("Applied migration %s", names[i]);
      version = number;
    }

  self->schema_version = version;

  return TRUE;
}

static sqlite3 *
open_connection (const char  *path,
                 gboolean     read_only,
                 GError     **error)
{
  sqlite3 *db = NULL;
  int flags = SQLITE_OPEN_NOMUTEX;
  int rc;

  flags |= read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);

  rc = sqlite3_open_v2 (path, &db, flags, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_INTERNAL, "Opening database %s: %s",
                   path, db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
      sqlite3_close (db);
      return NULL;
    }

  sqlite3_busy_timeout (db, 5000);
  sqlite3_extended_result_codes (db, 1);

  /* synchronous=FULL: a 2xx promises the reading survives a power cut, not just a crash.
   * Group commit makes the fsync affordable. */
  if (!_sy_sql_exec (db,
                     read_only ?
                     "PRAGMA foreign_keys = ON;"
                     "PRAGMA cache_size = -16384;"
                     "PRAGMA temp_store = MEMORY;" :
                     "PRAGMA journal_mode = WAL;"
                     "PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;"
                     "PRAGMA wal_autocheckpoint = 0;"
                     "PRAGMA cache_size = -65536;"
                     "PRAGMA temp_store = MEMORY;",
                     error))
    {
      g_prefix_error (error, "Configuring %s: ", path);
      sqlite3_close (db);
      return NULL;
    }

  return db;
}

static void
complete_job (WriteJob *job)
{
  if (job->done != NULL)
    job->done (job->error, job->user_data);

  if (job->data_free != NULL)
    job->data_free (job->data);
  g_clear_error (&job->error);
  g_free (job);
}

static gboolean
complete_job_cb (gpointer user_data)
{
  complete_job (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
complete_jobs_cb (gpointer user_data)
{
  GPtrArray *jobs = user_data;

  for (guint i = 0; i < jobs->len; i++)
    complete_job (g_ptr_array_index (jobs, i));

  return G_SOURCE_REMOVE;
}

static void
finish_jobs (GPtrArray *jobs)
{
  g_autoptr(GHashTable) by_context = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_ptr_array_unref);

  /* Completions are grouped per main context: one wake-up per context per commit, however many
   * requests the commit carried. */
  for (guint i = 0; i < jobs->len; i++)
    {
      WriteJob *job = g_ptr_array_index (jobs, i);

      if (job->sync_mutex != NULL)
        {
          g_mutex_lock (job->sync_mutex);
          if (job->error != NULL)
            g_propagate_error (job->sync_error, g_steal_pointer (&job->error));
          *job->sync_done = TRUE;
          g_cond_broadcast (job->sync_cond);
          g_mutex_unlock (job->sync_mutex);
          g_free (job);
        }
      else if (job->context == NULL)
        {
          complete_job (job);
        }
      else
        {
          GPtrArray *list = g_hash_table_lookup (by_context, job->context);

          if (list == NULL)
            {
              list = g_ptr_array_new ();
              g_hash_table_insert (by_context, job->context, list);
            }
          g_ptr_array_add (list, job);
        }
    }

  {
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, by_context);
    while (g_hash_table_iter_next (&iter, &key, &value))
      {
        g_main_context_invoke_full (key, G_PRIORITY_DEFAULT, complete_jobs_cb,
                                    g_ptr_array_ref (value), (GDestroyNotify) g_ptr_array_unref);
      }
  }
}

static void
clear_hook (gpointer data)
{
  WriteHook *hook = data;

  if (hook->free_func != NULL)
    hook->free_func (hook->data);
}

/* Savepoints are per request on the hot path: keep them prepared rather than re-parsed. */
static gboolean
step_cached (SyWriteBatch  *batch,
             const char    *sql,
             GError       **error)
{
  sqlite3_stmt *stmt = _sy_write_batch_prepare (batch, sql, error);

  if (stmt == NULL)
    return FALSE;

  return _sy_sql_check (_sy_write_batch_get_db (batch), sqlite3_step (stmt), sql, error);
}

static void
run_batch (SyStore   *self,
           GPtrArray *jobs)
{
  g_autoptr(GError) error = NULL;
  SyWriteBatch batch = { self, NULL };
  gboolean single = jobs->len == 1;

  batch.hooks = g_array_new (FALSE, TRUE, sizeof (WriteHook));
  g_array_set_clear_func (batch.hooks, clear_hook);

  if (!_sy_sql_exec (self->writer, "BEGIN IMMEDIATE", &error))
    goto fail_all;

  for (guint i = 0; i < jobs->len; i++)
    {
      WriteJob *job = g_ptr_array_index (jobs, i);

      if (!single && !step_cached (&batch, "SAVEPOINT job", &job->error))
        continue;

      if (!job->func (&batch, job->data, &job->error))
        {
          g_assert (job->error != NULL);
          if (!single)
            {
              step_cached (&batch, "ROLLBACK TO job", NULL);
              step_cached (&batch, "RELEASE job", NULL);
            }
          continue;
        }

      if (!single)
        step_cached (&batch, "RELEASE job", &job->error);
    }

  /* A lone job that failed leaves nothing to commit. */
  if (single && ((WriteJob *) g_ptr_array_index (jobs, 0))->error != NULL)
    {
      _sy_sql_exec (self->writer, "ROLLBACK", NULL);
      goto out;
    }

  for (guint i = 0; i < batch.hooks->len; i++)
    {
      WriteHook *hook = &g_array_index (batch.hooks, WriteHook, i);

      if (!hook->flush (&batch, hook->data, &error))
        {
          _sy_sql_exec (self->writer, "ROLLBACK", NULL);
          goto fail_all;
        }
    }

  if (!_sy_sql_exec (self->writer, "COMMIT", &error))
    {
      _sy_sql_exec (self->writer, "ROLLBACK", NULL);
      goto fail_all;
    }

  goto out;

fail_all:
  g_warning ("Write transaction failed: %s", error->message);
  for (guint i = 0; i < jobs->len; i++)
    {
      WriteJob *job = g_ptr_array_index (jobs, i);

      if (job->error == NULL)
        job->error = g_error_copy (error);
    }

out:
  g_array_unref (batch.hooks);
  finish_jobs (jobs);
}

#define CHECKPOINT_PAGES 8192

static gpointer
checkpoint_thread_func (gpointer user_data)
{
  SyStore *self = user_data;
  g_autoptr(GError) error = NULL;
  sqlite3 *db;

  db = open_connection (self->path, FALSE, &error);
  if (db == NULL)
    {
      g_warning ("Checkpoints disabled: %s", error->message);
      return NULL;
    }

  g_mutex_lock (&self->checkpoint_mutex);
  while (!self->checkpoint_stop)
    {
      int log_pages = 0, done_pages = 0, rc;

      if (!self->checkpoint_wanted)
        {
          g_cond_wait (&self->checkpoint_cond, &self->checkpoint_mutex);
          continue;
        }
      self->checkpoint_wanted = FALSE;
      g_mutex_unlock (&self->checkpoint_mutex);

      /* PASSIVE never waits for the writer or the readers; what it cannot copy now it copies
       * next time. */
      rc = sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &done_pages);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        g_warning ("WAL checkpoint failed: %s", sqlite3_errmsg (db));

      g_mutex_lock (&self->checkpoint_mutex);
    }
  g_mutex_unlock (&self->checkpoint_mutex);

  sqlite3_close (db);

  return NULL;
}

static int
wal_hook_cb (void       *user_data,
             sqlite3    *db,
             const char *name,
             int         pages)
{
  SyStore *self = user_data;

  if (pages >= CHECKPOINT_PAGES)
    {
      g_mutex_lock (&self->checkpoint_mutex);
      self->checkpoint_wanted = TRUE;
      g_cond_signal (&self->checkpoint_cond);
      g_mutex_unlock (&self->checkpoint_mutex);
    }

  return SQLITE_OK;
}

static gpointer
writer_thread_func (gpointer user_data)
{
  SyStore *self = user_data;
  g_autoptr(GPtrArray) jobs = g_ptr_array_new ();
  gboolean stop = FALSE;

  while (!stop)
    {
      WriteJob *job = g_async_queue_pop (self->queue);
      guint weight = 0;

      /* Group commit: take whatever queued up while the last transaction was committing. */
      while (job != NULL)
        {
          if (job->is_stop)
            {
              stop = TRUE;
              g_free (job);
            }
          else
            {
              g_ptr_array_add (jobs, job);
              weight += MAX (job->weight, 1);
            }

          if (weight >= MAX_BATCH_WEIGHT)
            break;

          job = g_async_queue_try_pop (self->queue);
        }

      if (jobs->len > 0)
        run_batch (self, jobs);
      g_ptr_array_set_size (jobs, 0);
    }

  return NULL;
}

static void
sy_store_finalize (GObject *object)
{
  SyStore *self = (SyStore *) object;

  _sy_store_close (self);

  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_clear_pointer (&self->readers_free, g_ptr_array_unref);
  g_clear_pointer (&self->readers_all, g_ptr_array_unref);
  g_mutex_clear (&self->readers_mutex);
  g_cond_clear (&self->readers_cond);
  g_mutex_clear (&self->checkpoint_mutex);
  g_cond_clear (&self->checkpoint_cond);
  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (sy_store_parent_class)->finalize (object);
}

static void
sy_store_class_init (SyStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sy_store_finalize;
}

static void
sy_store_init (SyStore *self)
{
  g_mutex_init (&self->readers_mutex);
  g_cond_init (&self->readers_cond);
  g_mutex_init (&self->checkpoint_mutex);
  g_cond_init (&self->checkpoint_cond);
  self->readers_free = g_ptr_array_new ();
  self->readers_all = g_ptr_array_new ();
  self->queue = g_async_queue_new ();
}

/**
 * _sy_store_open:
 * @path: the database file; its folder is created when missing
 *
 * Opens (creating and migrating when needed) the database, starts the writer thread and opens
 * the reader pool. Call from any thread; the store may be used from any thread.
 */
SyStore *
_sy_store_open (const char  *path,
                GError     **error)
{
  g_autoptr(SyStore) self = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, SY_ERROR, SY_ERROR_INTERNAL, "Creating %s: %s", dir, g_strerror (errsv));
      return NULL;
    }

  self = g_object_new (SY_TYPE_STORE, NULL);
  self->path = g_strdup (path);
  self->closed = TRUE;

  self->writer = open_connection (path, FALSE, error);
  if (self->writer == NULL)
    return NULL;

  if (!run_migrations (self, error))
    {
      g_clear_pointer (&self->writer, sqlite3_close);
      return NULL;
    }

  for (guint i = 0; i < N_READERS; i++)
    {
      sqlite3 *reader = open_connection (path, TRUE, error);

      if (reader == NULL)
        {
          self->closed = FALSE;
          _sy_store_close (self);
          return NULL;
        }
      g_ptr_array_add (self->readers_all, reader);
      g_ptr_array_add (self->readers_free, reader);
    }

  self->writer_stmts = g_hash_table_new_full (NULL, NULL, NULL, finalize_stmt);
  self->closed = FALSE;
  sqlite3_wal_hook (self->writer, wal_hook_cb, self);
  self->checkpoint_thread = g_thread_new ("sy-store-checkpoint", checkpoint_thread_func, self);
  self->writer_thread = g_thread_new ("sy-store-writer", writer_thread_func, self);

  return g_steal_pointer (&self);
}

/**
 * _sy_store_close:
 *
 * Flushes every queued write (their done callbacks are still dispatched), stops the writer
 * thread and closes all connections. Idempotent. Readers must have been released.
 */
void
_sy_store_close (SyStore *self)
{
  g_return_if_fail (SY_IS_STORE (self));

  if (self->closed)
    return;
  self->closed = TRUE;

  if (self->writer_thread != NULL)
    {
      WriteJob *stop = g_new0 (WriteJob, 1);

      stop->is_stop = TRUE;
      g_async_queue_push (self->queue, stop);
      g_thread_join (g_steal_pointer (&self->writer_thread));
    }

  if (self->checkpoint_thread != NULL)
    {
      g_mutex_lock (&self->checkpoint_mutex);
      self->checkpoint_stop = TRUE;
      g_cond_signal (&self->checkpoint_cond);
      g_mutex_unlock (&self->checkpoint_mutex);
      g_thread_join (g_steal_pointer (&self->checkpoint_thread));
    }

  g_clear_pointer (&self->writer_stmts, g_hash_table_unref);
  if (self->writer != NULL)
    {
      /* Leave a clean WAL so the file is self-contained after shutdown. */
      sqlite3_wal_checkpoint_v2 (self->writer, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
      g_clear_pointer (&self->writer, sqlite3_close);
    }

  g_mutex_lock (&self->readers_mutex);
  if (self->readers_free->len != self->readers_all->len)
    g_critical ("Closing the store with %u readers still in use",
                self->readers_all->len - self->readers_free->len);
  for (guint i = 0; i < self->readers_all->len; i++)
    sqlite3_close (g_ptr_array_index (self->readers_all, i));
  g_ptr_array_set_size (self->readers_all, 0);
  g_ptr_array_set_size (self->readers_free, 0);
  g_mutex_unlock (&self->readers_mutex);
}

const char *
_sy_store_get_path (SyStore *self)
{
  g_return_val_if_fail (SY_IS_STORE (self), NULL);

  return self->path;
}

int
_sy_store_get_schema_version (SyStore *self)
{
  g_return_val_if_fail (SY_IS_STORE (self), 0);

  return self->schema_version;
}

void
_sy_store_write (SyStore          *self,
                 guint             weight,
                 SyStoreWriteFunc  func,
                 gpointer          data,
                 GDestroyNotify    data_free,
                 GMainContext     *context,
                 SyStoreWriteDone  done,
                 gpointer          user_data)
{
  WriteJob *job;

  g_return_if_fail (SY_IS_STORE (self));
  g_return_if_fail (func != NULL);

  job = g_new0 (WriteJob, 1);
  job->func = func;
  job->data = data;
  job->data_free = data_free;
  job->weight = weight;
  job->context = context;
  job->done = done;
  job->user_data = user_data;

  if (self->closed)
    {
      job->error = g_error_new_literal (SY_ERROR, SY_ERROR_UNAVAILABLE, "The store is closed");
      if (context != NULL)
        g_main_context_invoke_full (context, G_PRIORITY_DEFAULT, complete_job_cb, job, NULL);
      else
        complete_job (job);
      return;
    }

  g_async_queue_push (self->queue, job);
}

gboolean
_sy_store_write_sync (SyStore           *self,
                      SyStoreWriteFunc   func,
                      gpointer           data,
                      GError           **error)
{
  GMutex mutex;
  GCond cond;
  gboolean done = FALSE;
  GError *local_error = NULL;
  WriteJob *job;

  g_return_val_if_fail (SY_IS_STORE (self), FALSE);
  g_return_val_if_fail (g_thread_self () != self->writer_thread, FALSE);

  if (self->closed)
    {
      g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAVAILABLE, "The store is closed");
      return FALSE;
    }

  g_mutex_init (&mutex);
  g_cond_init (&cond);

  job = g_new0 (WriteJob, 1);
  job->func = func;
  job->data = data;
  job->weight = 1;
  job->sync_mutex = &mutex;
  job->sync_cond = &cond;
  job->sync_done = &done;
  job->sync_error = &local_error;

  g_mutex_lock (&mutex);
  g_async_queue_push (self->queue, job);
  while (!done)
    g_cond_wait (&cond, &mutex);
  g_mutex_unlock (&mutex);

  g_mutex_clear (&mutex);
  g_cond_clear (&cond);

  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  return TRUE;
}

sqlite3 *
_sy_write_batch_get_db (SyWriteBatch *batch)
{
  return batch->store->writer;
}

/**
 * _sy_write_batch_prepare:
 * @sql: a string with static storage: statements are cached by its address
 *
 * Returns: (transfer none): a reset statement with cleared bindings, owned by the store.
 */
sqlite3_stmt *
_sy_write_batch_prepare (SyWriteBatch  *batch,
                         const char    *sql,
                         GError       **error)
{
  SyStore *self = batch->store;
  sqlite3_stmt *stmt;
  int rc;

  stmt = g_hash_table_lookup (self->writer_stmts, sql);
  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }

  rc = sqlite3_prepare_v3 (self->writer, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (!_sy_sql_check (self->writer, rc, "Preparing statement", error))
    return NULL;

  g_hash_table_insert (self->writer_stmts, (gpointer) sql, stmt);

  return stmt;
}

gpointer
_sy_write_batch_get_hook (SyWriteBatch  *batch,
                          gconstpointer  key)
{
  for (guint i = 0; i < batch->hooks->len; i++)
    {
      WriteHook *hook = &g_array_index (batch->hooks, WriteHook, i);

      if (hook->key == key)
        return hook->data;
    }

  return NULL;
}

void
_sy_write_batch_add_hook (SyWriteBatch    *batch,
                          gconstpointer    key,
                          gpointer         hook_data,
                          SyWriteHookFunc  flush,
                          GDestroyNotify   hook_free)
{
  WriteHook hook = { key, hook_data, flush, hook_free };

  g_array_append_val (batch->hooks, hook);
}

sqlite3 *
_sy_store_reader_acquire (SyStore *self)
{
  sqlite3 *db;

  g_return_val_if_fail (SY_IS_STORE (self), NULL);

  g_mutex_lock (&self->readers_mutex);
  while (self->readers_free->len == 0)
    g_cond_wait (&self->readers_cond, &self->readers_mutex);
  db = g_ptr_array_steal_index_fast (self->readers_free, self->readers_free->len - 1);
  g_mutex_unlock (&self->readers_mutex);

  return db;
}

void
_sy_store_reader_release (SyStore *self,
                          sqlite3 *db)
{
  g_return_if_fail (SY_IS_STORE (self));
  g_return_if_fail (db != NULL);

  g_mutex_lock (&self->readers_mutex);
  g_ptr_array_add (self->readers_free, db);
  g_cond_signal (&self->readers_cond);
  g_mutex_unlock (&self->readers_mutex);
}
