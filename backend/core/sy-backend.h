/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <glib-object.h>

#include "sy-types.h"

G_BEGIN_DECLS

/* What the application hands the backend; the backend reads no GSettings. */
struct _SyBackendConfig
{
  char     *db_path;            /* NULL: $XDG_DATA_HOME/switchyard/switchyard.db */
  char     *listen_host;        /* NULL: 127.0.0.1 */
  guint16   listen_port;        /* 0: ephemeral */
  gboolean  demo;               /* create the demo site on first start and simulate it */
  gsize     max_body_bytes;     /* 0: 8 MiB */
  guint     max_bulk_readings;  /* 0: 10 000 */
  guint     token_ttl_s;        /* 0: 3600 */
  /* Automations (backend/rules/): webhook retries, SSRF allow-list, breakers, approvals. */
  char     *webhook_retry_schedule; /* NULL: "0,5,300,1800,7200,18000,36000,86400" (seconds) */
  char     *webhook_allow_list;   /* NULL: none; hosts, IPs or CIDRs webhooks may reach although
                                   * loopback/private/link-local (comma-separated) */
  guint     breaker_threshold;    /* 0: 5 consecutive failures open a destination's breaker */
  guint     breaker_cooldown_ms;  /* 0: 60 000 */
  guint     approval_ttl_s;       /* 0: 900 (relay command approvals expire) */
  char     *plugins_dir;          /* NULL: plugin_action deliveries answer "not configured" */
  char     *smtp_relay;           /* NULL: notify_email deliveries answer "not configured"; host:port */
  char     *smtp_from;            /* NULL: switchyard@localhost */
  /* MQTT gateway (backend/stream/sy-mqtt.c); off when mqtt_url is NULL. */
  char     *mqtt_url;             /* mqtt://[user[:password]@]host[:port] or mqtts:// */
  char     *mqtt_client_id;       /* NULL: "switchyard-<hostname>" */
  char     *mqtt_prefix;          /* NULL: "switchyard" */
  char     *mqtt_share_group;     /* NULL: no shared subscription */
};

#define SY_TYPE_BACKEND (sy_backend_get_type ())
G_DECLARE_FINAL_TYPE (SyBackend, sy_backend, SY, BACKEND, GObject)

SyBackend  *sy_backend_new                (const SyBackendConfig  *config);
/* Starts the backend thread and waits until the API listens, or fails with the reason. */
gboolean    sy_backend_start              (SyBackend              *self,
                                           GError                **error);
/* Stops accepting, finishes requests in flight, flushes the writer and closes the store. */
void        sy_backend_stop               (SyBackend              *self);
const char *sy_backend_get_base_url       (SyBackend              *self);
guint16     sy_backend_get_port           (SyBackend              *self);
const char *sy_backend_get_db_path        (SyBackend              *self);
/* An admin token valid for this process only (the console's in-process session). */
char       *sy_backend_dup_admin_token    (SyBackend              *self);
/* Any thread. Stops or resumes the demo simulator's posts (a no-op without --demo), so that
 * tests can make the console's data go stale. Takes effect on the backend thread shortly after. */
void        sy_backend_set_simulator_paused (SyBackend            *self,
                                             gboolean              paused);

/* One-shot maintenance without starting the server (switchyardd --create-client). */
gboolean    sy_backend_create_client      (const char             *db_path,
                                           const char             *name,
                                           const char             *scopes,
                                           char                  **out_client_id,
                                           char                  **out_secret,
                                           GError                **error);

char       *sy_backend_default_db_path    (void);

G_END_DECLS
