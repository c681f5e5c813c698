/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-registry"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sy-error.h"
#include "sy-registry-private.h"
#include "sy-time.h"

#define MAX_NAME_CHARS     200
#define MIN_SECRET_BYTES   16
#define MAX_SECRET_BYTES   256
#define MAX_TIMEZONE_BYTES 64
#define MAX_MEMBER_IDS     10000

/* Body fields, as bits of RegistryWrite.set. The JSON name is also the column and the SQL
 * parameter name (":name"), except meter_ids, which lives in a membership table. */
typedef enum
{
  FIELD_NAME              = 1 << 0,
  FIELD_TIMEZONE          = 1 << 1,
  FIELD_LATITUDE          = 1 << 2,
  FIELD_LONGITUDE         = 1 << 3,
  FIELD_SITE_ID           = 1 << 4,
  FIELD_KIND              = 1 << 5,
  FIELD_PHASES            = 1 << 6,
  FIELD_NOMINAL_VOLTAGE   = 1 << 7,
  FIELD_HMAC_SECRET       = 1 << 8,
  FIELD_REQUIRE_SIGNATURE = 1 << 9,
  FIELD_METER_IDS         = 1 << 10,
} Field;

static const struct
{
  Field       bit;
  const char *name;
} fields[] = {
  { FIELD_NAME, "name" },
  { FIELD_TIMEZONE, "timezone" },
  { FIELD_LATITUDE, "latitude" },
  { FIELD_LONGITUDE, "longitude" },
  { FIELD_SITE_ID, "site_id" },
  { FIELD_KIND, "kind" },
  { FIELD_PHASES, "phases" },
  { FIELD_NOMINAL_VOLTAGE, "nominal_voltage" },
  { FIELD_HMAC_SECRET, "hmac_secret" },
  { FIELD_REQUIRE_SIGNATURE, "require_signature" },
  { FIELD_METER_IDS, "meter_ids" },
};

/* What changes a device key's SyDeviceInfo, which SyAuth caches. */
#define AUTH_FIELDS (FIELD_HMAC_SECRET | FIELD_REQUIRE_SIGNATURE | FIELD_METER_IDS)

static const char * const meter_kinds[] = {
  "grid", "pv", "battery", "ev_charger", "load", "submeter", NULL,
};
#define KIND_CHOICES "must be one of grid, pv, battery, ev_charger, load, submeter"

typedef struct
{
  const char         *noun;
  const char         *table;
  guint               fields;       /* Field bits the body may carry */
  const char * const *read_only;    /* output members a body must not carry */
  const char         *select;       /* the columns add_row() expects, without WHERE */
  const char         *filter;       /* WHERE clause of lists, over :site_id, :group_id, :kind */
  const char         *insert;
  const char         *ids_member;   /* the id list add_row() appends, or NULL */
  const char         *ids_select;   /* its query, over ?1 = this object's id */
  const char         *members;      /* the membership table written from meter_ids, or NULL */
} KindInfo;

static const char * const site_read_only[] = { "id", "created_at", NULL };
static const char * const meter_read_only[] = {
  "id", "created_at", "has_hmac_secret", "group_ids", "device_key", NULL,
};
static const char * const group_read_only[] = { "id", "created_at", NULL };
static const char * const device_read_only[] = {
  "id", "created_at", "has_hmac_secret", "device_key", NULL,
};

static const KindInfo kind_info[] = {
  [SY_REGISTRY_SITE] = {
    "site", "sites",
    FIELD_NAME | FIELD_TIMEZONE | FIELD_LATITUDE | FIELD_LONGITUDE,
    site_read_only,
    "SELECT id, name, timezone, latitude, longitude, created_ms FROM sites",
    "1",
    "INSERT INTO sites (name, timezone, latitude, longitude, created_ms) "
    "VALUES (:name, :timezone, :latitude, :longitude, :now)",
    NULL, NULL, NULL,
  },
  [SY_REGISTRY_METER] = {
    "meter", "meters",
    FIELD_NAME | FIELD_SITE_ID | FIELD_KIND | FIELD_PHASES | FIELD_NOMINAL_VOLTAGE |
    FIELD_HMAC_SECRET | FIELD_REQUIRE_SIGNATURE,
    meter_read_only,
    "SELECT id, name, site_id, kind, phases, nominal_voltage, hmac_secret IS NOT NULL, "
    "require_signature, created_ms FROM meters",
    "(:site_id IS NULL OR site_id = :site_id) "
    "AND (:group_id IS NULL OR id IN (SELECT meter_id FROM meter_group_members WHERE group_id = :group_id)) "
    "AND (:kind IS NULL OR kind = :kind)",
    "INSERT INTO meters (site_id, name, kind, phases, nominal_voltage, device_key_hash, hmac_secret, "
    "require_signature, created_ms) "
    "VALUES (:site_id, :name, :kind, :phases, :nominal_voltage, :key_hash, :hmac_secret, "
    ":require_signature, :now)",
    "group_ids",
    "SELECT group_id FROM meter_group_members WHERE meter_id = ?1 ORDER BY group_id",
    NULL,
  },
  [SY_REGISTRY_GROUP] = {
    "group", "meter_groups",
    FIELD_NAME | FIELD_SITE_ID | FIELD_METER_IDS,
    group_read_only,
    "SELECT id, name, site_id, created_ms FROM meter_groups",
    "(:site_id IS NULL OR site_id = :site_id)",
    "INSERT INTO meter_groups (site_id, name, created_ms) VALUES (:site_id, :name, :now)",
    "meter_ids",
    "SELECT meter_id FROM meter_group_members WHERE group_id = ?1 ORDER BY meter_id",
    "meter_group_members",
  },
  [SY_REGISTRY_DEVICE] = {
    "device", "devices",
    FIELD_NAME | FIELD_METER_IDS | FIELD_HMAC_SECRET | FIELD_REQUIRE_SIGNATURE,
    device_read_only,
    "SELECT id, name, hmac_secret IS NOT NULL, require_signature, created_ms FROM devices",
    "1",
    "INSERT INTO devices (name, device_key_hash, hmac_secret, require_signature, created_ms) "
    "VALUES (:name, :key_hash, :hmac_secret, :require_signature, :now)",
    "meter_ids",
    "SELECT meter_id FROM device_meters WHERE device_id = ?1 ORDER BY meter_id",
    "device_meters",
  },
};

