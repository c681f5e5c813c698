/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <stdlib.h>

#include "sy-jsonlogic-private.h"

/* JSONLogic evaluations per second on one core, for the rule engine's target (2 million/s of
 * the rule below against a data.ingested event). Prints one line per rule and a BENCH line. */

typedef struct
{
  const char *name;
  const char *rule;
} Rule;

static const Rule rules[] = {
  { "high_power", "{\">\":[{\"var\":[\"event.total_power\",0]},5000]}" },
  { "and_or", "{\"and\":[{\">\":[{\"var\":\"event.total_power\"},5000]},"
              "{\"or\":[{\"==\":[{\"var\":\"meter.kind\"},\"grid\"]},{\"<\":[{\"var\":\"event.voltage_a\"},207]}]}]}" },
  { "between_cat", "{\"if\":[{\"<=\":[200,{\"var\":\"event.voltage_a\"},250]},"
                   "{\"cat\":[\"ok \",{\"var\":\"meter.name\"}]},\"out of range\"]}" },
};

static const char *data_text =
  "{\"event\":{\"meter_id\":3,\"timestamp\":\"2026-11-29T10:00:00Z\",\"total_power\":6120.5,"
  "\"total_energy\":1500.2,\"voltage_a\":229.8,\"voltage_b\":230.4,\"voltage_c\":231.0,"
  "\"current_a\":8.9,\"power_factor\":0.97,\"frequency\":50.01},"
  "\"meter\":{\"id\":3,\"name\":\"Workshop\",\"kind\":\"load\",\"site_id\":1},"
  "\"site\":{\"id\":1,\"name\":\"Demo depot\"},\"now\":1795946400000}";

int
main (int   argc,
      char *argv[])
{
  g_autoptr(JsonNode) data = json_from_string (data_text, NULL);
  g_autoptr(GString) bench = g_string_new ("{");
  double seconds = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 2.0;

  for (guint r = 0; r < G_N_ELEMENTS (rules); r++)
    {
      g_autoptr(JsonNode) rule = json_from_string (rules[r].rule, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(SyJsonLogic) logic = sy_jsonlogic_compile (rule, NULL, &error);
      guint64 evaluations = 0;
      guint matched = 0;
      gint64 start, elapsed;
      double per_s;

      g_assert_no_error (error);

      start = g_get_monotonic_time ();
      do
        {
          for (guint i = 0; i < 10000; i++)
            {
              gboolean match = FALSE;

              if (!sy_jsonlogic_matches (logic, data, &match, &error))
                g_error ("%s: %s", rules[r].name, error->message);
              matched += match;
            }
          evaluations += 10000;
          elapsed = g_get_monotonic_time () - start;
        }
      while (elapsed < seconds * G_USEC_PER_SEC);

      per_s = evaluations / (elapsed / (double) G_USEC_PER_SEC);
      g_print ("jsonlogic %-12s evaluations/s=%.0f ns/eval=%.0f matched=%u\n",
               rules[r].name, per_s, 1e9 / per_s, matched);
      g_string_append_printf (bench, "%s\"%s\":{\"evaluations_per_s\":%.0f}", r ? "," : "", rules[r].name, per_s);
    }

  g_string_append_c (bench, '}');
  g_print ("BENCH %s\n", bench->str);
  return EXIT_SUCCESS;
}
