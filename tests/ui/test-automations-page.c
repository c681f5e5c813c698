/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "sy-automations-page.h"
#include "sy-ui-test-util.h"

/* The Automations page against a real in-process backend with the demo site: a rule made
 * through the page's editor, its switch, a JSONLogic error with its path, a dry run, and the
 * deliveries its annotate action makes from the demo's readings. Screenshots go to the build
 * dir. The fixture is test-console.c's. */

typedef struct
{
  GtkWidget  *root;
  const char *name;
} Named;

static gboolean
named_exists (gpointer data)
{
  Named *named = data;

  return find_named (named->root, named->name) != NULL;
}

static GtkWidget *
wait_named (GtkWidget  *root,
            const char *name)
{
  Named named = { root, name };

  wait_for (named_exists, &named, WAIT_MS, name);
  return find_named (root, name);
}

static gboolean
label_shown (gpointer data)
{
  GtkWidget *label = data;

  return gtk_widget_get_visible (label) && gtk_label_get_label (GTK_LABEL (label))[0] != '\0';
}

typedef struct
{
  GtkLabel   *label;
  const char *text;
} LabelWatch;

static gboolean
label_contains (gpointer data)
{
  LabelWatch *watch = data;

  return gtk_widget_get_visible (GTK_WIDGET (watch->label)) &&
         strstr (gtk_label_get_label (watch->label), watch->text) != NULL;
}

static gboolean
editing_saved (gpointer data)
{
  return sy_automations_page_get_editing_id (data) > 0;
}

static gboolean
has_deliveries (gpointer data)
{
  return sy_automations_page_get_n_deliveries (data) > 0;
}

typedef struct
{
  ConsoleFixture *fx;
  char           *path;
} RestWatch;

static gboolean
rule_disabled (gpointer data)
{
  RestWatch *watch = data;
  g_autoptr(JsonObject) rule = call (watch->fx, "GET", watch->path, NULL);

  return !json_object_get_boolean_member (rule, "enabled");
}

static gboolean
rule_evaluated (gpointer data)
{
  RestWatch *watch = data;
  g_autoptr(JsonObject) rule = call (watch->fx, "GET", watch->path, NULL);

  return json_object_get_int_member (json_object_get_object_member (rule, "counters"), "evaluated") > 0;
}

static void
set_text (GtkWidget  *view,
          const char *text)
{
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)), text, -1);
}

