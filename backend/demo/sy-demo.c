/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-demo"

#include "config.h"

#include "sy-demo-private.h"

struct _SyDemo
{
  GObject  parent_instance;
};

G_DEFINE_FINAL_TYPE (SyDemo, sy_demo, G_TYPE_OBJECT)

static void
sy_demo_class_init (SyDemoClass *klass)
{
}

static void
sy_demo_init (SyDemo *self)
{
}

gboolean
_sy_demo_ensure_site (SyStore  *store,
                      GError  **error)
{
  return TRUE;
}

SyDemo *
_sy_demo_new (SyStore    *store,
              const char *base_url)
{
  return g_object_new (SY_TYPE_DEMO, NULL);
}

void
_sy_demo_start (SyDemo *self)
{
}

void
_sy_demo_stop (SyDemo *self)
{
}
