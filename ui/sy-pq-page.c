/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-pq-page"

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "sy-format.h"
#include "sy-meter-item.h"
#include "sy-pq-page.h"

/* How many of the newest events the table loads; live events come on top. */
#define EVENT_LIMIT 500
#define PROTECTION_LIMIT 100
/* Readings shown before and after an event, and the longest span fetched. */
#define TRACE_MARGIN_MIN_MS (5 * 1000)
#define TRACE_MARGIN_MAX_MS (30 * 1000)
#define TRACE_MAX_MS (2 * 3600 * 1000)

/* One event of the table. */

#define SY_TYPE_PQ_EVENT_ITEM (sy_pq_event_item_get_type ())
G_DECLARE_FINAL_TYPE (SyPqEventItem, sy_pq_event_item, SY, PQ_EVENT_ITEM, GObject)

struct _SyPqEventItem
{
  GObject     parent_instance;

  JsonObject *obj;
  gint64      id;
  gint64      meter_id;
  gint64      site_id;
  gint64      start_ms;
  gint64      end_ms;         /* -1 while open */
  gint64      duration_ms;    /* -1 while open */
  const char *type;           /* all point into obj */
  const char *state;
  const char *severity;
  const char *unit;
  const char *worst_phase;
  double      value;
  gboolean    acknowledged;
};

G_DEFINE_FINAL_TYPE (SyPqEventItem, sy_pq_event_item, G_TYPE_OBJECT)

static void
sy_pq_event_item_finalize (GObject *object)
{
  SyPqEventItem *self = (SyPqEventItem *) object;

  g_clear_pointer (&self->obj, json_object_unref);

  G_OBJECT_CLASS (sy_pq_event_item_parent_class)->finalize (object);
}

static void
sy_pq_event_item_class_init (SyPqEventItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sy_pq_event_item_finalize;
}

static void
sy_pq_event_item_init (SyPqEventItem *self)
{
}

static const char *
get_string (JsonObject *obj,
            const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gint64
get_int (JsonObject *obj,
         const char *name,
         gint64      fallback)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return fallback;
  return json_node_get_int (node);
}

static double
get_double (JsonObject *obj,
            const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return NAN;
  return json_node_get_double (node);
}

static gint64
get_time (JsonObject *obj,
          const char *name)
{
  const char *text = get_string (obj, name);

  return text != NULL ? sy_parse_iso8601 (text) : -1;
}

/* NULL if @obj is not an event. */
static SyPqEventItem *
sy_pq_event_item_new (JsonObject *obj)
{
  SyPqEventItem *self;

  if (obj == NULL || get_int (obj, "id", 0) <= 0 || get_string (obj, "type") == NULL ||
      get_string (obj, "state") == NULL || get_string (obj, "start") == NULL)
    return NULL;

  self = g_object_new (SY_TYPE_PQ_EVENT_ITEM, NULL);
  self->obj = json_object_ref (obj);
  self->id = get_int (obj, "id", 0);
  self->meter_id = get_int (obj, "meter_id", 0);
  self->site_id = get_int (obj, "site_id", 0);
  self->start_ms = get_time (obj, "start");
  self->end_ms = get_time (obj, "end");
  self->duration_ms = get_int (obj, "duration_ms", -1);
  self->type = get_string (obj, "type");
  self->state = get_string (obj, "state");
  self->severity = get_string (obj, "severity");
  self->unit = get_string (obj, "unit");
  self->worst_phase = get_string (obj, "worst_phase");
  self->value = get_double (obj, "value");
  self->acknowledged = json_object_has_member (obj, "acknowledged") &&
                       JSON_NODE_HOLDS_OBJECT (json_object_get_member (obj, "acknowledged"));
  return self;
}

/* The page. */

enum {
  COL_TIME,
  COL_METER,
  COL_TYPE,
  COL_SEVERITY,
  COL_DURATION,
  COL_WORST,
  COL_STATE,
  N_COLUMNS
};

static const char * const pq_types[] = { "dip", "swell", "interruption", "thd", "imbalance" };
static const char * const pq_states[] = { "open", "closed" };

struct _SyPqPage
{
  GtkWidget            parent_instance;

  SySiteModel         *model;
  SyClient            *client;
  GCancellable        *cancellable;
  GCancellable        *detail_cancellable;
  gboolean             read_only;
  gboolean             loaded_once;
  guint                pending;
  gboolean             detail_busy;
  gboolean             ack_busy;
  gboolean             summary_loaded;
  gboolean             reselecting;
  int                  week_offset;
  gint64               selected_id;
  guint                n_protection;
  GArray              *meter_ids;    /* gint64, in dropdown order (without "All") */

  GListStore          *store;
  GtkCustomFilter     *filter;
  GtkSingleSelection  *selection;
  GtkStringList       *meter_names;
  GtkStringList       *summary_meter_names;

  /* Template widgets. */
  AdwViewStack        *view_stack;
  GtkDropDown         *type_dropdown;
  GtkDropDown         *state_dropdown;
  GtkDropDown         *meter_dropdown;
  GtkStack            *list_stack;
  GtkColumnView       *column_view;
  GtkStack            *detail_stack;
  GtkLabel            *detail_title;
  SyChart             *detail_chart;
  GtkListBox          *detail_list;
  AdwEntryRow         *note_row;
  GtkDropDown         *summary_meter_dropdown;
  GtkLabel            *week_label;
  GtkListBox          *summary_list;
  GtkStack            *protection_stack;
  GtkListBox          *protection_list;
};

G_DEFINE_FINAL_TYPE (SyPqPage, sy_pq_page, GTK_TYPE_WIDGET)

static void load_events (SyPqPage *self);
static void load_protection (SyPqPage *self);
static void load_summary (SyPqPage *self);
static void show_detail (SyPqPage *self);

