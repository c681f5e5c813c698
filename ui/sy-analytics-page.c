/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-ui"

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "sy-analytics-page.h"
#include "sy-format.h"

#define DAY_MS          (G_GINT64_CONSTANT (86400000))
#define HOUR_MS         (G_GINT64_CONSTANT (3600000))
#define HISTORY_MS      DAY_MS
#define HORIZON_HOURS   24
#define PROFILE_AFTER   (14 * DAY_MS)   /* longer ranges show the weekday × hour profile */

typedef struct
{
  char   *type;          /* "site", "group", "meter" */
  gint64  id;
  GArray *meter_ids;     /* gint64: what an export of this entity covers */
} Entity;

static void
entity_free (gpointer data)
{
  Entity *entity = data;

  g_free (entity->type);
  g_clear_pointer (&entity->meter_ids, g_array_unref);
  g_free (entity);
}

struct _SyAnalyticsPage
{
  GtkWidget         parent_instance;

  SySiteModel      *model;
  SyClient         *client;
  GPtrArray        *entities;        /* Entity, parallel to entity_model */
  GtkStringList    *entity_model;
  GCancellable     *cancellable;     /* the current load */
  guint             pending;
  gboolean          read_only;
  gboolean          building;        /* filling the pickers: no loads */
  char             *query;
  gint64            from_ms;
  gint64            to_ms;
  gint64            custom_from_ms;
  gint64            custom_to_ms;
  gint64            loaded_us;       /* monotonic time of the last load */

  /* Export */
  GCancellable     *export_cancellable;
  GFile            *export_file;
  GOutputStream    *export_stream;
  GtkFileChooserNative *chooser;

  GtkDropDown      *entity_dropdown;
  GtkDropDown      *range_dropdown;
  GtkMenuButton    *from_button;
  GtkMenuButton    *to_button;
  GtkCalendar      *from_calendar;
  GtkCalendar      *to_calendar;
  GtkRevealer      *export_revealer;
  GtkProgressBar   *export_progress;
  GtkStack         *content_stack;
  AdwStatusPage    *error_status;
  GtkFlowBox       *kpi_box;
  AdwPreferencesGroup *heatmap_group;
  GtkStack         *heatmap_stack;
  SyHeatmap        *heatmap;
  AdwStatusPage    *heatmap_status;
  GtkStack         *forecast_stack;
  SyChart          *forecast_chart;
  GtkLabel         *forecast_label;
  AdwStatusPage    *forecast_status;
};

G_DEFINE_FINAL_TYPE (SyAnalyticsPage, sy_analytics_page, GTK_TYPE_WIDGET)

static void load (SyAnalyticsPage *self);

static void
toast (SyAnalyticsPage *self,
       const char      *message)
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

/* JSON helpers: a missing or null member is NaN. */
static double
get_number (JsonObject *obj,
            const char *key)
{
  JsonNode *node = json_object_get_member (obj, key);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) == G_TYPE_STRING)
    return NAN;
  return json_node_get_double (node);
}

/* KPI cards. */

static const struct
{
  const char *key;
  const char *title;
} kpi_cards[] = {
  { "energy_imported_kwh", N_("Imported") },
  { "energy_exported_kwh", N_("Exported") },
  { "peak_demand_15min_kw", N_("Peak Demand (15 min)") },
  { "load_factor", N_("Load Factor") },
  { "pv_yield_kwh", N_("PV Yield") },
  { "self_consumption_pct", N_("Self-Consumption") },
  { "autarky_pct", N_("Autarky") },
  { "completeness_pct", N_("Data Completeness") },
};

static char *
format_energy (double kwh)
{
  /* Small amounts (a young site, a short range) need more than one decimal. */
  if (!isnan (kwh) && fabs (kwh) < 10)
    /* Translators: an energy value */
    return g_strdup_printf (_("%.2f kWh"), kwh);
  return sy_format_energy (kwh);
}

static char *
format_percent (double pct)
{
  if (isnan (pct))
    return g_strdup ("—");
  /* Translators: a percentage; keep the thin space */
  return g_strdup_printf (_("%.1f %%"), pct);
}

