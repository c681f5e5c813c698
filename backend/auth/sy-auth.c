/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-auth"

#include "config.h"

#include <string.h>
#include <sys/random.h>

#include <json-glib/json-glib.h>

#include "sy-auth-private.h"
#include "sy-error.h"
#include "sy-store-private.h"
#include "sy-time.h"

/* Areas a scope may name. A later room adds its area here. */
static const char * const scope_areas[] = {
  "meters", "analytics", "auth", "pq", "automations", "billing", "control", "ml", "topology", "stream",
  "relay",
};

struct _SyAuth
{
  GObject     parent_instance;

  SyStore    *store;
  guint       token_ttl_s;

  GMutex      mutex;
  GHashTable *devices;        /* device key -> SyDeviceInfo */
  guint       generation;     /* bumped by every invalidation */
  GHashTable *memory_tokens;  /* token hash -> scopes */
};

G_DEFINE_FINAL_TYPE (SyAuth, sy_auth, G_TYPE_OBJECT)

static void
fill_random (guint8 *buf,
             gsize   len)
{
  gsize done = 0;

  while (done < len)
    {
      gssize n = getrandom (buf + done, len - done, 0);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          g_error ("getrandom() failed: %s", g_strerror (errno));
        }
      done += n;
    }
}

static char *
base64url (const guint8 *buf,
           gsize         len)
{
  char *text = g_base64_encode (buf, len);

  for (char *p = text; *p; p++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
      else if (*p == '=')
        {
          *p = '\0';
          break;
        }
    }

  return text;
}

char *
_sy_auth_random_secret (void)
{
  guint8 buf[32];

  fill_random (buf, sizeof buf);
  return base64url (buf, sizeof buf);
}

char *
_sy_auth_random_uuid (void)
{
  guint8 b[16];

  fill_random (b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;

  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                          b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                          b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

char *
_sy_auth_sha256_hex (const char *text)
{
  g_return_val_if_fail (text != NULL, NULL);

  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

char *
_sy_hmac_sha256_hex (const char    *secret,
                     gconstpointer  body,
                     gsize          len)
{
  g_autoptr(GHmac) hmac = NULL;

  g_return_val_if_fail (secret != NULL, NULL);

  hmac = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) secret, strlen (secret));
  g_hmac_update (hmac, body, len);

  return g_strdup (g_hmac_get_string (hmac));
}

gboolean
_sy_const_time_equal (const char *a,
                      const char *b,
                      gsize       len)
{
  guint8 diff = 0;

  for (gsize i = 0; i < len; i++)
    diff |= (guint8) a[i] ^ (guint8) b[i];

  return diff == 0;
}

/**
 * _sy_hmac_verify:
 * @signature_hex: hex HMAC-SHA256, either case, optionally prefixed "sha256="
 *
 * Compares in constant time with respect to the signature's content.
 */
gboolean
_sy_hmac_verify (const char    *secret,
                 gconstpointer  body,
                 gsize          len,
                 const char    *signature_hex)
{
  g_autofree char *expected = NULL;
  char given[64];
  gsize sig_len;

  g_return_val_if_fail (secret != NULL, FALSE);

  if (signature_hex == NULL)
    return FALSE;

  if (g_ascii_strncasecmp (signature_hex, "sha256=", 7) == 0)
    signature_hex += 7;

  sig_len = strlen (signature_hex);
  if (sig_len != 64)
    return FALSE;

  for (guint i = 0; i < 64; i++)
    given[i] = g_ascii_tolower (signature_hex[i]);

  expected = _sy_hmac_sha256_hex (secret, body, len);

  return _sy_const_time_equal (expected, given, 64);
}

static gboolean
scope_is_known (const char *scope,
                gsize       len)
{
  if (len == 5 && strncmp (scope, "admin", 5) == 0)
    return TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (scope_areas); i++)
    {
      gsize area_len = strlen (scope_areas[i]);

      if (len > area_len && strncmp (scope, scope_areas[i], area_len) == 0 && scope[area_len] == ':')
        {
          const char *op = scope + area_len + 1;
          gsize op_len = len - area_len - 1;

          if ((op_len == 4 && strncmp (op, "read", 4) == 0) ||
              (op_len == 5 && strncmp (op, "write", 5) == 0))
            return TRUE;
        }
    }

  return FALSE;
}