gboolean
sy_pq_event_is_critical (const char *type,
                         const char *severity)
{
  return g_strcmp0 (severity, "critical") == 0 || g_strcmp0 (type, "interruption") == 0;
}

const char *
sy_pq_event_type_label (const char *type)
{
  if (g_strcmp0 (type, "dip") == 0)
    /* Translators: a voltage dip (sag) */
    return _("Dip");
  if (g_strcmp0 (type, "swell") == 0)
    /* Translators: a voltage swell */
    return _("Swell");
  if (g_strcmp0 (type, "interruption") == 0)
    return _("Interruption");
  if (g_strcmp0 (type, "thd") == 0)
    /* Translators: total harmonic distortion */
    return _("Harmonic Distortion");
  if (g_strcmp0 (type, "imbalance") == 0)
    /* Translators: voltage imbalance between phases */
    return _("Imbalance");
  if (g_strcmp0 (type, "trip") == 0)
    /* Translators: a breaker trip */
    return _("Trip");
  if (g_strcmp0 (type, "earth_leakage") == 0)
    return _("Earth Leakage");
  if (g_strcmp0 (type, "breaker_state") == 0)
    return _("Breaker State");
  return type != NULL ? type : "—";
}

static const char *
severity_label (const char *severity)
{
  if (g_strcmp0 (severity, "info") == 0)
    /* Translators: event severity */
    return _("Info");
  if (g_strcmp0 (severity, "warning") == 0)
    /* Translators: event severity */
    return _("Warning");
  if (g_strcmp0 (severity, "critical") == 0)
    /* Translators: event severity */
    return _("Critical");
  return severity != NULL ? severity : "—";
}

static int
severity_rank (const char *severity)
{
  if (g_strcmp0 (severity, "critical") == 0)
    return 3;
  if (g_strcmp0 (severity, "warning") == 0)
    return 2;
  if (g_strcmp0 (severity, "info") == 0)
    return 1;
  return 0;
}

static void
toast (SyPqPage   *self,
       const char *message)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    {
      AdwToast *t = adw_toast_new (message);

      adw_toast_set_timeout (t, 5);
      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), t);
    }
  else
    g_message ("%s", message);
}

static char *
meter_name (SyPqPage *self,
            gint64    meter_id)
{
  SyMeterItem *meter = self->model != NULL && meter_id > 0 ? sy_site_model_lookup (self->model, meter_id) : NULL;

  if (meter != NULL && sy_meter_item_get_name (meter) != NULL)
    return g_strdup (sy_meter_item_get_name (meter));
  if (meter_id <= 0)
    return g_strdup ("—");
  /* Translators: a meter that is not (or no longer) in the site; %d is its number */
  return g_strdup_printf (_("Meter %d"), (int) meter_id);
}

static char *
format_duration (gint64 ms)
{
  if (ms < 0)
    return g_strdup ("—");
  if (ms < 1000)
    /* Translators: a duration in milliseconds */
    return g_strdup_printf (_("%d ms"), (int) ms);
  if (ms < 60 * 1000)
    return sy_format_value (ms / 1000.0, 1, "s");
  if (ms < 3600 * 1000)
    /* Translators: a duration in minutes and seconds */
    return g_strdup_printf (_("%d min %d s"), (int) (ms / 60000), (int) (ms / 1000 % 60));
  /* Translators: a duration in hours and minutes */
  return g_strdup_printf (_("%d h %d min"), (int) (ms / 3600000), (int) (ms / 60000 % 60));
}

static char *
format_worst (SyPqEventItem *item)
{
  g_autofree char *value = sy_format_value (item->value, 1, item->unit != NULL ? item->unit : "");

  if (item->worst_phase != NULL)
    {
      g_autofree char *phase = g_ascii_strup (item->worst_phase, -1);

      /* Translators: a phase (A, B, C) and the worst value there, "B: 181.2 V" */
      return g_strdup_printf (_("%s: %s"), phase, value);
    }
  return g_steal_pointer (&value);
}

static char *
cell_text (SyPqPage      *self,
           SyPqEventItem *item,
           guint          column)
{
  switch (column)
    {
    case COL_TIME:
      return sy_format_date_time (item->start_ms);
    case COL_METER:
      return meter_name (self, item->meter_id);
    case COL_TYPE:
      return g_strdup (sy_pq_event_type_label (item->type));
    case COL_SEVERITY:
      return g_strdup (severity_label (item->severity));
    case COL_DURATION:
      if (item->duration_ms < 0)
        {
          g_autofree char *since = sy_format_time (item->start_ms);

          /* Translators: an ongoing event; %s is when it started (HH:MM:SS) */
          return g_strdup_printf (_("since %s"), since);
        }
      return format_duration (item->duration_ms);
    case COL_WORST:
      return format_worst (item);
    case COL_STATE:
      if (g_strcmp0 (item->state, "open") == 0)
        /* Translators: an event that is still going on */
        return g_strdup (_("Ongoing"));
      return g_strdup (item->acknowledged ? _("Acknowledged") : _("Closed"));
    default:
      g_assert_not_reached ();
    }
}

static void
cell_setup_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               SyPqPage                 *self)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child (list_item, label);
}

static void
cell_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *list_item,
              SyPqPage                 *self)
{
  guint column = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (factory), "column"));
  SyPqEventItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *label = gtk_list_item_get_child (list_item);
  g_autofree char *text = cell_text (self, item, column);
  g_autofree char *severity_class = g_strdup_printf ("pq-severity-%s", item->severity ? item->severity : "none");
  const char *classes[4] = { NULL };
  guint n = 0;

  gtk_label_set_label (GTK_LABEL (label), text);
  if (column == COL_TIME || column == COL_DURATION || column == COL_WORST)
    classes[n++] = "numeric";
  if (column == COL_SEVERITY)
    {
      classes[n++] = "pq-severity";
      classes[n++] = severity_class;
    }
  if (column == COL_STATE && g_strcmp0 (item->state, "open") == 0)
    classes[n++] = "pq-open";
  gtk_widget_set_css_classes (label, classes);
}

