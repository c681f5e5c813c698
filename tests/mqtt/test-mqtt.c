/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-mqtt"

#include "config.h"

#include <glib/gstdio.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <signal.h>
#include <string.h>

#include "sy-test-util.h"

/* A real mosquitto broker on a free loopback port, a real switchyardd with --mqtt-url, and
 * libmosquitto as the device. Every wait is bounded and fails the test. */

#define SECRET     "mqtt-hmac-secret"
#define WAIT_S     20

typedef struct
{
  char *topic;
  char *payload;
} Received;

typedef struct
{
  char         *dir;
  guint16       port;
  GSubprocess  *broker;
  SyTestDaemon *daemon;
  char         *token;
  gint64        site;
  gint64        plain;
  char         *plain_key;
  gint64        signed_meter;
  char         *signed_key;
  GPtrArray    *received;       /* Received, from the device's subscriptions */
  guint         acked;          /* PUBACKs the device got */
} MqttFixture;

static void
received_free (gpointer data)
{
  Received *r = data;

  g_free (r->topic);
  g_free (r->payload);
  g_free (r);
}

/* Broker. */

static guint16
free_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, TRUE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
broker_start (MqttFixture *fx)
{
  g_autofree char *conf = g_build_filename (fx->dir, "mosquitto.conf", NULL);
  g_autofree char *text = g_strdup_printf ("listener %u 127.0.0.1\nallow_anonymous true\npersistence false\n",
                                           fx->port);
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  g_file_set_contents (conf, text, -1, &error);
  g_assert_no_error (error);

  fx->broker = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                                 "mosquitto", "-c", conf, NULL);
  g_assert_no_error (error);

  /* Ready when it accepts a connection. */
  for (;;)
    {
      g_autoptr(GSocketClient) client = g_socket_client_new ();
      g_autoptr(GSocketConnection) conn = NULL;
      g_autoptr(GError) connect_error = NULL;

      conn = g_socket_client_connect_to_host (client, "127.0.0.1", fx->port, NULL, &connect_error);
      if (conn != NULL)
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("mosquitto did not listen on %u: %s", fx->port, connect_error->message);
      g_usleep (50000);
    }
}

static void
broker_kill (MqttFixture *fx)
{
  g_autoptr(GError) error = NULL;

  if (fx->broker == NULL)
    return;
  g_subprocess_send_signal (fx->broker, SIGKILL);
  g_subprocess_wait (fx->broker, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&fx->broker);
}

/* REST helpers. */

static JsonObject *
call_object (MqttFixture *fx,
             const char  *method,
             const char  *path,
             const char  *body,
             guint        status)
{
  g_autoptr(SyTestResponse) res = sy_test_json (fx->daemon, method, path, fx->token, body);

  if (res->status != status)
    g_error ("%s %s: expected %u, got %u: %.*s", method, path, status, res->status,
             (int) g_bytes_get_size (res->body), (const char *) g_bytes_get_data (res->body, NULL));
  return json_object_ref (sy_test_response_object (res));
}

static gint64
create_meter (MqttFixture  *fx,
              const char   *extra,
              char        **out_key)
{
  g_autofree char *body = g_strdup_printf ("{\"name\":\"m\",\"site_id\":%" G_GINT64_FORMAT ",\"kind\":\"load\"%s}",
                                           fx->site, extra);
  g_autoptr(JsonObject) obj = call_object (fx, "POST", "/api/energy/meters", body, 201);

  *out_key = g_strdup (json_object_get_string_member (obj, "device_key"));
  return json_object_get_int_member (obj, "id");
}

static gint64
count_readings (MqttFixture *fx,
                gint64       meter)
{
  g_autofree char *path = g_strdup_printf ("/api/energy/energy-data/?meter_id=%" G_GINT64_FORMAT, meter);
  g_autoptr(JsonObject) obj = call_object (fx, "GET", path, NULL, 200);

  return json_object_get_int_member (obj, "count");
}

