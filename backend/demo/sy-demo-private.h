/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include "sy-auth-private.h"
#include "sy-store-private.h"
#include "sy-types.h"

G_BEGIN_DECLS

#define SY_TYPE_DEMO (sy_demo_get_type ())
G_DECLARE_FINAL_TYPE (SyDemo, sy_demo, SY, DEMO, GObject)

/* Creates the demo site "Demo depot" with its meters and groups through the registry, once:
 * whatever already exists (looked up by name) is kept, so this is idempotent across restarts.
 * Any thread but the writer and the backend thread; blocks on SQLite. */
gboolean  _sy_demo_ensure_site  (SyStore     *store,
                                 GError     **error);

/* Backend thread (its GMainContext must be thread-default): posts one reading per demo meter
 * every second to @base_url through the real HTTP ingestion path. Only key hashes are stored,
 * so _sy_demo_start() rotates the demo meters' device keys on a worker thread to get keys it
 * can post with. _sy_demo_stop() cancels the timer and the requests in flight; it may be called
 * more than once, and before the last unref. */
SyDemo   *_sy_demo_new          (SyStore     *store,
                                 const char  *base_url);
void      _sy_demo_start        (SyDemo      *self);
void      _sy_demo_stop         (SyDemo      *self);
/* Backend thread. While paused the simulator keeps its clock and state but posts nothing, so
 * that tests can make the data go stale; resuming posts again from the next tick. */
void      _sy_demo_set_paused   (SyDemo      *self,
                                 gboolean     paused);

G_END_DECLS
