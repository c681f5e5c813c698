/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* SyChart: time-series chart drawn with GtkSnapshot. Axes with units and time labels, hover
 * read-out (time and every visible series' value at the pointer), per-pixel min/max decimation
 * so long ranges cost no more than the widget is wide, and a live mode that scrolls with the
 * frame clock. Values are in base units (W, V, A, Hz...); the axis scales to k/M by itself.
 * Series ids are small integers returned by sy_chart_add_series(). */

#define SY_TYPE_CHART (sy_chart_get_type ())
G_DECLARE_FINAL_TYPE (SyChart, sy_chart, SY, CHART, GtkWidget)

GtkWidget  *sy_chart_new                 (void);

/* "W", "V", "A", "Hz", "%", "Wh"...: the y axis appends it after the k/M prefix. */
void        sy_chart_set_unit            (SyChart       *self,
                                          const char    *unit);
/* Fixed x range in Unix ms (history views). Turns live mode off. */
void        sy_chart_set_time_range      (SyChart       *self,
                                          gint64         from_ms,
                                          gint64         to_ms);
/* Live mode: the x axis is [now - window_ms, now] and follows the wall clock on every frame;
 * points older than the window are dropped. */
void        sy_chart_set_live_window     (SyChart       *self,
                                          gint64         window_ms);
/* Compact mode for sparklines in lists: no axes, labels or hover, a single thin line. */
void        sy_chart_set_compact         (SyChart       *self,
                                          gboolean       compact);

/* @color NULL picks the next colour of the palette. */
guint       sy_chart_add_series          (SyChart       *self,
                                          const char    *label,
                                          const GdkRGBA *color);
void        sy_chart_set_series_visible  (SyChart       *self,
                                          guint          series,
                                          gboolean       visible);
/* Removes every series with its points and band; ids and palette colours start again at 0. */
void        sy_chart_clear               (SyChart       *self);

/* Points must arrive in time order per series (an older point than the last is dropped). */
void        sy_chart_append              (SyChart       *self,
                                          guint          series,
                                          gint64         ts_ms,
                                          double         value);
/* Replaces the series' points; @ts_ms ascending. NaN values are gaps. */
void        sy_chart_set_points          (SyChart       *self,
                                          guint          series,
                                          const gint64  *ts_ms,
                                          const double  *values,
                                          gsize          n_points);
/* Optional band around a series (min/max of rollups, prediction intervals); NULL removes it.
 * Same length and times as the series' points. */
void        sy_chart_set_band            (SyChart       *self,
                                          guint          series,
                                          const double  *low,
                                          const double  *high,
                                          gsize          n_points);

/* For tests and the frame-time bench: how many points the last snapshot drew (after
 * decimation), and its duration in microseconds. */
guint       sy_chart_get_drawn_points    (SyChart       *self);
gint64      sy_chart_get_last_snapshot_us (SyChart      *self);

G_END_DECLS