static int
compare_items (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  const SyPqEventItem *x = a;
  const SyPqEventItem *y = b;
  int r = 0;

  switch (GPOINTER_TO_UINT (user_data))
    {
    case COL_TIME:
      r = (x->start_ms > y->start_ms) - (x->start_ms < y->start_ms);
      break;
    case COL_METER:
      r = (x->meter_id > y->meter_id) - (x->meter_id < y->meter_id);
      break;
    case COL_TYPE:
      r = g_strcmp0 (x->type, y->type);
      break;
    case COL_SEVERITY:
      r = severity_rank (x->severity) - severity_rank (y->severity);
      break;
    case COL_DURATION:
      {
        /* Ongoing events are the longest so far. */
        gint64 dx = x->duration_ms < 0 ? G_MAXINT64 : x->duration_ms;
        gint64 dy = y->duration_ms < 0 ? G_MAXINT64 : y->duration_ms;

        r = (dx > dy) - (dx < dy);
      }
      break;
    case COL_WORST:
      r = g_strcmp0 (x->worst_phase, y->worst_phase);
      if (r == 0 && !isnan (x->value) && !isnan (y->value))
        r = (x->value > y->value) - (x->value < y->value);
      break;
    case COL_STATE:
      r = g_strcmp0 (x->state, y->state);
      break;
    default:
      g_assert_not_reached ();
    }

  if (r == 0)
    r = (x->id > y->id) - (x->id < y->id);
  return r < 0 ? GTK_ORDERING_SMALLER : r > 0 ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
}

static void
add_column (SyPqPage   *self,
            guint       column,
            const char *title,
            gboolean    expand)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  g_autoptr(GtkColumnViewColumn) col = NULL;
  g_autoptr(GtkCustomSorter) sorter = gtk_custom_sorter_new (compare_items, GUINT_TO_POINTER (column), NULL);

  g_object_set_data (G_OBJECT (factory), "column", GUINT_TO_POINTER (column));
  g_signal_connect_object (factory, "setup", G_CALLBACK (cell_setup_cb), self, 0);
  g_signal_connect_object (factory, "bind", G_CALLBACK (cell_bind_cb), self, 0);
  col = gtk_column_view_column_new (title, g_object_ref (factory));
  gtk_column_view_column_set_sorter (col, GTK_SORTER (sorter));
  gtk_column_view_column_set_expand (col, expand);
  gtk_column_view_column_set_resizable (col, TRUE);
  gtk_column_view_append_column (self->column_view, col);
}

/* Filters. */

static gboolean
filter_func (gpointer item,
             gpointer user_data)
{
  SyPqPage *self = user_data;
  SyPqEventItem *event = item;
  guint type = gtk_drop_down_get_selected (self->type_dropdown);
  guint state = gtk_drop_down_get_selected (self->state_dropdown);
  guint meter = gtk_drop_down_get_selected (self->meter_dropdown);

  if (type > 0 && type <= G_N_ELEMENTS (pq_types) && g_strcmp0 (event->type, pq_types[type - 1]) != 0)
    return FALSE;
  if (state > 0 && state <= G_N_ELEMENTS (pq_states) && g_strcmp0 (event->state, pq_states[state - 1]) != 0)
    return FALSE;
  if (meter > 0 && meter <= self->meter_ids->len &&
      event->meter_id != g_array_index (self->meter_ids, gint64, meter - 1))
    return FALSE;
  return TRUE;
}

static void
filter_changed_cb (SyPqPage *self)
{
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
update_list_state (SyPqPage *self)
{
  gtk_stack_set_visible_child_name (self->list_stack,
                                    g_list_model_get_n_items (G_LIST_MODEL (self->store)) > 0 ? "list" : "empty");
}

static void
update_actions (SyPqPage *self)
{
  SyPqEventItem *item = gtk_single_selection_get_selected_item (self->selection);
  gboolean can_ack = !self->read_only && !self->ack_busy && item != NULL && !item->acknowledged;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "pq.acknowledge", can_ack);
  gtk_widget_set_sensitive (GTK_WIDGET (self->note_row), can_ack);
}

static guint
find_event (SyPqPage *self,
            gint64    id)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->store));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SyPqEventItem) item = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      if (item->id == id)
        return i;
    }
  return G_MAXUINT;
}

/* Adds @obj to the table or replaces the listed event with the same id. */
static void
upsert_event (SyPqPage   *self,
              JsonObject *obj)
{
  g_autoptr(SyPqEventItem) item = sy_pq_event_item_new (obj);
  gint64 selected_id;
  guint pos;

  if (item == NULL)
    return;

  selected_id = self->selected_id;
  pos = find_event (self, item->id);
  self->reselecting = TRUE;
  if (pos != G_MAXUINT)
    g_list_store_splice (self->store, pos, 1, (gpointer *) &item, 1);
  else
    g_list_store_insert (self->store, 0, item);
  self->reselecting = FALSE;

  update_list_state (self);
  /* Replacing the selected item unselects it: select the new one (which shows it). */
  if (selected_id > 0 && !sy_pq_page_select_event (self, selected_id))
    show_detail (self);
  else if (item->id == selected_id)
    show_detail (self);
}

/* Events from REST. */

