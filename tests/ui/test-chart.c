/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <math.h>

#include <adwaita.h>

#include "sy-chart.h"
#include "sy-chart-private.h"

#define MINUTE_MS ((gint64) 60000)
#define DAY_MS    (24 * 60 * MINUTE_MS)

typedef struct
{
  GtkWidget *window;
  SyChart   *chart;
} ChartFixture;

static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Waits until the chart has been mapped and has taken a new snapshot. */
static void
wait_for_draw (ChartFixture *fx)
{
  guint count = _sy_chart_get_snapshot_count (fx->chart);
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  guint wake = g_timeout_add (20, wake_cb, NULL);

  gtk_widget_queue_draw (GTK_WIDGET (fx->chart));
  while (!gtk_widget_get_mapped (GTK_WIDGET (fx->chart)) ||
         _sy_chart_get_snapshot_count (fx->chart) == count)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for the chart to draw");
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (wake);
}

static void
chart_setup_size (ChartFixture *fx,
                  int           width,
                  int           height)
{
  fx->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (fx->window), width, height);
  fx->chart = SY_CHART (sy_chart_new ());
  gtk_window_set_child (GTK_WINDOW (fx->window), GTK_WIDGET (fx->chart));
  gtk_window_present (GTK_WINDOW (fx->window));
  wait_for_draw (fx);
}

static void
chart_setup (ChartFixture  *fx,
             gconstpointer  data)
{
  chart_setup_size (fx, 800, 400);
}

static void
chart_teardown (ChartFixture  *fx,
                gconstpointer  data)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  SyChart *chart = fx->chart;

  g_object_add_weak_pointer (G_OBJECT (chart), (gpointer *) &chart);
  gtk_window_destroy (GTK_WINDOW (fx->window));
  while (chart != NULL)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("The chart was not finalized");
      g_main_context_iteration (NULL, FALSE);
    }
}

static void
save_screenshot (GtkWidget  *widget,
                 const char *name)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  path = g_build_filename (g_test_get_dir (G_TEST_BUILT), name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("Screenshot: %s", path);
}

/* A smooth, realistic load curve in W with some noise. */
static double
load_w (guint  series,
        gint64 ts_ms)
{
  double base = 8000 + 3500 * (series % 17);
  double t = ts_ms / 1000.0;
  double slow = sin (t / (600 + 37 * series) + series) * 0.25;
  double fast = sin (t / (23 + series % 7)) * 0.02;
  double noise = g_test_rand_double_range (-0.01, 0.01);

  return base * (1 + slow + fast + noise);
}

static void
test_decimation (ChartFixture  *fx,
                 gconstpointer  data)
{
  const gsize n = 43200;
  g_autofree gint64 *ts = g_new (gint64, n);
  g_autofree double *values = g_new (double, n);
  gint64 from = 1767225600000; /* 2026-01-01 */
  guint id, width, drawn;

  for (gsize i = 0; i < n; i++)
    {
      ts[i] = from + (gint64) i * MINUTE_MS;
      values[i] = load_w (0, ts[i]);
    }

  sy_chart_set_unit (fx->chart, "W");
  id = sy_chart_add_series (fx->chart, "Grid", NULL);
  sy_chart_set_time_range (fx->chart, from, from + 30 * DAY_MS);
  sy_chart_set_points (fx->chart, id, ts, values, n);
  wait_for_draw (fx);

  width = gtk_widget_get_width (GTK_WIDGET (fx->chart));
  drawn = sy_chart_get_drawn_points (fx->chart);
  g_test_message ("width %u, drawn %u of %" G_GSIZE_FORMAT, width, drawn, n);
  g_assert_cmpuint (width, >=, 700);
  g_assert_cmpuint (drawn, <=, 4 * width);
  /* Decimation keeps min and max per column: a dense series fills every column. */
  g_assert_cmpuint (drawn, >=, width / 2);
  g_assert_cmpuint (_sy_chart_get_drawn_segments (fx->chart), ==, 1);
  g_assert_cmpint (sy_chart_get_last_snapshot_us (fx->chart), >, 0);

  /* A sparse slice is not thinned out: one day of hourly points draws every point. */
  {
    g_autofree gint64 *hts = g_new (gint64, 25);
    g_autofree double *hvalues = g_new (double, 25);

    for (guint i = 0; i < 25; i++)
      {
        hts[i] = from + i * 60 * MINUTE_MS;
        hvalues[i] = 1000 + i;
      }
    sy_chart_set_points (fx->chart, id, hts, hvalues, 25);
    sy_chart_set_time_range (fx->chart, from, from + DAY_MS);
    wait_for_draw (fx);
    g_assert_cmpuint (sy_chart_get_drawn_points (fx->chart), ==, 25);
  }

  /* Zooming into the middle of the big series draws only the visible slice. */
  sy_chart_set_points (fx->chart, id, ts, values, n);
  sy_chart_set_time_range (fx->chart, from + 10 * DAY_MS, from + 10 * DAY_MS + 60 * MINUTE_MS);
  wait_for_draw (fx);
  /* 60 points inside, plus one either side that runs off the edges. */
  g_assert_cmpuint (sy_chart_get_drawn_points (fx->chart), <=, 63);
  g_assert_cmpuint (sy_chart_get_drawn_points (fx->chart), >=, 60);
}

