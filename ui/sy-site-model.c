/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-site-model"

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "sy-format.h"
#include "sy-site-model.h"

#define UPDATE_DELAY_MS 250

struct _SySiteModel
{
  GObject       parent_instance;

  SyClient     *client;
  GCancellable *cancellable;
  GListStore   *meters;
  GHashTable   *by_id;          /* gint64 * -> SyMeterItem (borrowed from meters) */

  gint64        site_id;
  char         *site_name;
  char         *error;
  gboolean      loaded;
  gint64        last_data_ms;
  gint64        day_start_ms;   /* local midnight of today's totals */
  gint64        day_end_ms;

  gint64        pending_ts_ms;
  guint         update_id;
};

G_DEFINE_FINAL_TYPE (SySiteModel, sy_site_model, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_LOADED,
  PROP_SITE_ID,
  PROP_SITE_NAME,
  PROP_ERROR,
  PROP_LAST_DATA_MS,
  N_PROPS
};

enum {
  UPDATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void load_sites (SySiteModel *self);

static void
compute_day (SySiteModel *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) midnight = NULL;
  g_autoptr(GDateTime) tomorrow = NULL;

  midnight = g_date_time_new_local (g_date_time_get_year (now), g_date_time_get_month (now),
                                    g_date_time_get_day_of_month (now), 0, 0, 0);
  tomorrow = g_date_time_add_days (midnight, 1);
  self->day_start_ms = g_date_time_to_unix (midnight) * 1000;
  self->day_end_ms = g_date_time_to_unix (tomorrow) * 1000;
}

static char *
meter_id_list (SySiteModel *self)
{
  GString *ids = g_string_new (NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->meters));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SyMeterItem) item = g_list_model_get_item (G_LIST_MODEL (self->meters), i);

      g_string_append_printf (ids, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "", sy_meter_item_get_id (item));
    }

  return g_string_free (ids, FALSE);
}

static void
finish_load (SySiteModel  *self,
             const GError *error)
{
  g_clear_pointer (&self->error, g_free);
  if (error != NULL)
    {
      g_warning ("Loading the site failed: %s", error->message);
      self->error = g_strdup (error->message);
    }
  self->loaded = TRUE;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADED]);
  g_signal_emit (self, signals[UPDATED], 0, self->last_data_ms);
}

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static JsonArray *
get_results (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_object_get_array_member (json_node_get_object (node), "results");
}

/* Step 4: today's energy per meter, from 15-minute rollups since local midnight. (The 1-day
 * rollups are UTC days, which are not the site's day; 15 minutes divides every time zone's
 * midnight.) */
static void
today_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(SySiteModel) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *results;
  guint n;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (is_cancelled (error))
    return;

  results = get_results (node);
  n = results ? json_array_get_length (results) : 0;
  for (guint i = 0; i < n; i++)
    {
      JsonObject *row = json_array_get_object_element (results, i);
      SyMeterItem *item = sy_site_model_lookup (self, json_object_get_int_member_with_default (row, "meter_id", 0));
      JsonNode *delta = json_object_get_member (row, "energy_delta_kwh");

      if (item == NULL || delta == NULL || JSON_NODE_HOLDS_NULL (delta))
        continue;
      sy_meter_item_set_today_energy (item, sy_meter_item_get_today_energy (item) + json_node_get_double (delta));
    }

  finish_load (self, error);
}

static void
load_today (SySiteModel *self)
{
  g_autofree char *ids = meter_id_list (self);
  g_autofree char *from = NULL;
  g_autofree char *path = NULL;

  compute_day (self);
  from = sy_format_iso8601 (self->day_start_ms);
  path = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%s&bucket=15m&from=%s", ids, from);
  sy_client_request_async (self->client, "GET", path, NULL, self->cancellable, today_cb, g_object_ref (self));
}

