/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-mqtt"

#include "config.h"

#include <errno.h>
#include <mosquitto.h>
#include <stdlib.h>
#include <mqtt_protocol.h>
#include <string.h>

#include "sy-error.h"
#include "sy-mqtt-private.h"
#include "sy-time.h"

/* How QoS 1 is acknowledged only after the commit.
 *
 * libmosquitto 2.0.11 (Debian 12) has no manual acks: mosquitto_manual_ack_set() and
 * mosquitto_manual_ack() do not exist before 2.1, and handle__publish() queues the PUBACK right
 * after on_message returns. What it does have: with mosquitto_threaded_set (TRUE) and no
 * loop_start, a queued packet is only written by mosquitto_loop_write(), which we call. So while
 * any QoS 1 message is still on its way to the writer thread we do not write at all (no G_IO_OUT
 * watch, no loop_write): the PUBACKs stay in this process until every message read before them
 * is committed. If the backend dies in between, the broker never saw the ack and redelivers
 * (persistent session, clean start off, a session expiry interval) — the readings are idempotent
 * (meter, timestamp), so a redelivery is a duplicate, not a second row. The cost: while a commit
 * is pending, our own publishes and PINGREQs wait too (a group commit takes milliseconds), and
 * the broker's in-flight window (our receive maximum) bounds how long that can last. What we
 * cannot do: refuse the ack of a message whose commit *failed*; it is counted as rejected and
 * reported on the errors topic, but the broker will not redeliver it. */

#define KEEPALIVE_S        30
#define RECEIVE_MAXIMUM    256
#define SESSION_EXPIRY_S   (7 * 24 * 3600)
#define BACKOFF_MIN_MS     100
#define BACKOFF_MAX_MS     5000
#define SIGNATURE_PROPERTY "x-signature"

typedef enum
{
  STATE_CONNECTING,
  STATE_CONNECTED,
  STATE_DISCONNECTED,
  STATE_STOPPED,
} State;

static const char * const state_names[] = {
  "connecting", "connected", "disconnected", "stopped",
};

typedef struct
{
  GSource  source;
  SyMqtt  *self;
  gpointer tag;
} MqttSource;

struct _SyMqtt
{
  GObject           parent_instance;

  SyApiContext     *api;              /* borrowed; outlives us */
  struct mosquitto *mosq;
  char             *host;
  int               port;
  char             *prefix;
  char             *ingest_prefix;    /* "<prefix>/ingest/" */
  char             *subscription;     /* "[$share/<group>/]<prefix>/ingest/+" */

  MqttSource       *io_source;        /* while a socket is open */
  int               io_fd;
  guint             misc_id;          /* keepalive: mosquitto_loop_misc once a second */
  guint             reconnect_id;
  guint             backoff_ms;
  guint             bus_id;
  guint             pending_acks;     /* QoS > 0 messages not committed yet: writes wait */
  gboolean          stopping;

  /* Read by _sy_mqtt_get_stats() on any thread. */
  GMutex            mutex;
  State             state;
  guint64           received;
  guint64           rejected;
  guint64           published;
};

G_DEFINE_FINAL_TYPE (SyMqtt, sy_mqtt, G_TYPE_OBJECT)

static void schedule_reconnect (SyMqtt *self);
static void update_watch       (SyMqtt *self);

static void
set_state (SyMqtt *self,
           State   state)
{
  g_mutex_lock (&self->mutex);
  self->state = state;
  g_mutex_unlock (&self->mutex);
}

static void
count (SyMqtt  *self,
       guint64 *counter)
{
  g_mutex_lock (&self->mutex);
  (*counter)++;
  g_mutex_unlock (&self->mutex);
}

/* Socket watch. */

