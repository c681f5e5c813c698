/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test"

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>

#include "sy-test-util.h"

#define START_TIMEOUT_S 20

static SoupSession *
get_session (void)
{
  static SoupSession *session;

  if (session == NULL)
    session = soup_session_new_with_options ("timeout", 30, "idle-timeout", 30, NULL);

  return session;
}

static const char *
daemon_path (void)
{
  const char *path = g_getenv ("SY_DAEMON");

  g_assert_nonnull (path);
  return path;
}

SyTestDaemon *
sy_test_daemon_new (const char * const *extra_args)
{
  SyTestDaemon *daemon = g_new0 (SyTestDaemon, 1);
  g_autoptr(GError) error = NULL;

  daemon->dir = g_dir_make_tmp ("sy-test-XXXXXX", &error);
  g_assert_no_error (error);
  daemon->db_path = g_build_filename (daemon->dir, "switchyard.db", NULL);
  daemon->extra_args = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (daemon->extra_args, g_strdup (extra_args[i]));

  return daemon;
}

typedef struct
{
  GMainLoop *loop;
  char      *line;
  gboolean   timed_out;
} LineWait;

static void
line_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  LineWait *wait = user_data;

  wait->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, NULL);
  g_main_loop_quit (wait->loop);
}

static gboolean
line_timeout_cb (gpointer user_data)
{
  LineWait *wait = user_data;

  wait->timed_out = TRUE;
  g_main_loop_quit (wait->loop);
  return G_SOURCE_REMOVE;
}

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

void
sy_test_daemon_start (SyTestDaemon *daemon)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) stdout_data = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  LineWait wait = { 0 };
  guint timeout_id;
  GSource *source;

  g_assert_null (daemon->process);

  g_ptr_array_add (argv, (char *) daemon_path ());
  g_ptr_array_add (argv, (char *) "--db");
  g_ptr_array_add (argv, daemon->db_path);
  g_ptr_array_add (argv, (char *) "--listen");
  g_ptr_array_add (argv, (char *) "127.0.0.1:0");
  for (guint i = 0; i < daemon->extra_args->len; i++)
    g_ptr_array_add (argv, daemon->extra_args->pdata[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* A test that aborts must not leave a daemon holding meson's pipes open. */
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  daemon->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  g_main_context_push_thread_default (context);
  wait.loop = g_main_loop_new (context, FALSE);
  stdout_data = g_data_input_stream_new (g_subprocess_get_stdout_pipe (daemon->process));
  g_data_input_stream_read_line_async (stdout_data, G_PRIORITY_DEFAULT, NULL, line_read_cb, &wait);
  source = g_timeout_source_new_seconds (START_TIMEOUT_S);
  g_source_set_callback (source, line_timeout_cb, &wait, NULL);
  timeout_id = g_source_attach (source, context);
  g_source_unref (source);
  g_main_loop_run (wait.loop);
  if (!wait.timed_out)
    g_source_destroy (g_main_context_find_source_by_id (context, timeout_id));
  while (wait.line == NULL && !wait.timed_out && g_main_context_iteration (context, FALSE))
    ;
  g_main_loop_unref (wait.loop);
  g_main_context_pop_thread_default (context);

  if (wait.timed_out || wait.line == NULL)
    g_error ("switchyardd did not print its listening line within %d s", START_TIMEOUT_S);

  g_assert_true (g_str_has_prefix (wait.line, "listening on http://127.0.0.1:"));
  g_free (daemon->base_url);
  daemon->base_url = g_strdup (wait.line + strlen ("listening on "));
  g_free (wait.line);
}

static void
wait_exit (SyTestDaemon *daemon,
           gboolean      expect_clean)
{
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_subprocess_get_identifier (daemon->process) == NULL)
        break;
      g_usleep (10000);
    }

  g_subprocess_wait (daemon->process, NULL, &error);
  g_assert_no_error (error);

  if (expect_clean)
    {
      g_assert_true (g_subprocess_get_if_exited (daemon->process));
      g_assert_cmpint (g_subprocess_get_exit_status (daemon->process), ==, 0);
    }

  g_clear_object (&daemon->process);
}

void
sy_test_daemon_stop (SyTestDaemon *daemon)
{
  g_assert_nonnull (daemon->process);
  g_subprocess_send_signal (daemon->process, SIGTERM);
  wait_exit (daemon, TRUE);
}

void
sy_test_daemon_kill (SyTestDaemon *daemon)
{
  g_assert_nonnull (daemon->process);
  g_subprocess_force_exit (daemon->process);
  wait_exit (daemon, FALSE);
}

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

void
sy_test_daemon_free (SyTestDaemon *daemon)
{
  if (daemon->process != NULL)
    sy_test_daemon_stop (daemon);

  rm_rf (daemon->dir);
  g_free (daemon->dir);
  g_free (daemon->db_path);
  g_free (daemon->base_url);
  g_ptr_array_unref (daemon->extra_args);
  g_free (daemon);
}

