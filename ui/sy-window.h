/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <adwaita.h>

#include "sy-client.h"
#include "sy-settings.h"
#include "sy-site-model.h"

G_BEGIN_DECLS

/* The console's main window: a sidebar of pages (Overview, Meters, API Access), a banner for
 * stale data and a lost connection, and kiosk mode. Pages are named "overview", "meters" and
 * "api-access". UI thread only. */

#define SY_TYPE_WINDOW (sy_window_get_type ())
G_DECLARE_FINAL_TYPE (SyWindow, sy_window, SY, WINDOW, AdwApplicationWindow)

/* @application may be NULL (tests). @kiosk_locked: started with --kiosk, so leaving kiosk mode
 * always needs the PIN. */
SyWindow    *sy_window_new              (GtkApplication *application,
                                         SyClient       *client,
                                         SySettings     *settings,
                                         gboolean        kiosk_locked);
SyClient    *sy_window_get_client       (SyWindow       *self);
SySettings  *sy_window_get_settings     (SyWindow       *self);
SySiteModel *sy_window_get_model        (SyWindow       *self);

GtkWidget   *sy_window_get_page         (SyWindow       *self,
                                         const char     *name);
const char  *sy_window_get_visible_page (SyWindow       *self);
void         sy_window_set_visible_page (SyWindow       *self,
                                         const char     *name);

gboolean     sy_window_get_kiosk        (SyWindow       *self);
/* Enters or leaves kiosk mode without asking for the PIN (win.toggle-kiosk asks). */
void         sy_window_set_kiosk        (SyWindow       *self,
                                         gboolean        kiosk);

/* The banner's text while it is shown, else NULL. */
const char  *sy_window_get_banner_text  (SyWindow       *self);
void         sy_window_add_toast        (SyWindow       *self,
                                         const char     *message);

/* Loads ui/style.css for processes without an AdwApplication (tests); AdwApplication loads it
 * by itself from the resource base path. */
void         sy_window_load_style       (void);

G_END_DECLS