static JsonObject *
mqtt_health (MqttFixture *fx)
{
  g_autoptr(JsonObject) health = call_object (fx, "GET", "/api/health", NULL, 200);

  g_assert_true (json_object_has_member (health, "mqtt"));
  return json_object_ref (json_object_get_object_member (health, "mqtt"));
}

/* Device. */

static void
device_message_cb (struct mosquitto               *mosq,
                   void                           *user_data,
                   const struct mosquitto_message *message)
{
  MqttFixture *fx = user_data;
  Received *r = g_new0 (Received, 1);

  r->topic = g_strdup (message->topic);
  r->payload = g_strndup (message->payload, message->payloadlen);
  g_ptr_array_add (fx->received, r);
}

static void
device_publish_cb (struct mosquitto *mosq,
                   void             *user_data,
                   int               mid)
{
  MqttFixture *fx = user_data;

  fx->acked++;
}

static struct mosquitto *
device_new (MqttFixture *fx,
            const char  *client_id,
            int          protocol,
            gboolean     clean)
{
  struct mosquitto *mosq = mosquitto_new (client_id, clean, fx);
  int rc;

  g_assert_nonnull (mosq);
  mosquitto_int_option (mosq, MOSQ_OPT_PROTOCOL_VERSION, protocol);
  mosquitto_message_callback_set (mosq, device_message_cb);
  mosquitto_publish_callback_set (mosq, device_publish_cb);
  rc = mosquitto_connect (mosq, "127.0.0.1", fx->port, 30);
  g_assert_cmpint (rc, ==, MOSQ_ERR_SUCCESS);
  return mosq;
}

static void
device_pump (struct mosquitto *mosq)
{
  int rc = mosquitto_loop (mosq, 20, 1);

  if (rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_NO_CONN)
    mosquitto_reconnect (mosq);
}

static void
device_subscribe (struct mosquitto *mosq,
                  const char       *topic)
{
  int mid = 0;

  g_assert_cmpint (mosquitto_subscribe (mosq, &mid, topic, 1), ==, MOSQ_ERR_SUCCESS);
  /* A round trip makes the SUBACK arrive before what follows. */
  for (guint i = 0; i < 20; i++)
    device_pump (mosq);
}

static void
device_publish (struct mosquitto *mosq,
                const char       *topic,
                const char       *payload,
                int               qos,
                const char       *signature)
{
  mosquitto_property *props = NULL;
  int rc;

  if (signature != NULL)
    mosquitto_property_add_string_pair (&props, MQTT_PROP_USER_PROPERTY, "x-signature", signature);
  rc = mosquitto_publish_v5 (mosq, NULL, topic, (int) strlen (payload), payload, qos, FALSE, props);
  mosquitto_property_free_all (&props);
  g_assert_cmpint (rc, ==, MOSQ_ERR_SUCCESS);
  device_pump (mosq);
}

/* Waits, pumping the device, until a message on @topic arrives; returns its payload. */
static char *
wait_message (MqttFixture      *fx,
              struct mosquitto *mosq,
              const char       *topic)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      for (guint i = 0; i < fx->received->len; i++)
        {
          Received *r = g_ptr_array_index (fx->received, i);

          if (g_str_equal (r->topic, topic))
            {
              char *payload = g_steal_pointer (&r->payload);

              g_ptr_array_remove_index (fx->received, i);
              return payload;
            }
        }
      device_pump (mosq);
    }

  g_error ("No message on %s within %d s", topic, WAIT_S);
  return NULL;
}

static void
wait_readings (MqttFixture      *fx,
               struct mosquitto *mosq,
               gint64            meter,
               gint64            expected)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  gint64 n = -1;

  while (g_get_monotonic_time () < deadline)
    {
      n = count_readings (fx, meter);
      if (n == expected)
        return;
      g_assert_cmpint (n, <, expected);
      for (guint i = 0; i < 5; i++)
        device_pump (mosq);
    }

  g_error ("Meter %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT " readings, expected %" G_GINT64_FORMAT,
           meter, n, expected);
}