char *
sy_analytics_format_kpi (JsonObject *kpi,
                         const char *key)
{
  double value;

  g_return_val_if_fail (kpi != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  value = get_number (kpi, key);
  if (g_str_has_suffix (key, "_kwh"))
    return format_energy (value);
  if (g_str_has_suffix (key, "_pct"))
    return format_percent (value);
  if (g_str_equal (key, "load_factor"))
    return format_percent (isnan (value) ? NAN : value * 100);
  if (g_str_equal (key, "peak_demand_15min_kw"))
    return sy_format_power (isnan (value) ? NAN : value * 1000, "auto");
  return sy_format_value (value, 2, "");
}

static char *
kpi_subtitle (JsonObject *kpi,
              const char *key)
{
  if (g_str_equal (key, "peak_demand_15min_kw"))
    {
      const char *at = json_object_get_string_member_with_default (kpi, "peak_demand_at", NULL);
      gint64 ms = at != NULL ? sy_parse_iso8601 (at) : -1;
      g_autofree char *when = NULL;

      if (ms < 0)
        return g_strdup ("");
      when = sy_format_date_time (ms);
      /* Translators: when the peak demand was, "at 2026-03-01 14:15" */
      return g_strdup_printf (_("at %s"), when);
    }
  if (g_str_equal (key, "completeness_pct"))
    {
      JsonNode *expected = json_object_get_member (kpi, "expected_readings");

      if (expected == NULL || JSON_NODE_HOLDS_NULL (expected))
        return g_strdup ("");
      /* Translators: readings received of readings expected */
      return g_strdup_printf (_("%lld of %lld readings"),
                              (long long) json_object_get_int_member_with_default (kpi, "readings", 0),
                              (long long) json_node_get_int (expected));
    }
  if (g_str_equal (key, "energy_imported_kwh") || g_str_equal (key, "energy_exported_kwh"))
    return g_strdup (g_str_equal (key, "energy_imported_kwh") ? _("from the grid") : _("to the grid"));
  if (g_str_equal (key, "load_factor"))
    return g_strdup (_("average ÷ peak demand"));
  return g_strdup ("");
}

static void
build_kpi_cards (SyAnalyticsPage *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (kpi_cards); i++)
    {
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
      GtkWidget *title = gtk_label_new (_(kpi_cards[i].title));
      GtkWidget *value = gtk_label_new ("—");
      GtkWidget *subtitle = gtk_label_new (NULL);
      g_autofree char *value_name = g_strconcat ("kpi-", kpi_cards[i].key, NULL);
      g_autofree char *subtitle_name = g_strconcat ("kpi-sub-", kpi_cards[i].key, NULL);

      gtk_widget_add_css_class (box, "card");
      gtk_widget_add_css_class (box, "analytics-kpi");
      gtk_widget_set_margin_start (title, 12);
      gtk_widget_set_margin_top (title, 12);
      gtk_label_set_xalign (GTK_LABEL (title), 0);
      gtk_widget_add_css_class (title, "caption-heading");
      gtk_widget_add_css_class (title, "dim-label");

      gtk_widget_set_name (value, value_name);
      gtk_widget_set_margin_start (value, 12);
      gtk_label_set_xalign (GTK_LABEL (value), 0);
      gtk_widget_add_css_class (value, "title-2");
      gtk_widget_add_css_class (value, "numeric");

      gtk_widget_set_name (subtitle, subtitle_name);
      gtk_widget_set_margin_start (subtitle, 12);
      gtk_widget_set_margin_bottom (subtitle, 12);
      gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
      gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (subtitle, "caption");
      gtk_widget_add_css_class (subtitle, "dim-label");

      gtk_box_append (GTK_BOX (box), title);
      gtk_box_append (GTK_BOX (box), value);
      gtk_box_append (GTK_BOX (box), subtitle);
      gtk_flow_box_append (self->kpi_box, box);
      g_object_set_data (G_OBJECT (self), value_name, value);
      g_object_set_data (G_OBJECT (self), subtitle_name, subtitle);
    }
}

static void
show_kpi (SyAnalyticsPage *self,
          JsonObject      *kpi)
{
  for (guint i = 0; i < G_N_ELEMENTS (kpi_cards); i++)
    {
      g_autofree char *value_name = g_strconcat ("kpi-", kpi_cards[i].key, NULL);
      g_autofree char *subtitle_name = g_strconcat ("kpi-sub-", kpi_cards[i].key, NULL);
      g_autofree char *value = kpi != NULL ? sy_analytics_format_kpi (kpi, kpi_cards[i].key) : g_strdup ("—");
      g_autofree char *subtitle = kpi != NULL ? kpi_subtitle (kpi, kpi_cards[i].key) : g_strdup ("");

      gtk_label_set_label (g_object_get_data (G_OBJECT (self), value_name), value);
      gtk_label_set_label (g_object_get_data (G_OBJECT (self), subtitle_name), subtitle);
    }
}

/* The current range and entity. */

static gint64
local_midnight_ms (gint64 ms,
                   int    day_offset)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr(GDateTime) local = g_date_time_to_local (utc);
  g_autoptr(GDateTime) midnight = g_date_time_new_local (g_date_time_get_year (local),
                                                         g_date_time_get_month (local),
                                                         g_date_time_get_day_of_month (local), 0, 0, 0);
  g_autoptr(GDateTime) shifted = g_date_time_add_days (midnight, day_offset);

  return g_date_time_to_unix (shifted) * 1000;
}

static gint64
calendar_ms (GtkCalendar *calendar,
             int          day_offset)
{
  g_autoptr(GDateTime) date = gtk_calendar_get_date (calendar);

  return local_midnight_ms (g_date_time_to_unix (date) * 1000, day_offset);
}

static void
compute_range (SyAnalyticsPage *self,
               gint64          *from,
               gint64          *to)
{
  gint64 now = g_get_real_time () / 1000;

  switch (gtk_drop_down_get_selected (self->range_dropdown))
    {
    case SY_ANALYTICS_RANGE_YESTERDAY:
      *from = local_midnight_ms (now, -1);
      *to = local_midnight_ms (now, 0);
      break;
    case SY_ANALYTICS_RANGE_LAST_7_DAYS:
      *from = now - 7 * DAY_MS;
      *to = now;
      break;
    case SY_ANALYTICS_RANGE_LAST_30_DAYS:
      *from = now - 30 * DAY_MS;
      *to = now;
      break;
    case SY_ANALYTICS_RANGE_CUSTOM:
      if (self->custom_from_ms > 0 && self->custom_to_ms > self->custom_from_ms)
        {
          *from = self->custom_from_ms;
          *to = self->custom_to_ms;
        }
      else
        {
          *from = calendar_ms (self->from_calendar, 0);
          *to = MIN (calendar_ms (self->to_calendar, 1), now);
          if (*to <= *from)
            *to = *from + DAY_MS;
        }
      break;
    case SY_ANALYTICS_RANGE_TODAY:
    default:
      *from = local_midnight_ms (now, 0);
      *to = now;
      break;
    }
}

