/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <locale.h>
#include <string.h>

#include "sy-error.h"
#include "sy-jsonlogic-private.h"

/* Each case: rule, data, the expected result, all as JSON text. The expectations are what
 * json-logic-js (the reference implementation) answers. */
typedef struct
{
  const char *rule;
  const char *data;
  const char *expected;
} Case;

static const Case cases[] = {
  /* Literals and arrays of rules. */
  { "1", "null", "1" },
  { "\"apple\"", "null", "\"apple\"" },
  { "null", "null", "null" },
  { "[1, {\"var\": \"x\"}]", "{\"x\": 2}", "[1,2]" },
  { "{\"a\": 1, \"b\": 2}", "null", "{\"a\":1,\"b\":2}" },
  { "{}", "null", "{}" },

  /* var */
  { "{\"var\": \"a\"}", "{\"a\": 1}", "1" },
  { "{\"var\": [\"a\"]}", "{\"a\": 1}", "1" },
  { "{\"var\": \"b\"}", "{\"a\": 1}", "null" },
  { "{\"var\": [\"b\", 26]}", "{\"a\": 1}", "26" },
  { "{\"var\": \"a.b.c\"}", "{\"a\": {\"b\": {\"c\": \"deep\"}}}", "\"deep\"" },
  { "{\"var\": \"a.b.c\"}", "{\"a\": null}", "null" },
  { "{\"var\": [\"a.b.c\", \"dflt\"]}", "{\"a\": {\"b\": null}}", "\"dflt\"" },
  { "{\"var\": 1}", "[\"apple\", \"banana\"]", "\"banana\"" },
  { "{\"var\": \"1\"}", "[\"apple\", \"banana\"]", "\"banana\"" },
  { "{\"var\": \"01\"}", "[\"apple\", \"banana\"]", "null" },
  { "{\"var\": \"x.1\"}", "{\"x\": [5, 6]}", "6" },
  { "{\"var\": \"\"}", "{\"a\": 1}", "{\"a\":1}" },
  { "{\"var\": []}", "3", "3" },
  { "{\"var\": null}", "[1]", "[1]" },
  { "{\"var\": \"a\"}", "{\"a\": null}", "null" },
  { "{\"var\": [\"a\", 5]}", "{\"a\": null}", "null" },
  { "{\"var\": {\"cat\": [\"a\", \"b\"]}}", "{\"ab\": 7}", "7" },
  { "{\"var\": [\"event.total_power\", 0]}", "{\"event\": {\"total_power\": 6000}}", "6000" },

  /* missing, missing_some */
  { "{\"missing\": [\"a\", \"b\"]}", "{\"a\": \"apple\", \"c\": \"carrot\"}", "[\"b\"]" },
  { "{\"missing\": [\"a\", \"b\"]}", "{\"a\": \"apple\", \"b\": \"banana\"}", "[]" },
  { "{\"missing\": [\"a\", \"b\"]}", "{\"a\": \"\", \"b\": null}", "[\"a\",\"b\"]" },
  { "{\"missing\": \"a\"}", "{}", "[\"a\"]" },
  { "{\"missing\": [\"a.b\"]}", "{\"a\": {\"b\": 1}}", "[]" },
  { "{\"missing\": {\"merge\": [\"vin\", {\"if\": [{\"var\": \"financing\"}, [\"apr\"], []]}]}}",
    "{\"financing\": true}", "[\"vin\",\"apr\"]" },
  { "{\"missing_some\": [1, [\"a\", \"b\", \"c\"]]}", "{\"a\": \"apple\"}", "[]" },
  { "{\"missing_some\": [2, [\"a\", \"b\", \"c\"]]}", "{\"a\": \"apple\"}", "[\"b\",\"c\"]" },

  /* if, ?:, and, or */
  { "{\"if\": [true, \"yes\", \"no\"]}", "null", "\"yes\"" },
  { "{\"if\": [false, \"yes\", \"no\"]}", "null", "\"no\"" },
  { "{\"if\": [false, 1, false, 2, 3]}", "null", "3" },
  { "{\"if\": [false, 1, true, 2, 3]}", "null", "2" },
  { "{\"if\": [false, 1]}", "null", "null" },
  { "{\"if\": []}", "null", "null" },
  { "{\"if\": [\"a\"]}", "null", "\"a\"" },
  { "{\"if\": [[], \"yes\", \"no\"]}", "null", "\"no\"" },
  { "{\"if\": [[0], \"yes\", \"no\"]}", "null", "\"yes\"" },
  { "{\"if\": [\"0\", \"yes\", \"no\"]}", "null", "\"yes\"" },
  { "{\"?:\": [true, 1, 2]}", "null", "1" },
  { "{\"and\": [true, \"a\", 3]}", "null", "3" },
  { "{\"and\": [true, \"\", 3]}", "null", "\"\"" },
  { "{\"and\": [0, {\"/\": [1, 0]}]}", "null", "0" },
  { "{\"or\": [false, 0, \"a\"]}", "null", "\"a\"" },
  { "{\"or\": [false, 0, []]}", "null", "[]" },
  { "{\"or\": [false]}", "null", "false" },

  /* Equality with JavaScript's coercions. */
  { "{\"==\": [1, 1]}", "null", "true" },
  { "{\"==\": [1, \"1\"]}", "null", "true" },
  { "{\"==\": [0, false]}", "null", "true" },
  { "{\"==\": [\"\", 0]}", "null", "true" },
  { "{\"==\": [null, 0]}", "null", "false" },
  { "{\"==\": [null, null]}", "null", "true" },
  { "{\"==\": [[1], 1]}", "null", "true" },
  { "{\"==\": [[1, 2], \"1,2\"]}", "null", "true" },
  { "{\"==\": [\"1.0\", 1]}", "null", "true" },
  { "{\"==\": [\"abc\", \"abc\"]}", "null", "true" },
  { "{\"==\": [\"0x10\", 16]}", "null", "true" },
  { "{\"==\": [true, \"1\"]}", "null", "true" },
  { "{\"==\": [{\"var\": \"x\"}, {\"var\": \"x\"}]}", "{\"x\": [1]}", "true" },
  { "{\"===\": [1, \"1\"]}", "null", "false" },
  { "{\"===\": [1, 1.0]}", "null", "true" },
  { "{\"!=\": [1, \"1\"]}", "null", "false" },
  { "{\"!=\": [1, 2]}", "null", "true" },
  { "{\"!==\": [1, \"1\"]}", "null", "true" },

  /* Truthiness. */
  { "{\"!\": [true]}", "null", "false" },
  { "{\"!\": true}", "null", "false" },
  { "{\"!\": [[]]}", "null", "true" },
  { "{\"!\": [\"0\"]}", "null", "false" },
  { "{\"!\": []}", "null", "true" },
  { "{\"!!\": [[]]}", "null", "false" },
  { "{\"!!\": [\"0\"]}", "null", "true" },
  { "{\"!!\": [{}]}", "null", "true" },
  { "{\"!!\": [0]}", "null", "false" },

  /* Comparisons, including the three-argument between. */
  { "{\">\": [2, 1]}", "null", "true" },
  { "{\">\": [\"2\", 1]}", "null", "true" },
  { "{\">\": [\"b\", \"a\"]}", "null", "true" },
  { "{\">\": [\"10\", \"9\"]}", "null", "false" },
  { "{\">\": [\"a\", 1]}", "null", "false" },
  { "{\"<\": [\"a\", 1]}", "null", "false" },
  { "{\">=\": [1, 1]}", "null", "true" },
  { "{\">=\": [null, 0]}", "null", "true" },
  { "{\"<\": [1, 2, 3]}", "null", "true" },
  { "{\"<\": [1, 1, 3]}", "null", "false" },
  { "{\"<\": [1, 4, 3]}", "null", "false" },
  { "{\"<=\": [1, 1, 3]}", "null", "true" },
  { "{\"<=\": [1, 4, 3]}", "null", "false" },
  { "{\"<\": [[2], 3]}", "null", "true" },
  { "{\">\": [{\"var\": [\"event.total_power\", 0]}, 5000]}", "{\"event\": {\"total_power\": 6000}}", "true" },
  { "{\">\": [{\"var\": [\"event.total_power\", 0]}, 5000]}", "{\"event\": {}}", "false" },

  /* Arithmetic. */
  { "{\"max\": [1, 2, 3]}", "null", "3" },
  { "{\"min\": [1, 2, 3]}", "null", "1" },
  { "{\"max\": [1, \"a\"]}", "null", "null" },
  { "{\"max\": []}", "null", "null" },
  { "{\"+\": [4, 2]}", "null", "6" },
  { "{\"+\": [2, 2, 2, 2, 2]}", "null", "10" },
  { "{\"+\": \"3.14\"}", "null", "3.14" },
  { "{\"+\": [\"3\", \"4abc\"]}", "null", "7" },
  { "{\"+\": [1, null]}", "null", "null" },
  { "{\"+\": []}", "null", "0" },
  { "{\"-\": [4, 2]}", "null", "2" },
  { "{\"-\": [2]}", "null", "-2" },
  { "{\"-\": [\"-2\"]}", "null", "2" },
  { "{\"*\": [4, 2]}", "null", "8" },
  { "{\"*\": [\"2\", \"3\", 4]}", "null", "24" },
  { "{\"*\": [\"2\"]}", "null", "\"2\"" },
  { "{\"/\": [4, 2]}", "null", "2" },
  { "{\"/\": [1, 4]}", "null", "0.25" },
  { "{\"/\": [1, 0]}", "null", "null" },
  { "{\"%\": [101, 2]}", "null", "1" },
  { "{\"%\": [-7, 3]}", "null", "-1" },

  /* map, filter, reduce, all, none, some, merge, in */
  { "{\"map\": [{\"var\": \"integers\"}, {\"*\": [{\"var\": \"\"}, 2]}]}", "{\"integers\": [1, 2, 3]}", "[2,4,6]" },
  { "{\"map\": [{\"var\": \"missing\"}, 1]}", "{}", "[]" },
  { "{\"filter\": [{\"var\": \"integers\"}, {\"%\": [{\"var\": \"\"}, 2]}]}", "{\"integers\": [1, 2, 3, 4, 5]}", "[1,3,5]" },
  { "{\"reduce\": [{\"var\": \"integers\"}, {\"+\": [{\"var\": \"current\"}, {\"var\": \"accumulator\"}]}, 0]}",
    "{\"integers\": [1, 2, 3, 4]}", "10" },
  { "{\"reduce\": [{\"var\": \"none\"}, {\"+\": [1, 1]}, 7]}", "{}", "7" },
  { "{\"reduce\": [[1, 2], {\"var\": \"accumulator\"}]}", "null", "null" },
  { "{\"all\": [[1, 2, 3], {\">\": [{\"var\": \"\"}, 0]}]}", "null", "true" },
  { "{\"all\": [[1, 2, 3], {\">\": [{\"var\": \"\"}, 1]}]}", "null", "false" },
  { "{\"all\": [[], true]}", "null", "false" },
  { "{\"all\": [{\"var\": \"pies\"}, {\"==\": [{\"var\": \"filling\"}, \"apple\"]}]}",
    "{\"pies\": [{\"filling\": \"apple\"}, {\"filling\": \"apple\"}]}", "true" },
  { "{\"none\": [[1, 2, 3], {\"<\": [{\"var\": \"\"}, 0]}]}", "null", "true" },
  { "{\"none\": [[], true]}", "null", "true" },
  { "{\"some\": [[-1, 0, 1], {\"<\": [{\"var\": \"\"}, 0]}]}", "null", "true" },
  { "{\"some\": [[], true]}", "null", "false" },
  { "{\"merge\": [[1, 2], [3, 4]]}", "null", "[1,2,3,4]" },
  { "{\"merge\": [1, 2, [3, [4]]]}", "null", "[1,2,3,[4]]" },
  { "{\"merge\": []}", "null", "[]" },
  { "{\"in\": [\"Spring\", \"Springfield\"]}", "null", "true" },
  { "{\"in\": [\"i\", \"team\"]}", "null", "false" },
  { "{\"in\": [\"Ringo\", [\"John\", \"Paul\", \"George\", \"Ringo\"]]}", "null", "true" },
  { "{\"in\": [1, [\"1\"]]}", "null", "false" },
  { "{\"in\": [1, 1]}", "null", "false" },
  { "{\"in\": [1, null]}", "null", "false" },

  /* cat, substr, log */
  { "{\"cat\": [\"I love\", \" pie\"]}", "null", "\"I love pie\"" },
  { "{\"cat\": [\"n=\", 1, \" \", 1.5, \" \", true, \" \", null]}", "null", "\"n=1 1.5 true null\"" },
  { "{\"cat\": [[1, null, 2], \"|\", {\"var\": \"o\"}]}", "{\"o\": {}}", "\"1,,2|[object Object]\"" },
  { "{\"cat\": [0.1, \" \", 1e21, \" \", 1e-7, \" \", 123456789012]}", "null", "\"0.1 1e+21 1e-7 123456789012\"" },
  { "{\"substr\": [\"jsonlogic\", 4]}", "null", "\"logic\"" },
  { "{\"substr\": [\"jsonlogic\", -5]}", "null", "\"logic\"" },
  { "{\"substr\": [\"jsonlogic\", 1, 3]}", "null", "\"son\"" },
  { "{\"substr\": [\"jsonlogic\", 4, -2]}", "null", "\"log\"" },
  { "{\"substr\": [\"Größe\", 2, 2]}", "null", "\"öß\"" },
  { "{\"substr\": [\"abc\", 10]}", "null", "\"\"" },
  { "{\"log\": \"apple\"}", "null", "\"apple\"" },
};

