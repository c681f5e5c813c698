/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <adwaita.h>

#include "sy-client.h"
#include "sy-settings.h"

G_BEGIN_DECLS

/* Automations: rules (list with enable switches and counters, an editor with a dry-run pane),
 * the deliveries cockpit (failures first, retry, metrics, circuit breakers) and the approvals
 * queue of relay commands. Actions: automations.new-rule, automations.edit-rule (x),
 * automations.save-rule, automations.toggle-rule (x), automations.dry-run, automations.retry (x),
 * automations.approve (x), automations.reject (x), automations.refresh. Read-only (kiosk) mode
 * disables every write action but approve and reject, which then ask for the kiosk PIN. */

#define SY_TYPE_AUTOMATIONS_PAGE (sy_automations_page_get_type ())
G_DECLARE_FINAL_TYPE (SyAutomationsPage, sy_automations_page, SY, AUTOMATIONS_PAGE, GtkWidget)

void       sy_automations_page_set_client        (SyAutomationsPage *self,
                                                  SyClient          *client,
                                                  SySettings        *settings);
void       sy_automations_page_set_read_only     (SyAutomationsPage *self,
                                                  gboolean           read_only);
void       sy_automations_page_refresh           (SyAutomationsPage *self);
/* "rules", "deliveries" or "approvals". */
void       sy_automations_page_set_view          (SyAutomationsPage *self,
                                                  const char        *name);
/* For tests: how many rules / deliveries are listed; the id of the rule being edited (0: new). */
guint      sy_automations_page_get_n_rules       (SyAutomationsPage *self);
guint      sy_automations_page_get_n_deliveries  (SyAutomationsPage *self);
gint64     sy_automations_page_get_editing_id    (SyAutomationsPage *self);

G_END_DECLS
