/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Each backend type's forward typedef lives here, once. */
typedef struct _SyBackend        SyBackend;
typedef struct _SyBackendConfig  SyBackendConfig;
typedef struct _SyStore          SyStore;
typedef struct _SyWriteBatch     SyWriteBatch;
typedef struct _SyAuth           SyAuth;
typedef struct _SyIngest         SyIngest;
typedef struct _SyEventBus       SyEventBus;
typedef struct _SyApiServer      SyApiServer;
typedef struct _SyDemo           SyDemo;

G_END_DECLS