static JsonNode *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  return node != NULL ? node : json_node_new (JSON_NODE_NULL);
}

static void
test_reference_cases (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) rule = parse (cases[i].rule);
      g_autoptr(JsonNode) data = parse (cases[i].data);
      g_autoptr(JsonNode) expected = parse (cases[i].expected);
      g_autoptr(SyJsonLogic) logic = NULL;
      g_autoptr(JsonNode) result = NULL;
      g_autoptr(GError) error = NULL;
      gboolean match = FALSE;

      logic = sy_jsonlogic_compile (rule, NULL, &error);
      g_assert_no_error (error);
      result = sy_jsonlogic_evaluate (logic, data, &error);
      g_assert_no_error (error);

      if (!json_node_equal (result, expected))
        {
          g_autofree char *got = json_to_string (result, FALSE);

          g_error ("%s with %s: expected %s, got %s", cases[i].rule, cases[i].data, cases[i].expected, got);
        }

      /* The matching fast path agrees with the truthiness of the full result (except where an
       * infinity, which is truthy, became JSON null). */
      g_assert_true (sy_jsonlogic_matches (logic, data, &match, &error));
      g_assert_no_error (error);
      if (!JSON_NODE_HOLDS_NULL (result) && match != sy_jsonlogic_truthy (result))
        g_error ("%s with %s: matches() says %d", cases[i].rule, cases[i].data, match);
    }
}

