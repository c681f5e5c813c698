/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-forecast"

#include "config.h"

#include <math.h>

#include "sy-forecast-private.h"

/* The forecast methods on synthetic 15-minute series where one method is the right one: it
 * must have the best backtest and be the one auto picks. */

#define DAYS  28
#define N     (DAYS * SY_FORECAST_DAY)

/* 2025-06-02T00:00:00Z, a Monday. */
#define START_MS G_GINT64_CONSTANT (1748822400000)

static double
gaussian (GRand *rand)
{
  double u = g_rand_double_range (rand, 1e-12, 1.0);
  double v = g_rand_double (rand);

  return sqrt (-2.0 * log (u)) * cos (2 * G_PI * v);
}

static double
daily_shape (gsize t)
{
  double hour = (t % SY_FORECAST_DAY) / 4.0;

  return exp (-pow ((hour - 13.0) / 4.0, 2.0));
}

static SyForecast *
run_auto (const double            *series,
          const SyForecastContext *ctx,
          gboolean                 pv)
{
  g_autoptr(GError) error = NULL;
  SyForecast *fc = _sy_forecast_series (series, N, ctx, SY_FORECAST_AUTO, pv, SY_FORECAST_DAY, &error);

  g_assert_no_error (error);
  g_assert_nonnull (fc);
  return fc;
}

static void
assert_winner (SyForecast       *fc,
               SyForecastMethod  expected)
{
  for (guint m = 0; m < SY_FORECAST_N_METHODS; m++)
    {
      if (fc->ran[m])
        g_test_message ("%-15s MAE %.4f MAPE %.2f %% MASE %.3f", _sy_forecast_method_name (m),
                        fc->candidates[m].mae, fc->candidates[m].mape_pct, fc->candidates[m].mase);
    }

  g_assert_true (fc->ran[expected]);
  g_assert_cmpstr (_sy_forecast_method_name (fc->method), ==, _sy_forecast_method_name (expected));
  for (guint m = 0; m < SY_FORECAST_N_METHODS; m++)
    {
      if (m != expected && fc->ran[m])
        g_assert_cmpfloat (fc->candidates[expected].mae, <, fc->candidates[m].mae);
    }

  g_assert_cmpuint (fc->accuracy.days, ==, SY_FORECAST_BACKTEST_DAYS);
  for (guint h = 0; h < fc->horizon; h++)
    {
      g_assert_false (isnan (fc->values[h]));
      g_assert_cmpfloat (fc->lower[h], <=, fc->values[h]);
      g_assert_cmpfloat (fc->upper[h], >=, fc->values[h]);
    }
}

/* Weekdays busy, weekends quiet, exactly repeated: the week-old value is the answer. */
static void
test_weekly_pattern (void)
{
  g_autofree double *y = g_new (double, N);
  g_autoptr(SyForecast) fc = NULL;

  for (gsize t = 0; t < N; t++)
    {
      gsize day = t / SY_FORECAST_DAY;
      gboolean weekend = day % 7 >= 5;

      y[t] = 20.0 + (weekend ? 5.0 : 40.0 + 3.0 * (day % 7)) * daily_shape (t);
    }

  fc = run_auto (y, NULL, FALSE);
  assert_winner (fc, SY_FORECAST_SEASONAL_NAIVE);
  g_assert_cmpfloat (fc->accuracy.mae, <, 1e-9);
  g_assert_cmpfloat (fc->accuracy.mase, <, 1e-9);
  /* Monday after a Sunday: the forecast is the last Monday. */
  g_assert_cmpfloat_with_epsilon (fc->values[52], y[N - SY_FORECAST_WEEK + 52], 1e-9);
}

/* A constant level with noise: averaging beats copying the noise. */
static void
test_flat_noise (void)
{
  g_autofree double *y = g_new (double, N);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(SyForecast) fc = NULL;

  for (gsize t = 0; t < N; t++)
    y[t] = 50.0 + 4.0 * gaussian (rand);

  fc = run_auto (y, NULL, FALSE);
  assert_winner (fc, SY_FORECAST_MOVING_AVERAGE);
  /* MAE of a mean against N(0, 4): about 4 * sqrt (2 / pi) = 3.19. */
  g_assert_cmpfloat (fc->accuracy.mae, <, 3.6);
  g_assert_cmpfloat (fc->accuracy.mase, <, 1.0);
}

/* Daily and weekly seasons on a rising trend with a little noise: only Holt-Winters follows
 * the trend (the week-old value lags it by a week). */
