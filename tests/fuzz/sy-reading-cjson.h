/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include "sy-reading-private.h"

G_BEGIN_DECLS

/* TEST ONLY: the former cJSON-based implementation of _sy_reading_parse(), same contract, kept
 * as the reference for the differential fuzzer (tests/fuzz/fuzz-reading.c). */
gboolean _sy_reading_parse_cjson (const char                  *body,
                                  gsize                        len,
                                  const SyReadingParseOptions *options,
                                  GArray                      *out,
                                  GError                     **error);

G_END_DECLS
