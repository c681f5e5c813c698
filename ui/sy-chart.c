/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-chart"

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "sy-chart.h"
#include "sy-chart-private.h"

#define DAY_MS         (24 * 3600 * (gint64) 1000)
#define LABEL_PAD      6.0
#define Y_TICK_SPACING 44.0   /* minimum pixels between y ticks */
#define X_TICK_SPACING 96.0   /* minimum pixels between time labels */
#define MAX_CACHED_LAYOUTS 256
/* Points are only compacted out of a series' arrays once this many are dead, and at least
 * half of the array, so trimming the live window costs O(1) amortised per append. */
#define COMPACT_MIN    1024

typedef struct
{
  gint64 ts;
  double v;      /* NaN marks a gap */
} DecPoint;

typedef struct
{
  gint64 ts;
  double lo;     /* NaN marks a gap */
  double hi;
} DecBand;

typedef struct
{
  char     *label;
  GdkRGBA   color;
  gboolean  visible;

  /* Ascending timestamps (Unix ms) and values. Entries before @start have been dropped by
   * the live window and are removed in batches. */
  GArray   *ts;
  GArray   *values;
  GArray   *low;       /* NULL without a band */
  GArray   *high;
  guint     start;
  guint64   version;

  /* Decimated copy of the visible slice: at most two points (min and max, in time order)
   * per pixel column, plus gap markers. Columns are anchored to absolute time (column =
   * floor (ts / ms_per_px)), so a scrolling live chart keeps the same buckets. */
  guint64   dec_version;
  double    dec_ms_per_px;
  gint64    dec_col_from;
  gint64    dec_col_to;
  GArray   *dec;       /* DecPoint */
  GArray   *dec_band;  /* DecBand */
  double    dec_min;   /* over points inside the range, band included */
  double    dec_max;
} Series;

typedef struct
{
  gint64  from, to;
  double  x, w, top, height, v_lo, v_hi;
  gint64  scale;
  guint64 stamp;
} RasterKey;

struct _SyChart
{
  GtkWidget        parent_instance;

  char            *unit;
  GPtrArray       *series;           /* Series */
  guint            next_color;

  gboolean         live;
  gint64           window_ms;
  gint64           from_ms;
  gint64           to_ms;
  gboolean         compact;
  guint            tick_id;
  double           drawn_ms_per_px;  /* 0 until the first live frame */
  gint64           drawn_col;
  SyChartLineMode  line_mode;
  GdkTexture      *line_texture;     /* last raster of the lines, see draw_lines_raster() */
  RasterKey        line_key;
  guint            line_points;
  guint            line_segments;

  /* Text */
  GHashTable      *layouts;          /* text → PangoLayout */
  PangoAttrList   *label_attrs;
  guint            pango_serial;
  double           margin_left;

  /* Hover */
  gboolean         hovering;
  double           hover_x;
  double           hover_y;

  /* What the last snapshot drew, for tests and the bench. */
  guint            drawn_points;
  guint            drawn_segments;
  gint64           last_snapshot_us;
  guint            snapshot_count;
  GPtrArray       *y_labels;
  GPtrArray       *x_labels;
  char            *hover_text;
};

G_DEFINE_FINAL_TYPE (SyChart, sy_chart, GTK_TYPE_WIDGET)

/* The Adwaita palette (GNOME HIG): its seven hues at shade 3, then the lighter shade 1, then
 * the darker shade 5, so neighbouring series differ in hue first. Yellow starts darker, for
 * contrast on light backgrounds. */
static const char * const palette[] = {
  "#3584e4", "#33d17a", "#ff7800", "#9141ac", "#e5a50a", "#e01b24", "#986a44",
  "#99c1f1", "#8ff0a4", "#ffbe6f", "#dc8add", "#f9f06b", "#f66151", "#cdab8f",
  "#1a5fb4", "#26a269", "#c64600", "#613583", "#f5c211", "#a51d2d", "#63452c",
};

static const gint64 time_steps[] = {
  1000, 2000, 5000, 10000, 15000, 30000,
  60000, 2 * 60000, 5 * 60000, 10 * 60000, 15 * 60000, 30 * 60000,
  3600000, 2 * 3600000, 3 * 3600000, 6 * 3600000, 12 * 3600000,
  DAY_MS, 2 * DAY_MS, 7 * DAY_MS, 14 * DAY_MS, 28 * DAY_MS,
};

static void
series_free (gpointer data)
{
  Series *s = data;

  g_free (s->label);
  g_clear_pointer (&s->ts, g_array_unref);
  g_clear_pointer (&s->values, g_array_unref);
  g_clear_pointer (&s->low, g_array_unref);
  g_clear_pointer (&s->high, g_array_unref);
  g_clear_pointer (&s->dec, g_array_unref);
  g_clear_pointer (&s->dec_band, g_array_unref);
  g_free (s);
}

static inline Series *
get_series (SyChart *self,
            guint    id)
{
  if (id >= self->series->len)
    return NULL;
  return g_ptr_array_index (self->series, id);
}

