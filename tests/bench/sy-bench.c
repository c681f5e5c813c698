/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

/* sy-bench: load generator for the switchyardd ingestion API.
 *
 * It starts a private daemon on a temporary database, provisions a client, a site and meters
 * through the HTTP API, then drives POST /api/energy/energy-data/ (one reading per request) and
 * POST /api/energy/energy-data/bulk over loopback, unsigned and HMAC-signed, and reports
 * readings/s and latency percentiles.
 *
 * The generator shares the machine (typically two cores) with the daemon, so it does as little
 * as possible while measuring: every request (headers, body, signature) is rendered into memory
 * before the timed phase, and a single thread drives all connections with epoll, one request in
 * flight per keep-alive connection (a closed loop, like wrk). Throughput and latency count the
 * 2xx responses that complete inside the measured window; any non-2xx response or transport
 * error, in the warm-up or the measurement, fails the run.
 */

#define G_LOG_DOMAIN "sy-bench"

#include "config.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#define US_PER_S                 G_GINT64_CONSTANT (1000000)
#define MS_PER_DAY               G_GINT64_CONSTANT (86400000)
/* 2025-01-01T00:00:00Z; each meter advances one second per reading from here. */
#define BASE_TIMESTAMP_MS        G_GINT64_CONSTANT (1735689600000)
#define READING_INTERVAL_MS      G_GINT64_CONSTANT (1000)

#define CREATE_CLIENT_TIMEOUT_US (20 * US_PER_S)
#define DAEMON_START_TIMEOUT_US  (20 * US_PER_S)
#define DAEMON_STOP_TIMEOUT_US   (15 * US_PER_S)
#define HTTP_TIMEOUT_S           20
#define CONNECT_TIMEOUT_US       (5 * US_PER_S)
#define REQUEST_TIMEOUT_US       (30 * US_PER_S)
#define TICK_US                  (50 * 1000)
#define RECONNECT_BACKOFF_US     (20 * 1000)

#define ARENA_BLOCK_SIZE         (8 * 1024 * 1024)
#define READ_CHUNK               16384
#define MAX_RESPONSE_SIZE        (4 * 1024 * 1024)
#define MAX_EVENTS               64

/* Requests pre-generated for the warm-up, in readings; the measured pool is then sized from the
 * warm-up rate times POOL_MARGIN, within --max-pool-mb. */
#define WARMUP_READINGS_SINGLE   30000
#define WARMUP_READINGS_BULK     200000
#define POOL_MARGIN              2.0

static volatile sig_atomic_t interrupted = 0;

static char *opt_daemon = NULL;
static char *opt_scenario = NULL;
static double opt_duration = 10.0;
static double opt_warmup = 1.0;
static int opt_connections = 0;
static int opt_bulk_size = 1000;
static int opt_meters = 64;
static int opt_max_pool_mb = 1024;
static gboolean opt_keep_dir = FALSE;

static const GOptionEntry option_entries[] = {
  { "daemon", 'd', 0, G_OPTION_ARG_FILENAME, &opt_daemon,
    "switchyardd executable (default: the argument, else $SY_DAEMON)", "PATH" },
  { "scenario", 's', 0, G_OPTION_ARG_STRING, &opt_scenario,
    "single, bulk or all (default), or one of single_unsigned, single_signed, bulk_unsigned, "
    "bulk_signed", "NAME" },
  { "duration", 't', 0, G_OPTION_ARG_DOUBLE, &opt_duration,
    "Measured seconds per scenario (default 10)", "SECONDS" },
  { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &opt_warmup,
    "Warm-up seconds per scenario, not measured (default 1)", "SECONDS" },
  { "connections", 'c', 0, G_OPTION_ARG_INT, &opt_connections,
    "Keep-alive connections (default 32 for single, 4 for bulk)", "N" },
  { "bulk-size", 'b', 0, G_OPTION_ARG_INT, &opt_bulk_size,
    "Readings per bulk request (default 1000)", "N" },
  { "meters", 'm', 0, G_OPTION_ARG_INT, &opt_meters,
    "Meters per scenario (default 64)", "N" },
  { "max-pool-mb", 0, 0, G_OPTION_ARG_INT, &opt_max_pool_mb,
    "Memory for pre-generated requests (default 1024)", "MIB" },
  { "keep-dir", 'k', 0, G_OPTION_ARG_NONE, &opt_keep_dir,
    "Keep the temporary directory (database) afterwards", NULL },
  G_OPTION_ENTRY_NULL
};

typedef struct
{
  const char *key;
  const char *mode;
  const char *signing;
  gboolean    bulk;
  gboolean    sign;
} ScenarioDesc;

static const ScenarioDesc scenario_descs[] = {
  { "single_unsigned", "single", "unsigned", FALSE, FALSE },
  { "single_signed", "single", "signed", FALSE, TRUE },
  { "bulk_unsigned", "bulk", "unsigned", TRUE, FALSE },
  { "bulk_signed", "bulk", "signed", TRUE, TRUE },
};

typedef struct
{
  gint64   id;
  char    *device_key;
  GHmac   *hmac;            /* keyed with the meter's secret; NULL for unsigned meters */
  gint64   next_ts_ms;
  gint64   energy_mwh;
  guint32  rng;
  gint64   base_current_da; /* deciamperes */
} Meter;

typedef struct
{
  const char *data;         /* the whole request: head and body */
  gsize       len;          /* 0: not generated (timestamps ran out) */
  guint       n_readings;
} Request;

typedef struct
{
  GPtrArray *blocks;        /* arena blocks, g_free */
  Request   *requests;
  guint      n_requests;
  guint      next;
  gsize      bytes;
} Pool;

typedef struct
{
  GPtrArray  *meters;       /* Meter */
  gboolean    bulk;
  guint       bulk_size;
  const char *path;
  const char *host;
  gint64      ts_limit_ms;
} GenSpec;

typedef struct
{
  const GenSpec *spec;
  guint          thread_index;
  guint          n_threads;
  Request       *requests;
  guint          n_requests;
  GPtrArray     *blocks;
  char          *cur;
  gsize          left;
  gsize          bytes;
} GenJob;

typedef struct
{
  guint64   non2xx;
  guint64   errors;
  guint64   reconnects;
  char     *first_failure;
  gboolean  fatal;          /* daemon unreachable or unresponsive: skip what is left */
} Failures;

typedef struct
{
  const ScenarioDesc *desc;
  gboolean            ran;
  guint               connections;
  guint               bulk_size;
  guint               meters;
  double              window_s;
  guint64             requests;
  guint64             readings;
  double              requests_per_s;
  double              readings_per_s;
  double              p50_ms;
  double              p90_ms;
  double              p99_ms;
  double              max_ms;
  double              client_cpu_pct;  /* sy-bench's own CPU use in the window, % of one core */
  gboolean            exhausted;
  Failures            failures;
} ScenarioResult;

typedef enum
{
  CONN_CLOSED,
  CONN_CONNECTING,
  CONN_IDLE,
  CONN_SENDING,
  CONN_RECEIVING,
} ConnState;

typedef struct
{
  int            fd;
  ConnState      state;
  const Request *request;
  gsize          sent;
  gint64         started_us;
  gint64         retry_at_us;
  GByteArray    *in;
} Conn;

typedef struct
{
  int                 epfd;
  struct sockaddr_in  addr;
  Conn               *conns;
  guint               n_conns;
  Pool               *pool;
  Failures           *failures;
  const char         *label;
  gboolean            record_latencies;
  gboolean            started;
  gboolean            stopping;
  gboolean            exhausted;
  gboolean            aborted;
  gint64              window_start_us;
  gint64              window_end_us;
  guint               in_flight;
  guint               pending_reconnects;
  guint               connect_failures;
  guint64             ok_requests;
  guint64             ok_readings;
  guint64             completed;
  GArray             *latencies_us;
} Phase;

typedef enum
{
  PARSE_INCOMPLETE,
  PARSE_DONE,
  PARSE_ERROR,
} ParseResult;

typedef struct
{
  guint    status;
  gboolean close;
  gboolean chunked;
  gsize    body_start;
  gsize    end;
} Response;

typedef struct
{
  char        *daemon_path;
  char        *tmp_dir;
  char        *db_path;
  char        *client_id;
  char        *client_secret;
  GSubprocess *daemon;
  guint16      port;
  char        *host;
  char        *base_url;
  SoupSession *session;
  char        *token;
  gint64       site_id;
} Bench;

