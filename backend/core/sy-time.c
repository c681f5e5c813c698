/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-time"

#include "config.h"

#include "sy-time.h"

#define MS_PER_SECOND G_GINT64_CONSTANT (1000)
#define MS_PER_MINUTE G_GINT64_CONSTANT (60000)
#define MS_PER_DAY    G_GINT64_CONSTANT (86400000)

/* Ingestion parses one timestamp per reading, so this file avoids GDateTime (which allocates
 * and consults time zone data) and works on plain integers instead. The calendar arithmetic is
 * Howard Hinnant's days_from_civil/civil_from_days, valid for the whole proleptic Gregorian
 * calendar. */

gint64
sy_time_now_ms (void)
{
  return g_get_real_time () / 1000;
}

static gint64
days_from_civil (gint64 year,
                 guint  month,
                 guint  day)
{
  gint64 era;
  guint year_of_era;
  guint day_of_year;
  guint day_of_era;

  year -= month <= 2;
  era = (year >= 0 ? year : year - 399) / 400;
  year_of_era = (guint) (year - era * 400);
  day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;

  return era * 146097 + (gint64) day_of_era - 719468;
}

static void
civil_from_days (gint64  days,
                 gint64 *out_year,
                 guint  *out_month,
                 guint  *out_day)
{
  gint64 era;
  guint day_of_era;
  guint year_of_era;
  guint day_of_year;
  guint mp;
  guint month;

  days += 719468;
  era = (days >= 0 ? days : days - 146096) / 146097;
  day_of_era = (guint) (days - era * 146097);
  year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  mp = (5 * day_of_year + 2) / 153;
  month = mp < 10 ? mp + 3 : mp - 9;

  *out_year = (gint64) year_of_era + era * 400 + (month <= 2);
  *out_month = month;
  *out_day = day_of_year - (153 * mp + 2) / 5 + 1;
}

