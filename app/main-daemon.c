/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "switchyardd"

#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sy-backend.h"

/* switchyardd: the backend without GTK. Option parsing and nothing else. */

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
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--listen expects HOST:PORT, got “%s”", text);
      return FALSE;
    }

  if (!g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &value, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--listen: “%s” is not a port number (0-65535)", colon + 1);
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
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SyBackend) backend = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *create_client = NULL;
  g_autofree char *scopes = NULL;
  gboolean demo = FALSE;
  gboolean version = FALSE;
  gint64 max_body = 0;
  int max_bulk = 0;
  int token_ttl = 0;
  g_autofree char *webhook_schedule = NULL;
  g_autofree char *webhook_allow = NULL;
  g_autofree char *plugins_dir = NULL;
  g_autofree char *smtp_relay = NULL;
  g_autofree char *smtp_from = NULL;
  g_autofree char *mqtt_url = NULL;
  g_autofree char *mqtt_client_id = NULL;
  g_autofree char *mqtt_prefix = NULL;
  g_autofree char *mqtt_share_group = NULL;
  int breaker_threshold = 0;
  int breaker_cooldown_ms = 0;
  int approval_ttl = 0;
  SyBackendConfig config = { 0 };
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path, "SQLite database (default: $XDG_DATA_HOME/switchyard/switchyard.db)", "PATH" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, "Address of the API (default 127.0.0.1:8080; port 0 picks a free one)", "HOST:PORT" },
    { "demo", 0, 0, G_OPTION_ARG_NONE, &demo, "Create a demo site on first start and simulate its meters", NULL },
    { "create-client", 0, 0, G_OPTION_ARG_STRING, &create_client, "Create an OAuth2 client, print its credentials as JSON and exit", "NAME" },
    { "scopes", 0, 0, G_OPTION_ARG_STRING, &scopes, "Scopes of the new client, e.g. \"admin\" or \"meters:read analytics:read\"", "SCOPES" },
    { "max-body-bytes", 0, 0, G_OPTION_ARG_INT64, &max_body, "Largest request body (default 8 MiB)", "BYTES" },
    { "max-bulk-readings", 0, 0, G_OPTION_ARG_INT, &max_bulk, "Most readings in one bulk request (default 10000)", "N" },
    { "token-ttl", 0, 0, G_OPTION_ARG_INT, &token_ttl, "Lifetime of access tokens in seconds (default 3600)", "SECONDS" },
    { "webhook-retry-schedule", 0, 0, G_OPTION_ARG_STRING, &webhook_schedule, "Seconds before each webhook attempt (default 0,5,300,1800,7200,18000,36000,86400)", "S,S,..." },
    { "webhook-allow", 0, 0, G_OPTION_ARG_STRING, &webhook_allow, "Hosts, IPs or CIDRs webhooks may reach although loopback/private (comma-separated)", "HOSTS" },
    { "breaker-threshold", 0, 0, G_OPTION_ARG_INT, &breaker_threshold, "Consecutive webhook failures that open a destination's circuit breaker (default 5)", "N" },
    { "breaker-cooldown-ms", 0, 0, G_OPTION_ARG_INT, &breaker_cooldown_ms, "Time before an open breaker lets a probe through (default 60000)", "MS" },
    { "plugins-dir", 0, 0, G_OPTION_ARG_FILENAME, &plugins_dir, "Directory of the executables plugin_action may run (default: none)", "DIR" },
    { "smtp-relay", 0, 0, G_OPTION_ARG_STRING, &smtp_relay, "SMTP relay for notify_email (plain SMTP, no auth; default: none)", "HOST:PORT" },
    { "smtp-from", 0, 0, G_OPTION_ARG_STRING, &smtp_from, "Sender of notify_email messages (default switchyard@localhost)", "ADDRESS" },
    { "approval-ttl", 0, 0, G_OPTION_ARG_INT, &approval_ttl, "Lifetime of relay command approvals in seconds (default 900)", "SECONDS" },
    { "mqtt-url", 0, 0, G_OPTION_ARG_STRING, &mqtt_url, "MQTT broker for ingestion and events (default: MQTT off)", "mqtt://[USER[:PASSWORD]@]HOST[:PORT]" },
    { "mqtt-client-id", 0, 0, G_OPTION_ARG_STRING, &mqtt_client_id, "MQTT client id, stable across restarts (default switchyard-HOSTNAME)", "ID" },
    { "mqtt-prefix", 0, 0, G_OPTION_ARG_STRING, &mqtt_prefix, "MQTT topic prefix (default switchyard)", "PREFIX" },
    { "mqtt-share-group", 0, 0, G_OPTION_ARG_STRING, &mqtt_share_group, "Subscribe to ingestion as $share/GROUP/… to split it between backends", "GROUP" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");

  context = g_option_context_new ("— Switchyard backend without a console");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("switchyardd: %s\n", error->message);
      return EXIT_FAILURE;
    }

  if (version)
    {
      g_print ("switchyardd %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  if (create_client != NULL)
    {
      g_autofree char *client_id = NULL;
      g_autofree char *secret = NULL;

      if (!sy_backend_create_client (db_path, create_client, scopes ? scopes : "", &client_id, &secret, &error))
        {
          g_printerr ("switchyardd: cannot create client: %s\n", error->message);
          return EXIT_FAILURE;
        }

      /* Both values are URL-safe base64 / UUID text: nothing to escape. */
      g_print ("{\"client_id\": \"%s\", \"client_secret\": \"%s\"}\n", client_id, secret);
      return EXIT_SUCCESS;
    }

  if (max_body < 0 || max_bulk < 0 || token_ttl < 0 || breaker_threshold < 0 || breaker_cooldown_ms < 0 ||
      approval_ttl < 0)
    {
      g_printerr ("switchyardd: limits must not be negative\n");
      return EXIT_FAILURE;
    }

  if (!parse_listen (listen ? listen : "127.0.0.1:8080", &config.listen_host, &config.listen_port, &error))
    {
      g_printerr ("switchyardd: %s\n", error->message);
      return EXIT_FAILURE;
    }

  config.db_path = db_path;
  config.demo = demo;
  config.max_body_bytes = (gsize) max_body;
  config.max_bulk_readings = (guint) max_bulk;
  config.token_ttl_s = (guint) token_ttl;
  config.webhook_retry_schedule = webhook_schedule;
  config.webhook_allow_list = webhook_allow;
  config.breaker_threshold = (guint) breaker_threshold;
  config.breaker_cooldown_ms = (guint) breaker_cooldown_ms;
  config.approval_ttl_s = (guint) approval_ttl;
  config.plugins_dir = plugins_dir;
  config.smtp_relay = smtp_relay;
  config.smtp_from = smtp_from;
  config.mqtt_url = mqtt_url;
  config.mqtt_client_id = mqtt_client_id;
  config.mqtt_prefix = mqtt_prefix;
  config.mqtt_share_group = mqtt_share_group;

  backend = sy_backend_new (&config);
  g_free (config.listen_host);

  if (!sy_backend_start (backend, &error))
    {
      g_printerr ("switchyardd: %s\n", error->message);
      return EXIT_FAILURE;
    }

  g_print ("listening on %s\n", sy_backend_get_base_url (backend));
  fflush (stdout);
  g_message ("Database: %s", sy_backend_get_db_path (backend));

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_main_loop_run (loop);

  g_message ("Stopping: finishing requests and flushing the store");
  sy_backend_stop (backend);

  return EXIT_SUCCESS;
}
