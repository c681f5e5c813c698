/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-forecast"

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sy-error.h"
#include "sy-forecast-private.h"

/* Day-ahead style forecasts on 15-minute average power.
 *
 * - seasonal_naive: the value of the same slot one week earlier (one day earlier when the
 *   history is shorter than a week, or the week-old value is missing).
 * - moving_average: the mean of the last day's values, flat.
 * - holt_winters: additive Holt-Winters with a damped trend (phi 0.98) and two seasons, a day
 *   and a week (Taylor 2003; only the daily one with less than two weeks of history). The
 *   smoothing parameters are the best of a small grid by in-sample one-step squared error.
 *   Missing values advance the state without an update.
 * - clear_sky (PV): the clear-sky global irradiance for the site (Haurwitz model, NOAA solar
 *   position) times the plant's ratio kW per W/m² (95th percentile of the observed ratios with
 *   the sun high enough) times the clear-sky index of the last day with daylight (observed over
 *   clear-sky energy, at most 1.2).
 * - auto: every method that can run, backtested; the lowest MAE wins.
 *
 * Accuracy: each of the last 7 whole days before the origin is forecast from everything before
 * it (day ahead, 96 steps); MAE, MAPE (points whose actual value is at least 1 % of the mean
 * absolute actual) and MASE (MAE over the in-sample MAE of the one-day seasonal naive forecast
 * on the data before the first backtest day). The prediction interval is the forecast minus
 * the 97.5 % and 2.5 % quantiles of the backtest errors (95 %, empirical). */

#define PHI 0.98

static const char * const method_names[] = {
  "seasonal_naive", "moving_average", "holt_winters", "clear_sky", "auto",
};

const char *
_sy_forecast_method_name (SyForecastMethod method)
{
  g_return_val_if_fail (method <= SY_FORECAST_AUTO, NULL);

  return method_names[method];
}

static double
last_value (const double *y,
            gsize         n)
{
  for (gsize i = n; i > 0; i--)
    {
      if (!isnan (y[i - 1]))
        return y[i - 1];
    }
  return NAN;
}

static gboolean
seasonal_naive (const double *y,
                gsize         n,
                gsize         horizon,
                double       *out)
{
  double last = last_value (y, n);

  if (n < SY_FORECAST_DAY || isnan (last))
    return FALSE;

  for (gsize h = 0; h < horizon; h++)
    {
      double v = NAN;

      if (n >= SY_FORECAST_WEEK)
        v = y[n - SY_FORECAST_WEEK + h % SY_FORECAST_WEEK];
      if (isnan (v))
        v = y[n - SY_FORECAST_DAY + h % SY_FORECAST_DAY];
      out[h] = isnan (v) ? last : v;
    }

  return TRUE;
}

static gboolean
moving_average (const double *y,
                gsize         n,
                gsize         horizon,
                double       *out)
{
  double sum = 0.0;
  guint count = 0;

  for (gsize i = n > SY_FORECAST_DAY ? n - SY_FORECAST_DAY : 0; i < n; i++)
    {
      if (!isnan (y[i]))
        {
          sum += y[i];
          count++;
        }
    }
  if (count == 0)
    return FALSE;

  for (gsize h = 0; h < horizon; h++)
    out[h] = sum / count;
  return TRUE;
}

typedef struct
{
  double alpha, beta, delta, omega;
} HwParams;

static double
mean_range (const double *y,
            gsize         from,
            gsize         to)
{
  double sum = 0.0;
  guint count = 0;

  for (gsize i = from; i < to; i++)
    {
      if (!isnan (y[i]))
        {
          sum += y[i];
          count++;
        }
    }
  return count > 0 ? sum / count : NAN;
}

/* Runs the recursions over y; returns the in-sample SSE after the first season and, when @out
 * is given, the forecast. */
