/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-crash"

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>

#include "sy-test-util.h"

/* A 201 promises the reading is on disk. Writers keep requests in flight while the daemon is
 * killed (or stopped); after a restart on the same database every acknowledged reading must be
 * there with its values. */

#define IN_FLIGHT        8
#define LOAD_MS          1500
#define ROUNDS           3
#define DRAIN_TIMEOUT_S  20
#define REQUEST_TIMEOUT  10

typedef struct
{
  double power;
  double energy;
} Values;

typedef struct
{
  SyTestDaemon *daemon;
  GMainContext *context;
  SoupSession  *session;
  char         *key;
  gint64        meter;
  gint64        ts_base_ms;
  gint64        next_seq;
  guint         in_flight;
  gboolean      stopping;
  GHashTable   *acked;        /* seq (gint64 *) -> nothing; values follow from seq */
  guint         n_requests;
  guint         n_acked_requests;
  guint         n_failed;
} Load;

typedef struct
{
  Load        *load;
  SoupMessage *msg;
  GArray      *seqs;          /* gint64 */
} Request;

/* Values are a function of the sequence number, so that the check needs no bookkeeping of
 * its own and any mix-up shows. */
static Values
values_for (gint64 seq)
{
  Values v = { seq * 1.5 + 0.25, seq * 0.125 };

  return v;
}

static void
append_reading (GString *out,
                Load    *load,
                gint64   seq)
{
  g_autoptr(GDateTime) ts = NULL;
  g_autofree char *text = NULL;
  Values v = values_for (seq);
  char power[G_ASCII_DTOSTR_BUF_SIZE];
  char energy[G_ASCII_DTOSTR_BUF_SIZE];
  gint64 ms = load->ts_base_ms + seq * 1000;

  ts = g_date_time_new_from_unix_utc (ms / 1000);
  text = g_date_time_format (ts, "%Y-%m-%dT%H:%M:%SZ");
  g_ascii_dtostr (power, sizeof power, v.power);
  g_ascii_dtostr (energy, sizeof energy, v.energy);
  g_string_append_printf (out, "{\"total_power\":%s,\"total_energy\":%s,\"timestamp\":\"%s\"}", power, energy, text);
}

static void start_request (Load *load);

static void
request_free (Request *req)
{
  g_clear_object (&req->msg);
  g_clear_pointer (&req->seqs, g_array_unref);
  g_free (req);
}

static void
request_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Request *req = user_data;
  Load *load = req->load;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  load->in_flight--;

  if (error == NULL && soup_message_get_status (req->msg) == SOUP_STATUS_CREATED)
    {
      for (guint i = 0; i < req->seqs->len; i++)
        {
          gint64 seq = g_array_index (req->seqs, gint64, i);

          g_hash_table_add (load->acked, g_memdup2 (&seq, sizeof seq));
        }
      load->n_acked_requests++;
    }
  else
    {
      /* Before the kill every request must succeed; after it, failing is expected. */
      if (!load->stopping)
        g_error ("request failed before the daemon was stopped: %s (status %u)",
                 error ? error->message : "no error", soup_message_get_status (req->msg));
      load->n_failed++;
    }

  request_free (req);

  if (!load->stopping)
    start_request (load);
}

static void
start_request (Load *load)
{
  g_autoptr(GString) body = g_string_new (NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *url = NULL;
  Request *req;
  gboolean bulk = load->n_requests % 3 == 2;
  guint n = bulk ? 2 + load->n_requests % 4 : 1;

  req = g_new0 (Request, 1);
  req->load = load;
  req->seqs = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n);

  if (bulk)
    g_string_append_c (body, '[');
  for (guint i = 0; i < n; i++)
    {
      gint64 seq = load->next_seq++;

      if (i > 0)
        g_string_append_c (body, ',');
      append_reading (body, load, seq);
      g_array_append_val (req->seqs, seq);
    }
  if (bulk)
    g_string_append_c (body, ']');

  url = g_strconcat (load->daemon->base_url, bulk ? "/api/energy/energy-data/bulk" : "/api/energy/energy-data/", NULL);
  req->msg = soup_message_new ("POST", url);
  soup_message_headers_replace (soup_message_get_request_headers (req->msg), "X-Device-Key", load->key);
  bytes = g_string_free_to_bytes (g_steal_pointer (&body));
  soup_message_set_request_body_from_bytes (req->msg, "application/json", bytes);

  load->n_requests++;
  load->in_flight++;
  soup_session_send_and_read_async (load->session, req->msg, G_PRIORITY_DEFAULT, NULL, request_done_cb, req);
}