/* Numbers print and parse with '.', whatever the locale. */
static void
test_locale (void)
{
  g_autoptr(JsonNode) rule = parse ("{\"cat\": [{\"+\": [\"1.5\", 1]}, \"\"]}");
  g_autoptr(SyJsonLogic) logic = sy_jsonlogic_compile (rule, NULL, NULL);
  g_autoptr(JsonNode) result = NULL;
  char *old = g_strdup (setlocale (LC_NUMERIC, NULL));

  /* Only meaningful where a comma-decimal locale exists; C.UTF-8 otherwise. */
  if (setlocale (LC_NUMERIC, "de_DE.UTF-8") == NULL)
    g_test_message ("de_DE.UTF-8 is not installed: checking the C locale only");

  result = sy_jsonlogic_evaluate (logic, NULL, NULL);
  g_assert_cmpstr (json_node_get_string (result), ==, "2.5");

  setlocale (LC_NUMERIC, old);
  g_free (old);
}

typedef struct
{
  const char *rule;
  const char *field;
  const char *message;
} BadCase;

static void
test_compile_errors (void)
{
  static const BadCase bad[] = {
    { "{\"frobnicate\": [1]}", "$.frobnicate", "unknown operator" },
    { "{\"and\": [true, {\"nope\": 1}]}", "$.and[1].nope", "unknown operator" },
    { "{\"if\": [{\"var\": \"a\"}, {\"==\": [1]}, 2]}", "$.if[1].==", "takes 2 arguments" },
    { "{\"substr\": [\"a\"]}", "$.substr", "takes 2 to 3 arguments" },
    { "{\"var\": [\"a\", 1, 2]}", "$.var", "takes 0 to 2 arguments" },
    { "{\"map\": [[1]]}", "$.map", "takes 2 arguments" },
    { "{\"and\": []}", "$.and", "at least 1" },
    { "[1, {\"a.b\": 2}]", "$[1][\"a.b\"]", "unknown operator" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(JsonNode) rule = parse (bad[i].rule);
      g_autoptr(GError) error = NULL;
      g_autoptr(SyJsonLogic) logic = sy_jsonlogic_compile (rule, NULL, &error);
      g_autofree char *prefix = g_strconcat (bad[i].field, ": ", NULL);

      g_assert_null (logic);
      g_assert_error (error, SY_ERROR, SY_ERROR_INVALID_FIELD);
      if (!g_str_has_prefix (error->message, prefix) || strstr (error->message, bad[i].message) == NULL)
        g_error ("%s: unexpected error “%s”", bad[i].rule, error->message);
    }
}

static void
test_field_prefix (void)
{
  g_autoptr(JsonNode) rule = parse ("{\"or\": [{\"x\": 1}]}");
  g_autoptr(GError) error = NULL;
  g_autoptr(SyJsonLogic) logic = sy_jsonlogic_compile (rule, "jsonlogic", &error);

  g_assert_null (logic);
  g_assert_error (error, SY_ERROR, SY_ERROR_INVALID_FIELD);
  g_assert_true (g_str_has_prefix (error->message, "jsonlogic.or[0].x: "));
}

static void
test_depth_bound (void)
{
  GString *text = g_string_new (NULL);
  g_autoptr(JsonNode) rule = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SyJsonLogic) logic = NULL;

  for (guint i = 0; i < SY_JSONLOGIC_MAX_DEPTH + 2; i++)
    g_string_append (text, "{\"!\": [");
  g_string_append (text, "true");
  for (guint i = 0; i < SY_JSONLOGIC_MAX_DEPTH + 2; i++)
    g_string_append (text, "]}");

  rule = parse (text->str);
  g_string_free (text, TRUE);
  logic = sy_jsonlogic_compile (rule, NULL, &error);
  g_assert_null (logic);
  g_assert_error (error, SY_ERROR, SY_ERROR_INVALID_FIELD);
  g_assert_nonnull (strstr (error->message, "deeper than 64"));
}