static double
hw_run (const double   *y,
        gsize           n,
        const HwParams *p,
        gboolean        weekly,
        gsize           horizon,
        double         *out)
{
  gsize s1 = SY_FORECAST_DAY;
  gsize s2 = weekly ? SY_FORECAST_WEEK : 1;
  gsize init = weekly ? SY_FORECAST_WEEK : SY_FORECAST_DAY;
  g_autofree double *d = g_new0 (double, s1);
  g_autofree double *w = g_new0 (double, s2);
  double level, trend, next_mean, sse = 0.0;

  level = mean_range (y, 0, init);
  next_mean = mean_range (y, init, MIN (2 * init, n));
  if (isnan (level))
    level = last_value (y, n);
  trend = isnan (next_mean) || n < 2 * init ? 0.0 : (next_mean - level) / init;

  /* Daily profile over the first window, then the weekly remainder. */
  for (gsize i = 0; i < s1; i++)
    {
      double sum = 0.0;
      guint count = 0;

      for (gsize t = i; t < init; t += s1)
        {
          if (!isnan (y[t]))
            {
              sum += y[t] - level;
              count++;
            }
        }
      d[i] = count > 0 ? sum / count : 0.0;
    }
  if (weekly)
    {
      for (gsize j = 0; j < s2; j++)
        w[j] = isnan (y[j]) ? 0.0 : y[j] - level - d[j % s1];
    }

  for (gsize t = 0; t < n; t++)
    {
      double dt = d[t % s1];
      double wt = weekly ? w[t % s2] : 0.0;
      double fc = level + PHI * trend + dt + wt;
      double new_level;

      if (isnan (y[t]))
        {
          level += PHI * trend;
          trend *= PHI;
          continue;
        }

      if (t >= init)
        sse += (y[t] - fc) * (y[t] - fc);

      new_level = p->alpha * (y[t] - dt - wt) + (1 - p->alpha) * (level + PHI * trend);
      trend = p->beta * (new_level - level) + (1 - p->beta) * PHI * trend;
      d[t % s1] = p->delta * (y[t] - new_level - wt) + (1 - p->delta) * dt;
      if (weekly)
        w[t % s2] = p->omega * (y[t] - new_level - dt) + (1 - p->omega) * wt;
      level = new_level;
    }

  if (out != NULL)
    {
      double damp = 0.0;
      double phi_h = 1.0;

      for (gsize h = 0; h < horizon; h++)
        {
          gsize t = n + h;

          phi_h *= PHI;
          damp += phi_h;
          out[h] = level + damp * trend + d[t % s1] + (weekly ? w[t % s2] : 0.0);
        }
    }

  return sse;
}

static gboolean
holt_winters (const double *y,
              gsize         n,
              gsize         horizon,
              double       *out)
{
  static const double alphas[] = { 0.02, 0.1, 0.3 };
  static const double betas[] = { 0.0, 0.005 };
  static const double seasons[] = { 0.05, 0.2 };
  gboolean weekly = n >= 2 * SY_FORECAST_WEEK;
  HwParams best = { 0.1, 0.0, 0.1, 0.1 };
  double best_sse = INFINITY;

  if (n < 2 * SY_FORECAST_DAY || isnan (last_value (y, n)))
    return FALSE;

  for (guint a = 0; a < G_N_ELEMENTS (alphas); a++)
    for (guint b = 0; b < G_N_ELEMENTS (betas); b++)
      for (guint s = 0; s < G_N_ELEMENTS (seasons); s++)
        for (guint o = 0; o < (weekly ? G_N_ELEMENTS (seasons) : 1); o++)
          {
            HwParams p = { alphas[a], betas[b], seasons[s], weekly ? seasons[o] : 0.0 };
            double sse = hw_run (y, n, &p, weekly, 0, NULL);

            if (sse < best_sse)
              {
                best_sse = sse;
                best = p;
              }
          }

  hw_run (y, n, &best, weekly, horizon, out);
  return TRUE;
}

