/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-ui"

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "sy-format.h"
#include "sy-heatmap.h"

#define PAD          6.0
#define INSET        12.0   /* room inside the widget (it is usually a card) */
#define LEGEND_BAR   10.0
#define LEGEND_WIDTH 240.0
#define MIN_LABEL_GAP 16.0  /* space between column labels; labels that do not fit are skipped */

struct _SyHeatmap
{
  GtkWidget       parent_instance;

  guint           n_rows;
  guint           n_columns;
  double         *values;
  GStrv           row_labels;
  GStrv           column_labels;
  char           *unit;
  double          min;
  double          max;
  guint           n_cells;

  PangoAttrList  *attrs;
  double          hover_x;
  double          hover_y;
  gboolean        hovering;
};

G_DEFINE_FINAL_TYPE (SyHeatmap, sy_heatmap, GTK_TYPE_WIDGET)

/* A sequential scale through the Adwaita palette: blue 1, blue 3, yellow 2, orange 3, red 3. */
static const GdkRGBA scale[] = {
  { 0x99 / 255.0, 0xc1 / 255.0, 0xf1 / 255.0, 1 },
  { 0x35 / 255.0, 0x84 / 255.0, 0xe4 / 255.0, 1 },
  { 0xf8 / 255.0, 0xe4 / 255.0, 0x5c / 255.0, 1 },
  { 0xff / 255.0, 0x78 / 255.0, 0x00 / 255.0, 1 },
  { 0xe0 / 255.0, 0x1b / 255.0, 0x24 / 255.0, 1 },
};

static GdkRGBA
color_at (double t)
{
  double pos = CLAMP (t, 0.0, 1.0) * (G_N_ELEMENTS (scale) - 1);
  guint i = MIN ((guint) floor (pos), G_N_ELEMENTS (scale) - 2);
  double f = pos - i;
  const GdkRGBA *a = &scale[i];
  const GdkRGBA *b = &scale[i + 1];

  return (GdkRGBA) { a->red + (b->red - a->red) * f, a->green + (b->green - a->green) * f,
                     a->blue + (b->blue - a->blue) * f, 1 };
}

static PangoLayout *
new_layout (SyHeatmap  *self,
            const char *text)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);

  pango_layout_set_attributes (layout, self->attrs);
  return layout;
}

static void
text_size (SyHeatmap  *self,
           const char *text,
           double     *width,
           double     *height)
{
  g_autoptr(PangoLayout) layout = new_layout (self, text);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  if (width != NULL)
    *width = w;
  if (height != NULL)
    *height = h;
}

typedef struct
{
  double line;      /* text height */
  double x, y;      /* grid origin */
  double w, h;      /* grid size */
  double cell_w, cell_h;
} Geometry;

static gboolean
compute_geometry (SyHeatmap *self,
                  Geometry  *g)
{
  double width = gtk_widget_get_width (GTK_WIDGET (self)) - 2 * INSET;
  double height = gtk_widget_get_height (GTK_WIDGET (self)) - 2 * INSET;
  double label_w = 0;

  if (self->n_rows == 0 || self->n_columns == 0)
    return FALSE;

  text_size (self, "0", NULL, &g->line);
  for (guint r = 0; r < self->n_rows; r++)
    {
      double w;

      text_size (self, self->row_labels[r], &w, NULL);
      label_w = MAX (label_w, w);
    }

  g->x = INSET + label_w + PAD;
  g->y = INSET + g->line + PAD;                          /* the read-out line */
  g->w = width + INSET - g->x;
  g->h = height + INSET - g->y - (g->line + PAD) - (LEGEND_BAR + g->line + 2 * PAD);
  if (g->w < self->n_columns || g->h < self->n_rows)
    return FALSE;
  g->cell_w = g->w / self->n_columns;
  g->cell_h = g->h / self->n_rows;

  return TRUE;
}

static double
value_at (SyHeatmap *self,
          guint      row,
          guint      column)
{
  return self->values[(gsize) row * self->n_columns + column];
}

static char *
format_value (SyHeatmap *self,
              double     value)
{
  double mag = fabs (value);

  return sy_format_value (value, mag >= 100 ? 0 : mag >= 10 ? 1 : 2, self->unit ? self->unit : "");
}

char *
sy_heatmap_dup_readout_at (SyHeatmap *self,
                           double     x,
                           double     y)
{
  g_autofree char *value = NULL;
  Geometry g;
  guint row, column;

  g_return_val_if_fail (SY_IS_HEATMAP (self), NULL);

  if (!compute_geometry (self, &g) || x < g.x || y < g.y || x >= g.x + g.w || y >= g.y + g.h)
    return NULL;

  column = MIN ((guint) ((x - g.x) / g.cell_w), self->n_columns - 1);
  row = MIN ((guint) ((y - g.y) / g.cell_h), self->n_rows - 1);
  if (isnan (value_at (self, row, column)))
    /* Translators: the heat map's read-out of a cell without readings */
    value = g_strdup (_("no data"));
  else
    value = format_value (self, value_at (self, row, column));

  /* Translators: the heat map's read-out: row (a day), column (an hour), value with unit */
  return g_strdup_printf (_("%s, %s: %s"), self->row_labels[row],
                          self->column_labels[column] ? self->column_labels[column] : "", value);
}

