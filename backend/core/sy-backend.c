/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-backend"

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "sy-api-server-private.h"
#include "sy-auth-private.h"
#include "sy-automations-private.h"
#include "sy-backend.h"
#include "sy-demo-private.h"
#include "sy-error.h"
#include "sy-event-bus-private.h"
#include "sy-mqtt-private.h"
#include "sy-store-private.h"
#include "sy-time.h"

/* SyBackend is the one place that wires the rooms together; see backend/README.md. */

#define DRAIN_TIMEOUT_MS 5000

struct _SyBackend
{
  GObject          parent_instance;

  SyBackendConfig  config;
  char            *base_url;

  SyStore         *store;
  SyAuth          *auth;

  GThread         *thread;
  GMainContext    *context;
  GMainLoop       *loop;

  /* Backend-thread objects. */
  SyEventBus      *bus;
  SyApiServer     *server;
  SyAutomations   *automations;
  SyMqtt          *mqtt;
  SyDemo          *demo;
  gint64           drain_deadline;

  /* Start-up handshake. */
  GMutex           mutex;
  GCond            cond;
  gboolean         started;
  GError          *start_error;
};

G_DEFINE_FINAL_TYPE (SyBackend, sy_backend, G_TYPE_OBJECT)

char *
sy_backend_default_db_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "switchyard", "switchyard.db", NULL);
}

static void
signal_started (SyBackend *self,
                GError    *error)
{
  g_mutex_lock (&self->mutex);
  self->start_error = error;
  self->started = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);
}

static gpointer
backend_thread_func (gpointer user_data)
{
  SyBackend *self = user_data;
  GError *error = NULL;
  SyApiContext api = { 0 };

  g_main_context_push_thread_default (self->context);

  self->bus = _sy_event_bus_new ();

  api.store = self->store;
  api.auth = self->auth;
  api.bus = self->bus;
  api.context = self->context;
  api.max_body_bytes = self->config.max_body_bytes;
  api.max_bulk_readings = self->config.max_bulk_readings;
  api.started_ms = sy_time_now_ms ();

  {
    SyAutomationsConfig automations_config = {
      self->config.webhook_retry_schedule, self->config.webhook_allow_list,
      self->config.breaker_threshold, self->config.breaker_cooldown_ms, self->config.approval_ttl_s,
      self->config.plugins_dir, self->config.smtp_relay, self->config.smtp_from,
    };

    self->automations = _sy_automations_new (self->store, self->auth, self->bus, &automations_config, &error);
    if (self->automations == NULL)
      {
        g_prefix_error (&error, "Starting automations: ");
        g_clear_object (&self->bus);
        g_main_context_pop_thread_default (self->context);
        signal_started (self, error);
        return NULL;
      }
    api.automations = self->automations;
  }

  self->server = _sy_api_server_new (&api);

  if (self->config.mqtt_url != NULL)
    {
      SyApiContext *server_api = _sy_api_server_get_api (self->server);
      SyMqttConfig mqtt_config = {
        self->config.mqtt_url, self->config.mqtt_client_id, self->config.mqtt_prefix,
        self->config.mqtt_share_group,
      };

      /* Before listening, so that /api/health never sees the field change. */
      self->mqtt = _sy_mqtt_new (server_api, &mqtt_config, &error);
      if (self->mqtt == NULL)
        {
          g_clear_object (&self->server);
          _sy_automations_shutdown (self->automations);
          g_clear_object (&self->automations);
          g_clear_object (&self->bus);
          g_main_context_pop_thread_default (self->context);
          signal_started (self, error);
          return NULL;
        }
      server_api->mqtt = self->mqtt;
    }

  if (!_sy_api_server_listen (self->server, self->config.listen_host, self->config.listen_port, &error))
    {
      if (self->mqtt != NULL)
        _sy_mqtt_shutdown (self->mqtt);
      g_clear_object (&self->server);
      g_clear_object (&self->mqtt);
      _sy_automations_shutdown (self->automations);
      g_clear_object (&self->automations);
      g_clear_object (&self->bus);
      g_main_context_pop_thread_default (self->context);
      signal_started (self, error);
      return NULL;
    }

  {
    const char *host = self->config.listen_host ? self->config.listen_host : "127.0.0.1";
    gboolean v6 = strchr (host, ':') != NULL;

    self->base_url = g_strdup_printf ("http://%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
                                      _sy_api_server_get_port (self->server));
  }

  if (self->config.demo)
    {
      g_autofree char *local_url = g_strdup_printf ("http://127.0.0.1:%u", _sy_api_server_get_port (self->server));

      self->demo = _sy_demo_new (self->store, local_url);
      _sy_demo_start (self->demo);
    }

  signal_started (self, NULL);

  g_main_loop_run (self->loop);

  if (self->demo != NULL)
    _sy_demo_stop (self->demo);
  g_clear_object (&self->demo);
  /* Before the server: no new ingestion; pending commits keep their acks (see sy-mqtt.c). */
  if (self->mqtt != NULL)
    _sy_mqtt_shutdown (self->mqtt);
  _sy_api_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_clear_object (&self->mqtt);
  _sy_automations_shutdown (self->automations);
  g_clear_object (&self->automations);
  g_clear_object (&self->bus);

  /* Let sources that still reference the context run their destroy notifies. */
  while (g_main_context_iteration (self->context, FALSE))
    ;

  g_main_context_pop_thread_default (self->context);

  return NULL;
}