double
_sy_forecast_clear_sky_ghi (gint64 ms,
                            double latitude,
                            double longitude)
{
  gint64 day_ms = _sy_analytics_floor (ms, SY_ANALYTICS_DAY_MS);
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (day_ms / 1000);
  double minutes = (double) (ms - day_ms) / 60000.0;
  int doy = g_date_time_get_day_of_year (date);
  double g = 2 * G_PI / 365.0 * (doy - 1 + (minutes / 60.0 - 12) / 24.0);
  double eqtime = 229.18 * (0.000075 + 0.001868 * cos (g) - 0.032077 * sin (g) -
                            0.014615 * cos (2 * g) - 0.040849 * sin (2 * g));
  double decl = 0.006918 - 0.399912 * cos (g) + 0.070257 * sin (g) - 0.006758 * cos (2 * g) +
                0.000907 * sin (2 * g) - 0.002697 * cos (3 * g) + 0.00148 * sin (3 * g);
  double tst = minutes + eqtime + 4.0 * longitude;
  double ha = (tst / 4.0 - 180.0) * G_PI / 180.0;
  double lat = latitude * G_PI / 180.0;
  double cosz = sin (lat) * sin (decl) + cos (lat) * cos (decl) * cos (ha);

  if (cosz <= 0.01)
    return 0.0;
  return 1098.0 * cosz * exp (-0.057 / cosz);
}

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

static gboolean
clear_sky (const double            *y,
           gsize                    n,
           const SyForecastContext *ctx,
           gsize                    horizon,
           double                  *out)
{
  g_autoptr(GArray) ratios = NULL;
  double capacity, observed = 0.0, expected = 0.0, index;
  gsize from;

  if (ctx == NULL || !ctx->has_location || n < SY_FORECAST_DAY)
    return FALSE;

  ratios = g_array_new (FALSE, FALSE, sizeof (double));
  for (gsize i = 0; i < n; i++)
    {
      double ghi;

      if (isnan (y[i]))
        continue;
      ghi = _sy_forecast_clear_sky_ghi (ctx->start_ms + i * SY_FORECAST_STEP_MS + SY_FORECAST_STEP_MS / 2,
                                        ctx->latitude, ctx->longitude);
      if (ghi > 200.0)
        {
          double r = MAX (y[i], 0.0) / ghi;

          g_array_append_val (ratios, r);
        }
    }
  if (ratios->len == 0)
    return FALSE;
  qsort (ratios->data, ratios->len, sizeof (double), compare_double);
  capacity = g_array_index (ratios, double, (guint) floor (0.95 * (ratios->len - 1)));
  if (capacity <= 0)
    capacity = g_array_index (ratios, double, ratios->len - 1);

  /* The clear-sky index of the last day (three if the last had no sun). */
  for (guint days = 1; days <= 3 && expected <= 0; days++)
    {
      from = n > days * SY_FORECAST_DAY ? n - days * SY_FORECAST_DAY : 0;
      observed = expected = 0.0;
      for (gsize i = from; i < n; i++)
        {
          double ghi = _sy_forecast_clear_sky_ghi (ctx->start_ms + i * SY_FORECAST_STEP_MS + SY_FORECAST_STEP_MS / 2,
                                                   ctx->latitude, ctx->longitude);

          if (isnan (y[i]) || ghi <= 50.0)
            continue;
          observed += MAX (y[i], 0.0);
          expected += capacity * ghi;
        }
    }
  index = expected > 0 ? CLAMP (observed / expected, 0.0, 1.2) : 1.0;

  for (gsize h = 0; h < horizon; h++)
    out[h] = index * capacity * _sy_forecast_clear_sky_ghi (ctx->start_ms + (n + h) * SY_FORECAST_STEP_MS +
                                                            SY_FORECAST_STEP_MS / 2,
                                                            ctx->latitude, ctx->longitude);
  return TRUE;
}