gboolean
_sy_scopes_validate (const char  *scopes,
                     GError     **error)
{
  g_auto(GStrv) parts = NULL;
  guint n = 0;

  if (scopes == NULL)
    {
      sy_error_set_field (error, "scopes", "required");
      return FALSE;
    }

  parts = g_strsplit_set (scopes, " \t", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0')
        continue;
      if (!scope_is_known (parts[i], strlen (parts[i])))
        {
          sy_error_set_field (error, "scopes", "unknown scope \"%s\" (use admin or <area>:read|write)", parts[i]);
          return FALSE;
        }
      n++;
    }

  if (n == 0)
    {
      sy_error_set_field (error, "scopes", "at least one scope is required");
      return FALSE;
    }

  return TRUE;
}

char *
_sy_scopes_normalize (const char *scopes)
{
  g_auto(GStrv) parts = g_strsplit_set (scopes ? scopes : "", " \t", -1);
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    {
      gboolean dup = FALSE;

      if (parts[i][0] == '\0')
        continue;
      for (guint j = 0; j < kept->len; j++)
        dup |= g_str_equal (kept->pdata[j], parts[i]);
      if (!dup)
        g_ptr_array_add (kept, parts[i]);
    }
  g_ptr_array_add (kept, NULL);

  return g_strjoinv (" ", (char **) kept->pdata);
}

/* "admin" grants everything. Otherwise the exact scope must be granted. */
gboolean
_sy_scopes_allow (const char *granted,
                  const char *required)
{
  const char *p = granted;
  gsize req_len;

  if (granted == NULL)
    return FALSE;
  if (required == NULL)
    return TRUE;

  req_len = strlen (required);

  while (*p)
    {
      const char *end;

      while (*p == ' ')
        p++;
      end = p;
      while (*end && *end != ' ')
        end++;

      if ((end - p == 5 && strncmp (p, "admin", 5) == 0) ||
          ((gsize) (end - p) == req_len && strncmp (p, required, req_len) == 0))
        return TRUE;

      p = end;
    }

  return FALSE;
}

SyDeviceInfo *
_sy_device_info_ref (SyDeviceInfo *info)
{
  g_atomic_ref_count_inc (&info->ref_count);
  return info;
}

void
_sy_device_info_unref (SyDeviceInfo *info)
{
  if (g_atomic_ref_count_dec (&info->ref_count))
    {
      g_clear_pointer (&info->meter_ids, g_array_unref);
      g_free (info->hmac_secret);
      g_free (info);
    }
}

gboolean
_sy_device_info_has_meter (SyDeviceInfo *info,
                           gint64        meter_id)
{
  guint lo = 0, hi;

  if (info->meter_ids == NULL)
    return info->meter_id == meter_id;

  hi = info->meter_ids->len;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      gint64 v = g_array_index (info->meter_ids, gint64, mid);

      if (v == meter_id)
        return TRUE;
      if (v < meter_id)
        lo = mid + 1;
      else
        hi = mid;
    }

  return FALSE;
}

static void
sy_auth_finalize (GObject *object)
{
  SyAuth *self = (SyAuth *) object;

  g_clear_object (&self->store);
  g_clear_pointer (&self->devices, g_hash_table_unref);
  g_clear_pointer (&self->memory_tokens, g_hash_table_unref);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (sy_auth_parent_class)->finalize (object);
}

static void
sy_auth_class_init (SyAuthClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sy_auth_finalize;
}

static void
sy_auth_init (SyAuth *self)
{
  g_mutex_init (&self->mutex);
  self->devices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) _sy_device_info_unref);
  self->memory_tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

SyAuth *
_sy_auth_new (SyStore *store,
              guint    token_ttl_s)
{
  SyAuth *self;

  g_return_val_if_fail (SY_IS_STORE (store), NULL);

  self = g_object_new (SY_TYPE_AUTH, NULL);
  self->store = g_object_ref (store);
  self->token_ttl_s = token_ttl_s > 0 ? token_ttl_s : 3600;

  return self;
}

SyStore *
_sy_auth_get_store (SyAuth *self)
{
  g_return_val_if_fail (SY_IS_AUTH (self), NULL);

  return self->store;
}

guint
_sy_auth_get_token_ttl (SyAuth *self)
{
  g_return_val_if_fail (SY_IS_AUTH (self), 0);

  return self->token_ttl_s;
}