/* The backend is connected and subscribed when a bad message gets its error back. */
static void
wait_subscribed (MqttFixture      *fx,
                 struct mosquitto *mosq)
{
  g_autofree char *errors = g_strdup_printf ("switchyard/ingest/%s/errors", fx->plain_key);
  g_autofree char *ingest = g_strdup_printf ("switchyard/ingest/%s", fx->plain_key);
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  device_subscribe (mosq, errors);
  while (g_get_monotonic_time () < deadline)
    {
      gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC / 2;

      device_publish (mosq, ingest, "probe", 0, NULL);
      while (g_get_monotonic_time () < until)
        {
          device_pump (mosq);
          for (guint i = 0; i < fx->received->len; i++)
            {
              Received *r = g_ptr_array_index (fx->received, i);

              if (g_str_equal (r->topic, errors))
                {
                  g_ptr_array_set_size (fx->received, 0);
                  return;
                }
            }
        }
    }

  g_error ("The backend did not subscribe within %d s", WAIT_S);
}

static char *
reading (guint i)
{
  return g_strdup_printf ("{\"total_power\":%u,\"timestamp\":\"2025-10-16T1%u:%02u:%02uZ\"}",
                          100 + i, (i / 3600) % 10, (i / 60) % 60, i % 60);
}

/* Fixture. */

static void
fixture_setup (MqttFixture   *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) site = NULL;
  g_autofree char *url = NULL;
  g_autofree char *mosquitto = g_find_program_in_path ("mosquitto");

  g_assert_nonnull (mosquitto);

  fx->dir = g_dir_make_tmp ("sy-mqtt-XXXXXX", &error);
  g_assert_no_error (error);
  fx->port = free_port ();
  fx->received = g_ptr_array_new_with_free_func (received_free);

  broker_start (fx);

  url = g_strdup_printf ("mqtt://127.0.0.1:%u", fx->port);
  {
    const char *args[] = { "--mqtt-url", url, "--mqtt-client-id", "sy-test-backend", NULL };

    fx->daemon = sy_test_daemon_new (args);
  }
  sy_test_daemon_start (fx->daemon);
  fx->token = sy_test_daemon_token (fx->daemon, "admin");

  site = call_object (fx, "POST", "/api/energy/sites", "{\"name\":\"MQTT\"}", 201);
  fx->site = json_object_get_int_member (site, "id");
  fx->plain = create_meter (fx, "", &fx->plain_key);
  fx->signed_meter = create_meter (fx, ",\"hmac_secret\":\"" SECRET "\",\"require_signature\":true", &fx->signed_key);
}

static void
fixture_teardown (MqttFixture   *fx,
                  gconstpointer  data)
{
  sy_test_daemon_free (fx->daemon);
  broker_kill (fx);
  g_free (fx->token);
  g_free (fx->plain_key);
  g_free (fx->signed_key);
  g_ptr_array_unref (fx->received);
  {
    g_autofree char *conf = g_build_filename (fx->dir, "mosquitto.conf", NULL);

    g_unlink (conf);
    g_rmdir (fx->dir);
  }
  g_free (fx->dir);
}

/* Tests. */