static Entity *
current_entity (SyAnalyticsPage *self)
{
  guint selected = gtk_drop_down_get_selected (self->entity_dropdown);

  if (self->entities == NULL || selected >= self->entities->len)
    return NULL;
  return g_ptr_array_index (self->entities, selected);
}

static char *
entity_query (Entity *entity)
{
  return g_strdup_printf ("%s_id=%" G_GINT64_FORMAT, entity->type, entity->id);
}

static char *
range_query (gint64 from,
             gint64 to)
{
  g_autofree char *from_text = sy_format_iso8601 (from);
  g_autofree char *to_text = sy_format_iso8601 (to);

  return g_strdup_printf ("from=%s&to=%s", from_text, to_text);
}

/* The matrix reduced to one row: for a site, the sum of its grid meters (or of every meter if
 * it has none); otherwise its only row. Returns n_columns values (NaN: no data). */
static double *
reduce_matrix (SyAnalyticsPage *self,
               JsonObject      *matrix,
               guint           *n_columns)
{
  JsonArray *rows = json_object_get_array_member (matrix, "rows");
  JsonArray *values = json_object_get_array_member (matrix, "values");
  JsonArray *columns = json_object_get_array_member (matrix, "columns");
  gboolean has_grid = FALSE;
  double *out;
  guint n_rows;

  *n_columns = columns != NULL ? json_array_get_length (columns) : 0;
  if (rows == NULL || values == NULL || *n_columns == 0)
    return NULL;

  n_rows = MIN (json_array_get_length (rows), json_array_get_length (values));
  for (guint r = 0; r < n_rows; r++)
    {
      JsonObject *row = json_array_get_object_element (rows, r);
      SyMeterItem *item = g_str_equal (json_object_get_string_member_with_default (row, "type", ""), "meter") ?
                          sy_site_model_lookup (self->model, json_object_get_int_member (row, "id")) : NULL;

      if (n_rows > 1 && item != NULL && g_strcmp0 (sy_meter_item_get_kind (item), "grid") == 0)
        has_grid = TRUE;
    }

  out = g_new (double, *n_columns);
  for (guint c = 0; c < *n_columns; c++)
    out[c] = NAN;

  for (guint r = 0; r < n_rows; r++)
    {
      JsonObject *row = json_array_get_object_element (rows, r);
      JsonArray *cells = json_array_get_array_element (values, r);

      if (has_grid)
        {
          SyMeterItem *item = sy_site_model_lookup (self->model, json_object_get_int_member (row, "id"));

          if (item == NULL || g_strcmp0 (sy_meter_item_get_kind (item), "grid") != 0)
            continue;
        }

      for (guint c = 0; cells != NULL && c < MIN (*n_columns, json_array_get_length (cells)); c++)
        {
          JsonNode *cell = json_array_get_element (cells, c);

          if (JSON_NODE_HOLDS_NULL (cell))
            continue;
          out[c] = (isnan (out[c]) ? 0 : out[c]) + json_node_get_double (cell);
        }
    }

  return out;
}

/* Loads. Each request holds the page's current cancellable; a newer load cancels older ones. */

static void
load_done (SyAnalyticsPage *self)
{
  g_assert (self->pending > 0);
  self->pending--;
}

static void
kpi_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  SyAnalyticsPage *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = sy_client_request_finish (SY_CLIENT (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  load_done (self);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      adw_status_page_set_description (self->error_status, error ? error->message : _("Unexpected answer"));
      gtk_stack_set_visible_child_name (self->content_stack, "error");
      return;
    }

  show_kpi (self, json_node_get_object (node));
  gtk_stack_set_visible_child_name (self->content_stack, "data");
}

static const char *weekdays[] = {
  N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"),
};

