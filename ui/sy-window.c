/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-window"

#include "config.h"

#include <glib/gi18n.h>

#include "sy-api-access-page.h"
#include "sy-analytics-page.h"
#include "sy-automations-page.h"
#include "sy-format.h"
#include "sy-meters-page.h"
#include "sy-overview-page.h"
#include "sy-pq-page.h"
#include "sy-preferences-window.h"
#include "sy-ui-resources.h"
#include "sy-window.h"

/* How long the stream may be down before the banner says so: a reconnect that succeeds at
 * once should not flash it. */
#define CONNECTION_GRACE_MS 2000

struct _SyWindow
{
  AdwApplicationWindow  parent_instance;

  SyClient             *client;
  SySettings           *settings;
  SySiteModel          *model;
  gboolean              kiosk;
  gboolean              kiosk_locked;
  guint                 kiosk_cycle_id;
  guint                 inhibit_cookie;
  guint                 banner_id;
  gint64                disconnected_since_ms;
  char                 *stream_error;
  char                 *banner_text;
  GtkWindow            *pin_dialog;
  char                 *alert_text;
  gint64                alerted_pq_id;
  gint64                alert_interruption_ms;

  /* Template widgets. */
  AdwToastOverlay      *toast_overlay;
  GtkRevealer          *banner_revealer;
  GtkLabel             *banner_label;
  GtkRevealer          *alert_revealer;
  GtkLabel             *alert_label;
  GtkWidget            *kiosk_bar;
  GtkLabel             *kiosk_site_label;
  GtkLabel             *kiosk_page_label;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar;
  GtkWidget            *separator;
  GtkWidget            *content;
  AdwHeaderBar         *sidebar_header;
  AdwHeaderBar         *content_header;
  AdwWindowTitle       *sidebar_title;
  AdwWindowTitle       *content_title;
  GtkListBox           *sidebar_list;
  GtkListBoxRow        *overview_row;
  GtkListBoxRow        *meters_row;
  GtkListBoxRow        *integrations_row;
  GtkListBoxRow        *api_access_row;
  GtkListBoxRow        *automations_row;
  GtkListBoxRow        *analytics_row;
  GtkListBoxRow        *pq_row;
  GtkStack             *stack;
  SyOverviewPage       *overview_page;
  SyMetersPage         *meters_page;
  SyApiAccessPage      *api_access_page;
  SyAutomationsPage    *automations_page;
  SyAnalyticsPage      *analytics_page;
  SyPqPage             *pq_page;
};

