/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-automations-page"

#include "config.h"

#include <glib/gi18n.h>

#include "sy-automations-page.h"
#include "sy-format.h"

/* How often the visible page re-reads counters, deliveries and approvals. */
#define REFRESH_SECONDS 3
/* The cockpit shows the first page of deliveries, failures first. */
#define DELIVERIES_LIMIT 100

static const char * const event_keys[] = {
  "data.ingested", "pq.event", "protection.event", "alert.triggered",
};

struct _SyAutomationsPage
{
  GtkWidget       parent_instance;

  SyClient       *client;
  SySettings     *settings;
  GCancellable   *cancellable;
  gboolean        read_only;
  guint           refresh_id;
  guint           n_rules;
  guint           n_deliveries;
  gint64          editing_id;
  GHashTable     *rules;          /* gint64 id → JsonObject */
  GHashTable     *action_names;   /* gint64 id → char * */
  GtkWindow      *pin_dialog;

  /* Template widgets. */
  AdwViewStack   *view_stack;
  GtkListBox     *rules_list;
  AdwPreferencesGroup *editor_group;
  GtkWidget      *new_button;
  GtkWidget      *save_button;
  AdwEntryRow    *name_row;
  AdwComboRow    *event_row;
  GtkSpinButton  *throttle_spin;
  AdwEntryRow    *dedupe_row;
  GtkLabel       *field_error_label;
  GtkTextView    *jsonlogic_view;
  GtkLabel       *jsonlogic_error_label;
  GtkListBox     *actions_list;
  GtkTextView    *event_view;
  GtkLabel       *dry_run_label;
  GtkLabel       *counts_label;
  GtkLabel       *success_label;
  GtkLabel       *latency_label;
  GtkLabel       *queue_label;
  GtkListBox     *breakers_list;
  GtkListBox     *deliveries_list;
  GtkListBox     *approvals_list;
  GtkStack       *approvals_stack;
};

G_DEFINE_FINAL_TYPE (SyAutomationsPage, sy_automations_page, GTK_TYPE_WIDGET)

static void
toast (SyAutomationsPage *self,
       const char        *message)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    {
      AdwToast *t = adw_toast_new (message);

      adw_toast_set_timeout (t, 5);
      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), t);
    }
  else
    g_message ("%s", message);
}

static gint64 *
int64_dup (gint64 value)
{
  return g_memdup2 (&value, sizeof value);
}

static void
clear_list (GtkListBox *list)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

static void
add_placeholder (GtkListBox *list,
                 const char *text)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), text);
  gtk_widget_add_css_class (row, "dim-label");
  gtk_list_box_append (list, row);
}

static char *
text_view_get_text (GtkTextView *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static gint64
member_int (JsonObject *obj,
            const char *name)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return -1;
  return json_node_get_int (node);
}

static const char *
member_string (JsonObject *obj,
               const char *name)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static char *
node_to_text (JsonNode *node,
              gboolean  pretty)
{
  if (node == NULL)
    return g_strdup ("null");
  return json_to_string (node, pretty);
}

/* Problem details: "<field>: <detail>" names the field (sy_error_set_field). */

static char *
error_field (const char *message)
{
  const char *colon = message != NULL ? strstr (message, ": ") : NULL;

  if (colon == NULL || colon == message)
    return NULL;
  for (const char *p = message; p < colon; p++)
    {
      if (g_ascii_isspace (*p))
        return NULL;
    }
  return g_strndup (message, colon - message);
}

static void
clear_errors (SyAutomationsPage *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->field_error_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->jsonlogic_error_label), FALSE);
  gtk_widget_remove_css_class (GTK_WIDGET (self->name_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->dedupe_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->jsonlogic_view), "error");
}

static void
show_error (SyAutomationsPage *self,
            const char        *message)
{
  g_autofree char *field = error_field (message);

  clear_errors (self);
  if (field != NULL && g_str_has_prefix (field, "jsonlogic"))
    {
      gtk_label_set_label (self->jsonlogic_error_label, message);
      gtk_widget_set_visible (GTK_WIDGET (self->jsonlogic_error_label), TRUE);
      return;
    }

  if (g_strcmp0 (field, "name") == 0)
    gtk_widget_add_css_class (GTK_WIDGET (self->name_row), "error");
  else if (g_strcmp0 (field, "dedupe_template") == 0)
    gtk_widget_add_css_class (GTK_WIDGET (self->dedupe_row), "error");
  gtk_label_set_label (self->field_error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->field_error_label), TRUE);
}

/* The rules list. */

static gboolean
rule_switch_state_set_cb (GtkSwitch         *toggle,
                          gboolean           state,
                          SyAutomationsPage *self)
{
  gint64 *id = g_object_get_data (G_OBJECT (toggle), "rule-id64");

  if (id == NULL || self->read_only)
    return TRUE;   /* refused: the switch keeps its state */

  gtk_widget_activate_action (GTK_WIDGET (self), "automations.toggle-rule", "(xb)", *id, state);
  return FALSE;
}