static void
events_loaded_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  SyPqPage *self = user_data;
  JsonArray *results;
  g_autoptr(GPtrArray) items = NULL;
  gint64 selected_id;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->pending--;

  if (error != NULL)
    {
      /* Translators: %s is why */
      g_autofree char *text = g_strdup_printf (_("Could not load the power quality events: %s"), error->message);

      toast (self, text);
      return;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node) ||
      (results = json_object_get_array_member (json_node_get_object (node), "results")) == NULL)
    return;

  items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonNode *element = json_array_get_element (results, i);
      SyPqEventItem *item = JSON_NODE_HOLDS_OBJECT (element) ? sy_pq_event_item_new (json_node_get_object (element)) : NULL;

      if (item != NULL)
        g_ptr_array_add (items, item);
    }

  selected_id = self->selected_id;
  self->reselecting = TRUE;
  g_list_store_splice (self->store, 0, g_list_model_get_n_items (G_LIST_MODEL (self->store)),
                       items->pdata, items->len);
  self->reselecting = FALSE;
  self->loaded_once = TRUE;
  update_list_state (self);

  /* Keep the selection on the same event. */
  if (selected_id > 0 && !sy_pq_page_select_event (self, selected_id))
    show_detail (self);
}

static void
load_events (SyPqPage *self)
{
  g_autofree char *path = NULL;
  gint64 site_id;

  if (self->client == NULL || self->model == NULL || !sy_site_model_get_loaded (self->model))
    return;

  site_id = sy_site_model_get_site_id (self->model);
  path = g_strdup_printf ("/api/energy/pq/events?site_id=%" G_GINT64_FORMAT "&limit=%d", site_id, EVENT_LIMIT);
  self->pending++;
  sy_client_request_async (self->client, "GET", path, NULL, self->cancellable, events_loaded_cb, self);
}

/* Detail. */

static void
add_detail_row (GtkListBox *list,
                const char *title,
                const char *value)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *label;

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_list_box_append (list, row);

  /* Long texts (notes, errors) go below the title; short values to the right. */
  if (g_utf8_strlen (value, -1) > 24)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), value);
      return;
    }

  label = gtk_label_new (value);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_widget_add_css_class (label, "numeric");
  gtk_widget_add_css_class (label, "dim-label");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
}

static void
clear_list (GtkListBox *list)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

static void
readings_loaded_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  static const char * const phases[] = { "voltage_a", "voltage_b", "voltage_c" };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) readings = sy_client_list_all_finish (SY_CLIENT (object), result, &error);
  SyPqPage *self = user_data;
  guint n;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->detail_busy = FALSE;

  if (error != NULL)
    {
      /* Translators: %s is why */
      g_autofree char *text = g_strdup_printf (_("Could not load the voltage trace: %s"), error->message);

      toast (self, text);
      return;
    }

  n = json_array_get_length (readings);
  for (guint p = 0; p < G_N_ELEMENTS (phases); p++)
    {
      g_autofree gint64 *ts = g_new (gint64, MAX (n, 1));
      g_autofree double *values = g_new (double, MAX (n, 1));
      gsize count = 0;

      for (guint i = 0; i < n; i++)
        {
          JsonNode *element = json_array_get_element (readings, i);
          JsonObject *reading;
          gint64 t;
          double v;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          reading = json_node_get_object (element);
          t = get_time (reading, "timestamp");
          v = get_double (reading, phases[p]);
          if (t < 0 || isnan (v) || (count > 0 && t <= ts[count - 1]))
            continue;
          ts[count] = t;
          values[count] = v;
          count++;
        }
      sy_chart_set_points (self->detail_chart, p, ts, values, count);
    }
}

static void
show_detail (SyPqPage *self)
{
  SyPqEventItem *item = gtk_single_selection_get_selected_item (self->selection);
  g_autofree char *meter = NULL;
  g_autofree char *title = NULL;
  g_autofree char *start = NULL;
  g_autofree char *duration = NULL;
  g_autofree char *worst = NULL;
  g_autofree char *threshold = NULL;
  g_autofree char *path = NULL;
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  JsonNode *ack;
  const char *dip_class;
  gint64 from_ms, to_ms, margin_ms;

  if (self->reselecting)
    return;

  g_cancellable_cancel (self->detail_cancellable);
  g_clear_object (&self->detail_cancellable);
  self->detail_busy = FALSE;
  update_actions (self);

  if (item == NULL)
    {
      self->selected_id = 0;
      gtk_stack_set_visible_child_name (self->detail_stack, "none");
      return;
    }

  if (item->id != self->selected_id)
    gtk_editable_set_text (GTK_EDITABLE (self->note_row), "");
  self->selected_id = item->id;
  gtk_stack_set_visible_child_name (self->detail_stack, "detail");

  meter = meter_name (self, item->meter_id);
  /* Translators: "Dip on Main Incomer" */
  title = g_strdup_printf (_("%s on %s"), sy_pq_event_type_label (item->type), meter);
  gtk_label_set_label (self->detail_title, title);

  clear_list (self->detail_list);
  start = sy_format_date_time (item->start_ms);
  add_detail_row (self->detail_list, _("Start"), start);
  if (g_strcmp0 (item->state, "open") == 0)
    add_detail_row (self->detail_list, _("State"), _("Ongoing"));
  else
    {
      duration = format_duration (item->duration_ms);
      add_detail_row (self->detail_list, _("Duration"), duration);
    }
  add_detail_row (self->detail_list, _("Severity"), severity_label (item->severity));
  worst = format_worst (item);
  /* Translators: the worst phase and value of an event */
  add_detail_row (self->detail_list, _("Worst Value"), worst);
  threshold = sy_format_value (get_double (item->obj, "threshold"), 1, item->unit != NULL ? item->unit : "");
  add_detail_row (self->detail_list, _("Threshold"), threshold);
  dip_class = get_string (item->obj, "dip_class");
  if (dip_class != NULL)
    /* Translators: the EN 50160 class of a dip or swell (1A…5E, S1A…) */
    add_detail_row (self->detail_list, _("EN 50160 Class"), dip_class);

  ack = json_object_get_member (item->obj, "acknowledged");
  if (ack != NULL && JSON_NODE_HOLDS_OBJECT (ack))
    {
      JsonObject *a = json_node_get_object (ack);
      g_autofree char *at = sy_format_date_time (get_time (a, "at"));
      const char *note = get_string (a, "note");
      g_autofree char *text = note != NULL && *note != '\0'
                              /* Translators: when an event was acknowledged, and the note */
                              ? g_strdup_printf (_("%s — %s"), at, note)
                              : g_strdup (at);

      add_detail_row (self->detail_list, _("Acknowledged"), text);
    }

  /* The voltage of each phase around the event, from the stored readings. */
  margin_ms = item->duration_ms >= 0 ? CLAMP (item->duration_ms, TRACE_MARGIN_MIN_MS, TRACE_MARGIN_MAX_MS)
                                     : TRACE_MARGIN_MAX_MS;
  from_ms = item->start_ms - margin_ms;
  to_ms = (item->end_ms > 0 ? item->end_ms : g_get_real_time () / 1000) + margin_ms;
  to_ms = MIN (to_ms, from_ms + TRACE_MAX_MS);
  sy_chart_clear (self->detail_chart);
  sy_chart_set_unit (self->detail_chart, "V");
  sy_chart_set_time_range (self->detail_chart, from_ms, to_ms);
  /* Translators: phase voltages in the chart's legend */
  sy_chart_add_series (self->detail_chart, _("L1"), NULL);
  sy_chart_add_series (self->detail_chart, _("L2"), NULL);
  sy_chart_add_series (self->detail_chart, _("L3"), NULL);

  from = sy_format_iso8601 (from_ms);
  to = sy_format_iso8601 (to_ms);
  path = g_strdup_printf ("/api/energy/energy-data?meter_id=%" G_GINT64_FORMAT "&from=%s&to=%s&limit=1000",
                          item->meter_id, from, to);
  self->detail_cancellable = g_cancellable_new ();
  self->detail_busy = TRUE;
  sy_client_list_all_async (self->client, path, self->detail_cancellable, readings_loaded_cb, self);
}