G_DEFINE_FINAL_TYPE (SyWindow, sy_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_SETTINGS,
  PROP_KIOSK,
  PROP_KIOSK_LOCKED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

/* The banner. */

static void
set_banner (SyWindow   *self,
            const char *text)
{
  if (g_strcmp0 (text, self->banner_text) != 0)
    {
      g_free (self->banner_text);
      self->banner_text = g_strdup (text);
      if (text != NULL)
        gtk_label_set_label (self->banner_label, text);
    }
  gtk_revealer_set_reveal_child (self->banner_revealer, text != NULL);
}

static void
update_banner (SyWindow *self)
{
  SyClientState state = sy_client_get_state (self->client);
  gint64 now = now_ms ();
  gint64 last = sy_site_model_get_last_data_ms (self->model);
  gint64 stale_ms = (gint64) sy_settings_get_stale_after_seconds (self->settings) * 1000;
  g_autofree char *text = NULL;

  if (state == SY_CLIENT_STATE_CONNECTED)
    self->disconnected_since_ms = 0;
  else if (self->disconnected_since_ms == 0)
    self->disconnected_since_ms = now;

  if (self->disconnected_since_ms != 0 && now - self->disconnected_since_ms >= CONNECTION_GRACE_MS)
    {
      if (self->stream_error != NULL)
        /* Translators: %s is the reason, e.g. "Connection refused". */
        text = g_strdup_printf (_("Connection lost, retrying… (%s)"), self->stream_error);
      else
        text = g_strdup (_("Connection lost, retrying…"));
    }
  else if (state == SY_CLIENT_STATE_CONNECTED && last > 0 && now - last > stale_ms)
    {
      g_autofree char *since = sy_format_time (last);

      /* Translators: %s is a time of day, HH:MM:SS. */
      text = g_strdup_printf (_("Data stale since %s"), since);
    }

  set_banner (self, text);
}

static gboolean
banner_tick_cb (gpointer user_data)
{
  update_banner (user_data);

  return G_SOURCE_CONTINUE;
}

static void
stream_error_cb (SyClient     *client,
                 const GError *error,
                 SyWindow     *self)
{
  g_free (self->stream_error);
  self->stream_error = error != NULL ? g_strdup (error->message) : NULL;
  update_banner (self);
}

static void
client_state_cb (SyWindow *self)
{
  if (sy_client_get_state (self->client) == SY_CLIENT_STATE_CONNECTED)
    g_clear_pointer (&self->stream_error, g_free);
  update_banner (self);
}

/* The alert banner for critical power-quality and protection events: on every page, also in
 * kiosk mode, until dismissed. No sound. */

static void
pq_alert_cb (SyClient   *client,
             const char *type,
             gint64      ts_ms,
             JsonNode   *data,
             SyWindow   *self)
{
  JsonObject *obj;
  const char *event_type;
  const char *severity;
  gint64 id, meter_id;
  SyMeterItem *meter;
  g_autofree char *meter_name = NULL;
  g_autofree char *when = NULL;
  g_autofree char *text = NULL;
  gboolean pq = g_strcmp0 (type, "pq.event") == 0;

  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    return;
  obj = json_node_get_object (data);
  event_type = json_object_get_string_member_with_default (obj, "type", NULL);
  severity = json_object_get_string_member_with_default (obj, "severity", NULL);
  id = json_object_get_int_member_with_default (obj, "id", 0);
  if (!sy_pq_event_is_critical (pq ? event_type : NULL, severity))
    return;
  /* One alert per PQ event, not again when it closes. */
  if (pq && id == self->alerted_pq_id)
    return;
  if (pq)
    self->alerted_pq_id = id;
  /* An interruption also starts a dip: the banner keeps saying interruption. */
  if (gtk_revealer_get_reveal_child (self->alert_revealer) && pq && g_strcmp0 (event_type, "dip") == 0 &&
      self->alert_interruption_ms > 0 && ABS (ts_ms - self->alert_interruption_ms) < 5000)
    return;
  self->alert_interruption_ms = g_strcmp0 (event_type, "interruption") == 0 ? ts_ms : 0;

  meter_id = json_object_get_int_member_with_default (obj, "meter_id", 0);
  meter = meter_id > 0 ? sy_site_model_lookup (self->model, meter_id) : NULL;
  if (meter != NULL)
    meter_name = g_strdup (sy_meter_item_get_name (meter));
  else
    /* Translators: %d is a meter's number */
    meter_name = g_strdup_printf (_("Meter %d"), (int) meter_id);
  when = sy_format_time (ts_ms > 0 ? ts_ms : now_ms ());
  /* Translators: "Interruption on Main Incomer at 14:05:02" */
  text = g_strdup_printf (_("%s on %s at %s"), sy_pq_event_type_label (event_type), meter_name, when);

  g_free (self->alert_text);
  self->alert_text = g_strdup (text);
  gtk_label_set_label (self->alert_label, text);
  gtk_revealer_set_reveal_child (self->alert_revealer, TRUE);
  sy_window_add_toast (self, text);
}

static void
dismiss_alert_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  SyWindow *self = SY_WINDOW (widget);

  gtk_revealer_set_reveal_child (self->alert_revealer, FALSE);
}

/* Pages. */

static gboolean
page_allowed (SyWindow   *self,
              const char *name)
{
  /* Kiosk mode is read-only: API Access is where credentials are made. */
  return !(self->kiosk && g_strcmp0 (name, "api-access") == 0);
}

static GtkListBoxRow *
row_for_page (SyWindow   *self,
              const char *name)
{
  if (g_strcmp0 (name, "meters") == 0)
    return self->meters_row;
  if (g_strcmp0 (name, "api-access") == 0)
    return self->api_access_row;
  if (g_strcmp0 (name, "automations") == 0)
    return self->automations_row;
  if (g_strcmp0 (name, "analytics") == 0)
    return self->analytics_row;
  if (g_strcmp0 (name, "power-quality") == 0)
    return self->pq_row;
  return self->overview_row;
}

