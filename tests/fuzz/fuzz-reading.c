/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-fuzz-reading"

#include "config.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "sy-error.h"
#include "sy-reading-cjson.h"
#include "sy-reading-private.h"
#include "sy-time.h"

/* Feeds arbitrary bytes to the reading parser with every option combination a request can
 * reach. The clock is fixed so that a crash reproduces from its input alone.
 *
 * It is also a differential fuzzer: every input goes through the scanner in
 * backend/ingest/sy-reading.c, through the cJSON implementation it replaced (kept, test-only, in
 * sy-reading-cjson.c), and through a small, deliberately naive RFC 8259 validator below. The
 * scanner must call malformed exactly what the validator does; on valid JSON both parsers must
 * agree on success, error code, field and message, and on every parsed value. The only valid
 * inputs allowed to differ are the known cJSON flaws that ref_validate() detects: U+0000 in a
 * string (cJSON cuts the string there) and numbers longer than 63 characters (cJSON refuses
 * them). On invalid JSON cJSON is not consulted: it accepts much that is not JSON.
 *
 * Not built by meson. It needs clang and libcjson-dev, and the config.h of any meson build
 * directory (here /tmp/build):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *     -I/tmp/build -Ibackend/core -Ibackend/ingest -Itests/fuzz \
 *     $(pkg-config --cflags glib-2.0) \
 *     tests/fuzz/fuzz-reading.c tests/fuzz/sy-reading-cjson.c backend/ingest/sy-reading.c \
 *     backend/core/sy-error.c backend/core/sy-time.c \
 *     $(pkg-config --libs glib-2.0) -lcjson -lm -o /tmp/fuzz-reading
 *   mkdir -p /tmp/fuzz-corpus
 *   /tmp/fuzz-reading -max_total_time=300 /tmp/fuzz-corpus tests/fuzz/corpus-reading
 */

int LLVMFuzzerTestOneInput (const guint8 *data,
                            size_t        size);

/* 2025-10-16T10:00:00Z */
#define NOW_MS G_GINT64_CONSTANT (1760608800000)

#define REF_MAX_DEPTH 64

/* The reference validator: recursive, unoptimised, and sharing no code with the scanner. */
typedef struct
{
  const guchar *p;
  const guchar *end;
  guint         depth;
  gboolean      nul_escape;   /* some string holds a \u0000 escape */
  gboolean      long_number;  /* some number is longer than 63 characters */
} Ref;

static gboolean ref_value (Ref *r);

static void
ref_ws (Ref *r)
{
  while (r->p < r->end && strchr (" \t\r\n", *r->p) != NULL && *r->p != '\0')
    r->p++;
}

static gboolean
ref_hex4 (Ref     *r,
          guint32 *out)
{
  guint i;

  *out = 0;
  if (r->end - r->p < 4)
    return FALSE;
  for (i = 0; i < 4; i++)
    {
      if (!g_ascii_isxdigit (r->p[i]))
        return FALSE;
      *out = *out * 16 + (guint32) g_ascii_xdigit_value (r->p[i]);
    }
  r->p += 4;

  return TRUE;
}

static gboolean
ref_string (Ref *r)
{
  if (r->p >= r->end || *r->p != '"')
    return FALSE;
  r->p++;

  for (;;)
    {
      const guchar *run = r->p;
      const guchar *q;
      guint32 unit;

      while (r->p < r->end && *r->p != '"' && *r->p != '\\')
        r->p++;

      for (q = run; q < r->p; q++)
        {
          if (*q < 0x20)
            return FALSE;
        }
      if (!g_utf8_validate_len ((const char *) run, (gsize) (r->p - run), NULL))
        return FALSE;

      if (r->p >= r->end)
        return FALSE;

      if (*r->p == '"')
        {
          r->p++;
          return TRUE;
        }

      /* A backslash. */
      r->p++;
      if (r->p >= r->end)
        return FALSE;

      if (*r->p != 'u')
        {
          if (strchr ("\"\\/bfnrt", *r->p) == NULL || *r->p == '\0')
            return FALSE;
          r->p++;
          continue;
        }

      r->p++;
      if (!ref_hex4 (r, &unit))
        return FALSE;
      if (unit == 0)
        r->nul_escape = TRUE;
      if (unit >= 0xdc00 && unit <= 0xdfff)
        return FALSE;
      if (unit >= 0xd800 && unit <= 0xdbff)
        {
          if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
            return FALSE;
          r->p += 2;
          if (!ref_hex4 (r, &unit) || unit < 0xdc00 || unit > 0xdfff)
            return FALSE;
        }
    }
}

