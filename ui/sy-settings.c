/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-settings"

#include "config.h"

#include <stdlib.h>

#include <glib/gi18n.h>

#include "sy-settings.h"

struct _SySettings
{
  GObject    parent_instance;

  GSettings *settings;

  /* Caches for the borrowed getters, refreshed on "changed". */
  char      *power_unit;
  char      *color_scheme;
  char      *pin_hash;
  char      *last_page;
  GStrv      kiosk_pages;
};

G_DEFINE_FINAL_TYPE (SySettings, sy_settings, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_POWER_UNIT,
  PROP_COLOR_SCHEME,
  PROP_KIOSK_PAGES,
  PROP_KIOSK_CYCLE_SECONDS,
  PROP_KIOSK_PIN_HASH,
  PROP_HAS_KIOSK_PIN,
  PROP_STALE_AFTER_SECONDS,
  PROP_LAST_PAGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
reload (SySettings *self)
{
  g_free (self->power_unit);
  self->power_unit = g_settings_get_string (self->settings, SY_SETTINGS_KEY_POWER_UNIT);
  g_free (self->color_scheme);
  self->color_scheme = g_settings_get_string (self->settings, SY_SETTINGS_KEY_COLOR_SCHEME);
  g_free (self->pin_hash);
  self->pin_hash = g_settings_get_string (self->settings, SY_SETTINGS_KEY_KIOSK_PIN_HASH);
  g_free (self->last_page);
  self->last_page = g_settings_get_string (self->settings, SY_SETTINGS_KEY_LAST_PAGE);
  g_strfreev (self->kiosk_pages);
  self->kiosk_pages = g_settings_get_strv (self->settings, SY_SETTINGS_KEY_KIOSK_PAGES);
}

static void
changed_cb (SySettings *self,
            const char *key,
            GSettings  *settings)
{
  GParamSpec *pspec;

  reload (self);

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (self), key);
  if (pspec != NULL)
    g_object_notify_by_pspec (G_OBJECT (self), pspec);
  if (g_strcmp0 (key, SY_SETTINGS_KEY_KIOSK_PIN_HASH) == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_KIOSK_PIN]);
}

static void
sy_settings_finalize (GObject *object)
{
  SySettings *self = (SySettings *) object;

  g_clear_object (&self->settings);
  g_clear_pointer (&self->power_unit, g_free);
  g_clear_pointer (&self->color_scheme, g_free);
  g_clear_pointer (&self->pin_hash, g_free);
  g_clear_pointer (&self->last_page, g_free);
  g_clear_pointer (&self->kiosk_pages, g_strfreev);

  G_OBJECT_CLASS (sy_settings_parent_class)->finalize (object);
}

