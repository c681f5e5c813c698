/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* SyHeatmap: a matrix of values (rows × columns) drawn with GtkSnapshot as coloured cells on a
 * sequential scale of Adwaita palette colours, with row and column labels, a legend with the
 * range and unit, and a read-out of the cell under the pointer. NaN cells are empty. */

#define SY_TYPE_HEATMAP (sy_heatmap_get_type ())
G_DECLARE_FINAL_TYPE (SyHeatmap, sy_heatmap, SY, HEATMAP, GtkWidget)

GtkWidget  *sy_heatmap_new          (void);

/* @values: @n_rows × @n_columns, row-major (copied). @row_labels / @column_labels: one per row /
 * column (copied); a column label may be NULL or "" to leave that column unlabelled. @unit:
 * "kWh", "W"... Passing 0 rows clears the map. */
void        sy_heatmap_set_data     (SyHeatmap          *self,
                                     guint               n_rows,
                                     guint               n_columns,
                                     const double       *values,
                                     const char * const *row_labels,
                                     const char * const *column_labels,
                                     const char         *unit);
guint       sy_heatmap_get_n_rows    (SyHeatmap          *self);
guint       sy_heatmap_get_n_columns (SyHeatmap          *self);
/* Cells with a value (not NaN). */
guint       sy_heatmap_get_n_cells   (SyHeatmap          *self);
/* The read-out text of the cell at widget coordinates (@x, @y), or NULL outside the cells; the
 * same text the widget shows on hover. */
char       *sy_heatmap_dup_readout_at (SyHeatmap         *self,
                                       double             x,
                                       double             y);

G_END_DECLS
