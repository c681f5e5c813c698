/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* A real switchyardd started as a subprocess on 127.0.0.1 port 0, with its own database in a
 * temporary directory. */
typedef struct
{
  char        *dir;        /* temporary directory, removed by sy_test_daemon_free() */
  char        *db_path;
  char        *base_url;   /* "http://127.0.0.1:PORT" */
  GSubprocess *process;
  GPtrArray   *extra_args;
} SyTestDaemon;

SyTestDaemon *sy_test_daemon_new          (const char * const *extra_args);
/* Starts (or restarts on the same database); fails the test on a 20 s timeout. */
void          sy_test_daemon_start        (SyTestDaemon       *daemon);
/* SIGTERM and asserts a clean exit 0. */
void          sy_test_daemon_stop         (SyTestDaemon       *daemon);
/* SIGKILL, no clean-up. */
void          sy_test_daemon_kill         (SyTestDaemon       *daemon);
void          sy_test_daemon_free         (SyTestDaemon       *daemon);
/* Runs `switchyardd --db ... --create-client NAME --scopes SCOPES`; returns the parsed JSON. */
JsonObject   *sy_test_daemon_create_client (SyTestDaemon      *daemon,
                                            const char        *name,
                                            const char        *scopes);
/* Creates a client with @scopes and returns a bearer token for it. */
char         *sy_test_daemon_token        (SyTestDaemon       *daemon,
                                           const char         *scopes);

typedef struct
{
  guint       status;
  char       *content_type;
  GBytes     *body;
  JsonNode   *json;        /* parsed body when it is JSON, else NULL */
  SoupMessageHeaders *headers;
} SyTestResponse;

void            sy_test_response_free (SyTestResponse *res);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyTestResponse, sy_test_response_free)

/* A blocking request. @headers is a NULL-terminated list of name, value pairs; @body may be
 * NULL; @content_type defaults to application/json when a body is given. */
SyTestResponse *sy_test_request  (SyTestDaemon       *daemon,
                                  const char         *method,
                                  const char         *path,
                                  const char * const *headers,
                                  const char         *content_type,
                                  const char         *body,
                                  gssize              body_len);
/* Shorthand: JSON request with a bearer token (may be NULL). */
SyTestResponse *sy_test_json     (SyTestDaemon       *daemon,
                                  const char         *method,
                                  const char         *path,
                                  const char         *token,
                                  const char         *body);

JsonObject     *sy_test_response_object (SyTestResponse *res);
/* Asserts an RFC 9457 problem with @status; returns the field of errors[0] or NULL. */
const char     *sy_test_assert_problem  (SyTestResponse *res,
                                         guint           status);
char           *sy_test_hmac_hex        (const char     *secret,
                                         const char     *body);

G_END_DECLS
