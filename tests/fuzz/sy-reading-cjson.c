/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-reading-cjson"

#include "config.h"

#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sy-error.h"
#include "sy-reading-cjson.h"
#include "sy-time.h"

/* TEST ONLY: the cJSON-based reading parser that backend/ingest/sy-reading.c used before its
 * single-pass scanner, kept verbatim except for the renamed entry point so that fuzz-reading.c
 * can run both on every input and compare them. It is not built by meson and must not be
 * linked into anything shipped. The helpers _sy_reading_value_name(), _sy_reading_clear() and
 * _sy_reading_array_new() are shared with the real parser and were dropped here. */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (cJSON, cJSON_Delete)

#define MAX_EXTRAS          64
#define MAX_EXTRA_NAME_LEN  64

/* 2000-01-01T00:00:00Z: nothing we meter predates it, so anything earlier is a device with an
 * unset clock. */
#define MIN_TIMESTAMP_MS    G_GINT64_CONSTANT (946684800000)
/* Clocks drift; an hour of slack accepts sloppy devices but rejects wrong time zones. */
#define MAX_FUTURE_MS       G_GINT64_CONSTANT (3600000)
/* Meter ids travel through JSON clients that store numbers as doubles. */
#define MAX_METER_ID        9007199254740992.0

/* cJSON_IsNumber() and friends are out-of-line library calls; on this path testing the type
 * byte directly is measurably cheaper. */
#define ITEM_TYPE(item) ((item)->type & 0xFF)

typedef struct
{
  const char *name;
  double      min;
  double      max;
  const char *range_text;
} ValueInfo;

static const ValueInfo value_info[SY_READING_N_VALUES] = {
  [SY_READING_TOTAL_POWER] = { "total_power", -1e9, 1e9, "-1e9 … 1e9" },
  [SY_READING_TOTAL_ENERGY] = { "total_energy", 0, 1e12, "0 … 1e12" },
  [SY_READING_VOLTAGE_A] = { "voltage_a", 0, 2e6, "0 … 2e6" },
  [SY_READING_VOLTAGE_B] = { "voltage_b", 0, 2e6, "0 … 2e6" },
  [SY_READING_VOLTAGE_C] = { "voltage_c", 0, 2e6, "0 … 2e6" },
  [SY_READING_CURRENT_A] = { "current_a", 0, 1e6, "0 … 1e6" },
  [SY_READING_CURRENT_B] = { "current_b", 0, 1e6, "0 … 1e6" },
  [SY_READING_CURRENT_C] = { "current_c", 0, 1e6, "0 … 1e6" },
  [SY_READING_POWER_FACTOR] = { "power_factor", -1, 1, "-1 … 1" },
  [SY_READING_FREQUENCY] = { "frequency", 0, 1000, "0 … 1000" },
  [SY_READING_THD_V_PCT] = { "thd_v_pct", 0, 100, "0 … 100" },
  [SY_READING_THD_I_PCT] = { "thd_i_pct", 0, 1000, "0 … 1000" },
};

/* Keys beyond the measured values continue the SyReadingValue numbering, so that one bit mask
 * can track which keys were seen. */
enum
{
  KEY_TIMESTAMP = SY_READING_N_VALUES,
  KEY_METER_ID,
  KEY_BREAKER_STATE,
  KEY_UNKNOWN,
};

typedef enum
{
  PATH_SINGLE,          /* "total_power", "body" */
  PATH_BARE_ARRAY,      /* "[3].total_power", "[3]" */
  PATH_READINGS_ARRAY,  /* "readings[3].total_power", "readings[3]" */
} PathStyle;

typedef struct
{
  const SyReadingParseOptions *options;
  PathStyle                    style;
  guint                        index;
  gint64                       max_ts_ms;
} ParseContext;

/* Sets a field error whose path is built from the reading's position; @key is NULL for an
 * error about the reading as a whole. The path is only formatted here, on the error path, so
 * that valid readings never pay for it. */
static void G_GNUC_PRINTF (4, 5)
set_error (const ParseContext  *ctx,
           const char          *key,
           GError             **error,
           const char          *format,
           ...)
{
  g_autofree char *detail = NULL;
  g_autofree char *path = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  switch (ctx->style)
    {
    case PATH_SINGLE:
      path = g_strdup (key != NULL ? key : "body");
      break;

    case PATH_BARE_ARRAY:
      if (key != NULL)
        path = g_strdup_printf ("[%u].%s", ctx->index, key);
      else
        path = g_strdup_printf ("[%u]", ctx->index);
      break;

    case PATH_READINGS_ARRAY:
      if (key != NULL)
        path = g_strdup_printf ("readings[%u].%s", ctx->index, key);
      else
        path = g_strdup_printf ("readings[%u]", ctx->index);
      break;

    default:
      g_assert_not_reached ();
    }

  sy_error_set_field (error, path, "%s", detail);
}

