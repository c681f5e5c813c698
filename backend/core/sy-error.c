/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-error"

#include "config.h"

#include <string.h>

#include "sy-error.h"

G_DEFINE_QUARK (sy-error-quark, sy_error)

typedef struct
{
  guint       status;
  const char *slug;
  const char *title;
} ErrorInfo;

static const ErrorInfo error_info[] = {
  [SY_ERROR_INVALID] = { 400, "invalid-request", "Invalid request" },
  [SY_ERROR_INVALID_FIELD] = { 400, "validation-error", "Validation failed" },
  [SY_ERROR_UNAUTHORIZED] = { 401, "unauthorized", "Authentication required" },
  [SY_ERROR_FORBIDDEN] = { 403, "forbidden", "Insufficient scope" },
  [SY_ERROR_NOT_FOUND] = { 404, "not-found", "Not found" },
  [SY_ERROR_METHOD_NOT_ALLOWED] = { 405, "method-not-allowed", "Method not allowed" },
  [SY_ERROR_CONFLICT] = { 409, "conflict", "Conflict" },
  [SY_ERROR_TOO_LARGE] = { 413, "payload-too-large", "Payload too large" },
  [SY_ERROR_UNSUPPORTED_MEDIA] = { 415, "unsupported-media-type", "Unsupported media type" },
  [SY_ERROR_INTERNAL] = { 500, "internal-error", "Internal error" },
  [SY_ERROR_UNAVAILABLE] = { 503, "unavailable", "Service unavailable" },
};

static const ErrorInfo *
lookup (const GError *error)
{
  if (error != NULL && error->domain == SY_ERROR &&
      error->code >= 0 && (gsize) error->code < G_N_ELEMENTS (error_info))
    return &error_info[error->code];

  return &error_info[SY_ERROR_INTERNAL];
}

guint
sy_error_http_status (const GError *error)
{
  return lookup (error)->status;
}

const char *
sy_error_slug (const GError *error)
{
  return lookup (error)->slug;
}

const char *
sy_error_title (const GError *error)
{
  return lookup (error)->title;
}

/**
 * sy_error_set_field:
 *
 * Sets a %SY_ERROR_INVALID_FIELD error whose message is "<field>: <detail>", so that the
 * problem+json writer can name the field in `errors`.
 */
void
sy_error_set_field (GError     **error,
                    const char  *field,
                    const char  *format,
                    ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  g_return_if_fail (field != NULL);

  if (error == NULL)
    return;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, SY_ERROR, SY_ERROR_INVALID_FIELD, "%s: %s", field, detail);
}

/**
 * sy_error_dup_field:
 *
 * Returns: (transfer full) (nullable): the field named by a %SY_ERROR_INVALID_FIELD error.
 */
char *
sy_error_dup_field (const GError *error)
{
  const char *sep;

  if (error == NULL || !g_error_matches (error, SY_ERROR, SY_ERROR_INVALID_FIELD))
    return NULL;

  sep = strstr (error->message, ": ");
  if (sep == NULL)
    return NULL;

  return g_strndup (error->message, sep - error->message);
}
