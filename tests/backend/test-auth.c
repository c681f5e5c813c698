/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-auth"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "sy-auth-private.h"
#include "sy-error.h"
#include "sy-store-private.h"

/* RFC 4231 section 4.3, test case 2. */
#define TC2_KEY  "Jefe"
#define TC2_DATA "what do ya want for nothing?"
#define TC2_MAC  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

static void
test_hmac_rfc4231 (void)
{
  g_autofree char *tc2 = NULL;
  g_autofree char *tc1 = NULL;
  g_autofree char *tc6 = NULL;
  char key1[21];
  char key6[132];
  static const char data6[] = "Test Using Larger Than Block-Size Key - Hash Key First";

  tc2 = _sy_hmac_sha256_hex (TC2_KEY, TC2_DATA, strlen (TC2_DATA));
  g_assert_cmpstr (tc2, ==, TC2_MAC);

  /* Test case 1: a 20-byte key of 0x0b. */
  memset (key1, 0x0b, 20);
  key1[20] = '\0';
  tc1 = _sy_hmac_sha256_hex (key1, "Hi There", 8);
  g_assert_cmpstr (tc1, ==, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

  /* Test case 6: a 131-byte key of 0xaa, longer than the block size. */
  memset (key6, 0xaa, 131);
  key6[131] = '\0';
  tc6 = _sy_hmac_sha256_hex (key6, data6, strlen (data6));
  g_assert_cmpstr (tc6, ==, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void
test_hmac_binary_body (void)
{
  static const guint8 body[] = { 'a', 0, 'b' };
  g_autofree char *with_nul = _sy_hmac_sha256_hex (TC2_KEY, body, sizeof body);
  g_autofree char *truncated = _sy_hmac_sha256_hex (TC2_KEY, body, 1);

  /* The length, not a terminator, delimits the body. */
  g_assert_cmpuint (strlen (with_nul), ==, 64);
  g_assert_cmpstr (with_nul, !=, truncated);
  g_assert_true (_sy_hmac_verify (TC2_KEY, body, sizeof body, with_nul));
  g_assert_false (_sy_hmac_verify (TC2_KEY, body, sizeof body, truncated));
}

static void
test_hmac_verify (void)
{
  const gsize len = strlen (TC2_DATA);
  g_autofree char *upper = g_ascii_strup (TC2_MAC, -1);
  g_autofree char *prefixed = g_strconcat ("sha256=", TC2_MAC, NULL);
  g_autofree char *prefixed_upper = g_strconcat ("SHA256=", upper, NULL);
  g_autofree char *mixed = g_strdup (TC2_MAC);
  g_autofree char *flipped = g_strdup (TC2_MAC);
  g_autofree char *short_sig = g_strndup (TC2_MAC, 63);
  g_autofree char *long_sig = g_strconcat (TC2_MAC, "0", NULL);
  g_autofree char *not_hex = g_strdup (TC2_MAC);
  g_autofree char *other_prefix = g_strconcat ("sha1=", TC2_MAC, NULL);

  for (guint i = 0; mixed[i] != '\0'; i += 2)
    mixed[i] = g_ascii_toupper (mixed[i]);
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  not_hex[63] = 'g';

  g_assert_true (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, TC2_MAC));
  g_assert_true (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, upper));
  g_assert_true (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, mixed));
  g_assert_true (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, prefixed));
  g_assert_true (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, prefixed_upper));

  g_assert_false (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, NULL));
  g_assert_false (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, ""));
  g_assert_false (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, "sha256="));
  g_assert_false (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, short_sig));
  g_assert_false (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, long_sig));
  g_assert_false (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, flipped));
  g_assert_false (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, not_hex));
  g_assert_false (_sy_hmac_verify (TC2_KEY, TC2_DATA, len, other_prefix));
  /* Right signature, wrong key or wrong body. */
  g_assert_false (_sy_hmac_verify ("jefe", TC2_DATA, len, TC2_MAC));
  g_assert_false (_sy_hmac_verify (TC2_KEY, TC2_DATA, len - 1, TC2_MAC));
}

static void
test_const_time_equal (void)
{
  g_assert_true (_sy_const_time_equal ("abcdef", "abcdef", 6));
  g_assert_true (_sy_const_time_equal ("abcdef", "abcxyz", 3));
  g_assert_false (_sy_const_time_equal ("abcdef", "abcdeg", 6));
  g_assert_false (_sy_const_time_equal ("xbcdef", "abcdef", 6));
  g_assert_true (_sy_const_time_equal ("a", "b", 0));
}

