/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <adwaita.h>

#include "sy-backend.h"
#include "sy-client.h"
#include "sy-settings.h"
#include "sy-window.h"

G_BEGIN_DECLS

#define WAIT_MS 10000

typedef struct
{
  char       *dir;
  SyBackend  *backend;
  SyClient   *client;
  SySettings *settings;
  SyWindow   *window;
} ConsoleFixture;

typedef gboolean (*Condition) (gpointer data);

/* Runs the main loop until @cond holds; fails the test after @timeout_ms. */
void        wait_for          (Condition        cond,
                               gpointer         data,
                               guint            timeout_ms,
                               const char      *what);
/* Lets the loop run for @ms (animations, a frame or two). */
void        spin              (guint            ms);
/* Renders @widget into <build>/tests/@name (PNG). */
void        save_screenshot   (GtkWidget       *widget,
                               const char      *name);
/* The descendant of @root whose widget name is @name, or NULL. */
GtkWidget  *find_named        (GtkWidget       *root,
                               const char      *name);
/* @data: GINT_TO_POINTER (kiosk). */
void        fixture_setup     (ConsoleFixture  *fx,
                               gconstpointer    data);
void        fixture_teardown  (ConsoleFixture  *fx,
                               gconstpointer    data);
/* REST through the fixture's SyClient, synchronously (bounded): the answer must be an object. */
JsonObject *call              (ConsoleFixture  *fx,
                               const char      *method,
                               const char      *path,
                               const char      *body);
/* A GET that may fail: the error is returned. */
JsonNode   *try_call          (ConsoleFixture  *fx,
                               const char      *path,
                               GError         **error);

G_END_DECLS