static void
test_nan_gaps (ChartFixture  *fx,
               gconstpointer  data)
{
  gint64 ts[100];
  double values[100];
  gint64 from = 1767225600000;
  guint id;

  for (guint i = 0; i < 100; i++)
    {
      ts[i] = from + i * 1000;
      values[i] = 500 + 10 * i;
    }

  id = sy_chart_add_series (fx->chart, "PV", NULL);
  sy_chart_set_time_range (fx->chart, from, from + 100 * 1000);
  sy_chart_set_points (fx->chart, id, ts, values, 100);
  wait_for_draw (fx);
  g_assert_cmpuint (_sy_chart_get_drawn_segments (fx->chart), ==, 1);
  g_assert_cmpuint (sy_chart_get_drawn_points (fx->chart), ==, 100);

  for (guint i = 40; i < 45; i++)
    values[i] = NAN;
  sy_chart_set_points (fx->chart, id, ts, values, 100);
  wait_for_draw (fx);
  g_assert_cmpuint (_sy_chart_get_drawn_segments (fx->chart), ==, 2);
  g_assert_cmpuint (sy_chart_get_drawn_points (fx->chart), ==, 95);

  values[70] = NAN;
  sy_chart_set_points (fx->chart, id, ts, values, 100);
  wait_for_draw (fx);
  g_assert_cmpuint (_sy_chart_get_drawn_segments (fx->chart), ==, 3);

  /* A gap in a dense, decimated series still splits the line. */
  {
    const gsize n = 20000;
    g_autofree gint64 *dts = g_new (gint64, n);
    g_autofree double *dvalues = g_new (double, n);

    for (gsize i = 0; i < n; i++)
      {
        dts[i] = from + (gint64) i * 1000;
        dvalues[i] = (i >= 9000 && i < 9100) ? NAN : load_w (1, dts[i]);
      }
    sy_chart_set_points (fx->chart, id, dts, dvalues, n);
    sy_chart_set_time_range (fx->chart, from, from + (gint64) n * 1000);
    wait_for_draw (fx);
    g_assert_cmpuint (_sy_chart_get_drawn_segments (fx->chart), ==, 2);
  }
}

