/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

/* sy-bench-chart: frame times of SyChart. Run under a display (xvfb-run -a ...):
 *
 * - live: 50 series in a 15-minute live window, each appended at 10 Hz, animated for
 *   --seconds (default 10) after a one-second warm-up, once per line mode (the default
 *   raster texture, cairo strokes and colour nodes). Reports frames/s and p50/p99/max of the chart's snapshot time and of the
 *   whole frame (frame clock "before-paint" to "after-paint").
 * - static: 10 series × 43 200 points (30 days of 1-minute data): snapshot time with the
 *   decimation cached (same range every frame) and cold (the range moves every frame). */

#include "config.h"

#include <math.h>
#include <stdlib.h>

#include <adwaita.h>

#include "sy-chart.h"
#include "sy-chart-private.h"

#define MINUTE_MS ((gint64) 60000)
#define DAY_MS    (24 * 60 * MINUTE_MS)

typedef struct
{
  SyChart   *chart;
  GtkWidget *window;
  gint64     paint_start_us;
  gint64     last_after_paint_us;
  guint      last_count;
  gboolean   measuring;
  gboolean   move_range;
  gint64     range_from;
  guint      frames;
  GArray    *snapshot_ms;     /* double */
  GArray    *frame_ms;        /* double */
  GArray    *interval_ms;     /* double */
} Bench;

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

static double
percentile (GArray *values,
            double  p)
{
  guint i;

  if (values->len == 0)
    return NAN;
  g_array_sort (values, cmp_double);
  i = (guint) MIN (values->len - 1, floor (p * values->len));
  return g_array_index (values, double, i);
}

static double
load_w (guint  series,
        gint64 ts_ms)
{
  double base = 8000 + 3500 * (series % 17);
  double t = ts_ms / 1000.0;

  return base * (1 + 0.25 * sin (t / (600 + 37 * series) + series) + 0.05 * sin (t / 23.0) +
                 g_random_double_range (-0.02, 0.02));
}

static void
before_paint_cb (GdkFrameClock *clock,
                 Bench         *bench)
{
  bench->paint_start_us = g_get_monotonic_time ();
  if (bench->move_range)
    {
      /* Moves the range by a minute every frame so the decimation cache never hits. */
      bench->range_from += (bench->frames % 2 == 0) ? MINUTE_MS : -MINUTE_MS;
      sy_chart_set_time_range (bench->chart, bench->range_from, bench->range_from + 30 * DAY_MS);
    }
}

static void
after_paint_cb (GdkFrameClock *clock,
                Bench         *bench)
{
  gint64 now = g_get_monotonic_time ();
  guint count = _sy_chart_get_snapshot_count (bench->chart);

  if (bench->measuring)
    {
      double frame = (now - bench->paint_start_us) / 1000.0;

      if (count != bench->last_count)
        {
          double snap = sy_chart_get_last_snapshot_us (bench->chart) / 1000.0;

          g_array_append_val (bench->snapshot_ms, snap);
          g_array_append_val (bench->frame_ms, frame);
          bench->frames++;
        }
      if (bench->last_after_paint_us != 0)
        {
          double interval = (now - bench->last_after_paint_us) / 1000.0;

          g_array_append_val (bench->interval_ms, interval);
        }
    }
  bench->last_count = count;
  bench->last_after_paint_us = now;
}

static gboolean
redraw_tick_cb (GtkWidget     *widget,
                GdkFrameClock *clock,
                gpointer       user_data)
{
  gtk_widget_queue_draw (widget);
  return G_SOURCE_CONTINUE;
}

static void
bench_start (Bench *bench,
             int    width,
             int    height)
{
  bench->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (bench->window), width, height);
  bench->chart = SY_CHART (sy_chart_new ());
  sy_chart_set_unit (bench->chart, "W");
  gtk_window_set_child (GTK_WINDOW (bench->window), GTK_WIDGET (bench->chart));
  bench->snapshot_ms = g_array_new (FALSE, FALSE, sizeof (double));
  bench->frame_ms = g_array_new (FALSE, FALSE, sizeof (double));
  bench->interval_ms = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