static void
on_interrupt (int signum)
{
  interrupted = 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */
/* ------------------------------------------------------------------------------------------ */

static void
failures_note (Failures   *failures,
               const char *format,
               ...) G_GNUC_PRINTF (2, 3);

static void
failures_note (Failures   *failures,
               const char *format,
               ...)
{
  va_list args;

  if (failures->first_failure != NULL)
    return;

  va_start (args, format);
  failures->first_failure = g_strdup_vprintf (format, args);
  va_end (args);
}

/* A printable, length-limited copy of a response body for error messages. */
static char *
printable_excerpt (const char *data,
                   gsize       len)
{
  GString *out = g_string_sized_new (MIN (len, 1024) + 16);
  gsize i;

  for (i = 0; i < len && i < 1024; i++)
    {
      unsigned char c = (unsigned char) data[i];

      g_string_append_c (out, (c >= 0x20 && c < 0x7f) || c == '\n' ? (char) c : '?');
    }
  if (len > 1024)
    g_string_append (out, "...");

  return g_string_free (out, FALSE);
}

static void
append_json_string (GString    *out,
                    const char *text)
{
  const char *p;

  if (text == NULL)
    {
      g_string_append (out, "null");
      return;
    }

  g_string_append_c (out, '"');
  for (p = text; *p != '\0'; p++)
    {
      unsigned char c = (unsigned char) *p;

      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c < 0x20 || c >= 0x7f)
        {
          /* printable_excerpt() already replaced bytes >= 0x7f; be safe anyway. */
          g_string_append_printf (out, "\\u%04x", c < 0x20 ? c : (guint) '?');
        }
      else
        {
          g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

static gboolean
remove_tree (const char  *path,
             GError     **error)
{
  GStatBuf st;

  if (g_lstat (path, &st) != 0)
    return TRUE;

  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, error);
      const char *name;

      if (dir == NULL)
        return FALSE;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (!remove_tree (child, error))
            return FALSE;
        }
    }

  if (g_remove (path) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Could not remove %s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

/* Nearest-rank percentile of a sorted array of microseconds, in milliseconds. */
static double
percentile_ms (GArray *sorted_us,
               double  percent)
{
  gsize rank;

  if (sorted_us->len == 0)
    return 0.0;

  rank = (gsize) ceil (percent / 100.0 * sorted_us->len);
  rank = CLAMP (rank, 1, sorted_us->len);

  return g_array_index (sorted_us, gint64, rank - 1) / 1000.0;
}

static void
format_ms (char   *buf,
           gsize   size,
           double  ms)
{
  if (ms < 1.0)
    g_snprintf (buf, size, "%.3fms", ms);
  else if (ms < 10.0)
    g_snprintf (buf, size, "%.2fms", ms);
  else
    g_snprintf (buf, size, "%.1fms", ms);
}

/* ------------------------------------------------------------------------------------------ */
/* Request generation                                                                         */
/* ------------------------------------------------------------------------------------------ */

static inline guint32
meter_random (Meter *meter)
{
  guint32 x = meter->rng;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  meter->rng = x;

  return x;
}

/* Appends @value / 10^@decimals with exactly @decimals decimals; much cheaper than "%.*f". */
static void
append_fixed (GString *out,
              gint64   value,
              guint    decimals)
{
  char buf[32];
  char *p = buf + sizeof buf;
  guint64 v = value < 0 ? (guint64) -value : (guint64) value;
  guint i;

  for (i = 0; i < decimals; i++)
    {
      *--p = (char) ('0' + v % 10);
      v /= 10;
    }
  if (decimals > 0)
    *--p = '.';
  do
    {
      *--p = (char) ('0' + v % 10);
      v /= 10;
    }
  while (v > 0);
  if (value < 0)
    *--p = '-';

  g_string_append_len (out, p, (gssize) (buf + sizeof buf - p));
}

static inline void
put_digits (char  *p,
            guint  value,
            guint  n)
{
  while (n-- > 0)
    {
      p[n] = (char) ('0' + value % 10);
      value /= 10;
    }
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" for non-negative @ms (Hinnant's civil_from_days). */
static void
append_timestamp (GString *out,
                  gint64   ms)
{
  char buf[24];
  gint64 days = ms / MS_PER_DAY;
  guint ms_of_day = (guint) (ms % MS_PER_DAY);
  gint64 era;
  guint day_of_era, year_of_era, day_of_year, mp, month, day;
  gint64 year;

  days += 719468;
  era = days / 146097;
  day_of_era = (guint) (days - era * 146097);
  year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  mp = (5 * day_of_year + 2) / 153;
  day = day_of_year - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = (gint64) year_of_era + era * 400 + (month <= 2);

  put_digits (buf, (guint) year, 4);
  buf[4] = '-';
  put_digits (buf + 5, month, 2);
  buf[7] = '-';
  put_digits (buf + 8, day, 2);
  buf[10] = 'T';
  put_digits (buf + 11, ms_of_day / 3600000, 2);
  buf[13] = ':';
  put_digits (buf + 14, ms_of_day / 60000 % 60, 2);
  buf[16] = ':';
  put_digits (buf + 17, ms_of_day / 1000 % 60, 2);
  buf[19] = '.';
  put_digits (buf + 20, ms_of_day % 1000, 3);
  buf[23] = 'Z';

  g_string_append_len (out, buf, sizeof buf);
}

/* One plausible three-phase reading; advances the meter's clock and energy register. */
static void
append_reading (GString *out,
                Meter   *meter)
{
  static const char *const voltage_names[3] = {
    ",\"voltage_a\":", ",\"voltage_b\":", ",\"voltage_c\":"
  };
  static const char *const current_names[3] = {
    ",\"current_a\":", ",\"current_b\":", ",\"current_c\":"
  };
  gint64 voltage_dv[3];
  gint64 current_da[3];
  gint64 power_factor_c;
  gint64 frequency_chz;
  gint64 power_dw;
  guint k;

  for (k = 0; k < 3; k++)
    {
      /* 229.0-231.0 V: a stiff grid's noise. Wider per-phase swings (the 225-235 V this used
       * before the PQ detector existed) open and close an imbalance event on most readings,
       * which measures event writing, not ingestion. */
      voltage_dv[k] = 2290 + meter_random (meter) % 21;
      current_da[k] = meter->base_current_da * (90 + meter_random (meter) % 21) / 100;
    }
  power_factor_c = 90 + meter_random (meter) % 11;
  frequency_chz = 4995 + meter_random (meter) % 11;
  /* dV * dA / 100 = W; times pf / 100; in dW. */
  power_dw = (voltage_dv[0] * current_da[0] + voltage_dv[1] * current_da[1] +
              voltage_dv[2] * current_da[2]) * power_factor_c / 1000;
  /* One second at power_dw / 10 W is power_dw / 36 mWh. */
  meter->energy_mwh += power_dw / 36;

  g_string_append (out, "{\"total_power\":");
  append_fixed (out, power_dw, 1);
  g_string_append (out, ",\"total_energy\":");
  append_fixed (out, meter->energy_mwh / 1000, 3);  /* kWh with Wh resolution */
  for (k = 0; k < 3; k++)
    {
      g_string_append (out, voltage_names[k]);
      append_fixed (out, voltage_dv[k], 1);
    }
  for (k = 0; k < 3; k++)
    {
      g_string_append (out, current_names[k]);
      append_fixed (out, current_da[k], 1);
    }
  g_string_append (out, ",\"power_factor\":");
  append_fixed (out, power_factor_c, 2);
  g_string_append (out, ",\"frequency\":");
  append_fixed (out, frequency_chz, 2);
  g_string_append (out, ",\"timestamp\":\"");
  append_timestamp (out, meter->next_ts_ms);
  g_string_append (out, "\"}");

  meter->next_ts_ms += READING_INTERVAL_MS;
}

/* Renders one request for @meter into @head and @body (head ends with the blank line). */
static void
render_request (const GenSpec *spec,
                Meter         *meter,
                GString       *head,
                GString       *body)
{
  guint i;

  g_string_truncate (body, 0);
  if (spec->bulk)
    {
      g_string_append_c (body, '[');
      for (i = 0; i < spec->bulk_size; i++)
        {
          if (i > 0)
            g_string_append_c (body, ',');
          append_reading (body, meter);
        }
      g_string_append_c (body, ']');
    }
  else
    {
      append_reading (body, meter);
    }

  g_string_truncate (head, 0);
  g_string_append (head, "POST ");
  g_string_append (head, spec->path);
  g_string_append (head, " HTTP/1.1\r\nHost: ");
  g_string_append (head, spec->host);
  g_string_append (head, "\r\nUser-Agent: sy-bench\r\nX-Device-Key: ");
  g_string_append (head, meter->device_key);
  g_string_append (head, "\r\nContent-Type: application/json\r\n");
  if (meter->hmac != NULL)
    {
      g_autoptr(GHmac) hmac = g_hmac_copy (meter->hmac);

      g_hmac_update (hmac, (const guchar *) body->str, (gssize) body->len);
      g_string_append (head, "X-Signature: ");
      g_string_append (head, g_hmac_get_string (hmac));  /* lower-case hex */
      g_string_append (head, "\r\n");
    }
  g_string_append (head, "Content-Length: ");
  append_fixed (head, (gint64) body->len, 0);
  g_string_append (head, "\r\n\r\n");
}

static char *
gen_job_alloc (GenJob *job,
               gsize   len)
{
  char *p;

  if (len > job->left)
    {
      gsize size = MAX ((gsize) ARENA_BLOCK_SIZE, len);

      job->cur = g_malloc (size);
      job->left = size;
      job->bytes += size;
      g_ptr_array_add (job->blocks, job->cur);
    }

  p = job->cur;
  job->cur += len;
  job->left -= len;

  return p;
}

/* Request i goes to meter i % n_meters; each thread owns a subset of the meters, so the meters'
 * state is never shared and requests[] entries are written by exactly one thread. */
static gpointer
gen_job_run (gpointer user_data)
{
  GenJob *job = user_data;
  const GenSpec *spec = job->spec;
  g_autoptr(GString) head = g_string_sized_new (512);
  g_autoptr(GString) body = g_string_sized_new (spec->bulk ? spec->bulk_size * 240 + 16 : 512);
  guint n_meters = spec->meters->len;
  guint readings = spec->bulk ? spec->bulk_size : 1;
  guint m;

  for (m = job->thread_index; m < n_meters; m += job->n_threads)
    {
      Meter *meter = g_ptr_array_index (spec->meters, m);
      guint idx;

      for (idx = m; idx < job->n_requests; idx += n_meters)
        {
          Request *request = &job->requests[idx];
          char *data;

          if (meter->next_ts_ms + (gint64) (readings - 1) * READING_INTERVAL_MS > spec->ts_limit_ms)
            break;  /* left with len 0: the pool is cut there */

          render_request (spec, meter, head, body);
          data = gen_job_alloc (job, head->len + body->len);
          memcpy (data, head->str, head->len);
          memcpy (data + head->len, body->str, body->len);
          request->data = data;
          request->len = head->len + body->len;
          request->n_readings = readings;
        }
    }

  return NULL;
}

static void
pool_clear (Pool *pool)
{
  g_clear_pointer (&pool->blocks, g_ptr_array_unref);
  g_clear_pointer (&pool->requests, g_free);
  pool->n_requests = 0;
  pool->next = 0;
  pool->bytes = 0;
}

/* Size of the next request of the first meter, without advancing any meter. */
static gsize
estimate_request_size (const GenSpec *spec)
{
  g_autoptr(GString) head = g_string_new (NULL);
  g_autoptr(GString) body = g_string_new (NULL);
  Meter probe = *(Meter *) g_ptr_array_index (spec->meters, 0);
  gsize signature = probe.hmac != NULL ? strlen ("X-Signature: \r\n") + 64 : 0;

  probe.hmac = NULL;
  render_request (spec, &probe, head, body);

  return head->len + body->len + signature;
}

static void
pool_generate (Pool          *pool,
               const GenSpec *spec,
               guint          n_requests)
{
  guint n_threads = CLAMP (g_get_num_processors (), 1, 8);
  g_autofree GenJob *jobs = NULL;
  g_autofree GThread **threads = NULL;
  guint i;

  n_threads = MIN (n_threads, spec->meters->len);
  pool_clear (pool);
  pool->blocks = g_ptr_array_new_with_free_func (g_free);
  pool->requests = g_new0 (Request, MAX (n_requests, 1));
  pool->n_requests = n_requests;

  jobs = g_new0 (GenJob, n_threads);
  threads = g_new0 (GThread *, n_threads);
  for (i = 0; i < n_threads; i++)
    {
      jobs[i].spec = spec;
      jobs[i].thread_index = i;
      jobs[i].n_threads = n_threads;
      jobs[i].requests = pool->requests;
      jobs[i].n_requests = n_requests;
      jobs[i].blocks = g_ptr_array_new ();
      threads[i] = g_thread_new ("sy-bench-gen", gen_job_run, &jobs[i]);
    }

  for (i = 0; i < n_threads; i++)
    {
      guint b;

      g_thread_join (threads[i]);
      for (b = 0; b < jobs[i].blocks->len; b++)
        g_ptr_array_add (pool->blocks, g_ptr_array_index (jobs[i].blocks, b));
      pool->bytes += jobs[i].bytes;
      g_ptr_array_unref (jobs[i].blocks);
    }

  /* A meter that reached the present stops its share early; keep the complete prefix. */
  for (i = 0; i < n_requests; i++)
    {
      if (pool->requests[i].len == 0)
        {
          g_printerr ("sy-bench: warning: readings would reach the present; pool cut to %u "
                      "requests (use fewer readings per meter: more --meters)\n", i);
          pool->n_requests = i;
          break;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* HTTP/1.1 response parsing                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* memmem() without _GNU_SOURCE. */
static const char *
find_bytes (const char *haystack,
            gsize       len,
            const char *needle,
            gsize       needle_len)
{
  const char *end = haystack + len;
  const char *p = haystack;

  if (len < needle_len)
    return NULL;

  while (p <= end - needle_len)
    {
      p = memchr (p, needle[0], (gsize) (end - needle_len - p) + 1);
      if (p == NULL)
        return NULL;
      if (memcmp (p, needle, needle_len) == 0)
        return p;
      p++;
    }

  return NULL;
}

static gboolean
header_value_has_token (const char *value,
                        gsize       len,
                        const char *token)
{
  gsize token_len = strlen (token);
  gsize i;

  for (i = 0; i + token_len <= len; i++)
    {
      if (g_ascii_strncasecmp (value + i, token, token_len) == 0)
        return TRUE;
    }

  return FALSE;
}

static gboolean
header_name_is (const char *line,
                gsize       name_len,
                const char *name)
{
  return name_len == strlen (name) && g_ascii_strncasecmp (line, name, name_len) == 0;
}

/* Finds the end of a chunked body starting at @offset; appends the payload to @decoded if
 * non-NULL. */
static ParseResult
parse_chunked (const char  *buf,
               gsize        len,
               gsize        offset,
               GString     *decoded,
               gsize       *out_end)
{
  gsize p = offset;

  for (;;)
    {
      const char *line_end = find_bytes (buf + p, len - p, "\r\n", 2);
      guint64 size = 0;
      const char *q;
      gboolean any = FALSE;

      if (line_end == NULL)
        return len - p > 1024 ? PARSE_ERROR : PARSE_INCOMPLETE;

      for (q = buf + p; q < line_end && *q != ';' && *q != ' '; q++)
        {
          int digit = g_ascii_xdigit_value (*q);

          if (digit < 0 || size > MAX_RESPONSE_SIZE)
            return PARSE_ERROR;
          size = size * 16 + (guint64) digit;
          any = TRUE;
        }
      if (!any || size > MAX_RESPONSE_SIZE)
        return PARSE_ERROR;

      p = (gsize) (line_end - buf) + 2;

      if (size == 0)
        {
          /* Optional trailers, then the empty line. */
          for (;;)
            {
              line_end = find_bytes (buf + p, len - p, "\r\n", 2);
              if (line_end == NULL)
                return PARSE_INCOMPLETE;
              if (line_end == buf + p)
                {
                  *out_end = p + 2;
                  return PARSE_DONE;
                }
              p = (gsize) (line_end - buf) + 2;
            }
        }

      if (len - p < size + 2)
        return PARSE_INCOMPLETE;
      if (buf[p + size] != '\r' || buf[p + size + 1] != '\n')
        return PARSE_ERROR;
      if (decoded != NULL)
        g_string_append_len (decoded, buf + p, (gssize) size);
      p += size + 2;
    }
}

static ParseResult
parse_response (const char  *buf,
                gsize        len,
                gboolean     eof,
                Response    *resp,
                const char **error_message)
{
  gsize start = 0;

  for (;;)
    {
      const char *head_end = find_bytes (buf + start, len - start, "\r\n\r\n", 4);
      const char *line;
      const char *status_end;
      gboolean keep_alive;
      gint64 content_length = -1;
      gboolean chunked = FALSE;
      guint status;

      if (head_end == NULL)
        {
          if (len - start > 65536)
            {
              *error_message = "response header too large";
              return PARSE_ERROR;
            }
          return PARSE_INCOMPLETE;
        }

      line = buf + start;
      if (head_end - line < 12 || memcmp (line, "HTTP/1.", 7) != 0 ||
          (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
          !g_ascii_isdigit (line[9]) || !g_ascii_isdigit (line[10]) ||
          !g_ascii_isdigit (line[11]) || (head_end - line > 12 && line[12] != ' ' &&
                                          line[12] != '\r'))
        {
          *error_message = "malformed status line";
          return PARSE_ERROR;
        }
      status = (guint) ((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
      keep_alive = line[7] == '1';

      status_end = find_bytes (line, (gsize) (head_end - line) + 2, "\r\n", 2);
      line = status_end + 2;
      while (line < head_end + 2)
        {
          const char *eol = find_bytes (line, (gsize) (head_end + 2 - line), "\r\n", 2);
          const char *colon = memchr (line, ':', (gsize) (eol - line));
          const char *value;
          gsize value_len;

          if (colon == NULL)
            {
              *error_message = "malformed header line";
              return PARSE_ERROR;
            }

          value = colon + 1;
          while (value < eol && (*value == ' ' || *value == '\t'))
            value++;
          value_len = (gsize) (eol - value);

          if (header_name_is (line, (gsize) (colon - line), "Content-Length"))
            {
              const char *q;

              content_length = 0;
              for (q = value; q < eol && g_ascii_isdigit (*q); q++)
                {
                  content_length = content_length * 10 + (*q - '0');
                  if (content_length > MAX_RESPONSE_SIZE)
                    {
                      *error_message = "response body too large";
                      return PARSE_ERROR;
                    }
                }
              if (q == value)
                {
                  *error_message = "invalid Content-Length";
                  return PARSE_ERROR;
                }
            }
          else if (header_name_is (line, (gsize) (colon - line), "Transfer-Encoding"))
            {
              chunked = header_value_has_token (value, value_len, "chunked");
            }
          else if (header_name_is (line, (gsize) (colon - line), "Connection"))
            {
              if (header_value_has_token (value, value_len, "close"))
                keep_alive = FALSE;
              else if (header_value_has_token (value, value_len, "keep-alive"))
                keep_alive = TRUE;
            }

          line = eol + 2;
        }

      resp->status = status;
      resp->close = !keep_alive;
      resp->chunked = chunked;
      resp->body_start = (gsize) (head_end - buf) + 4;

      /* Interim responses (100 Continue and friends) precede the real one. */
      if (status >= 100 && status < 200 && status != 101)
        {
          start = resp->body_start;
          continue;
        }

      if (status == 204 || status == 304)
        {
          resp->end = resp->body_start;
          return PARSE_DONE;
        }

      if (chunked)
        {
          ParseResult result = parse_chunked (buf, len, resp->body_start, NULL, &resp->end);

          if (result == PARSE_ERROR)
            *error_message = "malformed chunked body";
          return result;
        }

      if (content_length >= 0)
        {
          if (len - resp->body_start < (gsize) content_length)
            return PARSE_INCOMPLETE;
          resp->end = resp->body_start + (gsize) content_length;
          return PARSE_DONE;
        }

      /* No length: the body runs until the server closes the connection. */
      if (len - resp->body_start > MAX_RESPONSE_SIZE)
        {
          *error_message = "response body too large";
          return PARSE_ERROR;
        }
      if (!eof)
        return PARSE_INCOMPLETE;
      resp->end = len;
      resp->close = TRUE;
      return PARSE_DONE;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The load loop: N keep-alive connections, one thread, epoll                                 */
/* ------------------------------------------------------------------------------------------ */

static void conn_start_next (Phase *phase,
                             Conn  *conn);

static void
conn_close (Phase *phase,
            Conn  *conn)
{
  if (conn->fd >= 0)
    {
      close (conn->fd);  /* also removes it from the epoll set */
      conn->fd = -1;
    }
  conn->state = CONN_CLOSED;
  conn->request = NULL;
  g_byte_array_set_size (conn->in, 0);
}

static void
conn_schedule_reconnect (Phase  *phase,
                         Conn   *conn,
                         gint64  delay_us)
{
  conn_close (phase, conn);
  if (phase->stopping)
    return;
  conn->retry_at_us = g_get_monotonic_time () + delay_us;
  phase->pending_reconnects++;
}

static void
conn_fail (Phase      *phase,
           Conn       *conn,
           const char *format,
           ...) G_GNUC_PRINTF (3, 4);

/* A transport-level failure of the request in flight (if any); the connection is replaced. */
static void
conn_fail (Phase      *phase,
           Conn       *conn,
           const char *format,
           ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (conn->state == CONN_SENDING || conn->state == CONN_RECEIVING)
    {
      phase->in_flight--;
      phase->failures->errors++;
      failures_note (phase->failures, "%s: %s", phase->label, message);
    }

  phase->failures->reconnects++;
  conn_schedule_reconnect (phase, conn, RECONNECT_BACKOFF_US);
}

static void
conn_connect_failed (Phase *phase,
                     Conn  *conn,
                     int    error_code)
{
  phase->failures->errors++;
  failures_note (phase->failures, "%s: connect to 127.0.0.1:%u: %s", phase->label,
                 (guint) ntohs (phase->addr.sin_port), g_strerror (error_code));
  conn_close (phase, conn);

  /* Every connection failing over and over means the daemon is gone: give up. */
  if (++phase->connect_failures > 3 * phase->n_conns + 10)
    {
      phase->aborted = TRUE;
      phase->stopping = TRUE;
      return;
    }
  conn_schedule_reconnect (phase, conn, RECONNECT_BACKOFF_US);
}

static void
conn_connected (Phase *phase,
                Conn  *conn)
{
  phase->connect_failures = 0;
  conn->state = CONN_IDLE;
  conn_start_next (phase, conn);
}

static void
conn_connect (Phase *phase,
              Conn  *conn)
{
  struct epoll_event event = { 0 };
  int one = 1;
  int fd;

  fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      conn_connect_failed (phase, conn, errno);
      return;
    }
  conn->fd = fd;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  /* Edge-triggered and registered once: reads always drain to EAGAIN (or to the end of the
   * response), writes go until EAGAIN, so no epoll_ctl() is needed per request. */
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.ptr = conn;
  if (epoll_ctl (phase->epfd, EPOLL_CTL_ADD, fd, &event) != 0)
    {
      conn_connect_failed (phase, conn, errno);
      return;
    }

  if (connect (fd, (const struct sockaddr *) &phase->addr, sizeof phase->addr) == 0)
    {
      conn_connected (phase, conn);
    }
  else if (errno == EINPROGRESS)
    {
      conn->state = CONN_CONNECTING;
      conn->started_us = g_get_monotonic_time ();
    }
  else
    {
      conn_connect_failed (phase, conn, errno);
    }
}

static void
conn_flush (Phase *phase,
            Conn  *conn)
{
  while (conn->sent < conn->request->len)
    {
      gssize n = send (conn->fd, conn->request->data + conn->sent,
                       conn->request->len - conn->sent, MSG_NOSIGNAL);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN)  /* == EWOULDBLOCK on Linux */
            return;
          conn_fail (phase, conn, "send: %s", g_strerror (errno));
          return;
        }
      conn->sent += (gsize) n;
    }

  conn->state = CONN_RECEIVING;
}

static void
conn_start_next (Phase *phase,
                 Conn  *conn)
{
  Pool *pool = phase->pool;

  conn->state = CONN_IDLE;
  if (!phase->started || phase->stopping)
    return;

  if (pool->next >= pool->n_requests)
    {
      /* Out of pre-generated requests: the window ends here, before connections go idle one
       * by one and drag the rate down. */
      if (!phase->exhausted)
        {
          gint64 now = g_get_monotonic_time ();

          phase->exhausted = TRUE;
          phase->window_end_us = MIN (phase->window_end_us, now);
        }
      phase->stopping = TRUE;
      return;
    }

  conn->request = &pool->requests[pool->next++];
  conn->sent = 0;
  conn->state = CONN_SENDING;
  conn->started_us = g_get_monotonic_time ();
  phase->in_flight++;
  conn_flush (phase, conn);
}

static void
conn_finish (Phase          *phase,
             Conn           *conn,
             const Response *resp,
             guint32         events)
{
  gint64 now = g_get_monotonic_time ();
  const Request *request = conn->request;
  const char *data = (const char *) conn->in->data;
  gboolean must_close;

  phase->in_flight--;
  phase->completed++;

  if (resp->status >= 200 && resp->status < 300)
    {
      if (now <= phase->window_end_us)
        {
          phase->ok_requests++;
          phase->ok_readings += request->n_readings;
          if (phase->record_latencies)
            {
              gint64 latency = now - conn->started_us;

              g_array_append_val (phase->latencies_us, latency);
            }
        }
    }
  else
    {
      phase->failures->non2xx++;
      if (phase->failures->first_failure == NULL)
        {
          g_autofree char *excerpt = NULL;

          if (resp->chunked)
            {
              g_autoptr(GString) decoded = g_string_new (NULL);
              gsize end;

              parse_chunked (data, conn->in->len, resp->body_start, decoded, &end);
              excerpt = printable_excerpt (decoded->str, decoded->len);
            }
          else
            {
              excerpt = printable_excerpt (data + resp->body_start, resp->end - resp->body_start);
            }
          failures_note (phase->failures, "%s: HTTP %u: %s", phase->label, resp->status, excerpt);
        }
    }

  /* Closing also when the server half-closed, answered before reading the whole request, or
   * sent more than one response. */
  must_close = resp->close || conn->state == CONN_SENDING ||
               (events & (EPOLLRDHUP | EPOLLHUP)) != 0;
  if (resp->end < conn->in->len)
    {
      phase->failures->errors++;
      failures_note (phase->failures, "%s: %u unexpected bytes after a response", phase->label,
                     (guint) (conn->in->len - resp->end));
      must_close = TRUE;
    }

  conn->request = NULL;
  g_byte_array_set_size (conn->in, 0);

  if (must_close)
    {
      phase->failures->reconnects++;
      conn_schedule_reconnect (phase, conn, 0);
    }
  else
    {
      conn_start_next (phase, conn);
    }
}

static void
conn_read (Phase   *phase,
           Conn    *conn,
           guint32  events)
{
  for (;;)
    {
      guint old_len = conn->in->len;
      const char *error_message = NULL;
      Response resp = { 0 };
      ParseResult result;
      gssize n;
      int saved_errno;

      g_byte_array_set_size (conn->in, old_len + READ_CHUNK);
      n = recv (conn->fd, conn->in->data + old_len, READ_CHUNK, 0);
      saved_errno = errno;
      g_byte_array_set_size (conn->in, old_len + (guint) MAX (n, 0));

      if (n < 0)
        {
          if (saved_errno == EINTR)
            continue;
          if (saved_errno == EAGAIN)  /* == EWOULDBLOCK on Linux */
            return;
          conn_fail (phase, conn, "recv: %s", g_strerror (saved_errno));
          return;
        }

      if (conn->state != CONN_SENDING && conn->state != CONN_RECEIVING)
        {
          if (n == 0)
            {
              /* The server closed an idle keep-alive connection. */
              phase->failures->reconnects++;
              conn_schedule_reconnect (phase, conn, 0);
            }
          else
            {
              conn_fail (phase, conn, "unexpected data on an idle connection");
            }
          return;
        }

      if (conn->in->len > MAX_RESPONSE_SIZE + 65536)
        {
          conn_fail (phase, conn, "response too large");
          return;
        }

      result = parse_response ((const char *) conn->in->data, conn->in->len, n == 0, &resp,
                               &error_message);
      if (result == PARSE_DONE)
        {
          conn_finish (phase, conn, &resp, events);
          return;
        }
      if (result == PARSE_ERROR)
        {
          conn_fail (phase, conn, "bad response: %s", error_message);
          return;
        }
      if (n == 0)
        {
          conn_fail (phase, conn, "%s", conn->in->len == 0
                                        ? "connection closed before the response"
                                        : "connection closed in the middle of the response");
          return;
        }
    }
}

static void
phase_dispatch (Phase  *phase,
                gint64  timeout_us)
{
  struct epoll_event events[MAX_EVENTS];
  int timeout_ms = (int) ((MAX (timeout_us, 0) + 999) / 1000);
  int n;
  int i;

  n = epoll_wait (phase->epfd, events, MAX_EVENTS, timeout_ms);
  if (n < 0)
    {
      if (errno != EINTR)
        {
          phase->failures->errors++;
          failures_note (phase->failures, "%s: epoll_wait: %s", phase->label, g_strerror (errno));
          phase->aborted = TRUE;
        }
      return;
    }

  for (i = 0; i < n; i++)
    {
      Conn *conn = events[i].data.ptr;
      guint32 flags = events[i].events;

      if (conn->fd < 0)
        continue;

      if (conn->state == CONN_CONNECTING)
        {
          int so_error = 0;
          socklen_t so_len = sizeof so_error;

          if ((flags & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
            continue;
          if (getsockopt (conn->fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0)
            so_error = errno;
          if (so_error != 0)
            conn_connect_failed (phase, conn, so_error);
          else
            conn_connected (phase, conn);
          continue;
        }

      if ((flags & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0)
        conn_read (phase, conn, flags);

      if (conn->fd >= 0 && conn->state == CONN_SENDING && (flags & EPOLLOUT) != 0)
        conn_flush (phase, conn);
    }
}

/* Request and connect timeouts, and reconnections that are due. Returns the time until the
 * next reconnection is due (or G_MAXINT64). */
static gint64
phase_maintain (Phase    *phase,
                gint64    now,
                gboolean  check_timeouts)
{
  gint64 next_retry = G_MAXINT64;
  guint i;

  for (i = 0; i < phase->n_conns && (check_timeouts || phase->pending_reconnects > 0); i++)
    {
      Conn *conn = &phase->conns[i];

      switch (conn->state)
        {
        case CONN_CONNECTING:
          if (check_timeouts && now - conn->started_us > CONNECT_TIMEOUT_US)
            conn_connect_failed (phase, conn, ETIMEDOUT);
          break;

        case CONN_SENDING:
        case CONN_RECEIVING:
          if (check_timeouts && now - conn->started_us > REQUEST_TIMEOUT_US)
            {
              conn_fail (phase, conn, "no response within %d s",
                         (int) (REQUEST_TIMEOUT_US / US_PER_S));
              phase->failures->fatal = TRUE;
            }
          break;

        case CONN_CLOSED:
          if (conn->retry_at_us == 0 || phase->stopping)
            break;
          if (conn->retry_at_us <= now)
            {
              conn->retry_at_us = 0;
              phase->pending_reconnects--;
              conn_connect (phase, conn);
            }
          else
            {
              next_retry = MIN (next_retry, conn->retry_at_us - now);
            }
          break;

        case CONN_IDLE:
          break;

        default:
          g_assert_not_reached ();
        }
    }

  return next_retry;
}

/* Runs one phase: opens the connections, then sends pool requests for @duration_us (or until the
 * pool runs out), then waits for the requests in flight. */
static void
phase_run (Phase  *phase,
           gint64  duration_us)
{
  gint64 now;
  gint64 deadline;
  gint64 next_tick;
  guint i;

  phase->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (phase->epfd < 0)
    {
      phase->failures->errors++;
      failures_note (phase->failures, "epoll_create1: %s", g_strerror (errno));
      phase->aborted = TRUE;
      return;
    }

  phase->window_end_us = G_MAXINT64;
  for (i = 0; i < phase->n_conns; i++)
    {
      phase->conns[i].fd = -1;
      phase->conns[i].state = CONN_CLOSED;
      phase->conns[i].in = g_byte_array_sized_new (READ_CHUNK * 2);
      conn_connect (phase, &phase->conns[i]);
    }

  /* Connections are opened outside the window. */
  deadline = g_get_monotonic_time () + CONNECT_TIMEOUT_US;
  while (!phase->aborted)
    {
      guint n_idle = 0;
      gint64 next_retry;

      now = g_get_monotonic_time ();
      for (i = 0; i < phase->n_conns; i++)
        n_idle += phase->conns[i].state == CONN_IDLE;
      if (n_idle == phase->n_conns)
        break;
      if (interrupted || now >= deadline)
        {
          phase->failures->errors++;
          failures_note (phase->failures, "%s: only %u of %u connections opened", phase->label,
                         n_idle, phase->n_conns);
          phase->aborted = TRUE;
          break;
        }
      next_retry = phase_maintain (phase, now, TRUE);
      phase_dispatch (phase, MIN (MIN (TICK_US, next_retry), deadline - now));
    }

  if (!phase->aborted)
    {
      phase->started = TRUE;
      phase->window_start_us = g_get_monotonic_time ();
      phase->window_end_us = phase->window_start_us + duration_us;
      for (i = 0; i < phase->n_conns; i++)
        {
          if (phase->conns[i].state == CONN_IDLE)
            conn_start_next (phase, &phase->conns[i]);
        }

      next_tick = phase->window_start_us + TICK_US;
      for (;;)
        {
          gint64 wait_us;
          gint64 next_retry;
          gboolean tick;

          now = g_get_monotonic_time ();
          if (interrupted && !phase->aborted)
            {
              phase->failures->errors++;
              failures_note (phase->failures, "%s: interrupted", phase->label);
              phase->aborted = TRUE;
            }
          if (phase->aborted)
            break;
          if (!phase->stopping && now >= phase->window_end_us)
            phase->stopping = TRUE;
          if (phase->stopping && phase->in_flight == 0)
            break;

          /* Per-request timeouts also bound the drain after the window. */
          tick = now >= next_tick;
          if (tick)
            next_tick = now + TICK_US;
          next_retry = phase_maintain (phase, now, tick);

          wait_us = MIN (next_tick - now, next_retry);
          if (!phase->stopping)
            wait_us = MIN (wait_us, phase->window_end_us - now);
          phase_dispatch (phase, wait_us);
        }
    }

  if (phase->aborted)
    phase->failures->fatal = TRUE;
  if (phase->window_end_us == G_MAXINT64)
    phase->window_end_us = phase->window_start_us = g_get_monotonic_time ();
  else if (phase->aborted)
    phase->window_end_us = MIN (phase->window_end_us, g_get_monotonic_time ());

  for (i = 0; i < phase->n_conns; i++)
    {
      conn_close (phase, &phase->conns[i]);
      g_byte_array_unref (phase->conns[i].in);
    }
  close (phase->epfd);
}

/* ------------------------------------------------------------------------------------------ */
/* Daemon control and the provisioning API                                                    */
/* ------------------------------------------------------------------------------------------ */

static void
child_setup (gpointer user_data)
{
  /* Own process group: a terminal's Ctrl-C reaches only sy-bench, which then stops the daemon
   * with SIGTERM and checks its exit status. And don't leave a daemon behind if sy-bench itself
   * is killed. */
  setpgid (0, 0);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean
wake_up (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Iterates the default main context until *@result is set; cancels @cancellable at @deadline_us
 * (or on SIGINT/SIGTERM if @interruptible). Returns FALSE if it had to cancel. */
static gboolean
wait_for_result (GAsyncResult **result,
                 GCancellable  *cancellable,
                 gint64         deadline_us,
                 gboolean       interruptible)
{
  gboolean cancelled = FALSE;
  guint tick = g_timeout_add (50, wake_up, NULL);

  while (*result == NULL)
    {
      gint64 now = g_get_monotonic_time ();

      if (!cancelled && (now >= deadline_us || (interruptible && interrupted)))
        {
          cancelled = TRUE;
          g_cancellable_cancel (cancellable);
        }
      if (cancelled && now >= deadline_us + 5 * US_PER_S)
        break;  /* cancellation should be immediate; never hang regardless */
      g_main_context_iteration (NULL, TRUE);
    }

  g_source_remove (tick);
  return !cancelled;
}

static gboolean
create_client (Bench   *bench,
               GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  JsonObject *object = NULL;
  guint i;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  proc = g_subprocess_launcher_spawn (launcher, error, bench->daemon_path, "--db", bench->db_path,
                                      "--create-client", "sy-bench", "--scopes", "admin", NULL);
  if (proc == NULL)
    return FALSE;

  g_subprocess_communicate_utf8_async (proc, NULL, cancellable, store_result, &result);
  if (!wait_for_result (&result, cancellable,
                        g_get_monotonic_time () + CREATE_CLIENT_TIMEOUT_US, TRUE))
    {
      g_subprocess_force_exit (proc);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "--create-client did not finish "
                   "within %d s", (int) (CREATE_CLIENT_TIMEOUT_US / US_PER_S));
      return FALSE;
    }
  if (!g_subprocess_communicate_utf8_finish (proc, result, &out, NULL, error))
    return FALSE;
  if (!g_subprocess_get_successful (proc))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "--create-client failed (wait status "
                   "%d); output: %s", g_subprocess_get_status (proc), out != NULL ? out : "");
      return FALSE;
    }

  /* The credentials line is the last line that looks like a JSON object. */
  lines = g_strsplit (out != NULL ? out : "", "\n", -1);
  for (i = g_strv_length (lines); i > 0 && object == NULL; i--)
    {
      const char *line = g_strstrip (lines[i - 1]);
      JsonNode *root;

      if (line[0] != '{' || !json_parser_load_from_data (parser, line, -1, NULL))
        continue;
      root = json_parser_get_root (parser);
      if (JSON_NODE_HOLDS_OBJECT (root))
        object = json_node_get_object (root);
    }

  if (object != NULL)
    {
      bench->client_id =
        g_strdup (json_object_get_string_member_with_default (object, "client_id", NULL));
      bench->client_secret =
        g_strdup (json_object_get_string_member_with_default (object, "client_secret", NULL));
    }
  if (bench->client_id == NULL || bench->client_secret == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "--create-client printed no {\"client_id\", \"client_secret\"} line: %s", out);
      return FALSE;
    }

  return TRUE;
}

/* Forwards the daemon's remaining stdout to our stderr, so it never blocks on a full pipe. */
static gpointer
forward_daemon_stdout (gpointer user_data)
{
  g_autoptr(GDataInputStream) lines = user_data;
  char *line;

  while ((line = g_data_input_stream_read_line (lines, NULL, NULL, NULL)) != NULL)
    {
      g_printerr ("switchyardd: %s\n", line);
      g_free (line);
    }

  return NULL;
}

static gboolean
parse_listening_line (Bench      *bench,
                      const char *line)
{
  static const char prefix[] = "http://127.0.0.1:";
  const char *url = strstr (line, "listening on ");
  const char *port;
  const char *end;
  guint64 value = 0;

  if (url == NULL)
    return FALSE;
  url += strlen ("listening on ");
  if (!g_str_has_prefix (url, prefix))
    return FALSE;

  port = url + strlen (prefix);
  for (end = port; g_ascii_isdigit (*end); end++)
    value = value * 10 + (guint64) (*end - '0');
  if (end == port || end - port > 5 || value == 0 || value > 65535 ||
      (*end != '\0' && *end != '/' && !g_ascii_isspace (*end)))
    return FALSE;

  bench->port = (guint16) value;
  return TRUE;
}

static gboolean
start_daemon (Bench   *bench,
              GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  gint64 deadline = g_get_monotonic_time () + DAEMON_START_TIMEOUT_US;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  bench->daemon = g_subprocess_launcher_spawn (launcher, error, bench->daemon_path,
                                               "--db", bench->db_path,
                                               "--listen", "127.0.0.1:0", NULL);
  if (bench->daemon == NULL)
    return FALSE;

  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bench->daemon));
  g_data_input_stream_set_newline_type (lines, G_DATA_STREAM_NEWLINE_TYPE_ANY);

  while (bench->port == 0)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GAsyncResult) result = NULL;
      g_autofree char *line = NULL;
      g_autoptr(GError) local_error = NULL;

      g_data_input_stream_read_line_async (lines, G_PRIORITY_DEFAULT, cancellable, store_result,
                                           &result);
      if (!wait_for_result (&result, cancellable, deadline, TRUE))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "switchyardd printed no \"listening on http://127.0.0.1:PORT\" line "
                       "within %d s", (int) (DAEMON_START_TIMEOUT_US / US_PER_S));
          return FALSE;
        }

      line = g_data_input_stream_read_line_finish (lines, result, NULL, &local_error);
      if (line == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "switchyardd closed its stdout before listening: %s",
                       local_error != NULL ? local_error->message : "end of file");
          return FALSE;
        }

      if (!parse_listening_line (bench, line))
        {
          g_printerr ("switchyardd: %s\n", line);
          if (strstr (line, "listening on ") != NULL)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "expected \"listening on http://127.0.0.1:PORT\", got \"%s\"", line);
              return FALSE;
            }
        }
    }

  g_thread_unref (g_thread_new ("sy-bench-stdout", forward_daemon_stdout,
                                g_steal_pointer (&lines)));

  bench->host = g_strdup_printf ("127.0.0.1:%u", (guint) bench->port);
  bench->base_url = g_strdup_printf ("http://%s", bench->host);
  return TRUE;
}

/* SIGTERM, then a bounded wait; TRUE only for a clean exit with status 0. */
static gboolean
stop_daemon (Bench   *bench,
             GError **error)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  gboolean finished;

  g_subprocess_send_signal (bench->daemon, SIGTERM);
  g_subprocess_wait_async (bench->daemon, cancellable, store_result, &result);
  finished = wait_for_result (&result, cancellable,
                              g_get_monotonic_time () + DAEMON_STOP_TIMEOUT_US, FALSE);
  if (!finished)
    {
      g_autoptr(GCancellable) kill_cancellable = g_cancellable_new ();
      g_autoptr(GAsyncResult) kill_result = NULL;

      g_subprocess_force_exit (bench->daemon);
      g_subprocess_wait_async (bench->daemon, kill_cancellable, store_result, &kill_result);
      wait_for_result (&kill_result, kill_cancellable, g_get_monotonic_time () + 5 * US_PER_S,
                       FALSE);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "switchyardd did not exit within %d s of SIGTERM; killed",
                   (int) (DAEMON_STOP_TIMEOUT_US / US_PER_S));
      return FALSE;
    }

  if (g_subprocess_get_if_exited (bench->daemon))
    {
      if (g_subprocess_get_exit_status (bench->daemon) == 0)
        return TRUE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "switchyardd exited with status %d after SIGTERM",
                   g_subprocess_get_exit_status (bench->daemon));
      return FALSE;
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "switchyardd was killed by signal %d (%s)",
               g_subprocess_get_term_sig (bench->daemon),
               g_strsignal (g_subprocess_get_term_sig (bench->daemon)));
  return FALSE;
}

