/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-flatpak"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

/* Checks flatpak/io.github.switchyard.Switchyard.Devel.json without flatpak-builder (which
 * needs the network): the app id, runtime and command, that every module can be fetched
 * reproducibly, and that Switchyard is built last. The checker collects problems instead of
 * asserting, so that the negative cases below prove that it catches each one. */

#define MANIFEST_NAME "io.github.switchyard.Switchyard.Devel.json"

static const char * const required_finish_args[] = {
  "--share=network",
  "--share=ipc",
  "--socket=wayland",
  "--socket=fallback-x11",
  "--device=dri",
};

static void
add_problem (GPtrArray  *problems,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

static void
add_problem (GPtrArray  *problems,
             const char *format,
             ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (problems, g_strdup_vprintf (format, args));
  va_end (args);
}

static const char *
get_string (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static JsonArray *
get_array (JsonObject *object,
           const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  return json_node_get_array (node);
}

static gboolean
array_has_string (JsonArray  *array,
                  const char *value)
{
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (node) &&
          json_node_get_value_type (node) == G_TYPE_STRING &&
          g_strcmp0 (json_node_get_string (node), value) == 0)
        return TRUE;
    }

  return FALSE;
}

static gboolean
is_sha256 (const char *text)
{
  if (text == NULL || strlen (text) != 64)
    return FALSE;

  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;

  return TRUE;
}

static void
check_source (JsonNode   *node,
              const char *module_name,
              guint       index,
              const char *base_dir,
              GPtrArray  *problems)
{
  JsonObject *source;
  const char *type;
  const char *url;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      add_problem (problems, "module %s: source %u is not an object", module_name, index);
      return;
    }

  source = json_node_get_object (node);
  type = get_string (source, "type");
  url = get_string (source, "url");

  if (type == NULL)
    {
      add_problem (problems, "module %s: source %u has no type", module_name, index);
      return;
    }

  if (g_str_equal (type, "archive") || g_str_equal (type, "file"))
    {
      if (url == NULL || !g_str_has_prefix (url, "https://"))
        add_problem (problems, "module %s: %s source %u needs an https url", module_name, type, index);
      if (!is_sha256 (get_string (source, "sha256")))
        add_problem (problems, "module %s: %s source %u needs a sha256 of 64 hex digits",
                     module_name, type, index);
    }
  else if (g_str_equal (type, "git"))
    {
      if (url == NULL || !g_str_has_prefix (url, "https://"))
        add_problem (problems, "module %s: git source %u needs an https url", module_name, index);
      if (get_string (source, "tag") == NULL && get_string (source, "commit") == NULL)
        add_problem (problems, "module %s: git source %u needs a tag or a commit", module_name, index);
    }
  else if (g_str_equal (type, "dir") || g_str_equal (type, "patch"))
    {
      const char *path = get_string (source, "path");
      g_autofree char *full = NULL;

      if (path == NULL)
        {
          add_problem (problems, "module %s: %s source %u has no path", module_name, type, index);
          return;
        }

      full = g_build_filename (base_dir, path, NULL);
      if (!g_file_test (full, g_str_equal (type, "dir") ? G_FILE_TEST_IS_DIR : G_FILE_TEST_IS_REGULAR))
        add_problem (problems, "module %s: %s source %u: %s does not exist", module_name, type, index, path);
    }
}

static void
check_modules (JsonArray  *modules,
               const char *base_dir,
               GPtrArray  *problems)
{
  for (guint i = 0; i < json_array_get_length (modules); i++)
    {
      JsonNode *node = json_array_get_element (modules, i);
      JsonObject *module;
      JsonArray *sources;
      JsonArray *children;
      const char *name;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          /* Module files ("modules": ["foo.json"]) would work, but we keep one manifest. */
          add_problem (problems, "module %u is not an inline object", i);
          continue;
        }

      module = json_node_get_object (node);
      name = get_string (module, "name");
      if (name == NULL || *name == '\0')
        {
          add_problem (problems, "module %u has no name", i);
          name = "(unnamed)";
        }

      /* cJSON was dropped for our own reading scanner; nothing may bring it back. */
      if (strstr (name, "cjson") != NULL)
        add_problem (problems, "module %s: cJSON is not a dependency any more", name);

      sources = get_array (module, "sources");
      if (sources == NULL || json_array_get_length (sources) == 0)
        add_problem (problems, "module %s has no sources", name);
      for (guint j = 0; sources != NULL && j < json_array_get_length (sources); j++)
        check_source (json_array_get_element (sources, j), name, j, base_dir, problems);

      children = get_array (module, "modules");
      if (children != NULL)
        check_modules (children, base_dir, problems);
    }
}

