/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "switchyard"

#include "config.h"

#include <glib-unix.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>

#include "sy-application.h"
#include "sy-backend.h"
#include "sy-client.h"
#include "sy-settings.h"
#include "sy-window.h"

struct _SyApplication
{
  AdwApplication  parent_instance;

  /* Options of the primary instance. */
  char           *db_path;
  char           *listen_host;
  guint16         listen_port;
  gboolean        demo;
  gboolean        demo_set;
  char           *connect_url;
  gboolean        kiosk;

  /* What the client will talk to. */
  SyBackend      *backend;
  GError         *backend_error;
  char           *base_url;
  char           *token;
  SyClient       *client;
  SySettings     *settings;

  guint           sigint_id;
  guint           sigterm_id;
};

G_DEFINE_FINAL_TYPE (SyApplication, sy_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "db", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    N_("SQLite database (default: $XDG_DATA_HOME/switchyard/switchyard.db)"), N_("PATH") },
  { "listen", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Address of the API (default 127.0.0.1:0, which picks a free port)"), N_("HOST:PORT") },
  { "demo", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Create the demo site and simulate its meters (the default when the database does not exist yet)"), NULL },
  { "connect", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Attach to the backend at URL instead of starting one"), N_("URL") },
  { "token", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Access token for the backend given by --connect"), N_("TOKEN") },
  { "kiosk", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Start full screen in read-only kiosk mode; leaving it needs the kiosk PIN"), NULL },
  { NULL }
};

static gboolean
parse_listen (const char  *text,
              char       **host,
              guint16     *port,
              GError     **error)
{
  const char *colon = strrchr (text, ':');
  guint64 value;

  if (colon == NULL || colon == text)
    {
      /* Translators: %s is what the user typed. */
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--listen expects HOST:PORT, got “%s”"), text);
      return FALSE;
    }

  if (!g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &value, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--listen: “%s” is not a port number (0-65535)"), colon + 1);
      return FALSE;
    }

  /* [::1]:8080 */
  if (text[0] == '[' && colon[-1] == ']')
    *host = g_strndup (text + 1, colon - text - 2);
  else
    *host = g_strndup (text, colon - text);
  *port = (guint16) value;

  return TRUE;
}

static gboolean
check_url (const char  *url,
           GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_host (uri) == NULL ||
      (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 &&
       g_strcmp0 (g_uri_get_scheme (uri), "https") != 0))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--connect expects an http or https URL, got “%s”"), url);
      return FALSE;
    }

  return TRUE;
}

static int
sy_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  SyApplication *self = SY_APPLICATION (app);
  g_autoptr(GError) error = NULL;
  const char *db_path = NULL;
  const char *listen = NULL;
  const char *connect_url = NULL;
  const char *token = NULL;
  gboolean demo = FALSE;
  gboolean demo_set;
  gboolean kiosk = FALSE;

  g_variant_dict_lookup (options, "db", "^&ay", &db_path);
  g_variant_dict_lookup (options, "listen", "&s", &listen);
  demo_set = g_variant_dict_lookup (options, "demo", "b", &demo);
  g_variant_dict_lookup (options, "connect", "&s", &connect_url);
  g_variant_dict_lookup (options, "token", "&s", &token);
  g_variant_dict_lookup (options, "kiosk", "b", &kiosk);

  if (connect_url != NULL && (db_path != NULL || listen != NULL || demo_set))
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                         _("--connect attaches to a running backend: it cannot be combined with --db, --listen or --demo"));
  else if (token != NULL && connect_url == NULL)
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                         _("--token needs --connect"));
  else if (connect_url != NULL)
    check_url (connect_url, &error);
  else if (listen != NULL)
    parse_listen (listen, &self->listen_host, &self->listen_port, &error);

  if (error != NULL)
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return EXIT_FAILURE;
    }

  g_free (self->db_path);
  self->db_path = g_strdup (db_path);
  g_free (self->connect_url);
  self->connect_url = g_strdup (connect_url);
  g_free (self->token);
  self->token = g_strdup (token);
  self->demo = demo;
  self->demo_set = demo_set;
  self->kiosk = kiosk;

  /* The options configure the process that owns the backend. A second launch only activates
   * the first one, so say that instead of ignoring them silently. */
  if (db_path != NULL || listen != NULL || demo_set || connect_url != NULL || kiosk)
    {
      if (!g_application_register (app, NULL, &error))
        {
          g_printerr ("%s: %s\n", g_get_prgname (), error->message);
          return EXIT_FAILURE;
        }

      if (g_application_get_is_remote (app))
        g_printerr (_("%s: Switchyard is already running; the options apply to the first instance only\n"),
                    g_get_prgname ());
    }

  return -1;
}

static gboolean
quit_signal_cb (gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));

  return G_SOURCE_CONTINUE;
}

