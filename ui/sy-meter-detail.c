/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-meter-detail"

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "sy-chart.h"
#include "sy-format.h"
#include "sy-meter-detail.h"

#define LIVE_MS (15 * 60 * 1000)

/* The ranges and the rollups that draw them: about 1000 points at most. */
static const struct
{
  const char *id;
  gint64      span_ms;
  const char *bucket;
} ranges[] = {
  { "live", LIVE_MS, NULL },
  { "1h", G_GINT64_CONSTANT (3600000), "1m" },
  { "24h", G_GINT64_CONSTANT (86400000), "1m" },
  { "7d", G_GINT64_CONSTANT (7) * 86400000, "15m" },
  { "30d", G_GINT64_CONSTANT (30) * 86400000, "1h" },
};

typedef enum
{
  ROW_POWER,
  ROW_VOLTAGE_A,
  ROW_VOLTAGE_B,
  ROW_VOLTAGE_C,
  ROW_CURRENT_A,
  ROW_CURRENT_B,
  ROW_CURRENT_C,
  ROW_POWER_FACTOR,
  ROW_FREQUENCY,
  ROW_ENERGY,
  ROW_LAST_SEEN,
  N_ROWS
} RowId;

static const struct
{
  const char *property;
  const char *title;
  int         digits;
  const char *unit;
} row_info[N_ROWS] = {
  { "power", N_("Power"), 0, NULL },
  { "voltage-a", N_("Voltage L1"), 1, "V" },
  { "voltage-b", N_("Voltage L2"), 1, "V" },
  { "voltage-c", N_("Voltage L3"), 1, "V" },
  { "current-a", N_("Current L1"), 2, "A" },
  { "current-b", N_("Current L2"), 2, "A" },
  { "current-c", N_("Current L3"), 2, "A" },
  { "power-factor", N_("Power Factor"), 3, "" },
  { "frequency", N_("Frequency"), 3, "Hz" },
  { "energy", N_("Energy Register"), 1, "kWh" },
  { "last-seen-ms", N_("Last Reading"), 0, NULL },
};

struct _SyMeterDetail
{
  GtkWidget      parent_instance;

  SyClient      *client;
  SySettings    *settings;
  SyMeterItem   *item;
  char          *range;
  GCancellable  *cancellable;
  GtkWidget     *chart;
  guint          series;
  guint          n_points;
  GtkLabel      *values[N_ROWS];

  GtkLabel      *title_label;
  GtkLabel      *subtitle_label;
  GtkBox        *chart_card;
  GtkLabel      *min_label;
  GtkLabel      *avg_label;
  GtkLabel      *max_label;
  AdwPreferencesGroup *values_group;
};

