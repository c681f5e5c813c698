/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-reading"

#include "config.h"

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "sy-error.h"
#include "sy-reading-private.h"
#include "sy-time.h"

/* 2025-10-16T10:00:00Z */
#define NOW_MS G_GINT64_CONSTANT (1760608800000)
#define ALL_VALUES ((1u << SY_READING_N_VALUES) - 1)

static const SyReadingParseOptions single_options = { FALSE, FALSE, 0, NOW_MS };
static const SyReadingParseOptions bulk_options = { TRUE, FALSE, 100, NOW_MS };
static const SyReadingParseOptions gateway_options = { TRUE, TRUE, 0, NOW_MS };
static const SyReadingParseOptions gateway_single_options = { FALSE, TRUE, 0, NOW_MS };

static GArray *
parse_ok (const char                  *body,
          const SyReadingParseOptions *options)
{
  g_autoptr(GArray) readings = _sy_reading_array_new (0);
  g_autoptr(GError) error = NULL;

  if (!_sy_reading_parse (body, strlen (body), options, readings, &error))
    g_error ("expected %s to parse, got: %s", body, error != NULL ? error->message : "no error");
  g_assert_no_error (error);

  return g_steal_pointer (&readings);
}

static SyReading *
reading_at (GArray *readings,
            guint   index)
{
  g_assert_cmpuint (index, <, readings->len);
  return &g_array_index (readings, SyReading, index);
}

/* Checks that @body fails with SY_ERROR_INVALID_FIELD on @field, with @detail somewhere in the
 * message, and that nothing was left in the output array. */
static void
assert_field_error (const char                  *body,
                    const SyReadingParseOptions *options,
                    const char                  *field,
                    const char                  *detail)
{
  g_autoptr(GArray) readings = _sy_reading_array_new (0);
  g_autoptr(GError) error = NULL;
  g_autofree char *error_field = NULL;

  if (_sy_reading_parse (body, strlen (body), options, readings, &error))
    g_error ("expected %s to fail on %s", body, field);

  g_assert_error (error, SY_ERROR, SY_ERROR_INVALID_FIELD);
  error_field = sy_error_dup_field (error);
  g_assert_cmpstr (error_field, ==, field);
  if (detail != NULL && strstr (error->message, detail) == NULL)
    g_error ("error \"%s\" for %s does not mention \"%s\"", error->message, body, detail);
  g_assert_cmpuint (readings->len, ==, 0);
}

static void
test_single_valid (void)
{
  g_autoptr(GArray) readings = NULL;
  SyReading *reading;

  readings = parse_ok ("{\"total_power\": 1234.5, \"timestamp\": \"2025-10-16T09:59:00Z\"}",
                       &single_options);
  g_assert_cmpuint (readings->len, ==, 1);

  reading = reading_at (readings, 0);
  g_assert_cmpint (reading->meter_id, ==, 0);
  g_assert_cmpint (reading->ts_ms, ==, NOW_MS - 60000);
  g_assert_cmpuint (reading->present, ==, 1u << SY_READING_TOTAL_POWER);
  g_assert_cmpfloat (reading->values[SY_READING_TOTAL_POWER], ==, 1234.5);
  g_assert_null (reading->breaker_state);
  g_assert_null (reading->extras_json);
}

static void
test_default_timestamp (void)
{
  g_autoptr(GArray) absent = parse_ok ("{\"total_power\": 1}", &single_options);
  g_autoptr(GArray) null = parse_ok ("{\"total_power\": 1, \"timestamp\": null}", &single_options);

  g_assert_cmpint (reading_at (absent, 0)->ts_ms, ==, NOW_MS);
  g_assert_cmpint (reading_at (null, 0)->ts_ms, ==, NOW_MS);
}

static void
test_value_names (void)
{
  static const char *const names[SY_READING_N_VALUES] = {
    "total_power", "total_energy", "voltage_a", "voltage_b", "voltage_c", "current_a",
    "current_b", "current_c", "power_factor", "frequency", "thd_v_pct", "thd_i_pct",
  };
  guint i;

  for (i = 0; i < SY_READING_N_VALUES; i++)
    g_assert_cmpstr (_sy_reading_value_name (i), ==, names[i]);
}

static void
test_all_fields (void)
{
  g_autoptr(GString) body = g_string_new ("{");
  g_autoptr(GArray) readings = NULL;
  SyReading *reading;
  guint i;

  for (i = 0; i < SY_READING_N_VALUES; i++)
    g_string_append_printf (body, "\"%s\": %u.25, ", _sy_reading_value_name (i), i % 2);
  g_string_append (body,
                   "\"timestamp\": \"2025-10-16T09:00:00.5Z\", "
                   "\"meter_id\": 17, "
                   "\"breaker_state\": \"closed\"}");

  readings = parse_ok (body->str, &single_options);
  g_assert_cmpuint (readings->len, ==, 1);

  reading = reading_at (readings, 0);
  g_assert_cmpuint (reading->present, ==, ALL_VALUES);
  for (i = 0; i < SY_READING_N_VALUES; i++)
    g_assert_cmpfloat (reading->values[i], ==, (i % 2) + 0.25);
  g_assert_cmpint (reading->ts_ms, ==, NOW_MS - 3600000 + 500);
  g_assert_cmpint (reading->meter_id, ==, 17);
  g_assert_cmpstr (reading->breaker_state, ==, "closed");
  g_assert_null (reading->extras_json);
}

static void
test_null_is_absent (void)
{
  g_autoptr(GArray) readings = NULL;
  SyReading *reading;

  readings = parse_ok ("{\"total_power\": null, \"voltage_a\": 230.1, \"meter_id\": null,"
                       " \"breaker_state\": null}",
                       &single_options);
  reading = reading_at (readings, 0);
  g_assert_cmpuint (reading->present, ==, 1u << SY_READING_VOLTAGE_A);
  g_assert_cmpfloat (reading->values[SY_READING_VOLTAGE_A], ==, 230.1);
  g_assert_cmpint (reading->meter_id, ==, 0);
  g_assert_null (reading->breaker_state);

  /* Only nulls is no reading at all. */
  assert_field_error ("{\"total_power\": null}", &single_options, "body", "no measurements");
}

static void
test_timestamp_offsets (void)
{
  static const struct {
    const char *timestamp;
    gint64      ms;
  } cases[] = {
    { "2025-10-16T12:00:00+02:00", NOW_MS },
    { "2025-10-16T12:00:00+0200", NOW_MS },
    { "2025-10-16T04:30:00-05:30", NOW_MS },
    { "2025-10-16T10:00:00.250Z", NOW_MS + 250 },
    { "2025-10-16T10:00:00.999999Z", NOW_MS + 999 },
    { "2025-10-16 09:00:00z", NOW_MS - 3600000 },
    { "2024-02-29T00:00:00Z", G_GINT64_CONSTANT (1709164800000) },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *body = NULL;
      g_autoptr(GArray) readings = NULL;

      body = g_strdup_printf ("{\"total_power\": 1, \"timestamp\": \"%s\"}", cases[i].timestamp);
      readings = parse_ok (body, &single_options);
      g_assert_cmpint (reading_at (readings, 0)->ts_ms, ==, cases[i].ms);
    }
}

