/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-overview-page"

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "sy-chart.h"
#include "sy-format.h"
#include "sy-overview-page.h"

/* Sign conventions, those of the stored readings (and of the demo simulator,
 * backend/demo/sy-demo.c):
 *   - grid meter: positive = import from the grid, negative = export; its register is net
 *     import, so today's delta is net import too;
 *   - battery: positive = charging (taking power from the site), negative = discharging into
 *     the site; its register is net charge;
 *   - PV, EV chargers and building loads: positive, in the direction of their name.
 * So the site balances as grid = loads + EV + battery - PV. */

#define LIVE_WINDOW_MS (15 * 60 * 1000)
/* Below this a flow is shown as idle rather than with a direction. */
#define IDLE_W 50.0

typedef enum
{
  FLOW_GRID,
  FLOW_PV,
  FLOW_BATTERY,
  FLOW_EV,
  FLOW_BUILDINGS,
  N_FLOWS
} Flow;

typedef struct
{
  const char *id;
  const char *kind;
  const char *title;
  const char *icon_name;
  const char *color;
} FlowInfo;

static const FlowInfo flow_info[N_FLOWS] = {
  { "grid", "grid", N_("Grid"), "network-wired-symbolic", "#3584e4" },
  { "pv", "pv", N_("Solar PV"), "weather-clear-symbolic", "#e5a50a" },
  { "battery", "battery", N_("Battery"), "battery-good-symbolic", "#2ec27e" },
  { "ev", "ev_charger", N_("EV Charging"), "ac-adapter-symbolic", "#9141ac" },
  { "buildings", "load", N_("Buildings"), "user-home-symbolic", "#e66100" },
};

typedef struct
{
  GtkLabel *value;
  GtkImage *direction_icon;
  GtkLabel *direction;
  GtkLabel *today_value;
  GtkLabel *today_caption;
  guint     series;
  gint64    last_ts_ms;
  gboolean  present;
} FlowWidgets;

struct _SyOverviewPage
{
  GtkWidget     parent_instance;

  SySiteModel  *model;
  SySettings   *settings;
  GtkWidget    *chart;
  FlowWidgets   flows[N_FLOWS];
  gboolean      filled;

  /* Template widgets. */
  GtkStack     *stack;
  AdwStatusPage *status;
  GtkFlowBox   *flow_box;
  GtkBox       *chart_card;
  GtkFlowBox   *today_box;
};

G_DEFINE_FINAL_TYPE (SyOverviewPage, sy_overview_page, GTK_TYPE_WIDGET)

static int
flow_for_kind (const char *kind)
{
  for (guint f = 0; f < N_FLOWS; f++)
    {
      if (g_strcmp0 (flow_info[f].kind, kind) == 0)
        return (int) f;
    }
  return -1;
}

static void
add_to_flow_box (GtkFlowBox *box,
                 GtkWidget  *child)
{
  GtkWidget *flow_child = gtk_flow_box_child_new ();

  gtk_widget_set_focusable (flow_child, FALSE);
  gtk_flow_box_child_set_child (GTK_FLOW_BOX_CHILD (flow_child), child);
  gtk_flow_box_append (box, flow_child);
}