G_DEFINE_FINAL_TYPE (SyMeterDetail, sy_meter_detail, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_RANGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_summary (SyMeterDetail *self,
             double         min,
             double         avg,
             double         max)
{
  const char *unit = self->settings ? sy_settings_get_power_unit (self->settings) : "auto";
  g_autofree char *min_text = sy_format_power (min, unit);
  g_autofree char *avg_text = sy_format_power (avg, unit);
  g_autofree char *max_text = sy_format_power (max, unit);

  gtk_label_set_label (self->min_label, min_text);
  gtk_label_set_label (self->avg_label, avg_text);
  gtk_label_set_label (self->max_label, max_text);
}

static void
live_summary (SyMeterDetail *self)
{
  const SyPowerPoint *points;
  double min = INFINITY, max = -INFINITY, sum = 0.0;
  guint n, used = 0;

  points = sy_meter_item_get_history (self->item, &n);
  for (guint i = 0; i < n; i++)
    {
      if (isnan (points[i].watts))
        continue;
      min = MIN (min, points[i].watts);
      max = MAX (max, points[i].watts);
      sum += points[i].watts;
      used++;
    }

  if (used == 0)
    set_summary (self, NAN, NAN, NAN);
  else
    set_summary (self, min, sum / used, max);
}

static void
update_values (SyMeterDetail *self)
{
  for (guint r = 0; r < N_ROWS; r++)
    {
      g_autofree char *text = NULL;

      if (self->item == NULL)
        text = g_strdup ("—");
      else if (r == ROW_POWER)
        text = sy_format_power (sy_meter_item_get_power (self->item), sy_settings_get_power_unit (self->settings));
      else if (r == ROW_LAST_SEEN)
        text = sy_meter_item_get_last_seen_ms (self->item) > 0
               ? sy_format_time (sy_meter_item_get_last_seen_ms (self->item)) : g_strdup ("—");
      else
        {
          double value;

          g_object_get (self->item, row_info[r].property, &value, NULL);
          text = sy_format_value (value, row_info[r].digits, row_info[r].unit);
        }
      gtk_label_set_label (self->values[r], text);
    }
}

static void
reading_cb (SyMeterDetail *self)
{
  update_values (self);

  if (g_strcmp0 (self->range, "live") == 0)
    {
      sy_chart_append (SY_CHART (self->chart), self->series, sy_meter_item_get_last_seen_ms (self->item),
                       sy_meter_item_get_power (self->item));
      self->n_points++;
      live_summary (self);
    }
}

static void
rollups_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(SyMeterDetail) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GArray) ts = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) avg = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) low = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) high = g_array_new (FALSE, FALSE, sizeof (double));
  double min = INFINITY, max = -INFINITY, weighted = 0.0;
  gint64 count = 0;
  JsonArray *results = NULL;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (node == NULL)
    {
      GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

      g_warning ("Loading the chart failed: %s", error->message);
      if (overlay != NULL)
        adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (error->message));
      return;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    results = json_object_get_array_member (json_node_get_object (node), "results");

  for (guint i = 0; results != NULL && i < json_array_get_length (results); i++)
    {
      JsonObject *row = json_array_get_object_element (results, i);
      gint64 t = sy_parse_iso8601 (json_object_get_string_member_with_default (row, "timestamp", NULL));
      double a = json_object_get_double_member_with_default (row, "avg_power", NAN);
      double lo = json_object_get_double_member_with_default (row, "min_power", a);
      double hi = json_object_get_double_member_with_default (row, "max_power", a);
      gint64 c = json_object_get_int_member_with_default (row, "count", 0);

      if (t < 0 || isnan (a))
        continue;
      g_array_append_val (ts, t);
      g_array_append_val (avg, a);
      g_array_append_val (low, lo);
      g_array_append_val (high, hi);
      min = MIN (min, lo);
      max = MAX (max, hi);
      weighted += a * MAX (c, 1);
      count += MAX (c, 1);
    }

  sy_chart_set_points (SY_CHART (self->chart), self->series, (const gint64 *) (gpointer) ts->data,
                       (const double *) (gpointer) avg->data, ts->len);
  sy_chart_set_band (SY_CHART (self->chart), self->series, (const double *) (gpointer) low->data,
                     (const double *) (gpointer) high->data, low->len);
  self->n_points = ts->len;

  if (count == 0)
    set_summary (self, NAN, NAN, NAN);
  else
    set_summary (self, min, weighted / count, max);
}

static void
load_range (SyMeterDetail *self)
{
  gint64 now = g_get_real_time () / 1000;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  sy_chart_clear (SY_CHART (self->chart));
  self->series = sy_chart_add_series (SY_CHART (self->chart), _("Power"), NULL);
  self->n_points = 0;
  set_summary (self, NAN, NAN, NAN);

  if (self->item == NULL || self->client == NULL)
    return;

  if (g_strcmp0 (self->range, "live") == 0)
    {
      const SyPowerPoint *points;
      g_autoptr(GArray) ts = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (double));
      guint n;

      sy_chart_set_live_window (SY_CHART (self->chart), LIVE_MS);
      points = sy_meter_item_get_history (self->item, &n);
      for (guint i = 0; i < n; i++)
        {
          g_array_append_val (ts, points[i].ts_ms);
          g_array_append_val (values, points[i].watts);
        }
      sy_chart_set_points (SY_CHART (self->chart), self->series, (const gint64 *) (gpointer) ts->data,
                           (const double *) (gpointer) values->data, ts->len);
      self->n_points = ts->len;
      live_summary (self);
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (ranges); i++)
    {
      g_autofree char *from = NULL;
      g_autofree char *path = NULL;

      if (g_strcmp0 (ranges[i].id, self->range) != 0 || ranges[i].bucket == NULL)
        continue;

      sy_chart_set_time_range (SY_CHART (self->chart), now - ranges[i].span_ms, now);
      from = sy_format_iso8601 (now - ranges[i].span_ms);
      path = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%" G_GINT64_FORMAT "&bucket=%s&from=%s",
                              sy_meter_item_get_id (self->item), ranges[i].bucket, from);
      sy_client_request_async (self->client, "GET", path, NULL, self->cancellable, rollups_cb,
                               g_object_ref (self));
    }
}

static void
build_rows (SyMeterDetail *self)
{
  for (guint r = 0; r < N_ROWS; r++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *label = gtk_label_new ("—");

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _(row_info[r].title));
      gtk_widget_add_css_class (label, "numeric");
      gtk_widget_add_css_class (label, "value-label");
      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
      adw_preferences_group_add (self->values_group, row);
      self->values[r] = GTK_LABEL (label);
    }
}

