/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <adwaita.h>

#include "sy-meter-item.h"
#include "sy-settings.h"
#include "sy-client.h"

G_BEGIN_DECLS

/* One meter: a chart over a chosen range (property "range", action detail.range: "live",
 * "1h", "24h", "7d" or "30d"), the range's min/avg/max, and every live electrical value. */

#define SY_TYPE_METER_DETAIL (sy_meter_detail_get_type ())
G_DECLARE_FINAL_TYPE (SyMeterDetail, sy_meter_detail, SY, METER_DETAIL, GtkWidget)

void         sy_meter_detail_set_context (SyMeterDetail *self,
                                          SyClient      *client,
                                          SySettings    *settings);
void         sy_meter_detail_set_item    (SyMeterDetail *self,
                                          SyMeterItem   *item);
SyMeterItem *sy_meter_detail_get_item    (SyMeterDetail *self);
const char  *sy_meter_detail_get_range   (SyMeterDetail *self);
void         sy_meter_detail_set_range   (SyMeterDetail *self,
                                          const char    *range);
/* For tests. */
GtkWidget   *sy_meter_detail_get_chart   (SyMeterDetail *self);
guint        sy_meter_detail_get_n_points (SyMeterDetail *self);

G_END_DECLS