/* One registry change, handed to the writer thread. Strings are borrowed from the caller's
 * body, which outlives the synchronous write. */
typedef struct
{
  SyRegistryKind  kind;
  gint64          id;
  gint64          now_ms;
  guint           set;                /* Field bits present in the body */

  const char     *name;
  const char     *timezone;
  gboolean        latitude_null;
  double          latitude;
  gboolean        longitude_null;
  double          longitude;
  gint64          site_id;            /* 0 binds NULL (a group without a site) */
  const char     *meter_kind;
  gint64          phases;
  double          nominal_voltage;
  const char     *hmac_secret;        /* NULL binds NULL (no secret) */
  gboolean        require_signature;
  GArray         *meter_ids;          /* gint64, sorted and unique */
  GArray         *meter_order;        /* gint64, as given, to name the failing index */

  gboolean        purge;
  const char     *device_key;         /* shown in the result of create and rotate */
  char           *key_hash;

  JsonNode       *result;
} RegistryWrite;

static void
registry_write_clear (RegistryWrite *w)
{
  g_clear_pointer (&w->meter_ids, g_array_unref);
  g_clear_pointer (&w->meter_order, g_array_unref);
  g_clear_pointer (&w->key_hash, g_free);
  g_clear_pointer (&w->result, json_node_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RegistryWrite, registry_write_clear)

static gboolean
kind_is_valid (SyRegistryKind kind)
{
  return (guint) kind < G_N_ELEMENTS (kind_info);
}

/* Body parsing. These mirror the API's field readers (same messages), which live in api/,
 * a room the registry must not depend on. */

typedef enum
{
  MEMBER_OPTIONAL = 0,
  MEMBER_REQUIRED = 1 << 0,
  MEMBER_NULLABLE = 1 << 1,
} MemberFlags;

static gboolean
check_members (JsonObject      *body,
               const KindInfo  *info,
               GError         **error)
{
  g_autoptr(GList) members = json_object_get_members (body);

  for (const GList *l = members; l != NULL; l = l->next)
    {
      const char *member = l->data;
      gboolean known = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (fields) && !known; i++)
        known = (info->fields & fields[i].bit) && g_str_equal (fields[i].name, member);

      if (known)
        continue;

      if (g_strv_contains (info->read_only, member))
        sy_error_set_field (error, member, "read-only field");
      else
        sy_error_set_field (error, member, "unknown field");
      return FALSE;
    }

  return TRUE;
}

/* *out is the member, a null node when @flags allows it, or NULL when absent. */
static gboolean
get_member (JsonObject   *body,
            const char   *field,
            MemberFlags   flags,
            JsonNode    **out,
            GError      **error)
{
  JsonNode *node = json_object_get_member (body, field);

  *out = NULL;

  if (node == NULL)
    {
      if (flags & MEMBER_REQUIRED)
        {
          sy_error_set_field (error, field, "required");
          return FALSE;
        }
      return TRUE;
    }

  if (JSON_NODE_HOLDS_NULL (node) && !(flags & MEMBER_NULLABLE))
    {
      sy_error_set_field (error, field, (flags & MEMBER_REQUIRED) ? "required" : "must not be null");
      return FALSE;
    }

  *out = node;
  return TRUE;
}

static gboolean
node_get_string (JsonNode     *node,
                 const char   *field,
                 const char  **out,
                 GError      **error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      sy_error_set_field (error, field, "must be a string");
      return FALSE;
    }

  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
node_get_int (JsonNode    *node,
              const char  *field,
              gint64      *out,
              GError     **error)
{
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  if (type == G_TYPE_INT64)
    {
      *out = json_node_get_int (node);
      return TRUE;
    }

  /* 3.0 is an integer too, as long as it is exact. */
  if (type == G_TYPE_DOUBLE)
    {
      double value = json_node_get_double (node);

      if (value == floor (value) && fabs (value) < 9007199254740992.0)
        {
          *out = (gint64) value;
          return TRUE;
        }
    }

  sy_error_set_field (error, field, "must be an integer");
  return FALSE;
}

static gboolean
node_get_double (JsonNode    *node,
                 const char  *field,
                 double      *out,
                 GError     **error)
{
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
    {
      sy_error_set_field (error, field, "must be a number");
      return FALSE;
    }

  *out = json_node_get_double (node);
  if (!isfinite (*out))
    {
      sy_error_set_field (error, field, "must be a finite number");
      return FALSE;
    }

  return TRUE;
}

