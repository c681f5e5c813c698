/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "sy-api-access-page.h"
#include "sy-chart.h"
#include "sy-meters-page.h"
#include "sy-overview-page.h"
#include "sy-ui-test-util.h"

/* The console against a real in-process backend with the demo site: a real window under Xvfb,
 * a real SyClient over loopback and its WebSocket stream. Each case saves screenshots in the
 * build dir. */

/* (a) The overview shows live values that change. */

typedef struct
{
  SyOverviewPage *page;
  char           *first;
  char           *grid;
} FlowWatch;

static gboolean
flow_has_value (gpointer data)
{
  FlowWatch *watch = data;
  const char *text = sy_overview_page_get_flow_text (watch->page, "buildings");

  return text != NULL && g_strcmp0 (text, "—") != 0;
}

static gboolean
flow_changed (gpointer data)
{
  FlowWatch *watch = data;

  return g_strcmp0 (sy_overview_page_get_flow_text (watch->page, "buildings"), watch->first) != 0 ||
         g_strcmp0 (sy_overview_page_get_flow_text (watch->page, "grid"), watch->grid) != 0;
}

static gboolean
chart_has_points (gpointer data)
{
  return sy_chart_get_drawn_points (SY_CHART (data)) > 0;
}

static gboolean
model_loaded (gpointer data)
{
  return sy_site_model_get_loaded (data);
}

static void
test_overview (ConsoleFixture *fx,
               gconstpointer   data)
{
  FlowWatch watch = { 0 };
  gint64 start;

  sy_window_set_visible_page (fx->window, "overview");
  watch.page = SY_OVERVIEW_PAGE (sy_window_get_page (fx->window, "overview"));

  wait_for (model_loaded, sy_window_get_model (fx->window), WAIT_MS, "the site to load");
  g_assert_cmpstr (sy_site_model_get_site_name (sy_window_get_model (fx->window)), ==, "Demo depot");
  g_assert_cmpuint (g_list_model_get_n_items (sy_site_model_get_meters (sy_window_get_model (fx->window))), ==, 9);

  wait_for (flow_has_value, &watch, WAIT_MS, "a live value on the overview");
  watch.first = g_strdup (sy_overview_page_get_flow_text (watch.page, "buildings"));
  watch.grid = g_strdup (sy_overview_page_get_flow_text (watch.page, "grid"));
  g_test_message ("Buildings %s, grid %s", watch.first, watch.grid);
  g_assert_true (g_str_has_suffix (watch.first, "W"));

  /* The demo's loads drift every second: within 5 s the numbers move. */
  start = g_get_monotonic_time ();
  wait_for (flow_changed, &watch, 5000, "the overview's values to change");
  g_test_message ("Changed after %" G_GINT64_FORMAT " ms: buildings %s, grid %s",
                  (g_get_monotonic_time () - start) / 1000,
                  sy_overview_page_get_flow_text (watch.page, "buildings"),
                  sy_overview_page_get_flow_text (watch.page, "grid"));

  wait_for (chart_has_points, sy_overview_page_get_chart (watch.page), WAIT_MS, "the overview chart to draw");
  spin (3000);
  g_assert_null (sy_window_get_banner_text (fx->window));
  save_screenshot (GTK_WIDGET (fx->window), "ui-overview.png");
  g_free (watch.first);
  g_free (watch.grid);
}

/* (b) The meters page lists, filters and opens meters. */

typedef struct
{
  GListModel *model;
  guint       n;
} CountWatch;

static gboolean
count_is (gpointer data)
{
  CountWatch *watch = data;

  return g_list_model_get_n_items (watch->model) == watch->n;
}

static gboolean
detail_has_points (gpointer data)
{
  SyMeterDetail *detail = data;

  return sy_meter_detail_get_n_points (detail) > 0 &&
         sy_chart_get_drawn_points (SY_CHART (sy_meter_detail_get_chart (detail))) > 0;
}