static SyDeviceInfo *
load_device (sqlite3     *db,
             const char  *key_hash,
             GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  SyDeviceInfo *info;
  int rc;

  stmt = _sy_sql_prepare (db,
                          "SELECT id, 0, hmac_secret, require_signature FROM meters WHERE device_key_hash = ?1 "
                          "UNION ALL "
                          "SELECT 0, id, hmac_secret, require_signature FROM devices WHERE device_key_hash = ?1",
                          error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_text (stmt, 1, key_hash, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      if (_sy_sql_check (db, rc, "Looking up device key", error))
        g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED, "Unknown device key");
      return NULL;
    }

  info = g_new0 (SyDeviceInfo, 1);
  g_atomic_ref_count_init (&info->ref_count);
  info->meter_id = sqlite3_column_int64 (stmt, 0);
  info->device_id = sqlite3_column_int64 (stmt, 1);
  info->hmac_secret = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  info->require_signature = sqlite3_column_int (stmt, 3) != 0;

  if (info->device_id != 0)
    {
      g_autoptr(sqlite3_stmt) members = NULL;

      info->meter_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      members = _sy_sql_prepare (db, "SELECT meter_id FROM device_meters WHERE device_id = ? ORDER BY meter_id", error);
      if (members == NULL)
        {
          _sy_device_info_unref (info);
          return NULL;
        }
      sqlite3_bind_int64 (members, 1, info->device_id);
      while (sqlite3_step (members) == SQLITE_ROW)
        {
          gint64 id = sqlite3_column_int64 (members, 0);
          g_array_append_val (info->meter_ids, id);
        }
    }

  return info;
}

SyDeviceInfo *
_sy_auth_lookup_device (SyAuth      *self,
                        const char  *device_key,
                        GError     **error)
{
  g_auto(SyReaderGuard) guard = { NULL, NULL };
  g_autofree char *key_hash = NULL;
  SyDeviceInfo *info;
  guint generation;

  g_return_val_if_fail (SY_IS_AUTH (self), NULL);

  if (device_key == NULL || device_key[0] == '\0')
    {
      g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED, "Missing X-Device-Key header");
      return NULL;
    }

  g_mutex_lock (&self->mutex);
  info = g_hash_table_lookup (self->devices, device_key);
  if (info != NULL)
    _sy_device_info_ref (info);
  generation = self->generation;
  g_mutex_unlock (&self->mutex);

  if (info != NULL)
    return info;

  key_hash = _sy_auth_sha256_hex (device_key);
  guard.store = self->store;
  guard.db = _sy_store_reader_acquire (self->store);
  info = load_device (guard.db, key_hash, error);
  if (info == NULL)
    return NULL;

  /* An invalidation while we read may have changed what we loaded: then don't cache it. */
  g_mutex_lock (&self->mutex);
  if (generation == self->generation)
    g_hash_table_replace (self->devices, g_strdup (device_key), _sy_device_info_ref (info));
  g_mutex_unlock (&self->mutex);

  return info;
}

void
_sy_auth_invalidate_devices (SyAuth *self)
{
  g_return_if_fail (SY_IS_AUTH (self));

  g_mutex_lock (&self->mutex);
  g_hash_table_remove_all (self->devices);
  self->generation++;
  g_mutex_unlock (&self->mutex);
}

typedef struct
{
  const char *client_id;
  const char *name;
  const char *secret_hash;
  const char *scopes;
  const char *token_hash;
  gint64      now_ms;
  gint64      expires_ms;
  gboolean    changed;
} AuthWrite;

static gboolean
insert_client (SyWriteBatch  *batch,
               gpointer       data,
               GError       **error)
{
  AuthWrite *w = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = _sy_sql_prepare (db,
                          "INSERT INTO oauth_clients (client_id, name, secret_hash, scopes, created_ms) "
                          "VALUES (?, ?, ?, ?, ?)",
                          error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, w->client_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, w->name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, w->secret_hash, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, w->scopes, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, w->now_ms);

  return _sy_sql_check (db, sqlite3_step (stmt), "Creating client", error);
}

