/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <adwaita.h>

#include "sy-client.h"

G_BEGIN_DECLS

/* API credentials (OAuth2 clients): list, create (action api.create; the secret is shown
 * once), revoke (action api.revoke, the client id as a string). Read-only mode disables both
 * actions. */

#define SY_TYPE_API_ACCESS_PAGE (sy_api_access_page_get_type ())
G_DECLARE_FINAL_TYPE (SyApiAccessPage, sy_api_access_page, SY, API_ACCESS_PAGE, GtkWidget)

void       sy_api_access_page_set_client    (SyApiAccessPage *self,
                                             SyClient        *client);
void       sy_api_access_page_refresh       (SyApiAccessPage *self);
void       sy_api_access_page_set_read_only (SyApiAccessPage *self,
                                             gboolean         read_only);
/* For tests: the dialog the page shows (create, secret or revoke confirmation), or NULL; and
 * how many active clients the list shows. */
GtkWindow *sy_api_access_page_get_dialog    (SyApiAccessPage *self);
guint      sy_api_access_page_get_n_clients (SyApiAccessPage *self);

G_END_DECLS
