/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Timestamps inside Switchyard are gint64 milliseconds since the Unix epoch, UTC. */

gint64    sy_time_now_ms         (void);
gboolean  sy_time_parse_iso8601  (const char *text,
                                  gsize       len,
                                  gint64     *out_ms);
char     *sy_time_format_iso8601 (gint64      ms);
void      sy_time_append_iso8601 (GString    *out,
                                  gint64      ms);

G_END_DECLS
