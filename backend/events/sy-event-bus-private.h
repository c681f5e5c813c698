/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

#include "sy-types.h"

G_BEGIN_DECLS

/* The event bus lives on the backend thread: emit and subscribe there only. Subscribers are
 * called synchronously and must stay short (hand heavy work to a worker). */

#define SY_EVENT_DATA_INGESTED "data.ingested"

typedef void (*SyEventFunc) (const char *type,
                             gint64      ts_ms,
                             JsonNode   *data,
                             gpointer    user_data);

#define SY_TYPE_EVENT_BUS (sy_event_bus_get_type ())
G_DECLARE_FINAL_TYPE (SyEventBus, sy_event_bus, SY, EVENT_BUS, GObject)

SyEventBus *_sy_event_bus_new               (void);
/* @type NULL subscribes to every event. Returns an id for _sy_event_bus_unsubscribe(). */
guint       _sy_event_bus_subscribe         (SyEventBus     *self,
                                             const char     *type,
                                             SyEventFunc     func,
                                             gpointer        user_data,
                                             GDestroyNotify  destroy);
void        _sy_event_bus_unsubscribe       (SyEventBus     *self,
                                             guint           id);
gboolean    _sy_event_bus_has_subscribers   (SyEventBus     *self,
                                             const char     *type);
void        _sy_event_bus_emit              (SyEventBus     *self,
                                             const char     *type,
                                             gint64          ts_ms,
                                             JsonNode       *data);
guint64     _sy_event_bus_get_emitted       (SyEventBus     *self);

G_END_DECLS