bench_connect (Bench *bench)
{
  GdkFrameClock *clock;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  gtk_window_present (GTK_WINDOW (bench->window));
  while (!gtk_widget_get_mapped (GTK_WIDGET (bench->chart)))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("The bench window was not mapped within 10 s");
      g_main_context_iteration (NULL, TRUE);
    }
  clock = gtk_widget_get_frame_clock (bench->window);
  g_signal_connect (clock, "before-paint", G_CALLBACK (before_paint_cb), bench);
  g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), bench);
}

static void
bench_stop (Bench *bench)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (bench->window);

  g_signal_handlers_disconnect_by_data (clock, bench);
  gtk_window_destroy (GTK_WINDOW (bench->window));
  g_array_unref (bench->snapshot_ms);
  g_array_unref (bench->frame_ms);
  g_array_unref (bench->interval_ms);
  while (g_main_context_iteration (NULL, FALSE));
}

static void
run_for (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
}

static void
measure (Bench  *bench,
         double  seconds)
{
  bench->measuring = TRUE;
  bench->frames = 0;
  run_for (seconds);
  bench->measuring = FALSE;
}

static char *
stats_json (Bench  *bench,
            double  seconds)
{
  return g_strdup_printf ("{\"fps\":%.1f,\"frames\":%u,"
                          "\"snapshot_p50_ms\":%.3f,\"snapshot_p99_ms\":%.3f,\"snapshot_max_ms\":%.3f,"
                          "\"frame_p50_ms\":%.3f,\"frame_p99_ms\":%.3f,\"frame_max_ms\":%.3f,"
                          "\"drawn_points\":%u}",
                          bench->frames / seconds, bench->frames,
                          percentile (bench->snapshot_ms, 0.5), percentile (bench->snapshot_ms, 0.99),
                          percentile (bench->snapshot_ms, 1.0),
                          percentile (bench->frame_ms, 0.5), percentile (bench->frame_ms, 0.99),
                          percentile (bench->frame_ms, 1.0),
                          sy_chart_get_drawn_points (bench->chart));
}

static void
print_stats (const char *name,
             Bench      *bench,
             double      seconds)
{
  g_print ("%-24s fps=%-6.1f frames=%-5u snapshot p50=%.2fms p99=%.2fms max=%.2fms  "
           "frame p50=%.2fms p99=%.2fms max=%.2fms  drawn=%u\n",
           name, bench->frames / seconds, bench->frames,
           percentile (bench->snapshot_ms, 0.5), percentile (bench->snapshot_ms, 0.99),
           percentile (bench->snapshot_ms, 1.0),
           percentile (bench->frame_ms, 0.5), percentile (bench->frame_ms, 0.99),
           percentile (bench->frame_ms, 1.0),
           sy_chart_get_drawn_points (bench->chart));
}

static gboolean
append_cb (gpointer data)
{
  Bench *bench = data;
  gint64 now = g_get_real_time () / 1000;

  for (guint s = 0; s < 50; s++)
    sy_chart_append (bench->chart, s, now, load_w (s, now));
  return G_SOURCE_CONTINUE;
}

static char *
run_live (SyChartLineMode  mode,
          const char      *name,
          double           seconds)
{
  Bench bench = { 0 };
  gint64 now = g_get_real_time () / 1000;
  guint append_id;
  char *json;

  bench_start (&bench, 1200, 600);
  _sy_chart_set_line_mode (bench.chart, mode);
  sy_chart_set_live_window (bench.chart, 15 * MINUTE_MS);
  for (guint s = 0; s < 50; s++)
    {
      g_autofree char *label = g_strdup_printf ("Meter %u", s + 1);

      sy_chart_add_series (bench.chart, label, NULL);
    }
  /* Fifteen minutes of history at 10 Hz: 9 000 points per series. */
  for (gint64 t = now - 15 * MINUTE_MS; t < now; t += 100)
    for (guint s = 0; s < 50; s++)
      sy_chart_append (bench.chart, s, t, load_w (s, t));

  bench_connect (&bench);
  append_id = g_timeout_add (100, append_cb, &bench);
  run_for (1.0);
  measure (&bench, seconds);
  g_source_remove (append_id);

  print_stats (name, &bench, seconds);
  json = stats_json (&bench, seconds);
  bench_stop (&bench);
  return json;
}