static gboolean
flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the private context for @ms while the writers keep IN_FLIGHT requests going. */
static void
run_load (Load  *load,
          guint  ms)
{
  gboolean elapsed = FALSE;
  GSource *timer = g_timeout_source_new (ms);

  g_source_set_callback (timer, flag_cb, &elapsed, NULL);
  g_source_attach (timer, load->context);
  g_source_unref (timer);

  load->stopping = FALSE;
  for (guint i = 0; i < IN_FLIGHT; i++)
    start_request (load);

  while (!elapsed)
    g_main_context_iteration (load->context, TRUE);
}

/* Stops issuing, lets the requests in flight finish (answered or failed) and waits for the
 * daemon to exit. Returns once both happened; fails the test after DRAIN_TIMEOUT_S. */
static void
drain (Load *load)
{
  gboolean timed_out = FALSE;
  GSource *timer = g_timeout_source_new_seconds (DRAIN_TIMEOUT_S);
  g_autoptr(GError) error = NULL;

  g_source_set_callback (timer, flag_cb, &timed_out, NULL);
  g_source_attach (timer, load->context);

  /* GSubprocess watches the child on GLib's worker thread, so the identifier clears without
   * help from this context. */
  while ((load->in_flight > 0 || g_subprocess_get_identifier (load->daemon->process) != NULL) && !timed_out)
    g_main_context_iteration (load->context, load->in_flight > 0);

  g_source_destroy (timer);
  g_source_unref (timer);

  if (timed_out)
    g_error ("%u requests still in flight or the daemon still running after %d s",
             load->in_flight, DRAIN_TIMEOUT_S);

  g_subprocess_wait (load->daemon->process, NULL, &error);
  g_assert_no_error (error);
}

static void
load_init (Load         *load,
           SyTestDaemon *daemon,
           const char   *token)
{
  g_autoptr(SyTestResponse) site = NULL;
  g_autoptr(SyTestResponse) meter = NULL;
  g_autofree char *body = NULL;

  memset (load, 0, sizeof *load);
  load->daemon = daemon;
  load->acked = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  /* A month ago, one reading per second: inside the accepted window for hours of load. */
  load->ts_base_ms = (g_get_real_time () / G_USEC_PER_SEC - 30 * 86400) * 1000;

  site = sy_test_json (daemon, "POST", "/api/energy/sites", token, "{\"name\":\"Crash\"}");
  g_assert_cmpuint (site->status, ==, 201);
  body = g_strdup_printf ("{\"name\":\"Crash\",\"kind\":\"grid\",\"site_id\":%" G_GINT64_FORMAT "}",
                          json_object_get_int_member (sy_test_response_object (site), "id"));
  meter = sy_test_json (daemon, "POST", "/api/energy/meters", token, body);
  g_assert_cmpuint (meter->status, ==, 201);
  load->meter = json_object_get_int_member (sy_test_response_object (meter), "id");
  load->key = g_strdup (json_object_get_string_member (sy_test_response_object (meter), "device_key"));

  /* The session and its callbacks live on a private context, so that nothing else runs them
   * by accident and the test decides when they run. */
  load->context = g_main_context_new ();
  g_main_context_push_thread_default (load->context);
  load->session = soup_session_new_with_options ("timeout", REQUEST_TIMEOUT,
                                                 "max-conns", 2 * IN_FLIGHT,
                                                 "max-conns-per-host", 2 * IN_FLIGHT,
                                                 NULL);
  g_main_context_pop_thread_default (load->context);
}