static GtkWidget *
create_rule_row (SyAutomationsPage *self,
                 JsonObject        *rule)
{
  gint64 id = member_int (rule, "id");
  JsonObject *counters = json_object_get_member (rule, "counters") != NULL &&
                         JSON_NODE_HOLDS_OBJECT (json_object_get_member (rule, "counters"))
                         ? json_object_get_object_member (rule, "counters") : NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *name = g_strdup_printf ("rule-%" G_GINT64_FORMAT, id);
  g_autofree char *switch_name = g_strdup_printf ("rule-switch-%" G_GINT64_FORMAT, id);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *toggle;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), member_string (rule, "name") ?: "");
  /* Translators: a rule's event type and counters, e.g.
   * "data.ingested · evaluated 120 · matched 4 · throttled 2 · errors 0". */
  subtitle = g_strdup_printf (_("%s · evaluated %lld · matched %lld · throttled %lld · errors %lld"),
                              member_string (rule, "event_key") ?: "",
                              (long long) MAX (member_int (counters, "evaluated"), 0),
                              (long long) MAX (member_int (counters, "matched"), 0),
                              (long long) MAX (member_int (counters, "throttled"), 0),
                              (long long) MAX (member_int (counters, "errors"), 0));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_add_css_class (row, "numeric");
  gtk_widget_set_name (row, name);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "automations.edit-rule");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (row), g_variant_new_int64 (id));

  toggle = gtk_switch_new ();
  gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
  gtk_widget_set_name (toggle, switch_name);
  gtk_widget_set_tooltip_text (toggle, _("Enabled"));
  gtk_switch_set_active (GTK_SWITCH (toggle), json_object_get_boolean_member_with_default (rule, "enabled", FALSE));
  gtk_widget_set_sensitive (toggle, !self->read_only);
  /* The switch goes through the parameterised action automations.toggle-rule. */
  g_object_set_data_full (G_OBJECT (toggle), "rule-id64", int64_dup (id), g_free);
  g_signal_connect_object (toggle, "state-set", G_CALLBACK (rule_switch_state_set_cb), self, 0);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
  g_object_set_data (G_OBJECT (row), "switch", toggle);

  return row;
}

static void
rules_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(SyAutomationsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) rules = NULL;

  rules = sy_client_list_all_finish (SY_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (rules == NULL)
    {
      /* Translators: %s is the reason. */
      g_autofree char *text = g_strdup_printf (_("Could not list the rules: %s"), error->message);

      toast (self, text);
      return;
    }

  clear_list (self->rules_list);
  g_hash_table_remove_all (self->rules);
  self->n_rules = 0;

  for (guint i = 0; i < json_array_get_length (rules); i++)
    {
      JsonObject *rule = json_array_get_object_element (rules, i);
      GtkWidget *row;

      if (rule == NULL)
        continue;
      row = create_rule_row (self, rule);
      g_hash_table_replace (self->rules, int64_dup (member_int (rule, "id")), json_object_ref (rule));
      gtk_list_box_append (self->rules_list, row);
      self->n_rules++;
    }

  if (self->n_rules == 0)
    add_placeholder (self->rules_list, _("No rules yet"));
}

/* The actions a rule can run. */

static GHashTable *
checked_action_ids (SyAutomationsPage *self)
{
  GHashTable *ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->actions_list)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      GtkCheckButton *check = g_object_get_data (G_OBJECT (row), "check");
      gint64 *id = g_object_get_data (G_OBJECT (row), "action-id");

      if (check != NULL && id != NULL && gtk_check_button_get_active (check))
        g_hash_table_add (ids, int64_dup (*id));
    }

  return ids;
}

static void
set_checked_action_ids (SyAutomationsPage *self,
                        GHashTable        *ids)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->actions_list)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      GtkCheckButton *check = g_object_get_data (G_OBJECT (row), "check");
      gint64 *id = g_object_get_data (G_OBJECT (row), "action-id");

      if (check != NULL && id != NULL)
        gtk_check_button_set_active (check, ids != NULL && g_hash_table_contains (ids, id));
    }
}

static void
actions_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(SyAutomationsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) actions = NULL;
  g_autoptr(GHashTable) checked = NULL;
  guint n = 0;

  actions = sy_client_list_all_finish (SY_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (actions == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not list the actions: %s"), error->message);

      toast (self, text);
      return;
    }

  /* Rebuilt on every refresh: what the operator ticked survives it. */
  checked = checked_action_ids (self);
  clear_list (self->actions_list);
  g_hash_table_remove_all (self->action_names);

  for (guint i = 0; i < json_array_get_length (actions); i++)
    {
      JsonObject *action = json_array_get_object_element (actions, i);
      gint64 id = member_int (action, "id");
      g_autofree char *name = g_strdup_printf ("action-%" G_GINT64_FORMAT, id);
      GtkWidget *row, *check;

      if (action == NULL)
        continue;

      g_hash_table_replace (self->action_names, int64_dup (id), g_strdup (member_string (action, "name") ?: ""));
      row = adw_action_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), member_string (action, "name") ?: "");
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), member_string (action, "type") ?: "");
      check = gtk_check_button_new ();
      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      gtk_widget_set_name (check, name);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
      g_object_set_data (G_OBJECT (row), "check", check);
      g_object_set_data_full (G_OBJECT (row), "action-id", int64_dup (id), g_free);
      gtk_list_box_append (self->actions_list, row);
      n++;
    }

  set_checked_action_ids (self, checked);
  if (n == 0)
    add_placeholder (self->actions_list, _("No actions yet: create them through the REST API"));
}

/* The deliveries cockpit. */

