/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <adwaita.h>

#include "sy-chart.h"
#include "sy-site-model.h"

G_BEGIN_DECLS

/* Power Quality: the PQ events of the site (/api/energy/pq/events, kept live from pq.event on
 * the stream) in a sortable, filterable table, a detail pane with the voltage around the
 * selected event and its acknowledgement, the EN 50160 weekly summary of a meter and the
 * protection events. Actions: pq.refresh, pq.acknowledge (the selected event, with the note),
 * pq.previous-week, pq.next-week. Read-only (kiosk) mode disables pq.acknowledge. */

#define SY_TYPE_PQ_PAGE (sy_pq_page_get_type ())
G_DECLARE_FINAL_TYPE (SyPqPage, sy_pq_page, SY, PQ_PAGE, GtkWidget)

void        sy_pq_page_set_model          (SyPqPage    *self,
                                           SySiteModel *model);
void        sy_pq_page_set_read_only      (SyPqPage    *self,
                                           gboolean     read_only);
void        sy_pq_page_refresh            (SyPqPage    *self);

/* Whether @severity/@type make an event critical enough for the window's alert banner. */
gboolean    sy_pq_event_is_critical       (const char  *type,
                                           const char  *severity);
/* A translated label for a PQ or protection event type ("dip" → "Dip"). */
const char *sy_pq_event_type_label        (const char  *type);

/* For tests. */
gboolean    sy_pq_page_get_busy           (SyPqPage    *self);
guint       sy_pq_page_get_n_events       (SyPqPage    *self);
/* The state ("open", "closed") the table shows for event @id, or NULL if it is not listed. */
const char *sy_pq_page_get_event_state    (SyPqPage    *self,
                                           gint64       id);
gboolean    sy_pq_page_get_event_acknowledged (SyPqPage *self,
                                           gint64       id);
/* Selects event @id in the table; FALSE if it is not listed (or filtered out). */
gboolean    sy_pq_page_select_event       (SyPqPage    *self,
                                           gint64       id);
/* TRUE while the detail's readings are being fetched. */
gboolean    sy_pq_page_get_detail_busy    (SyPqPage    *self);
SyChart    *sy_pq_page_get_detail_chart   (SyPqPage    *self);
guint       sy_pq_page_get_n_protection_events (SyPqPage *self);
gboolean    sy_pq_page_get_summary_loaded (SyPqPage    *self);

G_END_DECLS