static gboolean
mqtt_source_dispatch (GSource     *source,
                      GSourceFunc  callback,
                      gpointer     user_data)
{
  MqttSource *ms = (MqttSource *) source;
  SyMqtt *self = ms->self;
  GIOCondition revents = g_source_query_unix_fd (source, ms->tag);
  int rc = MOSQ_ERR_SUCCESS;

  if (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR))
    rc = mosquitto_loop_read (self->mosq, 1);
  if (rc == MOSQ_ERR_SUCCESS && (revents & G_IO_OUT) && self->pending_acks == 0)
    rc = mosquitto_loop_write (self->mosq, 1);

  if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket (self->mosq) != self->io_fd)
    {
      if (rc != MOSQ_ERR_SUCCESS)
        g_message ("Connection to %s:%d lost: %s", self->host, self->port, mosquitto_strerror (rc));
      /* The watch is this source: destroy it after returning. */
      schedule_reconnect (self);
      return G_SOURCE_REMOVE;
    }

  update_watch (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs mqtt_source_funcs = {
  NULL, NULL, mqtt_source_dispatch, NULL, NULL, NULL,
};

static void
stop_watch (SyMqtt *self)
{
  if (self->io_source != NULL)
    {
      g_source_destroy ((GSource *) self->io_source);
      g_source_unref ((GSource *) self->io_source);
      self->io_source = NULL;
    }
  self->io_fd = -1;
  g_clear_handle_id (&self->misc_id, g_source_remove);
}

/* Reading always; writing when libmosquitto has something queued and no commit is pending. */
static void
update_watch (SyMqtt *self)
{
  GIOCondition cond = G_IO_IN | G_IO_HUP | G_IO_ERR;

  if (self->io_source == NULL)
    return;
  if (self->pending_acks == 0 && mosquitto_want_write (self->mosq))
    cond |= G_IO_OUT;
  g_source_modify_unix_fd ((GSource *) self->io_source, self->io_source->tag, cond);
}

static gboolean
misc_cb (gpointer user_data)
{
  SyMqtt *self = user_data;
  int rc = mosquitto_loop_misc (self->mosq);

  if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket (self->mosq) != self->io_fd)
    {
      g_message ("Connection to %s:%d lost: %s", self->host, self->port, mosquitto_strerror (rc));
      self->misc_id = 0;
      schedule_reconnect (self);
      return G_SOURCE_REMOVE;
    }

  update_watch (self);
  return G_SOURCE_CONTINUE;
}

