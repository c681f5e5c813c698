/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <libsoup/soup.h>

#include "sy-pq-page.h"
#include "sy-ui-test-util.h"

/* The Power Quality page against a real in-process backend with the demo site: readings posted
 * through REST as a new meter of the demo site make a dip that the table lists open,
 * then closed; the detail shows the voltage trace; acknowledging with a note shows in REST; in
 * kiosk mode an interruption raises the critical banner and acknowledging is off. Screenshots
 * ui-pq-list.png and ui-pq-detail.png go to the build dir. The fixture is sy-ui-test-util's. */

/* The fixture's stream carries only data.ingested; this page lives on pq.event and
 * protection.event, as the application subscribes them. */
static void
pq_fixture_setup (ConsoleFixture *fx,
                  gconstpointer   data)
{
  static const char * const topics[] = { "data.ingested", "pq.event", "protection.event", NULL };

  fixture_setup (fx, data);
  sy_client_stop_stream (fx->client);
  sy_client_start_stream (fx->client, topics);
}

/* Posts @body as the meter (X-Device-Key), blocking: the backend has its own thread. */
static void
post_as_meter (ConsoleFixture *fx,
               const char     *key,
               const char     *path,
               const char     *body)
{
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 10, NULL);
  g_autofree char *url = g_strdup_printf ("%s%s", sy_backend_get_base_url (fx->backend), path);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr(GBytes) request = g_bytes_new (body, strlen (body));
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GError) error = NULL;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "X-Device-Key", key);
  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  response = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  if (soup_message_get_status (msg) != 201 && soup_message_get_status (msg) != 202)
    g_test_message ("POST %s: %u %.*s", path, soup_message_get_status (msg),
                    (int) g_bytes_get_size (response), (const char *) g_bytes_get_data (response, NULL));
  g_assert_cmpuint (soup_message_get_status (msg) / 100, ==, 2);
}

static void
post_reading (ConsoleFixture *fx,
              const char     *key,
              double          va,
              double          vb,
              double          vc)
{
  g_autofree char *body = g_strdup_printf ("{\"voltage_a\":%.1f,\"voltage_b\":%.1f,\"voltage_c\":%.1f}", va, vb, vc);

  post_as_meter (fx, key, "/api/energy/energy-data", body);
}

/* A row of the protection list (@data) names breaker Q3. */
static gboolean
lists_trip (gpointer data)
{
  for (GtkWidget *row = gtk_widget_get_first_child (data); row != NULL; row = gtk_widget_get_next_sibling (row))
    {
      if (ADW_IS_PREFERENCES_ROW (row) && strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), "Q3") != NULL)
        return TRUE;
    }
  return FALSE;
}

static gboolean
model_loaded (gpointer data)
{
  return sy_site_model_get_loaded (SY_SITE_MODEL (data));
}

static gboolean
page_idle (gpointer data)
{
  return !sy_pq_page_get_busy (SY_PQ_PAGE (data));
}

static gboolean
detail_idle (gpointer data)
{
  return !sy_pq_page_get_detail_busy (SY_PQ_PAGE (data));
}

typedef struct
{
  SyPqPage   *page;
  gint64      id;
  const char *state;
} EventState;

static gboolean
event_in_state (gpointer data)
{
  EventState *es = data;

  return g_strcmp0 (sy_pq_page_get_event_state (es->page, es->id), es->state) == 0;
}

static gboolean
event_acknowledged (gpointer data)
{
  EventState *es = data;

  return sy_pq_page_get_event_acknowledged (es->page, es->id);
}

/* The newest event of @type of @meter_id in REST, or 0 if there is none. */
typedef struct
{
  ConsoleFixture *fx;
  gint64          meter_id;
  const char     *type;
  gint64          newer_than;
  gint64          id;
} EventQuery;

static gboolean
rest_has_event (gpointer data)
{
  EventQuery *q = data;
  g_autofree char *path = g_strdup_printf ("/api/energy/pq/events?meter_id=%" G_GINT64_FORMAT "&type=%s&limit=1",
                                           q->meter_id, q->type);
  g_autoptr(JsonObject) page = call (q->fx, "GET", path, NULL);
  JsonArray *results = json_object_get_array_member (page, "results");

  if (json_array_get_length (results) == 0)
    return FALSE;
  q->id = json_object_get_int_member (json_array_get_object_element (results, 0), "id");
  return q->id > q->newer_than;
}