static void
test_sha256 (void)
{
  g_autofree char *abc = _sy_auth_sha256_hex ("abc");
  g_autofree char *empty = _sy_auth_sha256_hex ("");

  /* FIPS 180-2 examples. */
  g_assert_cmpstr (abc, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  g_assert_cmpstr (empty, ==, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void
assert_scopes_invalid (const char *scopes)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *field = NULL;

  if (_sy_scopes_validate (scopes, &error))
    g_error ("scopes \"%s\" should be rejected", scopes ? scopes : "(null)");
  g_assert_error (error, SY_ERROR, SY_ERROR_INVALID_FIELD);
  field = sy_error_dup_field (error);
  g_assert_cmpstr (field, ==, "scopes");
}

static void
test_scopes_validate (void)
{
  static const char * const valid[] = {
    "admin",
    "meters:read",
    "meters:write",
    "meters:read analytics:read",
    "  meters:read   auth:write ",
    "meters:read\tanalytics:write",
    "admin meters:read",
    "meters:read meters:read",
  };
  static const char * const invalid[] = {
    "",
    "   ",
    "root",
    "Admin",
    "meters",
    "meters:",
    ":read",
    "meters:delete",
    "meters:Read",
    "meter:read",
    "metersx:read",
    "meters:readx",
    "meters:read,analytics:read",
    "meters:read bogus:read",
    "meters:read admin2",
  };

  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      g_autoptr(GError) error = NULL;

      if (!_sy_scopes_validate (valid[i], &error))
        g_error ("scopes \"%s\" should be valid: %s", valid[i], error->message);
    }

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    assert_scopes_invalid (invalid[i]);
  assert_scopes_invalid (NULL);
}

static void
test_scopes_allow (void)
{
  /* admin grants everything. */
  g_assert_true (_sy_scopes_allow ("admin", "meters:write"));
  g_assert_true (_sy_scopes_allow ("admin", "admin"));
  g_assert_true (_sy_scopes_allow ("meters:read admin", "auth:write"));

  /* Otherwise only the exact scope. */
  g_assert_true (_sy_scopes_allow ("meters:read", "meters:read"));
  g_assert_true (_sy_scopes_allow ("analytics:read meters:write", "meters:write"));
  g_assert_false (_sy_scopes_allow ("meters:read", "meters:write"));
  g_assert_false (_sy_scopes_allow ("meters:write", "meters:read"));
  g_assert_false (_sy_scopes_allow ("meters:read", "admin"));
  g_assert_false (_sy_scopes_allow ("meters:read", "meters:rea"));
  g_assert_false (_sy_scopes_allow ("meters:rea", "meters:read"));
  g_assert_false (_sy_scopes_allow ("meters:readx", "meters:read"));
  g_assert_false (_sy_scopes_allow ("administrator", "meters:read"));
  g_assert_false (_sy_scopes_allow ("", "meters:read"));
  g_assert_false (_sy_scopes_allow (NULL, "meters:read"));

  /* NULL asks for any valid token. */
  g_assert_true (_sy_scopes_allow ("meters:read", NULL));
  g_assert_false (_sy_scopes_allow (NULL, NULL));
}

static void
test_scopes_normalize (void)
{
  g_autofree char *a = _sy_scopes_normalize ("  meters:read\tanalytics:read  meters:read ");
  g_autofree char *b = _sy_scopes_normalize ("admin");
  g_autofree char *c = _sy_scopes_normalize ("");

  g_assert_cmpstr (a, ==, "meters:read analytics:read");
  g_assert_cmpstr (b, ==, "admin");
  g_assert_cmpstr (c, ==, "");
}

static void
test_random_secret (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < 64; i++)
    {
      char *secret = _sy_auth_random_secret ();

      /* 256 bits in unpadded base64url. */
      g_assert_cmpuint (strlen (secret), ==, 43);
      for (const char *p = secret; *p; p++)
        g_assert_true (g_ascii_isalnum (*p) || *p == '-' || *p == '_');
      g_assert_false (g_hash_table_contains (seen, secret));
      g_hash_table_add (seen, secret);
    }
}

