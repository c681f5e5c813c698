/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <adwaita.h>

#include "sy-settings.h"
#include "sy-site-model.h"

G_BEGIN_DECLS

/* The site at a glance: live power flow (grid, PV, battery, EV charging, buildings), today's
 * energy and a live 15-minute chart. */

#define SY_TYPE_OVERVIEW_PAGE (sy_overview_page_get_type ())
G_DECLARE_FINAL_TYPE (SyOverviewPage, sy_overview_page, SY, OVERVIEW_PAGE, GtkWidget)

void        sy_overview_page_set_model       (SyOverviewPage *self,
                                              SySiteModel    *model,
                                              SySettings     *settings);
/* For tests: the text of a flow's value label ("grid", "pv", "battery", "ev", "buildings"). */
const char *sy_overview_page_get_flow_text   (SyOverviewPage *self,
                                              const char     *flow);
GtkWidget  *sy_overview_page_get_chart       (SyOverviewPage *self);

G_END_DECLS
