/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <adwaita.h>

#include "sy-meter-item.h"
#include "sy-settings.h"

G_BEGIN_DECLS

/* A row of the meters list: name, kind, a 5-minute sparkline and the live power. Activating it
 * activates meters.open with the meter's id. */

#define SY_TYPE_METER_ROW (sy_meter_row_get_type ())
G_DECLARE_FINAL_TYPE (SyMeterRow, sy_meter_row, SY, METER_ROW, AdwActionRow)

GtkWidget   *sy_meter_row_new      (SyMeterItem *item,
                                    SySettings  *settings);
SyMeterItem *sy_meter_row_get_item (SyMeterRow  *self);

G_END_DECLS