gboolean
_sy_forecast_run (SyForecastMethod         method,
                  const double            *history,
                  gsize                    n,
                  const SyForecastContext *ctx,
                  gsize                    horizon,
                  double                  *out)
{
  switch (method)
    {
    case SY_FORECAST_SEASONAL_NAIVE:
      return seasonal_naive (history, n, horizon, out);
    case SY_FORECAST_MOVING_AVERAGE:
      return moving_average (history, n, horizon, out);
    case SY_FORECAST_HOLT_WINTERS:
      return holt_winters (history, n, horizon, out);
    case SY_FORECAST_CLEAR_SKY:
      return clear_sky (history, n, ctx, horizon, out);
    case SY_FORECAST_N_METHODS:
    default:
      g_return_val_if_reached (FALSE);
    }
}

gboolean
_sy_forecast_backtest (SyForecastMethod         method,
                       const double            *history,
                       gsize                    n,
                       const SyForecastContext *ctx,
                       guint                    days,
                       SyForecastAccuracy      *out)
{
  g_autoptr(GArray) errors = g_array_new (FALSE, FALSE, sizeof (double));
  double forecast[SY_FORECAST_DAY];
  double abs_sum = 0.0, ape_sum = 0.0, actual_sum = 0.0, naive_sum = 0.0;
  guint ape_count = 0, actual_count = 0, naive_count = 0;
  gsize first_cut;

  memset (out, 0, sizeof *out);
  out->mae = out->mape_pct = out->mase = out->err_low = out->err_high = NAN;

  for (gsize i = 0; i < n; i++)
    {
      if (!isnan (history[i]))
        {
          actual_sum += fabs (history[i]);
          actual_count++;
        }
    }

  for (guint d = days; d >= 1; d--)
    {
      gsize cut;

      if (n < (gsize) d * SY_FORECAST_DAY)
        continue;
      cut = n - (gsize) d * SY_FORECAST_DAY;
      if (!_sy_forecast_run (method, history, cut, ctx, SY_FORECAST_DAY, forecast))
        continue;

      out->days++;
      for (gsize h = 0; h < SY_FORECAST_DAY; h++)
        {
          double actual = history[cut + h];
          double err;

          if (isnan (actual))
            continue;
          err = forecast[h] - actual;
          g_array_append_val (errors, err);
          abs_sum += fabs (err);
          if (actual_count > 0 && fabs (actual) >= 0.01 * actual_sum / actual_count)
            {
              ape_sum += fabs (err) / fabs (actual);
              ape_count++;
            }
        }
    }

  if (out->days == 0 || errors->len == 0)
    return FALSE;

  out->mae = abs_sum / errors->len;
  out->mape_pct = ape_count > 0 ? 100.0 * ape_sum / ape_count : NAN;

  first_cut = n > (gsize) days * SY_FORECAST_DAY ? n - (gsize) days * SY_FORECAST_DAY : 0;
  for (gsize t = SY_FORECAST_DAY; t < first_cut; t++)
    {
      if (!isnan (history[t]) && !isnan (history[t - SY_FORECAST_DAY]))
        {
          naive_sum += fabs (history[t] - history[t - SY_FORECAST_DAY]);
          naive_count++;
        }
    }
  if (naive_count > 0 && naive_sum > 0)
    out->mase = out->mae / (naive_sum / naive_count);

  qsort (errors->data, errors->len, sizeof (double), compare_double);
  out->err_low = g_array_index (errors, double, (guint) floor (0.025 * (errors->len - 1)));
  out->err_high = g_array_index (errors, double, (guint) ceil (0.975 * (errors->len - 1)));

  return TRUE;
}

void
_sy_forecast_free (SyForecast *forecast)
{
  if (forecast == NULL)
    return;
  g_free (forecast->values);
  g_free (forecast->lower);
  g_free (forecast->upper);
  g_free (forecast);
}