static void
test_live (ChartFixture  *fx,
           gconstpointer  data)
{
  gint64 now = g_get_real_time () / 1000;
  g_auto(GStrv) x_labels = NULL;
  guint a, b;
  gsize n;

  sy_chart_set_unit (fx->chart, "W");
  a = sy_chart_add_series (fx->chart, "Load", NULL);
  b = sy_chart_add_series (fx->chart, "Battery", NULL);
  sy_chart_set_live_window (fx->chart, MINUTE_MS);

  /* Ten minutes of 1 s points: only the last minute (plus a small margin) is kept. */
  for (gint64 t = now - 10 * MINUTE_MS; t <= now; t += 1000)
    {
      sy_chart_append (fx->chart, a, t, load_w (a, t));
      sy_chart_append (fx->chart, b, t, -load_w (b, t) / 4);
    }
  n = _sy_chart_get_n_points (fx->chart, a);
  g_test_message ("kept %" G_GSIZE_FORMAT " points", n);
  g_assert_cmpuint (n, >=, 60);
  g_assert_cmpuint (n, <=, 60 + 8);

  /* Points older than the newest are dropped. */
  sy_chart_append (fx->chart, a, now - 30000, 1);
  g_assert_cmpuint (_sy_chart_get_n_points (fx->chart, a), ==, n);

  wait_for_draw (fx);
  g_assert_cmpuint (sy_chart_get_drawn_points (fx->chart), >=, 2 * 58);
  g_assert_cmpuint (sy_chart_get_drawn_points (fx->chart), <=, 2 * (60 + 8));

  /* The chart keeps drawing by itself while live. */
  wait_for_draw (fx);
  wait_for_draw (fx);

  /* A one-minute window is labelled to the second. */
  x_labels = _sy_chart_dup_x_labels (fx->chart);
  g_assert_cmpuint (g_strv_length (x_labels), >=, 3);
  for (guint i = 0; x_labels[i] != NULL; i++)
    g_assert_true (g_regex_match_simple ("^\\d\\d:\\d\\d:\\d\\d$", x_labels[i], 0, 0));

  /* Many appends trim in batches; the count stays bounded. */
  for (guint i = 0; i < 20000; i++)
    sy_chart_append (fx->chart, a, now + i * 10, 1000);
  n = _sy_chart_get_n_points (fx->chart, a);
  g_assert_cmpuint (n, <=, 20000);
  g_assert_cmpuint (n, >=, 6000);

  /* A fixed range stops live mode. */
  sy_chart_set_time_range (fx->chart, now - 60 * MINUTE_MS, now);
  wait_for_draw (fx);
}

static void
test_hidden (ChartFixture  *fx,
             gconstpointer  data)
{
  gint64 from = 1767225600000;
  gint64 ts[1000];
  double v0[1000], v1[1000];
  guint s0, s1, both, only1, only0;

  for (guint i = 0; i < 1000; i++)
    {
      ts[i] = from + i * 1000;
      v0[i] = load_w (0, ts[i]);
      v1[i] = load_w (1, ts[i]) * 2;
    }
  s0 = sy_chart_add_series (fx->chart, "Feeder A", NULL);
  s1 = sy_chart_add_series (fx->chart, "Feeder B", NULL);
  sy_chart_set_time_range (fx->chart, from, from + 1000 * 1000);
  sy_chart_set_points (fx->chart, s0, ts, v0, 1000);
  sy_chart_set_points (fx->chart, s1, ts, v1, 1000);
  wait_for_draw (fx);
  both = sy_chart_get_drawn_points (fx->chart);
  g_assert_cmpuint (_sy_chart_get_drawn_segments (fx->chart), ==, 2);

  sy_chart_set_series_visible (fx->chart, s0, FALSE);
  wait_for_draw (fx);
  only1 = sy_chart_get_drawn_points (fx->chart);
  g_assert_cmpuint (_sy_chart_get_drawn_segments (fx->chart), ==, 1);

  sy_chart_set_series_visible (fx->chart, s0, TRUE);
  sy_chart_set_series_visible (fx->chart, s1, FALSE);
  wait_for_draw (fx);
  only0 = sy_chart_get_drawn_points (fx->chart);

  g_assert_cmpuint (only0, >, 0);
  g_assert_cmpuint (only1, >, 0);
  g_assert_cmpuint (only0 + only1, ==, both);

  sy_chart_set_series_visible (fx->chart, s0, FALSE);
  wait_for_draw (fx);
  g_assert_cmpuint (sy_chart_get_drawn_points (fx->chart), ==, 0);
  g_assert_cmpuint (_sy_chart_get_drawn_segments (fx->chart), ==, 0);
}

