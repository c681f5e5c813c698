/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-reading"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sy-error.h"
#include "sy-reading-private.h"
#include "sy-time.h"

/* This is the ingestion hot path: every reading a meter sends passes through here. A strict
 * single-pass scanner (RFC 8259, nothing more) reads the body straight into SyReading: there is
 * no tree, nothing is allocated except the rare breaker_state and extras strings, and numbers
 * are converted exactly without strtod in the common case. It replaced cJSON, which spent
 * almost all of its time in malloc and strtod for every node. Keys are matched by a switch on
 * their first byte and then an inline comparison, because a hash table costs more than it saves
 * for a dozen short names.
 *
 * Malformed JSON is reported as such wherever it is, even after a field that is already wrong,
 * so that a client always learns about the worst problem first. The scanner therefore keeps the
 * first content error aside, checks the rest of the body without interpreting it, and reports
 * that error only once the whole body is known to be JSON. */

#define MAX_EXTRAS          64
#define MAX_EXTRA_NAME_LEN  64

/* No reading needs more than four levels of containers; the limit only bounds what a hostile
 * body can make the scanner do, and lets skip_value() track the levels in one 64-bit word. */
#define MAX_DEPTH           64

/* 2000-01-01T00:00:00Z: nothing we meter predates it, so anything earlier is a device with an
 * unset clock. */
#define MIN_TIMESTAMP_MS    G_GINT64_CONSTANT (946684800000)
/* Clocks drift; an hour of slack accepts sloppy devices but rejects wrong time zones. */
#define MAX_FUTURE_MS       G_GINT64_CONSTANT (3600000)
/* Meter ids travel through JSON clients that store numbers as doubles. */
#define MAX_METER_ID        9007199254740992.0

/* Strings whose content matters are decoded into a stack buffer of this size: keys (which may
 * become extra field names) and timestamps (35 bytes at most). A longer string can be neither,
 * so it is only checked and measured. */
#define STRING_BUF_SIZE     MAX_EXTRA_NAME_LEN

/* What peek() returns at the end of the body. */
#define END_OF_BODY         (-1)

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
  const guchar                *start;
  const guchar                *p;
  const guchar                *end;
  const SyReadingParseOptions *options;
  PathStyle                    style;
  guint                        index;
  gint64                       max_ts_ms;
  /* The first content error. Once it is set, values are only checked, not interpreted. */
  GError                      *error;
  /* Where the body stopped being JSON, and why if there is more to say than "malformed". */
  const guchar                *syntax_at;
  const char                  *syntax_reason;
} Scanner;

/* A string as scanned: in place in the body when it had no escapes, otherwise decoded into the
 * caller's buffer. @text is NULL when the decoded string did not fit; @len is always exact. */
typedef struct
{
  const char *text;
  gsize       len;
} String;

/* Names of the extra fields of one reading, as offsets into the extras JSON being built, where
 * they appear escaped. Escaping is one-to-one, so comparing the escaped forms finds duplicates
 * without keeping a second copy of every name. */
typedef struct
{
  guint n;
  guint start[MAX_EXTRAS];
  guint len[MAX_EXTRAS];
} ExtraNames;

/* How the string scanner treats each byte: plain bytes are stepped over in a tight loop, the
 * others need a closer look. */
enum
{
  CHAR_PLAIN = 0,
  CHAR_QUOTE,
  CHAR_BACKSLASH,
  CHAR_CONTROL,
  CHAR_NON_ASCII,
};

static const guint8 string_class[256] = {
  [0x00 ... 0x1f] = CHAR_CONTROL,
  ['"'] = CHAR_QUOTE,
  ['\\'] = CHAR_BACKSLASH,
  [0x80 ... 0xff] = CHAR_NON_ASCII,
};

