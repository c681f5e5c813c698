/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Number formatting shared by the pages. Locale-aware (decimal comma where that is the
 * custom); values in base units. @unit is the power-unit setting: "auto", "w", "kw" or "mw".
 * NaN gives an em dash. */
char *sy_format_power     (double      watts,
                           const char *unit);
char *sy_format_energy    (double      kwh);
char *sy_format_value     (double      value,
                           int         digits,
                           const char *unit);
/* Local wall-clock time "HH:MM:SS" of Unix ms. */
char *sy_format_time      (gint64      ms);
/* "2026-03-01 14:05" local, for lists. */
char *sy_format_date_time (gint64      ms);

/* ISO 8601 UTC for REST queries ("2026-03-01T13:05:00.000Z"), and back (-1 on failure). */
char  *sy_format_iso8601  (gint64      ms);
gint64 sy_parse_iso8601   (const char *text);

G_END_DECLS