static void
build_cards (SyOverviewPage *self)
{
  for (guint f = 0; f < N_FLOWS; f++)
    {
      FlowWidgets *w = &self->flows[f];
      GtkWidget *card, *header, *icon, *title, *value, *dir_box, *dir_icon, *dir_label;
      GtkWidget *today, *today_title, *today_value, *today_caption;

      card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
      gtk_widget_add_css_class (card, "card");
      gtk_widget_add_css_class (card, "flow-card");
      gtk_widget_add_css_class (card, flow_info[f].id);

      header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
      icon = gtk_image_new_from_icon_name (flow_info[f].icon_name);
      gtk_widget_add_css_class (icon, "flow-icon");
      title = gtk_label_new (_(flow_info[f].title));
      gtk_label_set_xalign (GTK_LABEL (title), 0);
      gtk_widget_add_css_class (title, "flow-title");
      gtk_box_append (GTK_BOX (header), icon);
      gtk_box_append (GTK_BOX (header), title);

      value = gtk_label_new ("—");
      gtk_label_set_xalign (GTK_LABEL (value), 0);
      gtk_widget_add_css_class (value, "flow-value");
      gtk_widget_add_css_class (value, "numeric");
      gtk_widget_set_name (value, flow_info[f].id);

      dir_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      dir_icon = gtk_image_new ();
      dir_label = gtk_label_new ("");
      gtk_label_set_xalign (GTK_LABEL (dir_label), 0);
      gtk_label_set_ellipsize (GTK_LABEL (dir_label), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (dir_box, "flow-direction");
      gtk_box_append (GTK_BOX (dir_box), dir_icon);
      gtk_box_append (GTK_BOX (dir_box), dir_label);

      gtk_box_append (GTK_BOX (card), header);
      gtk_box_append (GTK_BOX (card), value);
      gtk_box_append (GTK_BOX (card), dir_box);
      add_to_flow_box (self->flow_box, card);

      today = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      gtk_widget_add_css_class (today, "card");
      gtk_widget_add_css_class (today, "today-card");
      today_title = gtk_label_new (_(flow_info[f].title));
      gtk_label_set_xalign (GTK_LABEL (today_title), 0);
      gtk_widget_add_css_class (today_title, "caption-heading");
      gtk_widget_add_css_class (today_title, "dim-label");
      today_value = gtk_label_new ("—");
      gtk_label_set_xalign (GTK_LABEL (today_value), 0);
      gtk_widget_add_css_class (today_value, "today-value");
      gtk_widget_add_css_class (today_value, "numeric");
      today_caption = gtk_label_new ("");
      gtk_label_set_xalign (GTK_LABEL (today_caption), 0);
      gtk_widget_add_css_class (today_caption, "caption");
      gtk_widget_add_css_class (today_caption, "dim-label");
      gtk_box_append (GTK_BOX (today), today_title);
      gtk_box_append (GTK_BOX (today), today_value);
      gtk_box_append (GTK_BOX (today), today_caption);
      add_to_flow_box (self->today_box, today);

      w->value = GTK_LABEL (value);
      w->direction_icon = GTK_IMAGE (dir_icon);
      w->direction = GTK_LABEL (dir_label);
      w->today_value = GTK_LABEL (today_value);
      w->today_caption = GTK_LABEL (today_caption);
    }
}

static void
build_chart (SyOverviewPage *self)
{
  GtkWidget *legend = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 18);

  self->chart = sy_chart_new ();
  gtk_widget_set_size_request (self->chart, -1, 300);
  gtk_widget_set_vexpand (self->chart, TRUE);
  sy_chart_set_unit (SY_CHART (self->chart), "W");
  sy_chart_set_live_window (SY_CHART (self->chart), LIVE_WINDOW_MS);

  gtk_widget_set_halign (legend, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (legend, "chart-legend");

  for (guint f = 0; f < N_FLOWS; f++)
    {
      g_autofree char *markup = NULL;
      GdkRGBA color;
      GtkWidget *label;

      gdk_rgba_parse (&color, flow_info[f].color);
      self->flows[f].series = sy_chart_add_series (SY_CHART (self->chart), _(flow_info[f].title), &color);

      markup = g_markup_printf_escaped ("<span foreground=\"%s\">●</span> %s", flow_info[f].color,
                                        _(flow_info[f].title));
      label = gtk_label_new (NULL);
      gtk_label_set_markup (GTK_LABEL (label), markup);
      gtk_widget_add_css_class (label, "caption");
      gtk_box_append (GTK_BOX (legend), label);
    }

  gtk_box_append (self->chart_card, self->chart);
  gtk_box_append (self->chart_card, legend);
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static double
value_at (SyMeterItem *item,
          gint64       ts_ms)
{
  guint n;
  const SyPowerPoint *points = sy_meter_item_get_history (item, &n);
  double value = NAN;

  for (guint k = 0; k < n && points[k].ts_ms <= ts_ms; k++)
    value = points[k].watts;
  if (isnan (value) && n > 0)
    value = points[0].watts;

  return value;
}

/* Sum of a flow's meters at each time any of them has a point: every meter's last value at or
 * before it. */
static void
fill_flow (SyOverviewPage *self,
           Flow            f,
           GPtrArray      *items)
{
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) ts = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint m = 0; m < items->len; m++)
    {
      guint n;
      const SyPowerPoint *points = sy_meter_item_get_history (g_ptr_array_index (items, m), &n);

      for (guint k = 0; k < n; k++)
        g_array_append_val (times, points[k].ts_ms);
    }
  g_array_sort (times, compare_int64);

  for (guint t = 0; t < times->len; t++)
    {
      gint64 when = g_array_index (times, gint64, t);
      double sum = 0.0;

      if (t > 0 && when == g_array_index (times, gint64, t - 1))
        continue;
      for (guint m = 0; m < items->len; m++)
        {
          double v = value_at (g_ptr_array_index (items, m), when);

          if (!isnan (v))
            sum += v;
        }
      g_array_append_val (ts, when);
      g_array_append_val (values, sum);
    }

  sy_chart_set_points (SY_CHART (self->chart), self->flows[f].series,
                       (const gint64 *) (gpointer) ts->data, (const double *) (gpointer) values->data, ts->len);
  self->flows[f].last_ts_ms = ts->len > 0 ? g_array_index (ts, gint64, ts->len - 1) : 0;
}

