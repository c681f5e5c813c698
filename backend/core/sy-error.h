/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SY_ERROR (sy_error_quark ())

/* Every error the API can answer with. sy_error_http_status() is the one place that maps them
 * to HTTP statuses. */
typedef enum
{
  SY_ERROR_INVALID,            /* 400, message is free text */
  SY_ERROR_INVALID_FIELD,      /* 400, message is "<field>: <detail>" (see sy_error_set_field) */
  SY_ERROR_UNAUTHORIZED,       /* 401 */
  SY_ERROR_FORBIDDEN,          /* 403 */
  SY_ERROR_NOT_FOUND,          /* 404 */
  SY_ERROR_METHOD_NOT_ALLOWED, /* 405 */
  SY_ERROR_CONFLICT,           /* 409 */
  SY_ERROR_TOO_LARGE,          /* 413 */
  SY_ERROR_UNSUPPORTED_MEDIA,  /* 415 */
  SY_ERROR_INTERNAL,           /* 500 */
  SY_ERROR_UNAVAILABLE,        /* 503 */
} SyErrorCode;

GQuark      sy_error_quark       (void);
guint       sy_error_http_status (const GError *error);
const char *sy_error_slug        (const GError *error);
const char *sy_error_title       (const GError *error);
void        sy_error_set_field   (GError     **error,
                                  const char  *field,
                                  const char  *format,
                                  ...) G_GNUC_PRINTF (3, 4);
char       *sy_error_dup_field   (const GError *error);

G_END_DECLS
