/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <glib-object.h>

#include "sy-api-private.h"

G_BEGIN_DECLS

/* SyMqtt: the MQTT gateway on libmosquitto. Ingests readings from `<prefix>/ingest/<device-key>`
 * through the same path as HTTP (_sy_api_verify_device(), _sy_api_ingest_submit()) and publishes
 * every event of the bus to `<prefix>/events/<type>/<meter_id>` (QoS 0, not retained).
 *
 * libmosquitto owns no thread: its socket is watched on the backend context and
 * mosquitto_loop_read/write/misc are called from there (STYLE.md §5 item 7). Created, used and
 * destroyed on the backend thread, except _sy_mqtt_get_stats(), which any thread may call. */

typedef struct
{
  const char *url;          /* mqtt://[user[:password]@]host[:port] (1883) or mqtts:// (8883) */
  const char *client_id;    /* NULL: "switchyard-<hostname>"; must be stable (persistent session) */
  const char *prefix;       /* NULL: "switchyard" */
  const char *share_group;  /* NULL: plain subscription; else $share/<group>/<prefix>/ingest/+ */
} SyMqttConfig;

#define SY_MQTT_DEFAULT_PREFIX "switchyard"

#define SY_TYPE_MQTT (sy_mqtt_get_type ())
G_DECLARE_FINAL_TYPE (SyMqtt, sy_mqtt, SY, MQTT, GObject)

/* Checks the configuration (the URL, the prefix) and starts connecting in the background; never
 * fails because the broker is away (it retries with backoff). @api must outlive the client. */
SyMqtt     *_sy_mqtt_new        (SyApiContext        *api,
                                 const SyMqttConfig  *config,
                                 GError             **error);
/* Unsubscribes from the bus, sends DISCONNECT (the broker keeps the session), stops retrying. */
void        _sy_mqtt_shutdown   (SyMqtt              *self);
/* Any thread. @out_state: "connecting", "connected", "disconnected" or "stopped" (static). */
void        _sy_mqtt_get_stats  (SyMqtt              *self,
                                 const char         **out_state,
                                 guint64             *out_received,
                                 guint64             *out_rejected,
                                 guint64             *out_published);

G_END_DECLS