static void
assert_uuid_v4 (const char *uuid)
{
  g_assert_nonnull (uuid);
  g_assert_cmpuint (strlen (uuid), ==, 36);

  for (guint i = 0; i < 36; i++)
    {
      if (i == 8 || i == 13 || i == 18 || i == 23)
        g_assert_cmpint (uuid[i], ==, '-');
      else
        g_assert_true (g_ascii_isdigit (uuid[i]) || (uuid[i] >= 'a' && uuid[i] <= 'f'));
    }

  /* RFC 9562: version 4, variant 10xx. */
  g_assert_cmpint (uuid[14], ==, '4');
  g_assert_nonnull (strchr ("89ab", uuid[19]));
  g_assert_true (g_uuid_string_is_valid (uuid));
}

static void
test_random_uuid (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < 64; i++)
    {
      char *uuid = _sy_auth_random_uuid ();

      assert_uuid_v4 (uuid);
      g_assert_false (g_hash_table_contains (seen, uuid));
      g_hash_table_add (seen, uuid);
    }
}

/* SyAuth against a real store: the client credentials flow without HTTP. */

typedef struct
{
  char    *dir;
  SyStore *store;
  SyAuth  *auth;
} AuthFixture;

static void
auth_setup (AuthFixture   *fx,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  fx->dir = g_dir_make_tmp ("sy-auth-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (fx->dir, "switchyard.db", NULL);
  fx->store = _sy_store_open (path, &error);
  g_assert_no_error (error);
  fx->auth = _sy_auth_new (fx->store, 0);
}

static void
auth_teardown (AuthFixture   *fx,
               gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_assert_finalize_object (fx->auth);
  _sy_store_close (fx->store);
  g_assert_finalize_object (fx->store);

  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (fx->dir, name, NULL);
      g_unlink (child);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
}

static void
test_auth_client_flow (AuthFixture   *fx,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *client_id = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *token = NULL;
  g_autofree char *scopes = NULL;
  g_autofree char *bearer = NULL;
  g_autofree char *who = NULL;
  g_autofree char *narrow = NULL;
  g_autofree char *narrow_scopes = NULL;
  g_autofree char *narrow_bearer = NULL;

  g_assert_cmpuint (_sy_auth_get_token_ttl (fx->auth), ==, 3600);

  g_assert_true (_sy_auth_create_client (fx->auth, "unit", "meters:read meters:write",
                                         &client_id, &secret, &error));
  g_assert_no_error (error);
  assert_uuid_v4 (client_id);
  g_assert_cmpuint (strlen (secret), ==, 43);

  /* A wrong secret is invalid_client. */
  g_assert_false (_sy_auth_issue_token (fx->auth, client_id, "wrong", NULL, &token, &scopes, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_UNAUTHORIZED);
  g_assert_true (g_str_has_prefix (error->message, "invalid_client"));
  g_clear_error (&error);
  g_assert_null (token);

  g_assert_true (_sy_auth_issue_token (fx->auth, client_id, secret, NULL, &token, &scopes, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (token, "syt_"));
  g_assert_cmpstr (scopes, ==, "meters:read meters:write");

  bearer = g_strconcat ("Bearer ", token, NULL);
  g_assert_true (_sy_auth_check_bearer (fx->auth, bearer, "meters:write", &who, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (who, ==, client_id);
  g_assert_false (_sy_auth_check_bearer (fx->auth, bearer, "admin", NULL, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_FORBIDDEN);
  g_clear_error (&error);
  g_assert_false (_sy_auth_check_bearer (fx->auth, "Bearer syt_nope", NULL, NULL, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_UNAUTHORIZED);
  g_clear_error (&error);
  g_assert_false (_sy_auth_check_bearer (fx->auth, NULL, NULL, NULL, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_UNAUTHORIZED);
  g_clear_error (&error);

  /* A narrower token; asking beyond the grant is invalid_scope. */
  g_assert_true (_sy_auth_issue_token (fx->auth, client_id, secret, "meters:read", &narrow, &narrow_scopes, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (narrow_scopes, ==, "meters:read");
  narrow_bearer = g_strconcat ("Bearer ", narrow, NULL);
  g_assert_true (_sy_auth_check_bearer (fx->auth, narrow_bearer, "meters:read", NULL, &error));
  g_assert_no_error (error);
  g_assert_false (_sy_auth_check_bearer (fx->auth, narrow_bearer, "meters:write", NULL, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_FORBIDDEN);
  g_clear_error (&error);
  {
    g_autofree char *t = NULL;

    g_assert_false (_sy_auth_issue_token (fx->auth, client_id, secret, "admin", &t, NULL, &error));
    g_assert_error (error, SY_ERROR, SY_ERROR_INVALID);
    g_assert_true (g_str_has_prefix (error->message, "invalid_scope"));
    g_clear_error (&error);
    g_assert_null (t);
  }

  /* Revoking one token leaves the other. */
  g_assert_true (_sy_auth_revoke_token (fx->auth, narrow, client_id, &error));
  g_assert_no_error (error);
  g_assert_false (_sy_auth_check_bearer (fx->auth, narrow_bearer, NULL, NULL, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_UNAUTHORIZED);
  g_clear_error (&error);
  g_assert_true (_sy_auth_check_bearer (fx->auth, bearer, NULL, NULL, &error));
  g_assert_no_error (error);

  /* Revoking the client kills its tokens and its secret. */
  g_assert_true (_sy_auth_revoke_client (fx->auth, client_id, &error));
  g_assert_no_error (error);
  g_assert_false (_sy_auth_check_bearer (fx->auth, bearer, NULL, NULL, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_UNAUTHORIZED);
  g_clear_error (&error);
  g_assert_false (_sy_auth_verify_client (fx->auth, client_id, secret, NULL, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_UNAUTHORIZED);
  g_clear_error (&error);
  g_assert_false (_sy_auth_revoke_client (fx->auth, client_id, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_NOT_FOUND);
}

static void
test_auth_memory_token (AuthFixture   *fx,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *token = _sy_auth_add_memory_token (fx->auth, "admin");
  g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);

  g_assert_true (_sy_auth_check_bearer (fx->auth, bearer, "meters:write", NULL, &error));
  g_assert_no_error (error);

  g_assert_true (_sy_auth_revoke_token (fx->auth, token, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (_sy_auth_check_bearer (fx->auth, bearer, NULL, NULL, &error));
  g_assert_error (error, SY_ERROR, SY_ERROR_UNAUTHORIZED);
}

static void
test_auth_unknown_device_key (AuthFixture   *fx,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  SyDeviceInfo *info;

  info = _sy_auth_lookup_device (fx->auth, NULL, &error);
  g_assert_null (info);
  g_assert_error (error, SY_ERROR, SY_ERROR_UNAUTHORIZED);
  g_clear_error (&error);

  info = _sy_auth_lookup_device (fx->auth, "", &error);
  g_assert_null (info);
  g_assert_error (error, SY_ERROR, SY_ERROR_UNAUTHORIZED);
  g_clear_error (&error);

  info = _sy_auth_lookup_device (fx->auth, "00000000-0000-4000-8000-000000000000", &error);
  g_assert_null (info);
  g_assert_error (error, SY_ERROR, SY_ERROR_UNAUTHORIZED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/switchyard/backend/auth/hmac/rfc4231", test_hmac_rfc4231);
  g_test_add_func ("/switchyard/backend/auth/hmac/binary-body", test_hmac_binary_body);
  g_test_add_func ("/switchyard/backend/auth/hmac/verify", test_hmac_verify);
  g_test_add_func ("/switchyard/backend/auth/const-time-equal", test_const_time_equal);
  g_test_add_func ("/switchyard/backend/auth/sha256", test_sha256);
  g_test_add_func ("/switchyard/backend/auth/scopes/validate", test_scopes_validate);
  g_test_add_func ("/switchyard/backend/auth/scopes/allow", test_scopes_allow);
  g_test_add_func ("/switchyard/backend/auth/scopes/normalize", test_scopes_normalize);
  g_test_add_func ("/switchyard/backend/auth/random/secret", test_random_secret);
  g_test_add_func ("/switchyard/backend/auth/random/uuid", test_random_uuid);
  g_test_add ("/switchyard/backend/auth/client/flow", AuthFixture, NULL,
              auth_setup, test_auth_client_flow, auth_teardown);
  g_test_add ("/switchyard/backend/auth/client/memory-token", AuthFixture, NULL,
              auth_setup, test_auth_memory_token, auth_teardown);
  g_test_add ("/switchyard/backend/auth/device/unknown-key", AuthFixture, NULL,
              auth_setup, test_auth_unknown_device_key, auth_teardown);

  return g_test_run ();
}
