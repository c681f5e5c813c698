/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "switchyard"

#include "config.h"

#include <locale.h>

#include <glib/gi18n.h>

#include "sy-application.h"

/* switchyard: the console. Everything happens in SyApplication. */

int
main (int   argc,
      char *argv[])
{
  g_autoptr(SyApplication) app = NULL;

  /* Before the options are parsed, so that --help is translated too. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = sy_application_new (APP_ID, G_APPLICATION_DEFAULT_FLAGS);

  return g_application_run (G_APPLICATION (app), argc, argv);
}