static void
test_timestamp_invalid (void)
{
  static const char *const unparseable[] = {
    "2025-10-16T10:00:00",
    "2025-10-16",
    "2023-02-29T00:00:00Z",
    "2025-10-16T10:00:00+25:00",
    "yesterday",
    "",
    "NaN",
    "1760608800000",
  };
  static const char *const wrong_type[] = {
    "1760608800000", "true", "false", "{}", "[]", "[\"2025-10-16T10:00:00Z\"]",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (unparseable); i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"total_power\": 1, \"timestamp\": \"%s\"}",
                                               unparseable[i]);

      assert_field_error (body, &single_options, "timestamp",
                          "not a valid ISO-8601 timestamp with time zone");
    }

  for (i = 0; i < G_N_ELEMENTS (wrong_type); i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"total_power\": 1, \"timestamp\": %s}",
                                               wrong_type[i]);

      assert_field_error (body, &single_options, "timestamp", "must be an ISO-8601 string");
    }
}

static void
test_timestamp_range (void)
{
  g_autoptr(GArray) oldest = NULL;
  g_autoptr(GArray) newest = NULL;

  oldest = parse_ok ("{\"total_power\": 1, \"timestamp\": \"2000-01-01T00:00:00Z\"}",
                     &single_options);
  g_assert_cmpint (reading_at (oldest, 0)->ts_ms, ==, G_GINT64_CONSTANT (946684800000));

  /* Exactly one hour ahead of the server is still accepted. */
  newest = parse_ok ("{\"total_power\": 1, \"timestamp\": \"2025-10-16T11:00:00Z\"}",
                     &single_options);
  g_assert_cmpint (reading_at (newest, 0)->ts_ms, ==, NOW_MS + 3600000);

  assert_field_error ("{\"total_power\": 1, \"timestamp\": \"1999-12-31T23:59:59.999Z\"}",
                      &single_options, "timestamp", "out of range (2000-01-01 … now + 1 h)");
  assert_field_error ("{\"total_power\": 1, \"timestamp\": \"1970-01-01T00:00:00Z\"}",
                      &single_options, "timestamp", "out of range");
  assert_field_error ("{\"total_power\": 1, \"timestamp\": \"2025-10-16T11:00:00.001Z\"}",
                      &single_options, "timestamp", "out of range");
  assert_field_error ("{\"total_power\": 1, \"timestamp\": \"2025-10-16T13:00:00+01:00\"}",
                      &single_options, "timestamp", "out of range");
  assert_field_error ("{\"total_power\": 1, \"timestamp\": \"9999-12-31T23:59:59Z\"}",
                      &single_options, "timestamp", "out of range");
}

static void
test_wrong_types (void)
{
  static const char *const wrong[] = {
    "\"5\"", "\"1e3\"", "\"NaN\"", "\"nan\"", "\"Infinity\"", "\"-inf\"", "\"\"",
    "true", "false", "{}", "{\"value\": 1}", "[]", "[1]",
  };
  guint i, j;

  for (i = 0; i < SY_READING_N_VALUES; i++)
    {
      for (j = 0; j < G_N_ELEMENTS (wrong); j++)
        {
          const char *name = _sy_reading_value_name (i);
          g_autofree char *body = g_strdup_printf ("{\"%s\": %s}", name, wrong[j]);

          assert_field_error (body, &single_options, name, "must be a number");
        }
    }
}

static void
test_non_finite (void)
{
  /* NaN and Infinity are not JSON; cJSON must not let them through as numbers. */
  assert_field_error ("{\"total_power\": NaN}", &single_options, "body", "malformed JSON");
  assert_field_error ("{\"total_power\": Infinity}", &single_options, "body", "malformed JSON");
  assert_field_error ("{\"total_power\": -Infinity}", &single_options, "body", "malformed JSON");
  assert_field_error ("{\"total_power\": nan}", &single_options, "body", "malformed JSON");

  /* An overflowing literal becomes infinity inside cJSON and is caught afterwards. */
  assert_field_error ("{\"total_power\": 1e999}", &single_options, "total_power", "finite");
  assert_field_error ("{\"voltage_a\": -1e999}", &single_options, "voltage_a", "finite");
  assert_field_error ("{\"total_power\": 1, \"reactive_power\": 1e999}", &single_options,
                      "reactive_power", "finite");
}