static void
assert_format (double      value,
               const char *unit,
               const char *expected)
{
  g_autofree char *text = _sy_chart_format_value (value, unit);

  g_assert_cmpstr (text, ==, expected);
}

static void
assert_axis_format (double      value,
                    double      step,
                    double      max_abs,
                    const char *unit,
                    const char *expected)
{
  g_autofree char *text = _sy_chart_format_axis_value (value, step, max_abs, unit);

  g_assert_cmpstr (text, ==, expected);
}

static void
test_units (ChartFixture  *fx,
            gconstpointer  data)
{
  gint64 from = 1767225600000;
  gint64 ts[3] = { from, from + 1000, from + 2000 };
  double values[3] = { 2000, 12345, 7000 };
  g_auto(GStrv) labels = NULL;
  gboolean has_12 = FALSE;
  guint id;

  assert_format (12345, "W", "12.3\u202fkW");
  assert_format (950, "W", "950\u202fW");
  assert_format (2.5e6, "W", "2.50\u202fMW");
  assert_format (-1500, "W", "-1.50\u202fkW");
  assert_format (230.4, "V", "230\u202fV");
  assert_format (49.98, "Hz", "50.0\u202fHz");
  assert_format (87, "%", "87%");
  assert_format (NAN, "W", "—");
  assert_axis_format (12500, 2500, 15000, "W", "12.5\u202fkW");
  assert_axis_format (12000, 2000, 14000, "W", "12\u202fkW");
  assert_axis_format (0, 2000, 14000, "W", "0\u202fkW");

  sy_chart_set_unit (fx->chart, "W");
  id = sy_chart_add_series (fx->chart, "Site", NULL);
  sy_chart_set_time_range (fx->chart, from, from + 2000);
  sy_chart_set_points (fx->chart, id, ts, values, 3);
  wait_for_draw (fx);

  labels = _sy_chart_dup_y_labels (fx->chart);
  g_assert_cmpuint (g_strv_length (labels), >=, 3);
  for (guint i = 0; labels[i] != NULL; i++)
    {
      g_test_message ("y label %s", labels[i]);
      g_assert_true (g_str_has_suffix (labels[i], "\u202fkW"));
      has_12 |= g_str_has_prefix (labels[i], "12");
    }
  /* Axis ends on a tick at or above the maximum, from zero. */
  g_assert_true (g_str_has_prefix (labels[0], "0\u202f"));
  g_assert_true (has_12);
  g_assert_cmpfloat (g_ascii_strtod (labels[g_strv_length (labels) - 1], NULL), >=, 12.345);
}

static void
assert_x_labels (ChartFixture *fx,
                 const char   *pattern)
{
  g_auto(GStrv) labels = _sy_chart_dup_x_labels (fx->chart);

  g_assert_cmpuint (g_strv_length (labels), >=, 3);
  g_assert_cmpuint (g_strv_length (labels), <=, 12);
  for (guint i = 0; labels[i] != NULL; i++)
    {
      g_test_message ("x label %s (%s)", labels[i], pattern);
      g_assert_true (g_regex_match_simple (pattern, labels[i], 0, 0));
    }
}