static void
append_text (SyHeatmap     *self,
             GtkSnapshot   *snapshot,
             const char    *text,
             double         x,
             double         y,
             const GdkRGBA *color)
{
  g_autoptr(PangoLayout) layout = new_layout (self, text);

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (round (x), round (y)));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

static void
sy_heatmap_snapshot (GtkWidget   *widget,
                     GtkSnapshot *snapshot)
{
  SyHeatmap *self = SY_HEATMAP (widget);
  g_autofree char *readout = NULL;
  g_autofree char *min_text = NULL;
  g_autofree char *max_text = NULL;
  GdkRGBA fg, dim, empty;
  double span = self->max - self->min;
  double last_label_x = -G_MAXDOUBLE;
  double legend_y, legend_x, w;
  graphene_rect_t bar;
  GskColorStop stops[G_N_ELEMENTS (scale)];
  Geometry g;

  if (!compute_geometry (self, &g))
    return;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  dim = fg;
  dim.alpha *= 0.6;
  empty = fg;
  empty.alpha *= 0.06;

  /* Cells, with a one-pixel gap when they are large enough for it. */
  for (guint r = 0; r < self->n_rows; r++)
    {
      for (guint c = 0; c < self->n_columns; c++)
        {
          double value = value_at (self, r, c);
          double gap = g.cell_w >= 6 && g.cell_h >= 6 ? 1 : 0;
          GdkRGBA color = isnan (value) ? empty : color_at (span > 0 ? (value - self->min) / span : 0.5);

          gtk_snapshot_append_color (snapshot, &color,
                                     &GRAPHENE_RECT_INIT (g.x + c * g.cell_w, g.y + r * g.cell_h,
                                                          MAX (g.cell_w - gap, 1), MAX (g.cell_h - gap, 1)));
        }
    }

  /* Row labels, right-aligned; skipped when rows are thinner than the text. */
  for (guint r = 0, step = MAX ((guint) ceil (g.line / g.cell_h), 1); r < self->n_rows; r++)
    {
      if (r % step != 0)
        continue;
      text_size (self, self->row_labels[r], &w, NULL);
      append_text (self, snapshot, self->row_labels[r], g.x - PAD - w,
                   g.y + r * g.cell_h + (g.cell_h - g.line) / 2, &dim);
    }

  /* Column labels below the grid, as many as fit. */
  for (guint c = 0; c < self->n_columns; c++)
    {
      const char *label = self->column_labels[c];
      double x = g.x + c * g.cell_w;

      if (label == NULL || label[0] == '\0' || x - last_label_x < MIN_LABEL_GAP)
        continue;
      text_size (self, label, &w, NULL);
      if (x + w > g.x + g.w + PAD)
        continue;
      append_text (self, snapshot, label, x, g.y + g.h + PAD / 2, &dim);
      last_label_x = x + w;
    }

  /* Legend: the scale as a gradient from the smallest to the largest value. */
  legend_y = g.y + g.h + g.line + PAD * 1.5;
  legend_x = g.x;
  min_text = format_value (self, self->min);
  max_text = format_value (self, self->max);
  text_size (self, min_text, &w, NULL);
  append_text (self, snapshot, min_text, legend_x, legend_y + (LEGEND_BAR - g.line) / 2, &dim);
  legend_x += w + PAD;
  bar = GRAPHENE_RECT_INIT (legend_x, legend_y, MIN (LEGEND_WIDTH, MAX (g.w - 2 * w - 4 * PAD, 20)), LEGEND_BAR);
  for (guint i = 0; i < G_N_ELEMENTS (scale); i++)
    stops[i] = (GskColorStop) { (float) i / (G_N_ELEMENTS (scale) - 1), scale[i] };
  gtk_snapshot_append_linear_gradient (snapshot, &bar, &GRAPHENE_POINT_INIT (bar.origin.x, 0),
                                       &GRAPHENE_POINT_INIT (bar.origin.x + bar.size.width, 0),
                                       stops, G_N_ELEMENTS (stops));
  append_text (self, snapshot, max_text, bar.origin.x + bar.size.width + PAD,
               legend_y + (LEGEND_BAR - g.line) / 2, &dim);

  /* The read-out of the hovered cell, with an outline around it. */
  if (self->hovering && (readout = sy_heatmap_dup_readout_at (self, self->hover_x, self->hover_y)) != NULL)
    {
      guint c = MIN ((guint) ((self->hover_x - g.x) / g.cell_w), self->n_columns - 1);
      guint r = MIN ((guint) ((self->hover_y - g.y) / g.cell_h), self->n_rows - 1);
      GskRoundedRect outline;
      float widths[4] = { 2, 2, 2, 2 };
      GdkRGBA colors[4] = { fg, fg, fg, fg };

      gsk_rounded_rect_init_from_rect (&outline,
                                       &GRAPHENE_RECT_INIT (g.x + c * g.cell_w - 1, g.y + r * g.cell_h - 1,
                                                            g.cell_w + 1, g.cell_h + 1), 0);
      gtk_snapshot_append_border (snapshot, &outline, widths, colors);
      append_text (self, snapshot, readout, g.x, INSET, &fg);
    }
}