static void
test_automations (ConsoleFixture *fx,
                  gconstpointer   data)
{
  SyAutomationsPage *page = SY_AUTOMATIONS_PAGE (sy_window_get_page (fx->window, "automations"));
  GtkWidget *root = GTK_WIDGET (page);
  g_autoptr(JsonObject) action = NULL;
  g_autoptr(JsonObject) rules = NULL;
  g_autoptr(JsonObject) deliveries = NULL;
  g_autofree char *check_name = NULL;
  g_autofree char *row_name = NULL;
  g_autofree char *switch_name = NULL;
  g_autofree char *deliveries_path = NULL;
  GtkWidget *check, *row, *toggle, *error_label, *dry_label;
  LabelWatch watch;
  RestWatch rest = { fx, NULL };
  gint64 action_id, rule_id;

  g_assert_nonnull (page);
  action = call (fx, "POST", "/api/automations/actions",
                 "{\"name\":\"Timeline note\",\"type\":\"annotate\",\"text\":\"{event.total_power} W\"}");
  action_id = json_object_get_int_member (action, "id");

  sy_window_set_visible_page (fx->window, "automations");
  g_assert_cmpstr (sy_window_get_visible_page (fx->window), ==, "automations");
  sy_automations_page_set_view (page, "rules");

  /* The action shows up in the editor's list of actions to run. */
  check_name = g_strdup_printf ("action-%" G_GINT64_FORMAT, action_id);
  check = wait_named (root, check_name);
  g_assert_true (GTK_IS_CHECK_BUTTON (check));

  /* A JSONLogic error comes back with its path, shown next to the condition. */
  gtk_editable_set_text (GTK_EDITABLE (find_named (root, "rule-name")), "Every reading");
  gtk_editable_set_text (GTK_EDITABLE (find_named (root, "rule-dedupe")), "meter:{meter_id}");
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (find_named (root, "rule-throttle")), 3600);
  set_text (find_named (root, "rule-jsonlogic"), "{\"and\": [true, {\"nope\": [1]}]}");
  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
  error_label = find_named (root, "jsonlogic-error");
  g_assert_false (gtk_widget_get_visible (error_label));
  g_assert_true (gtk_widget_activate_action (root, "automations.save-rule", NULL));
  wait_for (label_shown, error_label, WAIT_MS, "the JSONLogic error");
  g_test_message ("JSONLogic error: %s", gtk_label_get_label (GTK_LABEL (error_label)));
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (error_label)), "jsonlogic.and[1].nope"));
  rules = call (fx, "GET", "/api/automations/rules", NULL);
  g_assert_cmpint (json_object_get_int_member (rules, "count"), ==, 0);
  g_clear_pointer (&rules, json_object_unref);

  /* A valid rule: every demo reading matches, once an hour per meter. */
  set_text (find_named (root, "rule-jsonlogic"), "{\">\": [{\"var\": [\"event.total_power\", 0]}, -1000000]}");
  g_assert_true (gtk_widget_activate_action (root, "automations.save-rule", NULL));
  wait_for (editing_saved, page, WAIT_MS, "the rule to be saved");
  g_assert_false (gtk_widget_get_visible (error_label));
  rule_id = sy_automations_page_get_editing_id (page);
  rules = call (fx, "GET", "/api/automations/rules", NULL);
  g_assert_cmpint (json_object_get_int_member (rules, "count"), ==, 1);
  {
    JsonObject *rule = json_array_get_object_element (json_object_get_array_member (rules, "results"), 0);
    JsonArray *actions = json_object_get_array_member (rule, "rule_actions");

    g_assert_cmpstr (json_object_get_string_member (rule, "name"), ==, "Every reading");
    g_assert_cmpint (json_object_get_int_member (rule, "throttle_seconds"), ==, 3600);
    g_assert_cmpstr (json_object_get_string_member (rule, "dedupe_template"), ==, "meter:{meter_id}");
    g_assert_cmpint (json_array_get_length (actions), ==, 1);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (actions, 0), "action_id"), ==, action_id);
  }

  /* It is listed, with its counters. */
  row_name = g_strdup_printf ("rule-%" G_GINT64_FORMAT, rule_id);
  row = wait_named (root, row_name);
  g_assert_true (ADW_IS_ACTION_ROW (row));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "evaluated"));
  g_assert_cmpuint (sy_automations_page_get_n_rules (page), ==, 1);

  /* A dry run of the editor's rule. */
  dry_label = find_named (root, "dry-run-result");
  set_text (find_named (root, "dry-run-event"), "{\"meter_id\": 1, \"total_power\": 6000}");
  g_assert_true (gtk_widget_activate_action (root, "automations.dry-run", NULL));
  watch.label = GTK_LABEL (dry_label);
  watch.text = "Matched: yes";
  wait_for (label_contains, &watch, WAIT_MS, "the dry run to match");
  g_test_message ("Dry run:\n%s", gtk_label_get_label (GTK_LABEL (dry_label)));
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (dry_label)), "Timeline note"));
  set_text (find_named (root, "dry-run-event"), "{\"meter_id\": 1, \"total_power\": -2000000}");
  g_assert_true (gtk_widget_activate_action (root, "automations.dry-run", NULL));
  watch.text = "Matched: no";
  wait_for (label_contains, &watch, WAIT_MS, "the dry run not to match");

  /* The demo's readings are evaluated, and its counters come to the list. */
  rest.path = g_strdup_printf ("/api/automations/rules/%" G_GINT64_FORMAT, rule_id);
  wait_for (rule_evaluated, &rest, WAIT_MS, "the rule to evaluate a demo reading");
  spin (4000);
  save_screenshot (GTK_WIDGET (fx->window), "ui-automations-rules.png");

  /* The deliveries cockpit lists the annotate deliveries. */
  sy_automations_page_set_view (page, "deliveries");
  wait_for (has_deliveries, page, 3 * WAIT_MS, "a delivery in the cockpit");
  deliveries_path = g_strdup_printf ("/api/automations/deliveries?action_id=%" G_GINT64_FORMAT, action_id);
  deliveries = call (fx, "GET", deliveries_path, NULL);
  g_assert_cmpint (json_object_get_int_member (deliveries, "count"), >, 0);
  {
    JsonObject *first = json_array_get_object_element (json_object_get_array_member (deliveries, "results"), 0);
    g_autofree char *delivery_name = g_strdup_printf ("delivery-%" G_GINT64_FORMAT,
                                                      json_object_get_int_member (first, "id"));

    wait_named (root, delivery_name);
  }
  spin (1500);
  save_screenshot (GTK_WIDGET (fx->window), "ui-automations-deliveries.png");

  /* Kiosk mode: no writes. */
  sy_automations_page_set_view (page, "rules");
  sy_window_set_kiosk (fx->window, TRUE);
  sy_window_set_visible_page (fx->window, "automations");
  switch_name = g_strdup_printf ("rule-switch-%" G_GINT64_FORMAT, rule_id);
  g_assert_false (gtk_widget_get_sensitive (wait_named (root, switch_name)));
  g_assert_false (gtk_widget_get_visible (find_named (root, "rule-save")));
  gtk_editable_set_text (GTK_EDITABLE (find_named (root, "rule-name")), "Changed in kiosk mode");
  gtk_widget_activate_action (root, "automations.save-rule", NULL);
  spin (1000);
  {
    g_autoptr(JsonObject) rule = call (fx, "GET", rest.path, NULL);

    g_assert_cmpstr (json_object_get_string_member (rule, "name"), ==, "Every reading");
  }
  sy_window_set_kiosk (fx->window, FALSE);
  sy_window_set_visible_page (fx->window, "automations");

  /* Switching the rule off goes to the backend. */
  toggle = wait_named (root, switch_name);
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (toggle)));
  g_assert_true (gtk_widget_get_sensitive (toggle));
  gtk_switch_set_active (GTK_SWITCH (toggle), FALSE);
  wait_for (rule_disabled, &rest, WAIT_MS, "the rule to be disabled");

  g_free (rest.path);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  adw_init ();
  sy_window_load_style ();

  g_test_add ("/switchyard/ui/automations/page", ConsoleFixture, GINT_TO_POINTER (FALSE),
              fixture_setup, test_automations, fixture_teardown);

  return g_test_run ();
}