/* Acknowledge. */

static void
acknowledged_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  SyPqPage *self = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->pending--;
  self->ack_busy = FALSE;

  if (error != NULL)
    {
      /* Translators: %s is why */
      g_autofree char *text = g_strdup_printf (_("Could not acknowledge the event: %s"), error->message);

      toast (self, text);
    }
  else
    {
      if (JSON_NODE_HOLDS_OBJECT (node))
        upsert_event (self, json_node_get_object (node));
      gtk_editable_set_text (GTK_EDITABLE (self->note_row), "");
      toast (self, _("Event acknowledged"));
    }
  update_actions (self);
}

static void
acknowledge_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  SyPqPage *self = SY_PQ_PAGE (widget);
  SyPqEventItem *item = gtk_single_selection_get_selected_item (self->selection);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *path = NULL;
  const char *note = gtk_editable_get_text (GTK_EDITABLE (self->note_row));

  if (self->read_only || item == NULL || self->ack_busy)
    return;

  json_builder_begin_object (builder);
  if (note != NULL && *note != '\0')
    {
      json_builder_set_member_name (builder, "note");
      json_builder_add_string_value (builder, note);
    }
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  path = g_strdup_printf ("/api/energy/pq/events/%" G_GINT64_FORMAT "/acknowledge", item->id);
  self->ack_busy = TRUE;
  self->pending++;
  update_actions (self);
  sy_client_request_async (self->client, "POST", path, body, self->cancellable, acknowledged_cb, self);
}

/* EN 50160 weekly summary. */

static char *
current_week (SyPqPage *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_weeks (now, self->week_offset);

  return g_strdup_printf ("%d-W%02d", g_date_time_get_week_numbering_year (then),
                          g_date_time_get_week_of_year (then));
}

static gint64
table_total (JsonObject *summary,
             const char *name)
{
  JsonObject *table = json_object_get_object_member (summary, name);
  JsonArray *counts = table != NULL ? json_object_get_array_member (table, "counts") : NULL;
  gint64 total = 0;

  for (guint r = 0; counts != NULL && r < json_array_get_length (counts); r++)
    {
      JsonNode *row = json_array_get_element (counts, r);

      if (!JSON_NODE_HOLDS_ARRAY (row))
        continue;
      for (guint c = 0; c < json_array_get_length (json_node_get_array (row)); c++)
        total += json_array_get_int_element (json_node_get_array (row), c);
    }
  return total;
}

static void
add_share_row (SyPqPage   *self,
               JsonObject *summary,
               const char *name,
               const char *title)
{
  JsonObject *share = json_object_get_object_member (summary, name);
  g_autofree char *value = NULL;
  JsonNode *compliant = share != NULL ? json_object_get_member (share, "compliant") : NULL;
  double within = share != NULL ? get_double (share, "share_within") : NAN;

  if (isnan (within))
    value = g_strdup (_("No data"));
  else
    {
      g_autofree char *pct = sy_format_value (within * 100, 1, "%");

      value = g_strdup_printf ("%s · %s", pct,
                               compliant != NULL && JSON_NODE_HOLDS_VALUE (compliant) && json_node_get_boolean (compliant)
                               /* Translators: EN 50160 compliance */
                               ? _("Compliant") : _("Not compliant"));
    }
  add_detail_row (self->summary_list, title, value);
}