static gboolean
read_name (JsonObject     *body,
           gboolean        create,
           RegistryWrite  *w,
           GError        **error)
{
  JsonNode *node;
  glong n_chars;

  if (!get_member (body, "name", create ? MEMBER_REQUIRED : MEMBER_OPTIONAL, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;

  if (!node_get_string (node, "name", &w->name, error))
    return FALSE;

  n_chars = g_utf8_strlen (w->name, -1);
  if (n_chars < 1 || n_chars > MAX_NAME_CHARS)
    {
      sy_error_set_field (error, "name", "must be 1 to %d characters", MAX_NAME_CHARS);
      return FALSE;
    }

  w->set |= FIELD_NAME;
  return TRUE;
}

static gboolean
read_site_fields (JsonObject     *body,
                  RegistryWrite  *w,
                  GError        **error)
{
  JsonNode *node;

  if (!get_member (body, "timezone", MEMBER_OPTIONAL, &node, error))
    return FALSE;
  if (node != NULL)
    {
      g_autoptr(GTimeZone) tz = NULL;

      if (!node_get_string (node, "timezone", &w->timezone, error))
        return FALSE;

      if (w->timezone[0] == '\0' || strlen (w->timezone) > MAX_TIMEZONE_BYTES ||
          (tz = g_time_zone_new_identifier (w->timezone)) == NULL)
        {
          sy_error_set_field (error, "timezone",
                              "not a known time zone (use an IANA name such as Europe/Berlin)");
          return FALSE;
        }
      w->set |= FIELD_TIMEZONE;
    }

  if (!get_member (body, "latitude", MEMBER_NULLABLE, &node, error))
    return FALSE;
  if (node != NULL)
    {
      w->latitude_null = JSON_NODE_HOLDS_NULL (node);
      if (!w->latitude_null &&
          !node_get_double (node, "latitude", &w->latitude, error))
        return FALSE;
      if (!w->latitude_null && (w->latitude < -90 || w->latitude > 90))
        {
          sy_error_set_field (error, "latitude", "out of range (-90 … 90)");
          return FALSE;
        }
      w->set |= FIELD_LATITUDE;
    }

  if (!get_member (body, "longitude", MEMBER_NULLABLE, &node, error))
    return FALSE;
  if (node != NULL)
    {
      w->longitude_null = JSON_NODE_HOLDS_NULL (node);
      if (!w->longitude_null &&
          !node_get_double (node, "longitude", &w->longitude, error))
        return FALSE;
      if (!w->longitude_null && (w->longitude < -180 || w->longitude > 180))
        {
          sy_error_set_field (error, "longitude", "out of range (-180 … 180)");
          return FALSE;
        }
      w->set |= FIELD_LONGITUDE;
    }

  return TRUE;
}

/* A meter needs its site; a group may have none (null). */
static gboolean
read_site_id (JsonObject     *body,
              MemberFlags     flags,
              RegistryWrite  *w,
              GError        **error)
{
  JsonNode *node;

  if (!get_member (body, "site_id", flags, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;

  w->site_id = 0;
  if (!JSON_NODE_HOLDS_NULL (node))
    {
      if (!node_get_int (node, "site_id", &w->site_id, error))
        return FALSE;
      if (w->site_id < 1)
        {
          sy_error_set_field (error, "site_id", "must be a positive integer id");
          return FALSE;
        }
    }

  w->set |= FIELD_SITE_ID;
  return TRUE;
}

static gboolean
read_meter_fields (JsonObject     *body,
                   gboolean        create,
                   RegistryWrite  *w,
                   GError        **error)
{
  JsonNode *node;

  if (!get_member (body, "kind", create ? MEMBER_REQUIRED : MEMBER_OPTIONAL, &node, error))
    return FALSE;
  if (node != NULL)
    {
      if (!node_get_string (node, "kind", &w->meter_kind, error))
        return FALSE;
      if (!g_strv_contains (meter_kinds, w->meter_kind))
        {
          sy_error_set_field (error, "kind", KIND_CHOICES);
          return FALSE;
        }
      w->set |= FIELD_KIND;
    }

  if (!get_member (body, "phases", MEMBER_OPTIONAL, &node, error))
    return FALSE;
  if (node != NULL)
    {
      if (!node_get_int (node, "phases", &w->phases, error))
        return FALSE;
      if (w->phases != 1 && w->phases != 3)
        {
          sy_error_set_field (error, "phases", "must be 1 or 3");
          return FALSE;
        }
      w->set |= FIELD_PHASES;
    }

  if (!get_member (body, "nominal_voltage", MEMBER_OPTIONAL, &node, error))
    return FALSE;
  if (node != NULL)
    {
      if (!node_get_double (node, "nominal_voltage", &w->nominal_voltage, error))
        return FALSE;
      if (w->nominal_voltage <= 0 || w->nominal_voltage > 1e6)
        {
          sy_error_set_field (error, "nominal_voltage", "must be greater than 0 and at most 1000000");
          return FALSE;
        }
      w->set |= FIELD_NOMINAL_VOLTAGE;
    }

  return TRUE;
}

static gboolean
read_signature_fields (JsonObject     *body,
                       RegistryWrite  *w,
                       GError        **error)
{
  JsonNode *node;

  /* null removes the secret. */
  if (!get_member (body, "hmac_secret", MEMBER_NULLABLE, &node, error))
    return FALSE;
  if (node != NULL)
    {
      w->hmac_secret = NULL;
      if (!JSON_NODE_HOLDS_NULL (node))
        {
          gsize len;

          if (!node_get_string (node, "hmac_secret", &w->hmac_secret, error))
            return FALSE;
          len = strlen (w->hmac_secret);
          if (len < MIN_SECRET_BYTES || len > MAX_SECRET_BYTES)
            {
              sy_error_set_field (error, "hmac_secret", "must be %d to %d bytes",
                                  MIN_SECRET_BYTES, MAX_SECRET_BYTES);
              return FALSE;
            }
        }
      w->set |= FIELD_HMAC_SECRET;
    }

  if (!get_member (body, "require_signature", MEMBER_OPTIONAL, &node, error))
    return FALSE;
  if (node != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
        {
          sy_error_set_field (error, "require_signature", "must be true or false");
          return FALSE;
        }
      w->require_signature = json_node_get_boolean (node);
      w->set |= FIELD_REQUIRE_SIGNATURE;
    }

  return TRUE;
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static gboolean
read_meter_ids (JsonObject     *body,
                gboolean        required,
                gboolean        non_empty,
                RegistryWrite  *w,
                GError        **error)
{
  g_autoptr(GArray) order = NULL;
  g_autoptr(GArray) ids = NULL;
  JsonNode *node;
  JsonArray *array;
  guint len;

  if (!get_member (body, "meter_ids", required ? MEMBER_REQUIRED : MEMBER_OPTIONAL, &node, error))
    return FALSE;
  if (node == NULL)
    return TRUE;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      sy_error_set_field (error, "meter_ids", "must be an array of ids");
      return FALSE;
    }

  array = json_node_get_array (node);
  len = json_array_get_length (array);
  if (len > MAX_MEMBER_IDS)
    {
      sy_error_set_field (error, "meter_ids", "at most %d ids", MAX_MEMBER_IDS);
      return FALSE;
    }
  if (len == 0 && non_empty)
    {
      sy_error_set_field (error, "meter_ids", "at least one meter is required");
      return FALSE;
    }

  order = g_array_sized_new (FALSE, FALSE, sizeof (gint64), len);
  for (guint i = 0; i < len; i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      gint64 id;

      if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_INT64 ||
          (id = json_node_get_int (item)) < 1)
        {
          g_autofree char *path = g_strdup_printf ("meter_ids[%u]", i);

          sy_error_set_field (error, path, "must be a positive integer id");
          return FALSE;
        }
      g_array_append_val (order, id);
    }

  ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), len);
  g_array_append_vals (ids, order->data, order->len);
  g_array_sort (ids, compare_int64);
  for (guint i = 1; i < ids->len; i++)
    {
      if (g_array_index (ids, gint64, i) == g_array_index (ids, gint64, i - 1))
        g_array_remove_index (ids, i--);
    }

  g_clear_pointer (&w->meter_ids, g_array_unref);
  g_clear_pointer (&w->meter_order, g_array_unref);
  w->meter_ids = g_steal_pointer (&ids);
  w->meter_order = g_steal_pointer (&order);
  w->set |= FIELD_METER_IDS;
  return TRUE;
}

static gboolean
parse_body (RegistryWrite  *w,
            JsonObject     *body,
            gboolean        create,
            GError        **error)
{
  const KindInfo *info = &kind_info[w->kind];

  if (!check_members (body, info, error) ||
      !read_name (body, create, w, error))
    return FALSE;

  switch (w->kind)
    {
    case SY_REGISTRY_SITE:
      return read_site_fields (body, w, error);

    case SY_REGISTRY_METER:
      return read_site_id (body, create ? MEMBER_REQUIRED : MEMBER_OPTIONAL, w, error) &&
             read_meter_fields (body, create, w, error) &&
             read_signature_fields (body, w, error);

    case SY_REGISTRY_GROUP:
      return read_site_id (body, MEMBER_NULLABLE, w, error) &&
             read_meter_ids (body, FALSE, FALSE, w, error);

    case SY_REGISTRY_DEVICE:
      return read_meter_ids (body, create, TRUE, w, error) &&
             read_signature_fields (body, w, error);

    default:
      break;
    }

  g_assert_not_reached ();
  return FALSE;
}

/* SQL helpers. Statements use named parameters; binding one a statement lacks is a no-op, so
 * bind_fields() serves every INSERT and UPDATE. */

static void
bind_int64 (sqlite3_stmt *stmt,
            const char   *name,
            gint64        value)
{
  int idx = sqlite3_bind_parameter_index (stmt, name);

  if (idx > 0)
    sqlite3_bind_int64 (stmt, idx, value);
}

static void
bind_text (sqlite3_stmt *stmt,
           const char   *name,
           const char   *value)
{
  int idx = sqlite3_bind_parameter_index (stmt, name);

  if (idx == 0)
    return;

  if (value != NULL)
    sqlite3_bind_text (stmt, idx, value, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, idx);
}

static void
bind_double (sqlite3_stmt *stmt,
             const char   *name,
             gboolean      is_null,
             double        value)
{
  int idx = sqlite3_bind_parameter_index (stmt, name);

  if (idx == 0)
    return;

  if (is_null)
    sqlite3_bind_null (stmt, idx);
  else
    sqlite3_bind_double (stmt, idx, value);
}

static void
bind_fields (sqlite3_stmt  *stmt,
             RegistryWrite *w)
{
  bind_int64 (stmt, ":id", w->id);
  bind_int64 (stmt, ":now", w->now_ms);
  bind_text (stmt, ":name", w->name);
  bind_text (stmt, ":timezone", w->timezone);
  bind_double (stmt, ":latitude", w->latitude_null, w->latitude);
  bind_double (stmt, ":longitude", w->longitude_null, w->longitude);
  if (w->site_id > 0)
    bind_int64 (stmt, ":site_id", w->site_id);
  else
    bind_text (stmt, ":site_id", NULL);
  bind_text (stmt, ":kind", w->meter_kind);
  bind_int64 (stmt, ":phases", w->phases);
  bind_double (stmt, ":nominal_voltage", FALSE, w->nominal_voltage);
  bind_text (stmt, ":hmac_secret", w->hmac_secret);
  bind_int64 (stmt, ":require_signature", w->require_signature);
  bind_text (stmt, ":key_hash", w->key_hash);
}

/* Runs @sql, whose only parameter ?1 is @id, and tells whether it yielded a row. */
static gboolean
query_exists (sqlite3     *db,
              const char  *sql,
              gint64       id,
              gboolean    *out_exists,
              GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = _sy_sql_prepare (db, sql, error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (!_sy_sql_check (db, rc, "Looking up the registry", error))
    return FALSE;

  *out_exists = rc == SQLITE_ROW;
  return TRUE;
}

static gboolean
ensure_exists (sqlite3         *db,
               SyRegistryKind   kind,
               gint64           id,
               GError         **error)
{
  const KindInfo *info = &kind_info[kind];
  g_autofree char *sql = g_strconcat ("SELECT 1 FROM ", info->table, " WHERE id = ?1", NULL);
  gboolean exists = FALSE;

  if (!query_exists (db, sql, id, &exists, error))
    return FALSE;

  if (!exists)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No %s %" G_GINT64_FORMAT, info->noun, id);
      return FALSE;
    }

  return TRUE;
}

static void
add_time (JsonBuilder *builder,
          const char  *member,
          gint64       ms)
{
  g_autofree char *text = sy_time_format_iso8601 (ms);

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, text);
}