gboolean
_sy_auth_create_client (SyAuth      *self,
                        const char  *name,
                        const char  *scopes,
                        char       **out_client_id,
                        char       **out_secret,
                        GError     **error)
{
  g_autofree char *client_id = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *secret_hash = NULL;
  g_autofree char *normalized = NULL;
  AuthWrite w = { 0 };

  g_return_val_if_fail (SY_IS_AUTH (self), FALSE);

  if (name == NULL || name[0] == '\0' || strlen (name) > 200)
    {
      sy_error_set_field (error, "name", "required, 1 to 200 characters");
      return FALSE;
    }
  if (!_sy_scopes_validate (scopes, error))
    return FALSE;

  client_id = _sy_auth_random_uuid ();
  secret = _sy_auth_random_secret ();
  secret_hash = _sy_auth_sha256_hex (secret);
  normalized = _sy_scopes_normalize (scopes);

  w.client_id = client_id;
  w.name = name;
  w.secret_hash = secret_hash;
  w.scopes = normalized;
  w.now_ms = sy_time_now_ms ();

  if (!_sy_store_write_sync (self->store, insert_client, &w, error))
    return FALSE;

  if (out_client_id)
    *out_client_id = g_steal_pointer (&client_id);
  if (out_secret)
    *out_secret = g_steal_pointer (&secret);

  return TRUE;
}

static gboolean
insert_token (SyWriteBatch  *batch,
              gpointer       data,
              GError       **error)
{
  AuthWrite *w = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  /* Expired tokens are only dead weight; drop them as new ones are issued. */
  if (!_sy_sql_exec (db, "DELETE FROM oauth_tokens WHERE expires_ms < strftime('%s','now') * 1000 - 86400000", error))
    return FALSE;

  stmt = _sy_sql_prepare (db,
                          "INSERT INTO oauth_tokens (token_hash, client_id, scopes, issued_ms, expires_ms) "
                          "VALUES (?, ?, ?, ?, ?)",
                          error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, w->token_hash, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, w->client_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, w->scopes, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, w->now_ms);
  sqlite3_bind_int64 (stmt, 5, w->expires_ms);

  return _sy_sql_check (db, sqlite3_step (stmt), "Issuing token", error);
}

gboolean
_sy_auth_verify_client (SyAuth      *self,
                        const char  *client_id,
                        const char  *client_secret,
                        char       **out_scopes,
                        GError     **error)
{
  g_auto(SyReaderGuard) guard = { NULL, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *secret_hash = NULL;

  g_return_val_if_fail (SY_IS_AUTH (self), FALSE);

  if (client_id == NULL || client_secret == NULL)
    {
      g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED, "invalid_client");
      return FALSE;
    }

  guard.store = self->store;
  guard.db = _sy_store_reader_acquire (self->store);
  stmt = _sy_sql_prepare (guard.db,
                          "SELECT secret_hash, scopes FROM oauth_clients WHERE client_id = ? AND revoked_ms IS NULL",
                          error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, client_id, -1, SQLITE_STATIC);

  secret_hash = _sy_auth_sha256_hex (client_secret);
  if (sqlite3_step (stmt) != SQLITE_ROW ||
      !_sy_const_time_equal ((const char *) sqlite3_column_text (stmt, 0), secret_hash, 64))
    {
      g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED,
                           "invalid_client: unknown client or wrong secret");
      return FALSE;
    }

  if (out_scopes)
    *out_scopes = g_strdup ((const char *) sqlite3_column_text (stmt, 1));

  return TRUE;
}

gboolean
_sy_auth_issue_token (SyAuth      *self,
                      const char  *client_id,
                      const char  *client_secret,
                      const char  *requested_scope,
                      char       **out_token,
                      char       **out_scopes,
                      GError     **error)
{
  g_autofree char *granted = NULL;
  g_autofree char *token = NULL;
  g_autofree char *token_hash = NULL;
  g_autofree char *raw = NULL;
  AuthWrite w = { 0 };

  g_return_val_if_fail (SY_IS_AUTH (self), FALSE);

  if (!_sy_auth_verify_client (self, client_id, client_secret, &granted, error))
    return FALSE;

  /* RFC 6749 3.3: the requested scope must be a subset of what the client holds. */
  if (requested_scope != NULL && requested_scope[0] != '\0')
    {
      g_auto(GStrv) parts = g_strsplit (requested_scope, " ", -1);

      for (guint i = 0; parts[i] != NULL; i++)
        {
          if (parts[i][0] == '\0')
            continue;
          if (!scope_is_known (parts[i], strlen (parts[i])) || !_sy_scopes_allow (granted, parts[i]))
            {
              g_set_error (error, SY_ERROR, SY_ERROR_INVALID, "invalid_scope: %s", parts[i]);
              return FALSE;
            }
        }
      g_free (granted);
      granted = _sy_scopes_normalize (requested_scope);
    }

  raw = _sy_auth_random_secret ();
  token = g_strconcat ("syt_", raw, NULL);
  token_hash = _sy_auth_sha256_hex (token);

  w.client_id = client_id;
  w.token_hash = token_hash;
  w.scopes = granted;
  w.now_ms = sy_time_now_ms ();
  w.expires_ms = w.now_ms + (gint64) self->token_ttl_s * 1000;

  if (!_sy_store_write_sync (self->store, insert_token, &w, error))
    return FALSE;

  if (out_token)
    *out_token = g_steal_pointer (&token);
  if (out_scopes)
    *out_scopes = g_steal_pointer (&granted);

  return TRUE;
}