static void
summary_loaded_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  SyPqPage *self = user_data;
  JsonObject *summary;
  JsonObject *interruptions;
  g_autofree char *with_data = NULL;
  g_autofree char *dips = NULL;
  g_autofree char *swells = NULL;
  g_autofree char *short_i = NULL;
  g_autofree char *long_i = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->pending--;
  clear_list (self->summary_list);

  if (error != NULL)
    {
      add_detail_row (self->summary_list, _("Could not load the summary"), error->message);
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return;

  summary = json_node_get_object (node);
  /* Translators: EN 50160 rows: supply voltage within ±10 % of nominal */
  add_share_row (self, summary, "voltage", _("Voltage (±10 %)"));
  add_share_row (self, summary, "thd", _("Harmonic Distortion (≤ 8 %)"));
  add_share_row (self, summary, "imbalance", _("Imbalance (≤ 2 %)"));
  /* Translators: 10-minute intervals of the week that have readings, "512 of 1008" */
  with_data = g_strdup_printf (_("%d of %d"), (int) get_int (summary, "intervals_with_data", 0),
                               (int) get_int (summary, "intervals_total", 0));
  add_detail_row (self->summary_list, _("Intervals With Data"), with_data);
  dips = g_strdup_printf ("%" G_GINT64_FORMAT, table_total (summary, "dips"));
  add_detail_row (self->summary_list, _("Dips"), dips);
  swells = g_strdup_printf ("%" G_GINT64_FORMAT, table_total (summary, "swells"));
  add_detail_row (self->summary_list, _("Swells"), swells);
  interruptions = json_object_get_object_member (summary, "interruptions");
  if (interruptions != NULL)
    {
      short_i = g_strdup_printf ("%" G_GINT64_FORMAT, get_int (interruptions, "short", 0));
      long_i = g_strdup_printf ("%" G_GINT64_FORMAT, get_int (interruptions, "long", 0));
      /* Translators: interruptions of up to 3 minutes */
      add_detail_row (self->summary_list, _("Short Interruptions"), short_i);
      add_detail_row (self->summary_list, _("Long Interruptions"), long_i);
    }
  self->summary_loaded = TRUE;
}

static void
load_summary (SyPqPage *self)
{
  g_autofree char *week = current_week (self);
  g_autofree char *path = NULL;
  guint selected = gtk_drop_down_get_selected (self->summary_meter_dropdown);

  gtk_label_set_label (self->week_label, week);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "pq.next-week", self->week_offset < 0);

  if (self->client == NULL || selected >= self->meter_ids->len)
    {
      clear_list (self->summary_list);
      add_detail_row (self->summary_list, _("No meter"), "—");
      return;
    }

  path = g_strdup_printf ("/api/energy/pq/summary?meter_id=%" G_GINT64_FORMAT "&week=%s",
                          g_array_index (self->meter_ids, gint64, selected), week);
  self->pending++;
  sy_client_request_async (self->client, "GET", path, NULL, self->cancellable, summary_loaded_cb, self);
}

static void
week_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  SyPqPage *self = SY_PQ_PAGE (widget);

  if (g_str_equal (action_name, "pq.previous-week"))
    self->week_offset--;
  else if (self->week_offset < 0)
    self->week_offset++;
  load_summary (self);
}

/* Protection events. */

static void
protection_loaded_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  SyPqPage *self = user_data;
  JsonArray *results;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->pending--;

  if (error != NULL)
    {
      /* Translators: %s is why */
      g_autofree char *text = g_strdup_printf (_("Could not load the protection events: %s"), error->message);

      toast (self, text);
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node) ||
      (results = json_object_get_array_member (json_node_get_object (node), "results")) == NULL)
    return;

  clear_list (self->protection_list);
  self->n_protection = 0;
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonNode *element = json_array_get_element (results, i);
      JsonObject *event;
      GtkWidget *row;
      GtkWidget *label;
      g_autofree char *title = NULL;
      g_autofree char *when = NULL;
      g_autofree char *meter = NULL;
      g_autofree char *subtitle = NULL;
      g_autofree char *severity_class = NULL;
      const char *breaker, *detail, *type, *severity;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      event = json_node_get_object (element);
      type = get_string (event, "type");
      severity = get_string (event, "severity");
      breaker = get_string (event, "breaker_id");
      detail = get_string (event, "cause");
      if (detail == NULL)
        detail = get_string (event, "state");

      title = breaker != NULL
              /* Translators: "Trip · Q1", an event type and a breaker */
              ? g_strdup_printf (_("%s · %s"), sy_pq_event_type_label (type), breaker)
              : g_strdup (sy_pq_event_type_label (type));
      when = sy_format_date_time (get_time (event, "timestamp"));
      meter = meter_name (self, get_int (event, "meter_id", 0));
      subtitle = detail != NULL ? g_strdup_printf ("%s · %s · %s", when, meter, detail)
                                : g_strdup_printf ("%s · %s", when, meter);

      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      label = gtk_label_new (severity_label (severity));
      severity_class = g_strdup_printf ("pq-severity-%s", severity != NULL ? severity : "none");
      gtk_widget_add_css_class (label, "pq-severity");
      gtk_widget_add_css_class (label, severity_class);
      gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
      gtk_list_box_append (self->protection_list, row);
      self->n_protection++;
    }
  gtk_stack_set_visible_child_name (self->protection_stack, self->n_protection > 0 ? "list" : "empty");
}

static void
load_protection (SyPqPage *self)
{
  g_autofree char *path = NULL;

  if (self->client == NULL || self->model == NULL || !sy_site_model_get_loaded (self->model))
    return;

  path = g_strdup_printf ("/api/energy/protection/events?site_id=%" G_GINT64_FORMAT "&limit=%d",
                          sy_site_model_get_site_id (self->model), PROTECTION_LIMIT);
  self->pending++;
  sy_client_request_async (self->client, "GET", path, NULL, self->cancellable, protection_loaded_cb, self);
}

/* Live. */

