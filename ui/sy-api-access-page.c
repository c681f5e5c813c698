/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-api-access-page"

#include "config.h"

#include <glib/gi18n.h>

#include "sy-api-access-page.h"
#include "sy-format.h"

/* The scope areas of backend/auth/sy-auth.c, with what the console calls them. */
static const struct
{
  const char *area;
  const char *label;
} scope_areas[] = {
  { "meters", N_("Meters and readings") },
  { "analytics", N_("Analytics") },
  { "auth", N_("Authentication") },
  { "pq", N_("Power quality") },
  { "automations", N_("Automations") },
  { "billing", N_("Billing") },
  { "control", N_("Control") },
  { "ml", N_("Machine learning") },
  { "topology", N_("Topology") },
  { "stream", N_("Live stream") },
};

struct _SyApiAccessPage
{
  GtkWidget     parent_instance;

  SyClient     *client;
  GCancellable *cancellable;
  gboolean      read_only;
  guint         n_clients;
  GtkWindow    *dialog;

  GtkListBox   *list;
  GtkWidget    *create_button;
};

G_DEFINE_FINAL_TYPE (SyApiAccessPage, sy_api_access_page, GTK_TYPE_WIDGET)

static void
toast (SyApiAccessPage *self,
       const char      *message)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (message));
  else
    g_message ("%s", message);
}

static void
track_dialog (SyApiAccessPage *self,
              GtkWidget       *dialog)
{
  if (self->dialog != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->dialog), (gpointer *) &self->dialog);
  self->dialog = GTK_WINDOW (dialog);
  if (dialog != NULL)
    g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->dialog);
}

static GtkWindow *
parent_window (SyApiAccessPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

/* The list. */

static GtkWidget *
create_client_row (SyApiAccessPage *self,
                   JsonObject      *client)
{
  const char *id = json_object_get_string_member_with_default (client, "client_id", "");
  const char *scopes = json_object_get_string_member_with_default (client, "scopes", "");
  gint64 created = sy_parse_iso8601 (json_object_get_string_member_with_default (client, "created_at", NULL));
  g_autofree char *created_text = created >= 0 ? sy_format_date_time (created) : g_strdup ("—");
  g_autofree char *subtitle = NULL;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button;

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 json_object_get_string_member_with_default (client, "name", id));
  /* Translators: "admin · created 2026-03-01 14:05 · 7c0e…" about an API client. */
  subtitle = g_strdup_printf (_("%s · created %s · %s"), scopes[0] ? scopes : _("no scopes"), created_text, id);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  gtk_widget_set_name (row, id);

  button = gtk_button_new_from_icon_name ("user-trash-symbolic");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (button, _("Revoke"));
  gtk_widget_add_css_class (button, "flat");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "api.revoke");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (id));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  return row;
}

static void
clear_list (SyApiAccessPage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
}

static void
list_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(SyApiAccessPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) clients = NULL;

  clients = sy_client_list_all_finish (SY_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (clients == NULL)
    {
      /* Translators: %s is the reason. */
      g_autofree char *text = g_strdup_printf (_("Could not list the API credentials: %s"), error->message);

      toast (self, text);
      return;
    }

  clear_list (self);
  self->n_clients = 0;

  for (guint i = 0; i < json_array_get_length (clients); i++)
    {
      JsonObject *client = json_array_get_object_element (clients, i);
      JsonNode *revoked = client ? json_object_get_member (client, "revoked_at") : NULL;

      /* Revoked credentials are dead for good: only the active ones are listed. */
      if (client == NULL || (revoked != NULL && !JSON_NODE_HOLDS_NULL (revoked)))
        continue;
      gtk_list_box_append (self->list, create_client_row (self, client));
      self->n_clients++;
    }

  if (self->n_clients == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("No API credentials yet"));
      gtk_widget_add_css_class (row, "dim-label");
      gtk_list_box_append (self->list, row);
    }
}

void
sy_api_access_page_refresh (SyApiAccessPage *self)
{
  g_return_if_fail (SY_IS_API_ACCESS_PAGE (self));

  if (self->client == NULL)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  sy_client_list_all_async (self->client, "/api/auth/clients", self->cancellable, list_cb, g_object_ref (self));
}

/* The secret, once. */

static void
copy_secret_cb (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  GtkWidget *dialog = user_data;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (dialog), g_variant_get_string (parameter, NULL));
}

static GtkWidget *
secret_field (const char *title,
              const char *value,
              const char *name,
              GtkWidget  *dialog)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *heading = gtk_label_new (title);
  GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (value);
  GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");

  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "caption-heading");
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "monospace");
  gtk_widget_add_css_class (label, "secret-value");
  gtk_widget_set_name (label, name);

  gtk_widget_set_valign (copy, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (copy, _("Copy"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (copy), "secret.copy");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (copy), g_variant_new_string (value));

  gtk_box_append (GTK_BOX (line), label);
  gtk_box_append (GTK_BOX (line), copy);
  gtk_box_append (GTK_BOX (box), heading);
  gtk_box_append (GTK_BOX (box), line);

  return box;
}

