/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-time"

#include "config.h"

#include <string.h>

#include "sy-time.h"

/* 2025-10-16T10:00:00Z */
#define REF_MS G_GINT64_CONSTANT (1760608800000)

static gboolean
parse (const char *text,
       gint64     *out_ms)
{
  return sy_time_parse_iso8601 (text, strlen (text), out_ms);
}

static void
assert_parses_to (const char *text,
                  gint64      expected)
{
  gint64 ms = -1;

  if (!parse (text, &ms))
    g_error ("expected \"%s\" to parse", text);
  g_assert_cmpint (ms, ==, expected);
}

static void
assert_rejected (const char *text)
{
  gint64 ms = 42;

  if (parse (text, &ms))
    g_error ("expected \"%s\" to be rejected", text);
  /* A rejected timestamp must not clobber the output. */
  g_assert_cmpint (ms, ==, 42);
}

static void
test_now (void)
{
  gint64 before = g_get_real_time () / 1000;
  gint64 now = sy_time_now_ms ();
  gint64 after = g_get_real_time () / 1000;

  g_assert_cmpint (now, >=, before);
  g_assert_cmpint (now, <=, after);
}

static void
test_parse_utc (void)
{
  assert_parses_to ("2025-10-16T10:00:00Z", REF_MS);
  assert_parses_to ("2025-10-16T10:00:00z", REF_MS);
  assert_parses_to ("2025-10-16t10:00:00Z", REF_MS);
  assert_parses_to ("2025-10-16 10:00:00Z", REF_MS);
  assert_parses_to ("1970-01-01T00:00:00Z", 0);
  assert_parses_to ("2000-01-01T00:00:00Z", G_GINT64_CONSTANT (946684800000));
  assert_parses_to ("9999-12-31T23:59:59Z", G_GINT64_CONSTANT (253402300799000));
}

static void
test_parse_offsets (void)
{
  assert_parses_to ("2025-10-16T12:00:00+02:00", REF_MS);
  assert_parses_to ("2025-10-16T12:00:00+0200", REF_MS);
  assert_parses_to ("2025-10-16T04:30:00-05:30", REF_MS);
  assert_parses_to ("2025-10-16T04:30:00-0530", REF_MS);
  assert_parses_to ("2025-10-16T10:00:00+00:00", REF_MS);
  assert_parses_to ("2025-10-16T10:00:00-00:00", REF_MS);
  /* The offset may move the instant across midnight and the month boundary. */
  assert_parses_to ("2025-10-17T01:00:00+15:00", REF_MS);
  assert_parses_to ("2025-10-15T23:00:00-11:00", REF_MS);

  assert_rejected ("2025-10-16T10:00:00+2:00");
  assert_rejected ("2025-10-16T10:00:00+02");
  assert_rejected ("2025-10-16T10:00:00+02:0");
  assert_rejected ("2025-10-16T10:00:00+02:000");
  assert_rejected ("2025-10-16T10:00:00+020");
  assert_rejected ("2025-10-16T10:00:00+24:00");
  assert_rejected ("2025-10-16T10:00:00+02:60");
  assert_rejected ("2025-10-16T10:00:00+02-00");
  assert_rejected ("2025-10-16T10:00:00 +02:00");
  /* Before the epoch once the offset is applied. */
  assert_rejected ("1970-01-01T00:00:00+01:00");
}

static void
test_parse_fraction (void)
{
  assert_parses_to ("2025-10-16T10:00:00.1Z", REF_MS + 100);
  assert_parses_to ("2025-10-16T10:00:00.12Z", REF_MS + 120);
  assert_parses_to ("2025-10-16T10:00:00.123Z", REF_MS + 123);
  /* Sub-millisecond digits are truncated, never rounded up. */
  assert_parses_to ("2025-10-16T10:00:00.1239Z", REF_MS + 123);
  assert_parses_to ("2025-10-16T10:00:00.999999999Z", REF_MS + 999);
  assert_parses_to ("2025-10-16T12:00:00.5+02:00", REF_MS + 500);
  assert_parses_to ("2025-10-16T10:00:00.000Z", REF_MS);

  assert_rejected ("2025-10-16T10:00:00.Z");
  assert_rejected ("2025-10-16T10:00:00.1234567891Z");
  assert_rejected ("2025-10-16T10:00:00,5Z");
  assert_rejected ("2025-10-16T10:00:00.5");
  assert_rejected ("2025-10-16T10:00:00.5a");
}

static void
test_parse_calendar (void)
{
  assert_parses_to ("2024-02-29T00:00:00Z", G_GINT64_CONSTANT (1709164800000));
  assert_parses_to ("2000-02-29T00:00:00Z", G_GINT64_CONSTANT (951782400000));
  assert_parses_to ("2025-12-31T23:59:59Z", G_GINT64_CONSTANT (1767225599000));

  assert_rejected ("2023-02-29T00:00:00Z");
  assert_rejected ("2100-02-29T00:00:00Z");
  assert_rejected ("2024-02-30T00:00:00Z");
  assert_rejected ("2025-04-31T00:00:00Z");
  assert_rejected ("2025-00-10T00:00:00Z");
  assert_rejected ("2025-13-10T00:00:00Z");
  assert_rejected ("2025-10-00T00:00:00Z");
  assert_rejected ("2025-10-32T00:00:00Z");
  assert_rejected ("2025-10-16T24:00:00Z");
  assert_rejected ("2025-10-16T10:60:00Z");
  assert_rejected ("2025-10-16T10:00:61Z");
  assert_rejected ("1969-12-31T23:59:59Z");
  assert_rejected ("0000-01-01T00:00:00Z");
}