static void
start_backend (SyApplication *self)
{
  g_autofree char *db_path = NULL;
  SyBackendConfig config = { 0 };

  db_path = self->db_path != NULL ? g_strdup (self->db_path) : sy_backend_default_db_path ();

  config.db_path = db_path;
  config.listen_host = self->listen_host;
  config.listen_port = self->listen_port;
  /* Someone who starts the console for the first time sees a live site rather than nothing. */
  config.demo = self->demo_set ? self->demo : !g_file_test (db_path, G_FILE_TEST_EXISTS);
  self->demo = config.demo;

  /* This blocks on the start-up handshake, which opens the store (and creates the demo site
   * on the first run): milliseconds, and the window needs its outcome anyway. */
  self->backend = sy_backend_new (&config);
  if (!sy_backend_start (self->backend, &self->backend_error))
    {
      g_warning ("Cannot start the backend: %s", self->backend_error->message);
      g_clear_object (&self->backend);
      return;
    }

  self->base_url = g_strdup (sy_backend_get_base_url (self->backend));
  g_free (self->token);
  self->token = sy_backend_dup_admin_token (self->backend);

  /* Like switchyardd, for scripts that start the console and need the API. */
  g_print ("listening on %s\n", self->base_url);
  g_message ("Database: %s", sy_backend_get_db_path (self->backend));
}

static void
color_scheme_cb (SyApplication *self)
{
  const char *scheme = sy_settings_get_color_scheme (self->settings);
  AdwColorScheme value = ADW_COLOR_SCHEME_DEFAULT;

  if (g_strcmp0 (scheme, "light") == 0)
    value = ADW_COLOR_SCHEME_FORCE_LIGHT;
  else if (g_strcmp0 (scheme, "dark") == 0)
    value = ADW_COLOR_SCHEME_FORCE_DARK;

  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), value);
}

static void
sy_application_startup (GApplication *app)
{
  static const struct
  {
    const char *action;
    const char *accels[2];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "win.preferences", { "<Control>comma", NULL } },
    { "win.search-meters", { "<Control>f", NULL } },
    { "win.page('overview')", { "<Alt>1", NULL } },
    { "win.page('meters')", { "<Alt>2", NULL } },
    { "win.page('api-access')", { "<Alt>3", NULL } },
    { "win.fullscreen", { "F11", NULL } },
    { "win.toggle-kiosk", { "<Control>k", NULL } },
  };
  SyApplication *self = SY_APPLICATION (app);

  G_APPLICATION_CLASS (sy_application_parent_class)->startup (app);

  _sy_application_add_actions (self);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action, accels[i].accels);

  self->settings = sy_settings_new ();
  g_signal_connect_object (self->settings, "notify::" SY_SETTINGS_KEY_COLOR_SCHEME,
                           G_CALLBACK (color_scheme_cb), self, G_CONNECT_SWAPPED);
  color_scheme_cb (self);

  /* A terminal's Ctrl+C or a service manager's SIGTERM quits like app.quit does, which stops
   * the backend cleanly in shutdown. */
  self->sigint_id = g_unix_signal_add (SIGINT, quit_signal_cb, self);
  self->sigterm_id = g_unix_signal_add (SIGTERM, quit_signal_cb, self);

  if (self->connect_url != NULL)
    self->base_url = g_strdup (self->connect_url);
  else
    start_backend (self);

  /* One client for every window: REST and the live stream, in-process over loopback or
   * remote (ARCHITECTURE.md, threading contract 3). */
  if (self->base_url != NULL)
    {
      static const char * const topics[] = { "data.ingested", "pq.event", "protection.event", NULL };

      self->client = sy_client_new (self->base_url, self->token);
      sy_client_start_stream (self->client, topics);
    }
}

static GtkWidget *
create_status_page (SyApplication *self)
{
  g_autofree char *text = NULL;
  GtkWidget *status;
  GtkWidget *label;

  status = adw_status_page_new ();
  gtk_widget_set_vexpand (status, TRUE);

  if (self->backend_error != NULL)
    {
      adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "dialog-error-symbolic");
      adw_status_page_set_title (ADW_STATUS_PAGE (status), _("The Backend Could Not Start"));
      text = g_strdup (self->backend_error->message);
    }
  else if (self->connect_url != NULL)
    {
      adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "network-server-symbolic");
      adw_status_page_set_title (ADW_STATUS_PAGE (status), _("Remote Backend"));
      /* Translators: %s is a URL such as https://depot.example.org:8080 */
      text = g_strdup_printf (_("The console attaches to the backend at %s"), self->connect_url);
    }
  else
    {
      adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "network-server-symbolic");
      adw_status_page_set_title (ADW_STATUS_PAGE (status), _("Backend Running"));
      if (self->demo)
        adw_status_page_set_description (ADW_STATUS_PAGE (status),
                                         _("The demo depot’s meters are simulated"));
      /* Translators: %s is a URL such as http://127.0.0.1:8080 */
      text = g_strdup_printf (_("The backend is running at %s"), self->base_url);
    }

  label = gtk_label_new (text);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_CENTER);
  adw_status_page_set_child (ADW_STATUS_PAGE (status), label);

  return status;
}

