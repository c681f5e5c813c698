/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-meter-item"

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "sy-format.h"
#include "sy-meter-item.h"

enum {
  VALUE_POWER,
  VALUE_ENERGY,
  VALUE_VOLTAGE_A,
  VALUE_VOLTAGE_B,
  VALUE_VOLTAGE_C,
  VALUE_CURRENT_A,
  VALUE_CURRENT_B,
  VALUE_CURRENT_C,
  VALUE_POWER_FACTOR,
  VALUE_FREQUENCY,
  N_VALUES
};

/* Property name, and the member of a stored reading (backend/ingest/sy-reading.c). */
static const struct
{
  const char *property;
  const char *member;
} value_names[N_VALUES] = {
  { "power", "total_power" },
  { "energy", "total_energy" },
  { "voltage-a", "voltage_a" },
  { "voltage-b", "voltage_b" },
  { "voltage-c", "voltage_c" },
  { "current-a", "current_a" },
  { "current-b", "current_b" },
  { "current-c", "current_c" },
  { "power-factor", "power_factor" },
  { "frequency", "frequency" },
};

struct _SyMeterItem
{
  GObject  parent_instance;

  gint64   id;
  char    *name;
  char    *kind;
  double   values[N_VALUES];
  gint64   last_seen_ms;
  double   today_kwh;
  GArray  *history;   /* SyPowerPoint */
};

G_DEFINE_FINAL_TYPE (SyMeterItem, sy_meter_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_KIND,
  PROP_LAST_SEEN_MS,
  PROP_FIRST_VALUE,
  N_PROPS = PROP_FIRST_VALUE + N_VALUES
};

static GParamSpec *properties[N_PROPS];

static void
sy_meter_item_finalize (GObject *object)
{
  SyMeterItem *self = (SyMeterItem *) object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->kind, g_free);
  g_clear_pointer (&self->history, g_array_unref);

  G_OBJECT_CLASS (sy_meter_item_parent_class)->finalize (object);
}

static void
sy_meter_item_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  SyMeterItem *self = SY_METER_ITEM (object);

  if (prop_id >= PROP_FIRST_VALUE && prop_id < N_PROPS)
    {
      g_value_set_double (value, self->values[prop_id - PROP_FIRST_VALUE]);
      return;
    }

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;

    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_KIND:
      g_value_set_string (value, self->kind);
      break;

    case PROP_LAST_SEEN_MS:
      g_value_set_int64 (value, self->last_seen_ms);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sy_meter_item_class_init (SyMeterItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = sy_meter_item_finalize;
  object_class->get_property = sy_meter_item_get_property;

  properties[PROP_ID] = g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_KIND] = g_param_spec_string ("kind", NULL, NULL, NULL, flags);
  properties[PROP_LAST_SEEN_MS] = g_param_spec_int64 ("last-seen-ms", NULL, NULL, 0, G_MAXINT64, 0, flags);
  /* The values are NaN until a reading has them; a NaN default is not allowed. */
  for (guint v = 0; v < N_VALUES; v++)
    properties[PROP_FIRST_VALUE + v] = g_param_spec_double (value_names[v].property, NULL, NULL,
                                                            -G_MAXDOUBLE, G_MAXDOUBLE, 0.0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
sy_meter_item_init (SyMeterItem *self)
{
  for (guint v = 0; v < N_VALUES; v++)
    self->values[v] = NAN;
  self->history = g_array_new (FALSE, FALSE, sizeof (SyPowerPoint));
}

SyMeterItem *
sy_meter_item_new (gint64      id,
                   const char *name,
                   const char *kind)
{
  SyMeterItem *self;

  g_return_val_if_fail (name != NULL, NULL);

  self = g_object_new (SY_TYPE_METER_ITEM, NULL);
  self->id = id;
  self->name = g_strdup (name);
  self->kind = g_strdup (kind ? kind : "submeter");

  return self;
}

gint64
sy_meter_item_get_id (SyMeterItem *self)
{
  g_return_val_if_fail (SY_IS_METER_ITEM (self), 0);

  return self->id;
}

const char *
sy_meter_item_get_name (SyMeterItem *self)
{
  g_return_val_if_fail (SY_IS_METER_ITEM (self), NULL);

  return self->name;
}

const char *
sy_meter_item_get_kind (SyMeterItem *self)
{
  g_return_val_if_fail (SY_IS_METER_ITEM (self), NULL);

  return self->kind;
}

double
sy_meter_item_get_power (SyMeterItem *self)
{
  g_return_val_if_fail (SY_IS_METER_ITEM (self), NAN);

  return self->values[VALUE_POWER];
}

double
sy_meter_item_get_energy (SyMeterItem *self)
{
  g_return_val_if_fail (SY_IS_METER_ITEM (self), NAN);

  return self->values[VALUE_ENERGY];
}

gint64
sy_meter_item_get_last_seen_ms (SyMeterItem *self)
{
  g_return_val_if_fail (SY_IS_METER_ITEM (self), 0);

  return self->last_seen_ms;
}

double
sy_meter_item_get_today_energy (SyMeterItem *self)
{
  g_return_val_if_fail (SY_IS_METER_ITEM (self), 0.0);

  return self->today_kwh;
}

void
sy_meter_item_set_today_energy (SyMeterItem *self,
                                double       kwh)
{
  g_return_if_fail (SY_IS_METER_ITEM (self));

  self->today_kwh = kwh;
}

gboolean
sy_meter_item_apply_reading (SyMeterItem *self,
                             JsonObject  *reading)
{
  gint64 ts_ms;

  g_return_val_if_fail (SY_IS_METER_ITEM (self), FALSE);
  g_return_val_if_fail (reading != NULL, FALSE);

  ts_ms = sy_parse_iso8601 (json_object_get_string_member_with_default (reading, "timestamp", NULL));
  if (ts_ms < 0 || ts_ms < self->last_seen_ms)
    return FALSE;

  g_object_freeze_notify (G_OBJECT (self));

  for (guint v = 0; v < N_VALUES; v++)
    {
      JsonNode *node = json_object_get_member (reading, value_names[v].member);
      double value;

      if (node == NULL || json_node_get_value_type (node) == G_TYPE_INVALID ||
          JSON_NODE_HOLDS_NULL (node))
        continue;
      value = json_node_get_double (node);
      if (value != self->values[v])
        {
          self->values[v] = value;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIRST_VALUE + v]);
        }
    }

  if (json_object_has_member (reading, "total_power"))
    sy_meter_item_add_history (self, ts_ms, self->values[VALUE_POWER]);

  self->last_seen_ms = ts_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SEEN_MS]);

  g_object_thaw_notify (G_OBJECT (self));

  return TRUE;
}

