/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-schema"

#include "config.h"

#include <gio/gio.h>

/* The compiled GSettings schema (GSETTINGS_SCHEMA_DIR=<build>/data) is the contract SySettings is
 * written against: exactly these keys, with these types, defaults and ranges. */

typedef struct
{
  const char *name;
  const char *type;
  const char *default_value;  /* GVariant text */
  const char *range;          /* GVariant text of g_settings_schema_key_get_range (), or NULL */
} KeySpec;

static const KeySpec keys[] = {
  { "power-unit", "s", "'auto'", "('enum', <['auto', 'w', 'kw', 'mw']>)" },
  { "color-scheme", "s", "'default'", "('enum', <['default', 'light', 'dark']>)" },
  { "kiosk-pages", "as", "['overview', 'meters']", NULL },
  { "kiosk-cycle-seconds", "u", "uint32 30", "('range', <(uint32 5, uint32 3600)>)" },
  { "kiosk-pin-hash", "s", "''", NULL },
  { "stale-after-seconds", "u", "uint32 10", "('range', <(uint32 2, uint32 600)>)" },
  { "window-width", "i", "1200", NULL },
  { "window-height", "i", "800", NULL },
  { "window-maximized", "b", "false", NULL },
  { "last-page", "s", "'overview'", NULL },
};

static GSettingsSchema *
lookup_schema (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  GSettingsSchema *schema;

  g_assert_nonnull (source);
  schema = g_settings_schema_source_lookup (source, APP_ID, FALSE);
  if (schema == NULL)
    g_error ("schema %s not found in GSETTINGS_SCHEMA_DIR=%s", APP_ID, g_getenv ("GSETTINGS_SCHEMA_DIR"));

  return schema;
}

static void
test_schema_id (void)
{
  g_autoptr(GSettingsSchema) schema = lookup_schema ();
  g_autofree char *path = g_strdelimit (g_strdup_printf ("/%s/", APP_ID), ".", '/');

  g_assert_cmpstr (g_settings_schema_get_id (schema), ==, APP_ID);
  g_assert_cmpstr (g_settings_schema_get_path (schema), ==, path);
}

static void
test_schema_keys (void)
{
  g_autoptr(GSettingsSchema) schema = lookup_schema ();
  g_auto(GStrv) names = g_settings_schema_list_keys (schema);

  g_assert_cmpuint (g_strv_length (names), ==, G_N_ELEMENTS (keys));

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GSettingsSchemaKey) key = NULL;
      g_autoptr(GVariant) default_value = NULL;
      g_autoptr(GVariant) range = NULL;
      g_autofree char *default_text = NULL;
      g_autofree char *range_text = NULL;

      g_test_message ("key %s", keys[i].name);
      g_assert_true (g_settings_schema_has_key (schema, keys[i].name));
      key = g_settings_schema_get_key (schema, keys[i].name);

      g_assert_cmpstr (g_variant_type_peek_string (g_settings_schema_key_get_value_type (key)),
                       ==, keys[i].type);

      default_value = g_settings_schema_key_get_default_value (key);
      default_text = g_variant_print (default_value, TRUE);
      g_assert_cmpstr (default_text, ==, keys[i].default_value);

      range = g_settings_schema_key_get_range (key);
      range_text = g_variant_print (range, TRUE);
      if (keys[i].range != NULL)
        g_assert_cmpstr (range_text, ==, keys[i].range);
      else
        g_assert_true (g_str_has_prefix (range_text, "('type'"));

      /* Every key is documented, so gsettings and dconf-editor can explain it. */
      g_assert_nonnull (g_settings_schema_key_get_summary (key));
      g_assert_nonnull (g_settings_schema_key_get_description (key));
    }
}

static gboolean
in_range (GSettingsSchemaKey *key,
          GVariant           *value)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);

  return g_settings_schema_key_range_check (key, owned);
}

/* Out-of-range values are refused, so SySettings can trust what it reads. */
static void
test_schema_ranges (void)
{
  g_autoptr(GSettingsSchema) schema = lookup_schema ();
  g_autoptr(GSettingsSchemaKey) unit = g_settings_schema_get_key (schema, "power-unit");
  g_autoptr(GSettingsSchemaKey) cycle = g_settings_schema_get_key (schema, "kiosk-cycle-seconds");
  g_autoptr(GSettingsSchemaKey) stale = g_settings_schema_get_key (schema, "stale-after-seconds");
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autofree char *value = NULL;

  g_assert_true (in_range (unit, g_variant_new_string ("kw")));
  g_assert_false (in_range (unit, g_variant_new_string ("kilowatt")));
  g_assert_true (in_range (cycle, g_variant_new_uint32 (5)));
  g_assert_false (in_range (cycle, g_variant_new_uint32 (4)));
  g_assert_false (in_range (cycle, g_variant_new_uint32 (3601)));
  g_assert_true (in_range (stale, g_variant_new_uint32 (600)));
  g_assert_false (in_range (stale, g_variant_new_uint32 (1)));

  /* The memory backend (GSETTINGS_BACKEND=memory) round-trips a value. */
  g_assert_true (g_settings_set_string (settings, "power-unit", "mw"));
  value = g_settings_get_string (settings, "power-unit");
  g_assert_cmpstr (value, ==, "mw");
  g_settings_reset (settings, "power-unit");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/switchyard/data/schema/id", test_schema_id);
  g_test_add_func ("/switchyard/data/schema/keys", test_schema_keys);
  g_test_add_func ("/switchyard/data/schema/ranges", test_schema_ranges);

  return g_test_run ();
}