static void
test_out_of_range (void)
{
  static const struct {
    SyReadingValue value;
    const char    *min;
    const char    *max;
    const char    *below;
    const char    *above;
  } cases[] = {
    { SY_READING_TOTAL_POWER, "-1e9", "1e9", "-1000000000.5", "1000000000.5" },
    { SY_READING_TOTAL_ENERGY, "0", "1e12", "-0.001", "1.0000001e12" },
    { SY_READING_VOLTAGE_A, "0", "2e6", "-1", "2000001" },
    { SY_READING_VOLTAGE_B, "0", "2e6", "-0.1", "2e7" },
    { SY_READING_VOLTAGE_C, "0", "2e6", "-230", "3e6" },
    { SY_READING_CURRENT_A, "0", "1e6", "-0.5", "1000000.1" },
    { SY_READING_CURRENT_B, "0", "1e6", "-1e-9", "1e7" },
    { SY_READING_CURRENT_C, "0", "1e6", "-3", "2e6" },
    { SY_READING_POWER_FACTOR, "-1", "1", "-1.0001", "1.0001" },
    { SY_READING_FREQUENCY, "0", "1000", "-50", "1000.5" },
    { SY_READING_THD_V_PCT, "0", "100", "-1", "100.01" },
    { SY_READING_THD_I_PCT, "0", "1000", "-1", "1001" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *name = _sy_reading_value_name (cases[i].value);
      g_autofree char *min_body = g_strdup_printf ("{\"%s\": %s}", name, cases[i].min);
      g_autofree char *max_body = g_strdup_printf ("{\"%s\": %s}", name, cases[i].max);
      g_autofree char *below_body = g_strdup_printf ("{\"%s\": %s}", name, cases[i].below);
      g_autofree char *above_body = g_strdup_printf ("{\"%s\": %s}", name, cases[i].above);
      g_autoptr(GArray) min_readings = NULL;
      g_autoptr(GArray) max_readings = NULL;

      /* The limits themselves are inclusive. */
      min_readings = parse_ok (min_body, &single_options);
      g_assert_cmpfloat (reading_at (min_readings, 0)->values[cases[i].value], ==,
                         g_ascii_strtod (cases[i].min, NULL));
      max_readings = parse_ok (max_body, &single_options);
      g_assert_cmpfloat (reading_at (max_readings, 0)->values[cases[i].value], ==,
                         g_ascii_strtod (cases[i].max, NULL));

      assert_field_error (below_body, &single_options, name, "out of range (");
      assert_field_error (above_body, &single_options, name, "out of range (");
    }

  /* The message names the limits. */
  assert_field_error ("{\"power_factor\": 2}", &single_options, "power_factor",
                      "power_factor: out of range (-1 … 1)");
}

static void
test_bulk_bare_array (void)
{
  g_autoptr(GArray) readings = NULL;

  readings = parse_ok ("[{\"total_power\": 1, \"timestamp\": \"2025-10-16T09:00:00Z\"},"
                       " {\"total_power\": 2},"
                       " {\"voltage_a\": 230, \"breaker_state\": \"open\"}]",
                       &bulk_options);
  g_assert_cmpuint (readings->len, ==, 3);
  g_assert_cmpfloat (reading_at (readings, 0)->values[SY_READING_TOTAL_POWER], ==, 1);
  g_assert_cmpint (reading_at (readings, 0)->ts_ms, ==, NOW_MS - 3600000);
  g_assert_cmpfloat (reading_at (readings, 1)->values[SY_READING_TOTAL_POWER], ==, 2);
  g_assert_cmpint (reading_at (readings, 1)->ts_ms, ==, NOW_MS);
  g_assert_cmpuint (reading_at (readings, 2)->present, ==, 1u << SY_READING_VOLTAGE_A);
  g_assert_cmpstr (reading_at (readings, 2)->breaker_state, ==, "open");
}

static void
test_bulk_readings_object (void)
{
  g_autoptr(GArray) readings = NULL;

  readings = parse_ok ("{\"readings\": [{\"total_power\": 1}, {\"total_energy\": 2.5}],"
                       " \"comment\": \"ignored\"}",
                       &bulk_options);
  g_assert_cmpuint (readings->len, ==, 2);
  g_assert_cmpuint (reading_at (readings, 0)->present, ==, 1u << SY_READING_TOTAL_POWER);
  g_assert_cmpuint (reading_at (readings, 1)->present, ==, 1u << SY_READING_TOTAL_ENERGY);
  g_assert_cmpfloat (reading_at (readings, 1)->values[SY_READING_TOTAL_ENERGY], ==, 2.5);
}

static void
test_bulk_error_paths (void)
{
  assert_field_error ("[{\"total_power\": 1}, {\"total_power\": 2}, {\"voltage_a\": -1}]",
                      &bulk_options, "[2].voltage_a", "out of range");
  assert_field_error ("{\"readings\": [{\"total_power\": 1}, {\"total_power\": 2},"
                      " {\"voltage_a\": \"230\"}]}",
                      &bulk_options, "readings[2].voltage_a", "must be a number");
  assert_field_error ("{\"readings\": [{\"total_power\": 1},"
                      " {\"total_power\": 2, \"timestamp\": \"2025-10-16\"}]}",
                      &bulk_options, "readings[1].timestamp", "ISO-8601");
  assert_field_error ("[{\"total_power\": 1}, 42]", &bulk_options, "[1]", "[1]: must be an object");
  assert_field_error ("{\"readings\": [null]}", &bulk_options, "readings[0]", "must be an object");
  assert_field_error ("[[{\"total_power\": 1}]]", &bulk_options, "[0]", "must be an object");
  assert_field_error ("{\"readings\": [{\"total_power\": 1}, {}]}", &bulk_options,
                      "readings[1]", "readings[1]: no measurements");
  assert_field_error ("[{\"total_power\": 1, \"breaker_state\": \"on\"}]", &bulk_options,
                      "[0].breaker_state", "must be one of open, closed, tripped");
}

static void
test_bulk_empty (void)
{
  assert_field_error ("[]", &bulk_options, "readings", "readings: must not be empty");
  assert_field_error ("{\"readings\": []}", &bulk_options, "readings", "must not be empty");
}

static void
test_bulk_shape (void)
{
  /* A single reading is not a bulk body, and a bulk body is not a single reading. */
  assert_field_error ("{\"total_power\": 1}", &bulk_options, "readings", "required");
  assert_field_error ("{\"readings\": {\"total_power\": 1}}", &bulk_options, "readings",
                      "must be an array");
  assert_field_error ("{\"readings\": null}", &bulk_options, "readings", "must be an array");
  assert_field_error ("42", &bulk_options, "body", NULL);
  assert_field_error ("\"readings\"", &bulk_options, "body", NULL);
  assert_field_error ("[{\"total_power\": 1}]", &single_options, "body", "must be a JSON object");
  assert_field_error ("null", &single_options, "body", "must be a JSON object");
  assert_field_error ("3.5", &single_options, "body", "must be a JSON object");
}

static void
test_bulk_too_many (void)
{
  SyReadingParseOptions options = bulk_options;
  g_autoptr(GArray) readings = _sy_reading_array_new (0);
  g_autoptr(GArray) exact = NULL;
  g_autoptr(GArray) unlimited = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) big = g_string_new ("[");
  const char *body = "[{\"total_power\": 1}, {\"total_power\": 2}, {\"total_power\": 3},"
                     " {\"total_power\": 4}]";
  guint i;

  options.max_readings = 3;
  g_assert_false (_sy_reading_parse (body, strlen (body), &options, readings, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "3"));
  g_assert_cmpuint (readings->len, ==, 0);

  options.max_readings = 4;
  exact = parse_ok (body, &options);
  g_assert_cmpuint (exact->len, ==, 4);

  /* Zero means no limit. */
  options.max_readings = 0;
  for (i = 0; i < 5000; i++)
    g_string_append_printf (big, "%s{\"total_power\": %u}", i > 0 ? "," : "", i);
  g_string_append_c (big, ']');
  unlimited = parse_ok (big->str, &options);
  g_assert_cmpuint (unlimited->len, ==, 5000);
  g_assert_cmpfloat (reading_at (unlimited, 4999)->values[SY_READING_TOTAL_POWER], ==, 4999);
}

static void
test_malformed (void)
{
  static const char *const malformed[] = {
    "{",
    "{\"total_power\": }",
    "{\"total_power\": 1,}",
    "{\"total_power\": 1} x",
    "{\"total_power\": 1}{}",
    "{'total_power': 1}",
    "{total_power: 1}",
    "[{\"total_power\": 1}",
    "nul",
  };
  g_autoptr(GArray) readings = _sy_reading_array_new (0);
  g_autoptr(GError) error = NULL;
  g_autofree char *field = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      assert_field_error (malformed[i], &single_options, "body", "malformed JSON near byte ");
      assert_field_error (malformed[i], &bulk_options, "body", "malformed JSON near byte ");
    }

  /* The offset points at the problem. */
  assert_field_error ("{\"total_power\": 1} x", &single_options, "body", "near byte 19");

  assert_field_error ("", &single_options, "body", "body: empty");
  assert_field_error (" \r\n\t", &bulk_options, "body", "body: empty");

  g_assert_false (_sy_reading_parse (NULL, 0, &single_options, readings, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_INVALID_FIELD);
  field = sy_error_dup_field (error);
  g_assert_cmpstr (field, ==, "body");
}