void
sy_meter_item_add_history (SyMeterItem *self,
                           gint64       ts_ms,
                           double       watts)
{
  SyPowerPoint point = { ts_ms, watts };
  guint drop = 0;

  g_return_if_fail (SY_IS_METER_ITEM (self));

  if (self->history->len > 0 &&
      ts_ms <= g_array_index (self->history, SyPowerPoint, self->history->len - 1).ts_ms)
    return;

  g_array_append_val (self->history, point);

  while (drop < self->history->len &&
         g_array_index (self->history, SyPowerPoint, drop).ts_ms < ts_ms - SY_METER_ITEM_HISTORY_MS)
    drop++;
  if (drop > 0)
    g_array_remove_range (self->history, 0, drop);
}

const SyPowerPoint *
sy_meter_item_get_history (SyMeterItem *self,
                           guint       *n_points)
{
  g_return_val_if_fail (SY_IS_METER_ITEM (self), NULL);
  g_return_val_if_fail (n_points != NULL, NULL);

  *n_points = self->history->len;
  return (const SyPowerPoint *) (gpointer) self->history->data;
}

const char *
sy_meter_kind_get_label (const char *kind)
{
  if (g_strcmp0 (kind, "grid") == 0)
    return _("Grid connection");
  if (g_strcmp0 (kind, "pv") == 0)
    return _("Solar PV");
  if (g_strcmp0 (kind, "battery") == 0)
    return _("Battery");
  if (g_strcmp0 (kind, "ev_charger") == 0)
    return _("EV charger");
  if (g_strcmp0 (kind, "load") == 0)
    return _("Building load");
  return _("Submeter");
}

const char *
sy_meter_kind_get_icon_name (const char *kind)
{
  if (g_strcmp0 (kind, "grid") == 0)
    return "network-wired-symbolic";
  if (g_strcmp0 (kind, "pv") == 0)
    return "weather-clear-symbolic";
  if (g_strcmp0 (kind, "battery") == 0)
    return "battery-good-symbolic";
  if (g_strcmp0 (kind, "ev_charger") == 0)
    return "ac-adapter-symbolic";
  if (g_strcmp0 (kind, "load") == 0)
    return "user-home-symbolic";
  return "power-profile-balanced-symbolic";
}