static void
matrix_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  SyAnalyticsPage *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  g_autofree double *values = NULL;
  g_autoptr(GPtrArray) row_labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) column_labels = g_ptr_array_new_with_free_func (g_free);
  g_autofree double *grid = NULL;
  JsonObject *matrix;
  JsonArray *columns;
  const char *bucket;
  const char *unit;
  guint n_columns = 0, n_rows = 0;
  gboolean any = FALSE;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  load_done (self);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      adw_status_page_set_title (self->heatmap_status, _("Load Profile Unavailable"));
      adw_status_page_set_description (self->heatmap_status, error ? error->message : NULL);
      sy_heatmap_set_data (self->heatmap, 0, 0, NULL, NULL, NULL, NULL);
      gtk_stack_set_visible_child_name (self->heatmap_stack, "empty");
      return;
    }

  matrix = json_node_get_object (node);
  bucket = json_object_get_string_member_with_default (matrix, "bucket", "");
  unit = json_object_get_string_member_with_default (matrix, "unit", "kWh");
  columns = json_object_get_array_member (matrix, "columns");
  values = reduce_matrix (self, matrix, &n_columns);

  for (guint h = 0; h < 24; h++)
    g_ptr_array_add (column_labels, g_strdup_printf ("%02u:00", h));

  if (values != NULL && g_str_equal (bucket, "weekday_hour") && n_columns == 7 * 24)
    {
      /* Weekday × hour profile: Monday first. */
      n_rows = 7;
      grid = g_memdup2 (values, sizeof (double) * 7 * 24);
      for (guint d = 0; d < 7; d++)
        g_ptr_array_add (row_labels, g_strdup (_(weekdays[d])));
      adw_preferences_group_set_description (self->heatmap_group,
                                             _("Energy by weekday and hour of day, over the whole range."));
    }
  else if (values != NULL)
    {
      /* Day × hour over the range, in local time. */
      gint64 first_day = local_midnight_ms (self->from_ms, 0);

      n_rows = (guint) MAX ((local_midnight_ms (self->to_ms - 1, 0) - first_day) / DAY_MS + 1, 1);
      n_rows = MIN (n_rows, 62);
      grid = g_new (double, (gsize) n_rows * 24);
      for (gsize i = 0; i < (gsize) n_rows * 24; i++)
        grid[i] = NAN;
      for (guint d = 0; d < n_rows; d++)
        {
          g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc ((first_day + d * DAY_MS + 12 * HOUR_MS) / 1000);
          g_autoptr(GDateTime) local = g_date_time_to_local (utc);

          /* Translators: a day in the heat map's rows, see g_date_time_format() */
          g_ptr_array_add (row_labels, g_date_time_format (local, _("%a %-d %b")));
        }
      for (guint c = 0; c < n_columns; c++)
        {
          gint64 ms = sy_parse_iso8601 (json_array_get_string_element (columns, c));
          g_autoptr(GDateTime) utc = NULL;
          g_autoptr(GDateTime) local = NULL;
          gint64 day;

          if (ms < 0 || isnan (values[c]))
            continue;
          utc = g_date_time_new_from_unix_utc (ms / 1000);
          local = g_date_time_to_local (utc);
          day = (local_midnight_ms (ms, 0) - first_day + DAY_MS / 2) / DAY_MS;
          if (day < 0 || day >= n_rows)
            continue;
          grid[day * 24 + g_date_time_get_hour (local)] = (isnan (grid[day * 24 + g_date_time_get_hour (local)]) ? 0 :
                                                           grid[day * 24 + g_date_time_get_hour (local)]) + values[c];
        }
      adw_preferences_group_set_description (self->heatmap_group, _("Energy by day and hour of day."));
    }

  for (gsize i = 0; grid != NULL && i < (gsize) n_rows * 24; i++)
    any |= !isnan (grid[i]);

  if (!any)
    {
      adw_status_page_set_title (self->heatmap_status, _("No Readings in This Range"));
      adw_status_page_set_description (self->heatmap_status, NULL);
      sy_heatmap_set_data (self->heatmap, 0, 0, NULL, NULL, NULL, NULL);
      gtk_stack_set_visible_child_name (self->heatmap_stack, "empty");
      return;
    }

  g_ptr_array_add (row_labels, NULL);
  g_ptr_array_add (column_labels, NULL);
  /* Rows of about 24 px, plus the read-out, labels and legend. */
  gtk_widget_set_size_request (GTK_WIDGET (self->heatmap), -1, CLAMP ((int) n_rows * 24 + 100, 150, 520));
  sy_heatmap_set_data (self->heatmap, n_rows, 24, grid, (const char * const *) row_labels->pdata,
                       (const char * const *) column_labels->pdata, unit);
  gtk_stack_set_visible_child_name (self->heatmap_stack, "map");
}

static void
history_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  SyAnalyticsPage *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  g_autofree double *values = NULL;
  g_autofree gint64 *times = NULL;
  JsonArray *columns;
  guint n_columns = 0;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  load_done (self);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return;   /* the forecast still shows; the history is context */

  values = reduce_matrix (self, json_node_get_object (node), &n_columns);
  if (values == NULL)
    return;
  columns = json_object_get_array_member (json_node_get_object (node), "columns");
  times = g_new (gint64, n_columns);
  for (guint c = 0; c < n_columns; c++)
    times[c] = sy_parse_iso8601 (json_array_get_string_element (columns, c));
  sy_chart_set_points (self->forecast_chart, 0, times, values, n_columns);
}