static void
test_length_delimited (void)
{
  const char *text = "{\"total_power\": 7}garbage";
  g_autoptr(GArray) readings = _sy_reading_array_new (0);
  g_autoptr(GArray) padded = NULL;
  g_autoptr(GError) error = NULL;

  /* Only @len bytes are read, so the body need not be nul-terminated. */
  g_assert_true (_sy_reading_parse (text, 18, &single_options, readings, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (reading_at (readings, 0)->values[SY_READING_TOTAL_POWER], ==, 7);

  /* Surrounding whitespace is fine. */
  padded = parse_ok ("\n  {\"total_power\": 1}\r\n", &single_options);
  g_assert_cmpuint (padded->len, ==, 1);
}

static void
test_appends (void)
{
  g_autoptr(GArray) readings = _sy_reading_array_new (4);
  const char *first = "{\"total_power\": 1}";
  const char *second = "[{\"total_power\": 2}, {\"total_power\": 3}]";

  g_assert_true (_sy_reading_parse (first, strlen (first), &single_options, readings, NULL));
  g_assert_true (_sy_reading_parse (second, strlen (second), &bulk_options, readings, NULL));
  g_assert_cmpuint (readings->len, ==, 3);
  g_assert_cmpfloat (reading_at (readings, 2)->values[SY_READING_TOTAL_POWER], ==, 3);

  /* A failure empties the array, including what was there before. */
  g_assert_false (_sy_reading_parse ("{}", 2, &single_options, readings, NULL));
  g_assert_cmpuint (readings->len, ==, 0);
}

static JsonObject *
parse_extras (const SyReading *reading)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  g_assert_nonnull (reading->extras_json);
  json_parser_load_from_data (parser, reading->extras_json, -1, &error);
  g_assert_no_error (error);

  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));

  return json_object_ref (json_node_get_object (root));
}

static void
test_extras (void)
{
  g_autoptr(GArray) readings = NULL;
  g_autoptr(JsonObject) extras = NULL;
  const SyReading *reading;

  readings = parse_ok ("{\"total_power\": 1, \"reactive_power\": -12.5, \"temp_c\": 21,"
                       " \"label\": \"kitchen\", \"nested\": {\"a\": 1}, \"flag\": true,"
                       " \"list\": [1, 2], \"nothing\": null, \"quote\\\"key\\\\\": 0.1,"
                       " \"tab\\tkey\": 1e300, \"caf\\u00e9\": 3, \"third\": 0.3333333333333333}",
                       &single_options);
  reading = reading_at (readings, 0);
  g_assert_cmpuint (reading->present, ==, 1u << SY_READING_TOTAL_POWER);

  extras = parse_extras (reading);
  g_assert_cmpuint (json_object_get_size (extras), ==, 6);
  g_assert_cmpfloat (json_object_get_double_member (extras, "reactive_power"), ==, -12.5);
  g_assert_cmpint (json_object_get_int_member (extras, "temp_c"), ==, 21);
  g_assert_cmpfloat (json_object_get_double_member (extras, "quote\"key\\"), ==, 0.1);
  g_assert_cmpfloat (json_object_get_double_member (extras, "tab\tkey"), ==, 1e300);
  g_assert_cmpint (json_object_get_int_member (extras, "café"), ==, 3);
  g_assert_cmpfloat (json_object_get_double_member (extras, "third"), ==, 1.0 / 3.0);
  g_assert_false (json_object_has_member (extras, "label"));
  g_assert_false (json_object_has_member (extras, "nested"));
  g_assert_false (json_object_has_member (extras, "flag"));
  g_assert_false (json_object_has_member (extras, "list"));
  g_assert_false (json_object_has_member (extras, "nothing"));

  /* Numbers are written in their shortest round-trip form. */
  g_assert_nonnull (strstr (reading->extras_json, "\"reactive_power\":-12.5"));
  g_assert_nonnull (strstr (reading->extras_json, "\"temp_c\":21"));
  g_assert_nonnull (strstr (reading->extras_json, ":0.1,"));
}

static void
test_extras_only (void)
{
  g_autoptr(GArray) readings = parse_ok ("[{\"reactive_power\": 3}]", &bulk_options);
  const SyReading *reading = reading_at (readings, 0);

  g_assert_cmpuint (reading->present, ==, 0);
  g_assert_cmpstr (reading->extras_json, ==, "{\"reactive_power\":3}");
}

static void
test_extras_ignored (void)
{
  g_autoptr(GArray) readings = NULL;

  readings = parse_ok ("{\"total_power\": 5, \"note\": \"hello\", \"ok\": false, \"obj\": {}}",
                       &single_options);
  g_assert_null (reading_at (readings, 0)->extras_json);

  /* Non-numeric unknown fields do not count as measurements. */
  assert_field_error ("{\"note\": \"hello\", \"ok\": true}", &single_options, "body",
                      "no measurements");
}

static void
test_extras_limits (void)
{
  g_autoptr(GString) body = g_string_new ("{");
  g_autoptr(GArray) readings = NULL;
  g_autoptr(JsonObject) extras = NULL;
  guint i;

  for (i = 0; i < 64; i++)
    g_string_append_printf (body, "\"x%u\": %u, ", i, i);
  g_string_append (body, "\"total_power\": 1}");
  readings = parse_ok (body->str, &single_options);
  extras = parse_extras (reading_at (readings, 0));
  g_assert_cmpuint (json_object_get_size (extras), ==, 64);
  g_assert_cmpint (json_object_get_int_member (extras, "x63"), ==, 63);

  /* The 65th extra field is one too many; the error names it. */
  g_string_truncate (body, body->len - 1);
  g_string_append (body, ", \"x64\": 64}");
  assert_field_error (body->str, &single_options, "x64", "too many extra fields");
}

static void
test_extra_names (void)
{
  g_autofree char *long_name = g_strnfill (64, 'x');
  g_autofree char *too_long_name = g_strnfill (65, 'x');
  g_autofree char *long_body = g_strdup_printf ("{\"%s\": 1}", long_name);
  g_autofree char *too_long_body = g_strdup_printf ("[{\"%s\": 1}]", too_long_name);
  g_autoptr(GArray) readings = NULL;

  readings = parse_ok (long_body, &single_options);
  g_assert_nonnull (strstr (reading_at (readings, 0)->extras_json, long_name));

  /* An overlong or non-UTF-8 name is reported on the reading, so that the name itself never
   * has to be echoed. */
  assert_field_error (too_long_body, &bulk_options, "[0]", "field name too long");
  assert_field_error ("{\"bad\xff\": 1}", &single_options, "body", "not valid UTF-8");
  assert_field_error ("{\"\": 1}", &single_options, "body", "must not be empty");
}

static void
test_duplicates (void)
{
  assert_field_error ("{\"total_power\": 1, \"total_power\": 2}", &single_options,
                      "total_power", "duplicate field");
  assert_field_error ("{\"total_power\": null, \"total_power\": 2}", &single_options,
                      "total_power", "duplicate field");
  assert_field_error ("[{\"total_power\": 1, \"timestamp\": null, \"timestamp\": null}]",
                      &bulk_options, "[0].timestamp", "duplicate field");
  assert_field_error ("{\"total_power\": 1, \"x\": 1, \"x\": 2}", &single_options, "x",
                      "duplicate field");
}