/* POSTs @body and returns the JSON object of a 2xx response. */
static JsonObject *
api_post (Bench       *bench,
          const char  *path,
          const char  *content_type,
          const char  *body,
          GError     **error)
{
  g_autofree char *url = g_strconcat (bench->base_url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  g_autoptr(GBytes) request_body = g_bytes_new (body, strlen (body));
  g_autoptr(GBytes) response = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *data;
  gsize size;
  guint status;
  JsonNode *root;

  soup_message_set_request_body_from_bytes (msg, content_type, request_body);
  if (bench->token != NULL)
    {
      g_autofree char *authorization = g_strconcat ("Bearer ", bench->token, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    authorization);
    }

  response = soup_session_send_and_read (bench->session, msg, NULL, error);
  if (response == NULL)
    {
      g_prefix_error (error, "POST %s: ", path);
      return NULL;
    }

  data = g_bytes_get_data (response, &size);
  status = soup_message_get_status (msg);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_autofree char *excerpt = printable_excerpt (data, size);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "POST %s: HTTP %u: %s", path, status,
                   excerpt);
      return NULL;
    }

  if (!json_parser_load_from_data (parser, data != NULL ? data : "", (gssize) size, error))
    {
      g_prefix_error (error, "POST %s: response is not JSON: ", path);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "POST %s: response is not a JSON object", path);
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

