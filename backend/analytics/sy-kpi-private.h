/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include "sy-analytics-private.h"

G_BEGIN_DECLS

/* Key figures of a meter, group or site over [from, to). NAN / -1 mean "does not apply" or
 * "no data" and become JSON null. See sy-kpi.c for the formulas. */
typedef struct
{
  guint   n_meters;
  double  energy_imported_kwh;
  double  energy_exported_kwh;
  double  avg_power_w;
  double  peak_power_w;
  double  peak_demand_kw;        /* highest 15-minute average power */
  gint64  peak_demand_ms;        /* start of that quarter hour, -1 if none */
  double  load_factor;           /* avg power / peak demand */
  double  pv_yield_kwh;          /* NAN without pv meters */
  double  consumption_kwh;       /* sites with a grid meter */
  double  self_consumption_pct;  /* sites with pv and a grid meter */
  double  autarky_pct;
  gint64  readings;
  gint64  expected_readings;     /* -1 when no meter's interval is known */
  double  completeness_pct;
  guint   register_resets;
} SyKpi;

#define SY_KPI_MAX_RANGE_MS (G_GINT64_CONSTANT (5) * 366 * SY_ANALYTICS_DAY_MS)

gboolean _sy_kpi_compute (sqlite3       *db,
                          SyEntityType   type,
                          gint64         id,
                          gint64         from_ms,
                          gint64         to_ms,
                          SyKpi         *out,
                          GError       **error);

G_END_DECLS