static void
test_time_range (ChartFixture  *fx,
                 gconstpointer  data)
{
  gint64 from = 1767268800000; /* 2026-01-01 12:00 UTC */
  gint64 ts[2] = { from - DAY_MS, from + 40 * DAY_MS };
  double values[2] = { 1, 2 };
  guint id;

  id = sy_chart_add_series (fx->chart, "Grid", NULL);
  sy_chart_set_points (fx->chart, id, ts, values, 2);

  sy_chart_set_time_range (fx->chart, from, from + 2 * MINUTE_MS);
  wait_for_draw (fx);
  assert_x_labels (fx, "^\\d\\d:\\d\\d:\\d\\d$");

  sy_chart_set_time_range (fx->chart, from, from + 60 * MINUTE_MS);
  wait_for_draw (fx);
  assert_x_labels (fx, "^\\d\\d:\\d\\d$");

  sy_chart_set_time_range (fx->chart, from, from + 6 * 60 * MINUTE_MS);
  wait_for_draw (fx);
  assert_x_labels (fx, "^\\d\\d:\\d\\d$");

  sy_chart_set_time_range (fx->chart, from, from + 30 * DAY_MS);
  wait_for_draw (fx);
  assert_x_labels (fx, "^\\w+ +\\d+ \\w+$");

  /* Both points lie outside the range; the line between them is still drawn. */
  g_assert_cmpuint (sy_chart_get_drawn_points (fx->chart), ==, 2);
}

static void
test_hover_and_band (ChartFixture  *fx,
                     gconstpointer  data)
{
  gint64 from = 1767225600000;
  gint64 ts[600];
  double v[600], lo[600], hi[600];
  g_autofree char *text = NULL;
  guint id, other;

  for (guint i = 0; i < 600; i++)
    {
      ts[i] = from + i * 1000;
      v[i] = 12345;
      lo[i] = 11000;
      hi[i] = 13000;
    }
  sy_chart_set_unit (fx->chart, "W");
  id = sy_chart_add_series (fx->chart, "Forecast", NULL);
  other = sy_chart_add_series (fx->chart, "Hidden", NULL);
  sy_chart_set_series_visible (fx->chart, other, FALSE);
  sy_chart_set_time_range (fx->chart, from, from + 600 * 1000);
  sy_chart_set_points (fx->chart, id, ts, v, 600);
  sy_chart_set_band (fx->chart, id, lo, hi, 600);
  _sy_chart_set_hover (fx->chart, 400, 200);
  wait_for_draw (fx);

  text = _sy_chart_dup_hover_text (fx->chart);
  g_assert_nonnull (text);
  g_test_message ("hover: %s", text);
  g_assert_nonnull (strstr (text, "Forecast\t12.3\u202fkW"));
  g_assert_null (strstr (text, "Hidden"));

  /* The band widens the value axis beyond the line. */
  {
    g_auto(GStrv) labels = _sy_chart_dup_y_labels (fx->chart);

    g_assert_cmpfloat (g_ascii_strtod (labels[g_strv_length (labels) - 1], NULL), >=, 13);
  }

  _sy_chart_set_hover (fx->chart, -1, -1);
  wait_for_draw (fx);
  g_clear_pointer (&text, g_free);
  text = _sy_chart_dup_hover_text (fx->chart);
  g_assert_null (text);

  sy_chart_set_band (fx->chart, id, NULL, NULL, 0);
  wait_for_draw (fx);
}

static void
test_compact (ChartFixture  *fx,
              gconstpointer  data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  SyChart *spark = SY_CHART (sy_chart_new ());
  gint64 now = g_get_real_time () / 1000;
  g_auto(GStrv) labels = NULL;
  g_autofree char *hover = NULL;
  int min, nat;
  guint id;

  sy_chart_set_compact (spark, TRUE);
  gtk_widget_measure (GTK_WIDGET (spark), GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
  g_assert_cmpint (nat, ==, 120);
  gtk_widget_measure (GTK_WIDGET (spark), GTK_ORIENTATION_VERTICAL, -1, &min, &nat, NULL, NULL);
  g_assert_cmpint (nat, ==, 32);

  /* Swap the big chart for a sparkline in a box, as in a list row. */
  gtk_widget_set_valign (GTK_WIDGET (spark), GTK_ALIGN_CENTER);
  gtk_widget_set_halign (GTK_WIDGET (spark), GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (spark));
  gtk_window_set_child (GTK_WINDOW (fx->window), box);
  fx->chart = spark;

  id = sy_chart_add_series (spark, "Load", NULL);
  sy_chart_set_live_window (spark, 10 * MINUTE_MS);
  for (gint64 t = now - 10 * MINUTE_MS; t <= now; t += 1000)
    sy_chart_append (spark, id, t, load_w (3, t));
  _sy_chart_set_hover (spark, 50, 10);
  wait_for_draw (fx);

  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (spark)), ==, 120);
  g_assert_cmpuint (sy_chart_get_drawn_points (spark), >, 0);
  g_assert_cmpuint (sy_chart_get_drawn_points (spark), <=, 4 * 120);
  labels = _sy_chart_dup_y_labels (spark);
  g_assert_cmpuint (g_strv_length (labels), ==, 0);
  hover = _sy_chart_dup_hover_text (spark);
  g_assert_null (hover);
}