static void
visible_page_cb (SyWindow *self)
{
  const char *name = gtk_stack_get_visible_child_name (self->stack);
  GtkStackPage *page = gtk_stack_get_page (self->stack, gtk_stack_get_visible_child (self->stack));
  const char *title = gtk_stack_page_get_title (page);

  adw_window_title_set_title (self->content_title, title);
  gtk_label_set_label (self->kiosk_page_label, title);

  if (gtk_list_box_get_selected_row (self->sidebar_list) != row_for_page (self, name))
    gtk_list_box_select_row (self->sidebar_list, row_for_page (self, name));

  if (!self->kiosk)
    sy_settings_set_last_page (self->settings, name);
}

void
sy_window_set_visible_page (SyWindow   *self,
                            const char *name)
{
  g_return_if_fail (SY_IS_WINDOW (self));
  g_return_if_fail (name != NULL);

  if (gtk_stack_get_child_by_name (self->stack, name) == NULL || !page_allowed (self, name))
    return;

  gtk_stack_set_visible_child_name (self->stack, name);
}

static void
sidebar_row_activated_cb (SyWindow      *self,
                          GtkListBoxRow *row)
{
  const char *name = gtk_widget_get_name (GTK_WIDGET (row));

  sy_window_set_visible_page (self, name);
  adw_leaflet_set_visible_child (self->leaflet, self->content);
}

static void
page_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  SyWindow *self = SY_WINDOW (widget);

  sy_window_set_visible_page (self, g_variant_get_string (parameter, NULL));
  adw_leaflet_set_visible_child (self->leaflet, self->content);
}

static void
show_sidebar_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  SyWindow *self = SY_WINDOW (widget);

  adw_leaflet_set_visible_child (self->leaflet, self->sidebar);
}

static void
search_meters_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  SyWindow *self = SY_WINDOW (widget);

  sy_window_set_visible_page (self, "meters");
  adw_leaflet_set_visible_child (self->leaflet, self->content);
  sy_meters_page_show_list (self->meters_page);
  sy_meters_page_focus_search (self->meters_page);
}

static void
fullscreen_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  GtkWindow *window = GTK_WINDOW (widget);

  if (gtk_window_is_fullscreen (window))
    gtk_window_unfullscreen (window);
  else
    gtk_window_fullscreen (window);
}

static void
preferences_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  SyWindow *self = SY_WINDOW (widget);
  GtkWidget *prefs;

  if (self->kiosk)
    return;

  prefs = sy_preferences_window_new (GTK_WINDOW (self), self->settings);
  gtk_window_present (GTK_WINDOW (prefs));
}

/* Kiosk mode. */

static gboolean
kiosk_cycle_cb (gpointer user_data)
{
  SyWindow *self = user_data;
  const char * const *pages = sy_settings_get_kiosk_pages (self->settings);
  const char *current = gtk_stack_get_visible_child_name (self->stack);
  guint n = pages != NULL ? g_strv_length ((char **) pages) : 0;
  guint start = 0;

  for (guint i = 0; i < n; i++)
    {
      if (g_strcmp0 (pages[i], current) == 0)
        start = i + 1;
    }

  for (guint k = 0; k < n; k++)
    {
      const char *next = pages[(start + k) % n];

      if (gtk_stack_get_child_by_name (self->stack, next) != NULL && page_allowed (self, next))
        {
          if (g_strcmp0 (next, "meters") == 0)
            sy_meters_page_show_list (self->meters_page);
          gtk_stack_set_visible_child_name (self->stack, next);
          break;
        }
    }

  return G_SOURCE_CONTINUE;
}

static void
restart_kiosk_cycle (SyWindow *self)
{
  g_clear_handle_id (&self->kiosk_cycle_id, g_source_remove);
  if (self->kiosk)
    self->kiosk_cycle_id = g_timeout_add_seconds (sy_settings_get_kiosk_cycle_seconds (self->settings),
                                                  kiosk_cycle_cb, self);
}

