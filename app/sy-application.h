/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SY_TYPE_APPLICATION (sy_application_get_type ())
G_DECLARE_FINAL_TYPE (SyApplication, sy_application, SY, APPLICATION, AdwApplication)

SyApplication *sy_application_new           (const char        *application_id,
                                             GApplicationFlags  flags);

/* UI thread. Where the console's client talks to: the in-process backend's loopback URL and an
 * admin token that lives only in this process, or what --connect and --token gave. NULL until
 * startup, and when the in-process backend failed to start. */
const char    *sy_application_get_base_url  (SyApplication *self);
const char    *sy_application_get_token     (SyApplication *self);
gboolean       sy_application_get_is_remote (SyApplication *self);

/* app/ internal: sy-application-actions.c. */
void           _sy_application_add_actions  (SyApplication *self);

G_END_DECLS