static void
forecast_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  SyAnalyticsPage *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  g_autofree gint64 *times = NULL;
  g_autofree double *values = NULL;
  g_autofree double *lower = NULL;
  g_autofree double *upper = NULL;
  g_autofree char *mae = NULL;
  g_autofree char *text = NULL;
  JsonObject *forecast, *accuracy;
  JsonArray *points;
  guint n;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  load_done (self);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node) ||
      (points = json_object_get_array_member (forecast = json_node_get_object (node), "points")) == NULL ||
      json_array_get_length (points) == 0)
    {
      gboolean conflict = g_error_matches (error, SY_CLIENT_ERROR, SY_CLIENT_ERROR_CONFLICT);

      adw_status_page_set_title (self->forecast_status,
                                 conflict ? _("Not Enough History") : _("No Forecast"));
      adw_status_page_set_icon_name (self->forecast_status,
                                     conflict ? "document-open-recent-symbolic" : "dialog-error-symbolic");
      adw_status_page_set_description (self->forecast_status, error ? error->message : NULL);
      gtk_stack_set_visible_child_name (self->forecast_stack, "empty");
      return;
    }

  n = json_array_get_length (points);
  times = g_new (gint64, n);
  values = g_new (double, n);
  lower = g_new (double, n);
  upper = g_new (double, n);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *point = json_array_get_object_element (points, i);

      times[i] = sy_parse_iso8601 (json_object_get_string_member_with_default (point, "timestamp", ""));
      /* The forecast is in kW; the chart takes base units. */
      values[i] = get_number (point, "value") * 1000;
      lower[i] = get_number (point, "lower") * 1000;
      upper[i] = get_number (point, "upper") * 1000;
    }
  sy_chart_set_points (self->forecast_chart, 1, times, values, n);
  sy_chart_set_band (self->forecast_chart, 1, lower, upper, n);
  sy_chart_set_time_range (self->forecast_chart, times[0] - HISTORY_MS, times[n - 1]);

  accuracy = json_object_get_object_member (forecast, "accuracy");
  mae = sy_format_power (accuracy ? get_number (accuracy, "mae_kw") * 1000 : NAN, "auto");
  /* Translators: the forecast method ("holt_winters"...) and its backtest accuracy: mean absolute
   * error, mean absolute percentage error, mean absolute scaled error, over N days */
  text = g_strdup_printf (_("Method: %s · Backtest over %u days: MAE %s, MAPE %.1f %%, MASE %.2f"),
                          json_object_get_string_member_with_default (forecast, "method", "?"),
                          accuracy ? (guint) json_object_get_int_member_with_default (accuracy, "days", 0) : 0,
                          mae,
                          accuracy ? get_number (accuracy, "mape_pct") : NAN,
                          accuracy ? get_number (accuracy, "mase") : NAN);
  gtk_label_set_label (self->forecast_label, text);
  gtk_stack_set_visible_child_name (self->forecast_stack, "chart");
}

static void
request (SyAnalyticsPage     *self,
         const char          *path,
         GAsyncReadyCallback  callback)
{
  self->pending++;
  sy_client_request_async (self->client, "GET", path, NULL, self->cancellable, callback, self);
}

static void
load (SyAnalyticsPage *self)
{
  Entity *entity = current_entity (self);
  g_autofree char *who = NULL;
  g_autofree char *range = NULL;
  g_autofree char *history_range = NULL;
  g_autofree char *path = NULL;
  gint64 now = g_get_real_time () / 1000;

  if (self->client == NULL || entity == NULL || self->building)
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->pending = 0;

  self->loaded_us = g_get_monotonic_time ();
  compute_range (self, &self->from_ms, &self->to_ms);
  who = entity_query (entity);
  range = range_query (self->from_ms, self->to_ms);
  g_free (self->query);
  self->query = g_strdup_printf ("%s&%s", who, range);

  if (gtk_stack_get_visible_child_name (self->content_stack) != NULL &&
      !g_str_equal (gtk_stack_get_visible_child_name (self->content_stack), "data"))
    gtk_stack_set_visible_child_name (self->content_stack, "loading");

  path = g_strdup_printf ("/api/energy/analytics/kpi?%s", self->query);
  request (self, path, kpi_cb);
  g_free (path);

  path = g_strdup_printf ("/api/energy/analytics/matrix?%s&%s&metric=energy_kwh&bucket=%s", who, range,
                          self->to_ms - self->from_ms > PROFILE_AFTER ? "weekday_hour" : "hour");
  request (self, path, matrix_cb);
  g_free (path);

  sy_chart_clear (self->forecast_chart);
  sy_chart_add_series (self->forecast_chart, _("Measured"), NULL);
  sy_chart_add_series (self->forecast_chart, _("Forecast"), NULL);
  sy_chart_set_time_range (self->forecast_chart, now - HISTORY_MS, now + HORIZON_HOURS * HOUR_MS);

  path = g_strdup_printf ("/api/energy/analytics/forecast?%s&horizon_hours=%d", who, HORIZON_HOURS);
  request (self, path, forecast_cb);
  g_free (path);

  history_range = range_query (now - HISTORY_MS, now);
  path = g_strdup_printf ("/api/energy/analytics/matrix?%s&%s&metric=avg_power&bucket=15min", who, history_range);
  request (self, path, history_cb);
}

/* The entity picker: the site, its groups, its meters. */

static void
add_entity (SyAnalyticsPage *self,
            const char      *type,
            gint64           id,
            const char      *label,
            GArray          *meter_ids)
{
  Entity *entity = g_new0 (Entity, 1);

  entity->type = g_strdup (type);
  entity->id = id;
  entity->meter_ids = meter_ids;
  g_ptr_array_add (self->entities, entity);
  gtk_string_list_append (self->entity_model, label);
}

