/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-meter-row"

#include "config.h"

#include <glib/gi18n.h>

#include "sy-chart.h"
#include "sy-format.h"
#include "sy-meter-row.h"

#define SPARKLINE_MS (5 * 60 * 1000)

struct _SyMeterRow
{
  AdwActionRow  parent_instance;

  SyMeterItem  *item;
  SySettings   *settings;
  GtkWidget    *chart;
  guint         series;

  GtkImage     *icon;
  GtkBox       *sparkline_box;
  GtkLabel     *value_label;
};

G_DEFINE_FINAL_TYPE (SyMeterRow, sy_meter_row, ADW_TYPE_ACTION_ROW)

static void
update_value (SyMeterRow *self)
{
  g_autofree char *text = sy_format_power (sy_meter_item_get_power (self->item),
                                           sy_settings_get_power_unit (self->settings));

  gtk_label_set_label (self->value_label, text);
}

static void
reading_cb (SyMeterRow *self)
{
  gint64 ts_ms = sy_meter_item_get_last_seen_ms (self->item);

  update_value (self);
  sy_chart_append (SY_CHART (self->chart), self->series, ts_ms, sy_meter_item_get_power (self->item));
}

static void
sy_meter_row_dispose (GObject *object)
{
  SyMeterRow *self = (SyMeterRow *) object;

  gtk_widget_dispose_template (GTK_WIDGET (self), SY_TYPE_METER_ROW);
  g_clear_object (&self->item);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sy_meter_row_parent_class)->dispose (object);
}

static void
sy_meter_row_class_init (SyMeterRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sy_meter_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/switchyard/Switchyard/ui/sy-meter-row.ui");
  gtk_widget_class_bind_template_child (widget_class, SyMeterRow, icon);
  gtk_widget_class_bind_template_child (widget_class, SyMeterRow, sparkline_box);
  gtk_widget_class_bind_template_child (widget_class, SyMeterRow, value_label);
}

static void
sy_meter_row_init (SyMeterRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->chart = sy_chart_new ();
  gtk_widget_set_hexpand (self->chart, TRUE);
  sy_chart_set_compact (SY_CHART (self->chart), TRUE);
  sy_chart_set_live_window (SY_CHART (self->chart), SPARKLINE_MS);
  self->series = sy_chart_add_series (SY_CHART (self->chart), "", NULL);
  gtk_box_append (self->sparkline_box, self->chart);
}

GtkWidget *
sy_meter_row_new (SyMeterItem *item,
                  SySettings  *settings)
{
  SyMeterRow *self;
  g_autoptr(GArray) ts = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (double));
  const SyPowerPoint *points;
  gint64 since = g_get_real_time () / 1000 - SPARKLINE_MS;
  guint n;

  g_return_val_if_fail (SY_IS_METER_ITEM (item), NULL);
  g_return_val_if_fail (SY_IS_SETTINGS (settings), NULL);

  self = g_object_new (SY_TYPE_METER_ROW,
                       "action-target", g_variant_new_int64 (sy_meter_item_get_id (item)),
                       NULL);
  self->item = g_object_ref (item);
  self->settings = g_object_ref (settings);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), sy_meter_item_get_name (item));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), sy_meter_kind_get_label (sy_meter_item_get_kind (item)));
  gtk_image_set_from_icon_name (self->icon, sy_meter_kind_get_icon_name (sy_meter_item_get_kind (item)));
  gtk_widget_set_name (GTK_WIDGET (self), sy_meter_item_get_name (item));

  points = sy_meter_item_get_history (item, &n);
  for (guint i = 0; i < n; i++)
    {
      if (points[i].ts_ms < since)
        continue;
      g_array_append_val (ts, points[i].ts_ms);
      g_array_append_val (values, points[i].watts);
    }
  sy_chart_set_points (SY_CHART (self->chart), self->series, (const gint64 *) (gpointer) ts->data,
                       (const double *) (gpointer) values->data, ts->len);

  update_value (self);
  g_signal_connect_object (item, "notify::last-seen-ms", G_CALLBACK (reading_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "notify::" SY_SETTINGS_KEY_POWER_UNIT, G_CALLBACK (update_value),
                           self, G_CONNECT_SWAPPED);

  return GTK_WIDGET (self);
}

SyMeterItem *
sy_meter_row_get_item (SyMeterRow *self)
{
  g_return_val_if_fail (SY_IS_METER_ROW (self), NULL);

  return self->item;
}