static void
add_nullable_double (JsonBuilder  *builder,
                     const char   *member,
                     sqlite3_stmt *stmt,
                     int           col)
{
  json_builder_set_member_name (builder, member);
  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    json_builder_add_null_value (builder);
  else
    json_builder_add_double_value (builder, sqlite3_column_double (stmt, col));
}

static void
add_signature (JsonBuilder  *builder,
               sqlite3_stmt *stmt,
               int           col)
{
  json_builder_set_member_name (builder, "has_hmac_secret");
  json_builder_add_boolean_value (builder, sqlite3_column_int (stmt, col) != 0);
  json_builder_set_member_name (builder, "require_signature");
  json_builder_add_boolean_value (builder, sqlite3_column_int (stmt, col + 1) != 0);
}

/* Adds the object on @stmt's current row (columns as in KindInfo.select). @ids_stmt, when
 * the kind has an id list, is its prepared query, reset here for reuse. */
static gboolean
add_row (JsonBuilder     *builder,
         SyRegistryKind   kind,
         sqlite3_stmt    *stmt,
         sqlite3         *db,
         sqlite3_stmt    *ids_stmt,
         const char      *device_key,
         GError         **error)
{
  const KindInfo *info = &kind_info[kind];
  gint64 id = sqlite3_column_int64 (stmt, 0);
  int created_col = 0;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, id);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, (const char *) sqlite3_column_text (stmt, 1));

  switch (kind)
    {
    case SY_REGISTRY_SITE:
      json_builder_set_member_name (builder, "timezone");
      json_builder_add_string_value (builder, (const char *) sqlite3_column_text (stmt, 2));
      add_nullable_double (builder, "latitude", stmt, 3);
      add_nullable_double (builder, "longitude", stmt, 4);
      created_col = 5;
      break;

    case SY_REGISTRY_METER:
      json_builder_set_member_name (builder, "site_id");
      json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, 2));
      json_builder_set_member_name (builder, "kind");
      json_builder_add_string_value (builder, (const char *) sqlite3_column_text (stmt, 3));
      json_builder_set_member_name (builder, "phases");
      json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, 4));
      json_builder_set_member_name (builder, "nominal_voltage");
      json_builder_add_double_value (builder, sqlite3_column_double (stmt, 5));
      add_signature (builder, stmt, 6);
      created_col = 8;
      break;

    case SY_REGISTRY_GROUP:
      json_builder_set_member_name (builder, "site_id");
      if (sqlite3_column_type (stmt, 2) == SQLITE_NULL)
        json_builder_add_null_value (builder);
      else
        json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, 2));
      created_col = 3;
      break;

    case SY_REGISTRY_DEVICE:
      add_signature (builder, stmt, 2);
      created_col = 4;
      break;

    default:
      g_assert_not_reached ();
    }

  if (info->ids_member != NULL)
    {
      int rc;

      json_builder_set_member_name (builder, info->ids_member);
      json_builder_begin_array (builder);
      sqlite3_reset (ids_stmt);
      sqlite3_bind_int64 (ids_stmt, 1, id);
      while ((rc = sqlite3_step (ids_stmt)) == SQLITE_ROW)
        json_builder_add_int_value (builder, sqlite3_column_int64 (ids_stmt, 0));
      json_builder_end_array (builder);

      if (!_sy_sql_check (db, rc, "Listing members", error))
        return FALSE;
    }

  add_time (builder, "created_at", sqlite3_column_int64 (stmt, created_col));

  if (device_key != NULL)
    {
      json_builder_set_member_name (builder, "device_key");
      json_builder_add_string_value (builder, device_key);
    }

  json_builder_end_object (builder);
  return TRUE;
}