static gboolean
provision (Bench   *bench,
           GError **error)
{
  g_autofree char *form = NULL;
  g_autoptr(JsonObject) token = NULL;
  g_autoptr(JsonObject) site = NULL;

  bench->session = soup_session_new_with_options ("timeout", HTTP_TIMEOUT_S,
                                                  "user-agent", "sy-bench", NULL);
  soup_session_set_proxy_resolver (bench->session, NULL);  /* loopback only, never a proxy */

  form = soup_form_encode ("grant_type", "client_credentials",
                           "client_id", bench->client_id,
                           "client_secret", bench->client_secret, NULL);
  token = api_post (bench, "/api/oauth/token", "application/x-www-form-urlencoded", form, error);
  if (token == NULL)
    return FALSE;
  bench->token =
    g_strdup (json_object_get_string_member_with_default (token, "access_token", NULL));
  if (bench->token == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "token response has no access_token");
      return FALSE;
    }

  site = api_post (bench, "/api/energy/sites/", "application/json", "{\"name\":\"Bench\"}", error);
  if (site == NULL)
    return FALSE;
  bench->site_id = json_object_get_int_member_with_default (site, "id", 0);
  if (bench->site_id <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "site response has no id");
      return FALSE;
    }

  return TRUE;
}

static void
meter_free (gpointer data)
{
  Meter *meter = data;

  g_clear_pointer (&meter->hmac, g_hmac_unref);
  g_free (meter->device_key);
  g_free (meter);
}