static void
test_ingest (MqttFixture   *fx,
             gconstpointer  data)
{
  struct mosquitto *v5 = device_new (fx, "dev-v5", MQTT_PROTOCOL_V5, TRUE);
  struct mosquitto *v311 = device_new (fx, "dev-v311", MQTT_PROTOCOL_V311, TRUE);
  g_autofree char *plain_topic = g_strdup_printf ("switchyard/ingest/%s", fx->plain_key);
  g_autofree char *signed_topic = g_strdup_printf ("switchyard/ingest/%s", fx->signed_key);
  g_autofree char *plain_errors = g_strdup_printf ("%s/errors", plain_topic);
  g_autofree char *signed_errors = g_strdup_printf ("%s/errors", signed_topic);
  g_autoptr(JsonObject) health = NULL;
  gint64 received_before;
  gint64 rejected_before;

  wait_subscribed (fx, v5);
  device_subscribe (v5, signed_errors);
  health = mqtt_health (fx);
  g_assert_cmpstr (json_object_get_string_member (health, "state"), ==, "connected");
  received_before = json_object_get_int_member (health, "received");
  rejected_before = json_object_get_int_member (health, "rejected");
  g_clear_pointer (&health, json_object_unref);

  /* v5 without a signature (the meter needs none), QoS 1. */
  {
    g_autofree char *body = reading (1);

    device_publish (v5, plain_topic, body, 1, NULL);
    wait_readings (fx, v5, fx->plain, 1);
  }

  /* v5 with x-signature. */
  {
    g_autofree char *body = reading (2);
    g_autofree char *sig = sy_test_hmac_hex (SECRET, body);

    device_publish (v5, signed_topic, body, 1, sig);
    wait_readings (fx, v5, fx->signed_meter, 1);
  }

  /* v5 bulk, an array. */
  {
    g_autofree char *a = reading (3);
    g_autofree char *b = reading (4);
    g_autofree char *body = g_strdup_printf ("[%s,%s]", a, b);

    device_publish (v5, plain_topic, body, 0, NULL);
    wait_readings (fx, v5, fx->plain, 3);
  }

  /* v3.1.1 envelope, signed. */
  {
    g_autofree char *body = reading (5);
    g_autofree char *sig = sy_test_hmac_hex (SECRET, body);
    g_autoptr(JsonBuilder) builder = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *envelope = NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "signature");
    json_builder_add_string_value (builder, sig);
    json_builder_set_member_name (builder, "body");
    json_builder_add_string_value (builder, body);
    json_builder_end_object (builder);
    root = json_builder_get_root (builder);
    envelope = json_to_string (root, FALSE);

    g_assert_cmpint (mosquitto_publish (v311, NULL, signed_topic, (int) strlen (envelope), envelope, 1, FALSE),
                     ==, MOSQ_ERR_SUCCESS);
    device_pump (v311);
    wait_readings (fx, v5, fx->signed_meter, 2);
  }

  /* Bad messages: each answered on the errors topic, none stops the subscription. */
  {
    g_autofree char *body = reading (6);
    g_autofree char *payload = NULL;

    /* Not JSON. */
    device_publish (v5, plain_topic, "{not json", 1, NULL);
    payload = wait_message (fx, v5, plain_errors);
    g_assert_nonnull (strstr (payload, "\"status\""));
    g_clear_pointer (&payload, g_free);

    /* A signature that does not match. */
    device_publish (v5, signed_topic, body, 1, "00ff");
    payload = wait_message (fx, v5, signed_errors);
    g_assert_nonnull (strstr (payload, "X-Signature does not match"));
    g_clear_pointer (&payload, g_free);

    /* No signature where one is required. */
    device_publish (v5, signed_topic, body, 1, NULL);
    payload = wait_message (fx, v5, signed_errors);
    g_assert_nonnull (strstr (payload, "requires"));
    g_clear_pointer (&payload, g_free);

    /* An envelope with a body that is not a string. */
    device_publish (v5, plain_topic, "{\"body\":{\"total_power\":1}}", 1, NULL);
    payload = wait_message (fx, v5, plain_errors);
    g_assert_nonnull (strstr (payload, "body"));
    g_clear_pointer (&payload, g_free);
  }

  /* Still subscribed. */
  {
    g_autofree char *body = reading (7);

    device_publish (v5, plain_topic, body, 1, NULL);
    wait_readings (fx, v5, fx->plain, 4);
  }

  health = mqtt_health (fx);
  /* At least: a late probe of wait_subscribed() may land after the baseline. */
  g_assert_cmpint (json_object_get_int_member (health, "rejected") - rejected_before, >=, 4);
  g_assert_cmpint (json_object_get_int_member (health, "received") - received_before, >=, 9);

  mosquitto_destroy (v5);
  mosquitto_destroy (v311);
}