static void
sy_backend_dispose (GObject *object)
{
  SyBackend *self = (SyBackend *) object;

  sy_backend_stop (self);

  G_OBJECT_CLASS (sy_backend_parent_class)->dispose (object);
}

static void
sy_backend_finalize (GObject *object)
{
  SyBackend *self = (SyBackend *) object;

  g_clear_pointer (&self->config.db_path, g_free);
  g_clear_pointer (&self->config.listen_host, g_free);
  g_clear_pointer (&self->config.webhook_retry_schedule, g_free);
  g_clear_pointer (&self->config.webhook_allow_list, g_free);
  g_clear_pointer (&self->config.plugins_dir, g_free);
  g_clear_pointer (&self->config.smtp_relay, g_free);
  g_clear_pointer (&self->config.smtp_from, g_free);
  g_clear_pointer (&self->config.mqtt_url, g_free);
  g_clear_pointer (&self->config.mqtt_client_id, g_free);
  g_clear_pointer (&self->config.mqtt_prefix, g_free);
  g_clear_pointer (&self->config.mqtt_share_group, g_free);
  g_clear_pointer (&self->base_url, g_free);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_error (&self->start_error);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (sy_backend_parent_class)->finalize (object);
}

static void
sy_backend_class_init (SyBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sy_backend_dispose;
  object_class->finalize = sy_backend_finalize;
}

static void
sy_backend_init (SyBackend *self)
{
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
}

SyBackend *
sy_backend_new (const SyBackendConfig *config)
{
  SyBackend *self;

  g_return_val_if_fail (config != NULL, NULL);

  self = g_object_new (SY_TYPE_BACKEND, NULL);
  self->config = *config;
  self->config.db_path = config->db_path ? g_strdup (config->db_path) : sy_backend_default_db_path ();
  self->config.listen_host = g_strdup (config->listen_host ? config->listen_host : "127.0.0.1");
  self->config.webhook_retry_schedule = g_strdup (config->webhook_retry_schedule);
  self->config.webhook_allow_list = g_strdup (config->webhook_allow_list);
  self->config.plugins_dir = g_strdup (config->plugins_dir);
  self->config.smtp_relay = g_strdup (config->smtp_relay);
  self->config.smtp_from = g_strdup (config->smtp_from);
  self->config.mqtt_url = g_strdup (config->mqtt_url);
  self->config.mqtt_client_id = g_strdup (config->mqtt_client_id);
  self->config.mqtt_prefix = g_strdup (config->mqtt_prefix);
  self->config.mqtt_share_group = g_strdup (config->mqtt_share_group);

  return self;
}