static void
update_flow_labels (SyOverviewPage *self,
                    Flow            f,
                    double          watts,
                    double          today_kwh,
                    guint           n_active,
                    guint           n_meters)
{
  FlowWidgets *w = &self->flows[f];
  g_autofree char *value = sy_format_power (fabs (watts), sy_settings_get_power_unit (self->settings));
  g_autofree char *today = sy_format_energy (fabs (today_kwh));
  g_autofree char *direction = NULL;
  const char *icon = NULL;
  const char *today_caption = NULL;
  gboolean idle = isnan (watts) || fabs (watts) < IDLE_W;

  switch (f)
    {
    case FLOW_GRID:
      direction = g_strdup (idle ? _("Balanced") : watts > 0 ? _("Importing") : _("Exporting"));
      icon = idle ? "media-playback-pause-symbolic" : watts > 0 ? "go-down-symbolic" : "go-up-symbolic";
      today_caption = today_kwh >= 0 ? _("Net import") : _("Net export");
      break;

    case FLOW_PV:
      direction = g_strdup (idle ? _("Idle") : _("Producing"));
      icon = idle ? "media-playback-pause-symbolic" : "go-next-symbolic";
      today_caption = _("Produced");
      break;

    case FLOW_BATTERY:
      direction = g_strdup (idle ? _("Idle") : watts > 0 ? _("Charging") : _("Discharging"));
      icon = idle ? "media-playback-pause-symbolic" : watts > 0 ? "go-down-symbolic" : "go-up-symbolic";
      today_caption = today_kwh >= 0 ? _("Net charged") : _("Net discharged");
      break;

    case FLOW_EV:
      /* Translators: "2 of 4 charging", about EV chargers. */
      direction = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u of %u charging", "%u of %u charging", n_meters),
                                   n_active, n_meters);
      icon = n_active > 0 ? "go-next-symbolic" : "media-playback-pause-symbolic";
      today_caption = _("Charged");
      break;

    case FLOW_BUILDINGS:
      direction = g_strdup (_("Consuming"));
      icon = "go-next-symbolic";
      today_caption = _("Consumed");
      break;

    case N_FLOWS:
    default:
      g_assert_not_reached ();
    }

  gtk_label_set_label (w->value, value);
  gtk_label_set_label (w->direction, direction);
  gtk_image_set_from_icon_name (w->direction_icon, icon);
  gtk_label_set_label (w->today_value, today);
  gtk_label_set_label (w->today_caption, today_caption);
}

static void
refresh (SyOverviewPage *self,
         gint64          ts_ms)
{
  GListModel *meters = sy_site_model_get_meters (self->model);
  guint n_meters = g_list_model_get_n_items (meters);
  GPtrArray *items[N_FLOWS] = { NULL };
  double watts[N_FLOWS] = { 0 };
  double today[N_FLOWS] = { 0 };
  guint active[N_FLOWS] = { 0 };
  gboolean any[N_FLOWS] = { FALSE };

  for (guint f = 0; f < N_FLOWS; f++)
    items[f] = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n_meters; i++)
    {
      g_autoptr(SyMeterItem) item = g_list_model_get_item (meters, i);
      int f = flow_for_kind (sy_meter_item_get_kind (item));
      double p;

      if (f < 0)
        continue;
      p = sy_meter_item_get_power (item);
      if (!isnan (p))
        {
          watts[f] += p;
          any[f] = TRUE;
          if (fabs (p) >= IDLE_W)
            active[f]++;
        }
      today[f] += sy_meter_item_get_today_energy (item);
      g_ptr_array_add (items[f], g_steal_pointer (&item));
    }

  for (guint f = 0; f < N_FLOWS; f++)
    {
      double value = any[f] ? watts[f] : NAN;

      self->flows[f].present = items[f]->len > 0;
      update_flow_labels (self, f, value, today[f], active[f], items[f]->len);

      if (!self->filled)
        fill_flow (self, f, items[f]);
      else if (any[f] && ts_ms > self->flows[f].last_ts_ms)
        {
          sy_chart_append (SY_CHART (self->chart), self->flows[f].series, ts_ms, watts[f]);
          self->flows[f].last_ts_ms = ts_ms;
        }
      sy_chart_set_series_visible (SY_CHART (self->chart), self->flows[f].series, self->flows[f].present);
      g_ptr_array_unref (items[f]);
    }
  self->filled = TRUE;
}