static void
test_events (MqttFixture   *fx,
             gconstpointer  data)
{
  struct mosquitto *dev = device_new (fx, "dev-events", MQTT_PROTOCOL_V5, TRUE);
  g_autofree char *topic = g_strdup_printf ("switchyard/events/data.ingested/%" G_GINT64_FORMAT, fx->plain);
  g_autofree char *body = reading (42);
  g_autofree char *payload = NULL;
  g_autoptr(JsonObject) health = NULL;
  const char *headers[] = { "X-Device-Key", fx->plain_key, NULL };

  wait_subscribed (fx, dev);
  device_subscribe (dev, "switchyard/events/#");

  /* Ingested over HTTP, published over MQTT. */
  {
    g_autoptr(SyTestResponse) res = sy_test_request (fx->daemon, "POST", "/api/energy/energy-data/", headers,
                                                     "application/json", body, -1);
    g_assert_cmpuint (res->status, ==, 201);
  }

  payload = wait_message (fx, dev, topic);
  g_assert_nonnull (strstr (payload, "\"type\":\"data.ingested\""));
  g_assert_nonnull (strstr (payload, "\"total_power\":142"));

  health = mqtt_health (fx);
  g_assert_cmpint (json_object_get_int_member (health, "published"), >=, 1);

  mosquitto_destroy (dev);
}

static void
wait_state (MqttFixture *fx,
            const char  *state)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(JsonObject) health = mqtt_health (fx);

      if (g_str_equal (json_object_get_string_member (health, "state"), state))
        return;
      g_usleep (50000);
    }
  g_error ("MQTT state never became %s", state);
}

static void
test_broker_restart (MqttFixture   *fx,
                     gconstpointer  data)
{
  struct mosquitto *dev = device_new (fx, "dev-restart", MQTT_PROTOCOL_V5, FALSE);
  g_autofree char *topic = g_strdup_printf ("switchyard/ingest/%s", fx->plain_key);
  gint64 deadline;

  wait_subscribed (fx, dev);

  /* The first half, QoS 1. */
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *body = reading (100 + i);

      device_publish (dev, topic, body, 1, NULL);
    }
  wait_readings (fx, dev, fx->plain, 20);

  /* The broker dies; the backend notices and retries. */
  broker_kill (fx);
  wait_state (fx, "disconnected");

  broker_start (fx);
  wait_state (fx, "connected");

  /* The device reconnects with its persistent session and sends the rest, QoS 1. */
  deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  while (mosquitto_reconnect (dev) != MOSQ_ERR_SUCCESS)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50000);
    }
  wait_subscribed (fx, dev);

  fx->acked = 0;
  for (guint i = 20; i < 40; i++)
    {
      g_autofree char *body = reading (100 + i);

      device_publish (dev, topic, body, 1, NULL);
    }
  wait_readings (fx, dev, fx->plain, 40);

  deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  while (fx->acked < 20)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      device_pump (dev);
    }

  mosquitto_destroy (dev);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  mosquitto_lib_init ();

  /* The broker is in /usr/sbin, which a user's PATH may lack; set before any thread starts. */
  {
    g_autofree char *path = g_strconcat ("/usr/sbin:/usr/local/sbin:", g_getenv ("PATH"), NULL);

    g_setenv ("PATH", path, TRUE);
  }

  g_test_add ("/switchyard/mqtt/ingest", MqttFixture, NULL, fixture_setup, test_ingest, fixture_teardown);
  g_test_add ("/switchyard/mqtt/events", MqttFixture, NULL, fixture_setup, test_events, fixture_teardown);
  g_test_add ("/switchyard/mqtt/broker-restart", MqttFixture, NULL, fixture_setup, test_broker_restart,
              fixture_teardown);

  ret = g_test_run ();
  mosquitto_lib_cleanup ();
  return ret;
}