/* Nested maps over a big array would take 10^8 steps: the step bound stops them. */
static void
test_step_bound (void)
{
  g_autoptr(GString) array = g_string_new ("[");
  g_autofree char *rule_text = NULL;
  g_autoptr(JsonNode) rule = NULL;
  g_autoptr(SyJsonLogic) logic = NULL;
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 5000; i++)
    g_string_append_printf (array, "%s%u", i ? "," : "", i);
  g_string_append_c (array, ']');

  rule_text = g_strdup_printf ("{\"some\": [%s, {\"some\": [%s, {\"<\": [{\"var\": \"\"}, -1]}]}]}",
                               array->str, array->str);
  rule = parse (rule_text);
  logic = sy_jsonlogic_compile (rule, NULL, &error);
  g_assert_no_error (error);

  result = sy_jsonlogic_evaluate (logic, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, SY_ERROR, SY_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "steps"));
}

static void
test_array_bound (void)
{
  g_autoptr(GString) array = g_string_new ("[");
  g_autofree char *rule_text = NULL;
  g_autoptr(JsonNode) rule = NULL;
  g_autoptr(SyJsonLogic) logic = NULL;
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 6000; i++)
    g_string_append_printf (array, "%s%u", i ? "," : "", i);
  g_string_append_c (array, ']');

  rule_text = g_strdup_printf ("{\"merge\": [%s, %s]}", array->str, array->str);
  rule = parse (rule_text);
  logic = sy_jsonlogic_compile (rule, NULL, &error);
  g_assert_no_error (error);

  result = sy_jsonlogic_evaluate (logic, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, SY_ERROR, SY_ERROR_INVALID);
}