static GPtrArray *
create_meters (Bench               *bench,
               const ScenarioDesc  *desc,
               guint                n_meters,
               GError             **error)
{
  g_autoptr(GPtrArray) meters = g_ptr_array_new_with_free_func (meter_free);
  guint i;

  for (i = 0; i < n_meters; i++)
    {
      g_autofree char *secret = NULL;
      g_autofree char *body = NULL;
      g_autoptr(JsonObject) object = NULL;
      Meter *meter;

      if (desc->sign)
        {
          secret = g_strdup_printf ("%08x%08x%08x%08x", g_random_int (), g_random_int (),
                                    g_random_int (), g_random_int ());
          body = g_strdup_printf ("{\"name\":\"bench-%s-%u\",\"site_id\":%" G_GINT64_FORMAT ","
                                  "\"kind\":\"load\",\"phases\":3,\"nominal_voltage\":230,"
                                  "\"hmac_secret\":\"%s\",\"require_signature\":true}",
                                  desc->key, i, bench->site_id, secret);
        }
      else
        {
          body = g_strdup_printf ("{\"name\":\"bench-%s-%u\",\"site_id\":%" G_GINT64_FORMAT ","
                                  "\"kind\":\"load\",\"phases\":3,\"nominal_voltage\":230}",
                                  desc->key, i, bench->site_id);
        }

      object = api_post (bench, "/api/energy/meters/", "application/json", body, error);
      if (object == NULL)
        return NULL;

      meter = g_new0 (Meter, 1);
      g_ptr_array_add (meters, meter);
      meter->id = json_object_get_int_member_with_default (object, "id", 0);
      meter->device_key =
        g_strdup (json_object_get_string_member_with_default (object, "device_key", NULL));
      if (meter->device_key == NULL || meter->device_key[0] == '\0' ||
          strpbrk (meter->device_key, "\r\n") != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "meter response has no usable device_key");
          return NULL;
        }
      if (secret != NULL)
        meter->hmac = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) secret, strlen (secret));
      /* Distinct milliseconds per meter exercise the fraction parser; one reading a second. */
      meter->next_ts_ms = BASE_TIMESTAMP_MS + (gint64) ((i * 37) % 1000);
      meter->energy_mwh = (1000 + (gint64) i) * G_GINT64_CONSTANT (1000000);
      meter->rng = 2463534242u ^ (i * 2654435761u);
      if (meter->rng == 0)
        meter->rng = 1;
      meter->base_current_da = 20 + (gint64) (i % 64) * 5;  /* 2 A .. 33.5 A */
    }

  return g_steal_pointer (&meters);
}