/* Step 3: the newest reading of each meter. */
static void
latest_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SySiteModel) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *results;
  guint n;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (is_cancelled (error))
    return;
  if (node == NULL)
    {
      finish_load (self, error);
      return;
    }

  results = get_results (node);
  n = results ? json_array_get_length (results) : 0;
  for (guint i = 0; i < n; i++)
    {
      JsonObject *row = json_array_get_object_element (results, i);
      SyMeterItem *item = sy_site_model_lookup (self, json_object_get_int_member_with_default (row, "meter_id", 0));

      if (item != NULL && sy_meter_item_apply_reading (item, row) &&
          sy_meter_item_get_last_seen_ms (item) > self->last_data_ms)
        self->last_data_ms = sy_meter_item_get_last_seen_ms (item);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_DATA_MS]);

  load_today (self);
}

/* Step 2: 15 minutes of history from the 1-minute rollups, each bucket's average at its
 * middle. */
static void
history_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(SySiteModel) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *path = NULL;
  JsonArray *results;
  gint64 now_ms = g_get_real_time () / 1000;
  guint n;

  node = sy_client_request_finish (SY_CLIENT (object), result, &error);
  if (is_cancelled (error))
    return;
  if (node == NULL)
    g_warning ("Loading the power history failed: %s", error->message);

  results = get_results (node);
  n = results ? json_array_get_length (results) : 0;
  for (guint i = 0; i < n; i++)
    {
      JsonObject *row = json_array_get_object_element (results, i);
      SyMeterItem *item = sy_site_model_lookup (self, json_object_get_int_member_with_default (row, "meter_id", 0));
      JsonNode *avg = json_object_get_member (row, "avg_power");
      gint64 ts_ms = sy_parse_iso8601 (json_object_get_string_member_with_default (row, "timestamp", NULL));

      if (item == NULL || avg == NULL || JSON_NODE_HOLDS_NULL (avg) || ts_ms < 0)
        continue;
      sy_meter_item_add_history (item, MIN (ts_ms + 30000, now_ms - 1000), json_node_get_double (avg));
    }

  path = g_strdup_printf ("/api/energy/energy-data/latest?site_id=%" G_GINT64_FORMAT, self->site_id);
  sy_client_request_async (self->client, "GET", path, NULL, self->cancellable, latest_cb, g_object_ref (self));
}

static int
compare_items (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  gint64 x = sy_meter_item_get_id ((SyMeterItem *) a);
  gint64 y = sy_meter_item_get_id ((SyMeterItem *) b);

  return (x > y) - (x < y);
}

/* Step 1b: the site's meters. */
static void
meters_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SySiteModel) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) meters = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *ids = NULL;
  g_autofree char *from = NULL;
  g_autofree char *path = NULL;

  meters = sy_client_list_all_finish (SY_CLIENT (object), result, &error);
  if (is_cancelled (error))
    return;
  if (meters == NULL)
    {
      finish_load (self, error);
      return;
    }

  for (guint i = 0; i < json_array_get_length (meters); i++)
    {
      JsonObject *meter = json_array_get_object_element (meters, i);
      SyMeterItem *item;

      if (meter == NULL || !json_object_has_member (meter, "id"))
        continue;
      item = sy_meter_item_new (json_object_get_int_member (meter, "id"),
                                json_object_get_string_member_with_default (meter, "name", "?"),
                                json_object_get_string_member_with_default (meter, "kind", "submeter"));
      g_ptr_array_add (items, item);
    }

  g_hash_table_remove_all (self->by_id);
  g_list_store_remove_all (self->meters);
  for (guint i = 0; i < items->len; i++)
    g_list_store_insert_sorted (self->meters, g_ptr_array_index (items, i), compare_items, NULL);
  for (guint i = 0; i < items->len; i++)
    {
      SyMeterItem *item = g_ptr_array_index (items, i);
      gint64 *key = g_new (gint64, 1);

      *key = sy_meter_item_get_id (item);
      g_hash_table_insert (self->by_id, key, item);
    }

  if (items->len == 0)
    {
      finish_load (self, NULL);
      return;
    }

  ids = meter_id_list (self);
  from = sy_format_iso8601 (g_get_real_time () / 1000 - SY_METER_ITEM_HISTORY_MS);
  path = g_strdup_printf ("/api/energy/energy-data/rollups?meter_id=%s&bucket=1m&from=%s", ids, from);
  sy_client_request_async (self->client, "GET", path, NULL, self->cancellable, history_cb, g_object_ref (self));
}