/* Every power of ten up to 1e22 is exactly representable as a double. */
static const double exact_powers_of_ten[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

const char *
_sy_reading_value_name (SyReadingValue value)
{
  g_return_val_if_fail ((guint) value < SY_READING_N_VALUES, NULL);

  return value_info[value].name;
}

void
_sy_reading_clear (SyReading *reading)
{
  g_clear_pointer (&reading->breaker_state, g_free);
  g_clear_pointer (&reading->extras_json, g_free);
}

GArray *
_sy_reading_array_new (guint reserve)
{
  GArray *array = g_array_sized_new (FALSE, TRUE, sizeof (SyReading), reserve);

  g_array_set_clear_func (array, (GDestroyNotify) _sy_reading_clear);

  return array;
}

/* Records that the body is not JSON at @at. Returns FALSE so that callers can return it. */
static gboolean
syntax_error (Scanner      *sc,
              const guchar *at,
              const char   *reason)
{
  sc->syntax_at = at;
  sc->syntax_reason = reason;

  return FALSE;
}

/* Records a content error unless one is already pending: only the first is reported. */
static void G_GNUC_PRINTF (3, 4)
set_field_error (Scanner    *sc,
                 const char *field,
                 const char *format,
                 ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  if (sc->error != NULL)
    return;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  sy_error_set_field (&sc->error, field, "%s", detail);
}

/* Records a content error whose path is built from the reading's position; @key is NULL for an
 * error about the reading as a whole. The path is only formatted here, on the error path, so
 * that valid readings never pay for it. */
static void G_GNUC_PRINTF (3, 4)
set_error (Scanner    *sc,
           const char *key,
           const char *format,
           ...)
{
  g_autofree char *detail = NULL;
  g_autofree char *path = NULL;
  va_list args;

  if (sc->error != NULL)
    return;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  switch (sc->style)
    {
    case PATH_SINGLE:
      path = g_strdup (key != NULL ? key : "body");
      break;

    case PATH_BARE_ARRAY:
      if (key != NULL)
        path = g_strdup_printf ("[%u].%s", sc->index, key);
      else
        path = g_strdup_printf ("[%u]", sc->index);
      break;

    case PATH_READINGS_ARRAY:
      if (key != NULL)
        path = g_strdup_printf ("readings[%u].%s", sc->index, key);
      else
        path = g_strdup_printf ("readings[%u]", sc->index);
      break;

    default:
      g_assert_not_reached ();
    }

  sy_error_set_field (&sc->error, path, "%s", detail);
}

static inline int
peek (const Scanner *sc)
{
  return sc->p < sc->end ? *sc->p : END_OF_BODY;
}

/* RFC 8259 whitespace only: space, tab, line feed and carriage return. */
static inline void
skip_whitespace (Scanner *sc)
{
  while (sc->p < sc->end &&
         (*sc->p == ' ' || *sc->p == '\n' || *sc->p == '\r' || *sc->p == '\t'))
    sc->p++;
}

static inline gboolean
expect (Scanner *sc,
        guchar   c)
{
  if (peek (sc) != c)
    return syntax_error (sc, sc->p, NULL);

  sc->p++;

  return TRUE;
}

static gboolean
scan_literal (Scanner    *sc,
              const char *literal,
              gsize       len)
{
  if ((gsize) (sc->end - sc->p) < len || memcmp (sc->p, literal, len) != 0)
    return syntax_error (sc, sc->p, NULL);

  sc->p += len;

  return TRUE;
}

/* Returns the length of the well-formed UTF-8 sequence at @p, or 0. Well-formed is RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static inline guint
utf8_sequence_length (const guchar *p,
                      const guchar *end)
{
  guchar lo = 0x80;
  guchar hi = 0xbf;
  guint n;
  guint i;

  if (p[0] >= 0xc2 && p[0] <= 0xdf)
    {
      n = 2;
    }
  else if (p[0] >= 0xe0 && p[0] <= 0xef)
    {
      n = 3;
      if (p[0] == 0xe0)
        lo = 0xa0;
      else if (p[0] == 0xed)
        hi = 0x9f;
    }
  else if (p[0] >= 0xf0 && p[0] <= 0xf4)
    {
      n = 4;
      if (p[0] == 0xf0)
        lo = 0x90;
      else if (p[0] == 0xf4)
        hi = 0x8f;
    }
  else
    {
      return 0;
    }

  if ((gsize) (end - p) < n || p[1] < lo || p[1] > hi)
    return 0;

  for (i = 2; i < n; i++)
    {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
    }

  return n;
}

static gboolean
read_hex4 (const guchar *p,
           const guchar *end,
           guint32      *out)
{
  guint32 value = 0;
  guint i;

  if (end - p < 4)
    return FALSE;

  for (i = 0; i < 4; i++)
    {
      int digit = g_ascii_xdigit_value ((char) p[i]);

      if (digit < 0)
        return FALSE;
      value = (value << 4) | (guint32) digit;
    }

  *out = value;

  return TRUE;
}

/* Decodes the escape sequence at @p (its backslash) into @out as UTF-8 and returns what follows
 * it, or NULL if it is not valid JSON. A \u escape of a UTF-16 surrogate must be half of a
 * pair: a lone surrogate has no UTF-8 form. */
static const guchar *
decode_escape (Scanner      *sc,
               const guchar *p,
               guchar        out[4],
               guint        *out_len)
{
  const guchar *escape = p;
  guint32 c;

  if (sc->end - p < 2)
    {
      syntax_error (sc, sc->end, "unterminated string");
      return NULL;
    }

  *out_len = 1;

  switch (p[1])
    {
    case '"':
    case '\\':
    case '/':
      out[0] = p[1];
      return p + 2;

    case 'b':
      out[0] = '\b';
      return p + 2;

    case 'f':
      out[0] = '\f';
      return p + 2;

    case 'n':
      out[0] = '\n';
      return p + 2;

    case 'r':
      out[0] = '\r';
      return p + 2;

    case 't':
      out[0] = '\t';
      return p + 2;

    case 'u':
      break;

    default:
      syntax_error (sc, p, "invalid escape in string");
      return NULL;
    }

  if (!read_hex4 (p + 2, sc->end, &c))
    {
      syntax_error (sc, p, "invalid \\u escape in string");
      return NULL;
    }
  p += 6;

  if (c >= 0xdc00 && c <= 0xdfff)
    {
      syntax_error (sc, escape, "unpaired UTF-16 surrogate in string");
      return NULL;
    }

  if (c >= 0xd800 && c <= 0xdbff)
    {
      guint32 low;

      if (sc->end - p < 2 || p[0] != '\\' || p[1] != 'u' ||
          !read_hex4 (p + 2, sc->end, &low) || low < 0xdc00 || low > 0xdfff)
        {
          syntax_error (sc, escape, "unpaired UTF-16 surrogate in string");
          return NULL;
        }
      p += 6;
      c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
    }

  if (c < 0x80)
    {
      out[0] = (guchar) c;
    }
  else if (c < 0x800)
    {
      out[0] = (guchar) (0xc0 | (c >> 6));
      out[1] = (guchar) (0x80 | (c & 0x3f));
      *out_len = 2;
    }
  else if (c < 0x10000)
    {
      out[0] = (guchar) (0xe0 | (c >> 12));
      out[1] = (guchar) (0x80 | ((c >> 6) & 0x3f));
      out[2] = (guchar) (0x80 | (c & 0x3f));
      *out_len = 3;
    }
  else
    {
      out[0] = (guchar) (0xf0 | (c >> 18));
      out[1] = (guchar) (0x80 | ((c >> 12) & 0x3f));
      out[2] = (guchar) (0x80 | ((c >> 6) & 0x3f));
      out[3] = (guchar) (0x80 | (c & 0x3f));
      *out_len = 4;
    }

  return p;
}

/* Appends @n bytes to the decoded string in @buf unless they no longer fit, and returns the new
 * decoded length either way. @buf is NULL when the string is only checked. */
static inline gsize
append_decoded (char         *buf,
                gsize         buf_size,
                gsize         len,
                const guchar *bytes,
                gsize         n)
{
  if (buf != NULL && n <= buf_size && len <= buf_size - n)
    memcpy (buf + len, bytes, n);

  return len + n;
}

#define BYTES(b) (G_GUINT64_CONSTANT (0x0101010101010101) * (b))

/* Steps over plain string bytes: printable ASCII other than the quote and the backslash. Keys
 * and timestamps are mostly that, so eight bytes are tested at once while none of them needs a
 * closer look; the word test is exact about whether any byte in the word is special, which is
 * all it is used for. */
static inline const guchar *
skip_plain (const guchar *p,
            const guchar *end)
{
  while (end - p >= 8)
    {
      guint64 word;
      guint64 quote;
      guint64 backslash;
      guint64 special;

      memcpy (&word, p, sizeof word);
      quote = word ^ BYTES ('"');
      backslash = word ^ BYTES ('\\');
      /* High bit set for a byte below 0x20 or above 0x7f, or one equal to '"' or '\\'. */
      special = (word - BYTES (0x20)) | word |
                ((quote - BYTES (0x01)) & ~quote) |
                ((backslash - BYTES (0x01)) & ~backslash);
      if ((special & BYTES (0x80)) != 0)
        break;
      p += 8;
    }

  while (p < end && string_class[*p] == CHAR_PLAIN)
    p++;

  return p;
}

/* Scans the string at sc->p (its opening quote) and leaves sc->p after the closing quote. The
 * whole string is checked: no raw control characters, valid escapes, valid UTF-8. Pass a NULL
 * @buf when only the check matters. */
static gboolean
scan_string (Scanner *sc,
             char    *buf,
             gsize    buf_size,
             String  *str)
{
  const guchar *end = sc->end;
  const guchar *p = sc->p + 1;
  const guchar *run = p;
  gboolean decoded = FALSE;
  gsize len = 0;

  for (;;)
    {
      guint n;

      p = skip_plain (p, end);
      if (p == end)
        return syntax_error (sc, p, "unterminated string");

      switch (string_class[*p])
        {
        case CHAR_QUOTE:
          if (decoded)
            {
              len = append_decoded (buf, buf_size, len, run, (gsize) (p - run));
              str->text = len <= buf_size ? buf : NULL;
              str->len = len;
            }
          else
            {
              str->text = (const char *) run;
              str->len = (gsize) (p - run);
            }
          sc->p = p + 1;
          return TRUE;

        case CHAR_BACKSLASH:
          {
            guchar bytes[4];

            len = append_decoded (buf, buf_size, len, run, (gsize) (p - run));
            p = decode_escape (sc, p, bytes, &n);
            if (p == NULL)
              return FALSE;
            len = append_decoded (buf, buf_size, len, bytes, n);
            run = p;
            decoded = TRUE;
          }
          break;

        case CHAR_CONTROL:
          return syntax_error (sc, p, "control character in string");

        case CHAR_NON_ASCII:
          /* Valid sequences stay part of the run and are copied verbatim. */
          n = utf8_sequence_length (p, end);
          if (n == 0)
            return syntax_error (sc, p, "string is not valid UTF-8");
          p += n;
          break;

        case CHAR_PLAIN:
        default:
          g_assert_not_reached ();
        }
    }
}

static inline gboolean
is_digit (guchar c)
{
  return (guint) (c - '0') < 10;
}

/* Falls back on the C library for numbers the exact fast path cannot take. g_ascii_strtod() is
 * strtod() in the C locale, so the result is correctly rounded whatever the process locale. */
static double
convert_number_slowly (const guchar *start,
                       gsize         len)
{
  char stack_buf[64];
  g_autofree char *heap_buf = NULL;
  char *text = stack_buf;

  if (len >= sizeof stack_buf)
    text = heap_buf = g_malloc (len + 1);

  memcpy (text, start, len);
  text[len] = '\0';

  return g_ascii_strtod (text, NULL);
}

/* Returns the first byte at or after @p that is not a digit. */
static inline const guchar *
skip_digits (const guchar *p,
             const guchar *end)
{
  while (p < end && is_digit (*p))
    p++;

  return p;
}

static inline guint64
accumulate_digits (guint64       mantissa,
                   const guchar *p,
                   const guchar *end)
{
  for (; p < end; p++)
    mantissa = mantissa * 10 + (guint) (*p - '0');

  return mantissa;
}

/* Scans the number at sc->p, exactly as RFC 8259 spells it: an optional minus, no leading
 * zeros, digits on both sides of a decimal point, and an exponent with at least one digit. With
 * @out NULL the number is only checked.
 *
 * The conversion is Clinger's fast path: a decimal mantissa of at most 2^53 and a power of ten
 * of at most 22 are both exact doubles, so a single multiplication or division, which IEEE 754
 * rounds correctly, gives exactly what strtod() would. Meter values ("230.1", "0.98") always
 * take it; anything else (more than 19 digits, large exponents) goes to strtod(). */
static gboolean
scan_number (Scanner *sc,
             double  *out)
{
  const guchar *start = sc->p;
  const guchar *end = sc->end;
  const guchar *p = start;
  const guchar *int_digits;
  const guchar *int_end;
  const guchar *frac_digits;
  const guchar *frac_end;
  int exponent = 0;
  gboolean negative = FALSE;

  if (*p == '-')
    {
      negative = TRUE;
      p++;
    }

  int_digits = p;
  if (p == end || !is_digit (*p))
    return syntax_error (sc, p, NULL);

  if (*p == '0')
    {
      p++;
      if (p < end && is_digit (*p))
        return syntax_error (sc, p - 1, "leading zero in number");
    }
  else
    {
      p = skip_digits (p + 1, end);
    }
  int_end = p;

  frac_digits = frac_end = p;
  if (p < end && *p == '.')
    {
      p++;
      frac_digits = p;
      p = skip_digits (p, end);
      if (p == frac_digits)
        return syntax_error (sc, p, NULL);
      frac_end = p;
    }

  if (p < end && (*p == 'e' || *p == 'E'))
    {
      gboolean exponent_negative = FALSE;

      p++;
      if (p < end && (*p == '+' || *p == '-'))
        {
          exponent_negative = *p == '-';
          p++;
        }

      if (p == end || !is_digit (*p))
        return syntax_error (sc, p, NULL);

      do
        {
          /* Saturates long before overflowing; such exponents go to strtod() anyway. */
          if (exponent < 100000)
            exponent = exponent * 10 + (*p - '0');
          p++;
        }
      while (p < end && is_digit (*p));

      if (exponent_negative)
        exponent = -exponent;
    }

  sc->p = p;

  if (out == NULL)
    return TRUE;

  /* Nineteen decimal digits always fit in 64 bits. */
  if ((int_end - int_digits) + (frac_end - frac_digits) <= 19)
    {
      guint64 mantissa = accumulate_digits (0, int_digits, int_end);

      mantissa = accumulate_digits (mantissa, frac_digits, frac_end);
      exponent -= (int) (frac_end - frac_digits);

      if (mantissa <= (G_GUINT64_CONSTANT (1) << 53) &&
          (mantissa == 0 || (exponent >= -22 && exponent <= 22)))
        {
          double value;

          if (mantissa == 0)
            value = 0.0;
          else if (exponent >= 0)
            value = (double) mantissa * exact_powers_of_ten[exponent];
          else
            value = (double) mantissa / exact_powers_of_ten[-exponent];

          *out = negative ? -value : value;
          return TRUE;
        }
    }

  *out = convert_number_slowly (start, (gsize) (p - start));

  return TRUE;
}

/* Expects a key at sc->p and steps over it and the colon after it. */
static gboolean
skip_key (Scanner *sc)
{
  String key;

  if (peek (sc) != '"')
    return syntax_error (sc, sc->p, NULL);

  if (!scan_string (sc, NULL, 0, &key))
    return FALSE;

  skip_whitespace (sc);
  if (!expect (sc, ':'))
    return FALSE;
  skip_whitespace (sc);

  return TRUE;
}

/* Checks and steps over one value of any type, @depth containers deep. Nested containers are
 * followed with a stack of one bit per level (set for an array) instead of recursion. */
static gboolean
skip_value (Scanner *sc,
            guint    depth)
{
  guint64 arrays = 0;
  guint level = 0;

  for (;;)
    {
      String str;
      int c;

      /* A value starts at sc->p. */
      switch (peek (sc))
        {
        case '{':
        case '[':
          if (depth + level >= MAX_DEPTH)
            return syntax_error (sc, sc->p, "nested too deeply (max 64 levels)");

          arrays = (arrays << 1) | (*sc->p == '[');
          level++;
          sc->p++;
          skip_whitespace (sc);

          if (peek (sc) == ((arrays & 1) != 0 ? ']' : '}'))
            {
              sc->p++;
              arrays >>= 1;
              level--;
              break;
            }

          if ((arrays & 1) == 0 && !skip_key (sc))
            return FALSE;
          continue;

        case '"':
          if (!scan_string (sc, NULL, 0, &str))
            return FALSE;
          break;

        case 't':
          if (!scan_literal (sc, "true", 4))
            return FALSE;
          break;

        case 'f':
          if (!scan_literal (sc, "false", 5))
            return FALSE;
          break;

        case 'n':
          if (!scan_literal (sc, "null", 4))
            return FALSE;
          break;

        case '-':
        case '0' ... '9':
          if (!scan_number (sc, NULL))
            return FALSE;
          break;

        default:
          return syntax_error (sc, sc->p, NULL);
        }

      /* After a value: close containers until one has more to come. */
      for (;;)
        {
          if (level == 0)
            return TRUE;

          skip_whitespace (sc);
          c = peek (sc);

          if (c == ',')
            {
              sc->p++;
              skip_whitespace (sc);
              if ((arrays & 1) == 0 && !skip_key (sc))
                return FALSE;
              break;
            }

          if (c != ((arrays & 1) != 0 ? ']' : '}'))
            return syntax_error (sc, sc->p, NULL);

          sc->p++;
          arrays >>= 1;
          level--;
        }
    }
}

static inline gboolean
starts_number (int c)
{
  return c == '-' || (c >= '0' && c <= '9');
}

/* True if the @len bytes at @key are exactly the string literal @name. */
#define KEY_IS(key, len, name) \
  ((len) == sizeof (name) - 1 && memcmp ((key), (name), sizeof (name) - 1) == 0)

/* Maps "<prefix>a", "<prefix>b", "<prefix>c" to 0, 1, 2; anything else to -1. */
#define PHASE_INDEX(key, len, prefix) \
  ((len) == sizeof (prefix) && memcmp ((key), (prefix), sizeof (prefix) - 1) == 0 && \
   (key)[sizeof (prefix) - 1] >= 'a' && (key)[sizeof (prefix) - 1] <= 'c' \
   ? (key)[sizeof (prefix) - 1] - 'a' : -1)

static guint
lookup_key (const char *key,
            gsize       len)
{
  int phase;

  if (len == 0)
    return KEY_UNKNOWN;

  switch (key[0])
    {
    case 't':
      if (KEY_IS (key, len, "total_power"))
        return SY_READING_TOTAL_POWER;
      if (KEY_IS (key, len, "total_energy"))
        return SY_READING_TOTAL_ENERGY;
      if (KEY_IS (key, len, "timestamp"))
        return KEY_TIMESTAMP;
      if (KEY_IS (key, len, "thd_v_pct"))
        return SY_READING_THD_V_PCT;
      if (KEY_IS (key, len, "thd_i_pct"))
        return SY_READING_THD_I_PCT;
      break;

    case 'v':
      phase = PHASE_INDEX (key, len, "voltage_");
      if (phase >= 0)
        return SY_READING_VOLTAGE_A + (guint) phase;
      break;

    case 'c':
      phase = PHASE_INDEX (key, len, "current_");
      if (phase >= 0)
        return SY_READING_CURRENT_A + (guint) phase;
      break;

    case 'p':
      if (KEY_IS (key, len, "power_factor"))
        return SY_READING_POWER_FACTOR;
      break;

    case 'f':
      if (KEY_IS (key, len, "frequency"))
        return SY_READING_FREQUENCY;
      break;

    case 'm':
      if (KEY_IS (key, len, "meter_id"))
        return KEY_METER_ID;
      break;

    case 'b':
      if (KEY_IS (key, len, "breaker_state"))
        return KEY_BREAKER_STATE;
      break;

    default:
      break;
    }

  return KEY_UNKNOWN;
}

static const char *
key_name (guint id)
{
  switch (id)
    {
    case KEY_TIMESTAMP:
      return "timestamp";

    case KEY_METER_ID:
      return "meter_id";

    case KEY_BREAKER_STATE:
      return "breaker_state";

    default:
      g_assert (id < SY_READING_N_VALUES);
      return value_info[id].name;
    }
}

/* Appends the @len bytes of @text as the body of a JSON string. The scanner has checked that
 * they are valid UTF-8, so only the quote, the backslash and control characters need escaping. */
static void
append_json_escaped (GString    *out,
                     const char *text,
                     gsize       len)
{
  static const char hex[] = "0123456789abcdef";
  gsize i;

  for (i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) text[i];

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

/* The parse_* functions below read one value at sc->p. They return FALSE only when the body is
 * not JSON; a value that is JSON but wrong for its field sets sc->error and is stepped over. */

static gboolean
parse_value (Scanner   *sc,
             guint      id,
             SyReading *reading,
             guint      depth)
{
  const ValueInfo *info = &value_info[id];
  int c = peek (sc);
  double value;

  if (c == 'n')
    return scan_literal (sc, "null", 4);

  if (!starts_number (c))
    {
      set_error (sc, info->name, "must be a number");
      return skip_value (sc, depth);
    }

  if (!scan_number (sc, &value))
    return FALSE;

  /* An overflowing literal such as 1e999 reads as infinity. */
  if (!isfinite (value))
    {
      set_error (sc, info->name, "must be a finite number");
      return TRUE;
    }

  if (value < info->min || value > info->max)
    {
      set_error (sc, info->name, "out of range (%s)", info->range_text);
      return TRUE;
    }

  reading->values[id] = value;
  reading->present |= 1u << id;

  return TRUE;
}

static gboolean
parse_timestamp (Scanner   *sc,
                 SyReading *reading,
                 guint      depth)
{
  char buf[STRING_BUF_SIZE];
  String text;
  int c = peek (sc);
  gint64 ts_ms;

  if (c == 'n')
    return scan_literal (sc, "null", 4);

  if (c != '"')
    {
      set_error (sc, "timestamp", "must be an ISO-8601 string");
      return skip_value (sc, depth);
    }

  if (!scan_string (sc, buf, sizeof buf, &text))
    return FALSE;

  if (text.text == NULL || !sy_time_parse_iso8601 (text.text, text.len, &ts_ms))
    {
      set_error (sc, "timestamp", "not a valid ISO-8601 timestamp with time zone");
      return TRUE;
    }

  if (ts_ms < MIN_TIMESTAMP_MS || ts_ms > sc->max_ts_ms)
    {
      set_error (sc, "timestamp", "out of range (2000-01-01 … now + 1 h)");
      return TRUE;
    }

  reading->ts_ms = ts_ms;

  return TRUE;
}

static gboolean
parse_meter_id (Scanner   *sc,
                SyReading *reading,
                guint      depth)
{
  int c = peek (sc);
  double value;

  if (c == 'n')
    return scan_literal (sc, "null", 4);

  if (!starts_number (c))
    {
      set_error (sc, "meter_id", "must be a positive integer");
      return skip_value (sc, depth);
    }

  if (!scan_number (sc, &value))
    return FALSE;

  /* Written so that NaN fails the range test too. */
  if (!(value >= 1 && value <= MAX_METER_ID) || value != floor (value))
    {
      set_error (sc, "meter_id", "must be a positive integer");
      return TRUE;
    }

  reading->meter_id = (gint64) value;

  return TRUE;
}

static gboolean
parse_breaker_state (Scanner   *sc,
                     SyReading *reading,
                     guint      depth)
{
  char buf[sizeof "tripped"];
  const char *state = NULL;
  String text;
  int c = peek (sc);

  if (c == 'n')
    return scan_literal (sc, "null", 4);

  if (c != '"')
    {
      set_error (sc, "breaker_state", "must be one of open, closed, tripped");
      return skip_value (sc, depth);
    }

  if (!scan_string (sc, buf, sizeof buf, &text))
    return FALSE;

  if (text.text != NULL)
    {
      if (KEY_IS (text.text, text.len, "open"))
        state = "open";
      else if (KEY_IS (text.text, text.len, "closed"))
        state = "closed";
      else if (KEY_IS (text.text, text.len, "tripped"))
        state = "tripped";
    }

  if (state == NULL)
    {
      set_error (sc, "breaker_state", "must be one of open, closed, tripped");
      return TRUE;
    }

  reading->breaker_state = g_strdup (state);

  return TRUE;
}

/* Extra field names are not nul-terminated where they were scanned. */
static void
set_extra_error (Scanner      *sc,
                 const String *key,
                 const char   *detail)
{
  g_autofree char *name = g_strndup (key->text, key->len);

  set_error (sc, name, "%s", detail);
}

/* Unknown numeric fields are kept rather than dropped, so that a meter reporting something we
 * do not model yet (say, reactive power) loses nothing; the limits keep one reading from
 * growing without bound. Unknown non-numeric fields carry nothing we could chart and are
 * ignored. */
static gboolean
parse_extra (Scanner       *sc,
             const String  *key,
             GString      **extras,
             ExtraNames    *names,
             guint          depth)
{
  double value;
  gsize name_start;
  gsize name_len;
  guint i;

  if (!starts_number (peek (sc)))
    return skip_value (sc, depth);

  if (!scan_number (sc, &value))
    return FALSE;

  /* The name goes into the error path only once it is known to be short; before that the
   * error is reported on the reading itself. The scanner has already refused names that are
   * not valid UTF-8, but a \u0000 escape is valid JSON and would cut the name short for any C
   * code reading it. */
  if (key->len == 0)
    {
      set_error (sc, NULL, "field names must not be empty");
      return TRUE;
    }

  if (key->len > MAX_EXTRA_NAME_LEN)
    {
      set_error (sc, NULL, "field name too long (max %d bytes)", MAX_EXTRA_NAME_LEN);
      return TRUE;
    }

  if (memchr (key->text, '\0', key->len) != NULL)
    {
      set_error (sc, NULL, "field name must not contain U+0000");
      return TRUE;
    }

  if (!isfinite (value))
    {
      set_extra_error (sc, key, "must be a finite number");
      return TRUE;
    }

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
  name_start = (*extras)->len;
  append_json_escaped (*extras, key->text, key->len);
  name_len = (*extras)->len - name_start;

  for (i = 0; i < names->n; i++)
    {
      if (names->len[i] == name_len &&
          memcmp ((*extras)->str + names->start[i], (*extras)->str + name_start, name_len) == 0)
        {
          set_extra_error (sc, key, "duplicate field");
          return TRUE;
        }
    }

  if (names->n == MAX_EXTRAS)
    {
      g_autofree char *detail = g_strdup_printf ("too many extra fields (max %d)", MAX_EXTRAS);

      set_extra_error (sc, key, detail);
      return TRUE;
    }

  names->start[names->n] = (guint) name_start;
  names->len[names->n] = (guint) name_len;
  names->n++;

  g_string_append (*extras, "\":");
  append_json_number (*extras, value);

  return TRUE;
}

static gboolean
parse_member (Scanner      *sc,
              const String *key,
              SyReading    *reading,
              guint32      *seen,
              GString     **extras,
              ExtraNames   *extra_names,
              guint         depth)
{
  guint id = key->text != NULL ? lookup_key (key->text, key->len) : KEY_UNKNOWN;

  if (id < KEY_UNKNOWN)
    {
      /* JSON leaves duplicate names undefined and parsers disagree on which one wins, so a
       * duplicate is rejected instead of silently picking one. */
      if ((*seen & (1u << id)) != 0)
        {
          set_error (sc, key_name (id), "duplicate field");
          return skip_value (sc, depth);
        }
      *seen |= 1u << id;
    }

  switch (id)
    {
    case KEY_TIMESTAMP:
      return parse_timestamp (sc, reading, depth);

    case KEY_METER_ID:
      return parse_meter_id (sc, reading, depth);

    case KEY_BREAKER_STATE:
      return parse_breaker_state (sc, reading, depth);

    case KEY_UNKNOWN:
      return parse_extra (sc, key, extras, extra_names, depth);

    default:
      g_assert (id < SY_READING_N_VALUES);
      return parse_value (sc, id, reading, depth);
    }
}

/* Fills @reading, which must be zeroed, from the object at sc->p, which sits @depth containers
 * deep counting itself. On failure @reading may hold allocated strings; the caller clears it. */
static gboolean
parse_reading (Scanner   *sc,
               SyReading *reading,
               guint      depth)
{
  g_autoptr(GString) extras = NULL;
  ExtraNames extra_names;
  guint32 seen = 0;

  g_assert (peek (sc) == '{');

  extra_names.n = 0;
  reading->ts_ms = sc->options->now_ms;

  sc->p++;
  skip_whitespace (sc);

  if (peek (sc) != '}')
    {
      for (;;)
        {
          char key_buf[STRING_BUF_SIZE];
          String key;
          int c;

          if (peek (sc) != '"')
            return syntax_error (sc, sc->p, NULL);
          if (!scan_string (sc, key_buf, sizeof key_buf, &key))
            return FALSE;
          skip_whitespace (sc);
          if (!expect (sc, ':'))
            return FALSE;
          skip_whitespace (sc);

          if (sc->error != NULL)
            {
              if (!skip_value (sc, depth))
                return FALSE;
            }
          else if (!parse_member (sc, &key, reading, &seen, &extras, &extra_names, depth))
            {
              return FALSE;
            }

          skip_whitespace (sc);
          c = peek (sc);
          if (c == '}')
            break;
          if (c != ',')
            return syntax_error (sc, sc->p, NULL);
          sc->p++;
          skip_whitespace (sc);
        }
    }

  sc->p++;

  if (sc->error != NULL)
    return TRUE;

  if (sc->options->allow_meter_id && reading->meter_id == 0)
    {
      set_error (sc, "meter_id", "required for a gateway device");
      return TRUE;
    }

  if (reading->present == 0 && extra_names.n == 0)
    {
      set_error (sc, NULL, "no measurements");
      return TRUE;
    }

  if (extras != NULL)
    {
      g_string_append_c (extras, '}');
      reading->extras_json = g_string_free (g_steal_pointer (&extras), FALSE);
    }

  return TRUE;
}

/* Appends a zeroed reading to @out. It is zeroed by hand because the caller's array need not
 * have been created with clear_ set, and the clear func must never see garbage if we bail out
 * half-way. */
static SyReading *
append_reading (GArray *out)
{
  SyReading *reading;

  g_array_set_size (out, out->len + 1);
  reading = &g_array_index (out, SyReading, out->len - 1);
  memset (reading, 0, sizeof *reading);

  return reading;
}

/* Reads the array at sc->p, @depth containers deep counting itself, appending its readings to
 * @out as they come; the caller empties @out if anything fails. */
static gboolean
parse_readings_array (Scanner *sc,
                      GArray  *out,
                      guint    depth)
{
  guint max_readings = sc->options->max_readings;
  guint n = 0;

  g_assert (peek (sc) == '[');

  sc->p++;
  skip_whitespace (sc);

  if (peek (sc) == ']')
    {
      sc->p++;
      set_field_error (sc, "readings", "must not be empty");
      return TRUE;
    }

  for (;;)
    {
      int c;

      if (max_readings != 0 && n == max_readings)
        {
          /* The size is judged before any reading, whatever the readings before this one said,
           * and the rest of the array is only checked. */
          g_clear_error (&sc->error);
          g_set_error (&sc->error, SY_ERROR, SY_ERROR_TOO_LARGE,
                       "too many readings: at most %u per request", max_readings);
        }

      sc->index = n;

      if (sc->error != NULL)
        {
          if (!skip_value (sc, depth))
            return FALSE;
        }
      else if (peek (sc) != '{')
        {
          set_error (sc, NULL, "must be an object");
          if (!skip_value (sc, depth))
            return FALSE;
        }
      else if (!parse_reading (sc, append_reading (out), depth + 1))
        {
          return FALSE;
        }

      n++;

      skip_whitespace (sc);
      c = peek (sc);
      if (c == ']')
        break;
      if (c != ',')
        return syntax_error (sc, sc->p, NULL);
      sc->p++;
      skip_whitespace (sc);
    }

  sc->p++;

  return TRUE;
}

/* Reads a bulk body of the form {"readings": [...]}. Other members are checked and ignored, and
 * so is any "readings" after the first, as cJSON_GetObjectItem() used to do. */
static gboolean
parse_readings_object (Scanner *sc,
                       GArray  *out)
{
  gboolean found = FALSE;

  g_assert (peek (sc) == '{');

  sc->p++;
  skip_whitespace (sc);

  if (peek (sc) != '}')
    {
      for (;;)
        {
          char key_buf[sizeof "readings"];
          String key;
          int c;

          if (peek (sc) != '"')
            return syntax_error (sc, sc->p, NULL);
          if (!scan_string (sc, key_buf, sizeof key_buf, &key))
            return FALSE;
          skip_whitespace (sc);
          if (!expect (sc, ':'))
            return FALSE;
          skip_whitespace (sc);

          if (!found && key.text != NULL && KEY_IS (key.text, key.len, "readings"))
            {
              found = TRUE;

              if (peek (sc) == '[')
                {
                  sc->style = PATH_READINGS_ARRAY;
                  if (!parse_readings_array (sc, out, 2))
                    return FALSE;
                }
              else
                {
                  set_field_error (sc, "readings", "must be an array");
                  if (!skip_value (sc, 1))
                    return FALSE;
                }
            }
          else if (!skip_value (sc, 1))
            {
              return FALSE;
            }

          skip_whitespace (sc);
          c = peek (sc);
          if (c == '}')
            break;
          if (c != ',')
            return syntax_error (sc, sc->p, NULL);
          sc->p++;
          skip_whitespace (sc);
        }
    }

  sc->p++;

  if (!found)
    set_field_error (sc, "readings",
                     "required: send a JSON array or an object with a \"readings\" array");

  return TRUE;
}

static gboolean
parse_root (Scanner *sc,
            GArray  *out)
{
  int c = peek (sc);

  if (!sc->options->allow_array)
    {
      if (c == '{')
        return parse_reading (sc, append_reading (out), 1);

      set_field_error (sc, "body", "must be a JSON object");
      return skip_value (sc, 0);
    }

  if (c == '[')
    {
      sc->style = PATH_BARE_ARRAY;
      return parse_readings_array (sc, out, 1);
    }

  if (c == '{')
    return parse_readings_object (sc, out);

  set_field_error (sc, "body", "must be a JSON array or an object with a \"readings\" array");
  return skip_value (sc, 0);
}

static gboolean
parse_body (const char                  *body,
            gsize                        len,
            const SyReadingParseOptions *options,
            GArray                      *out,
            GError                     **error)
{
  Scanner sc = { NULL, };

  if (body == NULL)
    {
      sy_error_set_field (error, "body", "empty");
      return FALSE;
    }

  sc.start = (const guchar *) body;
  sc.p = sc.start;
  sc.end = sc.start + len;
  sc.options = options;
  sc.style = PATH_SINGLE;
  sc.max_ts_ms = options->now_ms > G_MAXINT64 - MAX_FUTURE_MS
                 ? G_MAXINT64
                 : options->now_ms + MAX_FUTURE_MS;

  skip_whitespace (&sc);
  if (sc.p == sc.end)
    {
      sy_error_set_field (error, "body", "empty");
      return FALSE;
    }

  if (parse_root (&sc, out))
    {
      skip_whitespace (&sc);
      if (sc.p != sc.end)
        syntax_error (&sc, sc.p, "data after the JSON value");
    }

  if (sc.syntax_at != NULL)
    {
      g_clear_error (&sc.error);
      sy_error_set_field (error, "body", "malformed JSON near byte %" G_GSIZE_FORMAT "%s%s",
                          (gsize) (sc.syntax_at - sc.start),
                          sc.syntax_reason != NULL ? ": " : "",
                          sc.syntax_reason != NULL ? sc.syntax_reason : "");
      return FALSE;
    }

  if (sc.error != NULL)
    {
      g_propagate_error (error, sc.error);
      return FALSE;
    }

  return TRUE;
}

gboolean
_sy_reading_parse (const char                  *body,
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