static void
show_secret (SyApiAccessPage *self,
             JsonObject      *created)
{
  g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();
  g_autoptr(GSimpleAction) copy = g_simple_action_new ("copy", G_VARIANT_TYPE_STRING);
  GtkWidget *dialog;
  GtkWidget *box;

  dialog = adw_message_dialog_new (parent_window (self), _("Credential Created"),
                                   _("Copy the secret now and keep it safe: it is stored only as a hash "
                                     "and will not be shown again."));
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Done"));
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "close");

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_box_append (GTK_BOX (box), secret_field (_("Client ID"),
                                               json_object_get_string_member_with_default (created, "client_id", ""),
                                               "client-id-label", dialog));
  gtk_box_append (GTK_BOX (box), secret_field (_("Client Secret"),
                                               json_object_get_string_member_with_default (created, "client_secret", ""),
                                               "secret-label", dialog));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);

  g_signal_connect_object (copy, "activate", G_CALLBACK (copy_secret_cb), dialog, 0);
  g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (copy));
  gtk_widget_insert_action_group (dialog, "secret", G_ACTION_GROUP (group));

  track_dialog (self, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Creating. */

static void
create_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SyApiAccessPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      /* Translators: %s is the server's explanation. */
      g_autofree char *text = g_strdup_printf (_("Could not create the credential: %s"),
                                               error ? error->message : _("unexpected answer"));

      toast (self, text);
      return;
    }

  show_secret (self, json_node_get_object (node));
  sy_api_access_page_refresh (self);
}

static char *
collect_scopes (GtkWidget *dialog)
{
  GPtrArray *checks = g_object_get_data (G_OBJECT (dialog), "scope-checks");
  GString *scopes = g_string_new (NULL);

  for (guint i = 0; checks != NULL && i < checks->len; i++)
    {
      GtkCheckButton *check = g_ptr_array_index (checks, i);

      if (!gtk_check_button_get_active (check))
        continue;
      if (scopes->len > 0)
        g_string_append_c (scopes, ' ');
      g_string_append (scopes, gtk_widget_get_name (GTK_WIDGET (check)));
    }

  return g_string_free (scopes, FALSE);
}

static void
validate_create (GtkWidget *dialog)
{
  GtkEditable *name = g_object_get_data (G_OBJECT (dialog), "name-entry");
  g_autofree char *scopes = collect_scopes (dialog);
  g_autofree char *stripped = g_strstrip (g_strdup (gtk_editable_get_text (name)));

  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "create",
                                           stripped[0] != '\0' && scopes[0] != '\0');
}

static void
create_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    SyApiAccessPage  *self)
{
  GtkEditable *name = g_object_get_data (G_OBJECT (dialog), "name-entry");
  g_autofree char *scopes = NULL;
  g_autofree char *stripped = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) body = NULL;

  if (g_strcmp0 (response, "create") != 0 || self->read_only || self->client == NULL)
    return;

  scopes = collect_scopes (GTK_WIDGET (dialog));
  stripped = g_strstrip (g_strdup (gtk_editable_get_text (name)));

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, stripped);
  json_builder_set_member_name (builder, "scopes");
  json_builder_add_string_value (builder, scopes);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  sy_client_request_async (self->client, "POST", "/api/auth/clients", body, NULL, create_cb, g_object_ref (self));
}

static GtkWidget *
scope_check (GtkWidget  *dialog,
             GPtrArray  *checks,
             const char *label,
             const char *scope)
{
  GtkWidget *check = gtk_check_button_new_with_label (label);

  gtk_widget_set_name (check, scope);
  g_ptr_array_add (checks, check);
  g_signal_connect_swapped (check, "toggled", G_CALLBACK (validate_create), dialog);

  return check;
}