static void
updated_cb (SySiteModel    *model,
            gint64          ts_ms,
            SyOverviewPage *self)
{
  if (!sy_site_model_get_loaded (model))
    return;

  if (sy_site_model_get_site_id (model) == 0)
    {
      const char *error = sy_site_model_get_error (model);

      adw_status_page_set_icon_name (self->status, error ? "dialog-error-symbolic" : "find-location-symbolic");
      adw_status_page_set_title (self->status, error ? _("The Site Could Not Be Loaded") : _("No Site Yet"));
      adw_status_page_set_description (self->status,
                                       error ? error : _("Create a site and its meters through the REST API, "
                                                         "or start the console with --demo."));
      gtk_stack_set_visible_child_name (self->stack, "loading");
      return;
    }

  gtk_stack_set_visible_child_name (self->stack, "site");
  refresh (self, ts_ms);
}

static void
loaded_cb (SyOverviewPage *self)
{
  /* A reload brings new items: fill the chart again from their history. */
  self->filled = FALSE;
}

static void
power_unit_cb (SyOverviewPage *self)
{
  if (self->filled)
    refresh (self, 0);
}

static void
sy_overview_page_dispose (GObject *object)
{
  SyOverviewPage *self = (SyOverviewPage *) object;
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), SY_TYPE_OVERVIEW_PAGE);
  /* The template's root is not bound by name, so it is unparented here. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->model);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (sy_overview_page_parent_class)->dispose (object);
}

static void
sy_overview_page_class_init (SyOverviewPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sy_overview_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/switchyard/Switchyard/ui/sy-overview-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SyOverviewPage, stack);
  gtk_widget_class_bind_template_child (widget_class, SyOverviewPage, status);
  gtk_widget_class_bind_template_child (widget_class, SyOverviewPage, flow_box);
  gtk_widget_class_bind_template_child (widget_class, SyOverviewPage, chart_card);
  gtk_widget_class_bind_template_child (widget_class, SyOverviewPage, today_box);
  gtk_widget_class_set_css_name (widget_class, "overview-page");
}

static void
sy_overview_page_init (SyOverviewPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  build_cards (self);
  build_chart (self);
}

void
sy_overview_page_set_model (SyOverviewPage *self,
                            SySiteModel    *model,
                            SySettings     *settings)
{
  g_return_if_fail (SY_IS_OVERVIEW_PAGE (self));
  g_return_if_fail (SY_IS_SITE_MODEL (model));
  g_return_if_fail (SY_IS_SETTINGS (settings));
  g_return_if_fail (self->model == NULL);

  self->model = g_object_ref (model);
  self->settings = g_object_ref (settings);
  g_signal_connect_object (model, "updated", G_CALLBACK (updated_cb), self, 0);
  g_signal_connect_object (model, "notify::loaded", G_CALLBACK (loaded_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "notify::" SY_SETTINGS_KEY_POWER_UNIT, G_CALLBACK (power_unit_cb),
                           self, G_CONNECT_SWAPPED);
}

const char *
sy_overview_page_get_flow_text (SyOverviewPage *self,
                                const char     *flow)
{
  g_return_val_if_fail (SY_IS_OVERVIEW_PAGE (self), NULL);

  for (guint f = 0; f < N_FLOWS; f++)
    {
      if (g_strcmp0 (flow_info[f].id, flow) == 0)
        return gtk_label_get_label (self->flows[f].value);
    }
  return NULL;
}

GtkWidget *
sy_overview_page_get_chart (SyOverviewPage *self)
{
  g_return_val_if_fail (SY_IS_OVERVIEW_PAGE (self), NULL);

  return self->chart;
}
