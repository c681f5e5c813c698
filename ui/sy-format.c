/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-format"

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "sy-format.h"

char *
sy_format_power (double      watts,
                 const char *unit)
{
  double magnitude = fabs (watts);

  if (isnan (watts))
    return g_strdup ("—");

  if (unit == NULL || g_str_equal (unit, "auto"))
    {
      if (magnitude >= 999500.0)
        unit = "mw";
      else if (magnitude >= 999.5)
        unit = "kw";
      else
        unit = "w";
    }

  /* Translators: power values; keep the thin space between number and unit. */
  if (g_str_equal (unit, "mw"))
    return g_strdup_printf (_("%.2f MW"), watts / 1e6);
  if (g_str_equal (unit, "kw"))
    return g_strdup_printf (magnitude >= 99950.0 ? _("%.0f kW") : _("%.1f kW"), watts / 1e3);
  return g_strdup_printf (_("%.0f W"), watts);
}

char *
sy_format_energy (double kwh)
{
  double magnitude = fabs (kwh);

  if (isnan (kwh))
    return g_strdup ("—");
  if (magnitude >= 9999.5)
    return g_strdup_printf (_("%.1f MWh"), kwh / 1e3);
  if (magnitude >= 99.95)
    return g_strdup_printf (_("%.0f kWh"), kwh);
  return g_strdup_printf (_("%.1f kWh"), kwh);
}

char *
sy_format_value (double      value,
                 int         digits,
                 const char *unit)
{
  if (isnan (value))
    return g_strdup ("—");

  return g_strdup_printf ("%.*f %s", digits, value, unit);
}

char *
sy_format_time (gint64 ms)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr(GDateTime) local = NULL;

  if (utc == NULL)
    return g_strdup ("—");
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%H:%M:%S");
}

char *
sy_format_date_time (gint64 ms)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr(GDateTime) local = NULL;

  if (utc == NULL)
    return g_strdup ("—");
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%Y-%m-%d %H:%M");
}

char *
sy_format_iso8601 (gint64 ms)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autofree char *seconds = NULL;

  if (utc == NULL)
    return NULL;
  seconds = g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", seconds, (int) (ms % 1000));
}

gint64
sy_parse_iso8601 (const char *text)
{
  g_autoptr(GDateTime) dt = NULL;

  if (text == NULL)
    return -1;
  dt = g_date_time_new_from_iso8601 (text, NULL);
  if (dt == NULL)
    return -1;

  return g_date_time_to_unix (dt) * 1000 + g_date_time_get_microsecond (dt) / 1000;
}