static void
series_changed (Series *s)
{
  s->version++;
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

/* First index in [lo, hi) whose timestamp is >= @t. */
static guint
lower_bound (const gint64 *ts,
             guint         lo,
             guint         hi,
             gint64        t)
{
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (ts[mid] < t)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
series_compact (Series *s)
{
  if (s->start == 0)
    return;

  g_array_remove_range (s->ts, 0, s->start);
  g_array_remove_range (s->values, 0, s->start);
  if (s->low != NULL)
    {
      g_array_remove_range (s->low, 0, s->start);
      g_array_remove_range (s->high, 0, s->start);
    }
  s->start = 0;
}

static void
series_trim (Series *s,
             gint64  cutoff_ms)
{
  const gint64 *ts = (const gint64 *) (gpointer) s->ts->data;
  guint first = lower_bound (ts, s->start, s->ts->len, cutoff_ms);

  if (first == s->start)
    return;

  s->start = first;
  series_changed (s);

  if (s->start >= COMPACT_MIN && s->start * 2 >= s->ts->len)
    series_compact (s);
}

/* Decimation */

static void
dec_push (Series *s,
          gint64  ts,
          double  v,
          gint64  t_lo,
          gint64  t_hi)
{
  DecPoint p = { ts, v };

  g_array_append_val (s->dec, p);
  if (ts >= t_lo && ts <= t_hi)
    {
      s->dec_min = MIN (s->dec_min, v);
      s->dec_max = MAX (s->dec_max, v);
    }
}

static void
dec_push_gap (Series *s)
{
  DecPoint gap = { 0, NAN };

  if (s->dec->len == 0 || isnan (g_array_index (s->dec, DecPoint, s->dec->len - 1).v))
    return;
  g_array_append_val (s->dec, gap);
}

static void
series_decimate (Series *s,
                 double  ms_per_px,
                 gint64  col_from,
                 gint64  col_to)
{
  const gint64 *ts;
  const double *vals;
  const double *low = NULL;
  const double *high = NULL;
  gint64 t_lo, t_hi;
  guint i0, i1, n;
  gboolean have = FALSE;
  gint64 col = 0;
  guint min_i = 0, max_i = 0;
  gboolean band_have = FALSE;
  gint64 band_col = 0;
  DecBand band = { 0, 0, 0 };

  if (s->dec_version == s->version &&
      s->dec_ms_per_px == ms_per_px &&
      s->dec_col_from == col_from &&
      s->dec_col_to == col_to)
    return;

  s->dec_version = s->version;
  s->dec_ms_per_px = ms_per_px;
  s->dec_col_from = col_from;
  s->dec_col_to = col_to;
  g_array_set_size (s->dec, 0);
  g_array_set_size (s->dec_band, 0);
  s->dec_min = INFINITY;
  s->dec_max = -INFINITY;

  n = s->ts->len;
  ts = (const gint64 *) (gpointer) s->ts->data;
  vals = (const double *) (gpointer) s->values->data;
  if (s->low != NULL)
    {
      low = (const double *) (gpointer) s->low->data;
      high = (const double *) (gpointer) s->high->data;
    }

  t_lo = (gint64) floor (col_from * ms_per_px);
  t_hi = (gint64) ceil ((col_to + 1) * ms_per_px);

  /* Binary search for the visible slice, plus one point either side so lines run off the
   * edges of the plot instead of stopping short. */
  i0 = lower_bound (ts, s->start, n, t_lo);
  if (i0 > s->start)
    i0--;
  i1 = lower_bound (ts, i0, n, t_hi);
  if (i1 < n)
    i1++;

  for (guint i = i0; i < i1; i++)
    {
      double v = vals[i];
      gint64 c = (gint64) floor (ts[i] / ms_per_px);

      if (low != NULL)
        {
          double lo = low[i], hi = high[i];

          if (band_have && (c != band_col || isnan (lo) || isnan (hi)))
            {
              g_array_append_val (s->dec_band, band);
              band_have = FALSE;
            }
          if (isnan (lo) || isnan (hi))
            {
              DecBand gap = { 0, NAN, NAN };

              if (s->dec_band->len > 0 &&
                  !isnan (g_array_index (s->dec_band, DecBand, s->dec_band->len - 1).lo))
                g_array_append_val (s->dec_band, gap);
            }
          else if (!band_have)
            {
              band_have = TRUE;
              band_col = c;
              band.ts = ts[i];
              band.lo = lo;
              band.hi = hi;
            }
          else
            {
              band.lo = MIN (band.lo, lo);
              band.hi = MAX (band.hi, hi);
            }
          if (!isnan (lo) && !isnan (hi) && ts[i] >= t_lo && ts[i] <= t_hi)
            {
              s->dec_min = MIN (s->dec_min, lo);
              s->dec_max = MAX (s->dec_max, hi);
            }
        }

      if (have && (c != col || isnan (v)))
        {
          if (min_i == max_i)
            dec_push (s, ts[min_i], vals[min_i], t_lo, t_hi);
          else
            {
              guint a = MIN (min_i, max_i), b = MAX (min_i, max_i);

              dec_push (s, ts[a], vals[a], t_lo, t_hi);
              dec_push (s, ts[b], vals[b], t_lo, t_hi);
            }
          have = FALSE;
        }

      if (isnan (v))
        {
          dec_push_gap (s);
          continue;
        }

      if (!have)
        {
          have = TRUE;
          col = c;
          min_i = max_i = i;
        }
      else if (v < vals[min_i])
        min_i = i;
      else if (v > vals[max_i])
        max_i = i;
    }

  if (have)
    {
      if (min_i == max_i)
        dec_push (s, ts[min_i], vals[min_i], t_lo, t_hi);
      else
        {
          guint a = MIN (min_i, max_i), b = MAX (min_i, max_i);

          dec_push (s, ts[a], vals[a], t_lo, t_hi);
          dec_push (s, ts[b], vals[b], t_lo, t_hi);
        }
    }
  if (band_have)
    g_array_append_val (s->dec_band, band);
}

/* Number formatting */

static double
prefix_divisor (double      max_abs,
                const char *unit,
                const char **prefix)
{
  /* A percentage never gets a prefix. */
  if (unit != NULL && strcmp (unit, "%") == 0)
    {
      *prefix = "";
      return 1;
    }
  if (max_abs >= 1e9)
    {
      *prefix = "G";
      return 1e9;
    }
  if (max_abs >= 1e6)
    {
      *prefix = "M";
      return 1e6;
    }
  if (max_abs >= 1e3)
    {
      *prefix = "k";
      return 1e3;
    }
  *prefix = "";
  return 1;
}

static char *
join_unit (const char *number,
           const char *prefix,
           const char *unit)
{
  if (unit == NULL)
    unit = "";
  if (*prefix == '\0' && *unit == '\0')
    return g_strdup (number);
  if (strcmp (unit, "%") == 0)
    return g_strconcat (number, unit, NULL);
  /* A thin no-break space keeps number and unit together. */
  return g_strconcat (number, "\u202f", prefix, unit, NULL);
}

char *
_sy_chart_format_value (double      value,
                        const char *unit)
{
  const char *prefix;
  double div, scaled, a;
  int decimals;
  char number[64];

  if (isnan (value) || isinf (value))
    /* Translators: shown instead of a value where a series has no data */
    return g_strdup (_("—"));

  div = prefix_divisor (fabs (value), unit, &prefix);
  scaled = value / div;
  a = fabs (scaled);
  decimals = a < 10 ? 2 : a < 100 ? 1 : 0;
  if (div == 1 && a >= 100)
    decimals = 0;
  else if (div == 1 && a == floor (a))
    decimals = 0;
  g_snprintf (number, sizeof number, "%.*f", decimals, scaled);

  return join_unit (number, prefix, unit);
}

char *
_sy_chart_format_axis_value (double      value,
                             double      step,
                             double      max_abs,
                             const char *unit)
{
  const char *prefix;
  double div;
  int decimals;
  char number[64];

  div = prefix_divisor (max_abs, unit, &prefix);
  /* As many decimals as the step needs: 2.5 k steps give "12.5 kW", 2 k steps "12 kW". */
  for (decimals = 0; decimals < 6; decimals++)
    {
      double scaled = step / div * pow (10, decimals);

      if (fabs (scaled - round (scaled)) < 1e-6 * MAX (1, scaled))
        break;
    }
  if (fabs (value) < step * 1e-6)
    value = 0;
  g_snprintf (number, sizeof number, "%.*f", decimals, value / div);

  return join_unit (number, prefix, unit);
}

/* Text */

static PangoLayout *
get_layout (SyChart    *self,
            const char *text)
{
  PangoLayout *layout = g_hash_table_lookup (self->layouts, text);

  if (layout != NULL)
    return layout;

  if (g_hash_table_size (self->layouts) >= MAX_CACHED_LAYOUTS)
    g_hash_table_remove_all (self->layouts);

  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  pango_layout_set_attributes (layout, self->label_attrs);
  g_hash_table_insert (self->layouts, g_strdup (text), layout);

  return layout;
}

static void
check_pango_context (SyChart *self)
{
  PangoContext *context = gtk_widget_get_pango_context (GTK_WIDGET (self));
  guint serial = pango_context_get_serial (context);

  if (serial != self->pango_serial)
    {
      self->pango_serial = serial;
      g_hash_table_remove_all (self->layouts);
    }
}

static void
append_text (GtkSnapshot   *snapshot,
             PangoLayout   *layout,
             double         x,
             double         y,
             const GdkRGBA *color)
{
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (round (x), round (y)));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

static void
layout_size (PangoLayout *layout,
             int         *width,
             int         *height)
{
  PangoRectangle logical;

  pango_layout_get_pixel_extents (layout, NULL, &logical);
  *width = logical.width;
  *height = logical.height;
}

/* Time axis */

static GDateTime *
local_time (gint64 ms)
{
  return g_date_time_new_from_unix_local (ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
}

static gint64
pick_time_step (double min_ms)
{
  for (guint i = 0; i < G_N_ELEMENTS (time_steps); i++)
    if (time_steps[i] >= min_ms)
      return time_steps[i];
  return (gint64) (ceil (min_ms / (28.0 * DAY_MS)) * 28 * DAY_MS);
}

static char *
format_tick_time (gint64 ms,
                  gint64 step,
                  gint64 span)
{
  g_autoptr(GDateTime) dt = local_time (ms);

  if (step >= DAY_MS ||
      (span > 12 * 3600000 && g_date_time_get_hour (dt) == 0 && g_date_time_get_minute (dt) == 0))
    /* Translators: date label on a chart's time axis, see g_date_time_format() */
    return g_date_time_format (dt, _("%a %-d %b"));
  if (step < 60000)
    /* Translators: time label on a chart's time axis, see g_date_time_format() */
    return g_date_time_format (dt, _("%H:%M:%S"));
  /* Translators: time label on a chart's time axis, see g_date_time_format() */
  return g_date_time_format (dt, _("%H:%M"));
}

static char *
format_hover_time (gint64 ms,
                   gint64 span)
{
  g_autoptr(GDateTime) dt = local_time (ms);

  if (span > DAY_MS)
    /* Translators: time in the chart's hover read-out, see g_date_time_format() */
    return g_date_time_format (dt, _("%a %-d %b %H:%M"));
  /* Translators: time in the chart's hover read-out, see g_date_time_format() */
  return g_date_time_format (dt, _("%H:%M:%S"));
}

/* Fills @ticks with the times of the labels on [from, to]. */
static void
time_ticks (gint64  from,
            gint64  to,
            double  ms_per_px,
            GArray *ticks,
            gint64 *step_out)
{
  gint64 step = pick_time_step (X_TICK_SPACING * ms_per_px);

  *step_out = step;

  if (step < DAY_MS)
    {
      g_autoptr(GDateTime) dt = local_time (from);
      gint64 offset = g_date_time_get_utc_offset (dt) / 1000;
      gint64 t = ((from + offset) / step) * step - offset;

      if (t < from)
        t += step;
      for (; t <= to; t += step)
        g_array_append_val (ticks, t);
    }
  else
    {
      g_autoptr(GDateTime) first = local_time (from);
      g_autoptr(GDateTime) day = NULL;
      int days = (int) (step / DAY_MS);

      day = g_date_time_new_local (g_date_time_get_year (first),
                                   g_date_time_get_month (first),
                                   g_date_time_get_day_of_month (first),
                                   0, 0, 0);
      for (int i = 0; i < 400; i++)
        {
          g_autoptr(GDateTime) next = NULL;
          gint64 t = g_date_time_to_unix (day) * 1000;

          if (t > to)
            break;
          if (t >= from)
            g_array_append_val (ticks, t);
          next = g_date_time_add_days (day, days);
          g_date_time_unref (day);
          day = g_steal_pointer (&next);
        }
    }
}

/* Value axis */

static double
nice_step (double range,
           int    max_ticks)
{
  double raw = range / MAX (max_ticks, 1);
  double mag = pow (10, floor (log10 (raw)));
  double norm = raw / mag;

  if (norm <= 1)
    return mag;
  if (norm <= 2)
    return 2 * mag;
  if (norm <= 5)
    return 5 * mag;
  return 10 * mag;
}

static void
value_range (double  min,
             double  max,
             double  plot_h,
             double *lo,
             double *hi,
             double *step)
{
  int max_ticks = (int) MAX (2, plot_h / Y_TICK_SPACING);

  if (!isfinite (min) || !isfinite (max))
    {
      min = 0;
      max = 1;
    }
  /* Power and energy read best from zero unless the values sit far from it (voltage). */
  if (min > 0 && min < max * 0.5)
    min = 0;
  if (max < 0 && max > min * 0.5)
    max = 0;
  if (max - min < fabs (max) * 1e-9 || max == min)
    {
      double pad = fabs (max) > 0 ? fabs (max) * 0.1 : 1;

      min -= pad;
      max += pad;
    }

  *step = nice_step (max - min, max_ticks);
  *lo = floor (min / *step) * *step;
  *hi = ceil (max / *step) * *step;
}

/* Snapshot */

typedef struct
{
  double  x, y, w, h;
  gint64  from, to;
  double  ms_per_px;
  double  v_lo, v_hi;
} Plot;

static inline double
plot_x (const Plot *p,
        gint64      ts)
{
  return p->x + (ts - p->from) / p->ms_per_px;
}

static inline double
plot_y (const Plot *p,
        double      v)
{
  return p->y + p->h - (v - p->v_lo) / (p->v_hi - p->v_lo) * p->h;
}

static void
decimate_visible (SyChart *self,
                  Plot    *p,
                  double  *min,
                  double  *max)
{
  gint64 col_from, col_to;

  p->ms_per_px = (double) MAX (p->to - p->from, 1) / MAX (p->w, 1);
  col_from = (gint64) floor (p->from / p->ms_per_px);
  col_to = (gint64) floor (p->to / p->ms_per_px);

  *min = INFINITY;
  *max = -INFINITY;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);

      if (!s->visible)
        continue;
      series_decimate (s, p->ms_per_px, col_from, col_to);
      *min = MIN (*min, s->dec_min);
      *max = MAX (*max, s->dec_max);
    }
}

static void
draw_bands_cairo (SyChart    *self,
                  cairo_t    *cr,
                  const Plot *p)
{
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      guint run = 0;

      if (!s->visible || s->dec_band->len == 0)
        continue;

      cairo_set_source_rgba (cr, s->color.red, s->color.green, s->color.blue, 0.18);
      /* Each run between gaps is one polygon: the highs forwards, the lows backwards. */
      while (run < s->dec_band->len)
        {
          guint end = run;

          while (end < s->dec_band->len && !isnan (g_array_index (s->dec_band, DecBand, end).lo))
            end++;
          if (end > run)
            {
              for (guint k = run; k < end; k++)
                {
                  DecBand *b = &g_array_index (s->dec_band, DecBand, k);

                  cairo_line_to (cr, plot_x (p, b->ts), plot_y (p, b->hi));
                }
              for (guint k = end; k > run; k--)
                {
                  DecBand *b = &g_array_index (s->dec_band, DecBand, k - 1);

                  cairo_line_to (cr, plot_x (p, b->ts), plot_y (p, b->lo));
                }
              cairo_close_path (cr);
              cairo_fill (cr);
            }
          run = end + 1;
        }
    }
}