static void
test_trend_double_season (void)
{
  g_autofree double *y = g_new (double, N);
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(SyForecast) fc = NULL;

  for (gsize t = 0; t < N; t++)
    {
      gsize day = t / SY_FORECAST_DAY;
      double week = day % 7 >= 5 ? 0.4 : 1.0;

      y[t] = 100.0 + 0.02 * t + 60.0 * week * daily_shape (t) + 0.5 * gaussian (rand);
    }

  fc = run_auto (y, NULL, FALSE);
  assert_winner (fc, SY_FORECAST_HOLT_WINTERS);
}

/* PV under a slowly changing sky: yesterday's clear-sky index scaled onto tomorrow's clear-sky
 * curve is right; last week's day is not. */
static void
test_pv_clear_sky (void)
{
  g_autofree double *y = g_new (double, N);
  g_autoptr(SyForecast) fc = NULL;
  SyForecastContext ctx = { START_MS, 52.52, 13.40, TRUE };

  for (gsize t = 0; t < N; t++)
    {
      gsize day = t / SY_FORECAST_DAY;
      double index = 0.55 + 0.4 * sin (2 * G_PI * day / 17.0);
      double ghi = _sy_forecast_clear_sky_ghi (START_MS + t * SY_FORECAST_STEP_MS + SY_FORECAST_STEP_MS / 2,
                                               ctx.latitude, ctx.longitude);

      y[t] = 0.1 * ghi * index;   /* a 100 kWp plant: kW */
    }

  fc = run_auto (y, &ctx, TRUE);
  assert_winner (fc, SY_FORECAST_CLEAR_SKY);
  for (guint h = 0; h < fc->horizon; h++)
    g_assert_cmpfloat (fc->lower[h], >=, 0.0);
  /* Night is zero. */
  g_assert_cmpfloat (fc->values[0], ==, 0.0);
}

static void
test_clear_sky_curve (void)
{
  /* Berlin, 2025-06-21: solar noon about 11:07 UTC, zenith about 29 degrees. */
  gint64 day = G_GINT64_CONSTANT (1750464000000);
  double best = 0.0;
  gint64 best_ms = 0;

  for (gint64 ms = day; ms < day + 86400000; ms += 60000)
    {
      double ghi = _sy_forecast_clear_sky_ghi (ms, 52.52, 13.40);

      g_assert_cmpfloat (ghi, >=, 0.0);
      if (ghi > best)
        {
          best = ghi;
          best_ms = ms;
        }
    }

  g_assert_cmpfloat (best, >, 850.0);
  g_assert_cmpfloat (best, <, 950.0);
  g_assert_cmpint ((best_ms - day) / 60000, >, 11 * 60 - 5);
  g_assert_cmpint ((best_ms - day) / 60000, <, 11 * 60 + 15);
  g_assert_cmpfloat (_sy_forecast_clear_sky_ghi (day, 52.52, 13.40), ==, 0.0);
}

/* Ten values: nothing can be backtested; auto still answers with the last day's mean. */
static void
test_short_history (void)
{
  double y[10];
  g_autoptr(GError) error = NULL;
  g_autoptr(SyForecast) fc = NULL;
  g_autoptr(SyForecast) hw = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (y); i++)
    y[i] = i;

  fc = _sy_forecast_series (y, G_N_ELEMENTS (y), NULL, SY_FORECAST_AUTO, FALSE, 8, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (_sy_forecast_method_name (fc->method), ==, "moving_average");
  g_assert_cmpuint (fc->accuracy.days, ==, 0);
  g_assert_cmpfloat (fc->values[0], ==, 4.5);
  g_assert_true (isnan (fc->lower[0]));

  hw = _sy_forecast_series (y, G_N_ELEMENTS (y), NULL, SY_FORECAST_HOLT_WINTERS, FALSE, 8, &error);
  g_assert_null (hw);
  g_assert_nonnull (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/switchyard/backend/forecast/weekly-pattern", test_weekly_pattern);
  g_test_add_func ("/switchyard/backend/forecast/flat-noise", test_flat_noise);
  g_test_add_func ("/switchyard/backend/forecast/trend-double-season", test_trend_double_season);
  g_test_add_func ("/switchyard/backend/forecast/pv-clear-sky", test_pv_clear_sky);
  g_test_add_func ("/switchyard/backend/forecast/clear-sky-curve", test_clear_sky_curve);
  g_test_add_func ("/switchyard/backend/forecast/short-history", test_short_history);

  return g_test_run ();
}
