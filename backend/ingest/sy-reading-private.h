/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One meter reading, parsed and validated. Plain data: safe to hand between threads. */

typedef enum
{
  SY_READING_TOTAL_POWER = 0,  /* W */
  SY_READING_TOTAL_ENERGY,     /* kWh, cumulative register */
  SY_READING_VOLTAGE_A,        /* V */
  SY_READING_VOLTAGE_B,
  SY_READING_VOLTAGE_C,
  SY_READING_CURRENT_A,        /* A */
  SY_READING_CURRENT_B,
  SY_READING_CURRENT_C,
  SY_READING_POWER_FACTOR,     /* -1 .. 1 */
  SY_READING_FREQUENCY,        /* Hz */
  SY_READING_THD_V_PCT,        /* % */
  SY_READING_THD_I_PCT,        /* % */
  SY_READING_N_VALUES
} SyReadingValue;

typedef struct
{
  gint64  meter_id;        /* 0 until resolved; from the body for gateways */
  gint64  ts_ms;           /* UTC milliseconds */
  guint32 present;         /* bit (1 << SyReadingValue) set when values[i] was given */
  double  values[SY_READING_N_VALUES];
  char   *breaker_state;   /* nullable: "open", "closed", "tripped" */
  char   *extras_json;     /* nullable: JSON object of other numeric fields, compact */
} SyReading;

typedef struct
{
  gboolean allow_array;      /* bulk endpoint: a JSON array or {"readings": [...]} */
  gboolean allow_meter_id;   /* gateway device: each reading must carry meter_id */
  guint    max_readings;     /* 0 = unlimited; more gives SY_ERROR_TOO_LARGE */
  gint64   now_ms;           /* default timestamp and reference for "absurd" checks */
} SyReadingParseOptions;

const char *_sy_reading_value_name (SyReadingValue value);

void        _sy_reading_clear      (SyReading *reading);

/* Parses a request body into @out (a GArray of SyReading with _sy_reading_clear as its clear
 * func, see _sy_reading_array_new()). On failure @out is left empty and @error is set:
 * SY_ERROR_INVALID_FIELD with the field path ("total_power", "readings[3].timestamp" or "[3].voltage_a"
 * for a bare array, "body" for malformed JSON), or SY_ERROR_TOO_LARGE. Thread-safe. */
gboolean    _sy_reading_parse      (const char                  *body,
                                    gsize                        len,
                                    const SyReadingParseOptions *options,
                                    GArray                      *out,
                                    GError                     **error);

GArray     *_sy_reading_array_new  (guint reserve);

G_END_DECLS
