/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The console's GSettings keys (schema id = APP_ID). SySettings mirrors each one as a property
 * of the same name, so widgets bind to it and the rest of ui/ never names a key twice. */
#define SY_SETTINGS_KEY_POWER_UNIT           "power-unit"
#define SY_SETTINGS_KEY_COLOR_SCHEME         "color-scheme"
#define SY_SETTINGS_KEY_KIOSK_PAGES          "kiosk-pages"
#define SY_SETTINGS_KEY_KIOSK_CYCLE_SECONDS  "kiosk-cycle-seconds"
#define SY_SETTINGS_KEY_KIOSK_PIN_HASH       "kiosk-pin-hash"
#define SY_SETTINGS_KEY_STALE_AFTER_SECONDS  "stale-after-seconds"
#define SY_SETTINGS_KEY_WINDOW_WIDTH         "window-width"
#define SY_SETTINGS_KEY_WINDOW_HEIGHT        "window-height"
#define SY_SETTINGS_KEY_WINDOW_MAXIMIZED     "window-maximized"
#define SY_SETTINGS_KEY_LAST_PAGE            "last-page"

#define SY_TYPE_SETTINGS (sy_settings_get_type ())
G_DECLARE_FINAL_TYPE (SySettings, sy_settings, SY, SETTINGS, GObject)

/* UI thread. Reads the schema APP_ID; tests use GSETTINGS_BACKEND=memory. */
SySettings         *sy_settings_new                     (void);
GSettings          *sy_settings_get_settings            (SySettings          *self);

const char         *sy_settings_get_power_unit          (SySettings          *self);
void                sy_settings_set_power_unit          (SySettings          *self,
                                                         const char          *unit);
const char         *sy_settings_get_color_scheme        (SySettings          *self);
void                sy_settings_set_color_scheme        (SySettings          *self,
                                                         const char          *scheme);
const char * const *sy_settings_get_kiosk_pages         (SySettings          *self);
void                sy_settings_set_kiosk_pages         (SySettings          *self,
                                                         const char * const  *pages);
gboolean            sy_settings_get_kiosk_page_enabled  (SySettings          *self,
                                                         const char          *page);
void                sy_settings_set_kiosk_page_enabled  (SySettings          *self,
                                                         const char          *page,
                                                         gboolean             enabled);
guint               sy_settings_get_kiosk_cycle_seconds (SySettings          *self);
void                sy_settings_set_kiosk_cycle_seconds (SySettings          *self,
                                                         guint                seconds);
guint               sy_settings_get_stale_after_seconds (SySettings          *self);
void                sy_settings_set_stale_after_seconds (SySettings          *self,
                                                         guint                seconds);
const char         *sy_settings_get_last_page           (SySettings          *self);
void                sy_settings_set_last_page           (SySettings          *self,
                                                         const char          *page);

/* The kiosk PIN is stored only as its SHA-256 (lowercase hex). NULL or "" clears it. */
gboolean            sy_settings_get_has_kiosk_pin       (SySettings          *self);
void                sy_settings_set_kiosk_pin           (SySettings          *self,
                                                         const char          *pin);
gboolean            sy_settings_check_kiosk_pin         (SySettings          *self,
                                                         const char          *pin);

G_END_DECLS