static const char *
status_label (const char *status)
{
  if (g_strcmp0 (status, "pending") == 0)
    return C_("delivery", "pending");
  if (g_strcmp0 (status, "in_flight") == 0)
    return C_("delivery", "in flight");
  if (g_strcmp0 (status, "succeeded") == 0)
    return C_("delivery", "succeeded");
  if (g_strcmp0 (status, "failed") == 0)
    return C_("delivery", "failed");
  if (g_strcmp0 (status, "dead") == 0)
    return C_("delivery", "dead");
  return status != NULL ? status : "";
}

static GtkWidget *
create_delivery_row (SyAutomationsPage *self,
                     JsonObject        *delivery)
{
  gint64 id = member_int (delivery, "id");
  gint64 action_id = member_int (delivery, "action_id");
  const char *status = member_string (delivery, "status");
  const char *action_name = g_hash_table_lookup (self->action_names, &action_id);
  const char *last_error = member_string (delivery, "last_error");
  gint64 code = member_int (delivery, "response_code");
  gint64 latency = member_int (delivery, "latency_ms");
  gint64 updated = sy_parse_iso8601 (member_string (delivery, "updated_at"));
  gint64 attempts;
  gboolean failed = g_strcmp0 (status, "failed") == 0 || g_strcmp0 (status, "dead") == 0;
  g_autofree char *name = g_strdup_printf ("delivery-%" G_GINT64_FORMAT, id);
  g_autofree char *title = NULL;
  g_autofree char *fallback = NULL;
  g_autoptr(GString) subtitle = g_string_new (NULL);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon;

  if (action_name == NULL)
    /* Translators: an action known only by its id. */
    action_name = fallback = g_strdup_printf (_("Action %lld"), (long long) action_id);
  /* Translators: "Note on the timeline — failed". */
  title = g_strdup_printf (_("%s — %s"), action_name, status_label (status));
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);

  attempts = MAX (member_int (delivery, "attempts"), 0);
  /* Translators: the number of attempts of a delivery. */
  g_string_append_printf (subtitle, ngettext ("%lld attempt", "%lld attempts",
                                              (unsigned long) attempts), (long long) attempts);
  if (updated >= 0)
    {
      g_autofree char *when = sy_format_date_time (updated);

      g_string_append_printf (subtitle, " · %s", when);
    }
  if (code >= 0)
    /* Translators: an HTTP response code. */
    g_string_append_printf (subtitle, _(" · HTTP %lld"), (long long) code);
  if (latency >= 0)
    g_string_append_printf (subtitle, _(" · %lld ms"), (long long) latency);
  if (member_string (delivery, "destination") != NULL)
    g_string_append_printf (subtitle, " · %s", member_string (delivery, "destination"));
  if (last_error != NULL)
    g_string_append_printf (subtitle, " · %s", last_error);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  gtk_widget_add_css_class (row, "numeric");
  gtk_widget_set_name (row, name);

  icon = gtk_image_new_from_icon_name (failed ? "dialog-error-symbolic"
                                       : g_strcmp0 (status, "succeeded") == 0 ? "emblem-ok-symbolic"
                                       : "content-loading-symbolic");
  gtk_widget_add_css_class (icon, failed ? "error" : g_strcmp0 (status, "succeeded") == 0 ? "success" : "dim-label");
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);

  if (failed)
    {
      GtkWidget *button = gtk_button_new_with_mnemonic (_("_Retry"));

      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "automations.retry");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_int64 (id));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
    }

  return row;
}

static void
deliveries_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(SyAutomationsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *results;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node) ||
      !json_object_has_member (json_node_get_object (node), "results") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (node), "results")))
    {
      g_autofree char *text = g_strdup_printf (_("Could not list the deliveries: %s"),
                                               error ? error->message : _("unexpected answer"));

      toast (self, text);
      return;
    }

  results = json_object_get_array_member (json_node_get_object (node), "results");
  clear_list (self->deliveries_list);
  self->n_deliveries = 0;
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *delivery = json_array_get_object_element (results, i);

      if (delivery == NULL)
        continue;
      gtk_list_box_append (self->deliveries_list, create_delivery_row (self, delivery));
      self->n_deliveries++;
    }

  if (self->n_deliveries == 0)
    add_placeholder (self->deliveries_list, _("Nothing delivered yet"));
}

static const char *
breaker_label (const char *state)
{
  if (g_strcmp0 (state, "closed") == 0)
    /* Translators: circuit breaker state: deliveries flow. */
    return _("Closed — healthy");
  if (g_strcmp0 (state, "open") == 0)
    /* Translators: circuit breaker state: deliveries are held back. */
    return _("Open — paused after failures");
  if (g_strcmp0 (state, "half_open") == 0)
    /* Translators: circuit breaker state: one probe is let through. */
    return _("Half-open — probing");
  return state != NULL ? state : "";
}