static void
test_string_bound (void)
{
  g_autoptr(JsonNode) rule = NULL;
  g_autoptr(SyJsonLogic) logic = NULL;
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) data = NULL;
  g_autofree char *big = g_strnfill (600 * 1024, 'x');
  g_autofree char *data_text = g_strdup_printf ("{\"s\": \"%s\"}", big);

  rule = parse ("{\"cat\": [{\"var\": \"s\"}, {\"var\": \"s\"}]}");
  data = parse (data_text);
  logic = sy_jsonlogic_compile (rule, NULL, &error);
  g_assert_no_error (error);

  result = sy_jsonlogic_evaluate (logic, data, &error);
  g_assert_null (result);
  g_assert_error (error, SY_ERROR, SY_ERROR_INVALID);
}

/* The compiled rule keeps its own copy: changing the source afterwards changes nothing. */
static void
test_rule_is_copied (void)
{
  g_autoptr(JsonNode) rule = parse ("{\"==\": [{\"var\": \"a\"}, \"on\"]}");
  g_autoptr(JsonNode) data = parse ("{\"a\": \"on\"}");
  g_autoptr(SyJsonLogic) logic = sy_jsonlogic_compile (rule, NULL, NULL);
  JsonArray *args;
  gboolean match = FALSE;

  args = json_object_get_array_member (json_node_get_object (rule), "==");
  json_array_remove_element (args, 1);
  json_array_add_string_element (args, "off");

  g_assert_true (sy_jsonlogic_matches (logic, data, &match, NULL));
  g_assert_true (match);
}