static void
sy_meter_detail_dispose (GObject *object)
{
  SyMeterDetail *self = (SyMeterDetail *) object;
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), SY_TYPE_METER_DETAIL);
  /* The template's root is not bound by name, so it is unparented here. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->item);
  g_clear_object (&self->client);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (sy_meter_detail_parent_class)->dispose (object);
}

static void
sy_meter_detail_finalize (GObject *object)
{
  SyMeterDetail *self = (SyMeterDetail *) object;

  g_clear_pointer (&self->range, g_free);

  G_OBJECT_CLASS (sy_meter_detail_parent_class)->finalize (object);
}

static void
sy_meter_detail_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  SyMeterDetail *self = SY_METER_DETAIL (object);

  switch (prop_id)
    {
    case PROP_RANGE:
      g_value_set_string (value, self->range);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sy_meter_detail_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  SyMeterDetail *self = SY_METER_DETAIL (object);

  switch (prop_id)
    {
    case PROP_RANGE:
      sy_meter_detail_set_range (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sy_meter_detail_class_init (SyMeterDetailClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sy_meter_detail_dispose;
  object_class->finalize = sy_meter_detail_finalize;
  object_class->get_property = sy_meter_detail_get_property;
  object_class->set_property = sy_meter_detail_set_property;

  properties[PROP_RANGE] =
    g_param_spec_string ("range", NULL, NULL, "live",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/switchyard/Switchyard/ui/sy-meter-detail.ui");
  gtk_widget_class_bind_template_child (widget_class, SyMeterDetail, title_label);
  gtk_widget_class_bind_template_child (widget_class, SyMeterDetail, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, SyMeterDetail, chart_card);
  gtk_widget_class_bind_template_child (widget_class, SyMeterDetail, min_label);
  gtk_widget_class_bind_template_child (widget_class, SyMeterDetail, avg_label);
  gtk_widget_class_bind_template_child (widget_class, SyMeterDetail, max_label);
  gtk_widget_class_bind_template_child (widget_class, SyMeterDetail, values_group);

  gtk_widget_class_install_property_action (widget_class, "detail.range", "range");
}

static void
sy_meter_detail_init (SyMeterDetail *self)
{
  self->range = g_strdup ("live");
  self->cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  self->chart = sy_chart_new ();
  gtk_widget_set_size_request (self->chart, -1, 320);
  sy_chart_set_unit (SY_CHART (self->chart), "W");
  gtk_box_append (self->chart_card, self->chart);

  build_rows (self);
}

void
sy_meter_detail_set_context (SyMeterDetail *self,
                             SyClient      *client,
                             SySettings    *settings)
{
  g_return_if_fail (SY_IS_METER_DETAIL (self));
  g_return_if_fail (SY_IS_CLIENT (client));
  g_return_if_fail (SY_IS_SETTINGS (settings));

  g_set_object (&self->client, client);
  g_set_object (&self->settings, settings);
}

void
sy_meter_detail_set_item (SyMeterDetail *self,
                          SyMeterItem   *item)
{
  g_return_if_fail (SY_IS_METER_DETAIL (self));
  g_return_if_fail (item == NULL || SY_IS_METER_ITEM (item));

  if (item == self->item)
    return;

  if (self->item != NULL)
    g_signal_handlers_disconnect_by_data (self->item, self);
  g_set_object (&self->item, item);

  if (item != NULL)
    {
      gtk_label_set_label (self->title_label, sy_meter_item_get_name (item));
      gtk_label_set_label (self->subtitle_label, sy_meter_kind_get_label (sy_meter_item_get_kind (item)));
      g_signal_connect_object (item, "notify::last-seen-ms", G_CALLBACK (reading_cb), self, G_CONNECT_SWAPPED);
    }

  update_values (self);
  load_range (self);
}

SyMeterItem *
sy_meter_detail_get_item (SyMeterDetail *self)
{
  g_return_val_if_fail (SY_IS_METER_DETAIL (self), NULL);

  return self->item;
}

const char *
sy_meter_detail_get_range (SyMeterDetail *self)
{
  g_return_val_if_fail (SY_IS_METER_DETAIL (self), NULL);

  return self->range;
}

void
sy_meter_detail_set_range (SyMeterDetail *self,
                           const char    *range)
{
  gboolean known = FALSE;

  g_return_if_fail (SY_IS_METER_DETAIL (self));
  g_return_if_fail (range != NULL);

  for (guint i = 0; i < G_N_ELEMENTS (ranges); i++)
    known |= g_str_equal (ranges[i].id, range);
  if (!known || g_strcmp0 (self->range, range) == 0)
    return;

  g_free (self->range);
  self->range = g_strdup (range);
  load_range (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RANGE]);
}

GtkWidget *
sy_meter_detail_get_chart (SyMeterDetail *self)
{
  g_return_val_if_fail (SY_IS_METER_DETAIL (self), NULL);

  return self->chart;
}

guint
sy_meter_detail_get_n_points (SyMeterDetail *self)
{
  g_return_val_if_fail (SY_IS_METER_DETAIL (self), 0);

  return self->n_points;
}