SyForecast *
_sy_forecast_series (const double            *history,
                     gsize                    n,
                     const SyForecastContext *ctx,
                     SyForecastMethod         method,
                     gboolean                 pv,
                     gsize                    horizon,
                     GError                 **error)
{
  g_autoptr(SyForecast) fc = g_new0 (SyForecast, 1);
  SyForecastMethod chosen = method;

  g_return_val_if_fail (horizon > 0 && horizon <= SY_FORECAST_MAX_HORIZON, NULL);
  g_return_val_if_fail (method <= SY_FORECAST_AUTO, NULL);

  fc->pv = pv;
  fc->horizon = (guint) horizon;
  fc->values = g_new0 (double, horizon);
  fc->lower = g_new0 (double, horizon);
  fc->upper = g_new0 (double, horizon);
  for (gsize i = 0; i < n; i++)
    fc->history_points += !isnan (history[i]);

  for (guint m = 0; m < SY_FORECAST_N_METHODS; m++)
    {
      if (method != SY_FORECAST_AUTO && m != method)
        continue;
      if (m == SY_FORECAST_CLEAR_SKY && !pv)
        continue;
      fc->ran[m] = _sy_forecast_backtest (m, history, n, ctx, SY_FORECAST_BACKTEST_DAYS, &fc->candidates[m]);
    }

  if (method == SY_FORECAST_AUTO)
    {
      double best = INFINITY;

      chosen = SY_FORECAST_N_METHODS;
      for (guint m = 0; m < SY_FORECAST_N_METHODS; m++)
        {
          if (fc->ran[m] && fc->candidates[m].mae < best)
            {
              best = fc->candidates[m].mae;
              chosen = m;
            }
        }
      /* Too little history for any backtest: the simplest method that runs. */
      if (chosen == SY_FORECAST_N_METHODS)
        chosen = pv && ctx != NULL && ctx->has_location ? SY_FORECAST_CLEAR_SKY : SY_FORECAST_SEASONAL_NAIVE;
    }

  if (!_sy_forecast_run (chosen, history, n, ctx, horizon, fc->values) &&
      !(method == SY_FORECAST_AUTO && _sy_forecast_run (chosen = SY_FORECAST_MOVING_AVERAGE, history, n, ctx,
                                                          horizon, fc->values)))
    {
      g_set_error (error, SY_ERROR, SY_ERROR_CONFLICT,
                   "Not enough history for %s: %u values of 15 minutes (a day is 96)",
                   _sy_forecast_method_name (method == SY_FORECAST_AUTO ? SY_FORECAST_AUTO : chosen),
                   fc->history_points);
      return NULL;
    }

  fc->method = chosen;
  if (fc->ran[chosen])
    fc->accuracy = fc->candidates[chosen];
  else
    {
      fc->accuracy.mae = fc->accuracy.mape_pct = fc->accuracy.mase = NAN;
      fc->accuracy.err_low = fc->accuracy.err_high = NAN;
    }

  for (gsize h = 0; h < horizon; h++)
    {
      double v = fc->values[h];

      if (pv)
        v = fc->values[h] = MAX (v, 0.0);
      fc->lower[h] = isnan (fc->accuracy.err_high) ? NAN : v - fc->accuracy.err_high;
      fc->upper[h] = isnan (fc->accuracy.err_low) ? NAN : v - fc->accuracy.err_low;
      if (pv && !isnan (fc->lower[h]))
        fc->lower[h] = MAX (fc->lower[h], 0.0);
      if (!isnan (fc->lower[h]) && fc->lower[h] > v)
        fc->lower[h] = v;
      if (!isnan (fc->upper[h]) && fc->upper[h] < v)
        fc->upper[h] = v;
    }

  return g_steal_pointer (&fc);
}

static const char series_sql[] =
  "SELECT bucket_ms, power_count, sum_power FROM rollups "
  "WHERE meter_id = ?1 AND res_s = 900 AND bucket_ms >= ?2 AND bucket_ms < ?3 AND power_count > 0";