/* Returns what follows @prefix in @key, or NULL if @key does not start with it. The names are
 * short, so this inline loop beats a call into libc's strcmp(). */
static inline const char *
skip_prefix (const char *key,
             const char *prefix)
{
  for (; *prefix != '\0'; key++, prefix++)
    {
      if (*key != *prefix)
        return NULL;
    }

  return key;
}

static inline gboolean
key_is (const char *key,
        const char *name)
{
  const char *rest = skip_prefix (key, name);

  return rest != NULL && *rest == '\0';
}

/* Maps "a", "b", "c" to 0, 1, 2; anything else to -1. */
static inline int
phase_index (const char *rest)
{
  if (rest == NULL || rest[0] < 'a' || rest[0] > 'c' || rest[1] != '\0')
    return -1;

  return rest[0] - 'a';
}

static guint
lookup_key (const char *key)
{
  const char *rest;
  int phase;

  switch (key[0])
    {
    case 't':
      if ((rest = skip_prefix (key + 1, "otal_")) != NULL)
        {
          if (key_is (rest, "power"))
            return SY_READING_TOTAL_POWER;
          if (key_is (rest, "energy"))
            return SY_READING_TOTAL_ENERGY;
        }
      else if (key_is (key + 1, "imestamp"))
        {
          return KEY_TIMESTAMP;
        }
      else if (key_is (key + 1, "hd_v_pct"))
        {
          return SY_READING_THD_V_PCT;
        }
      else if (key_is (key + 1, "hd_i_pct"))
        {
          return SY_READING_THD_I_PCT;
        }
      break;

    case 'v':
      phase = phase_index (skip_prefix (key + 1, "oltage_"));
      if (phase >= 0)
        return SY_READING_VOLTAGE_A + (guint) phase;
      break;

    case 'c':
      phase = phase_index (skip_prefix (key + 1, "urrent_"));
      if (phase >= 0)
        return SY_READING_CURRENT_A + (guint) phase;
      break;

    case 'p':
      if (key_is (key + 1, "ower_factor"))
        return SY_READING_POWER_FACTOR;
      break;

    case 'f':
      if (key_is (key + 1, "requency"))
        return SY_READING_FREQUENCY;
      break;

    case 'm':
      if (key_is (key + 1, "eter_id"))
        return KEY_METER_ID;
      break;

    case 'b':
      if (key_is (key + 1, "reaker_state"))
        return KEY_BREAKER_STATE;
      break;

    default:
      break;
    }

  return KEY_UNKNOWN;
}

/* Appends @text as the body of a JSON string. The caller has checked that it is valid UTF-8, so
 * only the quote, the backslash and control characters need escaping. */
static void
append_json_escaped (GString    *out,
                     const char *text)
{
  static const char hex[] = "0123456789abcdef";
  const char *p;

  for (p = text; *p != '\0'; p++)
    {
      unsigned char c = (unsigned char) *p;

      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c < 0x20)
        {
          g_string_append (out, "\\u00");
          g_string_append_c (out, hex[c >> 4]);
          g_string_append_c (out, hex[c & 0xf]);
        }
      else
        {
          g_string_append_c (out, (char) c);
        }
    }
}

/* Appends the shortest of %.15g, %.16g and %.17g that reads back as @value, so that 0.1 stays
 * "0.1" while every double still round-trips. g_ascii_formatd() ignores the locale, which matters
 * because a "," decimal separator would produce invalid JSON. */
static void
append_json_number (GString *out,
                    double   value)
{
  static const char *const formats[] = { "%.15g", "%.16g", "%.17g" };
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_ascii_formatd (buf, sizeof buf, formats[i], value);
      if (g_ascii_strtod (buf, NULL) == value)
        break;
    }

  g_string_append (out, buf);
}