/* ------------------------------------------------------------------------------------------ */
/* Scenarios                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static gint64
process_cpu_us (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return 0;

  return (gint64) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * US_PER_S +
         usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

static void
phase_init (Phase          *phase,
            Bench          *bench,
            Pool           *pool,
            ScenarioResult *result,
            const char     *label,
            gboolean        record_latencies)
{
  memset (phase, 0, sizeof *phase);
  phase->addr.sin_family = AF_INET;
  phase->addr.sin_port = htons (bench->port);
  phase->addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  phase->n_conns = result->connections;
  phase->conns = g_new0 (Conn, phase->n_conns);
  phase->pool = pool;
  phase->failures = &result->failures;
  phase->label = label;
  phase->record_latencies = record_latencies;
  phase->latencies_us = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static void
phase_clear (Phase *phase)
{
  g_clear_pointer (&phase->conns, g_free);
  g_clear_pointer (&phase->latencies_us, g_array_unref);
}

static guint
pool_size_for_budget (const GenSpec *spec,
                      guint          wanted,
                      gboolean       verbose)
{
  gsize estimate = estimate_request_size (spec) * 21 / 20 + sizeof (Request);
  gsize budget = (gsize) opt_max_pool_mb * 1024 * 1024;
  gsize max_requests = MAX (budget / estimate, 1);

  if (wanted > max_requests)
    {
      if (verbose)
          g_printerr ("sy-bench: note: --max-pool-mb=%d holds %" G_GSIZE_FORMAT " of the %u "
                    "requests wanted; the window ends early if they run out\n", opt_max_pool_mb,
                    max_requests, wanted);
      return (guint) max_requests;
    }

  return wanted;
}

/* FALSE only if the scenario could not be set up; load failures are counted in @result. */
static gboolean
run_scenario (Bench           *bench,
              ScenarioResult  *result,
              GError         **error)
{
  const ScenarioDesc *desc = result->desc;
  g_autoptr(GPtrArray) meters = NULL;
  g_autofree char *label = g_strdup_printf ("%s %s", desc->mode, desc->signing);
  GenSpec spec = { 0 };
  Pool pool = { 0 };
  Phase phase;
  guint n_requests;
  double rate = 0.0;
  gint64 t0;
  gint64 cpu0;

  meters = create_meters (bench, desc, result->meters, error);
  if (meters == NULL)
    return FALSE;

  spec.meters = meters;
  spec.bulk = desc->bulk;
  spec.bulk_size = result->bulk_size;
  spec.path = desc->bulk ? "/api/energy/energy-data/bulk" : "/api/energy/energy-data/";
  spec.host = bench->host;
  spec.ts_limit_ms = g_get_real_time () / 1000 - 60 * 1000;

  if (opt_warmup > 0)
    {
      g_autofree char *warm_label = g_strconcat (label, " (warm-up)", NULL);
      guint warm_readings = desc->bulk ? WARMUP_READINGS_BULK : WARMUP_READINGS_SINGLE;
      double warm_s;

      n_requests = MAX (warm_readings / result->bulk_size, 2 * result->connections);
      pool_generate (&pool, &spec, pool_size_for_budget (&spec, n_requests, FALSE));

      phase_init (&phase, bench, &pool, result, warm_label, FALSE);
      phase_run (&phase, (gint64) (opt_warmup * US_PER_S));
      warm_s = (phase.window_end_us - phase.window_start_us) / (double) US_PER_S;
      /* Sized from all completions, so a failing daemon does not shrink the pool to nothing. */
      if (warm_s > 0)
        rate = phase.completed / warm_s;
      phase_clear (&phase);
      pool_clear (&pool);
      if (result->failures.fatal)
        return TRUE;  /* nothing sensible to measure */
    }

  if (rate > 0)
    n_requests = (guint) MIN (ceil (rate * opt_duration * POOL_MARGIN) + 4 * result->connections,
                              (double) G_MAXUINT32 / 2);
  else
    n_requests = G_MAXUINT32 / 2;  /* no estimate: fill the budget */
  n_requests = pool_size_for_budget (&spec, n_requests, rate > 0);

  t0 = g_get_monotonic_time ();
  pool_generate (&pool, &spec, n_requests);
  g_printerr ("sy-bench: %s: warm-up %.0f req/s; pre-generated %u requests (%.0f MiB) in %.1f s\n",
              label, rate, pool.n_requests, pool.bytes / 1048576.0,
              (g_get_monotonic_time () - t0) / (double) US_PER_S);

  phase_init (&phase, bench, &pool, result, label, TRUE);
  cpu0 = process_cpu_us ();
  t0 = g_get_monotonic_time ();
  phase_run (&phase, (gint64) (opt_duration * US_PER_S));
  /* Includes connecting and draining; close enough to tell whether the client was a bottleneck. */
  result->client_cpu_pct = 100.0 * (process_cpu_us () - cpu0) /
                           MAX (g_get_monotonic_time () - t0, 1);

  result->ran = TRUE;
  result->exhausted = phase.exhausted;
  result->window_s = (phase.window_end_us - phase.window_start_us) / (double) US_PER_S;
  result->requests = phase.ok_requests;
  result->readings = phase.ok_readings;
  if (result->window_s > 0)
    {
      result->requests_per_s = phase.ok_requests / result->window_s;
      result->readings_per_s = phase.ok_readings / result->window_s;
    }
  g_array_sort (phase.latencies_us, compare_gint64);
  result->p50_ms = percentile_ms (phase.latencies_us, 50);
  result->p90_ms = percentile_ms (phase.latencies_us, 90);
  result->p99_ms = percentile_ms (phase.latencies_us, 99);
  result->max_ms = percentile_ms (phase.latencies_us, 100);
  if (phase.exhausted)
    g_printerr ("sy-bench: note: %s ran out of pre-generated requests after %.2f s; rates are "
                "over that window (raise --max-pool-mb)\n", label, result->window_s);

  phase_clear (&phase);
  pool_clear (&pool);
  return TRUE;
}

