/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Circuit breakers, one per webhook destination ("scheme://host:port"): closed → open after
 * @threshold consecutive failures → after @cooldown_ms one probe goes out (half-open) → closed on
 * its success, open again on its failure. Thread-safe (the outbox uses them on the backend thread,
 * the metrics route reads them on a worker). */

typedef enum
{
  SY_BREAKER_CLOSED,
  SY_BREAKER_OPEN,
  SY_BREAKER_HALF_OPEN,
} SyBreakerState;

typedef struct _SyBreakers SyBreakers;

SyBreakers     *_sy_breakers_new        (guint        threshold,
                                         gint64       cooldown_ms);
void            _sy_breakers_free       (SyBreakers  *self);
/* May a request go to @destination now? When not, *retry_at_ms says when to ask again. An open
 * breaker past its cool-down lets exactly one probe through and turns half-open. */
gboolean        _sy_breakers_allow      (SyBreakers  *self,
                                         const char  *destination,
                                         gint64       now_ms,
                                         gint64      *retry_at_ms);
void            _sy_breakers_record     (SyBreakers  *self,
                                         const char  *destination,
                                         gboolean     success,
                                         gint64       now_ms);
SyBreakerState  _sy_breakers_get_state  (SyBreakers  *self,
                                         const char  *destination);
const char     *_sy_breaker_state_to_string (SyBreakerState state);
/* [{"destination", "state", "consecutive_failures", "opened_ms", "probe_at_ms"}] */
JsonNode       *_sy_breakers_to_json    (SyBreakers  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyBreakers, _sy_breakers_free)

G_END_DECLS
