/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "switchyard"

#include "config.h"

#include <glib/gi18n.h>

#include "sy-application.h"

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  SyApplication *self = user_data;
  const char *developers[] = { _("The Switchyard authors"), NULL };
  GtkWindow *parent;
  GtkWidget *about;

  parent = gtk_application_get_active_window (GTK_APPLICATION (self));

  about = adw_about_window_new ();
  gtk_window_set_transient_for (GTK_WINDOW (about), parent);
  gtk_window_set_modal (GTK_WINDOW (about), parent != NULL);
  adw_about_window_set_application_name (ADW_ABOUT_WINDOW (about), _("Switchyard"));
  adw_about_window_set_application_icon (ADW_ABOUT_WINDOW (about), APP_ID);
  adw_about_window_set_developer_name (ADW_ABOUT_WINDOW (about), _("The Switchyard authors"));
  adw_about_window_set_version (ADW_ABOUT_WINDOW (about), PACKAGE_VERSION);
  adw_about_window_set_comments (ADW_ABOUT_WINDOW (about),
                                 _("A control room for a site’s energy: live meters, power quality, "
                                   "automation, billing and EV charging for a depot, factory or campus."));
  adw_about_window_set_developers (ADW_ABOUT_WINDOW (about), developers);
  adw_about_window_set_copyright (ADW_ABOUT_WINDOW (about), _("© 2026 The Switchyard authors"));
  adw_about_window_set_license_type (ADW_ABOUT_WINDOW (about), GTK_LICENSE_GPL_3_0);
  /* Translators: Replace "translator-credits" with your name(s), one per line. */
  adw_about_window_set_translator_credits (ADW_ABOUT_WINDOW (about), _("translator-credits"));

  gtk_window_present (GTK_WINDOW (about));
}

/* Kiosk mode for the window in front (win.toggle-kiosk asks for the PIN when leaving). */
static void
kiosk_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));

  if (window != NULL)
    gtk_widget_activate_action (GTK_WIDGET (window), "win.toggle-kiosk", NULL);
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action },
  { "about", about_action },
  { "kiosk", kiosk_action },
};

void
_sy_application_add_actions (SyApplication *self)
{
  g_return_if_fail (SY_IS_APPLICATION (self));

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
}