static void
test_meter_id (void)
{
  static const char *const invalid[] = {
    "0", "-1", "1.5", "\"7\"", "true", "{}", "1e300", "9007199254740994", "-0",
  };
  g_autoptr(GArray) gateway = NULL;
  g_autoptr(GArray) plain = NULL;
  g_autoptr(GArray) largest = NULL;
  guint i;

  gateway = parse_ok ("[{\"meter_id\": 12, \"total_power\": 1}, {\"meter_id\": 1e1, \"voltage_a\": 1}]",
                      &gateway_options);
  g_assert_cmpint (reading_at (gateway, 0)->meter_id, ==, 12);
  g_assert_cmpint (reading_at (gateway, 1)->meter_id, ==, 10);

  /* Without gateway rights the id is still stored, for the caller to compare. */
  plain = parse_ok ("{\"meter_id\": 34, \"total_power\": 1}", &single_options);
  g_assert_cmpint (reading_at (plain, 0)->meter_id, ==, 34);

  largest = parse_ok ("{\"meter_id\": 9007199254740992, \"total_power\": 1}", &single_options);
  g_assert_cmpint (reading_at (largest, 0)->meter_id, ==, G_GINT64_CONSTANT (9007199254740992));

  assert_field_error ("[{\"meter_id\": 12, \"total_power\": 1}, {\"total_power\": 1}]",
                      &gateway_options, "[1].meter_id", "required for a gateway device");
  assert_field_error ("{\"readings\": [{\"meter_id\": null, \"total_power\": 1}]}",
                      &gateway_options, "readings[0].meter_id", "required for a gateway device");
  assert_field_error ("{\"total_power\": 1}", &gateway_single_options, "meter_id",
                      "required for a gateway device");

  for (i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"total_power\": 1, \"meter_id\": %s}",
                                               invalid[i]);

      assert_field_error (body, &single_options, "meter_id", "must be a positive integer");
      assert_field_error (body, &gateway_single_options, "meter_id", "must be a positive integer");
    }
}

static void
test_breaker_state (void)
{
  static const char *const valid[] = { "open", "closed", "tripped" };
  static const char *const invalid[] = {
    "\"OPEN\"", "\"Closed\"", "\"\"", "\"on\"", "\"open \"", "1", "true", "[\"open\"]", "{}",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"total_power\": 1, \"breaker_state\": \"%s\"}",
                                               valid[i]);
      g_autoptr(GArray) readings = parse_ok (body, &single_options);

      g_assert_cmpstr (reading_at (readings, 0)->breaker_state, ==, valid[i]);
    }

  for (i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"total_power\": 1, \"breaker_state\": %s}",
                                               invalid[i]);

      assert_field_error (body, &single_options, "breaker_state",
                          "must be one of open, closed, tripped");
    }
}

static void
test_no_measurements (void)
{
  assert_field_error ("{}", &single_options, "body", "body: no measurements");
  assert_field_error ("[{}]", &bulk_options, "[0]", "[0]: no measurements");
  assert_field_error ("{\"readings\": [{\"total_power\": 1}, {\"total_power\": 1},"
                      " {\"timestamp\": \"2025-10-16T10:00:00Z\"}]}",
                      &bulk_options, "readings[2]", "readings[2]: no measurements");
  /* A breaker state alone is not a measurement. */
  assert_field_error ("{\"breaker_state\": \"open\", \"meter_id\": 3}", &single_options,
                      "body", "no measurements");
}

/* A failure after earlier readings allocated strings must free them and leave nothing behind;
 * run under valgrind or ASan to see the leak half of this. */