static void
print_result (const ScenarioResult *result)
{
  char p50[32], p99[32];
  g_autofree char *conns = g_strdup_printf ("conns=%u", result->connections);
  g_autofree char *size = NULL;

  format_ms (p50, sizeof p50, result->p50_ms);
  format_ms (p99, sizeof p99, result->p99_ms);
  size = result->desc->bulk ? g_strdup_printf ("size=%u ", result->bulk_size) : g_strdup ("");

  g_print ("%-7s %-8s %-9s %srequests=%-8" G_GUINT64_FORMAT " readings/s=%-8.0f p50=%-8s "
           "p99=%-8s non2xx=%" G_GUINT64_FORMAT " errors=%" G_GUINT64_FORMAT
           " client_cpu=%.0f%%%s\n",
           result->desc->mode, result->desc->signing, conns, size, result->requests,
           result->readings_per_s, p50, p99, result->failures.non2xx, result->failures.errors,
           result->client_cpu_pct, result->exhausted ? " (pool exhausted)" : "");

  if (result->failures.non2xx > 0 || result->failures.errors > 0)
    g_printerr ("\nsy-bench: FAIL: %s %s: %" G_GUINT64_FORMAT " non-2xx responses, %"
                G_GUINT64_FORMAT " transport errors; first: %s\n\n",
                result->desc->mode, result->desc->signing, result->failures.non2xx,
                result->failures.errors, result->failures.first_failure);
}

/* Fixed decimals: json-glib would print 13012.3 as 13012.299999999999. */
static void
append_json_number (GString    *out,
                    const char *name,
                    double      value,
                    gboolean    milliseconds)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (milliseconds)
    g_ascii_formatd (buf, sizeof buf, "%.3f", value);
  else
    g_ascii_formatd (buf, sizeof buf, "%.1f", value);
  g_string_append_printf (out, "\"%s\":%s,", name, buf);
}