static void
motion_cb (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           SyHeatmap                *self)
{
  self->hover_x = x;
  self->hover_y = y;
  self->hovering = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *controller,
          SyHeatmap                *self)
{
  self->hovering = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
sy_heatmap_measure (GtkWidget      *widget,
                    GtkOrientation  orientation,
                    int             for_size,
                    int            *minimum,
                    int            *natural,
                    int            *minimum_baseline,
                    int            *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 200 : 160;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 600 : 260;
}

static void
sy_heatmap_finalize (GObject *object)
{
  SyHeatmap *self = (SyHeatmap *) object;

  g_free (self->values);
  g_strfreev (self->row_labels);
  g_strfreev (self->column_labels);
  g_free (self->unit);
  pango_attr_list_unref (self->attrs);

  G_OBJECT_CLASS (sy_heatmap_parent_class)->finalize (object);
}

static void
sy_heatmap_class_init (SyHeatmapClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = sy_heatmap_finalize;
  widget_class->snapshot = sy_heatmap_snapshot;
  widget_class->measure = sy_heatmap_measure;

  gtk_widget_class_set_css_name (widget_class, "heatmap");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
sy_heatmap_init (SyHeatmap *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();

  self->attrs = pango_attr_list_new ();
  pango_attr_list_insert (self->attrs, pango_attr_font_features_new ("tnum"));
  pango_attr_list_insert (self->attrs, pango_attr_scale_new (0.85));

  g_signal_connect (motion, "enter", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}

GtkWidget *
sy_heatmap_new (void)
{
  return g_object_new (SY_TYPE_HEATMAP, NULL);
}

static GStrv
copy_labels (const char * const *labels,
             guint               n)
{
  GStrv copy = g_new0 (char *, n + 1);

  for (guint i = 0; i < n; i++)
    copy[i] = g_strdup (labels != NULL && labels[i] != NULL ? labels[i] : "");

  return copy;
}

void
sy_heatmap_set_data (SyHeatmap          *self,
                     guint               n_rows,
                     guint               n_columns,
                     const double       *values,
                     const char * const *row_labels,
                     const char * const *column_labels,
                     const char         *unit)
{
  g_return_if_fail (SY_IS_HEATMAP (self));
  g_return_if_fail (n_rows == 0 || n_columns == 0 || values != NULL);

  g_clear_pointer (&self->values, g_free);
  g_clear_pointer (&self->row_labels, g_strfreev);
  g_clear_pointer (&self->column_labels, g_strfreev);
  g_clear_pointer (&self->unit, g_free);
  self->n_rows = self->n_columns = self->n_cells = 0;
  self->min = self->max = NAN;

  if (n_rows > 0 && n_columns > 0)
    {
      self->n_rows = n_rows;
      self->n_columns = n_columns;
      self->values = g_memdup2 (values, sizeof (double) * n_rows * n_columns);
      self->row_labels = copy_labels (row_labels, n_rows);
      self->column_labels = copy_labels (column_labels, n_columns);
      self->unit = g_strdup (unit);
      for (gsize i = 0; i < (gsize) n_rows * n_columns; i++)
        {
          if (isnan (values[i]))
            continue;
          self->n_cells++;
          self->min = isnan (self->min) ? values[i] : MIN (self->min, values[i]);
          self->max = isnan (self->max) ? values[i] : MAX (self->max, values[i]);
        }
    }

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
sy_heatmap_get_n_rows (SyHeatmap *self)
{
  g_return_val_if_fail (SY_IS_HEATMAP (self), 0);
  return self->n_rows;
}

guint
sy_heatmap_get_n_columns (SyHeatmap *self)
{
  g_return_val_if_fail (SY_IS_HEATMAP (self), 0);
  return self->n_columns;
}

guint
sy_heatmap_get_n_cells (SyHeatmap *self)
{
  g_return_val_if_fail (SY_IS_HEATMAP (self), 0);
  return self->n_cells;
}
