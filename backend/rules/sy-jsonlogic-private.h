/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* JSONLogic (https://jsonlogic.com) compiled once per rule and evaluated many times, with the
 * reference implementation's (json-logic-js) type coercion and truthiness. A compiled rule is
 * immutable and may be evaluated from several threads at once.
 *
 * Evaluation is bounded: rules nest at most SY_JSONLOGIC_MAX_DEPTH deep, arrays built while
 * evaluating (map, filter, merge, missing) hold at most SY_JSONLOGIC_MAX_ARRAY items, strings
 * built by cat/substr at most SY_JSONLOGIC_MAX_STRING bytes, and one evaluation performs at
 * most SY_JSONLOGIC_MAX_STEPS operations (nested map/filter/reduce multiply). Exceeding a bound
 * is an evaluation error, never a crash or an unbounded allocation. */

#define SY_JSONLOGIC_MAX_DEPTH    64
#define SY_JSONLOGIC_MAX_ARRAY    10000
#define SY_JSONLOGIC_MAX_STRING   (1024 * 1024)
#define SY_JSONLOGIC_MAX_STEPS    1000000

typedef struct _SyJsonLogic SyJsonLogic;

/* Compiles @rule. Unknown operators, operation objects with a wrong number of arguments and
 * rules nested too deep fail with a SY_ERROR_INVALID_FIELD error whose field is the JSON path
 * of the problem inside the rule ("$.and[1].var"), prefixed with @field when not NULL. */
SyJsonLogic *sy_jsonlogic_compile        (JsonNode           *rule,
                                          const char         *field,
                                          GError            **error);
SyJsonLogic *sy_jsonlogic_ref            (SyJsonLogic        *self);
void         sy_jsonlogic_unref          (SyJsonLogic        *self);

/* The rule's value for @data (nullable: no data), as a new JSON node. */
JsonNode    *sy_jsonlogic_evaluate       (SyJsonLogic        *self,
                                          JsonNode           *data,
                                          GError            **error);
/* The rule's value for @data under JSONLogic truthiness, without building the result. This is
 * what rule matching calls. */
gboolean     sy_jsonlogic_matches        (SyJsonLogic        *self,
                                          JsonNode           *data,
                                          gboolean           *out_match,
                                          GError            **error);
/* JSONLogic truthiness of a JSON value: false, null, 0, NaN, "" and [] are false. */
gboolean     sy_jsonlogic_truthy         (JsonNode           *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyJsonLogic, sy_jsonlogic_unref)

G_END_DECLS
