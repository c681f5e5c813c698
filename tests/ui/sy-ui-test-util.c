/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "sy-ui-test-util.h"

/* The fixture every console test shares: a real in-process backend with the demo site on a
 * loopback port in a temp dir, a SyClient with the live stream, and a SyWindow under Xvfb;
 * bounded waits, screenshots into the build dir, and synchronous REST for assertions. */

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until @cond holds; fails the test after @timeout_ms. */
void
wait_for (Condition   cond,
          gpointer    data,
          guint       timeout_ms,
          const char *what)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint tick = g_timeout_add (50, tick_cb, NULL);

  while (!cond (data))
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_source_remove (tick);
          g_test_message ("Timed out after %u ms waiting for %s", timeout_ms, what);
          g_test_fail ();
          g_assert_not_reached ();
        }
      g_main_context_iteration (NULL, TRUE);
    }

  g_source_remove (tick);
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

/* Lets the loop run for @ms (animations, a frame or two). */
void
spin (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;
  guint tick = g_timeout_add (20, tick_cb, NULL);

  while (g_get_monotonic_time () < deadline && !never (NULL))
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
}

void
save_screenshot (GtkWidget  *widget,
                 const char *name)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  GskRenderer *renderer;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);

  /* The paintable shows what the widget last rendered: nothing until its first frame after a
   * change. Let frames happen until there is one (bounded). */
  for (guint attempt = 0; node == NULL; attempt++)
    {
      g_assert_cmpuint (attempt, <, 50);
      if (attempt > 0)
        {
          snapshot = gtk_snapshot_new ();
          gtk_widget_queue_draw (widget);
          spin (100);
        }
      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
    }

  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  path = g_test_build_filename (G_TEST_BUILT, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("Screenshot: %s", path);
}

GtkWidget *
find_named (GtkWidget  *root,
            const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_named (child, name);

      if (found != NULL)
        return found;
    }

  return NULL;
}

void
fixture_setup (ConsoleFixture *fx,
               gconstpointer   data)
{
  static const char * const topics[] = { "data.ingested", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *token = NULL;
  SyBackendConfig config = { 0 };

  fx->dir = g_dir_make_tmp ("sy-ui-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (fx->dir, "switchyard.db", NULL);

  /* For the README's screenshots: start from a copy of a database with some history (made by
   * `switchyardd --demo` running a while, then stopped). The tests never need it. */
  if (g_getenv ("SY_TEST_DB_TEMPLATE") != NULL)
    {
      g_autoptr(GFile) source = g_file_new_for_path (g_getenv ("SY_TEST_DB_TEMPLATE"));
      g_autoptr(GFile) target = g_file_new_for_path (db_path);

      g_file_copy (source, target, G_FILE_COPY_NONE, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
    }

  config.db_path = db_path;
  config.listen_host = (char *) "127.0.0.1";
  config.listen_port = 0;
  config.demo = TRUE;
  fx->backend = sy_backend_new (&config);
  g_assert_true (sy_backend_start (fx->backend, &error));
  g_assert_no_error (error);

  token = sy_backend_dup_admin_token (fx->backend);
  fx->client = sy_client_new (sy_backend_get_base_url (fx->backend), token);
  sy_client_start_stream (fx->client, topics);

  fx->settings = sy_settings_new ();
  fx->window = sy_window_new (NULL, fx->client, fx->settings, GPOINTER_TO_INT (data));
  gtk_window_set_default_size (GTK_WINDOW (fx->window), 1280, 800);
  gtk_window_present (GTK_WINDOW (fx->window));
}

void
fixture_teardown (ConsoleFixture *fx,
                  gconstpointer   data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  gtk_window_destroy (GTK_WINDOW (fx->window));
  spin (100);

  sy_client_stop_stream (fx->client);
  g_clear_object (&fx->client);
  sy_backend_stop (fx->backend);
  g_clear_object (&fx->backend);
  g_assert_finalize_object (fx->settings);

  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fx->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
}

/* REST through the same SyClient, synchronously (bounded). */

typedef struct
{
  gboolean  done;
  JsonNode *node;
  GError   *error;
} Call;

static void
call_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Call *call = user_data;

  call->node = sy_client_request_finish (SY_CLIENT (object), result, &call->error);
  call->done = TRUE;
}

static gboolean
call_done (gpointer data)
{
  return ((Call *) data)->done;
}

JsonObject *
call (ConsoleFixture *fx,
      const char     *method,
      const char     *path,
      const char     *body)
{
  g_autoptr(JsonNode) json = body != NULL ? json_from_string (body, NULL) : NULL;
  Call c = { 0 };
  JsonObject *obj;

  sy_client_request_async (fx->client, method, path, json, NULL, call_cb, &c);
  wait_for (call_done, &c, WAIT_MS, path);
  g_assert_no_error (c.error);
  g_assert_nonnull (c.node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (c.node));
  obj = json_object_ref (json_node_get_object (c.node));
  json_node_unref (c.node);
  return obj;
}

/* A REST call that may fail: the error is returned. */
JsonNode *
try_call (ConsoleFixture  *fx,
          const char      *path,
          GError         **error)
{
  Call c = { 0 };

  sy_client_request_async (fx->client, "GET", path, NULL, NULL, call_cb, &c);
  wait_for (call_done, &c, WAIT_MS, path);
  if (c.error != NULL)
    g_propagate_error (error, c.error);
  return c.node;
}