static void
metrics_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(SyAutomationsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *counts_text = NULL;
  g_autofree char *success_text = NULL;
  g_autofree char *latency_text = NULL;
  g_autofree char *queue_text = NULL;
  JsonObject *metrics, *counts = NULL, *latency = NULL;
  JsonNode *rate, *breakers;
  gint64 p50, p95;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autofree char *text = g_strdup_printf (_("Could not read the delivery metrics: %s"),
                                               error ? error->message : _("unexpected answer"));

      toast (self, text);
      return;
    }

  metrics = json_node_get_object (node);
  if (json_object_has_member (metrics, "counts") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (metrics, "counts")))
    counts = json_object_get_object_member (metrics, "counts");
  if (json_object_has_member (metrics, "latency_ms") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (metrics, "latency_ms")))
    latency = json_object_get_object_member (metrics, "latency_ms");

  /* Translators: delivery counts by status. */
  counts_text = g_strdup_printf (_("%lld succeeded · %lld failed · %lld dead · %lld pending"),
                                 (long long) MAX (member_int (counts, "succeeded"), 0),
                                 (long long) MAX (member_int (counts, "failed"), 0),
                                 (long long) MAX (member_int (counts, "dead"), 0),
                                 (long long) (MAX (member_int (counts, "pending"), 0) +
                                              MAX (member_int (counts, "in_flight"), 0)));
  gtk_label_set_label (self->counts_label, counts_text);

  rate = json_object_get_member (metrics, "success_rate");
  if (rate != NULL && JSON_NODE_HOLDS_VALUE (rate))
    /* Translators: a percentage. */
    success_text = g_strdup_printf (_("%.1f %%"), json_node_get_double (rate) * 100.0);
  else
    success_text = g_strdup ("—");
  gtk_label_set_label (self->success_label, success_text);

  p50 = member_int (latency, "p50");
  p95 = member_int (latency, "p95");
  if (p50 >= 0 && p95 >= 0)
    /* Translators: latency percentiles in milliseconds. */
    latency_text = g_strdup_printf (_("p50 %lld ms · p95 %lld ms"), (long long) p50, (long long) p95);
  else
    latency_text = g_strdup ("—");
  gtk_label_set_label (self->latency_label, latency_text);

  queue_text = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (member_int (metrics, "queue_depth"), 0));
  gtk_label_set_label (self->queue_label, queue_text);

  clear_list (self->breakers_list);
  breakers = json_object_get_member (metrics, "breakers");
  if (breakers != NULL && JSON_NODE_HOLDS_ARRAY (breakers) && json_array_get_length (json_node_get_array (breakers)) > 0)
    {
      JsonArray *array = json_node_get_array (breakers);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonObject *breaker = json_array_get_object_element (array, i);
          const char *state = member_string (breaker, "state");
          g_autofree char *subtitle = NULL;
          GtkWidget *row = adw_action_row_new ();

          adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), member_string (breaker, "destination") ?: "");
          /* Translators: circuit breaker state, then its count of failures in a row. */
          subtitle = g_strdup_printf (_("%s · %lld consecutive failures"), breaker_label (state),
                                      (long long) MAX (member_int (breaker, "consecutive_failures"), 0));
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
          if (g_strcmp0 (state, "closed") != 0)
            gtk_widget_add_css_class (row, "warning");
          gtk_list_box_append (self->breakers_list, row);
        }
    }
  else
    add_placeholder (self->breakers_list, _("No webhook destinations yet"));
}

/* The approvals queue. */

