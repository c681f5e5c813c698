/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <adwaita.h>

#include "sy-analytics-page.h"
#include "sy-backend.h"
#include "sy-client.h"
#include "sy-settings.h"
#include "sy-window.h"

/* The Analytics page against a real in-process backend with the demo site: key figures that
 * match a direct REST call, a heat map with cells, the forecast (or its empty state while the
 * site is too young), a CSV export into a file and a cancelled one that leaves no file, and
 * kiosk mode without the export. Screenshots go to the build dir. The fixture is
 * test-console.c's. */

#define WAIT_MS 10000

typedef struct
{
  char       *dir;
  SyBackend  *backend;
  SyClient   *client;
  SySettings *settings;
  SyWindow   *window;
} ConsoleFixture;

typedef gboolean (*Condition) (gpointer data);

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until @cond holds; fails the test after @timeout_ms. */
static void
wait_for (Condition   cond,
          gpointer    data,
          guint       timeout_ms,
          const char *what)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint tick = g_timeout_add (50, tick_cb, NULL);

  while (!cond (data))
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_source_remove (tick);
          g_test_message ("Timed out after %u ms waiting for %s", timeout_ms, what);
          g_test_fail ();
          g_assert_not_reached ();
        }
      g_main_context_iteration (NULL, TRUE);
    }

  g_source_remove (tick);
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

/* Lets the loop run for @ms (animations, a frame or two). */
static void
spin (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;
  guint tick = g_timeout_add (20, tick_cb, NULL);

  while (g_get_monotonic_time () < deadline && !never (NULL))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
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
  GskRenderer *renderer;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);

  /* The paintable shows what the widget last rendered: nothing until its first frame after a
   * change. Let frames happen until there is one (bounded). */
  for (guint attempt = 0; node == NULL; attempt++)
    {
      g_assert_cmpuint (attempt, <, 50);
      if (attempt > 0)
        {
          snapshot = gtk_snapshot_new ();
          gtk_widget_queue_draw (widget);
          spin (100);
        }
      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
    }

  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  path = g_test_build_filename (G_TEST_BUILT, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("Screenshot: %s", path);
}

static GtkWidget *
find_named (GtkWidget  *root,
            const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_named (child, name);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static void
fixture_setup (ConsoleFixture *fx,
               gconstpointer   data)
{
  static const char * const topics[] = { "data.ingested", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *token = NULL;
  SyBackendConfig config = { 0 };

  fx->dir = g_dir_make_tmp ("sy-analytics-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (fx->dir, "switchyard.db", NULL);

  /* For the README's screenshots: start from a copy of a database with some history (made by
   * `switchyardd --demo` running a while, then stopped). The tests never need it. */
  if (g_getenv ("SY_TEST_DB_TEMPLATE") != NULL)
    {
      g_autoptr(GFile) source = g_file_new_for_path (g_getenv ("SY_TEST_DB_TEMPLATE"));
      g_autoptr(GFile) target = g_file_new_for_path (db_path);

      g_file_copy (source, target, G_FILE_COPY_NONE, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
    }

  config.db_path = db_path;
  config.listen_host = (char *) "127.0.0.1";
  config.listen_port = 0;
  config.demo = TRUE;
  fx->backend = sy_backend_new (&config);
  g_assert_true (sy_backend_start (fx->backend, &error));
  g_assert_no_error (error);

  token = sy_backend_dup_admin_token (fx->backend);
  fx->client = sy_client_new (sy_backend_get_base_url (fx->backend), token);
  sy_client_start_stream (fx->client, topics);

  fx->settings = sy_settings_new ();
  fx->window = sy_window_new (NULL, fx->client, fx->settings, GPOINTER_TO_INT (data));
  gtk_window_set_default_size (GTK_WINDOW (fx->window), 1280, 800);
  gtk_window_present (GTK_WINDOW (fx->window));
}

static void
fixture_teardown (ConsoleFixture *fx,
                  gconstpointer   data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  gtk_window_destroy (GTK_WINDOW (fx->window));
  spin (100);

  sy_client_stop_stream (fx->client);
  g_clear_object (&fx->client);
  sy_backend_stop (fx->backend);
  g_clear_object (&fx->backend);
  g_assert_finalize_object (fx->settings);

  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fx->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
}


/* REST through the same SyClient, synchronously (bounded). */

typedef struct
{
  gboolean  done;
  JsonNode *node;
  GError   *error;
} Call;

static void
call_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Call *call = user_data;

  call->node = sy_client_request_finish (SY_CLIENT (object), result, &call->error);
  call->done = TRUE;
}

static gboolean
call_done (gpointer data)
{
  return ((Call *) data)->done;
}

static JsonObject *
call (ConsoleFixture *fx,
      const char     *method,
      const char     *path,
      const char     *body)
{
  g_autoptr(JsonNode) json = body != NULL ? json_from_string (body, NULL) : NULL;
  Call c = { 0 };
  JsonObject *obj;

  sy_client_request_async (fx->client, method, path, json, NULL, call_cb, &c);
  wait_for (call_done, &c, WAIT_MS, path);
  g_assert_no_error (c.error);
  g_assert_nonnull (c.node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (c.node));
  obj = json_object_ref (json_node_get_object (c.node));
  json_node_unref (c.node);
  return obj;
}


/* A REST call that may fail: the error is returned. */
static JsonNode *
try_call (ConsoleFixture  *fx,
          const char      *path,
          GError         **error)
{
  Call c = { 0 };

  sy_client_request_async (fx->client, "GET", path, NULL, NULL, call_cb, &c);
  wait_for (call_done, &c, WAIT_MS, path);
  if (c.error != NULL)
    g_propagate_error (error, c.error);
  return c.node;
}

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