static GtkWindow *
create_window (SyApplication *self)
{
  g_autoptr(GMenu) menu = g_menu_new ();
  GtkWidget *window;
  GtkWidget *box;
  GtkWidget *header;
  GtkWidget *menu_button;

  window = adw_application_window_new (GTK_APPLICATION (self));
  gtk_window_set_title (GTK_WINDOW (window), _("Switchyard"));
  gtk_window_set_default_size (GTK_WINDOW (window), 960, 640);
#if DEVELOPMENT_BUILD
  gtk_widget_add_css_class (window, "devel");
#endif

  g_menu_append (menu, _("_About Switchyard"), "app.about");
  menu_button = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu_button), "open-menu-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (menu_button), G_MENU_MODEL (menu));
  gtk_menu_button_set_primary (GTK_MENU_BUTTON (menu_button), TRUE);
  gtk_widget_set_tooltip_text (menu_button, _("Main Menu"));

  header = adw_header_bar_new ();
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), menu_button);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), create_status_page (self));
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (window), box);

  return GTK_WINDOW (window);
}

static void
sy_application_activate (GApplication *app)
{
  SyApplication *self = SY_APPLICATION (app);
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window == NULL && self->client != NULL)
    window = GTK_WINDOW (sy_window_new (GTK_APPLICATION (self), self->client, self->settings, self->kiosk));
  else if (window == NULL)
    window = create_window (self);

  gtk_window_present (window);
}

/* The backend flushes its writer and closes SQLite here, while the application is still
 * alive (ARCHITECTURE.md, threading contract 8). */
static void
sy_application_shutdown (GApplication *app)
{
  SyApplication *self = SY_APPLICATION (app);

  g_clear_handle_id (&self->sigint_id, g_source_remove);
  g_clear_handle_id (&self->sigterm_id, g_source_remove);

  /* The windows are gone by now; the stream must close before the server does. */
  if (self->client != NULL)
    sy_client_stop_stream (self->client);
  g_clear_object (&self->client);

  if (self->backend != NULL)
    {
      sy_backend_stop (self->backend);
      g_clear_object (&self->backend);
    }

  G_APPLICATION_CLASS (sy_application_parent_class)->shutdown (app);
}

static void
sy_application_dispose (GObject *object)
{
  SyApplication *self = (SyApplication *) object;

  /* Only reached with a backend when the application never ran its shutdown. */
  if (self->backend != NULL)
    sy_backend_stop (self->backend);
  g_clear_object (&self->backend);
  g_clear_object (&self->client);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sy_application_parent_class)->dispose (object);
}

static void
sy_application_finalize (GObject *object)
{
  SyApplication *self = (SyApplication *) object;

  g_clear_pointer (&self->db_path, g_free);
  g_clear_pointer (&self->listen_host, g_free);
  g_clear_pointer (&self->connect_url, g_free);
  g_clear_pointer (&self->base_url, g_free);
  g_clear_pointer (&self->token, g_free);
  g_clear_error (&self->backend_error);

  G_OBJECT_CLASS (sy_application_parent_class)->finalize (object);
}

static void
sy_application_class_init (SyApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = sy_application_dispose;
  object_class->finalize = sy_application_finalize;

  app_class->handle_local_options = sy_application_handle_local_options;
  app_class->startup = sy_application_startup;
  app_class->activate = sy_application_activate;
  app_class->shutdown = sy_application_shutdown;
}

static void
sy_application_init (SyApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("The Switchyard console, with its backend in the same process."));
}

SyApplication *
sy_application_new (const char        *application_id,
                    GApplicationFlags  flags)
{
  g_return_val_if_fail (application_id != NULL, NULL);

  return g_object_new (SY_TYPE_APPLICATION,
                       "application-id", application_id,
                       "flags", flags,
                       "resource-base-path", "/io/github/switchyard/Switchyard",
                       NULL);
}

const char *
sy_application_get_base_url (SyApplication *self)
{
  g_return_val_if_fail (SY_IS_APPLICATION (self), NULL);

  return self->base_url;
}

const char *
sy_application_get_token (SyApplication *self)
{
  g_return_val_if_fail (SY_IS_APPLICATION (self), NULL);

  return self->token;
}

gboolean
sy_application_get_is_remote (SyApplication *self)
{
  g_return_val_if_fail (SY_IS_APPLICATION (self), FALSE);

  return self->connect_url != NULL;
}