static gboolean
revoke_token_write (SyWriteBatch  *batch,
                    gpointer       data,
                    GError       **error)
{
  AuthWrite *w = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = _sy_sql_prepare (db,
                          "UPDATE oauth_tokens SET revoked_ms = ?2 "
                          "WHERE token_hash = ?1 AND revoked_ms IS NULL AND (?3 IS NULL OR client_id = ?3)",
                          error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, w->token_hash, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, w->now_ms);
  sqlite3_bind_text (stmt, 3, w->client_id, -1, SQLITE_STATIC);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Revoking token", error))
    return FALSE;

  w->changed = sqlite3_changes (db) > 0;
  return TRUE;
}

/* RFC 7009 2.2: an unknown or already revoked token is not an error. */
gboolean
_sy_auth_revoke_token (SyAuth      *self,
                       const char  *token,
                       const char  *client_id,
                       GError     **error)
{
  g_autofree char *token_hash = NULL;
  AuthWrite w = { 0 };

  g_return_val_if_fail (SY_IS_AUTH (self), FALSE);
  g_return_val_if_fail (token != NULL, FALSE);

  token_hash = _sy_auth_sha256_hex (token);

  g_mutex_lock (&self->mutex);
  g_hash_table_remove (self->memory_tokens, token_hash);
  g_mutex_unlock (&self->mutex);

  w.token_hash = token_hash;
  w.client_id = client_id;
  w.now_ms = sy_time_now_ms ();

  return _sy_store_write_sync (self->store, revoke_token_write, &w, error);
}

static gboolean
revoke_client_write (SyWriteBatch  *batch,
                     gpointer       data,
                     GError       **error)
{
  AuthWrite *w = data;
  sqlite3 *db = _sy_write_batch_get_db (batch);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) tokens = NULL;

  stmt = _sy_sql_prepare (db, "UPDATE oauth_clients SET revoked_ms = ?2 WHERE client_id = ?1 AND revoked_ms IS NULL", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, w->client_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, w->now_ms);
  if (!_sy_sql_check (db, sqlite3_step (stmt), "Revoking client", error))
    return FALSE;

  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No active client %s", w->client_id);
      return FALSE;
    }

  tokens = _sy_sql_prepare (db, "UPDATE oauth_tokens SET revoked_ms = ?2 WHERE client_id = ?1 AND revoked_ms IS NULL", error);
  if (tokens == NULL)
    return FALSE;
  sqlite3_bind_text (tokens, 1, w->client_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (tokens, 2, w->now_ms);

  return _sy_sql_check (db, sqlite3_step (tokens), "Revoking client tokens", error);
}

gboolean
_sy_auth_revoke_client (SyAuth      *self,
                        const char  *client_id,
                        GError     **error)
{
  AuthWrite w = { 0 };

  g_return_val_if_fail (SY_IS_AUTH (self), FALSE);
  g_return_val_if_fail (client_id != NULL, FALSE);

  w.client_id = client_id;
  w.now_ms = sy_time_now_ms ();

  return _sy_store_write_sync (self->store, revoke_client_write, &w, error);
}