static void
test_meters (ConsoleFixture *fx,
             gconstpointer   data)
{
  SyMetersPage *page = SY_METERS_PAGE (sy_window_get_page (fx->window, "meters"));
  SyMeterDetail *detail = sy_meters_page_get_detail (page);
  CountWatch watch = { sy_meters_page_get_filtered (page), 9 };
  g_autoptr(SyMeterItem) item = NULL;

  sy_window_set_visible_page (fx->window, "meters");
  g_assert_cmpstr (sy_window_get_visible_page (fx->window), ==, "meters");

  wait_for (count_is, &watch, WAIT_MS, "the 9 demo meters");
  spin (3000);
  save_screenshot (GTK_WIDGET (fx->window), "ui-meters.png");

  gtk_editable_set_text (sy_meters_page_get_search (page), "charger");
  watch.n = 4;
  wait_for (count_is, &watch, 2000, "the search to keep the 4 chargers");
  item = g_list_model_get_item (watch.model, 0);
  g_assert_cmpstr (sy_meter_item_get_kind (item), ==, "ev_charger");
  g_clear_object (&item);

  gtk_editable_set_text (sy_meters_page_get_search (page), "offices");
  watch.n = 1;
  wait_for (count_is, &watch, 2000, "the search to keep Offices");

  gtk_editable_set_text (sy_meters_page_get_search (page), "no such meter");
  watch.n = 0;
  wait_for (count_is, &watch, 2000, "the search to keep nothing");

  gtk_editable_set_text (sy_meters_page_get_search (page), "");
  watch.n = 9;
  wait_for (count_is, &watch, 2000, "the search to show every meter again");

  /* Open the grid connection, as a click on its row does. */
  item = g_list_model_get_item (watch.model, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "meters.open", "x", sy_meter_item_get_id (item)));
  g_assert_true (sy_meters_page_get_showing_detail (page));
  g_assert_true (sy_meter_detail_get_item (detail) == item);
  wait_for (detail_has_points, detail, WAIT_MS, "the live chart of the meter");
  spin (2500);
  save_screenshot (GTK_WIDGET (fx->window), "ui-meter-detail.png");

  /* History from the 1-minute rollups, with its min/max band. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (detail), "detail.range", "s", "1h"));
  g_assert_cmpstr (sy_meter_detail_get_range (detail), ==, "1h");
  wait_for (detail_has_points, detail, WAIT_MS, "the 1 h chart of the meter");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "meters.back", NULL));
  g_assert_false (sy_meters_page_get_showing_detail (page));
}

/* (c) Kiosk mode: read-only, and the banner when the data stops. */

static gboolean
banner_shown (gpointer data)
{
  const char *text = sy_window_get_banner_text (data);

  return text != NULL && strstr (text, "stale") != NULL;
}

static gboolean
banner_hidden (gpointer data)
{
  return sy_window_get_banner_text (data) == NULL;
}

static guint
count_preferences_windows (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  guint n = 0;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_PREFERENCES_WINDOW (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        n++;
    }

  return n;
}