static gboolean
parse_value (const ParseContext  *ctx,
             const cJSON         *item,
             guint                id,
             SyReading           *reading,
             GError             **error)
{
  const ValueInfo *info = &value_info[id];
  double value;

  if (ITEM_TYPE (item) == cJSON_NULL)
    return TRUE;

  if (ITEM_TYPE (item) != cJSON_Number)
    {
      set_error (ctx, info->name, error, "must be a number");
      return FALSE;
    }

  value = item->valuedouble;

  /* cJSON turns an overflowing literal such as 1e999 into infinity. */
  if (!isfinite (value))
    {
      set_error (ctx, info->name, error, "must be a finite number");
      return FALSE;
    }

  if (value < info->min || value > info->max)
    {
      set_error (ctx, info->name, error, "out of range (%s)", info->range_text);
      return FALSE;
    }

  reading->values[id] = value;
  reading->present |= 1u << id;

  return TRUE;
}

static gboolean
parse_timestamp (const ParseContext  *ctx,
                 const cJSON         *item,
                 SyReading           *reading,
                 GError             **error)
{
  gint64 ts_ms;

  if (ITEM_TYPE (item) == cJSON_NULL)
    return TRUE;

  if (ITEM_TYPE (item) != cJSON_String || item->valuestring == NULL)
    {
      set_error (ctx, "timestamp", error, "must be an ISO-8601 string");
      return FALSE;
    }

  if (!sy_time_parse_iso8601 (item->valuestring, strlen (item->valuestring), &ts_ms))
    {
      set_error (ctx, "timestamp", error, "not a valid ISO-8601 timestamp with time zone");
      return FALSE;
    }

  if (ts_ms < MIN_TIMESTAMP_MS || ts_ms > ctx->max_ts_ms)
    {
      set_error (ctx, "timestamp", error, "out of range (2000-01-01 … now + 1 h)");
      return FALSE;
    }

  reading->ts_ms = ts_ms;

  return TRUE;
}

static gboolean
parse_meter_id (const ParseContext  *ctx,
                const cJSON         *item,
                SyReading           *reading,
                GError             **error)
{
  double value;

  if (ITEM_TYPE (item) == cJSON_NULL)
    return TRUE;

  if (ITEM_TYPE (item) != cJSON_Number)
    {
      set_error (ctx, "meter_id", error, "must be a positive integer");
      return FALSE;
    }

  value = item->valuedouble;

  /* Written so that NaN fails the range test too. */
  if (!(value >= 1 && value <= MAX_METER_ID) || value != floor (value))
    {
      set_error (ctx, "meter_id", error, "must be a positive integer");
      return FALSE;
    }

  reading->meter_id = (gint64) value;

  return TRUE;
}

static gboolean
parse_breaker_state (const ParseContext  *ctx,
                     const cJSON         *item,
                     SyReading           *reading,
                     GError             **error)
{
  const char *state = NULL;

  if (ITEM_TYPE (item) == cJSON_NULL)
    return TRUE;

  if (ITEM_TYPE (item) == cJSON_String && item->valuestring != NULL)
    {
      if (strcmp (item->valuestring, "open") == 0)
        state = "open";
      else if (strcmp (item->valuestring, "closed") == 0)
        state = "closed";
      else if (strcmp (item->valuestring, "tripped") == 0)
        state = "tripped";
    }

  if (state == NULL)
    {
      set_error (ctx, "breaker_state", error, "must be one of open, closed, tripped");
      return FALSE;
    }

  reading->breaker_state = g_strdup (state);

  return TRUE;
}

/* Unknown numeric fields are kept rather than dropped, so that a meter reporting something we
 * do not model yet (say, reactive power) loses nothing; the limits keep one reading from
 * growing without bound. Unknown non-numeric fields carry nothing we could chart and are
 * ignored. */
