/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* One meter of the site and its newest values, as the pages show them. Values are NaN until a
 * reading has them. UI thread only. Properties: "id", "name", "kind", "power" (W), "energy"
 * (register, kWh), "voltage-a|b|c" (V), "current-a|b|c" (A), "power-factor", "frequency" (Hz),
 * "last-seen-ms" (Unix ms of the newest reading, 0 if none; notified last, once per reading). */

typedef struct
{
  gint64 ts_ms;
  double watts;
} SyPowerPoint;

#define SY_METER_ITEM_HISTORY_MS (15 * 60 * 1000)

#define SY_TYPE_METER_ITEM (sy_meter_item_get_type ())
G_DECLARE_FINAL_TYPE (SyMeterItem, sy_meter_item, SY, METER_ITEM, GObject)

SyMeterItem        *sy_meter_item_new              (gint64        id,
                                                    const char   *name,
                                                    const char   *kind);
gint64              sy_meter_item_get_id           (SyMeterItem  *self);
const char         *sy_meter_item_get_name         (SyMeterItem  *self);
const char         *sy_meter_item_get_kind         (SyMeterItem  *self);
double              sy_meter_item_get_power        (SyMeterItem  *self);
double              sy_meter_item_get_energy       (SyMeterItem  *self);
gint64              sy_meter_item_get_last_seen_ms (SyMeterItem  *self);

/* Energy through the meter since local midnight (kWh, signed like its register), kept by
 * SySiteModel from rollups and register deltas. */
double              sy_meter_item_get_today_energy (SyMeterItem  *self);
void                sy_meter_item_set_today_energy (SyMeterItem  *self,
                                                    double        kwh);

/* Applies a stored reading ({"meter_id", "timestamp", "total_power", ...}): a live
 * data.ingested event or a row of /energy-data/latest. Older readings than the newest are
 * ignored. Returns whether it was applied. */
gboolean            sy_meter_item_apply_reading    (SyMeterItem  *self,
                                                    JsonObject   *reading);
/* The power of the last SY_METER_ITEM_HISTORY_MS, oldest first: filled from 1-minute rollups on
 * load, then every live reading. */
void                sy_meter_item_add_history      (SyMeterItem  *self,
                                                    gint64        ts_ms,
                                                    double        watts);
const SyPowerPoint *sy_meter_item_get_history      (SyMeterItem  *self,
                                                    guint        *n_points);

/* "Grid connection", "PV" ... for a kind; and a symbolic icon name. */
const char         *sy_meter_kind_get_label        (const char   *kind);
const char         *sy_meter_kind_get_icon_name    (const char   *kind);

G_END_DECLS