static void
update_kiosk_actions (SyWindow *self)
{
  /* Read-only means the actions are off, not only their buttons hidden: accelerators and
   * D-Bus activation go through the same check. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.preferences", !self->kiosk);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.leave-kiosk", self->kiosk);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.fullscreen", !self->kiosk);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-sidebar", !self->kiosk);
  sy_api_access_page_set_read_only (self->api_access_page, self->kiosk);
  sy_automations_page_set_read_only (self->automations_page, self->kiosk);
  sy_analytics_page_set_read_only (self->analytics_page, self->kiosk);
  sy_pq_page_set_read_only (self->pq_page, self->kiosk);
}

void
sy_window_set_kiosk (SyWindow *self,
                     gboolean  kiosk)
{
  GtkApplication *app;

  g_return_if_fail (SY_IS_WINDOW (self));

  kiosk = !!kiosk;
  if (kiosk == self->kiosk)
    return;

  self->kiosk = kiosk;
  app = gtk_window_get_application (GTK_WINDOW (self));

  gtk_widget_set_visible (self->sidebar, !kiosk);
  gtk_widget_set_visible (self->separator, !kiosk);
  gtk_widget_set_visible (GTK_WIDGET (self->content_header), !kiosk);
  gtk_widget_set_visible (GTK_WIDGET (self->api_access_row), !kiosk);
  gtk_widget_set_visible (GTK_WIDGET (self->integrations_row), !kiosk);
  gtk_widget_set_visible (self->kiosk_bar, kiosk);
  adw_leaflet_set_visible_child (self->leaflet, self->content);

  if (kiosk)
    {
      const char * const *pages = sy_settings_get_kiosk_pages (self->settings);

      gtk_widget_add_css_class (GTK_WIDGET (self), "kiosk");
      if (!page_allowed (self, gtk_stack_get_visible_child_name (self->stack)))
        gtk_stack_set_visible_child_name (self->stack, "overview");
      if (pages != NULL && pages[0] != NULL && gtk_stack_get_child_by_name (self->stack, pages[0]) != NULL)
        gtk_stack_set_visible_child_name (self->stack, pages[0]);
      sy_meters_page_show_list (self->meters_page);
      gtk_window_fullscreen (GTK_WINDOW (self));
      if (app != NULL)
        self->inhibit_cookie = gtk_application_inhibit (app, GTK_WINDOW (self), GTK_APPLICATION_INHIBIT_IDLE,
                                                        _("Kiosk mode shows live data"));
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self), "kiosk");
      gtk_window_unfullscreen (GTK_WINDOW (self));
      if (app != NULL && self->inhibit_cookie != 0)
        gtk_application_uninhibit (app, self->inhibit_cookie);
      self->inhibit_cookie = 0;
    }

  restart_kiosk_cycle (self);
  update_kiosk_actions (self);
  update_banner (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KIOSK]);
}

static void
pin_response_cb (AdwMessageDialog *dialog,
                 const char       *response,
                 SyWindow         *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "pin-entry");

  if (g_strcmp0 (response, "leave") != 0 || entry == NULL)
    return;

  if (sy_settings_check_kiosk_pin (self->settings, gtk_editable_get_text (entry)))
    sy_window_set_kiosk (self, FALSE);
  else
    sy_window_add_toast (self, _("Wrong PIN"));
}

static void
pin_activate_cb (GtkWidget        *entry,
                 AdwMessageDialog *dialog)
{
  adw_message_dialog_response (dialog, "leave");
  gtk_window_close (GTK_WINDOW (dialog));
}

static void
ask_leave_kiosk (SyWindow *self)
{
  GtkWidget *dialog;

  if (self->pin_dialog != NULL)
    {
      gtk_window_present (self->pin_dialog);
      return;
    }

  if (!sy_settings_get_has_kiosk_pin (self->settings))
    {
      if (!self->kiosk_locked)
        {
          sy_window_set_kiosk (self, FALSE);
          return;
        }

      /* Started with --kiosk and no PIN: leaving would let anyone at the screen out. */
      dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Kiosk Mode Cannot Be Left"),
                                       _("This console was started in kiosk mode and no PIN is set. "
                                         "Set a kiosk PIN in Preferences, outside kiosk mode (start the "
                                         "console without --kiosk), to be able to leave it here."));
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
    }
  else
    {
      GtkWidget *entry = gtk_password_entry_new ();

      dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Leave Kiosk Mode?"),
                                       _("Enter the kiosk PIN to leave kiosk mode."));
      gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (entry), TRUE);
      gtk_widget_set_name (entry, "pin-entry");
      adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
      adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                        "cancel", _("_Cancel"),
                                        "leave", _("_Leave"),
                                        NULL);
      adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "leave",
                                                  ADW_RESPONSE_SUGGESTED);
      adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "leave");
      adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
      g_object_set_data (G_OBJECT (dialog), "pin-entry", entry);
      g_signal_connect_object (dialog, "response", G_CALLBACK (pin_response_cb), self, 0);
      g_signal_connect (entry, "activate", G_CALLBACK (pin_activate_cb), dialog);
    }

  self->pin_dialog = GTK_WINDOW (dialog);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->pin_dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