static void
load_clear (Load *load)
{
  g_clear_object (&load->session);
  /* Let libsoup's pending clean-ups run before the context goes. */
  while (g_main_context_iteration (load->context, FALSE))
    ;
  g_clear_pointer (&load->context, g_main_context_unref);
  g_clear_pointer (&load->acked, g_hash_table_unref);
  g_clear_pointer (&load->key, g_free);
}

/* Every acknowledged reading is stored with its values, and everything stored was sent. */
static void
verify (Load       *load,
        const char *token)
{
  g_autoptr(GHashTable) stored = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key;
  gint64 offset = 0;
  gint64 total = -1;

  for (;;)
    {
      g_autofree char *path = g_strdup_printf ("/api/energy/energy-data/?meter_id=%" G_GINT64_FORMAT
                                               "&limit=1000&offset=%" G_GINT64_FORMAT, load->meter, offset);
      g_autoptr(SyTestResponse) res = sy_test_json (load->daemon, "GET", path, token, NULL);
      JsonObject *page;
      JsonArray *results;
      guint n;

      g_assert_cmpuint (res->status, ==, 200);
      page = sy_test_response_object (res);
      if (total < 0)
        total = json_object_get_int_member (page, "count");
      g_assert_cmpint (json_object_get_int_member (page, "count"), ==, total);
      results = json_object_get_array_member (page, "results");
      n = json_array_get_length (results);

      for (guint i = 0; i < n; i++)
        {
          JsonObject *r = json_array_get_object_element (results, i);
          g_autoptr(GDateTime) ts = g_date_time_new_from_iso8601 (json_object_get_string_member (r, "timestamp"), NULL);
          gint64 ms;
          gint64 seq;
          Values v;

          g_assert_nonnull (ts);
          ms = g_date_time_to_unix (ts) * 1000;
          g_assert_cmpint ((ms - load->ts_base_ms) % 1000, ==, 0);
          seq = (ms - load->ts_base_ms) / 1000;
          g_assert_cmpint (seq, >=, 0);
          g_assert_cmpint (seq, <, load->next_seq);

          v = values_for (seq);
          if (json_object_get_double_member (r, "total_power") != v.power ||
              json_object_get_double_member (r, "total_energy") != v.energy)
            g_error ("reading %" G_GINT64_FORMAT " was stored with wrong values", seq);

          g_assert_false (g_hash_table_contains (stored, &seq));
          g_hash_table_add (stored, g_memdup2 (&seq, sizeof seq));
        }

      offset += n;
      if (n == 0 || offset >= total)
        break;
    }

  g_assert_cmpint (g_hash_table_size (stored), ==, total);

  g_hash_table_iter_init (&iter, load->acked);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      if (!g_hash_table_contains (stored, key))
        g_error ("reading %" G_GINT64_FORMAT " was acknowledged with 201 but is gone after the restart",
                 *(gint64 *) key);
    }

  g_test_message ("%u requests, %u acknowledged (%u readings), %u failed; %" G_GINT64_FORMAT " readings stored",
                  load->n_requests, load->n_acked_requests, g_hash_table_size (load->acked), load->n_failed, total);
}

