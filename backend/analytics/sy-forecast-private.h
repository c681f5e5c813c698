/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include "sy-analytics-private.h"

G_BEGIN_DECLS

/* Forecasts on a regular series of 15-minute values (NAN = missing). The methods are plain
 * functions of the history, so tests/backend/test-forecast.c runs them on synthetic series. */

#define SY_FORECAST_STEP_MS  SY_ANALYTICS_QUARTER_MS
#define SY_FORECAST_DAY      96      /* steps */
#define SY_FORECAST_WEEK     672
#define SY_FORECAST_HISTORY_DAYS  28
#define SY_FORECAST_BACKTEST_DAYS 7
#define SY_FORECAST_MAX_HORIZON   (7 * SY_FORECAST_DAY)

typedef enum
{
  SY_FORECAST_SEASONAL_NAIVE,   /* the same slot a week ago (a day ago with less history) */
  SY_FORECAST_MOVING_AVERAGE,   /* the mean of the last day, flat */
  SY_FORECAST_HOLT_WINTERS,     /* additive, damped trend, daily and weekly seasons (Taylor 2003) */
  SY_FORECAST_CLEAR_SKY,        /* PV: clear-sky curve x recent clear-sky index */
  SY_FORECAST_N_METHODS,
  SY_FORECAST_AUTO = SY_FORECAST_N_METHODS,
} SyForecastMethod;

const char *_sy_forecast_method_name (SyForecastMethod method);

/* Where the series is (for clear_sky): the time of history[0] and the site. */
typedef struct
{
  gint64  start_ms;
  double  latitude;
  double  longitude;
  gboolean has_location;
} SyForecastContext;

/* Forecasts @horizon steps after @history[0 .. n). FALSE when the method cannot run on this
 * history (too short, no location); @out is then untouched. */
gboolean    _sy_forecast_run         (SyForecastMethod         method,
                                      const double            *history,
                                      gsize                    n,
                                      const SyForecastContext *ctx,
                                      gsize                    horizon,
                                      double                  *out);

typedef struct
{
  double  mae;
  double  mape_pct;     /* over the points whose actual value is not near 0; NAN if none */
  double  mase;         /* MAE / in-sample MAE of the one-day seasonal naive */
  guint   days;         /* backtest days that could be run */
  double  err_low;      /* 2.5 % and 97.5 % quantiles of forecast - actual: the interval */
  double  err_high;
} SyForecastAccuracy;

/* Day-ahead backtests over the last @days whole days of @history: each day is forecast from
 * everything before it. FALSE when not even one day could be run. */
gboolean    _sy_forecast_backtest    (SyForecastMethod         method,
                                      const double            *history,
                                      gsize                    n,
                                      const SyForecastContext *ctx,
                                      guint                    days,
                                      SyForecastAccuracy      *out);

/* Clear-sky global horizontal irradiance (W/m², Haurwitz) at @ms for a site. */
double      _sy_forecast_clear_sky_ghi (gint64  ms,
                                        double  latitude,
                                        double  longitude);

typedef struct
{
  SyForecastMethod    method;        /* the one used (auto resolved) */
  gint64              origin_ms;
  guint               horizon;
  double             *values;        /* horizon; kW */
  double             *lower;
  double             *upper;
  SyForecastAccuracy  accuracy;      /* of the method used; days == 0 when none could run */
  SyForecastAccuracy  candidates[SY_FORECAST_N_METHODS];
  gboolean            ran[SY_FORECAST_N_METHODS];
  gboolean            pv;
  guint               history_points;  /* non-missing values in the history */
} SyForecast;

void        _sy_forecast_free        (SyForecast *forecast);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyForecast, _sy_forecast_free)

/* Picks a method (auto: the best backtest MAE among those that run) and forecasts. */
SyForecast *_sy_forecast_series      (const double            *history,
                                      gsize                    n,
                                      const SyForecastContext *ctx,
                                      SyForecastMethod         method,
                                      gboolean                 pv,
                                      gsize                    horizon,
                                      GError                 **error);

/* Loads the 15-minute history (kW) of an entity before @origin_ms and forecasts it. @pv: the
 * entity's pv meters (generation); else its demand meters as in the KPI (for a site: the grid
 * meters, or its loads without one). */
SyForecast *_sy_forecast_compute     (sqlite3                 *db,
                                      SyEntityType             type,
                                      gint64                   id,
                                      gboolean                 pv,
                                      SyForecastMethod         method,
                                      gint64                   origin_ms,
                                      gsize                    horizon,
                                      GError                 **error);

G_END_DECLS