SyForecast *
_sy_forecast_compute (sqlite3           *db,
                      SyEntityType       type,
                      gint64             id,
                      gboolean           pv,
                      SyForecastMethod   method,
                      gint64             origin_ms,
                      gsize              horizon,
                      GError           **error)
{
  g_autoptr(GArray) meters = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) site_stmt = NULL;
  g_autofree double *series = NULL;
  SyForecastContext ctx = { 0, };
  gsize n = SY_FORECAST_HISTORY_DAYS * SY_FORECAST_DAY;
  gint64 origin = _sy_analytics_floor (origin_ms, SY_FORECAST_STEP_MS);
  gint64 start = origin - (gint64) n * SY_FORECAST_STEP_MS;
  gboolean has_grid = FALSE;
  guint used = 0;
  gsize first = 0;
  SyForecast *fc;

  meters = _sy_analytics_load_meters (db, type, id, error);
  if (meters == NULL)
    return NULL;

  for (guint i = 0; i < meters->len; i++)
    has_grid |= g_str_equal (g_array_index (meters, SyMeterInfo, i).kind, "grid");

  stmt = _sy_sql_prepare (db, series_sql, error);
  site_stmt = stmt != NULL ? _sy_sql_prepare (db, "SELECT latitude, longitude FROM sites WHERE id = ?1", error) : NULL;
  if (site_stmt == NULL)
    return NULL;

  series = g_new (double, n);
  for (gsize i = 0; i < n; i++)
    series[i] = NAN;

  for (guint i = 0; i < meters->len; i++)
    {
      const SyMeterInfo *m = &g_array_index (meters, SyMeterInfo, i);
      gboolean is_pv = g_str_equal (m->kind, "pv");
      gboolean wanted;
      int rc;

      if (pv)
        wanted = is_pv;
      else if (type != SY_ENTITY_SITE)
        wanted = TRUE;
      else if (has_grid)
        wanted = g_str_equal (m->kind, "grid");
      else
        wanted = g_str_equal (m->kind, "load") || g_str_equal (m->kind, "ev_charger") ||
                 g_str_equal (m->kind, "submeter");
      if (!wanted)
        continue;

      if (used++ == 0)
        {
          sqlite3_reset (site_stmt);
          sqlite3_bind_int64 (site_stmt, 1, m->site_id);
          if (sqlite3_step (site_stmt) == SQLITE_ROW &&
              sqlite3_column_type (site_stmt, 0) != SQLITE_NULL &&
              sqlite3_column_type (site_stmt, 1) != SQLITE_NULL)
            {
              ctx.has_location = TRUE;
              ctx.latitude = sqlite3_column_double (site_stmt, 0);
              ctx.longitude = sqlite3_column_double (site_stmt, 1);
            }
        }

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, m->id);
      sqlite3_bind_int64 (stmt, 2, start);
      sqlite3_bind_int64 (stmt, 3, origin);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          gsize index = (gsize) ((sqlite3_column_int64 (stmt, 0) - start) / SY_FORECAST_STEP_MS);
          double kw = sqlite3_column_double (stmt, 2) / sqlite3_column_int64 (stmt, 1) / 1000.0;

          series[index] = isnan (series[index]) ? kw : series[index] + kw;
        }
      if (!_sy_sql_check (db, rc, "Reading rollups", error))
        return NULL;
    }

  if (used == 0)
    {
      sy_error_set_field (error, "target", "the %s has no %s meters", _sy_entity_type_name (type),
                          pv ? "pv" : "demand");
      return NULL;
    }

  /* Start at the first value, so that the seasons line up with real data. */
  while (first < n && isnan (series[first]))
    first++;
  /* Keep whole days so that backtest days stay aligned with the origin. */
  first = first / SY_FORECAST_DAY * SY_FORECAST_DAY;
  ctx.start_ms = start + (gint64) first * SY_FORECAST_STEP_MS;

  fc = _sy_forecast_series (series + first, n - first, &ctx, method, pv, horizon, error);
  if (fc != NULL)
    fc->origin_ms = origin;
  return fc;
}