static void
draw_lines_cairo (SyChart    *self,
                  cairo_t    *cr,
                  const Plot *p,
                  gboolean    only_sparse)
{
  cairo_set_line_width (cr, self->compact ? 1.0 : 1.5);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      gboolean pen_down = FALSE;
      double px = 0, py = 0;

      if (!s->visible || s->dec->len == 0)
        continue;

      for (guint k = 0; k < s->dec->len; k++)
        {
          DecPoint *d = &g_array_index (s->dec, DecPoint, k);
          double x, y;

          if (isnan (d->v))
            {
              pen_down = FALSE;
              continue;
            }

          x = plot_x (p, d->ts);
          y = plot_y (p, d->v);
          if (!only_sparse)
            self->drawn_points++;

          if (only_sparse)
            {
              /* Dense steps are drawn as colour nodes by draw_lines_rects(). */
              if (pen_down && x - px > 2.0)
                {
                  cairo_move_to (cr, px, py);
                  cairo_line_to (cr, x, y);
                }
            }
          else if (!pen_down)
            {
              cairo_move_to (cr, x, y);
              self->drawn_segments++;
            }
          else
            cairo_line_to (cr, x, y);

          pen_down = TRUE;
          px = x;
          py = y;
        }

      if (!only_sparse && s->dec->len == 1)
        {
          /* A lone point is a dot, not an invisible zero-length line. */
          cairo_rel_line_to (cr, 0, 0);
        }

      gdk_cairo_set_source_rgba (cr, &s->color);
      cairo_stroke (cr);
    }
}