static void
sy_settings_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  SySettings *self = SY_SETTINGS (object);

  switch (prop_id)
    {
    case PROP_POWER_UNIT:
      g_value_set_string (value, self->power_unit);
      break;

    case PROP_COLOR_SCHEME:
      g_value_set_string (value, self->color_scheme);
      break;

    case PROP_KIOSK_PAGES:
      g_value_set_boxed (value, self->kiosk_pages);
      break;

    case PROP_KIOSK_CYCLE_SECONDS:
      g_value_set_uint (value, sy_settings_get_kiosk_cycle_seconds (self));
      break;

    case PROP_KIOSK_PIN_HASH:
      g_value_set_string (value, self->pin_hash);
      break;

    case PROP_HAS_KIOSK_PIN:
      g_value_set_boolean (value, sy_settings_get_has_kiosk_pin (self));
      break;

    case PROP_STALE_AFTER_SECONDS:
      g_value_set_uint (value, sy_settings_get_stale_after_seconds (self));
      break;

    case PROP_LAST_PAGE:
      g_value_set_string (value, self->last_page);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sy_settings_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  SySettings *self = SY_SETTINGS (object);

  /* GSettings' "changed" does the notifying, and only for real changes. */
  switch (prop_id)
    {
    case PROP_POWER_UNIT:
      sy_settings_set_power_unit (self, g_value_get_string (value));
      break;

    case PROP_COLOR_SCHEME:
      sy_settings_set_color_scheme (self, g_value_get_string (value));
      break;

    case PROP_KIOSK_PAGES:
      sy_settings_set_kiosk_pages (self, g_value_get_boxed (value));
      break;

    case PROP_KIOSK_CYCLE_SECONDS:
      sy_settings_set_kiosk_cycle_seconds (self, g_value_get_uint (value));
      break;

    case PROP_KIOSK_PIN_HASH:
      g_settings_set_string (self->settings, SY_SETTINGS_KEY_KIOSK_PIN_HASH,
                             g_value_get_string (value) ? g_value_get_string (value) : "");
      break;

    case PROP_STALE_AFTER_SECONDS:
      sy_settings_set_stale_after_seconds (self, g_value_get_uint (value));
      break;

    case PROP_LAST_PAGE:
      sy_settings_set_last_page (self, g_value_get_string (value));
      break;

    case PROP_HAS_KIOSK_PIN:
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sy_settings_class_init (SySettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = sy_settings_finalize;
  object_class->get_property = sy_settings_get_property;
  object_class->set_property = sy_settings_set_property;

  properties[PROP_POWER_UNIT] =
    g_param_spec_string (SY_SETTINGS_KEY_POWER_UNIT, NULL, NULL, "auto", flags);
  properties[PROP_COLOR_SCHEME] =
    g_param_spec_string (SY_SETTINGS_KEY_COLOR_SCHEME, NULL, NULL, "default", flags);
  properties[PROP_KIOSK_PAGES] =
    g_param_spec_boxed (SY_SETTINGS_KEY_KIOSK_PAGES, NULL, NULL, G_TYPE_STRV, flags);
  properties[PROP_KIOSK_CYCLE_SECONDS] =
    g_param_spec_uint (SY_SETTINGS_KEY_KIOSK_CYCLE_SECONDS, NULL, NULL, 5, 3600, 30, flags);
  properties[PROP_KIOSK_PIN_HASH] =
    g_param_spec_string (SY_SETTINGS_KEY_KIOSK_PIN_HASH, NULL, NULL, "", flags);
  properties[PROP_HAS_KIOSK_PIN] =
    g_param_spec_boolean ("has-kiosk-pin", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_STALE_AFTER_SECONDS] =
    g_param_spec_uint (SY_SETTINGS_KEY_STALE_AFTER_SECONDS, NULL, NULL, 2, 600, 10, flags);
  properties[PROP_LAST_PAGE] =
    g_param_spec_string (SY_SETTINGS_KEY_LAST_PAGE, NULL, NULL, "overview", flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

/* Installed, the schema is in the system's schema dirs. Run from the build dir (the README's
 * quick start), it is in <build>/data, which meson's devenv and the test environment put in
 * GSETTINGS_SCHEMA_DIR; SY_BUILD_SCHEMA_DIR covers a plain ./build/app/switchyard. Without a
 * schema GSettings aborts with a trap, so say what is wrong and exit instead. */
static GSettings *
new_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchemaSource) build_source = NULL;
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);

  if (schema == NULL && g_file_test (SY_BUILD_SCHEMA_DIR "/gschemas.compiled", G_FILE_TEST_EXISTS))
    {
      build_source = g_settings_schema_source_new_from_directory (SY_BUILD_SCHEMA_DIR, source, FALSE, NULL);
      if (build_source != NULL)
        schema = g_settings_schema_source_lookup (build_source, APP_ID, TRUE);
    }

  if (schema == NULL)
    {
      /* Translators: %s is an application id such as io.github.switchyard.Switchyard */
      g_printerr (_("The settings schema %s is not installed: install Switchyard (meson install) or run it from its build directory\n"),
                  APP_ID);
      exit (EXIT_FAILURE);
    }

  return g_settings_new_full (schema, NULL, NULL);
}

static void
sy_settings_init (SySettings *self)
{
  self->settings = new_settings ();
  reload (self);
  g_signal_connect_object (self->settings, "changed", G_CALLBACK (changed_cb), self, G_CONNECT_SWAPPED);
}

SySettings *
sy_settings_new (void)
{
  return g_object_new (SY_TYPE_SETTINGS, NULL);
}

GSettings *
sy_settings_get_settings (SySettings *self)
{
  g_return_val_if_fail (SY_IS_SETTINGS (self), NULL);

  return self->settings;
}

const char *
sy_settings_get_power_unit (SySettings *self)
{
  g_return_val_if_fail (SY_IS_SETTINGS (self), NULL);

  return self->power_unit;
}

void
sy_settings_set_power_unit (SySettings *self,
                            const char *unit)
{
  g_return_if_fail (SY_IS_SETTINGS (self));
  g_return_if_fail (unit != NULL);

  g_settings_set_string (self->settings, SY_SETTINGS_KEY_POWER_UNIT, unit);
}

const char *
sy_settings_get_color_scheme (SySettings *self)
{
  g_return_val_if_fail (SY_IS_SETTINGS (self), NULL);

  return self->color_scheme;
}

void
sy_settings_set_color_scheme (SySettings *self,
                              const char *scheme)
{
  g_return_if_fail (SY_IS_SETTINGS (self));
  g_return_if_fail (scheme != NULL);

  g_settings_set_string (self->settings, SY_SETTINGS_KEY_COLOR_SCHEME, scheme);
}

const char * const *
sy_settings_get_kiosk_pages (SySettings *self)
{
  g_return_val_if_fail (SY_IS_SETTINGS (self), NULL);

  return (const char * const *) self->kiosk_pages;
}

void
sy_settings_set_kiosk_pages (SySettings         *self,
                             const char * const *pages)
{
  static const char * const none[] = { NULL };

  g_return_if_fail (SY_IS_SETTINGS (self));

  g_settings_set_strv (self->settings, SY_SETTINGS_KEY_KIOSK_PAGES, pages ? pages : none);
}

gboolean
sy_settings_get_kiosk_page_enabled (SySettings *self,
                                    const char *page)
{
  g_return_val_if_fail (SY_IS_SETTINGS (self), FALSE);
  g_return_val_if_fail (page != NULL, FALSE);

  return g_strv_contains ((const char * const *) self->kiosk_pages, page);
}

/* Keeps the pages in the order of the sidebar, whatever order they were switched on in. */
void
sy_settings_set_kiosk_page_enabled (SySettings *self,
                                    const char *page,
                                    gboolean    enabled)
{
  static const char * const order[] = { "overview", "meters", NULL };
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) pages = NULL;

  g_return_if_fail (SY_IS_SETTINGS (self));
  g_return_if_fail (page != NULL);

  if (enabled == sy_settings_get_kiosk_page_enabled (self, page))
    return;

  for (guint i = 0; order[i] != NULL; i++)
    {
      gboolean on = g_str_equal (order[i], page) ? enabled
                                                 : sy_settings_get_kiosk_page_enabled (self, order[i]);

      if (on)
        g_strv_builder_add (builder, order[i]);
    }

  pages = g_strv_builder_end (builder);
  sy_settings_set_kiosk_pages (self, (const char * const *) pages);
}