static void
test_kiosk (ConsoleFixture *fx,
            gconstpointer   data)
{
  SyApiAccessPage *api = SY_API_ACCESS_PAGE (sy_window_get_page (fx->window, "api-access"));
  gint64 paused_at;

  sy_settings_set_stale_after_seconds (fx->settings, 2);
  wait_for (model_loaded, sy_window_get_model (fx->window), WAIT_MS, "the site to load");

  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.toggle-kiosk", NULL);
  g_assert_true (sy_window_get_kiosk (fx->window));
  g_assert_cmpstr (sy_window_get_visible_page (fx->window), ==, "overview");

  /* Every write is off: the actions themselves, not only their buttons. */
  gtk_widget_activate_action (GTK_WIDGET (api), "api.create", NULL);
  g_assert_null (sy_api_access_page_get_dialog (api));
  gtk_widget_activate_action (GTK_WIDGET (api), "api.revoke", "s", "whatever");
  g_assert_null (sy_api_access_page_get_dialog (api));
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.preferences", NULL);
  g_assert_cmpuint (count_preferences_windows (), ==, 0);
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.page", "s", "api-access");
  g_assert_cmpstr (sy_window_get_visible_page (fx->window), !=, "api-access");

  spin (2000);
  g_assert_null (sy_window_get_banner_text (fx->window));

  /* The data stops: the banner says so within stale-after-seconds plus the 1 s check. */
  sy_backend_set_simulator_paused (fx->backend, TRUE);
  paused_at = g_get_monotonic_time ();
  wait_for (banner_shown, fx->window, 2000 + 4000, "the stale-data banner");
  g_test_message ("Banner after %" G_GINT64_FORMAT " ms: %s", (g_get_monotonic_time () - paused_at) / 1000,
                  sy_window_get_banner_text (fx->window));
  spin (800);
  save_screenshot (GTK_WIDGET (fx->window), "ui-kiosk-stale.png");

  /* Data flows again: it clears itself. */
  sy_backend_set_simulator_paused (fx->backend, FALSE);
  wait_for (banner_hidden, fx->window, 5000, "the banner to clear");

  /* Started without --kiosk and no PIN: leaving needs none. */
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.toggle-kiosk", NULL);
  g_assert_false (sy_window_get_kiosk (fx->window));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.preferences", NULL));
  g_assert_cmpuint (count_preferences_windows (), ==, 1);
}

/* --kiosk: leaving needs the PIN; without one it is refused. */
static void
test_kiosk_locked (ConsoleFixture *fx,
                   gconstpointer   data)
{
  g_assert_true (sy_window_get_kiosk (fx->window));

  /* No PIN: refused. */
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.toggle-kiosk", NULL);
  spin (200);
  g_assert_true (sy_window_get_kiosk (fx->window));

  /* A PIN: the wrong one is refused, the right one lets the operator out. */
  sy_settings_set_kiosk_pin (fx->settings, "2468");
  g_assert_true (sy_settings_check_kiosk_pin (fx->settings, "2468"));
  g_assert_false (sy_settings_check_kiosk_pin (fx->settings, "1111"));
  g_assert_cmpuint (strlen (g_settings_get_string (sy_settings_get_settings (fx->settings), "kiosk-pin-hash")), ==, 64);
}

/* (d) API Access: create a credential through the UI, see it over REST, revoke it. */

typedef struct
{
  SyClient *client;
  JsonNode *result;
  GError   *error;
  gboolean  done;
} RestCall;

static void
rest_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  RestCall *call = user_data;

  call->result = sy_client_request_finish (SY_CLIENT (object), result, &call->error);
  call->done = TRUE;
}

static gboolean
rest_done (gpointer data)
{
  return ((RestCall *) data)->done;
}

static JsonNode *
rest_get (SyClient   *client,
          const char *path)
{
  RestCall call = { client, NULL, NULL, FALSE };

  sy_client_request_async (client, "GET", path, NULL, NULL, rest_cb, &call);
  wait_for (rest_done, &call, WAIT_MS, path);
  g_assert_no_error (call.error);

  return call.result;
}

typedef struct
{
  SyApiAccessPage *page;
  guint            n;
} ApiWatch;

/* The secret dialog (a new one may reuse the address of the one destroyed before it). */
static gboolean
secret_dialog (gpointer data)
{
  ApiWatch *watch = data;
  GtkWindow *dialog = sy_api_access_page_get_dialog (watch->page);

  return dialog != NULL && find_named (GTK_WIDGET (dialog), "secret-label") != NULL;
}

static gboolean
n_clients_is (gpointer data)
{
  ApiWatch *watch = data;

  return sy_api_access_page_get_n_clients (watch->page) == watch->n;
}