gboolean
sy_backend_start (SyBackend  *self,
                  GError    **error)
{
  g_return_val_if_fail (SY_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (self->thread == NULL, FALSE);

  self->store = _sy_store_open (self->config.db_path, error);
  if (self->store == NULL)
    return FALSE;

  self->auth = _sy_auth_new (self->store, self->config.token_ttl_s);

  if (self->config.demo && !_sy_demo_ensure_site (self->store, error))
    {
      g_prefix_error (error, "Creating the demo site: ");
      goto fail;
    }

  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->started = FALSE;
  self->thread = g_thread_new ("sy-backend", backend_thread_func, self);

  g_mutex_lock (&self->mutex);
  while (!self->started)
    g_cond_wait (&self->cond, &self->mutex);
  g_mutex_unlock (&self->mutex);

  if (self->start_error != NULL)
    {
      g_thread_join (g_steal_pointer (&self->thread));
      g_propagate_error (error, g_steal_pointer (&self->start_error));
      goto fail;
    }

  return TRUE;

fail:
  _sy_store_close (self->store);
  g_clear_object (&self->auth);
  g_clear_object (&self->store);
  return FALSE;
}

/* Waits on the backend thread for paused requests to get their commit, so that a clean stop
 * answers everything it accepted, then quits the loop. */
static gboolean
drain_cb (gpointer user_data)
{
  SyBackend *self = user_data;

  if (self->demo != NULL)
    _sy_demo_stop (self->demo);

  if (_sy_api_server_get_in_flight (self->server) == 0 ||
      g_get_monotonic_time () / 1000 > self->drain_deadline)
    {
      g_main_loop_quit (self->loop);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static gboolean
begin_stop_cb (gpointer user_data)
{
  SyBackend *self = user_data;
  GSource *source;

  self->drain_deadline = g_get_monotonic_time () / 1000 + DRAIN_TIMEOUT_MS;
  source = g_timeout_source_new (5);
  g_source_set_callback (source, drain_cb, self, NULL);
  g_source_attach (source, self->context);
  g_source_unref (source);

  return G_SOURCE_REMOVE;
}

void
sy_backend_stop (SyBackend *self)
{
  g_return_if_fail (SY_IS_BACKEND (self));

  if (self->thread != NULL)
    {
      g_main_context_invoke (self->context, begin_stop_cb, self);
      g_thread_join (g_steal_pointer (&self->thread));
    }

  if (self->store != NULL)
    _sy_store_close (self->store);
  g_clear_object (&self->auth);
  g_clear_object (&self->store);
}

const char *
sy_backend_get_base_url (SyBackend *self)
{
  g_return_val_if_fail (SY_IS_BACKEND (self), NULL);

  return self->base_url;
}

guint16
sy_backend_get_port (SyBackend *self)
{
  const char *colon;

  g_return_val_if_fail (SY_IS_BACKEND (self), 0);

  if (self->base_url == NULL)
    return 0;
  colon = strrchr (self->base_url, ':');
  return (guint16) g_ascii_strtoull (colon + 1, NULL, 10);
}

const char *
sy_backend_get_db_path (SyBackend *self)
{
  g_return_val_if_fail (SY_IS_BACKEND (self), NULL);

  return self->config.db_path;
}

char *
sy_backend_dup_admin_token (SyBackend *self)
{
  g_return_val_if_fail (SY_IS_BACKEND (self), NULL);
  g_return_val_if_fail (self->auth != NULL, NULL);

  return _sy_auth_add_memory_token (self->auth, "admin");
}

typedef struct
{
  SyBackend *self;
  gboolean   paused;
} PauseData;

static gboolean
set_paused_cb (gpointer user_data)
{
  PauseData *data = user_data;

  if (data->self->demo != NULL)
    _sy_demo_set_paused (data->self->demo, data->paused);

  return G_SOURCE_REMOVE;
}

static void
pause_data_free (gpointer user_data)
{
  PauseData *data = user_data;

  g_object_unref (data->self);
  g_free (data);
}

void
sy_backend_set_simulator_paused (SyBackend *self,
                                 gboolean   paused)
{
  PauseData *data;

  g_return_if_fail (SY_IS_BACKEND (self));

  if (self->thread == NULL)
    return;

  data = g_new0 (PauseData, 1);
  data->self = g_object_ref (self);
  data->paused = paused;
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, set_paused_cb, data, pause_data_free);
}

gboolean
sy_backend_create_client (const char  *db_path,
                          const char  *name,
                          const char  *scopes,
                          char       **out_client_id,
                          char       **out_secret,
                          GError     **error)
{
  g_autoptr(SyStore) store = NULL;
  g_autoptr(SyAuth) auth = NULL;
  g_autofree char *path = db_path ? g_strdup (db_path) : sy_backend_default_db_path ();
  gboolean ret;

  store = _sy_store_open (path, error);
  if (store == NULL)
    return FALSE;

  auth = _sy_auth_new (store, 0);
  ret = _sy_auth_create_client (auth, name, scopes, out_client_id, out_secret, error);
  _sy_store_close (store);

  return ret;
}