static void
groups_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  SyAnalyticsPage *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) groups = sy_client_list_all_finish (SY_CLIENT (object), result, &error);
  GListModel *meters;
  GArray *site_meters;
  g_autofree char *site_label = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    toast (self, error->message);

  self->building = TRUE;
  g_ptr_array_set_size (self->entities, 0);
  gtk_string_list_splice (self->entity_model, 0, g_list_model_get_n_items (G_LIST_MODEL (self->entity_model)), NULL);

  meters = sy_site_model_get_meters (self->model);
  site_meters = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < g_list_model_get_n_items (meters); i++)
    {
      g_autoptr(SyMeterItem) item = g_list_model_get_item (meters, i);
      gint64 id = sy_meter_item_get_id (item);

      g_array_append_val (site_meters, id);
    }
  /* Translators: the whole site in the entity picker */
  site_label = g_strdup_printf (_("Site: %s"), sy_site_model_get_site_name (self->model));
  add_entity (self, "site", sy_site_model_get_site_id (self->model), site_label, site_meters);

  for (guint i = 0; groups != NULL && i < json_array_get_length (groups); i++)
    {
      JsonObject *group = json_array_get_object_element (groups, i);
      JsonArray *ids = json_object_get_array_member (group, "meter_ids");
      GArray *meter_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_autofree char *label = NULL;

      for (guint k = 0; ids != NULL && k < json_array_get_length (ids); k++)
        {
          gint64 id = json_array_get_int_element (ids, k);

          g_array_append_val (meter_ids, id);
        }
      /* Translators: a meter group in the entity picker */
      label = g_strdup_printf (_("Group: %s"), json_object_get_string_member_with_default (group, "name", ""));
      add_entity (self, "group", json_object_get_int_member (group, "id"), label, meter_ids);
    }

  for (guint i = 0; i < g_list_model_get_n_items (meters); i++)
    {
      g_autoptr(SyMeterItem) item = g_list_model_get_item (meters, i);
      GArray *meter_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      gint64 id = sy_meter_item_get_id (item);

      g_array_append_val (meter_ids, id);
      add_entity (self, "meter", id, sy_meter_item_get_name (item), meter_ids);
    }

  gtk_drop_down_set_selected (self->entity_dropdown, 0);
  self->building = FALSE;
  load (self);
}

static void
model_loaded_cb (SyAnalyticsPage *self)
{
  g_autofree char *path = NULL;

  if (!sy_site_model_get_loaded (self->model))
    return;

  if (sy_site_model_get_site_id (self->model) == 0)
    {
      adw_status_page_set_title (self->error_status, _("No Site"));
      adw_status_page_set_description (self->error_status, sy_site_model_get_error (self->model));
      gtk_stack_set_visible_child_name (self->content_stack, "error");
      return;
    }

  path = g_strdup_printf ("/api/energy/groups?site_id=%" G_GINT64_FORMAT, sy_site_model_get_site_id (self->model));
  sy_client_list_all_async (self->client, path, self->cancellable, groups_cb, self);
}

/* Export. */

static void
export_finish (SyAnalyticsPage *self,
               const GError    *error)
{
  g_autoptr(GError) close_error = NULL;
  gboolean ok = error == NULL;

  if (self->export_stream != NULL &&
      !g_output_stream_close (self->export_stream, NULL, &close_error) && ok)
    {
      ok = FALSE;
      error = close_error;
    }

  if (ok)
    {
      g_autofree char *name = g_file_get_basename (self->export_file);
      /* Translators: %s is a file name */
      g_autofree char *text = g_strdup_printf (_("Exported to “%s”"), name);

      toast (self, text);
    }
  else
    {
      /* No partial file stays behind. */
      g_file_delete (self->export_file, NULL, NULL);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, _("Export cancelled"));
      else
        {
          /* Translators: %s is an error message */
          g_autofree char *text = g_strdup_printf (_("Export failed: %s"), error->message);

          toast (self, text);
        }
    }

  g_clear_object (&self->export_stream);
  g_clear_object (&self->export_file);
  g_clear_object (&self->export_cancellable);
  if (self->export_revealer == NULL)
    return;   /* disposed while the export ran */
  gtk_revealer_set_reveal_child (self->export_revealer, FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "analytics.export", !self->read_only);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "analytics.cancel-export", FALSE);
}

static void
export_progress_cb (goffset  bytes,
                    gpointer user_data)
{
  SyAnalyticsPage *self = user_data;
  g_autofree char *size = g_format_size ((guint64) bytes);
  /* Translators: %s is a size, "1.2 MB written" */
  g_autofree char *text = g_strdup_printf (_("%s written"), size);

  gtk_progress_bar_pulse (self->export_progress);
  gtk_progress_bar_set_text (self->export_progress, text);
}

static void
export_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(SyAnalyticsPage) self = user_data;
  g_autoptr(GError) error = NULL;

  sy_client_download_finish (SY_CLIENT (object), result, &error);
  export_finish (self, error);
}

void
sy_analytics_page_export_to_file (SyAnalyticsPage *self,
                                  GFile           *file)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) ids = g_string_new (NULL);
  g_autofree char *range = NULL;
  g_autofree char *path = NULL;
  Entity *entity;
  gint64 from, to;

  g_return_if_fail (SY_IS_ANALYTICS_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));

  entity = current_entity (self);
  if (self->client == NULL || entity == NULL || self->export_cancellable != NULL || self->read_only)
    return;
  if (entity->meter_ids->len == 0)
    {
      toast (self, _("There are no meters to export"));
      return;
    }

  self->export_file = g_object_ref (file);
  self->export_stream = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                                                         NULL, &error));
  if (self->export_stream == NULL)
    {
      export_finish (self, error);
      return;
    }

  for (guint i = 0; i < entity->meter_ids->len && i < 100; i++)
    g_string_append_printf (ids, "%s%" G_GINT64_FORMAT, i ? "," : "", g_array_index (entity->meter_ids, gint64, i));
  compute_range (self, &from, &to);
  range = range_query (from, to);
  /* Raw readings for up to a day, quarter-hours beyond. */
  path = g_strdup_printf ("/api/energy/analytics/export?meter_id=%s&%s&format=csv&bucket=%s", ids->str, range,
                          to - from > DAY_MS ? "15m" : "raw");

  self->export_cancellable = g_cancellable_new ();
  gtk_progress_bar_set_fraction (self->export_progress, 0);
  gtk_progress_bar_set_text (self->export_progress, _("Starting export…"));
  gtk_revealer_set_reveal_child (self->export_revealer, TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "analytics.export", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "analytics.cancel-export", TRUE);

  sy_client_download_async (self->client, path, self->export_stream, self->export_cancellable,
                            export_progress_cb, self, NULL, export_done_cb, g_object_ref (self));
}

