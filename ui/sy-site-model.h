/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <gio/gio.h>

#include "sy-client.h"
#include "sy-meter-item.h"

G_BEGIN_DECLS

/* The live state of the (first) site that every page shows: its meters as a GListModel of
 * SyMeterItem, their newest values from the WebSocket stream, 15 minutes of power history and
 * today's energy. Loads over SyClient when created; UI thread only.
 *
 * Properties: "client", "loaded" (the first load finished, successfully or not), "site-id"
 * (0 without a site), "site-name", "error" (the load's error message or NULL), "last-data-ms"
 * (wall-clock ms when the last data.ingested event arrived, or of the newest stored reading
 * before that; 0 if none).
 * Signal "updated" (gint64 ts_ms): one or more readings were applied; emitted at most every
 * 250 ms, with the newest reading's timestamp, so pages redraw once per burst of readings. */

#define SY_TYPE_SITE_MODEL (sy_site_model_get_type ())
G_DECLARE_FINAL_TYPE (SySiteModel, sy_site_model, SY, SITE_MODEL, GObject)

SySiteModel *sy_site_model_new               (SyClient     *client);
SyClient    *sy_site_model_get_client        (SySiteModel  *self);
gboolean     sy_site_model_get_loaded        (SySiteModel  *self);
gint64       sy_site_model_get_site_id       (SySiteModel  *self);
const char  *sy_site_model_get_site_name     (SySiteModel  *self);
const char  *sy_site_model_get_error         (SySiteModel  *self);
gint64       sy_site_model_get_last_data_ms  (SySiteModel  *self);
/* (transfer none): a GListModel of SyMeterItem, in id order. */
GListModel  *sy_site_model_get_meters        (SySiteModel  *self);
SyMeterItem *sy_site_model_lookup            (SySiteModel  *self,
                                              gint64        meter_id);
/* Reloads everything (after a reconnect, for instance). */
void         sy_site_model_reload            (SySiteModel  *self);

G_END_DECLS