JsonObject *
sy_test_daemon_create_client (SyTestDaemon *daemon,
                              const char   *name,
                              const char   *scopes)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) node = NULL;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                           daemon_path (), "--db", daemon->db_path,
                           "--create-client", name, "--scopes", scopes, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);

  node = json_from_string (out, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));

  return json_object_ref (json_node_get_object (node));
}

char *
sy_test_daemon_token (SyTestDaemon *daemon,
                      const char   *scopes)
{
  g_autoptr(JsonObject) client = sy_test_daemon_create_client (daemon, "test", scopes);
  g_autofree char *form = NULL;
  g_autoptr(SyTestResponse) res = NULL;
  JsonObject *obj;

  form = soup_form_encode ("grant_type", "client_credentials",
                           "client_id", json_object_get_string_member (client, "client_id"),
                           "client_secret", json_object_get_string_member (client, "client_secret"),
                           NULL);
  res = sy_test_request (daemon, "POST", "/api/oauth/token", NULL,
                         "application/x-www-form-urlencoded", form, -1);
  g_assert_cmpuint (res->status, ==, 200);
  obj = sy_test_response_object (res);

  return g_strdup (json_object_get_string_member (obj, "access_token"));
}

void
sy_test_response_free (SyTestResponse *res)
{
  g_free (res->content_type);
  g_clear_pointer (&res->body, g_bytes_unref);
  g_clear_pointer (&res->json, json_node_unref);
  g_clear_pointer (&res->headers, soup_message_headers_unref);
  g_free (res);
}

SyTestResponse *
sy_test_request (SyTestDaemon       *daemon,
                 const char         *method,
                 const char         *path,
                 const char * const *headers,
                 const char         *content_type,
                 const char         *body,
                 gssize              body_len)
{
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat (daemon->base_url, path, NULL);
  SyTestResponse *res;
  const char *ct;

  msg = soup_message_new (method, url);
  g_assert_nonnull (msg);

  for (guint i = 0; headers != NULL && headers[i] != NULL; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg), headers[i], headers[i + 1]);

  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, body_len < 0 ? strlen (body) : (gsize) body_len);

      soup_message_set_request_body_from_bytes (msg, content_type ? content_type : "application/json", bytes);
    }

  res = g_new0 (SyTestResponse, 1);
  res->body = soup_session_send_and_read (get_session (), msg, NULL, &error);
  g_assert_no_error (error);
  res->status = soup_message_get_status (msg);
  res->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));

  ct = soup_message_headers_get_content_type (res->headers, NULL);
  res->content_type = g_strdup (ct);
  if (ct != NULL && (g_str_equal (ct, "application/json") || g_str_has_suffix (ct, "+json")) &&
      g_bytes_get_size (res->body) > 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      gsize size;
      const char *data = g_bytes_get_data (res->body, &size);

      json_parser_load_from_data (parser, data, size, &error);
      g_assert_no_error (error);
      res->json = json_node_ref (json_parser_get_root (parser));
    }

  return res;
}

SyTestResponse *
sy_test_json (SyTestDaemon *daemon,
              const char   *method,
              const char   *path,
              const char   *token,
              const char   *body)
{
  g_autofree char *auth = token ? g_strconcat ("Bearer ", token, NULL) : NULL;
  const char *headers[] = { "Authorization", auth, NULL };

  return sy_test_request (daemon, method, path, auth ? headers : NULL, NULL, body, -1);
}

JsonObject *
sy_test_response_object (SyTestResponse *res)
{
  if (res->json == NULL || !JSON_NODE_HOLDS_OBJECT (res->json))
    g_error ("Expected a JSON object, got status %u: %.*s", res->status,
             (int) g_bytes_get_size (res->body), (const char *) g_bytes_get_data (res->body, NULL));

  return json_node_get_object (res->json);
}

const char *
sy_test_assert_problem (SyTestResponse *res,
                        guint           status)
{
  JsonObject *obj;
  JsonArray *errors;

  if (res->status != status)
    g_error ("Expected status %u, got %u: %.*s", status, res->status,
             (int) g_bytes_get_size (res->body), (const char *) g_bytes_get_data (res->body, NULL));

  g_assert_cmpstr (res->content_type, ==, "application/problem+json");
  obj = sy_test_response_object (res);
  g_assert_cmpint (json_object_get_int_member (obj, "status"), ==, status);
  g_assert_true (json_object_has_member (obj, "type"));
  g_assert_true (json_object_has_member (obj, "title"));
  g_assert_true (json_object_has_member (obj, "detail"));

  if (!json_object_has_member (obj, "errors"))
    return NULL;

  errors = json_object_get_array_member (obj, "errors");
  g_assert_cmpuint (json_array_get_length (errors), >, 0);

  return json_object_get_string_member (json_array_get_object_element (errors, 0), "field");
}

char *
sy_test_hmac_hex (const char *secret,
                  const char *body)
{
  return g_compute_hmac_for_string (G_CHECKSUM_SHA256, (const guchar *) secret, strlen (secret), body, -1);
}