static void
chooser_response_cb (GtkNativeDialog *dialog,
                     int              response,
                     SyAnalyticsPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      if (file != NULL)
        sy_analytics_page_export_to_file (self, file);
    }
  g_clear_object (&self->chooser);
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  SyAnalyticsPage *self = SY_ANALYTICS_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%d");
  g_autofree char *name = NULL;
  Entity *entity = current_entity (self);

  if (entity == NULL || self->chooser != NULL)
    return;

  name = g_strdup_printf ("switchyard-%s-%" G_GINT64_FORMAT "-%s.csv", entity->type, entity->id, date);
  self->chooser = gtk_file_chooser_native_new (_("Export Readings"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (chooser_response_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
cancel_export_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  SyAnalyticsPage *self = SY_ANALYTICS_PAGE (widget);

  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
}

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  sy_analytics_page_refresh (SY_ANALYTICS_PAGE (widget));
}

/* Pickers. */

static void
update_calendar_labels (SyAnalyticsPage *self)
{
  g_autoptr(GDateTime) from = gtk_calendar_get_date (self->from_calendar);
  g_autoptr(GDateTime) to = gtk_calendar_get_date (self->to_calendar);
  /* Translators: a day on the range buttons, see g_date_time_format() */
  g_autofree char *from_text = g_date_time_format (from, _("%-d %b %Y"));
  g_autofree char *to_text = g_date_time_format (to, _("%-d %b %Y"));

  gtk_menu_button_set_label (self->from_button, from_text);
  gtk_menu_button_set_label (self->to_button, to_text);
}

static void
range_changed_cb (SyAnalyticsPage *self)
{
  gboolean custom = gtk_drop_down_get_selected (self->range_dropdown) == SY_ANALYTICS_RANGE_CUSTOM;

  gtk_widget_set_visible (GTK_WIDGET (self->from_button), custom);
  gtk_widget_set_visible (GTK_WIDGET (self->to_button), custom);
  load (self);
}

static void
calendar_changed_cb (SyAnalyticsPage *self)
{
  self->custom_from_ms = self->custom_to_ms = 0;   /* the calendars rule again */
  update_calendar_labels (self);
  if (gtk_drop_down_get_selected (self->range_dropdown) == SY_ANALYTICS_RANGE_CUSTOM)
    load (self);
}

/* Coming back to the page after a while shows fresh figures. */
static void
map_cb (SyAnalyticsPage *self)
{
  if (self->loaded_us != 0 && g_get_monotonic_time () - self->loaded_us > 60 * G_USEC_PER_SEC)
    load (self);
}

static void
sy_analytics_page_dispose (GObject *object)
{
  SyAnalyticsPage *self = (SyAnalyticsPage *) object;
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), SY_TYPE_ANALYTICS_PAGE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->model);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (sy_analytics_page_parent_class)->dispose (object);
}

static void
sy_analytics_page_finalize (GObject *object)
{
  SyAnalyticsPage *self = (SyAnalyticsPage *) object;

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->entities, g_ptr_array_unref);
  g_clear_object (&self->entity_model);
  g_free (self->query);

  G_OBJECT_CLASS (sy_analytics_page_parent_class)->finalize (object);
}

static void
sy_analytics_page_class_init (SyAnalyticsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sy_analytics_page_dispose;
  object_class->finalize = sy_analytics_page_finalize;

  g_type_ensure (SY_TYPE_CHART);
  g_type_ensure (SY_TYPE_HEATMAP);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/switchyard/Switchyard/ui/sy-analytics-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, entity_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, range_dropdown);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, from_button);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, to_button);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, from_calendar);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, to_calendar);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, export_revealer);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, export_progress);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, content_stack);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, error_status);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, kpi_box);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, heatmap_group);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, heatmap_stack);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, heatmap);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, heatmap_status);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, forecast_stack);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, forecast_chart);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, forecast_label);
  gtk_widget_class_bind_template_child (widget_class, SyAnalyticsPage, forecast_status);

  gtk_widget_class_install_action (widget_class, "analytics.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "analytics.export", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "analytics.cancel-export", NULL, cancel_export_action);
}