static void
start_watch (SyMqtt *self)
{
  GSource *source;

  stop_watch (self);

  self->io_fd = mosquitto_socket (self->mosq);
  source = g_source_new (&mqtt_source_funcs, sizeof (MqttSource));
  g_source_set_static_name (source, "[sy-mqtt] socket");
  self->io_source = (MqttSource *) source;
  self->io_source->self = self;
  self->io_source->tag = g_source_add_unix_fd (source, self->io_fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_attach (source, g_main_context_get_thread_default ());

  self->misc_id = g_timeout_add_seconds (1, misc_cb, self);
  update_watch (self);
}

/* Connecting. */

static gboolean
reconnect_cb (gpointer user_data)
{
  SyMqtt *self = user_data;
  mosquitto_property *props = NULL;
  int rc;

  self->reconnect_id = 0;
  set_state (self, STATE_CONNECTING);

  /* The CONNECT properties are not kept by libmosquitto across reconnects, and only the
   * blocking connect takes them: the TCP connect (and name resolution) blocks this thread. A
   * refused or local connect returns at once; an unreachable remote host can stall it for the
   * kernel's SYN timeout (see the README). */
  mosquitto_property_add_int32 (&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, SESSION_EXPIRY_S);
  mosquitto_property_add_int16 (&props, MQTT_PROP_RECEIVE_MAXIMUM, RECEIVE_MAXIMUM);
  rc = mosquitto_connect_bind_v5 (self->mosq, self->host, self->port, KEEPALIVE_S, NULL, props);
  mosquitto_property_free_all (&props);

  if (rc != MOSQ_ERR_SUCCESS)
    {
      g_debug ("Connecting to %s:%d: %s", self->host, self->port, mosquitto_strerror (rc));
      schedule_reconnect (self);
      return G_SOURCE_REMOVE;
    }

  /* The CONNECT is queued; the watch writes it. */
  start_watch (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (SyMqtt *self)
{
  stop_watch (self);

  if (self->stopping)
    return;

  set_state (self, STATE_DISCONNECTED);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  self->reconnect_id = g_timeout_add (self->backoff_ms, reconnect_cb, self);
  self->backoff_ms = MIN (self->backoff_ms * 2, BACKOFF_MAX_MS);
}

static void
on_connect_cb (struct mosquitto          *mosq,
               void                      *user_data,
               int                        rc,
               int                        flags,
               const mosquitto_property  *props)
{
  SyMqtt *self = user_data;

  if (rc != 0)
    {
      /* The broker closes the connection; the watch notices and retries with backoff. */
      g_warning ("The broker %s:%d refused the connection: %s", self->host, self->port,
                 mosquitto_reason_string (rc));
      return;
    }

  g_message ("Connected to %s:%d, subscribing to %s", self->host, self->port, self->subscription);
  self->backoff_ms = BACKOFF_MIN_MS;
  set_state (self, STATE_CONNECTED);

  /* Resubscribe on every connect: with a kept session this is a no-op for the broker, and it
   * repairs a session the broker lost (restart without persistence). */
  rc = mosquitto_subscribe_v5 (mosq, NULL, self->subscription, 1, 0, NULL);
  if (rc != MOSQ_ERR_SUCCESS)
    g_warning ("Subscribing to %s: %s", self->subscription, mosquitto_strerror (rc));
}

/* Ingestion. */

typedef struct
{
  SyMqtt   *self;
  char     *device_key;
  gboolean  needs_ack;
} MqttIngest;

static void
publish_error (SyMqtt       *self,
               const char   *device_key,
               const char   *topic,
               const GError *error)
{
  g_autoptr(GBytes) problem = NULL;
  g_autofree char *error_topic = NULL;
  const char *data;
  gsize len;
  int rc;

  count (self, &self->rejected);
  g_message ("Rejected a message on %s: %s", topic, error->message);

  if (self->mosq == NULL || device_key == NULL || *device_key == '\0')
    return;

  problem = _sy_problem_to_bytes (error, topic);
  data = g_bytes_get_data (problem, &len);
  error_topic = g_strconcat (self->ingest_prefix, device_key, "/errors", NULL);
  rc = mosquitto_publish_v5 (self->mosq, NULL, error_topic, (int) len, data, 0, FALSE, NULL);
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
    g_debug ("Publishing to %s: %s", error_topic, mosquitto_strerror (rc));
  update_watch (self);
}

static void
ingest_done_cb (const GError *error,
                GArray       *readings,
                guint         inserted,
                gpointer      user_data)
{
  MqttIngest *mi = user_data;
  SyMqtt *self = mi->self;

  if (error != NULL)
    {
      g_autofree char *topic = g_strconcat (self->ingest_prefix, mi->device_key, NULL);

      publish_error (self, mi->device_key, topic, error);
    }

  if (mi->needs_ack)
    {
      g_assert (self->pending_acks > 0);
      self->pending_acks--;
      /* Every message read so far is committed: let the PUBACKs out. */
      if (self->pending_acks == 0)
        update_watch (self);
    }

  g_object_unref (mi->self);
  g_free (mi->device_key);
  g_free (mi);
}

static const char *
skip_space (const char *p,
            const char *end)
{
  while (p < end && g_ascii_isspace (*p))
    p++;
  return p;
}

/* {"signature": "...", "body": "<raw JSON string>"}, the v3.1.1 form (no user properties).
 * Returns FALSE when @payload is not an envelope (then it is the body itself). */
static gboolean
parse_envelope (const char  *payload,
                gsize        len,
                char       **out_body,
                char       **out_signature,
                GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *obj;
  JsonNode *body;
  JsonNode *signature;
  const char *p = skip_space (payload, payload + len);

  /* Cheap tests first: a reading never has a "body" member. */
  if (p == payload + len || *p != '{' || g_strstr_len (payload, len, "\"body\"") == NULL)
    return FALSE;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, payload, len, &local_error))
    return FALSE;
  obj = json_node_get_object (json_parser_get_root (parser));
  if (obj == NULL || !json_object_has_member (obj, "body"))
    return FALSE;

  body = json_object_get_member (obj, "body");
  signature = json_object_get_member (obj, "signature");
  if (json_object_get_size (obj) != (signature != NULL ? 2u : 1u))
    {
      sy_error_set_field (error, "body", "an envelope has only \"signature\" and \"body\"");
      *out_body = NULL;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (body) || json_node_get_value_type (body) != G_TYPE_STRING)
    {
      sy_error_set_field (error, "body", "must be the reading's JSON as a string");
      *out_body = NULL;
      return TRUE;
    }
  if (signature != NULL &&
      (!JSON_NODE_HOLDS_VALUE (signature) || json_node_get_value_type (signature) != G_TYPE_STRING))
    {
      sy_error_set_field (error, "signature", "must be a string (hex HMAC-SHA256 of body)");
      *out_body = NULL;
      return TRUE;
    }

  *out_body = g_strdup (json_node_get_string (body));
  *out_signature = signature != NULL ? g_strdup (json_node_get_string (signature)) : NULL;
  return TRUE;
}

/* The value of the MQTT v5 user property x-signature, or NULL. */
static char *
dup_signature (const mosquitto_property *props)
{
  const mosquitto_property *prop = props;
  gboolean skip_first = FALSE;

  while (prop != NULL)
    {
      char *name = NULL;
      char *value = NULL;

      prop = mosquitto_property_read_string_pair (prop, MQTT_PROP_USER_PROPERTY, &name, &value, skip_first);
      skip_first = TRUE;
      if (prop != NULL && g_strcmp0 (name, SIGNATURE_PROPERTY) == 0)
        {
          char *result = g_strdup (value);

          free (name);
          free (value);
          return result;
        }
      free (name);
      free (value);
    }

  return NULL;
}

static void
on_message_cb (struct mosquitto               *mosq,
               void                           *user_data,
               const struct mosquitto_message *message,
               const mosquitto_property       *props)
{
  SyMqtt *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SyDeviceInfo) device = NULL;
  g_autofree char *envelope_body = NULL;
  g_autofree char *signature = NULL;
  const char *device_key;
  const char *data = message->payload ? message->payload : "";
  gsize len = (gsize) MAX (message->payloadlen, 0);
  const char *start;
  gboolean bulk;
  MqttIngest *mi;

  if (!g_str_has_prefix (message->topic, self->ingest_prefix))
    return;
  device_key = message->topic + strlen (self->ingest_prefix);
  if (strchr (device_key, '/') != NULL)
    return;

  count (self, &self->received);

  signature = dup_signature (props);

  if (signature == NULL && parse_envelope (data, len, &envelope_body, &signature, &error))
    {
      if (envelope_body == NULL)
        goto fail;
      data = envelope_body;
      len = strlen (envelope_body);
    }

  device = _sy_api_verify_device (self->api, device_key, data, len, signature, &error);
  if (device == NULL)
    goto fail;

  /* The HTTP single or bulk body: an array or {"readings": [...]} is bulk. */
  start = skip_space (data, data + len);
  bulk = (start < data + len && *start == '[') || g_strstr_len (data, len, "\"readings\"") != NULL;

  mi = g_new0 (MqttIngest, 1);
  mi->self = g_object_ref (self);
  mi->device_key = g_strdup (device_key);
  mi->needs_ack = message->qos > 0;

  if (!_sy_api_ingest_submit (self->api, device, data, len, bulk, ingest_done_cb, mi, &error))
    {
      g_object_unref (mi->self);
      g_free (mi->device_key);
      g_free (mi);
      goto fail;
    }

  if (mi->needs_ack)
    self->pending_acks++;
  return;

fail:
  publish_error (self, device_key, message->topic, error);
}