static gboolean
alert_shown (gpointer data)
{
  GtkWidget *label = data;
  GtkWidget *revealer = gtk_widget_get_ancestor (label, GTK_TYPE_REVEALER);

  return gtk_revealer_get_reveal_child (GTK_REVEALER (revealer)) &&
         strstr (gtk_label_get_label (GTK_LABEL (label)), sy_pq_event_type_label ("interruption")) != NULL;
}

static gboolean
summary_loaded (gpointer data)
{
  return sy_pq_page_get_summary_loaded (SY_PQ_PAGE (data));
}

static void
test_pq (ConsoleFixture *fx,
         gconstpointer   data)
{
  SyPqPage *page = SY_PQ_PAGE (sy_window_get_page (fx->window, "power-quality"));
  GtkWidget *root = GTK_WIDGET (fx->window);
  SySiteModel *model = sy_window_get_model (fx->window);
  g_autoptr(JsonObject) created = NULL;
  g_autofree char *create_body = NULL;
  g_autoptr(JsonObject) event = NULL;
  g_autofree char *event_path = NULL;
  g_autofree char *key = NULL;
  EventQuery dip = { fx, 0, "dip", 0, 0 };
  EventQuery interruption = { fx, 0, "interruption", 0, 0 };
  EventState es = { page, 0, NULL };
  GtkWidget *alert_label;
  GtkWidget *ack_button;
  JsonObject *ack;

  g_assert_nonnull (page);
  sy_window_set_visible_page (fx->window, "power-quality");
  g_assert_cmpstr (sy_window_get_visible_page (fx->window), ==, "power-quality");

  wait_for (model_loaded, model, WAIT_MS, "the site model");
  wait_for (page_idle, page, WAIT_MS, "the first load");
  g_assert_true (sy_pq_page_get_summary_loaded (page));

  /* Post as a new meter of the demo site (rotating a demo meter's key would make the simulator
   * warn, which is fatal in tests). */
  create_body = g_strdup_printf ("{\"name\":\"PQ test feeder\",\"site_id\":%" G_GINT64_FORMAT
                                 ",\"kind\":\"submeter\",\"phases\":3,\"nominal_voltage\":230}",
                                 sy_site_model_get_site_id (model));
  created = call (fx, "POST", "/api/energy/meters", create_body);
  dip.meter_id = interruption.meter_id = json_object_get_int_member (created, "id");
  key = g_strdup (json_object_get_string_member (created, "device_key"));
  g_assert_nonnull (key);

  /* Whatever the simulator made before is older. */
  rest_has_event (&dip);
  dip.newer_than = dip.id;
  rest_has_event (&interruption);
  interruption.newer_than = interruption.id;

  /* A dip on phase B: the table lists it open (from pq.event on the stream)... */
  post_reading (fx, key, 230, 230, 230);
  spin (200);
  post_reading (fx, key, 231, 180, 229);
  wait_for (rest_has_event, &dip, WAIT_MS, "the dip in REST");
  es.id = dip.id;
  es.state = "open";
  wait_for (event_in_state, &es, WAIT_MS, "the open dip in the table");
  spin (600);
  save_screenshot (root, "ui-pq-list.png");

  /* ...then closed. */
  post_reading (fx, key, 230, 230, 230);
  es.state = "closed";
  wait_for (event_in_state, &es, WAIT_MS, "the closed dip in the table");
  g_assert_false (sy_pq_page_get_event_acknowledged (page, dip.id));

  /* The detail: the voltage around it, one series per phase, with points. */
  g_assert_true (sy_pq_page_select_event (page, dip.id));
  g_assert_true (gtk_widget_get_mapped (find_named (root, "pq-detail-chart")));
  wait_for (detail_idle, page, WAIT_MS, "the voltage trace");
  spin (500);
  g_assert_cmpuint (sy_chart_get_drawn_points (sy_pq_page_get_detail_chart (page)), >, 0);

  /* Acknowledge with a note: REST has it, the table shows it. */
  ack_button = find_named (root, "pq-acknowledge");
  g_assert_true (gtk_widget_get_sensitive (ack_button));
  gtk_editable_set_text (GTK_EDITABLE (find_named (root, "pq-note")), "Checked the incomer");
  save_screenshot (root, "ui-pq-detail.png");
  gtk_widget_activate_action (GTK_WIDGET (page), "pq.acknowledge", NULL);
  wait_for (event_acknowledged, &es, WAIT_MS, "the acknowledgement");
  event_path = g_strdup_printf ("/api/energy/pq/events/%" G_GINT64_FORMAT, dip.id);
  event = call (fx, "GET", event_path, NULL);
  g_assert_cmpstr (json_object_get_string_member (event, "state"), ==, "closed");
  ack = json_object_get_object_member (event, "acknowledged");
  g_assert_nonnull (ack);
  g_assert_cmpstr (json_object_get_string_member (ack, "note"), ==, "Checked the incomer");
  g_assert_false (gtk_widget_get_sensitive (ack_button));

  /* Kiosk mode: an interruption raises the critical banner; acknowledging is off. */
  alert_label = find_named (root, "critical-alert");
  g_assert_nonnull (alert_label);
  gtk_widget_activate_action (root, "win.dismiss-alert", NULL);
  g_assert_false (gtk_revealer_get_reveal_child (GTK_REVEALER (gtk_widget_get_ancestor (alert_label, GTK_TYPE_REVEALER))));
  sy_window_set_kiosk (fx->window, TRUE);
  sy_window_set_visible_page (fx->window, "overview");
  post_reading (fx, key, 5, 5, 5);
  wait_for (alert_shown, alert_label, WAIT_MS, "the critical banner");
  g_test_message ("Banner: %s", gtk_label_get_label (GTK_LABEL (alert_label)));
  wait_for (rest_has_event, &interruption, WAIT_MS, "the interruption in REST");
  es.id = interruption.id;
  es.state = "open";
  wait_for (event_in_state, &es, WAIT_MS, "the open interruption in the table");

  sy_window_set_visible_page (fx->window, "power-quality");
  g_assert_true (sy_pq_page_select_event (page, interruption.id));
  spin (300);
  g_assert_false (gtk_widget_get_sensitive (ack_button));
  gtk_widget_activate_action (GTK_WIDGET (page), "pq.acknowledge", NULL);
  spin (500);
  g_assert_false (sy_pq_page_get_event_acknowledged (page, interruption.id));

  /* Back out of kiosk mode: acknowledging is possible again. */
  sy_window_set_kiosk (fx->window, FALSE);
  spin (200);
  g_assert_true (gtk_widget_get_sensitive (ack_button));
  post_reading (fx, key, 230, 230, 230);
  es.state = "closed";
  wait_for (event_in_state, &es, WAIT_MS, "the closed interruption in the table");

  /* The weekly summary of the selected meter loads. */
  wait_for (summary_loaded, page, WAIT_MS, "the weekly summary");
  g_assert_nonnull (gtk_widget_get_first_child (find_named (root, "pq-summary")));
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (find_named (root, "pq-view-stack")), "summary");
  spin (300);
  save_screenshot (root, "ui-pq-summary.png");

  /* A breaker trip reported by the meter shows in the protection list, live. */
  g_assert_false (lists_trip (find_named (root, "pq-protection")));
  post_as_meter (fx, key, "/api/energy/protection/events",
                 "{\"type\":\"trip\",\"breaker_id\":\"Q3\",\"cause\":\"overcurrent\"}");
  wait_for (lists_trip, find_named (root, "pq-protection"), WAIT_MS, "the trip in the protection list");
  g_assert_cmpuint (sy_pq_page_get_n_protection_events (page), >, 0);
  wait_for (page_idle, page, WAIT_MS, "the last loads");
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  adw_init ();
  sy_window_load_style ();

  g_test_add ("/switchyard/ui/pq/page", ConsoleFixture, GINT_TO_POINTER (FALSE),
              pq_fixture_setup, test_pq, fixture_teardown);

  return g_test_run ();
}