static void
sy_analytics_page_init (SyAnalyticsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->entities = g_ptr_array_new_with_free_func (entity_free);
  self->entity_model = gtk_string_list_new (NULL);
  self->cancellable = g_cancellable_new ();
  gtk_drop_down_set_model (self->entity_dropdown, G_LIST_MODEL (self->entity_model));
  gtk_stack_set_visible_child_name (self->content_stack, "loading");
  build_kpi_cards (self);
  update_calendar_labels (self);
  sy_chart_set_unit (self->forecast_chart, "W");

  g_signal_connect_object (self->range_dropdown, "notify::selected", G_CALLBACK (range_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->entity_dropdown, "notify::selected", G_CALLBACK (load), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->from_calendar, "day-selected", G_CALLBACK (calendar_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->to_calendar, "day-selected", G_CALLBACK (calendar_changed_cb), self,
                           G_CONNECT_SWAPPED);

  g_signal_connect (self, "map", G_CALLBACK (map_cb), NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "analytics.cancel-export", FALSE);
}

void
sy_analytics_page_set_model (SyAnalyticsPage *self,
                             SySiteModel     *model)
{
  g_return_if_fail (SY_IS_ANALYTICS_PAGE (self));
  g_return_if_fail (SY_IS_SITE_MODEL (model));
  g_return_if_fail (self->model == NULL);

  self->model = g_object_ref (model);
  self->client = g_object_ref (sy_site_model_get_client (model));
  g_signal_connect_object (model, "notify::loaded", G_CALLBACK (model_loaded_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (model, "notify::site-id", G_CALLBACK (model_loaded_cb), self, G_CONNECT_SWAPPED);
  model_loaded_cb (self);
}

void
sy_analytics_page_set_read_only (SyAnalyticsPage *self,
                                 gboolean         read_only)
{
  g_return_if_fail (SY_IS_ANALYTICS_PAGE (self));

  self->read_only = !!read_only;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "analytics.export",
                                 !self->read_only && self->export_cancellable == NULL);
}

void
sy_analytics_page_refresh (SyAnalyticsPage *self)
{
  g_return_if_fail (SY_IS_ANALYTICS_PAGE (self));

  load (self);
}

void
sy_analytics_page_set_range (SyAnalyticsPage  *self,
                             SyAnalyticsRange  range)
{
  g_return_if_fail (SY_IS_ANALYTICS_PAGE (self));
  g_return_if_fail (range <= SY_ANALYTICS_RANGE_CUSTOM);

  if (gtk_drop_down_get_selected (self->range_dropdown) == range)
    load (self);
  else
    gtk_drop_down_set_selected (self->range_dropdown, range);
}

void
sy_analytics_page_set_custom_range (SyAnalyticsPage *self,
                                    gint64           from_ms,
                                    gint64           to_ms)
{
  g_autoptr(GDateTime) from_utc = g_date_time_new_from_unix_utc (from_ms / 1000);
  g_autoptr(GDateTime) to_utc = g_date_time_new_from_unix_utc ((to_ms - 1) / 1000);
  g_autoptr(GDateTime) from = g_date_time_to_local (from_utc);
  g_autoptr(GDateTime) to = g_date_time_to_local (to_utc);

  g_return_if_fail (SY_IS_ANALYTICS_PAGE (self));
  g_return_if_fail (from_ms < to_ms);

  self->building = TRUE;
  gtk_calendar_select_day (self->from_calendar, from);
  gtk_calendar_select_day (self->to_calendar, to);
  self->building = FALSE;
  self->custom_from_ms = from_ms;
  self->custom_to_ms = to_ms;
  sy_analytics_page_set_range (self, SY_ANALYTICS_RANGE_CUSTOM);
}

gboolean
sy_analytics_page_select_entity (SyAnalyticsPage *self,
                                 const char      *type,
                                 gint64           id)
{
  g_return_val_if_fail (SY_IS_ANALYTICS_PAGE (self), FALSE);

  for (guint i = 0; i < self->entities->len; i++)
    {
      Entity *entity = g_ptr_array_index (self->entities, i);

      if (g_strcmp0 (entity->type, type) == 0 && entity->id == id)
        {
          if (gtk_drop_down_get_selected (self->entity_dropdown) == i)
            load (self);
          else
            gtk_drop_down_set_selected (self->entity_dropdown, i);
          return TRUE;
        }
    }

  return FALSE;
}

gboolean
sy_analytics_page_get_busy (SyAnalyticsPage *self)
{
  g_return_val_if_fail (SY_IS_ANALYTICS_PAGE (self), FALSE);
  return self->query == NULL || self->pending > 0;
}

gboolean
sy_analytics_page_get_exporting (SyAnalyticsPage *self)
{
  g_return_val_if_fail (SY_IS_ANALYTICS_PAGE (self), FALSE);
  return self->export_cancellable != NULL;
}

const char *
sy_analytics_page_get_query (SyAnalyticsPage *self)
{
  g_return_val_if_fail (SY_IS_ANALYTICS_PAGE (self), NULL);
  return self->query;
}

SyHeatmap *
sy_analytics_page_get_heatmap (SyAnalyticsPage *self)
{
  g_return_val_if_fail (SY_IS_ANALYTICS_PAGE (self), NULL);
  return self->heatmap;
}

SyChart *
sy_analytics_page_get_forecast_chart (SyAnalyticsPage *self)
{
  g_return_val_if_fail (SY_IS_ANALYTICS_PAGE (self), NULL);
  return self->forecast_chart;
}

const char *
sy_analytics_page_get_forecast_state (SyAnalyticsPage *self)
{
  g_return_val_if_fail (SY_IS_ANALYTICS_PAGE (self), NULL);
  return gtk_stack_get_visible_child_name (self->forecast_stack);
}