/* Returns the problems found in @root; @base_dir is the folder relative paths start from. */
static GPtrArray *
check_manifest (JsonNode   *root,
                const char *base_dir)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  JsonObject *manifest;
  JsonArray *modules;
  JsonArray *cleanup;
  JsonArray *finish_args;
  const char *runtime_version;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      add_problem (problems, "the manifest is not a JSON object");
      return g_steal_pointer (&problems);
    }

  manifest = json_node_get_object (root);

  if (g_strcmp0 (get_string (manifest, "id"), "io.github.switchyard.Switchyard.Devel") != 0)
    add_problem (problems, "id is not io.github.switchyard.Switchyard.Devel");
  if (g_strcmp0 (get_string (manifest, "runtime"), "org.gnome.Platform") != 0)
    add_problem (problems, "runtime is not org.gnome.Platform");
  if (g_strcmp0 (get_string (manifest, "sdk"), "org.gnome.Sdk") != 0)
    add_problem (problems, "sdk is not org.gnome.Sdk");
  if (g_strcmp0 (get_string (manifest, "command"), "switchyard") != 0)
    add_problem (problems, "command is not switchyard");

  /* Pinned to a release ("44"), not "master" or a moving branch. */
  runtime_version = get_string (manifest, "runtime-version");
  if (runtime_version == NULL || !g_regex_match_simple ("^[0-9]+(\\.[0-9]+)?$", runtime_version, 0, 0))
    add_problem (problems, "runtime-version is not a pinned release");

  finish_args = get_array (manifest, "finish-args");
  for (guint i = 0; i < G_N_ELEMENTS (required_finish_args); i++)
    if (!array_has_string (finish_args, required_finish_args[i]))
      add_problem (problems, "finish-args lacks %s", required_finish_args[i]);

  cleanup = get_array (manifest, "cleanup");
  if (cleanup == NULL || json_array_get_length (cleanup) == 0)
    add_problem (problems, "there is no cleanup list");

  modules = get_array (manifest, "modules");
  if (modules == NULL || json_array_get_length (modules) == 0)
    {
      add_problem (problems, "there are no modules");
      return g_steal_pointer (&problems);
    }

  check_modules (modules, base_dir, problems);

  {
    JsonNode *last_node = json_array_get_element (modules, json_array_get_length (modules) - 1);
    JsonObject *last = JSON_NODE_HOLDS_OBJECT (last_node) ? json_node_get_object (last_node) : NULL;

    if (last == NULL || g_strcmp0 (get_string (last, "name"), "switchyard") != 0)
      add_problem (problems, "switchyard is not the last module");
    else
      {
        if (g_strcmp0 (get_string (last, "buildsystem"), "meson") != 0)
          add_problem (problems, "switchyard is not built with meson");
        if (!array_has_string (get_array (last, "config-opts"), "-Ddevelopment=true"))
          add_problem (problems, "switchyard is not built with -Ddevelopment=true");
      }
  }

  return g_steal_pointer (&problems);
}

static char *
manifest_dir (void)
{
  return g_test_build_filename (G_TEST_DIST, "..", "flatpak", NULL);
}

static JsonNode *
load_manifest (void)
{
  g_autofree char *dir = manifest_dir ();
  g_autofree char *path = g_build_filename (dir, MANIFEST_NAME, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);

  return json_node_copy (json_parser_get_root (parser));
}

static void
assert_no_problems (GPtrArray *problems)
{
  for (guint i = 0; i < problems->len; i++)
    g_test_message ("problem: %s", (const char *) g_ptr_array_index (problems, i));
  g_assert_cmpuint (problems->len, ==, 0);
}

/* Asserts that one of @problems contains @needle. */
static void
assert_problem (GPtrArray  *problems,
                const char *needle)
{
  for (guint i = 0; i < problems->len; i++)
    if (strstr (g_ptr_array_index (problems, i), needle) != NULL)
      return;

  for (guint i = 0; i < problems->len; i++)
    g_test_message ("problem: %s", (const char *) g_ptr_array_index (problems, i));
  g_error ("expected a problem containing \"%s\"", needle);
}