static void
pq_event_cb (SyClient   *client,
             const char *type,
             gint64      ts_ms,
             JsonNode   *data,
             SyPqPage   *self)
{
  JsonObject *obj;
  gint64 site_id;

  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data) || self->model == NULL)
    return;
  obj = json_node_get_object (data);
  site_id = get_int (obj, "site_id", 0);
  if (site_id > 0 && site_id != sy_site_model_get_site_id (self->model))
    return;
  upsert_event (self, obj);
}

static void
protection_event_cb (SyPqPage *self)
{
  load_protection (self);
}

static void
meters_changed_cb (SyPqPage *self)
{
  GListModel *meters;
  guint n;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (self->model == NULL)
    return;

  meters = sy_site_model_get_meters (self->model);
  n = g_list_model_get_n_items (meters);
  g_array_set_size (self->meter_ids, 0);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SyMeterItem) meter = g_list_model_get_item (meters, i);
      gint64 id = sy_meter_item_get_id (meter);

      g_array_append_val (self->meter_ids, id);
      g_ptr_array_add (names, meter_name (self, id));
    }
  g_ptr_array_add (names, NULL);

  g_signal_handlers_block_by_func (self->meter_dropdown, filter_changed_cb, self);
  gtk_string_list_splice (self->meter_names, 1, g_list_model_get_n_items (G_LIST_MODEL (self->meter_names)) - 1,
                          (const char * const *) names->pdata);
  gtk_drop_down_set_selected (self->meter_dropdown, 0);
  g_signal_handlers_unblock_by_func (self->meter_dropdown, filter_changed_cb, self);
  filter_changed_cb (self);

  g_signal_handlers_block_by_func (self->summary_meter_dropdown, load_summary, self);
  gtk_string_list_splice (self->summary_meter_names, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->summary_meter_names)),
                          (const char * const *) names->pdata);
  gtk_drop_down_set_selected (self->summary_meter_dropdown, 0);
  g_signal_handlers_unblock_by_func (self->summary_meter_dropdown, load_summary, self);
}

static void
model_loaded_cb (SyPqPage *self)
{
  if (!sy_site_model_get_loaded (self->model))
    return;

  meters_changed_cb (self);
  sy_pq_page_refresh (self);
}

static void
client_state_cb (SyPqPage *self)
{
  /* Events may have been missed while the stream was down. */
  if (self->loaded_once && sy_client_get_state (self->client) == SY_CLIENT_STATE_CONNECTED)
    {
      load_events (self);
      load_protection (self);
    }
}

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  sy_pq_page_refresh (SY_PQ_PAGE (widget));
}

/* GObject. */

static void
sy_pq_page_dispose (GObject *object)
{
  SyPqPage *self = (SyPqPage *) object;
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->detail_cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), SY_TYPE_PQ_PAGE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->model);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (sy_pq_page_parent_class)->dispose (object);
}

static void
sy_pq_page_finalize (GObject *object)
{
  SyPqPage *self = (SyPqPage *) object;

  g_clear_object (&self->cancellable);
  g_clear_object (&self->detail_cancellable);
  g_clear_object (&self->store);
  g_clear_object (&self->filter);
  g_clear_object (&self->selection);
  g_clear_object (&self->meter_names);
  g_clear_object (&self->summary_meter_names);
  g_clear_pointer (&self->meter_ids, g_array_unref);

  G_OBJECT_CLASS (sy_pq_page_parent_class)->finalize (object);
}

static void
sy_pq_page_class_init (SyPqPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sy_pq_page_dispose;
  object_class->finalize = sy_pq_page_finalize;

  g_type_ensure (SY_TYPE_CHART);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/switchyard/Switchyard/ui/sy-pq-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, view_stack);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, type_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, state_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, meter_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, list_stack);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, column_view);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, detail_stack);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, detail_title);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, detail_chart);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, detail_list);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, note_row);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, summary_meter_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, week_label);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, summary_list);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, protection_stack);
  gtk_widget_class_bind_template_child (widget_class, SyPqPage, protection_list);

  gtk_widget_class_install_action (widget_class, "pq.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "pq.acknowledge", NULL, acknowledge_action);
  gtk_widget_class_install_action (widget_class, "pq.previous-week", NULL, week_action);
  gtk_widget_class_install_action (widget_class, "pq.next-week", NULL, week_action);
}