static char *
results_to_json (const ScenarioResult *results,
                 guint                 n_results)
{
  GString *out = g_string_new ("{");
  guint i;

  for (i = 0; i < n_results; i++)
    {
      const ScenarioResult *r = &results[i];

      if (!r->ran && r->failures.non2xx == 0 && r->failures.errors == 0)
        continue;
      if (out->len > 1)
        g_string_append_c (out, ',');

      g_string_append_printf (out, "\"%s\":{\"connections\":%u,\"bulk_size\":%u,\"meters\":%u,",
                              r->desc->key, r->connections, r->bulk_size, r->meters);
      append_json_number (out, "duration_s", r->window_s, TRUE);
      g_string_append_printf (out, "\"requests\":%" G_GUINT64_FORMAT ",\"readings\":%"
                              G_GUINT64_FORMAT ",", r->requests, r->readings);
      append_json_number (out, "requests_per_s", r->requests_per_s, FALSE);
      append_json_number (out, "readings_per_s", r->readings_per_s, FALSE);
      append_json_number (out, "p50_ms", r->p50_ms, TRUE);
      append_json_number (out, "p90_ms", r->p90_ms, TRUE);
      append_json_number (out, "p99_ms", r->p99_ms, TRUE);
      append_json_number (out, "max_ms", r->max_ms, TRUE);
      append_json_number (out, "client_cpu_pct", r->client_cpu_pct, FALSE);
      g_string_append_printf (out, "\"non2xx\":%" G_GUINT64_FORMAT ",\"errors\":%" G_GUINT64_FORMAT
                              ",\"reconnects\":%" G_GUINT64_FORMAT ",\"pool_exhausted\":%s,"
                              "\"first_failure\":", r->failures.non2xx, r->failures.errors,
                              r->failures.reconnects, r->exhausted ? "true" : "false");
      append_json_string (out, r->failures.first_failure);
      g_string_append_c (out, '}');
    }
  g_string_append_c (out, '}');

  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* main                                                                                       */
/* ------------------------------------------------------------------------------------------ */

static const char summary[] =
  "Starts switchyardd on a temporary database and measures readings/s and latency of\n"
  "POST /api/energy/energy-data/ (single) and /bulk, unsigned and HMAC-signed, over\n"
  "127.0.0.1. Prints one line per scenario and a final \"BENCH {json}\" line; exits 1 on\n"
  "any non-2xx response or error. The daemon is --daemon, else the argument, else $SY_DAEMON.";

static gboolean
select_scenarios (const char  *name,
                  gboolean    *selected,
                  GError     **error)
{
  gboolean any = FALSE;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (scenario_descs); i++)
    {
      const ScenarioDesc *desc = &scenario_descs[i];

      selected[i] = name == NULL || g_str_equal (name, "all") ||
                    g_str_equal (name, desc->mode) || g_str_equal (name, desc->key);
      any |= selected[i];
    }

  if (!any)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Unknown --scenario %s (single, bulk, all, single_unsigned, single_signed, "
                   "bulk_unsigned or bulk_signed)", name);
      return FALSE;
    }

  return TRUE;
}

static void
bench_clear (Bench *bench)
{
  g_clear_object (&bench->session);
  g_clear_object (&bench->daemon);
  g_clear_pointer (&bench->daemon_path, g_free);
  g_clear_pointer (&bench->tmp_dir, g_free);
  g_clear_pointer (&bench->db_path, g_free);
  g_clear_pointer (&bench->client_id, g_free);
  g_clear_pointer (&bench->client_secret, g_free);
  g_clear_pointer (&bench->host, g_free);
  g_clear_pointer (&bench->base_url, g_free);
  g_clear_pointer (&bench->token, g_free);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  ScenarioResult results[G_N_ELEMENTS (scenario_descs)];
  gboolean selected[G_N_ELEMENTS (scenario_descs)] = { FALSE };
  struct sigaction action = { 0 };
  Bench bench = { 0 };
  gboolean ok = TRUE;
  guint i;

  /* Messages in the user's charset, numbers always with a '.' (the output is parsed). */
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  signal (SIGPIPE, SIG_IGN);
  action.sa_handler = on_interrupt;
  sigemptyset (&action.sa_mask);
  sigaction (SIGINT, &action, NULL);
  sigaction (SIGTERM, &action, NULL);

  context = g_option_context_new ("[SWITCHYARDD] - benchmark the switchyardd ingestion API");
  g_option_context_add_main_entries (context, option_entries, NULL);
  g_option_context_set_summary (context, summary);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    goto usage_error;

  /* The command line wins over the environment. */
  if (argc > 2 || (argc > 1 && opt_daemon != NULL))
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "Unexpected argument %s",
                   argv[argc - 1]);
      goto usage_error;
    }
  if (opt_daemon != NULL)
    bench.daemon_path = g_strdup (opt_daemon);
  else if (argc > 1)
    bench.daemon_path = g_strdup (argv[1]);
  else if (g_getenv ("SY_DAEMON") != NULL && g_getenv ("SY_DAEMON")[0] != '\0')
    bench.daemon_path = g_strdup (g_getenv ("SY_DAEMON"));

  if (bench.daemon_path == NULL)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "No daemon: pass --daemon PATH, set SY_DAEMON or give it as an argument");
      goto usage_error;
    }
  if (!(opt_duration > 0 && opt_duration <= 3600) || !(opt_warmup >= 0 && opt_warmup <= 600) ||
      opt_connections < 0 || opt_connections > 512 || opt_bulk_size < 1 ||
      opt_bulk_size > 1000000 || opt_meters < 1 || opt_meters > 100000 || opt_max_pool_mb < 1)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Out of range: --duration (0, 3600], --warmup [0, 600], --connections "
                   "[1, 512], --bulk-size [1, 1000000], --meters [1, 100000], --max-pool-mb >= 1");
      goto usage_error;
    }
  if (!select_scenarios (opt_scenario, selected, &error))
    goto usage_error;

  for (i = 0; i < G_N_ELEMENTS (scenario_descs); i++)
    {
      memset (&results[i], 0, sizeof results[i]);
      results[i].desc = &scenario_descs[i];
      results[i].connections = opt_connections > 0 ? (guint) opt_connections
                                                   : (scenario_descs[i].bulk ? 4 : 32);
      results[i].bulk_size = scenario_descs[i].bulk ? (guint) opt_bulk_size : 1;
      results[i].meters = (guint) opt_meters;
    }

  bench.tmp_dir = g_dir_make_tmp ("sy-bench-XXXXXX", &error);
  if (bench.tmp_dir == NULL)
    goto setup_error;
  bench.db_path = g_build_filename (bench.tmp_dir, "switchyard.db", NULL);

  if (!create_client (&bench, &error) ||
      !start_daemon (&bench, &error) ||
      !provision (&bench, &error))
    goto setup_error;

  g_printerr ("sy-bench: switchyardd on %s, database %s\n", bench.base_url, bench.db_path);

  for (i = 0; i < G_N_ELEMENTS (scenario_descs) && !interrupted; i++)
    {
      if (!selected[i])
        continue;
      if (!run_scenario (&bench, &results[i], &error))
        {
          g_printerr ("sy-bench: error: %s %s: %s\n", scenario_descs[i].mode,
                      scenario_descs[i].signing, error->message);
          g_clear_error (&error);
          ok = FALSE;
          break;
        }
      print_result (&results[i]);
      if (results[i].failures.non2xx > 0 || results[i].failures.errors > 0)
        ok = FALSE;
      if (results[i].failures.fatal && !interrupted)
        {
          g_printerr ("sy-bench: switchyardd is unreachable or unresponsive; skipping the "
                      "remaining scenarios\n");
          break;
        }
    }
  if (interrupted)
    {
      g_printerr ("sy-bench: interrupted\n");
      ok = FALSE;
    }

  json = results_to_json (results, G_N_ELEMENTS (results));
  g_print ("BENCH %s\n", json);
  goto out;

usage_error:
  g_printerr ("sy-bench: %s\nTry --help.\n", error->message);
  g_clear_pointer (&opt_daemon, g_free);
  g_clear_pointer (&opt_scenario, g_free);
  bench_clear (&bench);
  return 1;

setup_error:
  g_printerr ("sy-bench: error: %s\n", error->message);
  g_clear_error (&error);
  ok = FALSE;

out:
  if (bench.daemon != NULL)
    {
      if (stop_daemon (&bench, &error))
        {
          g_printerr ("sy-bench: switchyardd stopped cleanly\n");
        }
      else
        {
          g_printerr ("sy-bench: FAIL: %s\n", error->message);
          g_clear_error (&error);
          ok = FALSE;
        }
    }

  if (bench.tmp_dir != NULL)
    {
      if (opt_keep_dir)
        {
          g_printerr ("sy-bench: kept %s\n", bench.tmp_dir);
        }
      else if (!remove_tree (bench.tmp_dir, &error))
        {
          g_printerr ("sy-bench: warning: %s\n", error->message);
          g_clear_error (&error);
        }
    }

  for (i = 0; i < G_N_ELEMENTS (results); i++)
    g_free (results[i].failures.first_failure);
  g_clear_pointer (&opt_daemon, g_free);
  g_clear_pointer (&opt_scenario, g_free);
  bench_clear (&bench);

  return ok ? 0 : 1;
}
