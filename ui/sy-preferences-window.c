/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-preferences-window"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "sy-preferences-window.h"

static const char * const power_units[] = { "auto", "w", "kw", "mw", NULL };
static const char * const color_schemes[] = { "default", "light", "dark", NULL };

struct _SyPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  SySettings           *settings;

  AdwComboRow          *power_unit_row;
  AdwComboRow          *style_row;
  GtkAdjustment        *stale_adjustment;
  GtkAdjustment        *cycle_adjustment;
  GtkSwitch            *overview_switch;
  GtkSwitch            *meters_switch;
  AdwPasswordEntryRow  *pin_row;
  AdwActionRow         *pin_status_row;
};

G_DEFINE_FINAL_TYPE (SyPreferencesWindow, sy_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* A string setting with choices <-> the index of a combo row. */
static gboolean
choice_to_index (GValue   *value,
                 GVariant *variant,
                 gpointer  user_data)
{
  const char * const *choices = user_data;
  const char *text = g_variant_get_string (variant, NULL);

  for (guint i = 0; choices[i] != NULL; i++)
    {
      if (g_str_equal (choices[i], text))
        {
          g_value_set_uint (value, i);
          return TRUE;
        }
    }
  g_value_set_uint (value, 0);
  return TRUE;
}

static GVariant *
index_to_choice (const GValue       *value,
                 const GVariantType *type,
                 gpointer            user_data)
{
  const char * const *choices = user_data;
  guint index = g_value_get_uint (value);

  if (index >= g_strv_length ((char **) choices))
    return NULL;
  return g_variant_new_string (choices[index]);
}

static void
sync_pin (SyPreferencesWindow *self)
{
  gboolean has_pin = sy_settings_get_has_kiosk_pin (self->settings);

  adw_action_row_set_subtitle (self->pin_status_row, has_pin ? _("A PIN is set") : _("No PIN is set"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "prefs.clear-pin", has_pin);
}

static void
sync_pages (SyPreferencesWindow *self)
{
  gtk_switch_set_active (self->overview_switch, sy_settings_get_kiosk_page_enabled (self->settings, "overview"));
  gtk_switch_set_active (self->meters_switch, sy_settings_get_kiosk_page_enabled (self->settings, "meters"));
}

static void
switch_cb (GtkSwitch           *sw,
           GParamSpec          *pspec,
           SyPreferencesWindow *self)
{
  sy_settings_set_kiosk_page_enabled (self->settings, sw == self->overview_switch ? "overview" : "meters",
                                      gtk_switch_get_active (sw));
}

static void
set_pin_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  SyPreferencesWindow *self = SY_PREFERENCES_WINDOW (widget);
  const char *pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_row));

  if (pin == NULL || strlen (pin) < 4)
    {
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                        adw_toast_new (_("The PIN needs at least 4 characters")));
      return;
    }

  sy_settings_set_kiosk_pin (self->settings, pin);
  gtk_editable_set_text (GTK_EDITABLE (self->pin_row), "");
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (_("Kiosk PIN set")));
}

static void
clear_pin_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  SyPreferencesWindow *self = SY_PREFERENCES_WINDOW (widget);

  sy_settings_set_kiosk_pin (self->settings, NULL);
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (_("Kiosk PIN cleared")));
}

static void
sy_preferences_window_dispose (GObject *object)
{
  SyPreferencesWindow *self = (SyPreferencesWindow *) object;

  gtk_widget_dispose_template (GTK_WIDGET (self), SY_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sy_preferences_window_parent_class)->dispose (object);
}

static void
sy_preferences_window_class_init (SyPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sy_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/switchyard/Switchyard/ui/sy-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SyPreferencesWindow, power_unit_row);
  gtk_widget_class_bind_template_child (widget_class, SyPreferencesWindow, style_row);
  gtk_widget_class_bind_template_child (widget_class, SyPreferencesWindow, stale_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SyPreferencesWindow, cycle_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SyPreferencesWindow, overview_switch);
  gtk_widget_class_bind_template_child (widget_class, SyPreferencesWindow, meters_switch);
  gtk_widget_class_bind_template_child (widget_class, SyPreferencesWindow, pin_row);
  gtk_widget_class_bind_template_child (widget_class, SyPreferencesWindow, pin_status_row);

  gtk_widget_class_install_action (widget_class, "prefs.set-pin", NULL, set_pin_action);
  gtk_widget_class_install_action (widget_class, "prefs.clear-pin", NULL, clear_pin_action);
}

static void
sy_preferences_window_init (SyPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
sy_preferences_window_new (GtkWindow  *parent,
                           SySettings *settings)
{
  SyPreferencesWindow *self;
  GSettings *gsettings;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (SY_IS_SETTINGS (settings), NULL);

  self = g_object_new (SY_TYPE_PREFERENCES_WINDOW, "transient-for", parent, NULL);
  self->settings = g_object_ref (settings);
  gsettings = sy_settings_get_settings (settings);

  g_settings_bind_with_mapping (gsettings, SY_SETTINGS_KEY_POWER_UNIT, self->power_unit_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, choice_to_index, index_to_choice,
                                (gpointer) power_units, NULL);
  g_settings_bind_with_mapping (gsettings, SY_SETTINGS_KEY_COLOR_SCHEME, self->style_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, choice_to_index, index_to_choice,
                                (gpointer) color_schemes, NULL);
  g_settings_bind (gsettings, SY_SETTINGS_KEY_STALE_AFTER_SECONDS, self->stale_adjustment, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (gsettings, SY_SETTINGS_KEY_KIOSK_CYCLE_SECONDS, self->cycle_adjustment, "value",
                   G_SETTINGS_BIND_DEFAULT);

  sync_pages (self);
  sync_pin (self);
  g_signal_connect_object (self->overview_switch, "notify::active", G_CALLBACK (switch_cb), self, 0);
  g_signal_connect_object (self->meters_switch, "notify::active", G_CALLBACK (switch_cb), self, 0);
  g_signal_connect_object (settings, "notify::" SY_SETTINGS_KEY_KIOSK_PAGES, G_CALLBACK (sync_pages),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "notify::has-kiosk-pin", G_CALLBACK (sync_pin), self, G_CONNECT_SWAPPED);

  return GTK_WIDGET (self);
}
