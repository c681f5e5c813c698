/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

#include "sy-types.h"

G_BEGIN_DECLS

/* Secrets, hashes and HMAC: pure functions, any thread. */
char      *_sy_auth_sha256_hex        (const char    *text);
char      *_sy_auth_random_secret     (void);
char      *_sy_auth_random_uuid       (void);
char      *_sy_hmac_sha256_hex        (const char    *secret,
                                       gconstpointer  body,
                                       gsize          len);
gboolean   _sy_hmac_verify            (const char    *secret,
                                       gconstpointer  body,
                                       gsize          len,
                                       const char    *signature_hex);
gboolean   _sy_const_time_equal       (const char    *a,
                                       const char    *b,
                                       gsize          len);

/* Scopes are space-separated: "admin" or "<area>:read" / "<area>:write". */
gboolean   _sy_scopes_validate        (const char    *scopes,
                                       GError       **error);
gboolean   _sy_scopes_allow           (const char    *granted,
                                       const char    *required);
char      *_sy_scopes_normalize       (const char    *scopes);

#define SY_TYPE_AUTH (sy_auth_get_type ())
G_DECLARE_FINAL_TYPE (SyAuth, sy_auth, SY, AUTH, GObject)

/* What a device key unlocks. Immutable once built; shared between threads by reference. */
typedef struct
{
  gatomicrefcount  ref_count;
  gint64           meter_id;         /* the meter of a meter key, 0 for a gateway device */
  gint64           device_id;        /* the gateway device, 0 for a meter key */
  char            *hmac_secret;      /* nullable */
  gboolean         require_signature;
  GArray          *meter_ids;        /* gint64, sorted; gateways only */
} SyDeviceInfo;

SyDeviceInfo *_sy_device_info_ref         (SyDeviceInfo  *info);
void          _sy_device_info_unref       (SyDeviceInfo  *info);
gboolean      _sy_device_info_has_meter   (SyDeviceInfo  *info,
                                           gint64         meter_id);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyDeviceInfo, _sy_device_info_unref)

SyAuth       *_sy_auth_new                (SyStore       *store,
                                           guint          token_ttl_s);
SyStore      *_sy_auth_get_store          (SyAuth        *self);
guint         _sy_auth_get_token_ttl      (SyAuth        *self);

/* Any thread; may read the database on a cache miss. SY_ERROR_UNAUTHORIZED when unknown. */
SyDeviceInfo *_sy_auth_lookup_device      (SyAuth        *self,
                                           const char    *device_key,
                                           GError       **error);
/* Call after any change to meters, devices or their keys. */
void          _sy_auth_invalidate_devices (SyAuth        *self);

/* Worker threads (they block on SQLite). */
gboolean      _sy_auth_create_client      (SyAuth        *self,
                                           const char    *name,
                                           const char    *scopes,
                                           char         **out_client_id,
                                           char         **out_secret,
                                           GError       **error);
gboolean      _sy_auth_verify_client      (SyAuth        *self,
                                           const char    *client_id,
                                           const char    *client_secret,
                                           char         **out_scopes,
                                           GError       **error);
gboolean      _sy_auth_issue_token        (SyAuth        *self,
                                           const char    *client_id,
                                           const char    *client_secret,
                                           const char    *requested_scope,
                                           char         **out_token,
                                           char         **out_scopes,
                                           GError       **error);
gboolean      _sy_auth_revoke_token       (SyAuth        *self,
                                           const char    *token,
                                           const char    *client_id,
                                           GError       **error);
gboolean      _sy_auth_revoke_client      (SyAuth        *self,
                                           const char    *client_id,
                                           GError       **error);
/* Checks "Bearer <token>" for @required_scope (NULL: any valid token).
 * SY_ERROR_UNAUTHORIZED or SY_ERROR_FORBIDDEN. */
gboolean      _sy_auth_check_bearer       (SyAuth        *self,
                                           const char    *authorization,
                                           const char    *required_scope,
                                           char         **out_client_id,
                                           GError       **error);
JsonNode     *_sy_auth_list_clients       (SyAuth        *self,
                                           const char    *client_id,
                                           GError       **error);
/* A token that lives only in this process (the console's in-process admin session). */
char         *_sy_auth_add_memory_token   (SyAuth        *self,
                                           const char    *scopes);

G_END_DECLS