/* Publishing. */

static void
event_cb (const char *type,
          gint64      ts_ms,
          JsonNode   *data,
          gpointer    user_data)
{
  SyMqtt *self = user_data;
  g_autoptr(GString) topic = NULL;
  g_autoptr(GString) payload = NULL;
  JsonObject *obj = data != NULL && JSON_NODE_HOLDS_OBJECT (data) ? json_node_get_object (data) : NULL;
  int rc;

  if (self->state != STATE_CONNECTED)
    return;

  topic = g_string_new (self->prefix);
  g_string_append (topic, "/events/");
  g_string_append (topic, type);
  if (obj != NULL && json_object_has_member (obj, "meter_id") &&
      json_node_get_value_type (json_object_get_member (obj, "meter_id")) == G_TYPE_INT64)
    g_string_append_printf (topic, "/%" G_GINT64_FORMAT, json_object_get_int_member (obj, "meter_id"));
  else
    g_string_append (topic, "/none");

  /* The shape of /api/stream's messages. Event types are dotted identifiers: no escaping. */
  payload = g_string_sized_new (256);
  g_string_append (payload, "{\"type\":\"");
  g_string_append (payload, type);
  g_string_append (payload, "\",\"ts\":\"");
  sy_time_append_iso8601 (payload, ts_ms);
  g_string_append_c (payload, '"');
  if (data != NULL)
    {
      g_autofree char *json = json_to_string (data, FALSE);

      g_string_append (payload, ",\"data\":");
      g_string_append (payload, json);
    }
  g_string_append_c (payload, '}');

  rc = mosquitto_publish_v5 (self->mosq, NULL, topic->str, (int) payload->len, payload->str, 0, FALSE, NULL);
  if (rc == MOSQ_ERR_SUCCESS)
    count (self, &self->published);
  else
    g_debug ("Publishing to %s: %s", topic->str, mosquitto_strerror (rc));
  update_watch (self);
}

