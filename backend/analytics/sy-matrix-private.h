/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include "sy-analytics-private.h"

G_BEGIN_DECLS

typedef enum
{
  SY_MATRIX_15MIN,
  SY_MATRIX_HOUR,
  SY_MATRIX_DAY,
  SY_MATRIX_WEEKDAY_HOUR,   /* 7 x 24 columns, Monday 00:00 UTC first */
} SyMatrixBucket;

typedef enum
{
  SY_MATRIX_ENERGY_KWH,     /* net register energy of the bucket */
  SY_MATRIX_AVG_POWER,      /* W */
  SY_MATRIX_MAX_POWER,      /* W */
} SyMatrixMetric;

typedef struct
{
  SyEntityType type;
  gint64       id;
} SyEntityRef;

typedef struct
{
  guint    n_rows;
  guint    n_columns;
  gint64   first_ms;        /* time buckets: start of column 0 */
  gint64   step_ms;         /* time buckets: column width; 0 for weekday_hour */
  char   **row_names;       /* n_rows, NULL-terminated */
  double  *values;          /* n_rows x n_columns, row-major; NAN = no data */
} SyMatrix;

#define SY_MATRIX_MAX_ROWS  200
#define SY_MATRIX_MAX_CELLS 2000000

gint64    _sy_matrix_bucket_ms   (SyMatrixBucket     bucket);
/* Columns of [from, to) (every bucket it overlaps). */
gint64    _sy_matrix_n_columns   (SyMatrixBucket     bucket,
                                  gint64             from_ms,
                                  gint64             to_ms);
SyMatrix *_sy_matrix_compute     (sqlite3           *db,
                                  const SyEntityRef *rows,
                                  guint              n_rows,
                                  SyMatrixBucket     bucket,
                                  SyMatrixMetric     metric,
                                  gint64             from_ms,
                                  gint64             to_ms,
                                  GError           **error);
void      _sy_matrix_free        (SyMatrix          *matrix);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyMatrix, _sy_matrix_free)

G_END_DECLS