/* Any connection: the reader pool or, inside a write, the writer. */
static JsonNode *
load_object (sqlite3         *db,
             SyRegistryKind   kind,
             gint64           id,
             const char      *device_key,
             GError         **error)
{
  const KindInfo *info = &kind_info[kind];
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) ids_stmt = NULL;
  g_autofree char *sql = g_strconcat (info->select, " WHERE id = ?1", NULL);
  int rc;

  stmt = _sy_sql_prepare (db, sql, error);
  if (stmt == NULL)
    return NULL;
  if (info->ids_select != NULL && (ids_stmt = _sy_sql_prepare (db, info->ids_select, error)) == NULL)
    return NULL;

  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      if (_sy_sql_check (db, rc, "Loading from the registry", error))
        g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No %s %" G_GINT64_FORMAT, info->noun, id);
      return NULL;
    }

  if (!add_row (builder, kind, stmt, db, ids_stmt, device_key, error))
    return NULL;

  return json_builder_get_root (builder);
}

/* Checks, on the writer, what the body refers to, so that nothing can vanish in between. */
static gboolean
check_references (sqlite3        *db,
                  RegistryWrite  *w,
                  GError        **error)
{
  if ((w->set & FIELD_SITE_ID) && w->site_id > 0)
    {
      gboolean exists = FALSE;

      if (!query_exists (db, "SELECT 1 FROM sites WHERE id = ?1", w->site_id, &exists, error))
        return FALSE;
      if (!exists)
        {
          sy_error_set_field (error, "site_id", "no site %" G_GINT64_FORMAT, w->site_id);
          return FALSE;
        }
    }

  if ((w->set & FIELD_METER_IDS) && w->meter_order->len > 0)
    {
      g_autoptr(sqlite3_stmt) stmt = _sy_sql_prepare (db, "SELECT 1 FROM meters WHERE id = ?1", error);

      if (stmt == NULL)
        return FALSE;

      for (guint i = 0; i < w->meter_order->len; i++)
        {
          gint64 meter_id = g_array_index (w->meter_order, gint64, i);
          int rc;

          sqlite3_reset (stmt);
          sqlite3_bind_int64 (stmt, 1, meter_id);
          rc = sqlite3_step (stmt);
          if (!_sy_sql_check (db, rc, "Looking up meters", error))
            return FALSE;
          if (rc != SQLITE_ROW)
            {
              g_autofree char *path = g_strdup_printf ("meter_ids[%u]", i);

              sy_error_set_field (error, path, "no meter %" G_GINT64_FORMAT, meter_id);
              return FALSE;
            }
        }
    }

  return TRUE;
}