/* One colour node per step between neighbouring points at most 2 px apart, which is every
 * step of a decimated dense series; wider steps go to cairo. */
static gboolean
draw_lines_rects (SyChart     *self,
                  GtkSnapshot *snapshot,
                  const Plot  *p)
{
  gboolean any_sparse = FALSE;
  float lw = 1.5f;

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      gboolean pen_down = FALSE;
      double px = 0, py = 0;

      if (!s->visible || s->dec->len == 0)
        continue;

      for (guint k = 0; k < s->dec->len; k++)
        {
          DecPoint *d = &g_array_index (s->dec, DecPoint, k);
          double x, y;

          if (isnan (d->v))
            {
              pen_down = FALSE;
              continue;
            }

          x = plot_x (p, d->ts);
          y = plot_y (p, d->v);
          self->drawn_points++;
          if (!pen_down)
            self->drawn_segments++;
          else if (x - px <= 2.0)
            {
              float top = (float) MIN (y, py) - lw / 2;
              float h = (float) fabs (y - py) + lw;

              gtk_snapshot_append_color (snapshot, &s->color,
                                         &GRAPHENE_RECT_INIT ((float) px - lw / 2, top,
                                                              (float) (x - px) + lw, h));
            }
          else
            any_sparse = TRUE;

          pen_down = TRUE;
          px = x;
          py = y;
        }
    }

  return any_sparse;
}

/* The raster line mode: every line of the plot is drawn into one premultiplied ARGB buffer
 * that becomes a single texture node. Each step is an anti-aliased line walked along its
 * major axis, with the exact coverage of a line of constant width across the minor axis.
 * Cairo's general stroker is more than ten times slower on the zig-zags of a decimated
 * series (see tests/bench/sy-bench-chart.c). */

typedef struct
{
  guint32 *data;
  int      width;
  int      height;
  int      stride;     /* in pixels */
  guint32  color;      /* premultiplied ARGB of the current series */
  guint    alpha;      /* 0..255, the series' own alpha */
} Raster;

/* x / 255 for x < 65536, on two 8-bit channels packed in 0x00ff00ff lanes. */
static inline guint32
div255_lanes (guint32 x)
{
  x += 0x00800080;
  return ((x + ((x >> 8) & 0x00ff00ff)) >> 8) & 0x00ff00ff;
}

static inline void
raster_blend (Raster *r,
              int     x,
              int     y,
              float   coverage)
{
  guint32 *px, d, a, inv, rb, ag;

  if ((guint) x >= (guint) r->width || (guint) y >= (guint) r->height || coverage <= 0.f)
    return;

  px = r->data + (gsize) y * r->stride + x;
  if (coverage >= 1.f && r->alpha == 255)
    {
      *px = r->color;
      return;
    }

  a = (guint32) (MIN (coverage, 1.f) * r->alpha + .5f);
  inv = 255 - a;
  d = *px;
  /* Source over, premultiplied: the colour scaled by coverage plus the destination scaled by
   * what is left, two channels at a time. */
  rb = div255_lanes ((r->color & 0x00ff00ff) * a) + div255_lanes ((d & 0x00ff00ff) * inv);
  ag = div255_lanes (((r->color >> 8) & 0x00ff00ff) * a) + div255_lanes (((d >> 8) & 0x00ff00ff) * inv);
  *px = (ag << 8) | rb;
}

/* floor() without a libm call: the build targets plain SSE2, which has no rounding insn. */
static inline int
ifloor (double x)
{
  int i = (int) x;

  return i - (x < i);
}

static void
raster_line (Raster *r,
             double  x0,
             double  y0,
             double  x1,
             double  y1,
             double  half_width)
{
  gboolean steep = fabs (y1 - y0) > fabs (x1 - x0);
  double grad, hw;
  int i0, i1, limit;

  if (steep)
    {
      double t;

      t = x0; x0 = y0; y0 = t;
      t = x1; x1 = y1; y1 = t;
    }
  if (x0 > x1)
    {
      double t;

      t = x0; x0 = x1; x1 = t;
      t = y0; y0 = y1; y1 = t;
    }

  grad = x1 > x0 ? (y1 - y0) / (x1 - x0) : 0;
  /* Half the width across the minor axis, so the width across the line stays constant. */
  hw = half_width * sqrt (1 + grad * grad);
  limit = steep ? r->height : r->width;
  i0 = (int) MAX (ceil (x0 - 0.5), 0);
  i1 = (int) MIN (floor (x1 - 0.5), limit - 1);
  if (i0 > i1 && x1 - x0 < 1 && floor (x0) == floor (x1))
    i0 = i1 = (int) floor (x0);

  for (int i = i0; i <= i1; i++)
    {
      double c = y0 + grad * (i + 0.5 - x0);
      double top = c - hw, bottom = c + hw;
      int j0 = ifloor (top), j1 = ifloor (bottom);

      /* Partial coverage at both ends, full in between. */
      for (int j = j0; j <= j1; j++)
        {
          float coverage = (j == j0 || j == j1) ? (float) (MIN (bottom, j + 1) - MAX (top, j)) : 1.f;

          if (steep)
            raster_blend (r, j, i, coverage);
          else
            raster_blend (r, i, j, coverage);
        }
    }
}

/* A vertical bar over pixel column @col from @top to @bottom: the union of every step of a
 * dense series inside one column, drawn once instead of as overlapping steep lines. */
static void
raster_vspan (Raster *r,
              int     col,
              double  top,
              double  bottom,
              double  half_width)
{
  double t = top - half_width, b = bottom + half_width;
  double xc = col + 0.5;
  float cx[5];
  int j0 = ifloor (t), j1 = ifloor (b);

  if (col < -2 || col > r->width + 2)
    return;

  for (int dx = -2; dx <= 2; dx++)
    cx[dx + 2] = (float) MAX (0, MIN (xc + half_width, col + dx + 1) - MAX (xc - half_width, col + dx));

  for (int j = MAX (j0, 0); j <= MIN (j1, r->height - 1); j++)
    {
      float cv = (j == j0 || j == j1) ? (float) (MIN (b, j + 1) - MAX (t, j)) : 1.f;

      for (int dx = 0; dx < 5; dx++)
        if (cx[dx] > 0)
          raster_blend (r, col + dx - 2, j, cx[dx] * cv);
    }
}