toggle_kiosk_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  SyWindow *self = SY_WINDOW (widget);

  if (self->kiosk)
    ask_leave_kiosk (self);
  else
    sy_window_set_kiosk (self, TRUE);
}

static void
leave_kiosk_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  SyWindow *self = SY_WINDOW (widget);

  if (self->kiosk)
    ask_leave_kiosk (self);
}

/* Window state. */

static gboolean
sy_window_close_request (GtkWindow *window)
{
  SyWindow *self = SY_WINDOW (window);
  GSettings *settings = sy_settings_get_settings (self->settings);

  /* Kiosk mode's fullscreen is not the size the operator chose. */
  if (!self->kiosk && !gtk_window_is_fullscreen (window))
    {
      int width, height;

      gtk_window_get_default_size (window, &width, &height);
      g_settings_set_boolean (settings, SY_SETTINGS_KEY_WINDOW_MAXIMIZED, gtk_window_is_maximized (window));
      if (!gtk_window_is_maximized (window))
        {
          g_settings_set_int (settings, SY_SETTINGS_KEY_WINDOW_WIDTH, width);
          g_settings_set_int (settings, SY_SETTINGS_KEY_WINDOW_HEIGHT, height);
        }
    }

  return GTK_WINDOW_CLASS (sy_window_parent_class)->close_request (window);
}

static void
site_name_cb (SyWindow *self)
{
  const char *name = sy_site_model_get_site_name (self->model);

  adw_window_title_set_subtitle (self->sidebar_title, name);
  gtk_label_set_label (self->kiosk_site_label, name ? name : _("Switchyard"));
}

static void
model_error_cb (SyWindow *self)
{
  const char *error = sy_site_model_get_error (self->model);

  if (error != NULL)
    {
      /* Translators: %s is why the site could not be loaded. */
      g_autofree char *text = g_strdup_printf (_("Could not load the site: %s"), error);

      sy_window_add_toast (self, text);
    }
}