static gboolean
replace_members (sqlite3        *db,
                 RegistryWrite  *w,
                 GError        **error)
{
  const KindInfo *info = &kind_info[w->kind];
  g_autofree char *delete_sql = NULL;
  g_autofree char *insert_sql = NULL;
  g_autoptr(sqlite3_stmt) del = NULL;
  g_autoptr(sqlite3_stmt) ins = NULL;
  const char *owner;

  if (info->members == NULL || !(w->set & FIELD_METER_IDS))
    return TRUE;

  owner = w->kind == SY_REGISTRY_GROUP ? "group_id" : "device_id";
  delete_sql = g_strconcat ("DELETE FROM ", info->members, " WHERE ", owner, " = ?1", NULL);
  insert_sql = g_strconcat ("INSERT INTO ", info->members, " (", owner, ", meter_id) VALUES (?1, ?2)", NULL);

  del = _sy_sql_prepare (db, delete_sql, error);
  if (del == NULL)
    return FALSE;
  sqlite3_bind_int64 (del, 1, w->id);
  if (!_sy_sql_check (db, sqlite3_step (del), "Replacing members", error))
    return FALSE;

  ins = _sy_sql_prepare (db, insert_sql, error);
  if (ins == NULL)
    return FALSE;
  for (guint i = 0; i < w->meter_ids->len; i++)
    {
      sqlite3_reset (ins);
      sqlite3_bind_int64 (ins, 1, w->id);
      sqlite3_bind_int64 (ins, 2, g_array_index (w->meter_ids, gint64, i));
      if (!_sy_sql_check (db, sqlite3_step (ins), "Adding members", error))
        return FALSE;
    }

  return TRUE;
}

/* A signature cannot be required without a secret to check it: judged on the stored result,
 * so that a PATCH removing the secret of a meter that requires one fails too. */
static gboolean
check_signature (sqlite3        *db,
                 RegistryWrite  *w,
                 GError        **error)
{
  const KindInfo *info = &kind_info[w->kind];
  g_autofree char *sql = NULL;
  gboolean bad = FALSE;

  if (!(info->fields & FIELD_REQUIRE_SIGNATURE))
    return TRUE;

  sql = g_strconcat ("SELECT 1 FROM ", info->table,
                     " WHERE id = ?1 AND require_signature != 0 AND hmac_secret IS NULL", NULL);
  if (!query_exists (db, sql, w->id, &bad, error))
    return FALSE;

  if (bad)
    {
      sy_error_set_field (error, "require_signature", "needs hmac_secret");
      return FALSE;
    }

  return TRUE;
}

static gboolean
create_write (SyWriteBatch  *batch,
              gpointer       data,
              GError       **error)
{
  RegistryWrite *w = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!check_references (db, w, error))
    return FALSE;

  stmt = _sy_sql_prepare (db, kind_info[w->kind].insert, error);
  if (stmt == NULL)
    return FALSE;
  bind_fields (stmt, w);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Creating", error))
    return FALSE;
  w->id = sqlite3_last_insert_rowid (db);

  if (!replace_members (db, w, error) ||
      !check_signature (db, w, error))
    return FALSE;

  w->result = load_object (db, w->kind, w->id, w->device_key, error);
  return w->result != NULL;
}

static gboolean
update_write (SyWriteBatch  *batch,
              gpointer       data,
              GError       **error)
{
  RegistryWrite *w = data;
  const KindInfo *info = &kind_info[w->kind];
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(GString) sql = g_string_new (NULL);

  if (!ensure_exists (db, w->kind, w->id, error) ||
      !check_references (db, w, error))
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      if (!(w->set & fields[i].bit) || fields[i].bit == FIELD_METER_IDS)
        continue;
      if (sql->len == 0)
        g_string_append_printf (sql, "UPDATE %s SET ", info->table);
      else
        g_string_append (sql, ", ");
      g_string_append_printf (sql, "%s = :%s", fields[i].name, fields[i].name);
    }

  if (sql->len > 0)
    {
      g_autoptr(sqlite3_stmt) stmt = NULL;

      g_string_append (sql, " WHERE id = :id");
      stmt = _sy_sql_prepare (db, sql->str, error);
      if (stmt == NULL)
        return FALSE;
      bind_fields (stmt, w);
      if (!_sy_sql_check (db, sqlite3_step (stmt), "Updating", error))
        return FALSE;
    }

  if (!replace_members (db, w, error) ||
      !check_signature (db, w, error))
    return FALSE;

  w->result = load_object (db, w->kind, w->id, NULL, error);
  return w->result != NULL;
}