static void
test_error_discards_partial (void)
{
  g_autoptr(GArray) readings = _sy_reading_array_new (0);
  g_autoptr(GError) error = NULL;
  const char *body = "[{\"total_power\": 1, \"breaker_state\": \"open\", \"x\": 1},"
                     " {\"total_power\": 2, \"breaker_state\": \"tripped\", \"y\": 2},"
                     " {\"total_power\": 3, \"breaker_state\": \"closed\", \"z\": 3, \"frequency\": -1}]";

  g_assert_false (_sy_reading_parse (body, strlen (body), &bulk_options, readings, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_INVALID_FIELD);
  g_assert_cmpuint (readings->len, ==, 0);
}

/* The caller's array need not zero new elements; the parser must not depend on it. */
static void
test_plain_array (void)
{
  g_autoptr(GArray) readings = g_array_new (FALSE, FALSE, sizeof (SyReading));
  const char *good = "[{\"total_power\": 1, \"x\": 1}, {\"total_power\": 2}]";
  const char *bad = "[{\"total_power\": 1, \"x\": 1}, {\"total_power\": \"2\"}]";

  g_array_set_clear_func (readings, (GDestroyNotify) _sy_reading_clear);

  g_assert_true (_sy_reading_parse (good, strlen (good), &bulk_options, readings, NULL));
  g_assert_cmpuint (readings->len, ==, 2);
  g_assert_null (reading_at (readings, 1)->extras_json);
  g_assert_null (reading_at (readings, 1)->breaker_state);
  g_assert_cmpint (reading_at (readings, 1)->meter_id, ==, 0);

  g_assert_false (_sy_reading_parse (bad, strlen (bad), &bulk_options, readings, NULL));
  g_assert_cmpuint (readings->len, ==, 0);
}

static void
test_timestamp_format_round_trip (void)
{
  g_autofree char *text = sy_time_format_iso8601 (NOW_MS - 1234);
  g_autofree char *body = g_strdup_printf ("{\"total_power\": 1, \"timestamp\": \"%s\"}", text);
  g_autoptr(GArray) readings = parse_ok (body, &single_options);

  g_assert_cmpstr (text, ==, "2025-10-16T09:59:58.766Z");
  g_assert_cmpint (reading_at (readings, 0)->ts_ms, ==, NOW_MS - 1234);
}

/* The scanner is strict RFC 8259 JSON; everything below exercises it beyond the fields. */

static void
assert_malformed_len (const char *body,
                      gsize       len,
                      const char *detail)
{
  g_autoptr(GArray) readings = _sy_reading_array_new (0);
  g_autoptr(GError) error = NULL;
  g_autofree char *field = NULL;

  if (_sy_reading_parse (body, len, &single_options, readings, &error))
    g_error ("expected %s to be malformed", body);

  g_assert_error (error, SY_ERROR, SY_ERROR_INVALID_FIELD);
  field = sy_error_dup_field (error);
  g_assert_cmpstr (field, ==, "body");
  if (strstr (error->message, "malformed JSON near byte ") == NULL ||
      (detail != NULL && strstr (error->message, detail) == NULL))
    g_error ("error \"%s\" for %s does not mention \"%s\"", error->message, body, detail);
  g_assert_cmpuint (readings->len, ==, 0);
}

static void
assert_malformed (const char *body,
                  const char *detail)
{
  assert_malformed_len (body, strlen (body), detail);
}

/* Parses {"total_power": 1, "x": @literal} and returns x as kept in the extras, which are
 * written so that every double reads back exactly. */
static double
parse_extra_number (const char *literal)
{
  g_autofree char *body = g_strdup_printf ("{\"total_power\": 1, \"x\": %s}", literal);
  g_autoptr(GArray) readings = parse_ok (body, &single_options);
  const char *extras = reading_at (readings, 0)->extras_json;

  g_assert_nonnull (extras);
  g_assert_true (g_str_has_prefix (extras, "{\"x\":"));

  return g_ascii_strtod (extras + strlen ("{\"x\":"), NULL);
}

static void
assert_same_double (double      value,
                    double      expected,
                    const char *literal)
{
  if (memcmp (&value, &expected, sizeof value) != 0)
    g_error ("%s parsed as %.17g, expected %.17g", literal, value, expected);
}

static void
test_key_escapes (void)
{
  g_autofree char *long_key = NULL;
  g_autofree char *long_body = NULL;
  g_autoptr(GArray) readings = NULL;
  g_autoptr(GArray) wrapped = NULL;
  g_autoptr(GArray) long_readings = NULL;
  g_autoptr(JsonObject) extras = NULL;
  SyReading *reading;
  GString *key;
  guint i;

  /* Escaped keys are decoded before they are matched. */
  readings = parse_ok ("{\"total\\u005fpower\": 5, \"\\u0074imestamp\": \"2025-10-16T09:00:00Z\","
                       " \"volt\\u0061ge_b\": 1, \"br\\u0065aker_state\": \"op\\u0065n\","
                       " \"\\ud83d\\ude00\": 2, \"a\\/b\": 3}",
                       &single_options);
  reading = reading_at (readings, 0);
  g_assert_cmpuint (reading->present, ==,
                    (1u << SY_READING_TOTAL_POWER) | (1u << SY_READING_VOLTAGE_B));
  g_assert_cmpfloat (reading->values[SY_READING_TOTAL_POWER], ==, 5);
  g_assert_cmpint (reading->ts_ms, ==, NOW_MS - 3600000);
  g_assert_cmpstr (reading->breaker_state, ==, "open");
  extras = parse_extras (reading);
  g_assert_cmpint (json_object_get_int_member (extras, "\xf0\x9f\x98\x80"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (extras, "a/b"), ==, 3);

  wrapped = parse_ok ("{\"read\\u0069ngs\": [{\"total_power\": 1}]}", &bulk_options);
  g_assert_cmpuint (wrapped->len, ==, 1);

  /* Duplicates are found whatever the spelling. */
  assert_field_error ("{\"total_power\": 1, \"total\\u005Fpower\": 2}", &single_options,
                      "total_power", "duplicate field");
  assert_field_error ("{\"total_power\": 1, \"re\\u0061ctive\": 1, \"reactive\": 2}",
                      &single_options, "reactive", "duplicate field");
  assert_field_error ("{\"total_power\": 1, \"q\\\"\": 1, \"q\\u0022\": 2}", &single_options,
                      "q\"", "duplicate field");

  /* The name-length rule applies to the decoded name: 64 escaped bytes are fine, 65 are not. */
  key = g_string_new (NULL);
  for (i = 0; i < 64; i++)
    g_string_append (key, "\\u0078");
  long_key = g_string_free (key, FALSE);
  long_body = g_strdup_printf ("{\"%s\": 1}", long_key);
  long_readings = parse_ok (long_body, &single_options);
  g_assert_nonnull (strstr (reading_at (long_readings, 0)->extras_json, "xxxxxxxxxxxxxxxx"));
  g_clear_pointer (&long_body, g_free);
  long_body = g_strdup_printf ("{\"total_power\": 1, \"%sy\": 1}", long_key);
  assert_field_error (long_body, &single_options, "body", "field name too long");

  /* A long key whose value is not a number is ignored like any other. */
  g_clear_pointer (&long_body, g_free);
  long_body = g_strdup_printf ("{\"total_power\": 1, \"%s%s\": \"text\"}", long_key, long_key);
  g_clear_pointer (&long_readings, g_array_unref);
  long_readings = parse_ok (long_body, &single_options);
  g_assert_null (reading_at (long_readings, 0)->extras_json);
}

static void
test_nul_in_strings (void)
{
  g_autoptr(GArray) readings = NULL;

  /* U+0000 is a character like any other: it does not end the string early. */
  assert_field_error ("{\"total_power\": 1, \"breaker_state\": \"open\\u0000\"}", &single_options,
                      "breaker_state", "must be one of");
  assert_field_error ("{\"total_power\": 1, \"timestamp\": \"2025-10-16T10:00:00Z\\u0000\"}",
                      &single_options, "timestamp", "not a valid ISO-8601");
  assert_field_error ("{\"readings\\u0000\": [{\"total_power\": 1}]}", &bulk_options, "readings",
                      "required");

  /* A name with U+0000 cannot be a known field, and cannot be kept as an extra one. */
  assert_field_error ("{\"total_power\\u0000\": 1}", &single_options, "body",
                      "must not contain U+0000");
  readings = parse_ok ("{\"total_power\": 1, \"note\\u0000\": \"a\\u0000b\"}", &single_options);
  g_assert_null (reading_at (readings, 0)->extras_json);

  /* A raw nul byte is a control character, which JSON strings may not hold. */
  assert_malformed_len ("{\"total_power\": 1, \"note\": \"a\0b\"}", 33, "control character");
}

static void
test_deep_nesting (void)
{
  g_autoptr(GString) deepest = g_string_new ("{\"total_power\": 1, \"x\": ");
  g_autoptr(GString) too_deep = NULL;
  g_autoptr(GArray) readings = NULL;
  g_autoptr(GArray) bulk = NULL;
  guint i;

  /* Unknown values of any shape are stepped over, at any depth within the limit. */
  readings = parse_ok ("{\"total_power\": 1, \"x\": {\"a\": [[{\"b\": [true, false, null,"
                       " \"s\\u00e9\\n\", -1.5e-3, {}, [], {\"c\": {\"d\": []}}]}]], \"e\": 0},"
                       " \"voltage_a\": 230}",
                       &single_options);
  g_assert_cmpuint (reading_at (readings, 0)->present, ==,
                    (1u << SY_READING_TOTAL_POWER) | (1u << SY_READING_VOLTAGE_A));
  g_assert_null (reading_at (readings, 0)->extras_json);

  /* The root object is level 1, so 63 arrays under it reach the limit of 64... */
  for (i = 0; i < 63; i++)
    g_string_append_c (deepest, '[');
  for (i = 0; i < 63; i++)
    g_string_append_c (deepest, ']');
  g_string_append_c (deepest, '}');
  g_clear_pointer (&readings, g_array_unref);
  readings = parse_ok (deepest->str, &single_options);
  g_assert_cmpuint (readings->len, ==, 1);

  /* ...and one more is refused. */
  too_deep = g_string_new ("{\"total_power\": 1, \"x\": ");
  for (i = 0; i < 64; i++)
    g_string_append (too_deep, "{\"y\":");
  g_string_append (too_deep, "1");
  for (i = 0; i < 64; i++)
    g_string_append_c (too_deep, '}');
  g_string_append_c (too_deep, '}');
  assert_malformed (too_deep->str, "nested too deeply");

  /* In a bulk body the readings sit at level 3, and the limit counts from the root. */
  g_string_truncate (deepest, 0);
  g_string_append (deepest, "{\"readings\": [{\"total_power\": 1, \"x\": ");
  for (i = 0; i < 61; i++)
    g_string_append_c (deepest, '[');
  for (i = 0; i < 61; i++)
    g_string_append_c (deepest, ']');
  g_string_append (deepest, "}]}");
  bulk = parse_ok (deepest->str, &bulk_options);
  g_assert_cmpuint (bulk->len, ==, 1);
  g_string_truncate (too_deep, 0);
  g_string_append (too_deep, "{\"readings\": [{\"total_power\": 1, \"x\": ");
  for (i = 0; i < 62; i++)
    g_string_append_c (too_deep, '[');
  for (i = 0; i < 62; i++)
    g_string_append_c (too_deep, ']');
  g_string_append (too_deep, "}]}");
  assert_field_error (too_deep->str, &bulk_options, "body", "nested too deeply");

  /* Readings after a rejected one are still checked. */
  assert_field_error ("[{\"total_power\": -5e99}, {\"x\": [[[[" "\"\\q\"" "]]]]}]", &bulk_options,
                      "body", "malformed JSON near byte ");
}

static void
test_number_forms (void)
{
  static const char *const literals[] = {
    "0", "-0", "0.0", "-0.0", "0e999", "-0E-999", "1E5", "1e+5", "1E-5", "1e0", "10", "-10",
    "123.456", "0.1", "0.2", "0.3", "0.30000000000000004", "0.1000000000000000055511151231257827",
    "1.7976931348623157e308", "1.7976931348623158e308", "-1.7976931348623157E+308",
    "5e-324", "4.9406564584124654e-324", "2e-324", "2.2250738585072014e-308",
    "2.2250738585072011e-308", "1e-400", "-1e-400", "9007199254740992", "9007199254740993",
    "9007199254740995", "18446744073709551615", "18446744073709551616", "1e22", "1e23",
    "9999999999999999e22", "1234567890123456789", "12345678901234567890",
    "1234567890123456789012345", "0.1234567890123456789012345", "1234567890123.456789012345",
    "0.000000000000000000000000000000000000000000000000001", "1.00000000000000011102230246251565404236316680908203125",
    "1.00000000000000011102230246251565404236316680908203124",
    "1.00000000000000011102230246251565404236316680908203126",
    "3.141592653589793238462643383279502884197", "2.718281828459045", "100000000000000000000000000000000000000000000000000000000000000000000000000000000",
  };
  g_autoptr(GArray) zero = NULL;
  GRand *rand = g_rand_new_with_seed (20251016);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (literals); i++)
    assert_same_double (parse_extra_number (literals[i]), g_ascii_strtod (literals[i], NULL),
                        literals[i]);

  /* Measured values go through the same conversion; -0 keeps its sign. */
  zero = parse_ok ("{\"total_power\": -0, \"voltage_a\": 0.98E2}", &single_options);
  g_assert_true (signbit (reading_at (zero, 0)->values[SY_READING_TOTAL_POWER]));
  assert_same_double (reading_at (zero, 0)->values[SY_READING_VOLTAGE_A], 98.0, "0.98E2");

  /* The fast path must agree with strtod() bit for bit, wherever its limits fall. */
  for (i = 0; i < 2000; i++)
    {
      guint64 mantissa = ((guint64) g_rand_int (rand) << 32 | g_rand_int (rand)) >>
                         g_rand_int_range (rand, 0, 64);
      int exponent = g_rand_int_range (rand, -30, 31);
      g_autofree char *literal = NULL;

      if (g_rand_boolean (rand))
        {
          /* A decimal point somewhere inside the digits, as meters write them. */
          g_autofree char *digits = g_strdup_printf ("%" G_GUINT64_FORMAT, mantissa);
          gsize point = (gsize) g_rand_int_range (rand, 1, (gint32) strlen (digits) + 1);

          literal = g_strdup_printf ("%s%.*s.%s0e%d", g_rand_boolean (rand) ? "-" : "",
                                     (int) point, digits, digits + point, exponent);
        }
      else
        {
          literal = g_strdup_printf ("%" G_GUINT64_FORMAT "e%d", mantissa, exponent);
        }

      assert_same_double (parse_extra_number (literal), g_ascii_strtod (literal, NULL), literal);
    }

  g_rand_free (rand);
}

static void
test_number_syntax (void)
{
  static const char *const invalid[] = {
    "01", "-01", "00", "00.5", "1.", "-", "-.5", ".5", "+1", "1e", "1e+", "1E-", "1.e5", "0x10",
    "1_000", "NaN", "-Infinity", "Infinity", "1.5.5", "--1", "1e5e5", "- 1",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autofree char *known = g_strdup_printf ("{\"total_power\": %s}", invalid[i]);
      g_autofree char *unknown = g_strdup_printf ("{\"total_power\": 1, \"x\": [%s]}", invalid[i]);

      assert_malformed (known, NULL);
      assert_malformed (unknown, NULL);
    }

  assert_malformed ("{\"total_power\": 012}", "leading zero");
}

static void
test_strict_json (void)
{
  static const char *const invalid[] = {
    /* Trailing garbage. */
    "{\"total_power\": 1}}",
    "{\"total_power\": 1},",
    "{\"total_power\": 1} {}",
    /* Only space, tab, CR and LF are whitespace. */
    "\f{\"total_power\": 1}",
    "{\"total_power\":\v1}",
    "{\"total_power\": 1}\x01",
    /* A byte order mark is not JSON. */
    "\xef\xbb\xbf{\"total_power\": 1}",
    /* Literals are lowercase and complete. */
    "{\"total_power\": 1, \"x\": True}",
    "{\"total_power\": 1, \"x\": nul}",
    "{\"total_power\": 1, \"x\": truex}",
    "{\"total_power\": NULL}",
    /* Strings: escapes, control characters, UTF-8. */
    "{\"total_power\": 1, \"x\": \"\\x41\"}",
    "{\"total_power\": 1, \"x\": \"\\u12\"}",
    "{\"total_power\": 1, \"x\": \"\\uZZZZ\"}",
    "{\"total_power\": 1, \"x\": \"\\ud800\"}",
    "{\"total_power\": 1, \"x\": \"\\udc00\\ud800\"}",
    "{\"total_power\": 1, \"x\": \"\\ud800\\u0041\"}",
    "{\"total_power\": 1, \"x\": \"tab\there\"}",
    "{\"total_power\": 1, \"x\": \"line\nbreak\"}",
    "{\"total_power\": 1, \"x\": \"unterminated}",
    "{\"total_power\": 1, \"x\": \"\\\"}",
    /* Structure. */
    "{\"total_power\" 1}",
    "{\"total_power\": 1 \"x\": 2}",
    "{,\"total_power\": 1}",
    "{\"total_power\": 1, \"x\": [1,]}",
    "{\"total_power\": 1, \"x\": [1 2]}",
    "{\"total_power\": 1, \"x\": {\"a\"}}",
    "{\"total_power\": 1, \"x\": {1: 2}}",
    "{\"total_power\": 1, \"x\": ]}",
  };
  static const char *const invalid_utf8[] = {
    "caf\xc3", "\xc3\x28", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
    "\xf8\x88\x80\x80\x80", "\x80", "\xff", "\xe2\x82",
  };
  g_autoptr(GArray) readings = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (invalid); i++)
    assert_malformed (invalid[i], NULL);

  assert_malformed ("{\"total_power\": 1}}", "near byte 18");
  assert_malformed ("\xef\xbb\xbf{\"total_power\": 1}", "near byte 0");
  assert_malformed_len ("{\"total_power\": 1}\0", 19, "near byte 18");
  assert_malformed ("{\"total_power\": 1, \"x\": \"\\ud800\"}", "surrogate");

  for (i = 0; i < G_N_ELEMENTS (invalid_utf8); i++)
    {
      g_autofree char *value = g_strdup_printf ("{\"total_power\": 1, \"x\": \"%s\"}",
                                                invalid_utf8[i]);
      g_autofree char *key = g_strdup_printf ("{\"total_power\": 1, \"%s\": \"x\"}",
                                              invalid_utf8[i]);

      assert_malformed (value, "not valid UTF-8");
      assert_malformed (key, "not valid UTF-8");
    }

  /* What JSON does allow: every escape, DEL, noncharacters, the largest code point, and
   * surrounding whitespace of the four kinds. */
  readings = parse_ok (" \t\r\n{\"total_power\": 1, \"x\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"
                       "\\uD83D\\uDE00\x7f\xef\xbf\xbf\xf4\x8f\xbf\xbf\xe2\x82\xac\"}\n\t\r ",
                       &single_options);
  g_assert_cmpuint (readings->len, ==, 1);
}