static char *
run_static (SyChartLineMode  mode,
            gboolean         cold,
            const char      *name,
            double           seconds)
{
  Bench bench = { 0 };
  const gsize n = 43200;
  g_autofree gint64 *ts = g_new (gint64, n);
  g_autofree double *values = g_new (double, n);
  gint64 from = 1767225600000;
  guint tick_id;
  char *json;

  bench_start (&bench, 1200, 600);
  _sy_chart_set_line_mode (bench.chart, mode);
  for (guint s = 0; s < 10; s++)
    {
      g_autofree char *label = g_strdup_printf ("Meter %u", s + 1);
      guint id = sy_chart_add_series (bench.chart, label, NULL);

      for (gsize i = 0; i < n; i++)
        {
          ts[i] = from + (gint64) i * MINUTE_MS;
          values[i] = load_w (s, ts[i]);
        }
      sy_chart_set_points (bench.chart, id, ts, values, n);
    }
  bench.range_from = from;
  sy_chart_set_time_range (bench.chart, from, from + 30 * DAY_MS);

  bench_connect (&bench);
  tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (bench.chart), redraw_tick_cb, NULL, NULL);
  bench.move_range = cold;
  run_for (0.5);
  measure (&bench, seconds);
  gtk_widget_remove_tick_callback (GTK_WIDGET (bench.chart), tick_id);

  print_stats (name, &bench, seconds);
  json = stats_json (&bench, seconds);
  bench_stop (&bench);
  return json;
}

int
main (int   argc,
      char *argv[])
{
  double seconds = 10;
  g_autofree char *live_raster = NULL;
  g_autofree char *live_cairo = NULL;
  g_autofree char *live_rects = NULL;
  g_autofree char *static_cached = NULL;
  g_autofree char *static_cold = NULL;
  g_autofree char *static_cairo = NULL;
  g_autofree char *static_rects = NULL;
  g_autoptr(GOptionContext) context = g_option_context_new ("- SyChart frame-time bench");
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds, "Measured seconds of the live scenario", "S" },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  gtk_init ();
  adw_init ();
  g_print ("renderer: %s\n", g_getenv ("GSK_RENDERER") ? g_getenv ("GSK_RENDERER") : "default");

  live_raster = run_live (SY_CHART_LINES_RASTER, "live 50x10Hz raster", seconds);
  live_cairo = run_live (SY_CHART_LINES_CAIRO, "live 50x10Hz cairo", seconds);
  live_rects = run_live (SY_CHART_LINES_RECTS, "live 50x10Hz rects", seconds);
  static_cached = run_static (SY_CHART_LINES_RASTER, FALSE, "static 10x43200 cached", 3);
  static_cold = run_static (SY_CHART_LINES_RASTER, TRUE, "static 10x43200 cold", 3);
  static_cairo = run_static (SY_CHART_LINES_CAIRO, TRUE, "static 10x43200 cairo", 3);
  static_rects = run_static (SY_CHART_LINES_RECTS, TRUE, "static 10x43200 rects", 3);

  g_print ("BENCH {\"live_raster\":%s,\"live_cairo\":%s,\"live_rects\":%s,"
           "\"static_cached\":%s,\"static_cold\":%s,\"static_cold_cairo\":%s,"
           "\"static_cold_rects\":%s}\n",
           live_raster, live_cairo, live_rects, static_cached, static_cold, static_cairo,
           static_rects);

  return 0;
}