static void
create_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  SyApiAccessPage *self = SY_API_ACCESS_PAGE (widget);
  GPtrArray *checks = g_ptr_array_new ();
  GtkWidget *dialog, *box, *entry, *grid, *heading;

  if (self->read_only)
    return;

  dialog = adw_message_dialog_new (parent_window (self), _("Create Credential"),
                                   _("A new OAuth2 client for the REST API. Give it only the scopes it needs."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "create", _("C_reate"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "create", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "create");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Name, e.g. “Billing export”"));
  gtk_widget_set_name (entry, "name-entry");
  g_signal_connect_swapped (entry, "changed", G_CALLBACK (validate_create), dialog);
  gtk_box_append (GTK_BOX (box), entry);

  grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 2);
  heading = gtk_label_new (_("Scopes"));
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "heading");
  gtk_grid_attach (GTK_GRID (grid), heading, 0, 0, 1, 1);

  for (guint i = 0; i < G_N_ELEMENTS (scope_areas); i++)
    {
      g_autofree char *read = g_strdup_printf ("%s:read", scope_areas[i].area);
      g_autofree char *write = g_strdup_printf ("%s:write", scope_areas[i].area);
      GtkWidget *label = gtk_label_new (_(scope_areas[i].label));

      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_set_hexpand (label, TRUE);
      gtk_grid_attach (GTK_GRID (grid), label, 0, (int) i + 1, 1, 1);
      /* Translators: a scope: may read the area. */
      gtk_grid_attach (GTK_GRID (grid), scope_check (dialog, checks, _("Read"), read), 1, (int) i + 1, 1, 1);
      /* Translators: a scope: may change the area. */
      gtk_grid_attach (GTK_GRID (grid), scope_check (dialog, checks, _("Write"), write), 2, (int) i + 1, 1, 1);
    }
  gtk_grid_attach (GTK_GRID (grid),
                   scope_check (dialog, checks, _("Full access (admin), including API credentials"), "admin"),
                   0, (int) G_N_ELEMENTS (scope_areas) + 1, 3, 1);
  gtk_box_append (GTK_BOX (box), grid);

  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  g_object_set_data (G_OBJECT (dialog), "name-entry", entry);
  g_object_set_data_full (G_OBJECT (dialog), "scope-checks", checks, (GDestroyNotify) g_ptr_array_unref);
  validate_create (dialog);

  g_signal_connect_object (dialog, "response", G_CALLBACK (create_response_cb), self, 0);
  track_dialog (self, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Revoking. */

static void
revoke_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SyApiAccessPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not revoke the credential: %s"), error->message);

      toast (self, text);
    }
  else
    toast (self, _("Credential revoked"));

  sy_api_access_page_refresh (self);
}

static void
revoke_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    SyApiAccessPage  *self)
{
  const char *client_id = g_object_get_data (G_OBJECT (dialog), "client-id");
  g_autofree char *path = NULL;

  if (g_strcmp0 (response, "revoke") != 0 || self->read_only || self->client == NULL)
    return;

  path = g_strdup_printf ("/api/auth/clients/%s", client_id);
  sy_client_request_async (self->client, "DELETE", path, NULL, NULL, revoke_cb, g_object_ref (self));
}

static void
revoke_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  SyApiAccessPage *self = SY_API_ACCESS_PAGE (widget);
  const char *client_id = g_variant_get_string (parameter, NULL);
  GtkWidget *dialog;

  if (self->read_only)
    return;

  dialog = adw_message_dialog_new (parent_window (self), _("Revoke Credential?"),
                                   _("Integrations using it stop working at once, and its access tokens "
                                     "are refused. This cannot be undone."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "revoke", _("_Revoke"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "revoke", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "client-id", g_strdup (client_id), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (revoke_response_cb), self, 0);

  track_dialog (self, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
sy_api_access_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (sy_api_access_page_parent_class)->map (widget);

  /* Someone may have created or revoked clients through the API meanwhile. */
  sy_api_access_page_refresh (SY_API_ACCESS_PAGE (widget));
}

static void
sy_api_access_page_dispose (GObject *object)
{
  SyApiAccessPage *self = (SyApiAccessPage *) object;
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  if (self->dialog != NULL)
    {
      GtkWindow *dialog = self->dialog;

      track_dialog (self, NULL);
      gtk_window_destroy (dialog);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), SY_TYPE_API_ACCESS_PAGE);
  /* The template's root is not bound by name, so it is unparented here. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->client);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (sy_api_access_page_parent_class)->dispose (object);
}

static void
sy_api_access_page_class_init (SyApiAccessPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sy_api_access_page_dispose;
  widget_class->map = sy_api_access_page_map;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/switchyard/Switchyard/ui/sy-api-access-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SyApiAccessPage, list);
  gtk_widget_class_bind_template_child (widget_class, SyApiAccessPage, create_button);

  gtk_widget_class_install_action (widget_class, "api.create", NULL, create_action);
  gtk_widget_class_install_action (widget_class, "api.revoke", "s", revoke_action);
}

static void
sy_api_access_page_init (SyApiAccessPage *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
}

void
sy_api_access_page_set_client (SyApiAccessPage *self,
                               SyClient        *client)
{
  g_return_if_fail (SY_IS_API_ACCESS_PAGE (self));
  g_return_if_fail (SY_IS_CLIENT (client));

  g_set_object (&self->client, client);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    sy_api_access_page_refresh (self);
}

void
sy_api_access_page_set_read_only (SyApiAccessPage *self,
                                  gboolean         read_only)
{
  g_return_if_fail (SY_IS_API_ACCESS_PAGE (self));

  self->read_only = !!read_only;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "api.create", !self->read_only);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "api.revoke", !self->read_only);
  gtk_widget_set_visible (self->create_button, !self->read_only);
}

GtkWindow *
sy_api_access_page_get_dialog (SyApiAccessPage *self)
{
  g_return_val_if_fail (SY_IS_API_ACCESS_PAGE (self), NULL);

  return self->dialog;
}

guint
sy_api_access_page_get_n_clients (SyApiAccessPage *self)
{
  g_return_val_if_fail (SY_IS_API_ACCESS_PAGE (self), 0);

  return self->n_clients;
}
