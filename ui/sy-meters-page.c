/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-meters-page"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "sy-meter-row.h"
#include "sy-meters-page.h"

struct _SyMetersPage
{
  GtkWidget           parent_instance;

  SySiteModel        *model;
  SySettings         *settings;
  GtkFilterListModel *filtered;
  GtkCustomFilter    *filter;
  char               *search;

  AdwLeaflet         *leaflet;
  GtkWidget          *list_page;
  GtkSearchEntry     *search_entry;
  GtkListBox         *list;
  AdwStatusPage      *empty_status;
  SyMeterDetail      *detail;
};

G_DEFINE_FINAL_TYPE (SyMetersPage, sy_meters_page, GTK_TYPE_WIDGET)

/* Matches the name or the kind (its label in the UI's language, and its API name). */
static gboolean
filter_func (gpointer item,
             gpointer user_data)
{
  SyMetersPage *self = user_data;
  SyMeterItem *meter = item;
  g_autofree char *name = NULL;
  g_autofree char *kind = NULL;

  if (self->search == NULL || self->search[0] == '\0')
    return TRUE;

  name = g_utf8_casefold (sy_meter_item_get_name (meter), -1);
  kind = g_utf8_casefold (sy_meter_kind_get_label (sy_meter_item_get_kind (meter)), -1);

  return strstr (name, self->search) != NULL || strstr (kind, self->search) != NULL ||
         strstr (sy_meter_item_get_kind (meter), self->search) != NULL;
}

static void
update_empty (SyMetersPage *self)
{
  gboolean empty = g_list_model_get_n_items (G_LIST_MODEL (self->filtered)) == 0;

  gtk_widget_set_visible (GTK_WIDGET (self->list), !empty);
  gtk_widget_set_visible (GTK_WIDGET (self->empty_status), empty && sy_site_model_get_loaded (self->model));
}

static void
search_changed_cb (SyMetersPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  g_free (self->search);
  self->search = g_utf8_casefold (text, -1);
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  update_empty (self);
}

static GtkWidget *
create_row (gpointer item,
            gpointer user_data)
{
  SyMetersPage *self = user_data;

  return sy_meter_row_new (item, self->settings);
}

static void
open_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  SyMetersPage *self = SY_METERS_PAGE (widget);
  SyMeterItem *item = sy_site_model_lookup (self->model, g_variant_get_int64 (parameter));

  if (item == NULL)
    return;

  sy_meter_detail_set_item (self->detail, item);
  adw_leaflet_set_visible_child (self->leaflet, GTK_WIDGET (self->detail));
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  sy_meters_page_show_list (SY_METERS_PAGE (widget));
}

static void
sy_meters_page_dispose (GObject *object)
{
  SyMetersPage *self = (SyMetersPage *) object;
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), SY_TYPE_METERS_PAGE);
  /* The template's root is not bound by name, so it is unparented here. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->filtered);
  g_clear_object (&self->model);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sy_meters_page_parent_class)->dispose (object);
}

static void
sy_meters_page_finalize (GObject *object)
{
  SyMetersPage *self = (SyMetersPage *) object;

  g_clear_pointer (&self->search, g_free);

  G_OBJECT_CLASS (sy_meters_page_parent_class)->finalize (object);
}

static void
sy_meters_page_class_init (SyMetersPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sy_meters_page_dispose;
  object_class->finalize = sy_meters_page_finalize;

  g_type_ensure (SY_TYPE_METER_DETAIL);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/switchyard/Switchyard/ui/sy-meters-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SyMetersPage, leaflet);
  gtk_widget_class_bind_template_child (widget_class, SyMetersPage, list_page);
  gtk_widget_class_bind_template_child (widget_class, SyMetersPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, SyMetersPage, list);
  gtk_widget_class_bind_template_child (widget_class, SyMetersPage, empty_status);
  gtk_widget_class_bind_template_child (widget_class, SyMetersPage, detail);

  gtk_widget_class_install_action (widget_class, "meters.open", "x", open_action);
  gtk_widget_class_install_action (widget_class, "meters.back", NULL, back_action);
}

static void
sy_meters_page_init (SyMetersPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_object (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb),
                           self, G_CONNECT_SWAPPED);
}

void
sy_meters_page_set_model (SyMetersPage *self,
                          SySiteModel  *model,
                          SySettings   *settings)
{
  g_return_if_fail (SY_IS_METERS_PAGE (self));
  g_return_if_fail (SY_IS_SITE_MODEL (model));
  g_return_if_fail (SY_IS_SETTINGS (settings));
  g_return_if_fail (self->model == NULL);

  self->model = g_object_ref (model);
  self->settings = g_object_ref (settings);
  sy_meter_detail_set_context (self->detail, sy_site_model_get_client (model), settings);

  self->filter = gtk_custom_filter_new (filter_func, self, NULL);
  self->filtered = gtk_filter_list_model_new (g_object_ref (sy_site_model_get_meters (model)),
                                              GTK_FILTER (self->filter));
  gtk_list_box_bind_model (self->list, G_LIST_MODEL (self->filtered), create_row, self, NULL);
  g_signal_connect_object (self->filtered, "items-changed", G_CALLBACK (update_empty), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (model, "notify::loaded", G_CALLBACK (update_empty), self, G_CONNECT_SWAPPED);
  update_empty (self);
}

void
sy_meters_page_focus_search (SyMetersPage *self)
{
  g_return_if_fail (SY_IS_METERS_PAGE (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

void
sy_meters_page_show_list (SyMetersPage *self)
{
  g_return_if_fail (SY_IS_METERS_PAGE (self));

  adw_leaflet_set_visible_child (self->leaflet, self->list_page);
  sy_meter_detail_set_item (self->detail, NULL);
}

GtkEditable *
sy_meters_page_get_search (SyMetersPage *self)
{
  g_return_val_if_fail (SY_IS_METERS_PAGE (self), NULL);

  return GTK_EDITABLE (self->search_entry);
}

GListModel *
sy_meters_page_get_filtered (SyMetersPage *self)
{
  g_return_val_if_fail (SY_IS_METERS_PAGE (self), NULL);

  return G_LIST_MODEL (self->filtered);
}

SyMeterDetail *
sy_meters_page_get_detail (SyMetersPage *self)
{
  g_return_val_if_fail (SY_IS_METERS_PAGE (self), NULL);

  return self->detail;
}

gboolean
sy_meters_page_get_showing_detail (SyMetersPage *self)
{
  g_return_val_if_fail (SY_IS_METERS_PAGE (self), FALSE);

  return adw_leaflet_get_visible_child (self->leaflet) == GTK_WIDGET (self->detail);
}
