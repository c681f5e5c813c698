/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test"

#include "config.h"

#include <string.h>

#include "sy-test-util.h"

static guint
count_fds (SyTestDaemon *daemon)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/fd", g_subprocess_get_identifier (daemon->process));
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;

  return n;
}

/* Reads one whole response (head and Content-Length body) into @buf, NUL-terminated. */
static void
read_response (GInputStream *in,
               char         *buf,
               gsize         size)
{
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  const char *end = NULL;
  gsize want = 0;

  while (end == NULL || len < want)
    {
      gssize n;

      g_assert_cmpuint (len, <, size - 1);
      n = g_input_stream_read (in, buf + len, size - 1 - len, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      len += n;
      buf[len] = '\0';

      if (end == NULL && (end = strstr (buf, "\r\n\r\n")) != NULL)
        {
          const char *cl = g_strstr_len (buf, end - buf, "Content-Length:");

          g_assert_nonnull (cl);
          want = (end - buf) + 4 + g_ascii_strtoull (cl + strlen ("Content-Length:"), NULL, 10);
        }
    }
  g_assert_cmpuint (len, ==, want);
}

/* @n requests on one fresh keep-alive connection that the client then closes. */
static void
requests_and_close (SyTestDaemon *daemon,
                    guint         n_requests)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = g_uri_parse (daemon->base_url, G_URI_FLAGS_NONE, NULL);
  const char *request = "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
  char buf[4096];

  g_socket_client_set_enable_proxy (client, FALSE);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", g_uri_get_port (uri), NULL, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < n_requests; i++)
    {
      g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request, strlen (request),
                                 NULL, NULL, &error);
      g_assert_no_error (error);

      read_response (g_io_stream_get_input_stream (G_IO_STREAM (conn)), buf, sizeof buf);
      g_assert_true (g_str_has_prefix (buf, "HTTP/1.1 200"));
    }

  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
}

/* libsoup 3.2 never closes an idle keep-alive connection that the client closed; the server
 * must reap them, or every such client costs a file descriptor forever. */
static void
test_closed_connections_are_reaped (void)
{
  SyTestDaemon *daemon = sy_test_daemon_new (NULL);
  guint before, after = 0;
  gint64 deadline;

  sy_test_daemon_start (daemon);
  requests_and_close (daemon, 1);
  g_usleep (G_USEC_PER_SEC / 10);
  before = count_fds (daemon);

  /* Several requests per connection: the connection is tracked across requests. */
  for (guint i = 0; i < 50; i++)
    requests_and_close (daemon, 1 + i % 4);

  /* The reaper runs every 2 s. */
  deadline = g_get_monotonic_time () + 8 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      after = count_fds (daemon);
      if (after <= before + 2)
        break;
      g_usleep (G_USEC_PER_SEC / 4);
    }

  g_assert_cmpuint (after, <=, before + 2);

  sy_test_daemon_free (daemon);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/switchyard/api/connections/closed-are-reaped", test_closed_connections_are_reaped);

  return g_test_run ();
}