static gboolean
add_extra (const ParseContext  *ctx,
           const cJSON         *item,
           const char         **extra_names,
           guint               *n_extras,
           GString            **extras,
           GError             **error)
{
  const char *key = item->string;
  gsize key_len;
  guint i;

  if (ITEM_TYPE (item) != cJSON_Number)
    return TRUE;

  /* The name goes into the error path only once it is known to be short and valid UTF-8;
   * before that the error is reported on the reading itself. */
  key_len = strlen (key);
  if (key_len == 0)
    {
      set_error (ctx, NULL, error, "field names must not be empty");
      return FALSE;
    }

  if (key_len > MAX_EXTRA_NAME_LEN)
    {
      set_error (ctx, NULL, error, "field name too long (max %d bytes)", MAX_EXTRA_NAME_LEN);
      return FALSE;
    }

  if (!g_utf8_validate (key, (gssize) key_len, NULL))
    {
      set_error (ctx, NULL, error, "field name is not valid UTF-8");
      return FALSE;
    }

  if (!isfinite (item->valuedouble))
    {
      set_error (ctx, key, error, "must be a finite number");
      return FALSE;
    }

  for (i = 0; i < *n_extras; i++)
    {
      if (strcmp (extra_names[i], key) == 0)
        {
          set_error (ctx, key, error, "duplicate field");
          return FALSE;
        }
    }

  if (*n_extras == MAX_EXTRAS)
    {
      set_error (ctx, key, error, "too many extra fields (max %d)", MAX_EXTRAS);
      return FALSE;
    }

  extra_names[(*n_extras)++] = key;

  if (*extras == NULL)
    {
      *extras = g_string_sized_new (64);
      g_string_append_c (*extras, '{');
    }
  else
    {
      g_string_append_c (*extras, ',');
    }

  g_string_append_c (*extras, '"');
  append_json_escaped (*extras, key);
  g_string_append (*extras, "\":");
  append_json_number (*extras, item->valuedouble);

  return TRUE;
}

/* Fills @reading, which must be zeroed, from @object. On failure @reading may hold allocated
 * strings; the caller clears it. */
static gboolean
parse_reading (const ParseContext  *ctx,
               const cJSON         *object,
               SyReading           *reading,
               GError             **error)
{
  g_autoptr(GString) extras = NULL;
  const char *extra_names[MAX_EXTRAS];
  guint n_extras = 0;
  guint32 seen = 0;
  const cJSON *item;

  if (ITEM_TYPE (object) != cJSON_Object)
    {
      set_error (ctx, NULL, error, "must be an object");
      return FALSE;
    }

  reading->ts_ms = ctx->options->now_ms;

  for (item = object->child; item != NULL; item = item->next)
    {
      guint id;

      if (item->string == NULL)
        continue;

      id = lookup_key (item->string);

      if (id < KEY_UNKNOWN)
        {
          /* JSON leaves duplicate names undefined and parsers disagree on which one wins, so a
           * duplicate is rejected instead of silently picking one. */
          if ((seen & (1u << id)) != 0)
            {
              set_error (ctx, item->string, error, "duplicate field");
              return FALSE;
            }
          seen |= 1u << id;
        }

      switch (id)
        {
        case KEY_TIMESTAMP:
          if (!parse_timestamp (ctx, item, reading, error))
            return FALSE;
          break;

        case KEY_METER_ID:
          if (!parse_meter_id (ctx, item, reading, error))
            return FALSE;
          break;

        case KEY_BREAKER_STATE:
          if (!parse_breaker_state (ctx, item, reading, error))
            return FALSE;
          break;

        case KEY_UNKNOWN:
          if (!add_extra (ctx, item, extra_names, &n_extras, &extras, error))
            return FALSE;
          break;

        default:
          g_assert (id < SY_READING_N_VALUES);
          if (!parse_value (ctx, item, id, reading, error))
            return FALSE;
          break;
        }
    }

  if (ctx->options->allow_meter_id && reading->meter_id == 0)
    {
      set_error (ctx, "meter_id", error, "required for a gateway device");
      return FALSE;
    }

  if (reading->present == 0 && n_extras == 0)
    {
      set_error (ctx, NULL, error, "no measurements");
      return FALSE;
    }

  if (extras != NULL)
    {
      g_string_append_c (extras, '}');
      reading->extras_json = g_string_free (g_steal_pointer (&extras), FALSE);
    }

  return TRUE;
}

static gboolean
parse_readings_array (ParseContext  *ctx,
                      const cJSON   *array,
                      GArray        *out,
                      GError       **error)
{
  const cJSON *item;
  guint base = out->len;
  guint n = 0;

  for (item = array->child; item != NULL; item = item->next)
    {
      /* Counting stops at the limit so that a huge array is refused without walking it all. */
      if (ctx->options->max_readings != 0 && n == ctx->options->max_readings)
        {
          g_set_error (error, SY_ERROR, SY_ERROR_TOO_LARGE,
                       "too many readings: at most %u per request",
                       ctx->options->max_readings);
          return FALSE;
        }
      n++;
    }

  if (n == 0)
    {
      sy_error_set_field (error, "readings", "must not be empty");
      return FALSE;
    }

  /* One resize for the whole batch. The new elements are zeroed by hand because the caller's
   * array need not have been created with clear_ set, and the clear func must never see
   * garbage if we bail out half-way. */
  g_array_set_size (out, base + n);
  memset (&g_array_index (out, SyReading, base), 0, n * sizeof (SyReading));

  ctx->index = 0;
  for (item = array->child; item != NULL; item = item->next)
    {
      if (!parse_reading (ctx, item, &g_array_index (out, SyReading, base + ctx->index), error))
        return FALSE;
      ctx->index++;
    }

  return TRUE;
}