static GtkWidget *
create_approval_row (SyAutomationsPage *self,
                     JsonObject        *approval)
{
  gint64 id = member_int (approval, "id");
  JsonObject *command = NULL;
  gint64 expires = sy_parse_iso8601 (member_string (approval, "expires_at"));
  g_autofree char *expires_text = expires >= 0 ? sy_format_date_time (expires) : g_strdup ("—");
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *name = g_strdup_printf ("approval-%" G_GINT64_FORMAT, id);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *approve, *reject;
  JsonNode *state;

  if (json_object_has_member (approval, "command") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (approval, "command")))
    command = json_object_get_object_member (approval, "command");
  state = command != NULL ? json_object_get_member (command, "state") : NULL;

  /* Translators: "Relay 2 of device 7 → on". */
  title = g_strdup_printf (_("Relay %lld of device %lld → %s"),
                           (long long) MAX (member_int (command, "relay"), 0),
                           (long long) MAX (member_int (command, "device_id"), 0),
                           state != NULL && JSON_NODE_HOLDS_VALUE (state) &&
                           (json_node_get_value_type (state) == G_TYPE_BOOLEAN ? json_node_get_boolean (state)
                            : g_strcmp0 (json_node_get_string (state), "on") == 0)
                           ? _("on") : _("off"));
  /* Translators: who asked for a relay command, and until when it can be approved. */
  subtitle = g_strdup_printf (_("Requested by %s · expires %s"), member_string (approval, "requested_by") ?: "—",
                              expires_text);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_name (row, name);

  reject = gtk_button_new_with_mnemonic (_("_Reject"));
  gtk_widget_set_valign (reject, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (reject, "destructive-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (reject), "automations.reject");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (reject), g_variant_new_int64 (id));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), reject);

  approve = gtk_button_new_with_mnemonic (_("_Approve"));
  gtk_widget_set_valign (approve, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (approve, "suggested-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (approve), "automations.approve");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (approve), g_variant_new_int64 (id));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), approve);

  return row;
}

static void
approvals_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SyAutomationsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) approvals = NULL;
  guint n = 0;

  approvals = sy_client_list_all_finish (SY_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (approvals == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not list the approvals: %s"), error->message);

      toast (self, text);
      return;
    }

  clear_list (self->approvals_list);
  for (guint i = 0; i < json_array_get_length (approvals); i++)
    {
      JsonObject *approval = json_array_get_object_element (approvals, i);

      if (approval == NULL)
        continue;
      gtk_list_box_append (self->approvals_list, create_approval_row (self, approval));
      n++;
    }

  gtk_stack_set_visible_child_name (self->approvals_stack, n > 0 ? "list" : "empty");
}

void
sy_automations_page_refresh (SyAutomationsPage *self)
{
  g_autofree char *deliveries = NULL;

  g_return_if_fail (SY_IS_AUTOMATIONS_PAGE (self));

  if (self->client == NULL)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  deliveries = g_strdup_printf ("/api/automations/deliveries?order=failures_first&limit=%d", DELIVERIES_LIMIT);
  sy_client_list_all_async (self->client, "/api/automations/actions", self->cancellable, actions_cb, g_object_ref (self));
  sy_client_list_all_async (self->client, "/api/automations/rules", self->cancellable, rules_cb, g_object_ref (self));
  sy_client_request_async (self->client, "GET", deliveries, NULL, self->cancellable, deliveries_cb, g_object_ref (self));
  sy_client_request_async (self->client, "GET", "/api/automations/deliveries/metrics", NULL, self->cancellable,
                           metrics_cb, g_object_ref (self));
  sy_client_list_all_async (self->client, "/api/automations/approvals?status=pending", self->cancellable,
                            approvals_cb, g_object_ref (self));
}

static gboolean
refresh_tick_cb (gpointer user_data)
{
  sy_automations_page_refresh (user_data);

  return G_SOURCE_CONTINUE;
}

/* The editor. */

static void
set_editing (SyAutomationsPage *self,
             JsonObject        *rule)
{
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autofree char *logic = NULL;
  const char *event_key;
  JsonNode *rule_actions;

  clear_errors (self);
  self->editing_id = rule != NULL ? member_int (rule, "id") : 0;
  adw_preferences_group_set_title (self->editor_group, rule != NULL ? _("Edit Rule") : _("New Rule"));

  gtk_editable_set_text (GTK_EDITABLE (self->name_row), rule != NULL ? member_string (rule, "name") ?: "" : "");
  gtk_editable_set_text (GTK_EDITABLE (self->dedupe_row), rule != NULL ? member_string (rule, "dedupe_template") ?: "" : "");
  gtk_spin_button_set_value (self->throttle_spin, rule != NULL ? MAX (member_int (rule, "throttle_seconds"), 0) : 0);

  event_key = rule != NULL ? member_string (rule, "event_key") : NULL;
  adw_combo_row_set_selected (self->event_row, 0);
  for (guint i = 0; i < G_N_ELEMENTS (event_keys); i++)
    {
      if (g_strcmp0 (event_keys[i], event_key) == 0)
        adw_combo_row_set_selected (self->event_row, i);
    }

  logic = rule != NULL ? node_to_text (json_object_get_member (rule, "jsonlogic"), TRUE) : g_strdup ("");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->jsonlogic_view), logic, -1);

  rule_actions = rule != NULL ? json_object_get_member (rule, "rule_actions") : NULL;
  if (rule_actions != NULL && JSON_NODE_HOLDS_ARRAY (rule_actions))
    {
      JsonArray *array = json_node_get_array (rule_actions);

      for (guint i = 0; i < json_array_get_length (array); i++)
        g_hash_table_add (ids, int64_dup (member_int (json_array_get_object_element (array, i), "action_id")));
    }
  set_checked_action_ids (self, ids);
}

static void
new_rule_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  SyAutomationsPage *self = SY_AUTOMATIONS_PAGE (widget);

  if (self->read_only)
    return;
  set_editing (self, NULL);
  gtk_widget_grab_focus (GTK_WIDGET (self->name_row));
}

static void
edit_rule_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  SyAutomationsPage *self = SY_AUTOMATIONS_PAGE (widget);
  gint64 id = g_variant_get_int64 (parameter);
  JsonObject *rule = g_hash_table_lookup (self->rules, &id);

  if (rule != NULL)
    set_editing (self, rule);
}

/* The editor's rule as a JSON body; NULL (and the error shown) if the JSONLogic is no JSON. */
static JsonNode *
build_rule (SyAutomationsPage *self,
            gboolean           for_patch)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) ids = checked_action_ids (self);
  g_autofree char *logic = text_view_get_text (self->jsonlogic_view);
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  const char *dedupe = gtk_editable_get_text (GTK_EDITABLE (self->dedupe_row));
  guint selected = adw_combo_row_get_selected (self->event_row);
  GHashTableIter iter;
  gpointer key;

  if (!json_parser_load_from_data (parser, logic, -1, &error) || json_parser_get_root (parser) == NULL)
    {
      /* Translators: %s is the JSON parser's message. */
      g_autofree char *text = g_strdup_printf (_("jsonlogic: not valid JSON: %s"),
                                               error ? error->message : _("empty"));

      show_error (self, text);
      return NULL;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "event_key");
  json_builder_add_string_value (builder, event_keys[selected < G_N_ELEMENTS (event_keys) ? selected : 0]);
  json_builder_set_member_name (builder, "throttle_seconds");
  json_builder_add_int_value (builder, gtk_spin_button_get_value_as_int (self->throttle_spin));
  if (dedupe[0] != '\0')
    {
      json_builder_set_member_name (builder, "dedupe_template");
      json_builder_add_string_value (builder, dedupe);
    }
  else if (for_patch)
    {
      json_builder_set_member_name (builder, "dedupe_template");
      json_builder_add_null_value (builder);
    }
  json_builder_set_member_name (builder, "jsonlogic");
  json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
  json_builder_set_member_name (builder, "rule_actions");
  json_builder_begin_array (builder);
  g_hash_table_iter_init (&iter, ids);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "action_id");
      json_builder_add_int_value (builder, *(gint64 *) key);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static void