static void
sy_pq_page_init (SyPqPage *self)
{
  static const char * const type_names[] = {
    /* Translators: filter: every event type */
    N_("All Types"), N_("Dip"), N_("Swell"), N_("Interruption"), N_("Harmonic Distortion"), N_("Imbalance"),
  };
  /* Translators: filter: every event state; open = ongoing */
  static const char * const state_names[] = { N_("All States"), N_("Ongoing"), N_("Closed") };
  g_autoptr(GtkStringList) types = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) states = gtk_string_list_new (NULL);
  g_autoptr(GtkSortListModel) sorted = NULL;
  GtkFilterListModel *filtered;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->meter_ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < G_N_ELEMENTS (type_names); i++)
    gtk_string_list_append (types, _(type_names[i]));
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    gtk_string_list_append (states, _(state_names[i]));
  gtk_drop_down_set_model (self->type_dropdown, G_LIST_MODEL (types));
  gtk_drop_down_set_model (self->state_dropdown, G_LIST_MODEL (states));
  self->meter_names = gtk_string_list_new (NULL);
  /* Translators: filter: every meter */
  gtk_string_list_append (self->meter_names, _("All Meters"));
  gtk_drop_down_set_model (self->meter_dropdown, G_LIST_MODEL (self->meter_names));
  self->summary_meter_names = gtk_string_list_new (NULL);
  gtk_drop_down_set_model (self->summary_meter_dropdown, G_LIST_MODEL (self->summary_meter_names));

  add_column (self, COL_TIME, _("Time"), FALSE);
  add_column (self, COL_METER, _("Meter"), TRUE);
  add_column (self, COL_TYPE, _("Type"), FALSE);
  add_column (self, COL_SEVERITY, _("Severity"), FALSE);
  add_column (self, COL_DURATION, _("Duration"), FALSE);
  /* Translators: column: the worst phase and its value */
  add_column (self, COL_WORST, _("Worst Phase"), FALSE);
  add_column (self, COL_STATE, _("State"), FALSE);

  self->store = g_list_store_new (SY_TYPE_PQ_EVENT_ITEM);
  self->filter = gtk_custom_filter_new (filter_func, self, NULL);
  filtered = gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (self->store)),
                                        GTK_FILTER (g_object_ref (self->filter)));
  sorted = gtk_sort_list_model_new (G_LIST_MODEL (filtered),
                                    g_object_ref (gtk_column_view_get_sorter (self->column_view)));
  self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (sorted)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));

  g_signal_connect_object (self->selection, "notify::selected-item", G_CALLBACK (show_detail), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->type_dropdown, "notify::selected", G_CALLBACK (filter_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->state_dropdown, "notify::selected", G_CALLBACK (filter_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->meter_dropdown, "notify::selected", G_CALLBACK (filter_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->summary_meter_dropdown, "notify::selected", G_CALLBACK (load_summary), self,
                           G_CONNECT_SWAPPED);

  sy_chart_set_unit (self->detail_chart, "V");
  gtk_stack_set_visible_child_name (self->list_stack, "empty");
  gtk_stack_set_visible_child_name (self->detail_stack, "none");
  gtk_stack_set_visible_child_name (self->protection_stack, "empty");
  update_actions (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "pq.next-week", FALSE);
  {
    g_autofree char *week = current_week (self);

    gtk_label_set_label (self->week_label, week);
  }
}

/* Public. */

void
sy_pq_page_set_model (SyPqPage    *self,
                      SySiteModel *model)
{
  g_return_if_fail (SY_IS_PQ_PAGE (self));
  g_return_if_fail (SY_IS_SITE_MODEL (model));
  g_return_if_fail (self->model == NULL);

  self->model = g_object_ref (model);
  self->client = g_object_ref (sy_site_model_get_client (model));

  g_signal_connect_object (model, "notify::loaded", G_CALLBACK (model_loaded_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (sy_site_model_get_meters (model), "items-changed", G_CALLBACK (meters_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "event::pq.event", G_CALLBACK (pq_event_cb), self, 0);
  g_signal_connect_object (self->client, "event::protection.event", G_CALLBACK (protection_event_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->client, "notify::state", G_CALLBACK (client_state_cb), self, G_CONNECT_SWAPPED);

  if (sy_site_model_get_loaded (model))
    model_loaded_cb (self);
}

void
sy_pq_page_set_read_only (SyPqPage *self,
                          gboolean  read_only)
{
  g_return_if_fail (SY_IS_PQ_PAGE (self));

  self->read_only = !!read_only;
  update_actions (self);
}

void
sy_pq_page_refresh (SyPqPage *self)
{
  g_return_if_fail (SY_IS_PQ_PAGE (self));

  load_events (self);
  load_protection (self);
  load_summary (self);
}

gboolean
sy_pq_page_get_busy (SyPqPage *self)
{
  g_return_val_if_fail (SY_IS_PQ_PAGE (self), FALSE);

  return self->pending > 0;
}

guint
sy_pq_page_get_n_events (SyPqPage *self)
{
  g_return_val_if_fail (SY_IS_PQ_PAGE (self), 0);

  return g_list_model_get_n_items (G_LIST_MODEL (self->store));
}

static SyPqEventItem *
lookup_event (SyPqPage *self,
              gint64    id)
{
  guint pos = find_event (self, id);

  if (pos == G_MAXUINT)
    return NULL;
  /* The store keeps a reference. */
  return g_list_model_get_item (G_LIST_MODEL (self->store), pos);
}

const char *
sy_pq_page_get_event_state (SyPqPage *self,
                            gint64    id)
{
  g_autoptr(SyPqEventItem) item = NULL;

  g_return_val_if_fail (SY_IS_PQ_PAGE (self), NULL);

  item = lookup_event (self, id);
  return item != NULL ? g_intern_string (item->state) : NULL;
}

gboolean
sy_pq_page_get_event_acknowledged (SyPqPage *self,
                                   gint64    id)
{
  g_autoptr(SyPqEventItem) item = NULL;

  g_return_val_if_fail (SY_IS_PQ_PAGE (self), FALSE);

  item = lookup_event (self, id);
  return item != NULL && item->acknowledged;
}

gboolean
sy_pq_page_select_event (SyPqPage *self,
                         gint64    id)
{
  GListModel *model;
  guint n;

  g_return_val_if_fail (SY_IS_PQ_PAGE (self), FALSE);

  model = G_LIST_MODEL (self->selection);
  n = g_list_model_get_n_items (model);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SyPqEventItem) item = g_list_model_get_item (model, i);

      if (item->id == id)
        {
          if (gtk_single_selection_get_selected (self->selection) != i)
            gtk_single_selection_set_selected (self->selection, i);
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
sy_pq_page_get_detail_busy (SyPqPage *self)
{
  g_return_val_if_fail (SY_IS_PQ_PAGE (self), FALSE);

  return self->detail_busy;
}

SyChart *
sy_pq_page_get_detail_chart (SyPqPage *self)
{
  g_return_val_if_fail (SY_IS_PQ_PAGE (self), NULL);

  return self->detail_chart;
}

guint
sy_pq_page_get_n_protection_events (SyPqPage *self)
{
  g_return_val_if_fail (SY_IS_PQ_PAGE (self), 0);

  return self->n_protection;
}

gboolean
sy_pq_page_get_summary_loaded (SyPqPage *self)
{
  g_return_val_if_fail (SY_IS_PQ_PAGE (self), FALSE);

  return self->summary_loaded;
}
