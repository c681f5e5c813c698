/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

#include "sy-auth-private.h"
#include "sy-store-private.h"

G_BEGIN_DECLS

/* The registry of sites, meters, meter groups and gateway devices: the capability behind
 * /api/energy/{sites,meters,groups,devices}, used by the API, the demo and later rooms alike.
 * Worker threads only (every call blocks on SQLite). Changes that touch device keys, secrets or
 * gateway membership invalidate SyAuth's device cache. Results are JSON objects in the API's
 * shape (never a key hash); errors are SY_ERROR_* (field errors for bad input, NOT_FOUND,
 * CONFLICT when something still references the object). */

typedef enum
{
  SY_REGISTRY_SITE,
  SY_REGISTRY_METER,
  SY_REGISTRY_GROUP,
  SY_REGISTRY_DEVICE,
} SyRegistryKind;

typedef struct
{
  gint64      site_id;
  gint64      group_id;
  const char *kind;
} SyRegistryFilter;

/* Validates @body (rejecting unknown fields) and creates the object. For meters and devices
 * the answer carries "device_key" (a UUID, shown only here and by rotate). */
JsonNode *_sy_registry_create     (SyAuth                 *auth,
                                   SyRegistryKind          kind,
                                   JsonObject             *body,
                                   GError                **error);
JsonNode *_sy_registry_get        (SyAuth                 *auth,
                                   SyRegistryKind          kind,
                                   gint64                  id,
                                   GError                **error);
/* Partial update (PATCH semantics): only the fields present change. */
JsonNode *_sy_registry_update     (SyAuth                 *auth,
                                   SyRegistryKind          kind,
                                   gint64                  id,
                                   JsonObject             *body,
                                   GError                **error);
gboolean  _sy_registry_delete     (SyAuth                 *auth,
                                   SyRegistryKind          kind,
                                   gint64                  id,
                                   gboolean                purge,
                                   GError                **error);
/* Returns a JSON array of the page and sets @out_total. */
JsonNode *_sy_registry_list       (SyAuth                 *auth,
                                   SyRegistryKind          kind,
                                   const SyRegistryFilter *filter,
                                   gint64                  limit,
                                   gint64                  offset,
                                   gint64                 *out_total,
                                   GError                **error);
/* Meters and devices: a new key; the old one stops working at once. */
JsonNode *_sy_registry_rotate_key (SyAuth                 *auth,
                                   SyRegistryKind          kind,
                                   gint64                  id,
                                   GError                **error);

G_END_DECLS