save_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(SyAutomationsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      show_error (self, error ? error->message : _("unexpected answer"));
      return;
    }

  clear_errors (self);
  self->editing_id = member_int (json_node_get_object (node), "id");
  adw_preferences_group_set_title (self->editor_group, _("Edit Rule"));
  toast (self, _("Rule saved"));
  sy_automations_page_refresh (self);
}

static void
save_rule_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  SyAutomationsPage *self = SY_AUTOMATIONS_PAGE (widget);
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *path = NULL;

  if (self->read_only || self->client == NULL)
    return;

  body = build_rule (self, self->editing_id > 0);
  if (body == NULL)
    return;

  if (self->editing_id > 0)
    {
      path = g_strdup_printf ("/api/automations/rules/%" G_GINT64_FORMAT, self->editing_id);
      sy_client_request_async (self->client, "PATCH", path, body, NULL, save_cb, g_object_ref (self));
    }
  else
    sy_client_request_async (self->client, "POST", "/api/automations/rules", body, NULL, save_cb, g_object_ref (self));
}

static void
toggle_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SyAutomationsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (error != NULL)
    {
      /* Translators: %s is the server's explanation. */
      g_autofree char *text = g_strdup_printf (_("Could not change the rule: %s"), error->message);

      toast (self, text);
    }
  sy_automations_page_refresh (self);
}

static void
toggle_rule_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  SyAutomationsPage *self = SY_AUTOMATIONS_PAGE (widget);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *path = NULL;
  gint64 id;
  gboolean enabled;

  if (self->read_only || self->client == NULL)
    return;

  g_variant_get (parameter, "(xb)", &id, &enabled);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "enabled");
  json_builder_add_boolean_value (builder, enabled);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  path = g_strdup_printf ("/api/automations/rules/%" G_GINT64_FORMAT, id);
  sy_client_request_async (self->client, "PATCH", path, body, NULL, toggle_cb, g_object_ref (self));
}

/* The dry run. */

static void
dry_run_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(SyAutomationsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *value = NULL;
  JsonObject *run;
  JsonNode *actions;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autofree char *field = error ? error_field (error->message) : NULL;

      /* The editor's rule travels as "rule": its JSONLogic errors go next to the condition. */
      if (field != NULL && g_str_has_prefix (field, "rule.jsonlogic"))
        show_error (self, error->message + strlen ("rule."));
      else if (field != NULL && g_str_has_prefix (field, "jsonlogic"))
        show_error (self, error->message);
      gtk_label_set_label (self->dry_run_label, error ? error->message : _("unexpected answer"));
      gtk_widget_add_css_class (GTK_WIDGET (self->dry_run_label), "error");
      gtk_widget_set_visible (GTK_WIDGET (self->dry_run_label), TRUE);
      return;
    }

  run = json_node_get_object (node);
  value = node_to_text (json_object_get_member (run, "result"), FALSE);
  g_string_append_printf (text, _("Matched: %s"),
                          json_object_get_boolean_member_with_default (run, "matched", FALSE) ? _("yes") : _("no"));
  g_string_append_c (text, '\n');
  g_string_append_printf (text, _("Result: %s"), value);
  g_string_append_c (text, '\n');
  g_string_append_printf (text, _("Dedupe key: %s"), member_string (run, "dedupe_key") ?: "—");
  g_string_append_c (text, '\n');
  g_string_append_printf (text, _("Throttled: %s"),
                          json_object_get_boolean_member_with_default (run, "throttled", FALSE) ? _("yes") : _("no"));

  actions = json_object_get_member (run, "actions");
  if (actions != NULL && JSON_NODE_HOLDS_ARRAY (actions))
    {
      JsonArray *array = json_node_get_array (actions);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonObject *action = json_array_get_object_element (array, i);
          g_autofree char *payload = node_to_text (action ? json_object_get_member (action, "payload") : NULL, FALSE);

          g_string_append_c (text, '\n');
          /* Translators: an action's name, its type and the payload it would send. */
          g_string_append_printf (text, _("%s (%s): %s"), member_string (action, "name") ?: "",
                                  member_string (action, "type") ?: "", payload);
        }
    }

  clear_errors (self);
  gtk_label_set_label (self->dry_run_label, text->str);
  gtk_widget_remove_css_class (GTK_WIDGET (self->dry_run_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->dry_run_label), TRUE);
}

static void
dry_run_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  SyAutomationsPage *self = SY_AUTOMATIONS_PAGE (widget);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) rule = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *event = text_view_get_text (self->event_view);
  JsonObject *obj;

  if (self->client == NULL)
    return;

  if (!json_parser_load_from_data (parser, event, -1, &error) || json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      /* Translators: %s is the JSON parser's message. */
      g_autofree char *text = g_strdup_printf (_("The event must be a JSON object: %s"),
                                               error ? error->message : _("not an object"));

      gtk_label_set_label (self->dry_run_label, text);
      gtk_widget_add_css_class (GTK_WIDGET (self->dry_run_label), "error");
      gtk_widget_set_visible (GTK_WIDGET (self->dry_run_label), TRUE);
      return;
    }

  rule = build_rule (self, FALSE);
  if (rule == NULL)
    return;
  /* An unnamed draft can still be tried. */
  if (g_strcmp0 (json_object_get_string_member (json_node_get_object (rule), "name"), "") == 0)
    json_object_set_string_member (json_node_get_object (rule), "name", "draft");

  body = json_node_new (JSON_NODE_OBJECT);
  obj = json_object_new ();
  json_object_set_member (obj, "rule", g_steal_pointer (&rule));
  json_object_set_member (obj, "event", json_node_copy (json_parser_get_root (parser)));
  json_node_take_object (body, obj);

  sy_client_request_async (self->client, "POST", "/api/automations/rules/dry-run", body, NULL, dry_run_cb,
                           g_object_ref (self));
}

