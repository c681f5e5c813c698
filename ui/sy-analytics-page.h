/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "sy-chart.h"
#include "sy-heatmap.h"
#include "sy-site-model.h"

G_BEGIN_DECLS

/* Analytics: key figures, a load-profile heat map and a forecast for the site, a group or a
 * meter over a chosen range (/api/energy/analytics/), and a streamed CSV export into a file.
 * Actions: analytics.refresh, analytics.export (asks for a file), analytics.cancel-export.
 * Read-only (kiosk) mode disables the export, which writes to disk. */

typedef enum
{
  SY_ANALYTICS_RANGE_TODAY,
  SY_ANALYTICS_RANGE_YESTERDAY,
  SY_ANALYTICS_RANGE_LAST_7_DAYS,
  SY_ANALYTICS_RANGE_LAST_30_DAYS,
  SY_ANALYTICS_RANGE_CUSTOM,
} SyAnalyticsRange;

#define SY_TYPE_ANALYTICS_PAGE (sy_analytics_page_get_type ())
G_DECLARE_FINAL_TYPE (SyAnalyticsPage, sy_analytics_page, SY, ANALYTICS_PAGE, GtkWidget)

void        sy_analytics_page_set_model        (SyAnalyticsPage  *self,
                                                SySiteModel      *model);
void        sy_analytics_page_set_read_only    (SyAnalyticsPage  *self,
                                                gboolean          read_only);
void        sy_analytics_page_refresh          (SyAnalyticsPage  *self);
void        sy_analytics_page_set_range        (SyAnalyticsPage  *self,
                                                SyAnalyticsRange  range);
/* A custom range in Unix ms (the calendars show its days). */
void        sy_analytics_page_set_custom_range (SyAnalyticsPage  *self,
                                                gint64            from_ms,
                                                gint64            to_ms);
/* @type: "site", "group" or "meter"; FALSE if the picker has no such entity. */
gboolean    sy_analytics_page_select_entity    (SyAnalyticsPage  *self,
                                                const char       *type,
                                                gint64            id);
/* Streams the export of the current entity and range into @file (what the file chooser
 * does after it was answered). */
void        sy_analytics_page_export_to_file   (SyAnalyticsPage  *self,
                                                GFile            *file);

/* The text a KPI card shows for @key ("energy_imported_kwh", "peak_demand_15min_kw",
 * "load_factor", "pv_yield_kwh", "self_consumption_pct", "autarky_pct", "completeness_pct"...)
 * of a /api/energy/analytics/kpi answer. */
char       *sy_analytics_format_kpi            (JsonObject       *kpi,
                                                const char       *key);

/* For tests. */
gboolean    sy_analytics_page_get_busy         (SyAnalyticsPage  *self);
gboolean    sy_analytics_page_get_exporting    (SyAnalyticsPage  *self);
/* The query of the last load: "meter_id=3&from=...&to=..." */
const char *sy_analytics_page_get_query        (SyAnalyticsPage  *self);
SyHeatmap  *sy_analytics_page_get_heatmap      (SyAnalyticsPage  *self);
SyChart    *sy_analytics_page_get_forecast_chart (SyAnalyticsPage *self);
/* "chart" or "empty". */
const char *sy_analytics_page_get_forecast_state (SyAnalyticsPage *self);

G_END_DECLS