/* cJSON skips every byte up to and including the space as whitespace; use the same rule for
 * what may follow the value and for deciding that a body is empty. */
static const char *
skip_blank (const char *p,
            const char *end)
{
  while (p < end && (unsigned char) *p <= ' ')
    p++;

  return p;
}

static gboolean
parse_body (const char                  *body,
            gsize                        len,
            const SyReadingParseOptions *options,
            GArray                      *out,
            GError                     **error)
{
  g_autoptr(cJSON) root = NULL;
  const char *parse_end = NULL;
  const char *trailing;
  ParseContext ctx = { options, PATH_SINGLE, 0, 0 };

  if (body == NULL || skip_blank (body, body + len) == body + len)
    {
      sy_error_set_field (error, "body", "empty");
      return FALSE;
    }

  /* The Opts variant hands back the error position through parse_end instead of the global
   * that cJSON_GetErrorPtr() reads, which another thread may overwrite. It also tells us where
   * the value ended: cJSON accepts trailing garbage unless asked for a nul terminator, which a
   * length-delimited body does not have. */
  root = cJSON_ParseWithLengthOpts (body, len, &parse_end, FALSE);
  if (root == NULL)
    {
      sy_error_set_field (error, "body", "malformed JSON near byte %" G_GSIZE_FORMAT,
                          parse_end != NULL ? (gsize) (parse_end - body) : 0);
      return FALSE;
    }

  /* Report the first byte of trailing garbage, which is what the client needs to look at. */
  trailing = skip_blank (parse_end != NULL ? parse_end : body, body + len);
  if (trailing != body + len)
    {
      sy_error_set_field (error, "body", "malformed JSON near byte %" G_GSIZE_FORMAT,
                          (gsize) (trailing - body));
      return FALSE;
    }

  ctx.max_ts_ms = options->now_ms > G_MAXINT64 - MAX_FUTURE_MS
                  ? G_MAXINT64
                  : options->now_ms + MAX_FUTURE_MS;

  if (!options->allow_array)
    {
      if (ITEM_TYPE (root) != cJSON_Object)
        {
          sy_error_set_field (error, "body", "must be a JSON object");
          return FALSE;
        }

      g_array_set_size (out, out->len + 1);
      memset (&g_array_index (out, SyReading, out->len - 1), 0, sizeof (SyReading));

      return parse_reading (&ctx, root, &g_array_index (out, SyReading, out->len - 1), error);
    }

  if (ITEM_TYPE (root) == cJSON_Array)
    {
      ctx.style = PATH_BARE_ARRAY;
      return parse_readings_array (&ctx, root, out, error);
    }

  if (ITEM_TYPE (root) == cJSON_Object)
    {
      const cJSON *readings = cJSON_GetObjectItemCaseSensitive (root, "readings");

      if (readings == NULL)
        {
          sy_error_set_field (error, "readings",
                              "required: send a JSON array or an object with a \"readings\" array");
          return FALSE;
        }

      if (ITEM_TYPE (readings) != cJSON_Array)
        {
          sy_error_set_field (error, "readings", "must be an array");
          return FALSE;
        }

      ctx.style = PATH_READINGS_ARRAY;
      return parse_readings_array (&ctx, readings, out, error);
    }

  sy_error_set_field (error, "body", "must be a JSON array or an object with a \"readings\" array");
  return FALSE;
}

gboolean
_sy_reading_parse_cjson (const char                  *body,
                         gsize                        len,
                         const SyReadingParseOptions *options,
                         GArray                      *out,
                         GError                     **error)
{
  g_return_val_if_fail (body != NULL || len == 0, FALSE);
  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (g_array_get_element_size (out) == sizeof (SyReading), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!parse_body (body, len, options, out, error))
    {
      /* Nothing partial may escape: a batch is accepted whole or not at all. */
      g_array_set_size (out, 0);
      return FALSE;
    }

  return TRUE;
}