/* Deliveries and approvals. */

static void
retry_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(SyAutomationsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not retry the delivery: %s"), error->message);

      toast (self, text);
    }
  else
    toast (self, _("Delivery queued again"));
  sy_automations_page_refresh (self);
}

static void
retry_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  SyAutomationsPage *self = SY_AUTOMATIONS_PAGE (widget);
  g_autofree char *path = NULL;

  if (self->read_only || self->client == NULL)
    return;

  path = g_strdup_printf ("/api/automations/deliveries/%" G_GINT64_FORMAT "/retry", g_variant_get_int64 (parameter));
  sy_client_request_async (self->client, "POST", path, NULL, NULL, retry_cb, g_object_ref (self));
}

static void
decide_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SyAutomationsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (error != NULL)
    /* The backend's detail as it is: e.g. why this client may not approve its own rule. */
    toast (self, error->message);
  else
    toast (self, _("Decision recorded"));
  sy_automations_page_refresh (self);
}

static void
decide (SyAutomationsPage *self,
        gint64             id,
        const char        *verb)
{
  g_autofree char *path = g_strdup_printf ("/api/automations/approvals/%" G_GINT64_FORMAT "/%s", id, verb);

  if (self->client != NULL)
    sy_client_request_async (self->client, "POST", path, NULL, NULL, decide_cb, g_object_ref (self));
}

static void
pin_response_cb (AdwMessageDialog  *dialog,
                 const char        *response,
                 SyAutomationsPage *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "pin-entry");
  gint64 *id = g_object_get_data (G_OBJECT (dialog), "approval-id");
  const char *verb = g_object_get_data (G_OBJECT (dialog), "verb");

  if (g_strcmp0 (response, "confirm") != 0 || entry == NULL || id == NULL || self->settings == NULL)
    return;

  if (sy_settings_check_kiosk_pin (self->settings, gtk_editable_get_text (entry)))
    decide (self, *id, verb);
  else
    toast (self, _("Wrong PIN"));
}

static void
pin_activate_cb (GtkWidget        *entry,
                 AdwMessageDialog *dialog)
{
  adw_message_dialog_response (dialog, "confirm");
  gtk_window_close (GTK_WINDOW (dialog));
}

/* Kiosk mode: approving needs the kiosk PIN, like leaving kiosk mode (sy-window.c). */
static void
ask_pin (SyAutomationsPage *self,
         gint64             id,
         const char        *verb)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog, *entry;

  if (self->settings == NULL || !sy_settings_get_has_kiosk_pin (self->settings))
    {
      toast (self, _("Set a kiosk PIN to decide on relay commands in kiosk mode"));
      return;
    }
  if (self->pin_dialog != NULL)
    gtk_window_destroy (self->pin_dialog);

  entry = gtk_password_entry_new ();
  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (entry), TRUE);
  gtk_widget_set_name (entry, "pin-entry");
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   g_str_equal (verb, "approve") ? _("Approve Relay Command?")
                                                                 : _("Reject Relay Command?"),
                                   _("Enter the kiosk PIN to decide on this relay command."));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "confirm", g_str_equal (verb, "approve") ? _("_Approve") : _("_Reject"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "confirm",
                                              g_str_equal (verb, "approve") ? ADW_RESPONSE_SUGGESTED
                                                                            : ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "confirm");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "pin-entry", entry);
  g_object_set_data_full (G_OBJECT (dialog), "approval-id", int64_dup (id), g_free);
  g_object_set_data (G_OBJECT (dialog), "verb", (gpointer) (g_str_equal (verb, "approve") ? "approve" : "reject"));
  g_signal_connect_object (dialog, "response", G_CALLBACK (pin_response_cb), self, 0);
  g_signal_connect (entry, "activate", G_CALLBACK (pin_activate_cb), dialog);

  self->pin_dialog = GTK_WINDOW (dialog);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->pin_dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
approve_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  SyAutomationsPage *self = SY_AUTOMATIONS_PAGE (widget);
  const char *verb = g_str_equal (action_name, "automations.approve") ? "approve" : "reject";

  if (self->read_only)
    ask_pin (self, g_variant_get_int64 (parameter), verb);
  else
    decide (self, g_variant_get_int64 (parameter), verb);
}

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  sy_automations_page_refresh (SY_AUTOMATIONS_PAGE (widget));
}

/* Life cycle. */

static void
sy_automations_page_map (GtkWidget *widget)
{
  SyAutomationsPage *self = SY_AUTOMATIONS_PAGE (widget);

  GTK_WIDGET_CLASS (sy_automations_page_parent_class)->map (widget);

  sy_automations_page_refresh (self);
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add_seconds (REFRESH_SECONDS, refresh_tick_cb, self);
}