static void
test_api_access (ConsoleFixture *fx,
                 gconstpointer   data)
{
  SyApiAccessPage *page = SY_API_ACCESS_PAGE (sy_window_get_page (fx->window, "api-access"));
  ApiWatch watch = { page, 0 };
  g_autoptr(JsonNode) client = NULL;
  g_autoptr(JsonNode) revoked = NULL;
  g_autofree char *client_id = NULL;
  g_autofree char *path = NULL;
  GtkWindow *dialog;
  GtkWidget *entry, *check, *secret, *id_label;

  sy_window_set_visible_page (fx->window, "api-access");
  spin (500);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "api.create", NULL));
  dialog = sy_api_access_page_get_dialog (page);
  g_assert_nonnull (dialog);
  g_assert_true (ADW_IS_MESSAGE_DIALOG (dialog));
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "create"));

  entry = find_named (GTK_WIDGET (dialog), "name-entry");
  g_assert_nonnull (entry);
  gtk_editable_set_text (GTK_EDITABLE (entry), "Billing export");
  check = find_named (GTK_WIDGET (dialog), "meters:read");
  g_assert_nonnull (check);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
  check = find_named (GTK_WIDGET (dialog), "analytics:read");
  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "create"));
  spin (300);
  save_screenshot (GTK_WIDGET (dialog), "ui-api-create.png");

  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "create");
  gtk_window_destroy (dialog);
  wait_for (secret_dialog, &watch, WAIT_MS, "the secret dialog");

  dialog = sy_api_access_page_get_dialog (page);
  secret = find_named (GTK_WIDGET (dialog), "secret-label");
  id_label = find_named (GTK_WIDGET (dialog), "client-id-label");
  g_assert_nonnull (secret);
  g_assert_nonnull (id_label);
  g_assert_cmpuint (strlen (gtk_label_get_label (GTK_LABEL (secret))), >=, 20);
  client_id = g_strdup (gtk_label_get_label (GTK_LABEL (id_label)));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (dialog), "secret.copy", "s",
                                             gtk_label_get_label (GTK_LABEL (secret))));
  spin (300);
  save_screenshot (GTK_WIDGET (dialog), "ui-api-secret.png");
  gtk_window_destroy (dialog);

  /* It exists, with the scopes ticked. */
  path = g_strdup_printf ("/api/auth/clients/%s", client_id);
  client = rest_get (fx->client, path);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (client), "name"), ==, "Billing export");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (client), "scopes"), ==,
                   "meters:read analytics:read");
  g_assert_true (json_object_get_null_member (json_node_get_object (client), "revoked_at"));

  watch.n = 1;
  wait_for (n_clients_is, &watch, WAIT_MS, "the list to show the new credential");
  spin (500);
  save_screenshot (GTK_WIDGET (fx->window), "ui-api-access.png");

  /* Revoke, confirming in the destructive dialog. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "api.revoke", "s", client_id));
  dialog = sy_api_access_page_get_dialog (page);
  g_assert_true (ADW_IS_MESSAGE_DIALOG (dialog));
  g_assert_cmpint (adw_message_dialog_get_response_appearance (ADW_MESSAGE_DIALOG (dialog), "revoke"), ==,
                   ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "revoke");
  gtk_window_destroy (dialog);

  watch.n = 0;
  wait_for (n_clients_is, &watch, WAIT_MS, "the credential to leave the list");
  revoked = rest_get (fx->client, path);
  g_assert_false (json_object_get_null_member (json_node_get_object (revoked), "revoked_at"));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  adw_init ();
  sy_window_load_style ();

  g_test_add ("/switchyard/ui/console/overview", ConsoleFixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_overview, fixture_teardown);
  g_test_add ("/switchyard/ui/console/meters", ConsoleFixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_meters, fixture_teardown);
  g_test_add ("/switchyard/ui/console/kiosk", ConsoleFixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_kiosk, fixture_teardown);
  g_test_add ("/switchyard/ui/console/kiosk-locked", ConsoleFixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_kiosk_locked, fixture_teardown);
  g_test_add ("/switchyard/ui/console/api-access", ConsoleFixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_api_access, fixture_teardown);

  return g_test_run ();
}