static gboolean
ref_digits (Ref *r)
{
  const guchar *start = r->p;

  while (r->p < r->end && g_ascii_isdigit (*r->p))
    r->p++;

  return r->p > start;
}

static gboolean
ref_number (Ref *r)
{
  const guchar *start = r->p;

  if (r->p < r->end && *r->p == '-')
    r->p++;
  if (r->p < r->end && *r->p == '0')
    r->p++;
  else if (r->p >= r->end || *r->p < '1' || *r->p > '9' || !ref_digits (r))
    return FALSE;

  if (r->p < r->end && *r->p == '.')
    {
      r->p++;
      if (!ref_digits (r))
        return FALSE;
    }

  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E'))
    {
      r->p++;
      if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
        r->p++;
      if (!ref_digits (r))
        return FALSE;
    }

  if (r->p - start > 63)
    r->long_number = TRUE;

  return TRUE;
}

static gboolean
ref_literal (Ref        *r,
             const char *word)
{
  gsize len = strlen (word);

  if ((gsize) (r->end - r->p) < len || memcmp (r->p, word, len) != 0)
    return FALSE;
  r->p += len;

  return TRUE;
}

static gboolean
ref_container (Ref    *r,
               guchar  close)
{
  gboolean ok = FALSE;

  if (++r->depth > REF_MAX_DEPTH)
    return FALSE;
  r->p++;

  ref_ws (r);
  if (r->p < r->end && *r->p == close)
    {
      r->p++;
      r->depth--;
      return TRUE;
    }

  for (;;)
    {
      if (close == '}')
        {
          if (!ref_string (r))
            return FALSE;
          ref_ws (r);
          if (r->p >= r->end || *r->p != ':')
            return FALSE;
          r->p++;
          ref_ws (r);
        }
      if (!ref_value (r))
        return FALSE;
      ref_ws (r);
      if (r->p < r->end && *r->p == ',')
        {
          r->p++;
          ref_ws (r);
          continue;
        }
      ok = r->p < r->end && *r->p == close;
      break;
    }

  if (ok)
    {
      r->p++;
      r->depth--;
    }

  return ok;
}

static gboolean
ref_value (Ref *r)
{
  if (r->p >= r->end)
    return FALSE;

  switch (*r->p)
    {
    case '{':
      return ref_container (r, '}');
    case '[':
      return ref_container (r, ']');
    case '"':
      return ref_string (r);
    case 't':
      return ref_literal (r, "true");
    case 'f':
      return ref_literal (r, "false");
    case 'n':
      return ref_literal (r, "null");
    default:
      return ref_number (r);
    }
}

static gboolean
ref_validate (const guchar *data,
              gsize         size,
              Ref          *r)
{
  memset (r, 0, sizeof *r);
  r->p = data;
  r->end = data + size;

  ref_ws (r);
  if (!ref_value (r))
    return FALSE;
  ref_ws (r);

  return r->p == r->end;
}

static gboolean
only_whitespace (const guchar *data,
                 gsize         size)
{
  gsize i;

  for (i = 0; i < size; i++)
    {
      if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' && data[i] != '\n')
        return FALSE;
    }

  return TRUE;
}

static gboolean
is_malformed_error (const GError *error)
{
  g_autofree char *field = NULL;

  if (!g_error_matches (error, SY_ERROR, SY_ERROR_INVALID_FIELD))
    return FALSE;
  field = sy_error_dup_field (error);

  return g_strcmp0 (field, "body") == 0 &&
         g_str_has_prefix (error->message, "body: malformed JSON near byte ");
}

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
        {
          Ref r;

          g_assert (g_utf8_validate (reading->extras_json, -1, NULL));
          g_assert (ref_validate ((const guchar *) reading->extras_json,
                                  strlen (reading->extras_json), &r));
          g_assert (reading->extras_json[0] == '{');
        }
    }
}