static void
sy_automations_page_unmap (GtkWidget *widget)
{
  SyAutomationsPage *self = SY_AUTOMATIONS_PAGE (widget);

  g_clear_handle_id (&self->refresh_id, g_source_remove);

  GTK_WIDGET_CLASS (sy_automations_page_parent_class)->unmap (widget);
}

static void
sy_automations_page_dispose (GObject *object)
{
  SyAutomationsPage *self = (SyAutomationsPage *) object;
  GtkWidget *child;

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  if (self->pin_dialog != NULL)
    {
      GtkWindow *dialog = self->pin_dialog;

      g_object_remove_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->pin_dialog);
      self->pin_dialog = NULL;
      gtk_window_destroy (dialog);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), SY_TYPE_AUTOMATIONS_PAGE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->client);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->rules, g_hash_table_unref);
  g_clear_pointer (&self->action_names, g_hash_table_unref);

  G_OBJECT_CLASS (sy_automations_page_parent_class)->dispose (object);
}

static void
sy_automations_page_class_init (SyAutomationsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sy_automations_page_dispose;
  widget_class->map = sy_automations_page_map;
  widget_class->unmap = sy_automations_page_unmap;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/switchyard/Switchyard/ui/sy-automations-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, view_stack);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, rules_list);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, editor_group);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, new_button);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, save_button);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, name_row);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, event_row);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, throttle_spin);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, dedupe_row);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, field_error_label);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, jsonlogic_view);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, jsonlogic_error_label);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, actions_list);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, event_view);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, dry_run_label);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, counts_label);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, success_label);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, latency_label);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, queue_label);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, breakers_list);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, deliveries_list);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, approvals_list);
  gtk_widget_class_bind_template_child (widget_class, SyAutomationsPage, approvals_stack);

  gtk_widget_class_install_action (widget_class, "automations.new-rule", NULL, new_rule_action);
  gtk_widget_class_install_action (widget_class, "automations.edit-rule", "x", edit_rule_action);
  gtk_widget_class_install_action (widget_class, "automations.save-rule", NULL, save_rule_action);
  gtk_widget_class_install_action (widget_class, "automations.toggle-rule", "(xb)", toggle_rule_action);
  gtk_widget_class_install_action (widget_class, "automations.dry-run", NULL, dry_run_action);
  gtk_widget_class_install_action (widget_class, "automations.retry", "x", retry_action);
  gtk_widget_class_install_action (widget_class, "automations.approve", "x", approve_action);
  gtk_widget_class_install_action (widget_class, "automations.reject", "x", approve_action);
  gtk_widget_class_install_action (widget_class, "automations.refresh", NULL, refresh_action);
}

static void
sy_automations_page_init (SyAutomationsPage *self)
{
  self->cancellable = g_cancellable_new ();
  self->rules = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) json_object_unref);
  self->action_names = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->event_view),
                            "{\"meter_id\": 1, \"total_power\": 6000}", -1);
  add_placeholder (self->rules_list, _("No rules yet"));
  add_placeholder (self->deliveries_list, _("Nothing delivered yet"));
}

void
sy_automations_page_set_client (SyAutomationsPage *self,
                                SyClient          *client,
                                SySettings        *settings)
{
  g_return_if_fail (SY_IS_AUTOMATIONS_PAGE (self));
  g_return_if_fail (SY_IS_CLIENT (client));
  g_return_if_fail (settings == NULL || SY_IS_SETTINGS (settings));

  g_set_object (&self->client, client);
  g_set_object (&self->settings, settings);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    sy_automations_page_refresh (self);
}

void
sy_automations_page_set_read_only (SyAutomationsPage *self,
                                   gboolean           read_only)
{
  static const char * const writes[] = {
    "automations.new-rule", "automations.save-rule", "automations.toggle-rule", "automations.retry",
  };

  g_return_if_fail (SY_IS_AUTOMATIONS_PAGE (self));

  self->read_only = !!read_only;
  /* Approve and reject stay enabled: in read-only mode they ask for the kiosk PIN first. */
  for (guint i = 0; i < G_N_ELEMENTS (writes); i++)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), writes[i], !self->read_only);
  gtk_widget_set_visible (self->new_button, !self->read_only);
  gtk_widget_set_visible (self->save_button, !self->read_only);

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->rules_list)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      GtkWidget *toggle = g_object_get_data (G_OBJECT (row), "switch");

      if (toggle != NULL)
        gtk_widget_set_sensitive (toggle, !self->read_only);
    }
}

void
sy_automations_page_set_view (SyAutomationsPage *self,
                              const char        *name)
{
  g_return_if_fail (SY_IS_AUTOMATIONS_PAGE (self));

  adw_view_stack_set_visible_child_name (self->view_stack, name);
}

guint
sy_automations_page_get_n_rules (SyAutomationsPage *self)
{
  g_return_val_if_fail (SY_IS_AUTOMATIONS_PAGE (self), 0);

  return self->n_rules;
}

guint
sy_automations_page_get_n_deliveries (SyAutomationsPage *self)
{
  g_return_val_if_fail (SY_IS_AUTOMATIONS_PAGE (self), 0);

  return self->n_deliveries;
}

gint64
sy_automations_page_get_editing_id (SyAutomationsPage *self)
{
  g_return_val_if_fail (SY_IS_AUTOMATIONS_PAGE (self), 0);

  return self->editing_id;
}