static inline gboolean
is_leap_year (guint year)
{
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static guint
days_in_month (guint year,
               guint month)
{
  static const guint8 days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

  if (month == 2 && is_leap_year (year))
    return 29;

  return days[month - 1];
}

/* Reads exactly @n ASCII digits; FALSE if any byte is not a digit. */
static inline gboolean
read_digits (const char *p,
             guint       n,
             guint      *out_value)
{
  guint value = 0;
  guint i;

  for (i = 0; i < n; i++)
    {
      guint digit = (guint) ((unsigned char) p[i] - '0');

      if (digit > 9)
        return FALSE;
      value = value * 10 + digit;
    }

  *out_value = value;
  return TRUE;
}

/**
 * sy_time_parse_iso8601:
 * @text: the timestamp, not necessarily nul-terminated
 * @len: the number of bytes of @text, all of which must be consumed
 * @out_ms: (out) (optional): milliseconds since the Unix epoch, UTC
 *
 * Strictly parses `YYYY-MM-DDTHH:MM:SS[.fraction]` followed by `Z` or a `±HH:MM` / `±HHMM`
 * offset. A time zone is required because a reading without one cannot be placed on the
 * timeline. The separator may also be `t` or a space (RFC 3339 §5.6 permits both), the fraction
 * may have 1 to 9 digits and is truncated to milliseconds, and a leap second (`:60`) is accepted
 * and rolls over into the next minute. Years must be 1970 to 9999.
 *
 * Returns: %TRUE if @text was a valid timestamp
 */
gboolean
sy_time_parse_iso8601 (const char *text,
                       gsize       len,
                       gint64     *out_ms)
{
  const char *p;
  const char *end;
  guint year, month, day, hour, minute, second;
  guint frac_ms = 0;
  gint64 offset_ms = 0;
  gint64 ms;

  /* "YYYY-MM-DDTHH:MM:SSZ" is the shortest valid form. */
  if (text == NULL || len < 20)
    return FALSE;

  p = text;
  end = text + len;

  if (!read_digits (p, 4, &year) || p[4] != '-' ||
      !read_digits (p + 5, 2, &month) || p[7] != '-' ||
      !read_digits (p + 8, 2, &day) ||
      (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
      !read_digits (p + 11, 2, &hour) || p[13] != ':' ||
      !read_digits (p + 14, 2, &minute) || p[16] != ':' ||
      !read_digits (p + 17, 2, &second))
    return FALSE;

  if (year < 1970 || month < 1 || month > 12 ||
      day < 1 || day > days_in_month (year, month) ||
      hour > 23 || minute > 59 || second > 60)
    return FALSE;

  p += 19;

  if (*p == '.')
    {
      guint n_digits = 0;
      guint scale = 100;

      p++;
      while (p < end && *p >= '0' && *p <= '9')
        {
          if (n_digits == 9)
            return FALSE;

          /* Digits past the millisecond are checked but dropped: truncation, not rounding, so
           * that a reading never moves into the next millisecond (or day). */
          frac_ms += (guint) (*p - '0') * scale;
          scale /= 10;
          n_digits++;
          p++;
        }

      if (n_digits == 0)
        return FALSE;
    }

  if (p >= end)
    return FALSE;

  if (*p == 'Z' || *p == 'z')
    {
      p++;
    }
  else if (*p == '+' || *p == '-')
    {
      gboolean negative = *p == '-';
      guint offset_hour, offset_minute;
      gsize rest;

      p++;
      rest = (gsize) (end - p);

      if (rest == 5 && p[2] == ':')
        {
          if (!read_digits (p, 2, &offset_hour) || !read_digits (p + 3, 2, &offset_minute))
            return FALSE;
          p += 5;
        }
      else if (rest == 4)
        {
          if (!read_digits (p, 2, &offset_hour) || !read_digits (p + 2, 2, &offset_minute))
            return FALSE;
          p += 4;
        }
      else
        {
          return FALSE;
        }

      if (offset_hour > 23 || offset_minute > 59)
        return FALSE;

      offset_ms = ((gint64) offset_hour * 60 + offset_minute) * MS_PER_MINUTE;
      if (negative)
        offset_ms = -offset_ms;
    }
  else
    {
      return FALSE;
    }

  if (p != end)
    return FALSE;

  ms = days_from_civil (year, month, day) * MS_PER_DAY
       + ((gint64) hour * 3600 + minute * 60 + second) * MS_PER_SECOND
       + frac_ms
       - offset_ms;

  /* A 1970-01-01 local time east of UTC lands before the epoch; the formatter and every caller
   * assume non-negative timestamps, so such an instant is rejected rather than wrapped. */
  if (ms < 0)
    return FALSE;

  if (out_ms != NULL)
    *out_ms = ms;

  return TRUE;
}

static inline char *
put_2 (char  *p,
       guint  value)
{
  p[0] = (char) ('0' + value / 10);
  p[1] = (char) ('0' + value % 10);
  return p + 2;
}

/**
 * sy_time_append_iso8601:
 * @out: the string to append to
 * @ms: milliseconds since the Unix epoch, UTC
 *
 * Appends @ms as `YYYY-MM-DDTHH:MM:SSZ`, or `YYYY-MM-DDTHH:MM:SS.mmmZ` when it has a millisecond
 * part, so that whole-second timestamps stay short in responses.
 */
void
sy_time_append_iso8601 (GString *out,
                        gint64   ms)
{
  char buf[64];
  char *p = buf;
  gint64 days;
  gint64 ms_of_day;
  gint64 year;
  guint month, day;
  guint seconds_of_day;
  guint millis;

  g_return_if_fail (out != NULL);

  /* Floor division, so that the (unsupported but possible) negative values still produce a
   * well-formed date instead of garbage. */
  days = ms / MS_PER_DAY;
  ms_of_day = ms % MS_PER_DAY;
  if (ms_of_day < 0)
    {
      ms_of_day += MS_PER_DAY;
      days--;
    }

  civil_from_days (days, &year, &month, &day);
  seconds_of_day = (guint) (ms_of_day / MS_PER_SECOND);
  millis = (guint) (ms_of_day % MS_PER_SECOND);

  if (year >= 0 && year <= 9999)
    {
      guint y = (guint) year;

      p = put_2 (p, y / 100);
      p = put_2 (p, y % 100);
    }
  else
    {
      /* Only reachable for absurd inputs; ISO 8601 expanded years keep the output parseable by
       * humans at least. */
      p += g_snprintf (p, 32, "%+" G_GINT64_FORMAT, year);
    }

  *p++ = '-';
  p = put_2 (p, month);
  *p++ = '-';
  p = put_2 (p, day);
  *p++ = 'T';
  p = put_2 (p, seconds_of_day / 3600);
  *p++ = ':';
  p = put_2 (p, seconds_of_day / 60 % 60);
  *p++ = ':';
  p = put_2 (p, seconds_of_day % 60);

  if (millis != 0)
    {
      *p++ = '.';
      *p++ = (char) ('0' + millis / 100);
      p = put_2 (p, millis % 100);
    }

  *p++ = 'Z';

  g_string_append_len (out, buf, p - buf);
}

/**
 * sy_time_format_iso8601:
 * @ms: milliseconds since the Unix epoch, UTC
 *
 * Returns: (transfer full): @ms formatted as by sy_time_append_iso8601()
 */
char *
sy_time_format_iso8601 (gint64 ms)
{
  GString *out = g_string_sized_new (32);

  sy_time_append_iso8601 (out, ms);

  return g_string_free (out, FALSE);
}