gboolean
_sy_auth_check_bearer (SyAuth      *self,
                       const char  *authorization,
                       const char  *required_scope,
                       char       **out_client_id,
                       GError     **error)
{
  g_auto(SyReaderGuard) guard = { NULL, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *token_hash = NULL;
  g_autofree char *scopes = NULL;
  const char *token;

  g_return_val_if_fail (SY_IS_AUTH (self), FALSE);

  if (authorization == NULL || g_ascii_strncasecmp (authorization, "Bearer ", 7) != 0)
    {
      g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED,
                           "Missing bearer token: send Authorization: Bearer <token>");
      return FALSE;
    }

  token = authorization + 7;
  while (*token == ' ')
    token++;
  token_hash = _sy_auth_sha256_hex (token);

  g_mutex_lock (&self->mutex);
  scopes = g_strdup (g_hash_table_lookup (self->memory_tokens, token_hash));
  g_mutex_unlock (&self->mutex);

  if (scopes == NULL)
    {
      guard.store = self->store;
      guard.db = _sy_store_reader_acquire (self->store);
      stmt = _sy_sql_prepare (guard.db,
                              "SELECT t.scopes, t.client_id FROM oauth_tokens t "
                              "JOIN oauth_clients c USING (client_id) "
                              "WHERE t.token_hash = ? AND t.revoked_ms IS NULL AND c.revoked_ms IS NULL "
                              "AND t.expires_ms > ?",
                              error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, token_hash, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, sy_time_now_ms ());

      if (sqlite3_step (stmt) != SQLITE_ROW)
        {
          g_set_error_literal (error, SY_ERROR, SY_ERROR_UNAUTHORIZED, "Invalid, expired or revoked token");
          return FALSE;
        }
      scopes = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      if (out_client_id)
        *out_client_id = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
    }
  else if (out_client_id)
    {
      *out_client_id = g_strdup ("console");
    }

  if (!_sy_scopes_allow (scopes, required_scope))
    {
      if (out_client_id)
        g_clear_pointer (out_client_id, g_free);
      g_set_error (error, SY_ERROR, SY_ERROR_FORBIDDEN, "This token lacks the scope %s", required_scope);
      return FALSE;
    }

  return TRUE;
}

char *
_sy_auth_add_memory_token (SyAuth     *self,
                           const char *scopes)
{
  g_autofree char *raw = _sy_auth_random_secret ();
  char *token = g_strconcat ("syt_", raw, NULL);

  g_return_val_if_fail (SY_IS_AUTH (self), NULL);

  g_mutex_lock (&self->mutex);
  g_hash_table_replace (self->memory_tokens, _sy_auth_sha256_hex (token), _sy_scopes_normalize (scopes));
  g_mutex_unlock (&self->mutex);

  return token;
}

static void
add_client_row (JsonBuilder  *builder,
                sqlite3_stmt *stmt)
{
  g_autofree char *created = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "client_id");
  json_builder_add_string_value (builder, (const char *) sqlite3_column_text (stmt, 0));
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, (const char *) sqlite3_column_text (stmt, 1));
  json_builder_set_member_name (builder, "scopes");
  json_builder_add_string_value (builder, (const char *) sqlite3_column_text (stmt, 2));
  json_builder_set_member_name (builder, "created_at");
  created = sy_time_format_iso8601 (sqlite3_column_int64 (stmt, 3));
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "revoked_at");
  if (sqlite3_column_type (stmt, 4) == SQLITE_NULL)
    json_builder_add_null_value (builder);
  else
    {
      g_autofree char *revoked = sy_time_format_iso8601 (sqlite3_column_int64 (stmt, 4));
      json_builder_add_string_value (builder, revoked);
    }
  json_builder_end_object (builder);
}

/**
 * _sy_auth_list_clients:
 * @client_id: (nullable): one client, or all of them
 *
 * Returns: (transfer full): a JSON array of clients (never their secrets), newest first.
 * SY_ERROR_NOT_FOUND when @client_id is unknown.
 */
JsonNode *
_sy_auth_list_clients (SyAuth      *self,
                       const char  *client_id,
                       GError     **error)
{
  g_auto(SyReaderGuard) guard = { NULL, NULL };
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  guint n = 0;

  g_return_val_if_fail (SY_IS_AUTH (self), NULL);

  guard.store = self->store;
  guard.db = _sy_store_reader_acquire (self->store);
  stmt = _sy_sql_prepare (guard.db,
                          "SELECT client_id, name, scopes, created_ms, revoked_ms FROM oauth_clients "
                          "WHERE ?1 IS NULL OR client_id = ?1 ORDER BY created_ms DESC, client_id",
                          error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, client_id, -1, SQLITE_STATIC);

  json_builder_begin_array (builder);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      add_client_row (builder, stmt);
      n++;
    }
  json_builder_end_array (builder);

  if (client_id != NULL && n == 0)
    {
      g_set_error (error, SY_ERROR, SY_ERROR_NOT_FOUND, "No client %s", client_id);
      return NULL;
    }

  return json_builder_get_root (builder);
}