static void
sy_window_constructed (GObject *object)
{
  SyWindow *self = (SyWindow *) object;
  GSettings *settings;
  const char *last_page;

  G_OBJECT_CLASS (sy_window_parent_class)->constructed (object);

  g_assert (SY_IS_CLIENT (self->client));
  g_assert (SY_IS_SETTINGS (self->settings));

  settings = sy_settings_get_settings (self->settings);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (settings, SY_SETTINGS_KEY_WINDOW_WIDTH),
                               g_settings_get_int (settings, SY_SETTINGS_KEY_WINDOW_HEIGHT));
  if (g_settings_get_boolean (settings, SY_SETTINGS_KEY_WINDOW_MAXIMIZED))
    gtk_window_maximize (GTK_WINDOW (self));

  self->model = sy_site_model_new (self->client);
  g_signal_connect_object (self->model, "notify::site-name", G_CALLBACK (site_name_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->model, "notify::error", G_CALLBACK (model_error_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->model, "notify::last-data-ms", G_CALLBACK (update_banner), self, G_CONNECT_SWAPPED);

  sy_overview_page_set_model (self->overview_page, self->model, self->settings);
  sy_meters_page_set_model (self->meters_page, self->model, self->settings);
  sy_api_access_page_set_client (self->api_access_page, self->client);
  sy_automations_page_set_client (self->automations_page, self->client, self->settings);
  sy_analytics_page_set_model (self->analytics_page, self->model);
  sy_pq_page_set_model (self->pq_page, self->model);
  g_signal_connect_object (self->client, "event::pq.event", G_CALLBACK (pq_alert_cb), self, 0);
  g_signal_connect_object (self->client, "event::protection.event", G_CALLBACK (pq_alert_cb), self, 0);

  g_signal_connect_object (self->client, "notify::state", G_CALLBACK (client_state_cb), self, G_CONNECT_SWAPPED);
  if (g_signal_lookup ("stream-error", SY_TYPE_CLIENT) != 0)
    g_signal_connect_object (self->client, "stream-error", G_CALLBACK (stream_error_cb), self, 0);
  g_signal_connect_object (self->settings, "notify::" SY_SETTINGS_KEY_STALE_AFTER_SECONDS,
                           G_CALLBACK (update_banner), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "notify::" SY_SETTINGS_KEY_KIOSK_CYCLE_SECONDS,
                           G_CALLBACK (restart_kiosk_cycle), self, G_CONNECT_SWAPPED);
  self->banner_id = g_timeout_add_seconds (1, banner_tick_cb, self);

  last_page = sy_settings_get_last_page (self->settings);
  if (last_page != NULL && gtk_stack_get_child_by_name (self->stack, last_page) != NULL)
    gtk_stack_set_visible_child_name (self->stack, last_page);
  visible_page_cb (self);
  site_name_cb (self);

  update_kiosk_actions (self);
  if (self->kiosk_locked)
    sy_window_set_kiosk (self, TRUE);
}

static void
sy_window_dispose (GObject *object)
{
  SyWindow *self = (SyWindow *) object;

  g_clear_handle_id (&self->banner_id, g_source_remove);
  g_clear_handle_id (&self->kiosk_cycle_id, g_source_remove);
  if (self->pin_dialog != NULL)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->pin_dialog), (gpointer *) &self->pin_dialog);
      gtk_window_destroy (self->pin_dialog);
      self->pin_dialog = NULL;
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), SY_TYPE_WINDOW);

  g_clear_object (&self->model);
  g_clear_object (&self->settings);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (sy_window_parent_class)->dispose (object);
}

static void
sy_window_finalize (GObject *object)
{
  SyWindow *self = (SyWindow *) object;

  g_clear_pointer (&self->stream_error, g_free);
  g_clear_pointer (&self->banner_text, g_free);
  g_clear_pointer (&self->alert_text, g_free);

  G_OBJECT_CLASS (sy_window_parent_class)->finalize (object);
}