static gboolean
delete_write (SyWriteBatch  *batch,
              gpointer       data,
              GError       **error)
{
  RegistryWrite *w = data;
  const KindInfo *info = &kind_info[w->kind];
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *sql = NULL;

  if (!ensure_exists (db, w->kind, w->id, error))
    return FALSE;

  if (w->kind == SY_REGISTRY_SITE)
    {
      g_autoptr(sqlite3_stmt) count = NULL;
      gint64 n;

      count = _sy_sql_prepare (db, "SELECT count(*) FROM meters WHERE site_id = ?1", error);
      if (count == NULL)
        return FALSE;
      sqlite3_bind_int64 (count, 1, w->id);
      if (!_sy_sql_check (db, sqlite3_step (count), "Counting meters", error))
        return FALSE;
      n = sqlite3_column_int64 (count, 0);
      if (n > 0)
        {
          g_set_error (error, SY_ERROR, SY_ERROR_CONFLICT,
                       "site %" G_GINT64_FORMAT " still has %" G_GINT64_FORMAT " %s",
                       w->id, n, n == 1 ? "meter" : "meters");
          return FALSE;
        }
    }
  else if (w->kind == SY_REGISTRY_METER)
    {
      g_autoptr(sqlite3_stmt) readings = NULL;
      g_autoptr(sqlite3_stmt) rollups = NULL;
      gboolean has_readings = FALSE;

      if (!query_exists (db, "SELECT 1 FROM readings WHERE meter_id = ?1 LIMIT 1",
                         w->id, &has_readings, error))
        return FALSE;
      if (has_readings && !w->purge)
        {
          g_set_error (error, SY_ERROR, SY_ERROR_CONFLICT,
                       "meter %" G_GINT64_FORMAT " has readings; delete with ?purge=true to remove them too",
                       w->id);
          return FALSE;
        }

      /* Readings have no foreign key, and ids of deleted meters can be reused: leave nothing
       * behind that a later meter would inherit. */
      readings = _sy_sql_prepare (db, "DELETE FROM readings WHERE meter_id = ?1", error);
      if (readings == NULL)
        return FALSE;
      sqlite3_bind_int64 (readings, 1, w->id);
      if (!_sy_sql_check (db, sqlite3_step (readings), "Deleting readings", error))
        return FALSE;

      rollups = _sy_sql_prepare (db, "DELETE FROM rollups WHERE meter_id = ?1", error);
      if (rollups == NULL)
        return FALSE;
      sqlite3_bind_int64 (rollups, 1, w->id);
      if (!_sy_sql_check (db, sqlite3_step (rollups), "Deleting rollups", error))
        return FALSE;
    }

  sql = g_strconcat ("DELETE FROM ", info->table, " WHERE id = ?1", NULL);
  stmt = _sy_sql_prepare (db, sql, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, w->id);

  return _sy_sql_check (db, sqlite3_step (stmt), "Deleting", error);
}

static gboolean
rotate_write (SyWriteBatch  *batch,
              gpointer       data,
              GError       **error)
{
  RegistryWrite *w = data;
  const KindInfo *info = &kind_info[w->kind];
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *sql = NULL;

  sql = g_strconcat ("UPDATE ", info->table, " SET device_key_hash = :key_hash WHERE id = :id", NULL);
  stmt = _sy_sql_prepare (db, sql, error);
  if (stmt == NULL)
    return FALSE;
  bind_fields (stmt, w);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Rotating the device key", error))
    return FALSE;

  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No %s %" G_GINT64_FORMAT, info->noun, w->id);
      return FALSE;
    }

  return TRUE;
}

static gboolean
kind_has_key (SyRegistryKind kind)
{
  return kind == SY_REGISTRY_METER || kind == SY_REGISTRY_DEVICE;
}

/**
 * _sy_registry_create:
 *
 * Returns: (transfer full): the new object; with "device_key" for meters and devices.
 */
JsonNode *
_sy_registry_create (SyAuth          *auth,
                     SyRegistryKind   kind,
                     JsonObject      *body,
                     GError         **error)
{
  g_auto(RegistryWrite) w = { 0 };
  g_autofree char *device_key = NULL;

  g_return_val_if_fail (SY_IS_AUTH (auth), NULL);
  g_return_val_if_fail (kind_is_valid (kind), NULL);
  g_return_val_if_fail (body != NULL, NULL);

  w.kind = kind;
  w.now_ms = sy_time_now_ms ();
  w.timezone = "UTC";
  w.latitude_null = TRUE;
  w.longitude_null = TRUE;
  w.phases = 3;
  w.nominal_voltage = 230;

  if (!parse_body (&w, body, TRUE, error))
    return NULL;

  if (kind_has_key (kind))
    {
      device_key = _sy_auth_random_uuid ();
      w.device_key = device_key;
      w.key_hash = _sy_auth_sha256_hex (device_key);
    }

  if (!_sy_store_write_sync (_sy_auth_get_store (auth), create_write, &w, error))
    return NULL;

  return g_steal_pointer (&w.result);
}

/**
 * _sy_registry_get:
 *
 * Returns: (transfer full): the object, or %NULL with SY_ERROR_NOT_FOUND.
 */
JsonNode *
_sy_registry_get (SyAuth          *auth,
                  SyRegistryKind   kind,
                  gint64           id,
                  GError         **error)
{
  g_auto(SyReaderGuard) guard = { NULL, NULL };

  g_return_val_if_fail (SY_IS_AUTH (auth), NULL);
  g_return_val_if_fail (kind_is_valid (kind), NULL);

  guard.store = _sy_auth_get_store (auth);
  guard.db = _sy_store_reader_acquire (guard.store);

  return load_object (guard.db, kind, id, NULL, error);
}

/**
 * _sy_registry_update:
 *
 * Returns: (transfer full): the object as stored after the change.
 */
JsonNode *
_sy_registry_update (SyAuth          *auth,
                     SyRegistryKind   kind,
                     gint64           id,
                     JsonObject      *body,
                     GError         **error)
{
  g_auto(RegistryWrite) w = { 0 };

  g_return_val_if_fail (SY_IS_AUTH (auth), NULL);
  g_return_val_if_fail (kind_is_valid (kind), NULL);
  g_return_val_if_fail (body != NULL, NULL);

  w.kind = kind;
  w.id = id;
  w.now_ms = sy_time_now_ms ();

  if (!parse_body (&w, body, FALSE, error))
    return NULL;

  if (!_sy_store_write_sync (_sy_auth_get_store (auth), update_write, &w, error))
    return NULL;

  /* After the commit: a key cached before it must not outlive the change. */
  if (kind_has_key (kind) && (w.set & AUTH_FIELDS))
    _sy_auth_invalidate_devices (auth);

  return g_steal_pointer (&w.result);
}