/* Step 1a: the first site. */
static void
sites_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(SySiteModel) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) sites = NULL;
  g_autofree char *path = NULL;
  JsonObject *site;

  sites = sy_client_list_all_finish (SY_CLIENT (object), result, &error);
  if (is_cancelled (error))
    return;
  if (sites == NULL)
    {
      finish_load (self, error);
      return;
    }

  if (json_array_get_length (sites) == 0)
    {
      finish_load (self, NULL);
      return;
    }

  site = json_array_get_object_element (sites, 0);
  self->site_id = json_object_get_int_member_with_default (site, "id", 0);
  g_free (self->site_name);
  self->site_name = g_strdup (json_object_get_string_member_with_default (site, "name", ""));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SITE_ID]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SITE_NAME]);

  path = g_strdup_printf ("/api/energy/meters?site_id=%" G_GINT64_FORMAT, self->site_id);
  sy_client_list_all_async (self->client, path, self->cancellable, meters_cb, g_object_ref (self));
}

static void
load_sites (SySiteModel *self)
{
  sy_client_list_all_async (self->client, "/api/energy/sites", self->cancellable, sites_cb, g_object_ref (self));
}

static gboolean
update_cb (gpointer user_data)
{
  SySiteModel *self = user_data;

  self->update_id = 0;
  g_signal_emit (self, signals[UPDATED], 0, self->pending_ts_ms);

  return G_SOURCE_REMOVE;
}

/* Sign conventions are those of the stored readings: see sy-overview-page.c. */
static void
event_cb (SyClient   *client,
          const char *type,
          gint64      ts_ms,
          JsonNode   *data,
          gpointer    user_data)
{
  SySiteModel *self = user_data;
  JsonObject *reading;
  SyMeterItem *item;
  double before;
  gint64 seen_ms;

  self->last_data_ms = g_get_real_time () / 1000;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_DATA_MS]);

  if (!self->loaded || data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    return;

  reading = json_node_get_object (data);
  item = sy_site_model_lookup (self, json_object_get_int_member_with_default (reading, "meter_id", 0));
  if (item == NULL)
    return;

  before = sy_meter_item_get_energy (item);
  if (!sy_meter_item_apply_reading (item, reading))
    return;
  seen_ms = sy_meter_item_get_last_seen_ms (item);

  /* A new day starts from zero; within the day, the register's growth is the energy. */
  if (seen_ms >= self->day_end_ms)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (self->meters));

      compute_day (self);
      for (guint i = 0; i < n; i++)
        {
          g_autoptr(SyMeterItem) other = g_list_model_get_item (G_LIST_MODEL (self->meters), i);

          sy_meter_item_set_today_energy (other, 0.0);
        }
    }
  else if (seen_ms >= self->day_start_ms && !isnan (before) && !isnan (sy_meter_item_get_energy (item)))
    {
      sy_meter_item_set_today_energy (item, sy_meter_item_get_today_energy (item) +
                                            sy_meter_item_get_energy (item) - before);
    }

  self->pending_ts_ms = MAX (self->pending_ts_ms, seen_ms);
  if (self->update_id == 0)
    self->update_id = g_timeout_add (UPDATE_DELAY_MS, update_cb, self);
}

static void
sy_site_model_dispose (GObject *object)
{
  SySiteModel *self = (SySiteModel *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->update_id, g_source_remove);
  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  g_clear_pointer (&self->by_id, g_hash_table_unref);
  g_clear_object (&self->meters);

  G_OBJECT_CLASS (sy_site_model_parent_class)->dispose (object);
}

static void
sy_site_model_finalize (GObject *object)
{
  SySiteModel *self = (SySiteModel *) object;

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->site_name, g_free);
  g_clear_pointer (&self->error, g_free);

  G_OBJECT_CLASS (sy_site_model_parent_class)->finalize (object);
}

