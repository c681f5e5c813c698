/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <glib-object.h>
#include <sqlite3.h>

#include "sy-types.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

#define SY_TYPE_STORE (sy_store_get_type ())
G_DECLARE_FINAL_TYPE (SyStore, sy_store, SY, STORE, GObject)

/* A write function runs on the writer thread inside the group-commit transaction (and inside
 * its own savepoint, so a failure undoes only its own changes). It must not block on anything
 * but SQLite. */
typedef gboolean (*SyStoreWriteFunc) (SyWriteBatch  *batch,
                                      gpointer       data,
                                      GError       **error);

/* Called once the transaction holding the write committed (error == NULL) or failed. Runs on
 * the GMainContext given to _sy_store_write(). */
typedef void     (*SyStoreWriteDone) (const GError  *error,
                                      gpointer       user_data);

/* A pre-commit hook flushes state that write functions accumulated on the batch (rollups);
 * a failure rolls back the whole transaction. */
typedef gboolean (*SyWriteHookFunc)  (SyWriteBatch  *batch,
                                      gpointer       hook_data,
                                      GError       **error);

SyStore       *_sy_store_open             (const char        *path,
                                           GError           **error);
void           _sy_store_close            (SyStore           *self);
const char    *_sy_store_get_path         (SyStore           *self);
int            _sy_store_get_schema_version (SyStore         *self);

/* Any thread. @weight is the number of rows, used to size batches. */
void           _sy_store_write            (SyStore           *self,
                                           guint              weight,
                                           SyStoreWriteFunc   func,
                                           gpointer           data,
                                           GDestroyNotify     data_free,
                                           GMainContext      *context,
                                           SyStoreWriteDone   done,
                                           gpointer           user_data);
/* Any thread but the writer: blocks until committed. @data stays owned by the caller. */
gboolean       _sy_store_write_sync       (SyStore           *self,
                                           SyStoreWriteFunc   func,
                                           gpointer           data,
                                           GError           **error);

/* Writer thread only. */
sqlite3       *_sy_write_batch_get_db     (SyWriteBatch      *batch);
sqlite3_stmt  *_sy_write_batch_prepare    (SyWriteBatch      *batch,
                                           const char        *sql,
                                           GError           **error);
gpointer       _sy_write_batch_get_hook   (SyWriteBatch      *batch,
                                           gconstpointer      key);
void           _sy_write_batch_add_hook   (SyWriteBatch      *batch,
                                           gconstpointer      key,
                                           gpointer           hook_data,
                                           SyWriteHookFunc    flush,
                                           GDestroyNotify     hook_free);

/* Read-only connections for worker threads. Blocks while all are busy. */
sqlite3       *_sy_store_reader_acquire   (SyStore           *self);
void           _sy_store_reader_release   (SyStore           *self,
                                           sqlite3           *db);

/* Helpers usable on any connection. */
gboolean       _sy_sql_check              (sqlite3           *db,
                                           int                rc,
                                           const char        *what,
                                           GError           **error);
gboolean       _sy_sql_exec               (sqlite3           *db,
                                           const char        *sql,
                                           GError           **error);
sqlite3_stmt  *_sy_sql_prepare            (sqlite3           *db,
                                           const char        *sql,
                                           GError           **error);
gint64         _sy_sql_query_int64        (sqlite3           *db,
                                           const char        *sql,
                                           gint64             fallback);

typedef struct
{
  SyStore *store;
  sqlite3 *db;
} SyReaderGuard;

static inline void
_sy_reader_guard_release (SyReaderGuard *guard)
{
  if (guard->db != NULL)
    _sy_store_reader_release (guard->store, guard->db);
  guard->db = NULL;
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SyReaderGuard, _sy_reader_guard_release)

G_END_DECLS