/**
 * _sy_registry_delete:
 * @purge: meters only: also delete the meter's readings and rollups instead of refusing
 *
 * SY_ERROR_CONFLICT when a site still has meters or a meter has readings (without @purge).
 */
gboolean
_sy_registry_delete (SyAuth          *auth,
                     SyRegistryKind   kind,
                     gint64           id,
                     gboolean         purge,
                     GError         **error)
{
  g_auto(RegistryWrite) w = { 0 };

  g_return_val_if_fail (SY_IS_AUTH (auth), FALSE);
  g_return_val_if_fail (kind_is_valid (kind), FALSE);

  w.kind = kind;
  w.id = id;
  w.purge = purge;

  if (!_sy_store_write_sync (_sy_auth_get_store (auth), delete_write, &w, error))
    return FALSE;

  /* Deleting a meter also takes it out of every gateway. */
  if (kind_has_key (kind))
    _sy_auth_invalidate_devices (auth);

  return TRUE;
}

/**
 * _sy_registry_list:
 * @filter: (nullable): meters use all of it, groups only site_id; 0 / %NULL means any
 *
 * Returns: (transfer full): a JSON array of one page, ordered by id.
 */
JsonNode *
_sy_registry_list (SyAuth                  *auth,
                   SyRegistryKind           kind,
                   const SyRegistryFilter  *filter,
                   gint64                   limit,
                   gint64                   offset,
                   gint64                  *out_total,
                   GError                 **error)
{
  static const SyRegistryFilter no_filter = { 0, 0, NULL };
  g_auto(SyReaderGuard) guard = { NULL, NULL };
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(sqlite3_stmt) count = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) ids_stmt = NULL;
  g_autofree char *count_sql = NULL;
  g_autofree char *page_sql = NULL;
  sqlite3_stmt *both[2];
  const KindInfo *info;
  int rc;

  g_return_val_if_fail (SY_IS_AUTH (auth), NULL);
  g_return_val_if_fail (kind_is_valid (kind), NULL);

  info = &kind_info[kind];
  if (filter == NULL)
    filter = &no_filter;

  if (filter->site_id < 0)
    {
      sy_error_set_field (error, "site_id", "must be a positive integer id");
      return NULL;
    }
  if (filter->group_id < 0)
    {
      sy_error_set_field (error, "group_id", "must be a positive integer id");
      return NULL;
    }
  if (filter->kind != NULL && filter->kind[0] != '\0' && !g_strv_contains (meter_kinds, filter->kind))
    {
      sy_error_set_field (error, "kind", KIND_CHOICES);
      return NULL;
    }

  guard.store = _sy_auth_get_store (auth);
  guard.db = _sy_store_reader_acquire (guard.store);

  count_sql = g_strconcat ("SELECT count(*) FROM ", info->table, " WHERE ", info->filter, NULL);
  page_sql = g_strconcat (info->select, " WHERE ", info->filter,
                          " ORDER BY id LIMIT :limit OFFSET :offset", NULL);

  if ((count = _sy_sql_prepare (guard.db, count_sql, error)) == NULL ||
      (stmt = _sy_sql_prepare (guard.db, page_sql, error)) == NULL ||
      (info->ids_select != NULL && (ids_stmt = _sy_sql_prepare (guard.db, info->ids_select, error)) == NULL))
    return NULL;

  both[0] = count;
  both[1] = stmt;
  for (guint i = 0; i < G_N_ELEMENTS (both); i++)
    {
      if (filter->site_id > 0)
        bind_int64 (both[i], ":site_id", filter->site_id);
      if (filter->group_id > 0)
        bind_int64 (both[i], ":group_id", filter->group_id);
      if (filter->kind != NULL && filter->kind[0] != '\0')
        bind_text (both[i], ":kind", filter->kind);
    }
  bind_int64 (stmt, ":limit", limit);
  bind_int64 (stmt, ":offset", offset);

  rc = sqlite3_step (count);
  if (!_sy_sql_check (guard.db, rc, "Counting", error))
    return NULL;
  if (out_total != NULL)
    *out_total = sqlite3_column_int64 (count, 0);

  json_builder_begin_array (builder);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (!add_row (builder, kind, stmt, guard.db, ids_stmt, NULL, error))
        return NULL;
    }
  json_builder_end_array (builder);

  if (!_sy_sql_check (guard.db, rc, "Listing", error))
    return NULL;

  return json_builder_get_root (builder);
}

/**
 * _sy_registry_rotate_key:
 *
 * Returns: (transfer full): {"id", "device_key"}. The old key is refused from now on.
 */
JsonNode *
_sy_registry_rotate_key (SyAuth          *auth,
                         SyRegistryKind   kind,
                         gint64           id,
                         GError         **error)
{
  g_auto(RegistryWrite) w = { 0 };
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autofree char *device_key = NULL;

  g_return_val_if_fail (SY_IS_AUTH (auth), NULL);
  g_return_val_if_fail (kind_has_key (kind), NULL);

  device_key = _sy_auth_random_uuid ();
  w.kind = kind;
  w.id = id;
  w.key_hash = _sy_auth_sha256_hex (device_key);

  if (!_sy_store_write_sync (_sy_auth_get_store (auth), rotate_write, &w, error))
    return NULL;

  _sy_auth_invalidate_devices (auth);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, id);
  json_builder_set_member_name (builder, "device_key");
  json_builder_add_string_value (builder, device_key);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}
