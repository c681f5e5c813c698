/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <adwaita.h>

#include "sy-meter-detail.h"
#include "sy-settings.h"
#include "sy-site-model.h"

G_BEGIN_DECLS

/* The site's meters: a searchable list with live values and sparklines; activating a row
 * (action meters.open, an int64 meter id) shows the meter's detail, meters.back returns. */

#define SY_TYPE_METERS_PAGE (sy_meters_page_get_type ())
G_DECLARE_FINAL_TYPE (SyMetersPage, sy_meters_page, SY, METERS_PAGE, GtkWidget)

void           sy_meters_page_set_model       (SyMetersPage *self,
                                               SySiteModel  *model,
                                               SySettings   *settings);
void           sy_meters_page_focus_search    (SyMetersPage *self);
void           sy_meters_page_show_list       (SyMetersPage *self);
/* For tests. */
GtkEditable   *sy_meters_page_get_search      (SyMetersPage *self);
GListModel    *sy_meters_page_get_filtered    (SyMetersPage *self);
SyMeterDetail *sy_meters_page_get_detail      (SyMetersPage *self);
gboolean       sy_meters_page_get_showing_detail (SyMetersPage *self);

G_END_DECLS
