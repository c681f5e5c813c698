/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <libsoup/soup.h>

#include "sy-auth-private.h"
#include "sy-event-bus-private.h"
#include "sy-types.h"

G_BEGIN_DECLS

/* SyWsHub: the live stream, /api/stream over WebSocket. It subscribes to the event bus while it
 * has clients and fans each event out, serialised once, to every client whose topics match,
 * through a bounded per-client queue. Created, used and destroyed on the backend thread, except
 * _sy_ws_hub_get_stats(), which any thread may call. */

#define SY_WS_HUB_DEFAULT_HEARTBEAT_S 5
#define SY_WS_HUB_DEFAULT_MAX_QUEUE   1024

/* How the hub answers a refused upgrade: the API server's problem+json writer. */
typedef void (*SyWsRejectFunc) (SoupServerMessage *msg,
                                const GError      *error);

#define SY_TYPE_WS_HUB (sy_ws_hub_get_type ())
G_DECLARE_FINAL_TYPE (SyWsHub, sy_ws_hub, SY, WS_HUB, GObject)

/* @in_flight: the API server's count of paused requests (the hub pauses the upgrade request
 * while a worker checks the token); it must outlive the hub. */
SyWsHub  *_sy_ws_hub_new       (SyEventBus        *bus,
                                SyAuth            *auth,
                                SyWsRejectFunc     reject_func,
                                guint             *in_flight);
/* Handles GET /api/stream: checks the credentials (Authorization: Bearer or ?access_token=,
 * scope stream:read), the handshake and the query (?topics=, ?heartbeat=), then upgrades.
 * Anything wrong is answered by @reject, without upgrading. */
void      _sy_ws_hub_upgrade   (SyWsHub           *self,
                                SoupServerMessage *msg);
/* Closes every client with 1001 (going away) and waits briefly for the closing handshakes;
 * no client is accepted afterwards. Runs the thread-default main context. */
void      _sy_ws_hub_shutdown  (SyWsHub           *self);
/* Any thread. */
void      _sy_ws_hub_get_stats (SyWsHub           *self,
                                guint             *out_clients,
                                guint64           *out_dropped);

G_END_DECLS