static void
draw_lines_raster (SyChart     *self,
                   GtkSnapshot *snapshot,
                   const Plot  *p,
                   double       top,
                   double       height)
{
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  double half_width = (self->compact ? 0.5 : 0.8) * scale;
  g_autoptr(GBytes) bytes = NULL;
  RasterKey key = { 0 };
  Raster r;

  /* A static chart redrawn for the hover line reuses the texture of the last frame. */
  key.from = p->from;
  key.to = p->to;
  key.x = p->x;
  key.w = p->w;
  key.top = top;
  key.height = height;
  key.v_lo = p->v_lo;
  key.v_hi = p->v_hi;
  key.scale = scale;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);

      key.stamp = key.stamp * 1000003 + (s->visible ? s->version * 2 + 1 : 0);
    }
  if (self->line_texture != NULL && memcmp (&key, &self->line_key, sizeof key) == 0)
    {
      self->drawn_points = self->line_points;
      self->drawn_segments = self->line_segments;
      gtk_snapshot_append_texture (snapshot, self->line_texture,
                                   &GRAPHENE_RECT_INIT ((float) p->x, (float) top,
                                                        (float) p->w, (float) height));
      return;
    }
  g_clear_object (&self->line_texture);

  r.width = (int) ceil (p->w * scale);
  r.height = (int) ceil (height * scale);
  r.stride = r.width;
  if (r.width <= 0 || r.height <= 0)
    return;
  r.data = g_malloc0 ((gsize) r.stride * r.height * 4);

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      gboolean pen_down = FALSE;
      double px = 0, py = 0;
      int span_col = 0;
      double span_top = 0, span_bottom = 0;

      if (!s->visible || s->dec->len == 0)
        continue;

      r.alpha = (guint) CLAMP (s->color.alpha * 255 + .5, 0, 255);
      r.color = 0xff000000 |
                (guint32) CLAMP (s->color.red * 255 + .5, 0, 255) << 16 |
                (guint32) CLAMP (s->color.green * 255 + .5, 0, 255) << 8 |
                (guint32) CLAMP (s->color.blue * 255 + .5, 0, 255);
      if (r.alpha != 255)
        r.color = (r.alpha << 24) |
                  (div255_lanes ((r.color & 0x00ff00ff) * r.alpha)) |
                  (div255_lanes (((r.color >> 8) & 0x000000ff) * r.alpha) << 8);

      /* Steps inside one pixel column or into the next one accumulate into a vertical span;
       * only steps longer than that are drawn as lines. A run of one point is a dot. */
      for (guint k = 0; k <= s->dec->len; k++)
        {
          DecPoint *d = k < s->dec->len ? &g_array_index (s->dec, DecPoint, k) : NULL;
          double x, y;
          int col;

          if (d == NULL || isnan (d->v))
            {
              if (pen_down)
                raster_vspan (&r, span_col, span_top, span_bottom, half_width);
              pen_down = FALSE;
              continue;
            }

          x = (plot_x (p, d->ts) - p->x) * scale;
          y = (plot_y (p, d->v) - top) * scale;
          col = ifloor (CLAMP (x, -4, r.width + 4));
          self->drawn_points++;

          if (!pen_down)
            {
              self->drawn_segments++;
              span_col = col;
              span_top = span_bottom = y;
            }
          else if (col == span_col)
            {
              span_top = MIN (span_top, y);
              span_bottom = MAX (span_bottom, y);
            }
          else if (col == span_col + 1)
            {
              raster_vspan (&r, span_col, span_top, span_bottom, half_width);
              span_col = col;
              span_top = MIN (py, y);
              span_bottom = MAX (py, y);
            }
          else
            {
              raster_vspan (&r, span_col, span_top, span_bottom, half_width);
              if (!((px < 0 && x < 0) || (px > r.width && x > r.width)))
                raster_line (&r, px, py, x, y, half_width);
              span_col = col;
              span_top = span_bottom = y;
            }

          pen_down = TRUE;
          px = x;
          py = y;
        }
    }

  bytes = g_bytes_new_take (r.data, (gsize) r.stride * r.height * 4);
  self->line_texture = gdk_memory_texture_new (r.width, r.height, GDK_MEMORY_DEFAULT, bytes,
                                               (gsize) r.stride * 4);
  self->line_key = key;
  self->line_points = self->drawn_points;
  self->line_segments = self->drawn_segments;
  gtk_snapshot_append_texture (snapshot, self->line_texture,
                               &GRAPHENE_RECT_INIT ((float) p->x, (float) top,
                                                    (float) p->w, (float) height));
}

static void
get_colors (SyChart *self,
            GdkRGBA *fg,
            GdkRGBA *bg)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (self));

  gtk_style_context_get_color (context, fg);
  if (!gtk_style_context_lookup_color (context, "popover_bg_color", bg) &&
      !gtk_style_context_lookup_color (context, "view_bg_color", bg))
    *bg = (GdkRGBA) { 1 - fg->red, 1 - fg->green, 1 - fg->blue, 1 };
  G_GNUC_END_IGNORE_DEPRECATIONS
}

/* The value of @s nearest to @t, or NaN when nothing is close. */
static double
series_value_at (Series *s,
                 gint64  t,
                 double  max_distance_ms)
{
  const gint64 *ts = (const gint64 *) (gpointer) s->ts->data;
  guint n = s->ts->len;
  guint i = lower_bound (ts, s->start, n, t);
  guint best;
  double limit = max_distance_ms;

  if (n == s->start)
    return NAN;
  if (i == n)
    best = n - 1;
  else if (i == s->start)
    best = i;
  else
    best = (t - ts[i - 1] <= ts[i] - t) ? i - 1 : i;

  /* Sparse series are read out between their points, not just on them. */
  if (i > s->start && i < n)
    limit = MAX (limit, ts[i] - ts[i - 1]);
  if (llabs (ts[best] - t) > limit)
    return NAN;

  return g_array_index (s->values, double, best);
}