static gboolean
same_double (double a,
             double b)
{
  return memcmp (&a, &b, sizeof a) == 0;
}

/* Compares two extras objects as JSON: same names in the same order, bit-identical numbers. */
static void
compare_extras (const char *a,
                const char *b)
{
  cJSON *ja;
  cJSON *jb;
  const cJSON *ia;
  const cJSON *ib;

  if (a == NULL || b == NULL)
    {
      g_assert (a == NULL && b == NULL);
      return;
    }

  ja = cJSON_Parse (a);
  jb = cJSON_Parse (b);
  g_assert (ja != NULL && jb != NULL);
  g_assert (cJSON_IsObject (ja) && cJSON_IsObject (jb));

  for (ia = ja->child, ib = jb->child; ia != NULL && ib != NULL; ia = ia->next, ib = ib->next)
    {
      g_assert (strcmp (ia->string, ib->string) == 0);
      g_assert (cJSON_IsNumber (ia) && cJSON_IsNumber (ib));
      g_assert (same_double (ia->valuedouble, ib->valuedouble));
    }
  g_assert (ia == NULL && ib == NULL);

  cJSON_Delete (ja);
  cJSON_Delete (jb);
}

static void
compare_results (gboolean  new_ok,
                 GArray   *new_readings,
                 GError   *new_error,
                 gboolean  old_ok,
                 GArray   *old_readings,
                 GError   *old_error)
{
  guint i;
  guint j;

  g_assert (new_ok == old_ok);

  if (!new_ok)
    {
      g_assert (new_error->domain == old_error->domain);
      g_assert (new_error->code == old_error->code);
      /* The field is the start of the message; content errors keep their exact wording. */
      if (g_strcmp0 (new_error->message, old_error->message) != 0)
        g_error ("messages differ: \"%s\" / \"%s\"", new_error->message, old_error->message);
      return;
    }

  g_assert (new_readings->len == old_readings->len);

  for (i = 0; i < new_readings->len; i++)
    {
      const SyReading *a = &g_array_index (new_readings, SyReading, i);
      const SyReading *b = &g_array_index (old_readings, SyReading, i);

      g_assert (a->meter_id == b->meter_id);
      g_assert (a->ts_ms == b->ts_ms);
      g_assert (a->present == b->present);
      for (j = 0; j < SY_READING_N_VALUES; j++)
        g_assert (same_double (a->values[j], b->values[j]));
      g_assert (g_strcmp0 (a->breaker_state, b->breaker_state) == 0);
      compare_extras (a->extras_json, b->extras_json);
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
  gboolean valid;
  Ref ref;
  guint i;

  valid = ref_validate (data, size, &ref);

  for (i = 0; i < G_N_ELEMENTS (options); i++)
    {
      g_autoptr(GArray) readings = _sy_reading_array_new (0);
      g_autoptr(GArray) old_readings = _sy_reading_array_new (0);
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) old_error = NULL;
      gboolean ok;
      gboolean old_ok;

      ok = _sy_reading_parse ((const char *) data, size, &options[i], readings, &error);
      check_result (ok, readings, error);

      /* The scanner's idea of JSON is exactly RFC 8259 with a depth limit. */
      if (only_whitespace (data, size))
        {
          g_assert (!ok);
          g_assert (g_str_has_prefix (error->message, "body: empty"));
          continue;
        }
      if (valid != (ok || !is_malformed_error (error)))
        g_error ("validator says %s, scanner says %s", valid ? "valid" : "invalid",
                 ok ? "ok" : error->message);

      /* Intended differences: cJSON accepts much that is not JSON. */
      if (!valid)
        continue;

      old_ok = _sy_reading_parse_cjson ((const char *) data, size, &options[i], old_readings,
                                        &old_error);
      check_result (old_ok, old_readings, old_error);

      /* Intended differences on valid JSON: cJSON cuts strings at U+0000 and refuses numbers
       * longer than 63 characters. */
      if (ref.nul_escape)
        continue;
      if (!old_ok && is_malformed_error (old_error))
        {
          g_assert (ref.long_number);
          continue;
        }

      compare_results (ok, readings, error, old_ok, old_readings, old_error);
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
