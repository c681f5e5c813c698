/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "sy-analytics-page.h"
#include "sy-ui-test-util.h"

/* The Analytics page against a real in-process backend with the demo site: key figures that
 * match a direct REST call, a heat map with cells, the forecast (or its empty state while the
 * site is too young), a CSV export into a file and a cancelled one that leaves no file, and
 * kiosk mode without the export. Screenshots go to the build dir. The fixture is
 * test-console.c's. */

static gboolean
page_idle (gpointer data)
{
  return !sy_analytics_page_get_busy (SY_ANALYTICS_PAGE (data));
}

static gboolean
not_exporting (gpointer data)
{
  return !sy_analytics_page_get_exporting (SY_ANALYTICS_PAGE (data));
}

static gboolean
model_loaded (gpointer data)
{
  return sy_site_model_get_loaded (SY_SITE_MODEL (data));
}

static const char * const kpi_keys[] = {
  "energy_imported_kwh", "energy_exported_kwh", "peak_demand_15min_kw", "load_factor",
  "pv_yield_kwh", "self_consumption_pct", "autarky_pct", "completeness_pct",
};

static void
test_analytics (ConsoleFixture *fx,
                gconstpointer   data)
{
  SyAnalyticsPage *page = SY_ANALYTICS_PAGE (sy_window_get_page (fx->window, "analytics"));
  GtkWidget *root = GTK_WIDGET (fx->window);
  SySiteModel *model = sy_window_get_model (fx->window);
  g_autoptr(JsonObject) kpi = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) forecast = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFile) cancelled_file = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *path = NULL;
  g_autofree char *readout = NULL;
  g_autofree char *kpi_path = NULL;
  g_autofree char *forecast_path = NULL;
  gint64 site_id, start_ms, now_ms;
  SyHeatmap *heatmap;
  gint64 deadline;

  g_assert_nonnull (page);
  sy_window_set_visible_page (fx->window, "analytics");
  g_assert_cmpstr (sy_window_get_visible_page (fx->window), ==, "analytics");

  wait_for (model_loaded, model, WAIT_MS, "the site model");
  site_id = sy_site_model_get_site_id (model);
  g_assert_cmpint (site_id, >, 0);
  wait_for (page_idle, page, WAIT_MS, "the first load");
  start_ms = g_get_real_time () / 1000;

  /* Let the demo post readings for a while (bounded): until the site has imported energy. */
  kpi_path = g_strdup_printf ("/api/energy/analytics/kpi?site_id=%" G_GINT64_FORMAT, site_id);
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr(JsonNode) node = try_call (fx, kpi_path, &error);

      g_assert_no_error (error);
      if (json_object_get_int_member (json_node_get_object (node), "readings") > 20)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      spin (1000);
    }

  /* A fixed range that ends a few seconds ago, so later readings cannot change it. */
  spin (3000);
  now_ms = g_get_real_time () / 1000;
  sy_analytics_page_set_custom_range (page, start_ms - 3600 * 1000, now_ms - 2000);
  wait_for (page_idle, page, WAIT_MS, "the custom range load");
  g_assert_nonnull (strstr (sy_analytics_page_get_query (page), "site_id="));

  /* The cards show what a direct REST call for the same entity and range answers. */
  g_free (kpi_path);
  kpi_path = g_strdup_printf ("/api/energy/analytics/kpi?%s", sy_analytics_page_get_query (page));
  kpi = call (fx, "GET", kpi_path, NULL);
  g_assert_cmpint (json_object_get_int_member (kpi, "readings"), >, 0);
  g_assert_cmpfloat (json_object_get_double_member (kpi, "energy_imported_kwh") +
                     json_object_get_double_member (kpi, "energy_exported_kwh"), >, 0);
  for (guint i = 0; i < G_N_ELEMENTS (kpi_keys); i++)
    {
      g_autofree char *name = g_strconcat ("kpi-", kpi_keys[i], NULL);
      g_autofree char *expected = sy_analytics_format_kpi (kpi, kpi_keys[i]);
      GtkWidget *label = find_named (root, name);

      g_assert_nonnull (label);
      g_test_message ("%s: %s", kpi_keys[i], gtk_label_get_label (GTK_LABEL (label)));
      g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (label)), ==, expected);
    }
  g_assert_cmpstr (gtk_label_get_label (GTK_LABEL (find_named (root, "kpi-energy_imported_kwh"))), !=, "—");

  /* The heat map has cells, and a read-out with the unit on hover. */
  heatmap = sy_analytics_page_get_heatmap (page);
  g_assert_cmpuint (sy_heatmap_get_n_cells (heatmap), >, 0);
  g_assert_cmpuint (sy_heatmap_get_n_columns (heatmap), ==, 24);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (heatmap)));
  spin (300);
  {
    int w = gtk_widget_get_width (GTK_WIDGET (heatmap));
    int h = gtk_widget_get_height (GTK_WIDGET (heatmap));

    /* Some cell under the pointer reads out a value with its unit. */
    for (int y = 0; y < h && readout == NULL; y += 2)
      {
        for (int x = w - 1; x > 0 && readout == NULL; x -= 2)
          {
            g_autofree char *text = sy_heatmap_dup_readout_at (heatmap, x, y);

            if (text != NULL && strstr (text, "kWh") != NULL)
              readout = g_steal_pointer (&text);
          }
      }
  }
  g_assert_nonnull (readout);
  g_test_message ("Read-out: %s", readout);
  /* Outside the cells there is none. */
  g_assert_null (sy_heatmap_dup_readout_at (heatmap, 0, 0));

  /* The forecast: points, or the empty state when the backend says there is too little
   * history (409). */
  forecast_path = g_strdup_printf ("/api/energy/analytics/forecast?site_id=%" G_GINT64_FORMAT, site_id);
  forecast = try_call (fx, forecast_path, &error);
  if (g_error_matches (error, SY_CLIENT_ERROR, SY_CLIENT_ERROR_CONFLICT))
    {
      g_test_message ("Forecast: %s", error->message);
      g_assert_cmpstr (sy_analytics_page_get_forecast_state (page), ==, "empty");
      g_assert_true (gtk_widget_get_mapped (find_named (root, "analytics-forecast-empty")));
      g_clear_error (&error);
    }
  else
    {
      g_assert_no_error (error);
      g_assert_cmpstr (sy_analytics_page_get_forecast_state (page), ==, "chart");
      spin (500);
      g_assert_cmpuint (sy_chart_get_drawn_points (sy_analytics_page_get_forecast_chart (page)), >, 0);
    }

  spin (1000);
  save_screenshot (root, "ui-analytics.png");

  /* Export into a file: a CSV with a header row. */
  path = g_build_filename (fx->dir, "export.csv", NULL);
  file = g_file_new_for_path (path);
  sy_analytics_page_export_to_file (page, file);
  g_assert_true (sy_analytics_page_get_exporting (page));
  g_assert_true (gtk_widget_get_child_visible (find_named (root, "analytics-export-progress")) ||
                 gtk_widget_get_visible (find_named (root, "analytics-export-progress")));
  wait_for (not_exporting, page, 3 * WAIT_MS, "the export");
  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (contents, "meter_id,timestamp"));
  g_assert_nonnull (strstr (contents, "\r\n"));
  g_assert_cmpuint (strlen (strstr (contents, "\r\n") + 2), >, 0);   /* rows after the header */
  g_unlink (path);

  /* A cancelled export leaves no file behind. */
  g_free (path);
  path = g_build_filename (fx->dir, "cancelled.csv", NULL);
  cancelled_file = g_file_new_for_path (path);
  sy_analytics_page_export_to_file (page, cancelled_file);
  g_assert_true (sy_analytics_page_get_exporting (page));
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  gtk_widget_activate_action (GTK_WIDGET (page), "analytics.cancel-export", NULL);
  wait_for (not_exporting, page, WAIT_MS, "the cancelled export");
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* Kiosk mode: no export (it writes to disk). */
  sy_window_set_kiosk (fx->window, TRUE);
  sy_window_set_visible_page (fx->window, "analytics");
  spin (200);
  g_assert_false (gtk_widget_get_sensitive (find_named (root, "analytics-export")));
  g_free (path);
  path = g_build_filename (fx->dir, "kiosk.csv", NULL);
  {
    g_autoptr(GFile) kiosk_file = g_file_new_for_path (path);

    sy_analytics_page_export_to_file (page, kiosk_file);
    g_assert_false (sy_analytics_page_get_exporting (page));
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  sy_window_set_kiosk (fx->window, FALSE);
  spin (200);
  g_assert_true (gtk_widget_get_sensitive (find_named (root, "analytics-export")));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  adw_init ();
  sy_window_load_style ();

  g_test_add ("/switchyard/ui/analytics/page", ConsoleFixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_analytics, fixture_teardown);

  return g_test_run ();
}