static void
draw_hover (SyChart       *self,
            GtkSnapshot   *snapshot,
            const Plot    *p,
            const GdkRGBA *fg,
            const GdkRGBA *bg)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *time_str = NULL;
  GdkRGBA line_color = *fg;
  GdkRGBA shadow = { 0, 0, 0, 0.25 };
  PangoLayout *time_layout;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) row_series = g_array_new (FALSE, FALSE, sizeof (guint));
  int tw, th, row_h, name_w = 0, value_w = 0, max_rows, n_visible = 0, more = 0;
  double box_w, box_h, bx, by, x;
  gint64 t;
  const double swatch = 10, pad = 8, gap = 12;
  GskRoundedRect rounded;

  x = CLAMP (self->hover_x, p->x, p->x + p->w);
  t = p->from + (gint64) ((x - p->x) * p->ms_per_px);

  line_color.alpha = 0.5;
  gtk_snapshot_append_color (snapshot, &line_color,
                             &GRAPHENE_RECT_INIT ((float) round (x), (float) p->y, 1, (float) p->h));

  time_str = format_hover_time (t, p->to - p->from);
  g_string_append (text, time_str);
  time_layout = get_layout (self, time_str);
  layout_size (time_layout, &tw, &th);
  row_h = th + 2;

  max_rows = (int) MAX (1, (p->h - 2 * pad - th) / row_h - 1);
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      double v;
      char *value;

      if (!s->visible)
        continue;
      n_visible++;
      if ((int) rows->len / 2 >= max_rows)
        {
          more++;
          continue;
        }
      v = series_value_at (s, t, 16 * p->ms_per_px);
      value = _sy_chart_format_value (v, self->unit);
      g_ptr_array_add (rows, g_strdup (s->label));
      g_ptr_array_add (rows, value);
      g_array_append_val (row_series, i);
      g_string_append_printf (text, "\n%s\t%s", s->label, value);
    }
  if (n_visible == 0)
    {
      g_clear_pointer (&self->hover_text, g_free);
      self->hover_text = g_string_free (g_steal_pointer (&text), FALSE);
      return;
    }

  for (guint r = 0; r < rows->len; r += 2)
    {
      int w, h;

      layout_size (get_layout (self, g_ptr_array_index (rows, r)), &w, &h);
      name_w = MAX (name_w, w);
      layout_size (get_layout (self, g_ptr_array_index (rows, r + 1)), &w, &h);
      value_w = MAX (value_w, w);
    }

  box_w = pad * 2 + MAX (tw, swatch + 6 + name_w + gap + value_w);
  box_h = pad * 2 + th + 4 + row_h * (rows->len / 2 + (more > 0 ? 1 : 0));
  bx = x + 12;
  if (bx + box_w > p->x + p->w)
    bx = x - 12 - box_w;
  bx = MAX (bx, 0);
  by = CLAMP (self->hover_y - box_h / 2, p->y, MAX (p->y, p->y + p->h - box_h));

  gsk_rounded_rect_init_from_rect (&rounded, &GRAPHENE_RECT_INIT ((float) bx, (float) by,
                                                                  (float) box_w, (float) box_h), 6);
  gtk_snapshot_append_outset_shadow (snapshot, &rounded, &shadow, 0, 1, 0, 6);
  gtk_snapshot_push_rounded_clip (snapshot, &rounded);
  gtk_snapshot_append_color (snapshot, bg, &rounded.bounds);
  gtk_snapshot_pop (snapshot);

  append_text (snapshot, time_layout, bx + pad, by + pad, fg);
  for (guint r = 0; r < rows->len; r += 2)
    {
      Series *s = g_ptr_array_index (self->series, g_array_index (row_series, guint, r / 2));
      PangoLayout *value_layout = get_layout (self, g_ptr_array_index (rows, r + 1));
      double ry = by + pad + th + 4 + (r / 2) * row_h;
      int w, h;
      GskRoundedRect sw;

      gsk_rounded_rect_init_from_rect (&sw, &GRAPHENE_RECT_INIT ((float) (bx + pad),
                                                                 (float) (ry + (row_h - swatch) / 2),
                                                                 (float) swatch, (float) swatch),
                                       2);
      gtk_snapshot_push_rounded_clip (snapshot, &sw);
      gtk_snapshot_append_color (snapshot, &s->color, &sw.bounds);
      gtk_snapshot_pop (snapshot);

      append_text (snapshot, get_layout (self, g_ptr_array_index (rows, r)),
                   bx + pad + swatch + 6, ry, fg);
      layout_size (value_layout, &w, &h);
      append_text (snapshot, value_layout, bx + box_w - pad - w, ry, fg);
    }
  if (more > 0)
    {
      /* Translators: last row of the chart's hover read-out when not every series fits */
      g_autofree char *more_str = g_strdup_printf (ngettext ("and %d more", "and %d more", more),
                                                   more);
      GdkRGBA dim = *fg;

      dim.alpha = 0.6;
      append_text (snapshot, get_layout (self, more_str),
                   bx + pad + swatch + 6, by + pad + th + 4 + (rows->len / 2) * row_h, &dim);
      g_string_append_printf (text, "\n%s", more_str);
    }

  g_clear_pointer (&self->hover_text, g_free);
  self->hover_text = g_string_free (g_steal_pointer (&text), FALSE);
}

static void
current_range (SyChart *self,
               gint64  *from,
               gint64  *to)
{
  if (self->live)
    {
      *to = now_ms ();
      *from = *to - self->window_ms;
    }
  else
    {
      *from = self->from_ms;
      *to = self->to_ms;
    }
}

static void
sy_chart_snapshot (GtkWidget   *widget,
                   GtkSnapshot *snapshot)
{
  SyChart *self = SY_CHART (widget);
  gint64 start_us = g_get_monotonic_time ();
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  GdkRGBA fg, bg, grid, text_color;
  Plot p = { 0 };
  double min, max, step = 1;
  g_autoptr(GArray) ticks = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 time_step = 0;
  int label_h = 0;
  cairo_t *cr;
  gboolean sparse = TRUE;

  self->drawn_points = 0;
  self->drawn_segments = 0;
  self->snapshot_count++;
  g_ptr_array_set_size (self->y_labels, 0);
  g_ptr_array_set_size (self->x_labels, 0);
  g_clear_pointer (&self->hover_text, g_free);

  if (width < 4 || height < 4)
    goto out;

  current_range (self, &p.from, &p.to);
  if (p.to <= p.from)
    p.to = p.from + 1;
  get_colors (self, &fg, &bg);
  check_pango_context (self);

  if (self->compact)
    {
      p.x = 0;
      p.y = 1;
      p.w = width;
      p.h = height - 2;
      decimate_visible (self, &p, &min, &max);
      if (!isfinite (min))
        min = max = 0;
      if (max - min < 1e-9)
        {
          min -= 1;
          max += 1;
        }
      p.v_lo = min;
      p.v_hi = max;
    }
  else
    {
      PangoLayout *probe = get_layout (self, "0");
      int w;

      layout_size (probe, &w, &label_h);
      p.y = ceil (label_h / 2.0);
      p.h = MAX (1, height - p.y - label_h - LABEL_PAD);

      /* The left margin fits the widest value label, which depends on the values, which
       * depend on the plot width: decimate, label, and decimate again if the margin moved. */
      for (int pass = 0; pass < 2; pass++)
        {
          double max_abs, lo, hi, new_margin = 0;

          p.x = self->margin_left;
          p.w = MAX (1, width - p.x - 8);
          decimate_visible (self, &p, &min, &max);
          value_range (min, max, p.h, &lo, &hi, &step);
          p.v_lo = lo;
          p.v_hi = hi;
          max_abs = MAX (fabs (lo), fabs (hi));

          g_ptr_array_set_size (self->y_labels, 0);
          for (double v = lo; v <= hi + step * 0.5; v += step)
            {
              char *label = _sy_chart_format_axis_value (v, step, max_abs, self->unit);
              int lw, lh;

              layout_size (get_layout (self, label), &lw, &lh);
              new_margin = MAX (new_margin, lw + 2 * LABEL_PAD);
              g_ptr_array_add (self->y_labels, label);
            }
          if (fabs (new_margin - self->margin_left) < 0.5)
            break;
          self->margin_left = new_margin;
        }
    }

  /* Where the clock stood, in pixel columns, when this frame was drawn (see tick_cb). */
  self->drawn_ms_per_px = p.ms_per_px;
  self->drawn_col = (gint64) floor (p.to / p.ms_per_px);

  grid = fg;
  grid.alpha = 0.1;
  text_color = fg;
  text_color.alpha = 0.7;

  if (!self->compact)
    {
      guint k = 0;

      /* Value grid and labels. */
      for (double v = p.v_lo; v <= p.v_hi + step * 0.5 && k < self->y_labels->len; v += step, k++)
        {
          PangoLayout *layout = get_layout (self, g_ptr_array_index (self->y_labels, k));
          double y = round (plot_y (&p, v));
          int lw, lh;

          gtk_snapshot_append_color (snapshot, &grid,
                                     &GRAPHENE_RECT_INIT ((float) p.x, (float) y, (float) p.w, 1));
          layout_size (layout, &lw, &lh);
          append_text (snapshot, layout, p.x - LABEL_PAD - lw, y - lh / 2.0, &text_color);
        }

      /* Time grid and labels. */
      time_ticks (p.from, p.to, p.ms_per_px, ticks, &time_step);
      for (guint i = 0; i < ticks->len; i++)
        {
          gint64 t = g_array_index (ticks, gint64, i);
          char *label = format_tick_time (t, time_step, p.to - p.from);
          PangoLayout *layout = get_layout (self, label);
          double x = round (plot_x (&p, t));
          int lw, lh;

          g_ptr_array_add (self->x_labels, label);
          gtk_snapshot_append_color (snapshot, &grid,
                                     &GRAPHENE_RECT_INIT ((float) x, (float) p.y, 1, (float) p.h));
          layout_size (layout, &lw, &lh);
          /* Keep the first and last labels inside the widget. */
          append_text (snapshot, layout, CLAMP (x - lw / 2.0, p.x - LABEL_PAD, width - lw),
                       p.y + p.h + LABEL_PAD / 2, &text_color);
        }
    }

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT ((float) p.x, (float) p.y - 2,
                                                         (float) p.w, (float) p.h + 4));

  if (self->line_mode == SY_CHART_LINES_RECTS)
    sparse = draw_lines_rects (self, snapshot, &p);
  else if (self->line_mode == SY_CHART_LINES_RASTER)
    sparse = FALSE;

  /* Bands first, so the lines are drawn over them. */
  {
    gboolean any_band = FALSE;

    for (guint i = 0; i < self->series->len && !any_band; i++)
      {
        Series *s = g_ptr_array_index (self->series, i);

        any_band = s->visible && s->dec_band->len > 0;
      }

    if (any_band || sparse)
      {
        cr = gtk_snapshot_append_cairo (snapshot,
                                        &GRAPHENE_RECT_INIT ((float) p.x, (float) p.y - 2,
                                                             (float) p.w, (float) p.h + 4));
        if (any_band)
          draw_bands_cairo (self, cr, &p);
        if (sparse)
          draw_lines_cairo (self, cr, &p, self->line_mode == SY_CHART_LINES_RECTS);
        cairo_destroy (cr);
      }
  }

  if (self->line_mode == SY_CHART_LINES_RASTER)
    draw_lines_raster (self, snapshot, &p, p.y - 2, p.h + 4);

  gtk_snapshot_pop (snapshot);

  if (!self->compact && self->hovering)
    draw_hover (self, snapshot, &p, &fg, &bg);

