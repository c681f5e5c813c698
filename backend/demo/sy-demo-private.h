/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include "sy-auth-private.h"
#include "sy-store-private.h"
#include "sy-types.h"

G_BEGIN_DECLS

#define SY_TYPE_DEMO (sy_demo_get_type ())
G_DECLARE_FINAL_TYPE (SyDemo, sy_demo, SY, DEMO, GObject)

/* Creates the demo site on first start (any thread but the writer; blocks on SQLite). The
 * device keys of the demo meters are kept in the database's demo_keys table so that the
 * simulator can post as those meters after a restart. */
gboolean  _sy_demo_ensure_site  (SyStore     *store,
                                 GError     **error);

/* Backend thread: posts one reading per demo meter every second to @base_url through the
 * real HTTP ingestion path. */
SyDemo   *_sy_demo_new          (SyStore     *store,
                                 const char  *base_url);
void      _sy_demo_start        (SyDemo      *self);
void      _sy_demo_stop         (SyDemo      *self);

G_END_DECLS