static void
test_manifest_valid (void)
{
  g_autoptr(JsonNode) root = load_manifest ();
  g_autofree char *dir = manifest_dir ();
  g_autoptr(GPtrArray) problems = check_manifest (root, dir);

  assert_no_problems (problems);
}

static JsonObject *
find_module (JsonNode   *root,
             const char *name)
{
  JsonArray *modules = get_array (json_node_get_object (root), "modules");

  for (guint i = 0; i < json_array_get_length (modules); i++)
    {
      JsonObject *module = json_array_get_object_element (modules, i);

      if (g_strcmp0 (get_string (module, "name"), name) == 0)
        return module;
    }

  g_error ("no module %s", name);
  return NULL;
}

static JsonNode *
parse (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);

  return json_node_copy (json_parser_get_root (parser));
}

/* Each broken variant of the real manifest must be caught. */
static void
test_manifest_broken (void)
{
  g_autofree char *dir = manifest_dir ();

  {
    g_autoptr(JsonNode) root = load_manifest ();
    g_autoptr(GPtrArray) problems = NULL;
    JsonObject *manifest = json_node_get_object (root);

    json_object_set_string_member (manifest, "id", "io.github.switchyard.Switchyard");
    json_object_set_string_member (manifest, "runtime-version", "master");
    json_object_set_string_member (manifest, "command", "switchyardd");
    json_object_remove_member (manifest, "cleanup");
    json_array_remove_element (get_array (manifest, "finish-args"), 0);
    problems = check_manifest (root, dir);
    assert_problem (problems, "id is not");
    assert_problem (problems, "runtime-version");
    assert_problem (problems, "command");
    assert_problem (problems, "cleanup");
    assert_problem (problems, "finish-args lacks");
  }

  {
    g_autoptr(JsonNode) root = load_manifest ();
    g_autoptr(GPtrArray) problems = NULL;
    JsonArray *modules = get_array (json_node_get_object (root), "modules");
    g_autoptr(JsonNode) cjson = parse ("{\"name\": \"libcjson\", \"sources\": [{\"type\": \"archive\","
                                       " \"url\": \"https://example.org/cjson.tar.gz\","
                                       " \"sha256\": \"1234\"}]}");

    /* Appended after switchyard: also breaks "switchyard last". */
    json_array_add_element (modules, g_steal_pointer (&cjson));
    problems = check_manifest (root, dir);
    assert_problem (problems, "cJSON");
    assert_problem (problems, "sha256");
    assert_problem (problems, "switchyard is not the last module");
  }

  {
    g_autoptr(JsonNode) root = load_manifest ();
    g_autoptr(GPtrArray) problems = NULL;
    JsonObject *switchyard = find_module (root, "switchyard");
    JsonObject *dir_source = json_array_get_object_element (get_array (switchyard, "sources"), 0);

    json_object_set_string_member (dir_source, "path", "../no-such-folder");
    json_object_remove_member (switchyard, "config-opts");
    problems = check_manifest (root, dir);
    assert_problem (problems, "does not exist");
    assert_problem (problems, "-Ddevelopment=true");
  }

  {
    g_autoptr(JsonNode) root = parse ("{\"id\": \"io.github.switchyard.Switchyard.Devel\","
                                      " \"modules\": [{\"sources\": []},"
                                      " {\"name\": \"tarball\", \"sources\": [{\"type\": \"file\"}]},"
                                      " {\"name\": \"repo\", \"sources\": [{\"type\": \"git\","
                                      " \"url\": \"https://example.org/x.git\"}]}]}");
    g_autoptr(GPtrArray) problems = check_manifest (root, dir);

    assert_problem (problems, "module 0 has no name");
    assert_problem (problems, "has no sources");
    assert_problem (problems, "file source 0 needs an https url");
    assert_problem (problems, "file source 0 needs a sha256");
    assert_problem (problems, "needs a tag or a commit");
    assert_problem (problems, "runtime is not");
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/switchyard/data/flatpak/manifest", test_manifest_valid);
  g_test_add_func ("/switchyard/data/flatpak/checker", test_manifest_broken);

  return g_test_run ();
}
