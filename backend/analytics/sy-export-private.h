/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include "sy-analytics-private.h"

G_BEGIN_DECLS

typedef enum
{
  SY_EXPORT_CSV,
  SY_EXPORT_JSON,
} SyExportFormat;

typedef struct
{
  GArray         *meters;      /* gint64 meter ids, in output order */
  gint64          from_ms;
  gint64          to_ms;
  gint64          bucket_s;    /* 0: raw readings; else 60, 900, 3600 or 86400 (rollups) */
  SyExportFormat  format;
} SyExportParams;

/* Receives each chunk (about @chunk_bytes, the last one smaller); it may keep nothing of
 * @chunk after returning. FALSE stops the export (cancelled). */
typedef gboolean (*SyExportSink) (const char *data,
                                  gsize       len,
                                  gpointer    user_data);

/* Streams the export through @sink. FALSE with G_IO_ERROR_CANCELLED when the sink stopped. */
gboolean _sy_export_run (sqlite3               *db,
                         const SyExportParams  *params,
                         gsize                  chunk_bytes,
                         SyExportSink           sink,
                         gpointer               user_data,
                         guint64               *out_rows,
                         GError               **error);

G_END_DECLS