static void
sy_site_model_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  SySiteModel *self = SY_SITE_MODEL (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;

    case PROP_LOADED:
      g_value_set_boolean (value, self->loaded);
      break;

    case PROP_SITE_ID:
      g_value_set_int64 (value, self->site_id);
      break;

    case PROP_SITE_NAME:
      g_value_set_string (value, self->site_name);
      break;

    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;

    case PROP_LAST_DATA_MS:
      g_value_set_int64 (value, self->last_data_ms);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sy_site_model_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  SySiteModel *self = SY_SITE_MODEL (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sy_site_model_constructed (GObject *object)
{
  SySiteModel *self = (SySiteModel *) object;

  G_OBJECT_CLASS (sy_site_model_parent_class)->constructed (object);

  g_assert (SY_IS_CLIENT (self->client));

  self->last_data_ms = g_get_real_time () / 1000;
  g_signal_connect (self->client, "event::data.ingested", G_CALLBACK (event_cb), self);
  load_sites (self);
}

static void
sy_site_model_class_init (SySiteModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = sy_site_model_constructed;
  object_class->dispose = sy_site_model_dispose;
  object_class->finalize = sy_site_model_finalize;
  object_class->get_property = sy_site_model_get_property;
  object_class->set_property = sy_site_model_set_property;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, SY_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOADED] =
    g_param_spec_boolean ("loaded", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SITE_ID] =
    g_param_spec_int64 ("site-id", NULL, NULL, 0, G_MAXINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SITE_NAME] =
    g_param_spec_string ("site-name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR] =
    g_param_spec_string ("error", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAST_DATA_MS] =
    g_param_spec_int64 ("last-data-ms", NULL, NULL, 0, G_MAXINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SySiteModel::updated:
   *
   * Fires on the UI thread at most every 250 ms after readings were applied, and once when
   * the load finishes.
   */
  signals[UPDATED] =
    g_signal_new ("updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void
sy_site_model_init (SySiteModel *self)
{
  self->cancellable = g_cancellable_new ();
  self->meters = g_list_store_new (SY_TYPE_METER_ITEM);
  self->by_id = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  compute_day (self);
}

SySiteModel *
sy_site_model_new (SyClient *client)
{
  g_return_val_if_fail (SY_IS_CLIENT (client), NULL);

  return g_object_new (SY_TYPE_SITE_MODEL, "client", client, NULL);
}

SyClient *
sy_site_model_get_client (SySiteModel *self)
{
  g_return_val_if_fail (SY_IS_SITE_MODEL (self), NULL);

  return self->client;
}

gboolean
sy_site_model_get_loaded (SySiteModel *self)
{
  g_return_val_if_fail (SY_IS_SITE_MODEL (self), FALSE);

  return self->loaded;
}

gint64
sy_site_model_get_site_id (SySiteModel *self)
{
  g_return_val_if_fail (SY_IS_SITE_MODEL (self), 0);

  return self->site_id;
}

const char *
sy_site_model_get_site_name (SySiteModel *self)
{
  g_return_val_if_fail (SY_IS_SITE_MODEL (self), NULL);

  return self->site_name;
}

const char *
sy_site_model_get_error (SySiteModel *self)
{
  g_return_val_if_fail (SY_IS_SITE_MODEL (self), NULL);

  return self->error;
}

gint64
sy_site_model_get_last_data_ms (SySiteModel *self)
{
  g_return_val_if_fail (SY_IS_SITE_MODEL (self), 0);

  return self->last_data_ms;
}

GListModel *
sy_site_model_get_meters (SySiteModel *self)
{
  g_return_val_if_fail (SY_IS_SITE_MODEL (self), NULL);

  return G_LIST_MODEL (self->meters);
}

SyMeterItem *
sy_site_model_lookup (SySiteModel *self,
                      gint64       meter_id)
{
  g_return_val_if_fail (SY_IS_SITE_MODEL (self), NULL);

  return g_hash_table_lookup (self->by_id, &meter_id);
}

void
sy_site_model_reload (SySiteModel *self)
{
  g_return_if_fail (SY_IS_SITE_MODEL (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->loaded = FALSE;
  load_sites (self);
}