/* Life cycle. */

static gboolean
prefix_is_valid (const char *prefix)
{
  return *prefix != '\0' && prefix[0] != '/' && !g_str_has_suffix (prefix, "/") &&
         strpbrk (prefix, "+#") == NULL && g_utf8_validate (prefix, -1, NULL);
}

SyMqtt *
_sy_mqtt_new (SyApiContext        *api,
              const SyMqttConfig  *config,
              GError             **error)
{
  static gsize lib_init = 0;
  g_autoptr(SyMqtt) self = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *client_id = NULL;
  const char *scheme;
  int rc;

  g_return_val_if_fail (api != NULL, NULL);
  g_return_val_if_fail (config != NULL && config->url != NULL, NULL);

  if (g_once_init_enter (&lib_init))
    {
      mosquitto_lib_init ();
      g_once_init_leave (&lib_init, 1);
    }

  uri = g_uri_parse (config->url, G_URI_FLAGS_HAS_PASSWORD, error);
  if (uri == NULL)
    {
      g_prefix_error (error, "--mqtt-url: ");
      return NULL;
    }
  scheme = g_uri_get_scheme (uri);
  if ((g_strcmp0 (scheme, "mqtt") != 0 && g_strcmp0 (scheme, "mqtts") != 0) ||
      g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--mqtt-url: expected mqtt://[USER[:PASSWORD]@]HOST[:PORT] or mqtts://…, got “%s”",
                   config->url);
      return NULL;
    }

  self = g_object_new (SY_TYPE_MQTT, NULL);
  self->api = api;
  self->host = g_strdup (g_uri_get_host (uri));
  self->port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : g_str_equal (scheme, "mqtts") ? 8883 : 1883;
  self->prefix = g_strdup (config->prefix ? config->prefix : SY_MQTT_DEFAULT_PREFIX);
  if (!prefix_is_valid (self->prefix))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--mqtt-prefix: “%s” is not a topic prefix (no wildcards, no leading or trailing /)",
                   self->prefix);
      return NULL;
    }
  if (config->share_group != NULL &&
      (*config->share_group == '\0' || strpbrk (config->share_group, "/+#") != NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--mqtt-share-group: “%s” is not a share name", config->share_group);
      return NULL;
    }
  self->ingest_prefix = g_strconcat (self->prefix, "/ingest/", NULL);
  if (config->share_group != NULL)
    self->subscription = g_strdup_printf ("$share/%s/%s+", config->share_group, self->ingest_prefix);
  else
    self->subscription = g_strconcat (self->ingest_prefix, "+", NULL);

  client_id = g_strdup (config->client_id);
  if (client_id == NULL)
    client_id = g_strdup_printf ("switchyard-%s", g_get_host_name ());

  /* Clean start off: the broker keeps our subscription and queues QoS 1 while we are away. */
  self->mosq = mosquitto_new (client_id, FALSE, self);
  if (self->mosq == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "mosquitto_new: %s", g_strerror (errno));
      return NULL;
    }
  /* Queued packets are written only by our loop_write (see the top of this file). */
  mosquitto_threaded_set (self->mosq, TRUE);
  mosquitto_int_option (self->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_int_option (self->mosq, MOSQ_OPT_RECEIVE_MAXIMUM, RECEIVE_MAXIMUM);
  if (g_uri_get_user (uri) != NULL)
    {
      rc = mosquitto_username_pw_set (self->mosq, g_uri_get_user (uri), g_uri_get_password (uri));
      if (rc != MOSQ_ERR_SUCCESS)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--mqtt-url: %s", mosquitto_strerror (rc));
          return NULL;
        }
    }
  if (g_str_equal (scheme, "mqtts"))
    {
      rc = mosquitto_int_option (self->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
      if (rc != MOSQ_ERR_SUCCESS)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "mqtts: %s", mosquitto_strerror (rc));
          return NULL;
        }
    }

  mosquitto_connect_v5_callback_set (self->mosq, on_connect_cb);
  mosquitto_message_v5_callback_set (self->mosq, on_message_cb);

  self->bus_id = _sy_event_bus_subscribe (api->bus, NULL, event_cb, self, NULL);

  set_state (self, STATE_CONNECTING);
  self->reconnect_id = g_idle_add (reconnect_cb, self);

  return g_steal_pointer (&self);
}