/* Rollups are written in the readings' transaction: after crashes they still add up. */
static void
verify_rollups (const char *db_path,
                gint64      meter)
{
  static const int resolutions[] = { 60, 900, 3600, 86400 };
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n_readings;
  double sum_power;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*), total(total_power) FROM readings WHERE meter_id = ?",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, meter);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n_readings = sqlite3_column_int64 (stmt, 0);
  sum_power = sqlite3_column_double (stmt, 1);
  sqlite3_finalize (stmt);
  g_assert_cmpint (n_readings, >, 0);

  for (guint i = 0; i < G_N_ELEMENTS (resolutions); i++)
    {
      g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT total(count), total(power_count), total(sum_power) "
                                               "FROM rollups WHERE meter_id = ? AND res_s = ?",
                                           -1, &stmt, NULL), ==, SQLITE_OK);
      sqlite3_bind_int64 (stmt, 1, meter);
      sqlite3_bind_int (stmt, 2, resolutions[i]);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
      g_assert_cmpint ((gint64) sqlite3_column_double (stmt, 0), ==, n_readings);
      g_assert_cmpint ((gint64) sqlite3_column_double (stmt, 1), ==, n_readings);
      g_assert_cmpfloat_with_epsilon (sqlite3_column_double (stmt, 2), sum_power, fabs (sum_power) * 1e-12 + 1e-6);
      sqlite3_finalize (stmt);
    }

  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

static void
test_sigkill (void)
{
  SyTestDaemon *daemon = sy_test_daemon_new (NULL);
  g_autofree char *token = NULL;
  Load load;

  sy_test_daemon_start (daemon);
  token = sy_test_daemon_token (daemon, "admin");
  load_init (&load, daemon, token);

  for (guint round = 0; round < ROUNDS; round++)
    {
      guint acked_before = g_hash_table_size (load.acked);

      g_main_context_push_thread_default (load.context);
      run_load (&load, LOAD_MS);
      g_assert_cmpuint (load.in_flight, ==, IN_FLIGHT);

      /* Pull the plug with requests in flight. */
      load.stopping = TRUE;
      g_subprocess_force_exit (daemon->process);
      drain (&load);
      g_main_context_pop_thread_default (load.context);

      g_assert_true (g_subprocess_get_if_signaled (daemon->process));
      g_assert_cmpint (g_subprocess_get_term_sig (daemon->process), ==, SIGKILL);
      g_clear_object (&daemon->process);

      /* Each round must have acknowledged something, or it proves nothing. */
      g_assert_cmpuint (g_hash_table_size (load.acked), >, acked_before);

      sy_test_daemon_start (daemon);
      verify (&load, token);
    }

  sy_test_daemon_stop (daemon);
  verify_rollups (daemon->db_path, load.meter);

  load_clear (&load);
  sy_test_daemon_free (daemon);
}

static void
test_sigterm (void)
{
  SyTestDaemon *daemon = sy_test_daemon_new (NULL);
  g_autofree char *token = NULL;
  Load load;

  sy_test_daemon_start (daemon);
  token = sy_test_daemon_token (daemon, "admin");
  load_init (&load, daemon, token);

  g_main_context_push_thread_default (load.context);
  run_load (&load, LOAD_MS);
  g_assert_cmpuint (load.in_flight, ==, IN_FLIGHT);

  /* A clean stop under load: finish what was accepted, flush, exit 0. */
  load.stopping = TRUE;
  g_subprocess_send_signal (daemon->process, SIGTERM);
  drain (&load);
  g_main_context_pop_thread_default (load.context);

  g_assert_true (g_subprocess_get_if_exited (daemon->process));
  g_assert_cmpint (g_subprocess_get_exit_status (daemon->process), ==, 0);
  g_clear_object (&daemon->process);
  g_assert_cmpuint (g_hash_table_size (load.acked), >, 0);

  /* A clean shutdown leaves a checkpointed database: no WAL content to replay. */
  {
    g_autofree char *wal = g_strconcat (daemon->db_path, "-wal", NULL);
    GStatBuf st;

    if (g_stat (wal, &st) == 0)
      g_assert_cmpint (st.st_size, ==, 0);
  }

  verify_rollups (daemon->db_path, load.meter);

  sy_test_daemon_start (daemon);
  verify (&load, token);
  sy_test_daemon_stop (daemon);

  load_clear (&load);
  sy_test_daemon_free (daemon);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/switchyard/api/crash/sigkill", test_sigkill);
  g_test_add_func ("/switchyard/api/crash/sigterm", test_sigterm);

  return g_test_run ();
}