typedef struct
{
  SyJsonLogic *logic;
  JsonNode    *data;
  guint        matched;
} ThreadData;

static gpointer
evaluate_thread (gpointer user_data)
{
  ThreadData *td = user_data;

  for (guint i = 0; i < 20000; i++)
    {
      gboolean match = FALSE;

      g_assert_true (sy_jsonlogic_matches (td->logic, td->data, &match, NULL));
      td->matched += match;
    }

  return NULL;
}

/* One compiled rule, evaluated from several threads at once (the rule engine's workers). */
static void
test_threads (void)
{
  g_autoptr(JsonNode) rule = parse ("{\"and\": [{\">\": [{\"var\": \"p\"}, 10]}, {\"in\": [\"x\", {\"cat\": [\"a\", {\"var\": \"s\"}]}]}]}");
  g_autoptr(JsonNode) data = parse ("{\"p\": 11, \"s\": \"xyz\"}");
  g_autoptr(SyJsonLogic) logic = sy_jsonlogic_compile (rule, NULL, NULL);
  ThreadData td[4];
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      td[i] = (ThreadData) { logic, data, 0 };
      threads[i] = g_thread_new ("eval", evaluate_thread, &td[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpuint (td[i].matched, ==, 20000);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/switchyard/backend/jsonlogic/reference", test_reference_cases);
  g_test_add_func ("/switchyard/backend/jsonlogic/locale", test_locale);
  g_test_add_func ("/switchyard/backend/jsonlogic/compile-errors", test_compile_errors);
  g_test_add_func ("/switchyard/backend/jsonlogic/field-prefix", test_field_prefix);
  g_test_add_func ("/switchyard/backend/jsonlogic/bounds/depth", test_depth_bound);
  g_test_add_func ("/switchyard/backend/jsonlogic/bounds/steps", test_step_bound);
  g_test_add_func ("/switchyard/backend/jsonlogic/bounds/array", test_array_bound);
  g_test_add_func ("/switchyard/backend/jsonlogic/bounds/string", test_string_bound);
  g_test_add_func ("/switchyard/backend/jsonlogic/rule-is-copied", test_rule_is_copied);
  g_test_add_func ("/switchyard/backend/jsonlogic/threads", test_threads);

  return g_test_run ();
}
