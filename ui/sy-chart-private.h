/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include "sy-chart.h"

G_BEGIN_DECLS

/* Internals of SyChart for tests and the bench (tests/ui/test-chart.c,
 * tests/bench/sy-bench-chart.c). UI thread only. */

/* "12.3 kW": three significant digits with a k/M prefix. Returns a new string. */
char    *_sy_chart_format_value        (double       value,
                                        const char  *unit);
/* Axis label for @value when ticks are @step apart, with the prefix chosen for @max_abs. */
char    *_sy_chart_format_axis_value   (double       value,
                                        double       step,
                                        double       max_abs,
                                        const char  *unit);

/* Labels of the last snapshot's axes (NULL-terminated; free with g_strfreev). */
char   **_sy_chart_dup_y_labels        (SyChart     *self);
char   **_sy_chart_dup_x_labels        (SyChart     *self);
/* Number of polylines (runs between NaN gaps) the last snapshot stroked. */
guint    _sy_chart_get_drawn_segments  (SyChart     *self);
/* How many snapshots the chart has taken; tests wait for it to grow. */
guint    _sy_chart_get_snapshot_count  (SyChart     *self);
/* Points currently held for @series (after live-window trimming). */
gsize    _sy_chart_get_n_points        (SyChart     *self,
                                        guint        series);
/* Puts the hover line at @x (widget coordinates); a negative @x hides it. */
void     _sy_chart_set_hover           (SyChart     *self,
                                        double       x,
                                        double       y);
/* The hover read-out of the last snapshot, one line per row, or NULL when not hovering. */
char    *_sy_chart_dup_hover_text      (SyChart     *self);

typedef enum
{
  SY_CHART_LINES_RASTER,
  SY_CHART_LINES_CAIRO,
  SY_CHART_LINES_RECTS,
} SyChartLineMode;

/* How the lines are drawn: anti-aliased lines rasterised into one texture (the default, the
 * fastest in the bench), anti-aliased cairo strokes, or one colour node per step between
 * neighbouring points (cairo for the steps wider than 2 px). */
void     _sy_chart_set_line_mode       (SyChart         *self,
                                        SyChartLineMode  mode);

G_END_DECLS