guint
sy_settings_get_kiosk_cycle_seconds (SySettings *self)
{
  g_return_val_if_fail (SY_IS_SETTINGS (self), 30);

  return g_settings_get_uint (self->settings, SY_SETTINGS_KEY_KIOSK_CYCLE_SECONDS);
}

void
sy_settings_set_kiosk_cycle_seconds (SySettings *self,
                                     guint       seconds)
{
  g_return_if_fail (SY_IS_SETTINGS (self));

  g_settings_set_uint (self->settings, SY_SETTINGS_KEY_KIOSK_CYCLE_SECONDS, CLAMP (seconds, 5, 3600));
}

guint
sy_settings_get_stale_after_seconds (SySettings *self)
{
  g_return_val_if_fail (SY_IS_SETTINGS (self), 10);

  return g_settings_get_uint (self->settings, SY_SETTINGS_KEY_STALE_AFTER_SECONDS);
}

void
sy_settings_set_stale_after_seconds (SySettings *self,
                                     guint       seconds)
{
  g_return_if_fail (SY_IS_SETTINGS (self));

  g_settings_set_uint (self->settings, SY_SETTINGS_KEY_STALE_AFTER_SECONDS, CLAMP (seconds, 2, 600));
}

const char *
sy_settings_get_last_page (SySettings *self)
{
  g_return_val_if_fail (SY_IS_SETTINGS (self), NULL);

  return self->last_page;
}

void
sy_settings_set_last_page (SySettings *self,
                           const char *page)
{
  g_return_if_fail (SY_IS_SETTINGS (self));
  g_return_if_fail (page != NULL);

  g_settings_set_string (self->settings, SY_SETTINGS_KEY_LAST_PAGE, page);
}

gboolean
sy_settings_get_has_kiosk_pin (SySettings *self)
{
  g_return_val_if_fail (SY_IS_SETTINGS (self), FALSE);

  return self->pin_hash != NULL && self->pin_hash[0] != '\0';
}

void
sy_settings_set_kiosk_pin (SySettings *self,
                           const char *pin)
{
  g_autofree char *hash = NULL;

  g_return_if_fail (SY_IS_SETTINGS (self));

  if (pin != NULL && pin[0] != '\0')
    hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, pin, -1);

  g_settings_set_string (self->settings, SY_SETTINGS_KEY_KIOSK_PIN_HASH, hash ? hash : "");
}

gboolean
sy_settings_check_kiosk_pin (SySettings *self,
                             const char *pin)
{
  g_autofree char *hash = NULL;

  g_return_val_if_fail (SY_IS_SETTINGS (self), FALSE);

  if (!sy_settings_get_has_kiosk_pin (self) || pin == NULL)
    return FALSE;

  hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, pin, -1);
  return g_ascii_strcasecmp (hash, self->pin_hash) == 0;
}