static const char * const meter_names[] = {
  "Grid import", "PV roof", "Battery", "HVAC", "Chillers", "Lighting", "Data hall A",
  "Data hall B", "EV chargers", "Kitchen",
};

static void
fill_50_series (SyChart *chart,
                gint64   now)
{
  for (guint s = 0; s < 50; s++)
    {
      g_autofree char *label = g_strdup_printf ("%s %u", meter_names[s % G_N_ELEMENTS (meter_names)],
                                                (guint) (s / G_N_ELEMENTS (meter_names) + 1));

      sy_chart_add_series (chart, label, NULL);
    }
  for (gint64 t = now - 15 * MINUTE_MS; t <= now; t += 1000)
    for (guint s = 0; s < 50; s++)
      sy_chart_append (chart, s, t, load_w (s, t));
}

static void
test_screenshot (ChartFixture  *fx,
                 gconstpointer  data)
{
  AdwStyleManager *style = adw_style_manager_get_default ();
  gint64 now = g_get_real_time () / 1000;
  g_autofree char *text = NULL;

  gtk_window_set_default_size (GTK_WINDOW (fx->window), 1200, 600);
  sy_chart_set_unit (fx->chart, "W");
  sy_chart_set_live_window (fx->chart, 15 * MINUTE_MS);
  fill_50_series (fx->chart, now);
  _sy_chart_set_hover (fx->chart, 900, 300);
  wait_for_draw (fx);
  wait_for_draw (fx);

  g_assert_cmpuint (sy_chart_get_drawn_points (fx->chart), <=,
                    50 * 4 * gtk_widget_get_width (GTK_WIDGET (fx->chart)));
  text = _sy_chart_dup_hover_text (fx->chart);
  g_assert_nonnull (strstr (text, "\nand "));
  save_screenshot (fx->window, "chart-50-series.png");

  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  wait_for_draw (fx);
  wait_for_draw (fx);
  save_screenshot (fx->window, "chart-50-series-dark.png");
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);

  _sy_chart_set_hover (fx->chart, -1, -1);
  for (guint s = 8; s < 50; s++)
    sy_chart_set_series_visible (fx->chart, s, FALSE);
  wait_for_draw (fx);
  save_screenshot (fx->window, "chart-8-series.png");
}

static void
test_accessible (ChartFixture  *fx,
                 gconstpointer  data)
{
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (fx->chart)), ==,
                   GTK_ACCESSIBLE_ROLE_IMG);
  sy_chart_add_series (fx->chart, "Grid", NULL);
  sy_chart_add_series (fx->chart, "PV", NULL);
  sy_chart_clear (fx->chart);
  g_assert_cmpuint (sy_chart_add_series (fx->chart, "Grid", NULL), ==, 0);
  wait_for_draw (fx);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

#define ADD(path, func) \
  g_test_add ("/switchyard/ui/chart/" path, ChartFixture, NULL, chart_setup, func, chart_teardown)

  ADD ("decimation", test_decimation);
  ADD ("nan-gaps", test_nan_gaps);
  ADD ("live", test_live);
  ADD ("hidden", test_hidden);
  ADD ("units", test_units);
  ADD ("time-range", test_time_range);
  ADD ("hover-band", test_hover_and_band);
  ADD ("compact", test_compact);
  ADD ("accessible", test_accessible);
  ADD ("screenshot", test_screenshot);

#undef ADD

  return g_test_run ();
}