out:
  self->last_snapshot_us = g_get_monotonic_time () - start_us;
}

static void
sy_chart_measure (GtkWidget      *widget,
                  GtkOrientation  orientation,
                  int             for_size,
                  int            *minimum,
                  int            *natural,
                  int            *minimum_baseline,
                  int            *natural_baseline)
{
  SyChart *self = SY_CHART (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = self->compact ? 24 : 160;
      *natural = self->compact ? 120 : 480;
    }
  else
    {
      *minimum = self->compact ? 16 : 120;
      *natural = self->compact ? 32 : 240;
    }
}

/* Live mode */

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *frame_clock,
         gpointer       user_data)
{
  SyChart *self = SY_CHART (widget);

  /* A live chart only moves when the clock crosses a pixel column: a 15-minute window across
   * 1000 pixels scrolls one pixel every 0.9 s, so redrawing it at the frame rate would cost a
   * core for nothing (the console idled at 137 % CPU under llvmpipe). New points queue their
   * own draw in sy_chart_append(). */
  if (self->drawn_ms_per_px > 0 &&
      (gint64) floor (now_ms () / self->drawn_ms_per_px) == self->drawn_col)
    return G_SOURCE_CONTINUE;

  gtk_widget_queue_draw (widget);
  return G_SOURCE_CONTINUE;
}

static void
update_tick (SyChart *self)
{
  gboolean want = self->live && gtk_widget_get_mapped (GTK_WIDGET (self));

  if (want && self->tick_id == 0)
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick_cb, NULL, NULL);
  else if (!want && self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
}

static void
sy_chart_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (sy_chart_parent_class)->map (widget);
  update_tick (SY_CHART (widget));
}

static void
sy_chart_unmap (GtkWidget *widget)
{
  SyChart *self = SY_CHART (widget);

  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (widget, self->tick_id);
      self->tick_id = 0;
    }
  GTK_WIDGET_CLASS (sy_chart_parent_class)->unmap (widget);
}

/* Hover */

static void
motion_cb (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           SyChart                  *self)
{
  if (self->compact)
    return;
  self->hovering = TRUE;
  self->hover_x = x;
  self->hover_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *controller,
          SyChart                  *self)
{
  self->hovering = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Accessibility */

static void
update_accessible_label (SyChart *self)
{
  g_autoptr(GString) names = g_string_new (NULL);
  g_autofree char *label = NULL;

  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);

      if (names->len > 0)
        /* Translators: separator between series names in a chart's accessible label */
        g_string_append (names, _(", "));
      g_string_append (names, s->label);
    }

  if (names->len == 0)
    label = g_strdup (_("Empty chart"));
  else
    /* Translators: accessible label of a chart; %s is the list of series names */
    label = g_strdup_printf (_("Chart of %s"), names->str);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

/* GObject */

static void
sy_chart_finalize (GObject *object)
{
  SyChart *self = SY_CHART (object);

  g_clear_pointer (&self->unit, g_free);
  g_clear_pointer (&self->series, g_ptr_array_unref);
  g_clear_pointer (&self->layouts, g_hash_table_unref);
  g_clear_pointer (&self->label_attrs, pango_attr_list_unref);
  g_clear_pointer (&self->y_labels, g_ptr_array_unref);
  g_clear_pointer (&self->x_labels, g_ptr_array_unref);
  g_clear_pointer (&self->hover_text, g_free);
  g_clear_object (&self->line_texture);

  G_OBJECT_CLASS (sy_chart_parent_class)->finalize (object);
}