static void
test_parse_leap_second (void)
{
  /* A leap second is accepted and lands on the first millisecond of the next minute. */
  assert_parses_to ("2016-12-31T23:59:60Z", G_GINT64_CONSTANT (1483228800000));
}

static void
test_parse_garbage (void)
{
  static const char *const garbage[] = {
    "",
    "Z",
    "now",
    "2025-10-16",
    "2025-10-16T10:00",
    "2025-10-16T10:00:00",
    "2025-10-16T10:00Z",
    "2025-10-16T10:00:00ZZ",
    "2025-10-16T10:00:00Z ",
    " 2025-10-16T10:00:00Z",
    "2025-10-16X10:00:00Z",
    "2025/10/16T10:00:00Z",
    "25-10-16T10:00:00Z",
    "+2025-10-16T10:00:00Z",
    "2025-1-16T10:00:00Z",
    "2025-10-16T1:00:00Z",
    "2025-10-16T10:00:00UTC",
    "2025-10-16T10:00:00GMT",
    "2025-10-16T10:0a:00Z",
    "2025-10-16T10:00:-1Z",
    "NaN",
    "1760608800000",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (garbage); i++)
    assert_rejected (garbage[i]);

  g_assert_false (sy_time_parse_iso8601 (NULL, 0, NULL));
}

static void
test_parse_length (void)
{
  const char *text = "2025-10-16T10:00:00Zjunk";
  gint64 ms = 0;

  /* Only @len bytes count: the input need not be nul-terminated, and every byte must be used. */
  g_assert_true (sy_time_parse_iso8601 (text, 20, &ms));
  g_assert_cmpint (ms, ==, REF_MS);
  g_assert_false (sy_time_parse_iso8601 (text, 19, &ms));
  g_assert_false (sy_time_parse_iso8601 (text, 21, &ms));
  g_assert_false (sy_time_parse_iso8601 ("2025-10-16T10:00:00Z\0", 21, &ms));

  /* A NULL output is allowed for validation only. */
  g_assert_true (sy_time_parse_iso8601 (text, 20, NULL));
}

static void
test_format (void)
{
  struct {
    gint64      ms;
    const char *text;
  } cases[] = {
    { 0, "1970-01-01T00:00:00Z" },
    { REF_MS, "2025-10-16T10:00:00Z" },
    { REF_MS + 123, "2025-10-16T10:00:00.123Z" },
    { REF_MS + 5, "2025-10-16T10:00:00.005Z" },
    { REF_MS + 50, "2025-10-16T10:00:00.050Z" },
    { G_GINT64_CONSTANT (1709164800000), "2024-02-29T00:00:00Z" },
    { G_GINT64_CONSTANT (253402300799999), "9999-12-31T23:59:59.999Z" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = sy_time_format_iso8601 (cases[i].ms);

      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

static void
test_append (void)
{
  g_autoptr(GString) out = g_string_new ("ts=");

  sy_time_append_iso8601 (out, REF_MS);
  g_string_append_c (out, ';');
  sy_time_append_iso8601 (out, REF_MS + 1);

  g_assert_cmpstr (out->str, ==, "ts=2025-10-16T10:00:00Z;2025-10-16T10:00:00.001Z");
}

/* Checks the hand-written arithmetic against GDateTime on many instants across the supported
 * range, in both directions. */
static void
test_round_trip (void)
{
  const gint64 max_ms = G_GINT64_CONSTANT (253402300799999);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261016);
  guint i;

  for (i = 0; i < 20000; i++)
    {
      g_autoptr(GDateTime) dt = NULL;
      g_autofree char *text = NULL;
      g_autofree char *expected = NULL;
      gint64 ms;
      gint64 parsed = -1;

      if (i % 4 == 0)
        ms = (gint64) (g_rand_double (rand) * (double) max_ms);
      else
        ms = (gint64) (g_rand_double (rand) * 4102444800000.0);  /* up to 2100 */
      if (i % 3 == 0)
        ms -= ms % 1000;

      text = sy_time_format_iso8601 (ms);
      g_assert_true (parse (text, &parsed));
      g_assert_cmpint (parsed, ==, ms);

      dt = g_date_time_new_from_unix_utc (ms / 1000);
      expected = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
      g_assert_true (g_str_has_prefix (text, expected));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/switchyard/backend/time/now", test_now);
  g_test_add_func ("/switchyard/backend/time/parse/utc", test_parse_utc);
  g_test_add_func ("/switchyard/backend/time/parse/offsets", test_parse_offsets);
  g_test_add_func ("/switchyard/backend/time/parse/fraction", test_parse_fraction);
  g_test_add_func ("/switchyard/backend/time/parse/calendar", test_parse_calendar);
  g_test_add_func ("/switchyard/backend/time/parse/leap-second", test_parse_leap_second);
  g_test_add_func ("/switchyard/backend/time/parse/garbage", test_parse_garbage);
  g_test_add_func ("/switchyard/backend/time/parse/length", test_parse_length);
  g_test_add_func ("/switchyard/backend/time/format", test_format);
  g_test_add_func ("/switchyard/backend/time/append", test_append);
  g_test_add_func ("/switchyard/backend/time/round-trip", test_round_trip);

  return g_test_run ();
}
