/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-fuzz-reading"

#include "config.h"

#include <string.h>

#include "sy-error.h"
#include "sy-reading-private.h"
#include "sy-time.h"

/* Feeds arbitrary bytes to the reading parser with every option combination a request can
 * reach. The clock is fixed so that a crash reproduces from its input alone. */

int LLVMFuzzerTestOneInput (const guint8 *data,
                            size_t        size);

/* 2025-10-16T10:00:00Z */
#define NOW_MS G_GINT64_CONSTANT (1760608800000)

static void
check_result (gboolean  ok,
              GArray   *readings,
              GError   *error)
{
  guint i;

  if (!ok)
    {
      /* Failures must be reported and must not leak half a batch. */
      g_assert (error != NULL);
      g_assert (readings->len == 0);
      g_assert (g_error_matches (error, SY_ERROR, SY_ERROR_INVALID_FIELD) ||
                g_error_matches (error, SY_ERROR, SY_ERROR_TOO_LARGE));
      g_assert (g_utf8_validate (error->message, -1, NULL));
      return;
    }

  g_assert (error == NULL);
  g_assert (readings->len > 0);

  for (i = 0; i < readings->len; i++)
    {
      const SyReading *reading = &g_array_index (readings, SyReading, i);

      g_assert (reading->present != 0 || reading->extras_json != NULL);
      g_assert (reading->present < (1u << SY_READING_N_VALUES));
      g_assert (reading->ts_ms >= G_GINT64_CONSTANT (946684800000));
      g_assert (reading->ts_ms <= NOW_MS + 3600000);
      g_assert (reading->meter_id >= 0);
      if (reading->extras_json != NULL)
        g_assert (g_utf8_validate (reading->extras_json, -1, NULL));
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  static const SyReadingParseOptions options[] = {
    { FALSE, FALSE, 0, NOW_MS },
    { FALSE, TRUE, 0, NOW_MS },
    { TRUE, FALSE, 8, NOW_MS },
    { TRUE, TRUE, 0, NOW_MS },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (options); i++)
    {
      g_autoptr(GArray) readings = _sy_reading_array_new (0);
      g_autoptr(GError) error = NULL;
      gboolean ok;

      ok = _sy_reading_parse ((const char *) data, size, &options[i], readings, &error);
      check_result (ok, readings, error);
    }

  /* The timestamp parser is also reachable on its own through query parameters. */
  {
    gint64 ms;

    if (sy_time_parse_iso8601 ((const char *) data, size, &ms))
      {
        g_autofree char *text = sy_time_format_iso8601 (ms);
        gint64 again = -1;

        g_assert (ms >= 0);
        g_assert (sy_time_parse_iso8601 (text, strlen (text), &again));
        g_assert (again == ms);
      }
  }

  return 0;
}