static void
sy_chart_class_init (SyChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = sy_chart_finalize;

  widget_class->snapshot = sy_chart_snapshot;
  widget_class->measure = sy_chart_measure;
  widget_class->map = sy_chart_map;
  widget_class->unmap = sy_chart_unmap;

  gtk_widget_class_set_css_name (widget_class, "sy-chart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
sy_chart_init (SyChart *self)
{
  GtkEventController *motion;
  gint64 now = now_ms ();

  self->series = g_ptr_array_new_with_free_func (series_free);
  self->layouts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->label_attrs = pango_attr_list_new ();
  pango_attr_list_insert (self->label_attrs, pango_attr_scale_new (PANGO_SCALE_SMALL));
  pango_attr_list_insert (self->label_attrs, pango_attr_font_features_new ("tnum"));
  self->y_labels = g_ptr_array_new_with_free_func (g_free);
  self->x_labels = g_ptr_array_new_with_free_func (g_free);
  self->margin_left = 48;
  self->window_ms = 15 * 60000;
  self->from_ms = now - 3600000;
  self->to_ms = now;
  self->drawn_col = G_MININT64;
  self->line_mode = SY_CHART_LINES_RASTER;

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "enter", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  update_accessible_label (self);
}

/* Public API */

GtkWidget *
sy_chart_new (void)
{
  return g_object_new (SY_TYPE_CHART, NULL);
}

void
sy_chart_set_unit (SyChart    *self,
                   const char *unit)
{
  g_return_if_fail (SY_IS_CHART (self));

  if (g_strcmp0 (self->unit, unit) == 0)
    return;
  g_free (self->unit);
  self->unit = g_strdup (unit);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
sy_chart_set_time_range (SyChart *self,
                         gint64   from_ms,
                         gint64   to_ms)
{
  g_return_if_fail (SY_IS_CHART (self));
  g_return_if_fail (from_ms < to_ms);

  self->live = FALSE;
  self->from_ms = from_ms;
  self->to_ms = to_ms;
  update_tick (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
sy_chart_set_live_window (SyChart *self,
                          gint64   window_ms)
{
  gint64 cutoff;

  g_return_if_fail (SY_IS_CHART (self));
  g_return_if_fail (window_ms > 0);

  self->live = TRUE;
  self->window_ms = window_ms;
  cutoff = now_ms () - window_ms - MAX (window_ms / 10, 1000);
  for (guint i = 0; i < self->series->len; i++)
    series_trim (g_ptr_array_index (self->series, i), cutoff);
  update_tick (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
sy_chart_set_compact (SyChart  *self,
                      gboolean  compact)
{
  g_return_if_fail (SY_IS_CHART (self));

  compact = !!compact;
  if (self->compact == compact)
    return;
  self->compact = compact;
  self->hovering = FALSE;
  g_clear_object (&self->line_texture);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

guint
sy_chart_add_series (SyChart       *self,
                     const char    *label,
                     const GdkRGBA *color)
{
  Series *s;

  g_return_val_if_fail (SY_IS_CHART (self), 0);

  s = g_new0 (Series, 1);
  s->label = g_strdup (label != NULL ? label : "");
  if (color != NULL)
    s->color = *color;
  else
    {
      gdk_rgba_parse (&s->color, palette[self->next_color % G_N_ELEMENTS (palette)]);
      self->next_color++;
    }
  s->visible = TRUE;
  s->ts = g_array_new (FALSE, FALSE, sizeof (gint64));
  s->values = g_array_new (FALSE, FALSE, sizeof (double));
  s->dec = g_array_new (FALSE, FALSE, sizeof (DecPoint));
  s->dec_band = g_array_new (FALSE, FALSE, sizeof (DecBand));
  s->version = 1;
  g_ptr_array_add (self->series, s);

  update_accessible_label (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));

  return self->series->len - 1;
}

void
sy_chart_set_series_visible (SyChart  *self,
                             guint     series,
                             gboolean  visible)
{
  Series *s;

  g_return_if_fail (SY_IS_CHART (self));
  s = get_series (self, series);
  g_return_if_fail (s != NULL);

  visible = !!visible;
  if (s->visible == visible)
    return;
  s->visible = visible;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
sy_chart_clear (SyChart *self)
{
  g_return_if_fail (SY_IS_CHART (self));

  g_ptr_array_set_size (self->series, 0);
  g_clear_object (&self->line_texture);
  self->next_color = 0;
  update_accessible_label (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
sy_chart_append (SyChart *self,
                 guint    series,
                 gint64   ts_ms,
                 double   value)
{
  Series *s;

  g_return_if_fail (SY_IS_CHART (self));
  s = get_series (self, series);
  g_return_if_fail (s != NULL);

  if (s->ts->len > s->start && ts_ms < g_array_index (s->ts, gint64, s->ts->len - 1))
    return;

  g_array_append_val (s->ts, ts_ms);
  g_array_append_val (s->values, value);
  if (s->low != NULL)
    {
      double nan = NAN;

      g_array_append_val (s->low, nan);
      g_array_append_val (s->high, nan);
    }
  series_changed (s);

  if (self->live)
    series_trim (s, MAX (now_ms (), ts_ms) - self->window_ms - MAX (self->window_ms / 10, 1000));

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
sy_chart_set_points (SyChart      *self,
                     guint         series,
                     const gint64 *ts_ms,
                     const double *values,
                     gsize         n_points)
{
  Series *s;

  g_return_if_fail (SY_IS_CHART (self));
  s = get_series (self, series);
  g_return_if_fail (s != NULL);
  g_return_if_fail (n_points == 0 || (ts_ms != NULL && values != NULL));
  g_return_if_fail (n_points <= G_MAXUINT);

  series_compact (s);
  g_array_set_size (s->ts, 0);
  g_array_set_size (s->values, 0);
  g_array_append_vals (s->ts, ts_ms, (guint) n_points);
  g_array_append_vals (s->values, values, (guint) n_points);
  if (s->low != NULL && s->low->len != n_points)
    {
      g_clear_pointer (&s->low, g_array_unref);
      g_clear_pointer (&s->high, g_array_unref);
    }
  series_changed (s);

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
sy_chart_set_band (SyChart      *self,
                   guint         series,
                   const double *low,
                   const double *high,
                   gsize         n_points)
{
  Series *s;

  g_return_if_fail (SY_IS_CHART (self));
  s = get_series (self, series);
  g_return_if_fail (s != NULL);

  series_compact (s);
  g_clear_pointer (&s->low, g_array_unref);
  g_clear_pointer (&s->high, g_array_unref);
  series_changed (s);
  gtk_widget_queue_draw (GTK_WIDGET (self));

  if (low == NULL || high == NULL)
    return;

  g_return_if_fail (n_points == s->ts->len);

  s->low = g_array_sized_new (FALSE, FALSE, sizeof (double), (guint) n_points);
  s->high = g_array_sized_new (FALSE, FALSE, sizeof (double), (guint) n_points);
  g_array_append_vals (s->low, low, (guint) n_points);
  g_array_append_vals (s->high, high, (guint) n_points);
}

guint
sy_chart_get_drawn_points (SyChart *self)
{
  g_return_val_if_fail (SY_IS_CHART (self), 0);

  return self->drawn_points;
}

gint64
sy_chart_get_last_snapshot_us (SyChart *self)
{
  g_return_val_if_fail (SY_IS_CHART (self), 0);

  return self->last_snapshot_us;
}

/* Private API */

static char **
dup_labels (GPtrArray *labels)
{
  char **ret = g_new0 (char *, labels->len + 1);

  for (guint i = 0; i < labels->len; i++)
    ret[i] = g_strdup (g_ptr_array_index (labels, i));
  return ret;
}

char **
_sy_chart_dup_y_labels (SyChart *self)
{
  g_return_val_if_fail (SY_IS_CHART (self), NULL);

  return dup_labels (self->y_labels);
}

char **
_sy_chart_dup_x_labels (SyChart *self)
{
  g_return_val_if_fail (SY_IS_CHART (self), NULL);

  return dup_labels (self->x_labels);
}

guint
_sy_chart_get_drawn_segments (SyChart *self)
{
  g_return_val_if_fail (SY_IS_CHART (self), 0);

  return self->drawn_segments;
}

guint
_sy_chart_get_snapshot_count (SyChart *self)
{
  g_return_val_if_fail (SY_IS_CHART (self), 0);

  return self->snapshot_count;
}

gsize
_sy_chart_get_n_points (SyChart *self,
                        guint    series)
{
  Series *s;

  g_return_val_if_fail (SY_IS_CHART (self), 0);
  s = get_series (self, series);
  g_return_val_if_fail (s != NULL, 0);

  return s->ts->len - s->start;
}

void
_sy_chart_set_hover (SyChart *self,
                     double   x,
                     double   y)
{
  g_return_if_fail (SY_IS_CHART (self));

  self->hovering = x >= 0 && !self->compact;
  self->hover_x = x;
  self->hover_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

char *
_sy_chart_dup_hover_text (SyChart *self)
{
  g_return_val_if_fail (SY_IS_CHART (self), NULL);

  return g_strdup (self->hover_text);
}

void
_sy_chart_set_line_mode (SyChart         *self,
                         SyChartLineMode  mode)
{
  g_return_if_fail (SY_IS_CHART (self));

  self->line_mode = mode;
  g_clear_object (&self->line_texture);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
