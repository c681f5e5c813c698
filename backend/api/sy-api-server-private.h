/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include "sy-api-private.h"

G_BEGIN_DECLS

#define SY_TYPE_API_SERVER (sy_api_server_get_type ())
G_DECLARE_FINAL_TYPE (SyApiServer, sy_api_server, SY, API_SERVER, GObject)

/* Backend thread only: create, listen and destroy on the thread whose context is
 * api->context (thread-default while these run). */
SyApiServer *_sy_api_server_new      (const SyApiContext  *api);
gboolean     _sy_api_server_listen   (SyApiServer         *self,
                                      const char          *host,
                                      guint16              port,
                                      GError             **error);
guint16      _sy_api_server_get_port (SyApiServer         *self);
SyApiContext *_sy_api_server_get_api (SyApiServer         *self);
/* Requests being processed (paused messages); the backend waits for 0 before it stops. */
guint        _sy_api_server_get_in_flight (SyApiServer    *self);
void         _sy_api_server_disconnect (SyApiServer       *self);

G_END_DECLS