/* Malformed JSON wins over everything else, wherever it is; a too-large batch wins over the
 * content of its readings. */
static void
test_error_precedence (void)
{
  SyReadingParseOptions two = bulk_options;
  g_autoptr(GArray) readings = _sy_reading_array_new (0);
  g_autoptr(GError) error = NULL;
  const char *too_large = "[{\"voltage_a\": -1}, {}, {\"total_power\": \"x\"}]";

  assert_field_error ("{\"total_power\": \"x\", \"voltage_a\": 01}", &single_options, "body",
                      "malformed JSON");
  assert_field_error ("[{\"total_power\": 1}, {\"frequency\": -1}, 1.]", &bulk_options, "body",
                      "malformed JSON");
  assert_field_error ("{\"readings\": {}, \"x\": [}", &bulk_options, "body", "malformed JSON");
  assert_field_error ("[1, 2] x", &single_options, "body", "malformed JSON");

  two.max_readings = 2;
  g_assert_false (_sy_reading_parse (too_large, strlen (too_large), &two, readings, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_TOO_LARGE);
  g_assert_cmpuint (readings->len, ==, 0);
  g_clear_error (&error);

  assert_field_error ("[{\"voltage_a\": -1}, {}, {\"total_power\": 1}, 01]", &two, "body",
                      "malformed JSON");

  /* The first content error in body order is the one reported. */
  assert_field_error ("[{\"total_power\": 1, \"voltage_a\": -1, \"frequency\": -1}, {}]",
                      &bulk_options, "[0].voltage_a", "out of range");
  assert_field_error ("{\"readings\": [{}], \"readings\": 5}", &bulk_options, "readings[0]",
                      "no measurements");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/switchyard/backend/reading/single/valid", test_single_valid);
  g_test_add_func ("/switchyard/backend/reading/single/default-timestamp", test_default_timestamp);
  g_test_add_func ("/switchyard/backend/reading/single/all-fields", test_all_fields);
  g_test_add_func ("/switchyard/backend/reading/single/null-is-absent", test_null_is_absent);
  g_test_add_func ("/switchyard/backend/reading/value-names", test_value_names);
  g_test_add_func ("/switchyard/backend/reading/timestamp/offsets", test_timestamp_offsets);
  g_test_add_func ("/switchyard/backend/reading/timestamp/invalid", test_timestamp_invalid);
  g_test_add_func ("/switchyard/backend/reading/timestamp/range", test_timestamp_range);
  g_test_add_func ("/switchyard/backend/reading/timestamp/format-round-trip",
                   test_timestamp_format_round_trip);
  g_test_add_func ("/switchyard/backend/reading/values/wrong-types", test_wrong_types);
  g_test_add_func ("/switchyard/backend/reading/values/non-finite", test_non_finite);
  g_test_add_func ("/switchyard/backend/reading/values/out-of-range", test_out_of_range);
  g_test_add_func ("/switchyard/backend/reading/bulk/bare-array", test_bulk_bare_array);
  g_test_add_func ("/switchyard/backend/reading/bulk/readings-object", test_bulk_readings_object);
  g_test_add_func ("/switchyard/backend/reading/bulk/error-paths", test_bulk_error_paths);
  g_test_add_func ("/switchyard/backend/reading/bulk/empty", test_bulk_empty);
  g_test_add_func ("/switchyard/backend/reading/bulk/shape", test_bulk_shape);
  g_test_add_func ("/switchyard/backend/reading/bulk/too-many", test_bulk_too_many);
  g_test_add_func ("/switchyard/backend/reading/body/malformed", test_malformed);
  g_test_add_func ("/switchyard/backend/reading/body/length-delimited", test_length_delimited);
  g_test_add_func ("/switchyard/backend/reading/body/appends", test_appends);
  g_test_add_func ("/switchyard/backend/reading/extras/kept", test_extras);
  g_test_add_func ("/switchyard/backend/reading/extras/only", test_extras_only);
  g_test_add_func ("/switchyard/backend/reading/extras/ignored", test_extras_ignored);
  g_test_add_func ("/switchyard/backend/reading/extras/limits", test_extras_limits);
  g_test_add_func ("/switchyard/backend/reading/extras/names", test_extra_names);
  g_test_add_func ("/switchyard/backend/reading/duplicates", test_duplicates);
  g_test_add_func ("/switchyard/backend/reading/meter-id", test_meter_id);
  g_test_add_func ("/switchyard/backend/reading/breaker-state", test_breaker_state);
  g_test_add_func ("/switchyard/backend/reading/no-measurements", test_no_measurements);
  g_test_add_func ("/switchyard/backend/reading/error-discards-partial",
                   test_error_discards_partial);
  g_test_add_func ("/switchyard/backend/reading/plain-array", test_plain_array);
  g_test_add_func ("/switchyard/backend/reading/scanner/key-escapes", test_key_escapes);
  g_test_add_func ("/switchyard/backend/reading/scanner/nul-in-strings", test_nul_in_strings);
  g_test_add_func ("/switchyard/backend/reading/scanner/deep-nesting", test_deep_nesting);
  g_test_add_func ("/switchyard/backend/reading/scanner/number-forms", test_number_forms);
  g_test_add_func ("/switchyard/backend/reading/scanner/number-syntax", test_number_syntax);
  g_test_add_func ("/switchyard/backend/reading/scanner/strict-json", test_strict_json);
  g_test_add_func ("/switchyard/backend/reading/scanner/error-precedence", test_error_precedence);

  return g_test_run ();
}