void
_sy_mqtt_shutdown (SyMqtt *self)
{
  g_return_if_fail (SY_IS_MQTT (self));

  if (self->stopping)
    return;
  self->stopping = TRUE;

  if (self->bus_id != 0)
    _sy_event_bus_unsubscribe (self->api->bus, self->bus_id);
  self->bus_id = 0;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);

  if (self->io_source != NULL)
    {
      /* Best effort: what is queued (PUBACKs of committed messages among it) and DISCONNECT.
       * With commits still pending the acks stay unsent and the broker redelivers. */
      mosquitto_disconnect_v5 (self->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
      if (self->pending_acks == 0)
        mosquitto_loop_write (self->mosq, 1);
    }
  stop_watch (self);
  set_state (self, STATE_STOPPED);
}

void
_sy_mqtt_get_stats (SyMqtt       *self,
                    const char  **out_state,
                    guint64      *out_received,
                    guint64      *out_rejected,
                    guint64      *out_published)
{
  g_return_if_fail (SY_IS_MQTT (self));

  g_mutex_lock (&self->mutex);
  *out_state = state_names[self->state];
  *out_received = self->received;
  *out_rejected = self->rejected;
  *out_published = self->published;
  g_mutex_unlock (&self->mutex);
}

static void
sy_mqtt_finalize (GObject *object)
{
  SyMqtt *self = (SyMqtt *) object;

  g_assert (self->io_source == NULL);
  g_assert (self->reconnect_id == 0);

  g_clear_pointer (&self->mosq, mosquitto_destroy);
  g_free (self->host);
  g_free (self->prefix);
  g_free (self->ingest_prefix);
  g_free (self->subscription);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (sy_mqtt_parent_class)->finalize (object);
}

static void
sy_mqtt_class_init (SyMqttClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sy_mqtt_finalize;
}

static void
sy_mqtt_init (SyMqtt *self)
{
  g_mutex_init (&self->mutex);
  self->io_fd = -1;
  self->backoff_ms = BACKOFF_MIN_MS;
  self->state = STATE_CONNECTING;
}