static void
sy_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  SyWindow *self = SY_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;

    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    case PROP_KIOSK:
      g_value_set_boolean (value, self->kiosk);
      break;

    case PROP_KIOSK_LOCKED:
      g_value_set_boolean (value, self->kiosk_locked);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sy_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  SyWindow *self = SY_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;

    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    case PROP_KIOSK:
      sy_window_set_kiosk (self, g_value_get_boolean (value));
      break;

    case PROP_KIOSK_LOCKED:
      self->kiosk_locked = g_value_get_boolean (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sy_window_class_init (SyWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = sy_window_constructed;
  object_class->dispose = sy_window_dispose;
  object_class->finalize = sy_window_finalize;
  object_class->get_property = sy_window_get_property;
  object_class->set_property = sy_window_set_property;

  window_class->close_request = sy_window_close_request;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, SY_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, SY_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_KIOSK] =
    g_param_spec_boolean ("kiosk", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_KIOSK_LOCKED] =
    g_param_spec_boolean ("kiosk-locked", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Referencing the resource links its object file, whose constructor registers it. */
  (void) sy_ui_get_resource ();
  g_type_ensure (SY_TYPE_OVERVIEW_PAGE);
  g_type_ensure (SY_TYPE_METERS_PAGE);
  g_type_ensure (SY_TYPE_API_ACCESS_PAGE);
  g_type_ensure (SY_TYPE_AUTOMATIONS_PAGE);
  g_type_ensure (SY_TYPE_PQ_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/switchyard/Switchyard/ui/sy-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SyWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, alert_revealer);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, alert_label);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, kiosk_bar);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, kiosk_site_label);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, kiosk_page_label);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, separator);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, content);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, sidebar_header);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, content_header);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, sidebar_title);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, content_title);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, sidebar_list);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, overview_row);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, meters_row);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, integrations_row);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, api_access_row);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, automations_row);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, analytics_row);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, pq_row);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, overview_page);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, meters_page);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, api_access_page);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, automations_page);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, analytics_page);
  gtk_widget_class_bind_template_child (widget_class, SyWindow, pq_page);

  gtk_widget_class_install_action (widget_class, "win.page", "s", page_action);
  gtk_widget_class_install_action (widget_class, "win.show-sidebar", NULL, show_sidebar_action);
  gtk_widget_class_install_action (widget_class, "win.search-meters", NULL, search_meters_action);
  gtk_widget_class_install_action (widget_class, "win.fullscreen", NULL, fullscreen_action);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, preferences_action);
  gtk_widget_class_install_action (widget_class, "win.toggle-kiosk", NULL, toggle_kiosk_action);
  gtk_widget_class_install_action (widget_class, "win.leave-kiosk", NULL, leave_kiosk_action);
  gtk_widget_class_install_action (widget_class, "win.dismiss-alert", NULL, dismiss_alert_action);

  /* Escape leaves kiosk mode (asking for the PIN); the action is off outside kiosk mode, so
   * the key keeps its usual meaning there. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.leave-kiosk", NULL);
}

static void
sy_window_init (SyWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

#if DEVELOPMENT_BUILD
  gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
#endif

  g_signal_connect_object (self->sidebar_list, "row-activated", G_CALLBACK (sidebar_row_activated_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->stack, "notify::visible-child", G_CALLBACK (visible_page_cb),
                           self, G_CONNECT_SWAPPED);
}

SyWindow *
sy_window_new (GtkApplication *application,
               SyClient       *client,
               SySettings     *settings,
               gboolean        kiosk_locked)
{
  g_return_val_if_fail (application == NULL || GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (SY_IS_CLIENT (client), NULL);
  g_return_val_if_fail (SY_IS_SETTINGS (settings), NULL);

  return g_object_new (SY_TYPE_WINDOW,
                       "application", application,
                       "client", client,
                       "settings", settings,
                       "kiosk-locked", kiosk_locked,
                       NULL);
}

SyClient *
sy_window_get_client (SyWindow *self)
{
  g_return_val_if_fail (SY_IS_WINDOW (self), NULL);

  return self->client;
}

SySettings *
sy_window_get_settings (SyWindow *self)
{
  g_return_val_if_fail (SY_IS_WINDOW (self), NULL);

  return self->settings;
}

SySiteModel *
sy_window_get_model (SyWindow *self)
{
  g_return_val_if_fail (SY_IS_WINDOW (self), NULL);

  return self->model;
}

GtkWidget *
sy_window_get_page (SyWindow   *self,
                    const char *name)
{
  g_return_val_if_fail (SY_IS_WINDOW (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return gtk_stack_get_child_by_name (self->stack, name);
}

const char *
sy_window_get_visible_page (SyWindow *self)
{
  g_return_val_if_fail (SY_IS_WINDOW (self), NULL);

  return gtk_stack_get_visible_child_name (self->stack);
}

gboolean
sy_window_get_kiosk (SyWindow *self)
{
  g_return_val_if_fail (SY_IS_WINDOW (self), FALSE);

  return self->kiosk;
}

const char *
sy_window_get_banner_text (SyWindow *self)
{
  g_return_val_if_fail (SY_IS_WINDOW (self), NULL);

  return gtk_revealer_get_reveal_child (self->banner_revealer) ? self->banner_text : NULL;
}

void
sy_window_add_toast (SyWindow   *self,
                     const char *message)
{
  AdwToast *toast;

  g_return_if_fail (SY_IS_WINDOW (self));
  g_return_if_fail (message != NULL);

  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 5);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
sy_window_load_style (void)
{
  g_autoptr(GtkCssProvider) provider = gtk_css_provider_new ();

  (void) sy_ui_get_resource ();
  gtk_css_provider_load_from_resource (provider, "/io/github/switchyard/Switchyard/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (provider),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}
