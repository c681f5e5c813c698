/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-rules"

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sy-error.h"
#include "sy-jsonlogic-private.h"

/* The semantics follow json-logic-js, the reference implementation, down to JavaScript's
 * coercions: `==` is JavaScript's loose equality, `<` compares strings as strings and anything
 * else as numbers, `+` and `*` use parseFloat(), `cat` uses String(). Two deliberate
 * differences: substr counts Unicode characters where JavaScript counts UTF-16 code units, and
 * NaN or an infinity in a result becomes JSON null (as JSON.stringify does). */

typedef enum
{
  OP_LITERAL,
  OP_ARRAY,       /* an array literal whose items are evaluated */
  OP_VAR,
  OP_MISSING,
  OP_MISSING_SOME,
  OP_IF,
  OP_EQ,
  OP_STRICT_EQ,
  OP_NE,
  OP_STRICT_NE,
  OP_NOT,
  OP_NOTNOT,
  OP_OR,
  OP_AND,
  OP_GT,
  OP_GE,
  OP_LT,
  OP_LE,
  OP_MAX,
  OP_MIN,
  OP_ADD,
  OP_SUB,
  OP_MUL,
  OP_DIV,
  OP_MOD,
  OP_MAP,
  OP_FILTER,
  OP_REDUCE,
  OP_ALL,
  OP_NONE,
  OP_SOME,
  OP_MERGE,
  OP_IN,
  OP_CAT,
  OP_SUBSTR,
  OP_LOG,
} Op;

typedef struct
{
  const char *name;
  Op          op;
  gint8       min_args;
  gint8       max_args;   /* -1: any */
} OpInfo;

static const OpInfo op_table[] = {
  { "var", OP_VAR, 0, 2 },
  { "missing", OP_MISSING, 0, -1 },
  { "missing_some", OP_MISSING_SOME, 2, 2 },
  { "if", OP_IF, 0, -1 },
  { "?:", OP_IF, 0, -1 },
  { "==", OP_EQ, 2, 2 },
  { "===", OP_STRICT_EQ, 2, 2 },
  { "!=", OP_NE, 2, 2 },
  { "!==", OP_STRICT_NE, 2, 2 },
  { "!", OP_NOT, 0, 1 },
  { "!!", OP_NOTNOT, 0, 1 },
  { "or", OP_OR, 1, -1 },
  { "and", OP_AND, 1, -1 },
  { ">", OP_GT, 2, 2 },
  { ">=", OP_GE, 2, 2 },
  { "<", OP_LT, 2, 3 },
  { "<=", OP_LE, 2, 3 },
  { "max", OP_MAX, 0, -1 },
  { "min", OP_MIN, 0, -1 },
  { "+", OP_ADD, 0, -1 },
  { "-", OP_SUB, 1, 2 },
  { "*", OP_MUL, 1, -1 },
  { "/", OP_DIV, 2, 2 },
  { "%", OP_MOD, 2, 2 },
  { "map", OP_MAP, 2, 2 },
  { "filter", OP_FILTER, 2, 2 },
  { "reduce", OP_REDUCE, 2, 3 },
  { "all", OP_ALL, 2, 2 },
  { "none", OP_NONE, 2, 2 },
  { "some", OP_SOME, 2, 2 },
  { "merge", OP_MERGE, 0, -1 },
  { "in", OP_IN, 2, 2 },
  { "cat", OP_CAT, 0, -1 },
  { "substr", OP_SUBSTR, 2, 3 },
  { "log", OP_LOG, 1, 1 },
};

typedef enum
{
  V_NULL,
  V_BOOL,
  V_NUMBER,
  V_STRING,
  V_ARRAY,
  V_OBJECT,
} VType;

/* An intermediate value. Strings are borrowed from the rule or the data unless @owned is set;
 * arrays and objects always hold a reference. */
typedef struct
{
  VType       type;
  gboolean    b;
  double      n;
  const char *s;
  char       *owned;
  JsonArray  *array;
  JsonObject *object;
} Value;

typedef struct _Node Node;
struct _Node
{
  Op      op;
  Value   literal;     /* OP_LITERAL */
  Node  **args;
  guint   n_args;
  char  **path;        /* OP_VAR with a constant path: its parts; NULL otherwise */
  gboolean whole;      /* OP_VAR with "", null or no path: the data itself */
};

struct _SyJsonLogic
{
  gatomicrefcount  ref_count;
  JsonNode        *rule;       /* literals borrow their strings from it */
  Node            *root;
};

typedef struct
{
  guint    steps;
  GError **error;
} Ctx;

/* Values */

static void
value_clear (Value *v)
{
  g_clear_pointer (&v->owned, g_free);
  g_clear_pointer (&v->array, json_array_unref);
  g_clear_pointer (&v->object, json_object_unref);
  memset (v, 0, sizeof *v);
}

static void
value_set_bool (Value    *v,
                gboolean  b)
{
  v->type = V_BOOL;
  v->b = b;
}

static void
value_set_number (Value  *v,
                  double  n)
{
  v->type = V_NUMBER;
  v->n = n;
}

static void
value_take_string (Value *v,
                   char  *s)
{
  v->type = V_STRING;
  v->owned = s;
  v->s = s;
}

static void
value_take_array (Value     *v,
                  JsonArray *array)
{
  v->type = V_ARRAY;
  v->array = array;
}

/* Borrows strings from @node, which must outlive @v; refs containers. */
static void
value_from_node (Value    *v,
                 JsonNode *node)
{
  memset (v, 0, sizeof *v);

  if (node == NULL)
    return;

  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      v->type = V_OBJECT;
      v->object = json_object_ref (json_node_get_object (node));
      break;
    case JSON_NODE_ARRAY:
      v->type = V_ARRAY;
      v->array = json_array_ref (json_node_get_array (node));
      break;
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_BOOLEAN:
          value_set_bool (v, json_node_get_boolean (node));
          break;
        case G_TYPE_STRING:
          v->type = V_STRING;
          v->s = json_node_get_string (node);
          break;
        default:
          /* json-glib converts integers too. */
          value_set_number (v, json_node_get_double (node));
          break;
        }
      break;
    case JSON_NODE_NULL:
    default:
      break;
    }
}

/* A copy that owns what it needs to outlive @src's data. */
static void
value_copy (Value       *dst,
            const Value *src)
{
  *dst = *src;
  dst->owned = NULL;
  if (src->owned != NULL)
    {
      dst->owned = g_strdup (src->owned);
      dst->s = dst->owned;
    }
  if (src->array != NULL)
    json_array_ref (src->array);
  if (src->object != NULL)
    json_object_ref (src->object);
}

static JsonNode *
value_to_node (const Value *v)
{
  JsonNode *node;

  switch (v->type)
    {
    case V_BOOL:
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_boolean (node, v->b);
      return node;
    case V_NUMBER:
      if (!isfinite (v->n))
        return json_node_new (JSON_NODE_NULL);
      node = json_node_new (JSON_NODE_VALUE);
      if (v->n == floor (v->n) && fabs (v->n) < 9007199254740992.0)
        json_node_set_int (node, (gint64) v->n);
      else
        json_node_set_double (node, v->n);
      return node;
    case V_STRING:
      node = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (node, v->s);
      return node;
    case V_ARRAY:
      node = json_node_new (JSON_NODE_ARRAY);
      json_node_set_array (node, v->array);
      return node;
    case V_OBJECT:
      node = json_node_new (JSON_NODE_OBJECT);
      json_node_set_object (node, v->object);
      return node;
    case V_NULL:
    default:
      return json_node_new (JSON_NODE_NULL);
    }
}

static gboolean
value_truthy (const Value *v)
{
  switch (v->type)
    {
    case V_BOOL:
      return v->b;
    case V_NUMBER:
      return v->n != 0 && !isnan (v->n);
    case V_STRING:
      return v->s[0] != '\0';
    case V_ARRAY:
      return json_array_get_length (v->array) > 0;
    case V_OBJECT:
      return TRUE;
    case V_NULL:
    default:
      return FALSE;
    }
}

/* JavaScript's Number.prototype.toString() for finite and non-finite numbers. */
static void
append_js_number (GString *out,
                  double   n)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char *e;

  if (isnan (n))
    {
      g_string_append (out, "NaN");
      return;
    }
  if (isinf (n))
    {
      g_string_append (out, n > 0 ? "Infinity" : "-Infinity");
      return;
    }
  if (n == 0)
    {
      g_string_append_c (out, '0');
      return;
    }
  if (n == floor (n) && fabs (n) < 1e21)
    {
      g_string_append_printf (out, "%.0f", n);
      return;
    }

  /* The shortest representation that reads back as the same double, in JavaScript's exponent
   * form (1e-7, 1.5e+21: no zero padding). */
  for (int precision = 1; precision <= 17; precision++)
    {
      char format[8];

      /* g_ascii_formatd: a '.' whatever the locale. */
      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buf, sizeof buf, format, n);
      if (g_ascii_strtod (buf, NULL) == n)
        break;
    }

  e = strchr (buf, 'e');
  if (e == NULL)
    {
      g_string_append (out, buf);
      return;
    }

  g_string_append_len (out, buf, e - buf + 1);
  e++;
  if (*e == '+' || *e == '-')
    g_string_append_c (out, *e++);
  while (*e == '0' && e[1] != '\0')
    e++;
  g_string_append (out, e);
}

static void append_js_string (GString     *out,
                              const Value *v);

static void
append_js_node (GString  *out,
                JsonNode *node)
{
  Value v;

  /* Array.prototype.join() writes null and undefined items as nothing. */
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return;

  value_from_node (&v, node);
  append_js_string (out, &v);
  value_clear (&v);
}

/* JavaScript's String(v). */
static void
append_js_string (GString     *out,
                  const Value *v)
{
  switch (v->type)
    {
    case V_BOOL:
      g_string_append (out, v->b ? "true" : "false");
      break;
    case V_NUMBER:
      append_js_number (out, v->n);
      break;
    case V_STRING:
      g_string_append (out, v->s);
      break;
    case V_ARRAY:
      for (guint i = 0; i < json_array_get_length (v->array); i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          append_js_node (out, json_array_get_element (v->array, i));
        }
      break;
    case V_OBJECT:
      g_string_append (out, "[object Object]");
      break;
    case V_NULL:
    default:
      g_string_append (out, "null");
      break;
    }
}

static char *
js_string (const Value *v)
{
  GString *out = g_string_new (NULL);

  append_js_string (out, v);
  return g_string_free (out, FALSE);
}

static gboolean
is_js_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* parseFloat(): the longest decimal prefix after leading white space, or NaN. */
static double
js_parse_float_text (const char *text)
{
  const char *p = text;
  char *end = NULL;
  double n;

  while (is_js_space (*p))
    p++;

  if (g_str_has_prefix (p, "Infinity") || g_str_has_prefix (p, "+Infinity"))
    return INFINITY;
  if (g_str_has_prefix (p, "-Infinity"))
    return -INFINITY;
  /* strtod would also take hex, "inf" and "nan"; parseFloat takes none of them. */
  if (!(g_ascii_isdigit (p[0]) || p[0] == '.' ||
        ((p[0] == '+' || p[0] == '-') && (g_ascii_isdigit (p[1]) || p[1] == '.'))))
    return NAN;
  if (g_ascii_strncasecmp (p + (p[0] == '+' || p[0] == '-'), "0x", 2) == 0)
    return 0;

  n = g_ascii_strtod (p, &end);
  return end == p ? NAN : n;
}

/* Number(text): the whole string (trimmed) must be a number; empty is 0. */
static double
js_number_text (const char *text)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  char *end = NULL;
  double n;

  if (copy[0] == '\0')
    return 0;
  if (g_str_equal (copy, "Infinity") || g_str_equal (copy, "+Infinity"))
    return INFINITY;
  if (g_str_equal (copy, "-Infinity"))
    return -INFINITY;
  if (copy[0] == '0' && (copy[1] == 'x' || copy[1] == 'X'))
    {
      guint64 u;

      return g_ascii_string_to_unsigned (copy + 2, 16, 0, G_MAXUINT64, &u, NULL) ? (double) u : NAN;
    }
  if (!(g_ascii_isdigit (copy[0]) || copy[0] == '.' || copy[0] == '+' || copy[0] == '-'))
    return NAN;

  n = g_ascii_strtod (copy, &end);
  return (end == copy || *end != '\0') ? NAN : n;
}

/* Number(v). */
static double
js_number (const Value *v)
{
  switch (v->type)
    {
    case V_BOOL:
      return v->b ? 1 : 0;
    case V_NUMBER:
      return v->n;
    case V_STRING:
      return js_number_text (v->s);
    case V_ARRAY:
      {
        g_autofree char *text = js_string (v);

        return js_number_text (text);
      }
    case V_OBJECT:
      return NAN;
    case V_NULL:
    default:
      return 0;
    }
}

static double
js_parse_float (const Value *v)
{
  g_autofree char *text = NULL;

  if (v->type == V_NUMBER)
    return v->n;
  if (v->type == V_STRING)
    return js_parse_float_text (v->s);

  text = js_string (v);
  return js_parse_float_text (text);
}

static gboolean
strict_equals (const Value *a,
               const Value *b)
{
  if (a->type != b->type)
    return FALSE;

  switch (a->type)
    {
    case V_BOOL:
      return a->b == b->b;
    case V_NUMBER:
      return a->n == b->n;
    case V_STRING:
      return strcmp (a->s, b->s) == 0;
    case V_ARRAY:
      return a->array == b->array;
    case V_OBJECT:
      return a->object == b->object;
    case V_NULL:
    default:
      return TRUE;
    }
}

/* ToPrimitive(): arrays and objects become their String(). */
static void
to_primitive (const Value *v,
              Value       *out)
{
  if (v->type == V_ARRAY || v->type == V_OBJECT)
    value_take_string (out, js_string (v));
  else
    value_copy (out, v);
}

/* JavaScript's abstract equality (==). */
static gboolean
loose_equals (const Value *a,
              const Value *b)
{
  Value na = { 0 };
  gboolean result;

  if (a->type == b->type)
    return strict_equals (a, b);
  if (a->type == V_NULL || b->type == V_NULL)
    return FALSE;
  if (a->type == V_NUMBER && b->type == V_STRING)
    return a->n == js_number (b);
  if (a->type == V_STRING && b->type == V_NUMBER)
    return js_number (a) == b->n;
  if (a->type == V_BOOL)
    {
      value_set_number (&na, a->b ? 1 : 0);
      return loose_equals (&na, b);
    }
  if (b->type == V_BOOL)
    {
      value_set_number (&na, b->b ? 1 : 0);
      return loose_equals (a, &na);
    }
  if ((a->type == V_ARRAY || a->type == V_OBJECT) && (b->type == V_NUMBER || b->type == V_STRING))
    {
      to_primitive (a, &na);
      result = loose_equals (&na, b);
      value_clear (&na);
      return result;
    }
  if ((b->type == V_ARRAY || b->type == V_OBJECT) && (a->type == V_NUMBER || a->type == V_STRING))
    {
      to_primitive (b, &na);
      result = loose_equals (a, &na);
      value_clear (&na);
      return result;
    }

  return FALSE;
}

/* JavaScript's abstract relational comparison: -1, 0 or 1, or 2 when undefined (NaN). */
static int
js_compare (const Value *a,
            const Value *b)
{
  Value pa = { 0 };
  Value pb = { 0 };
  int result;

  to_primitive (a, &pa);
  to_primitive (b, &pb);

  if (pa.type == V_STRING && pb.type == V_STRING)
    {
      int c = strcmp (pa.s, pb.s);

      result = c < 0 ? -1 : c > 0 ? 1 : 0;
    }
  else
    {
      double x = js_number (&pa);
      double y = js_number (&pb);

      if (isnan (x) || isnan (y))
        result = 2;
      else
        result = x < y ? -1 : x > y ? 1 : 0;
    }

  value_clear (&pa);
  value_clear (&pb);
  return result;
}

/* Compilation */

static void
node_free (Node *node)
{
  if (node == NULL)
    return;

  for (guint i = 0; i < node->n_args; i++)
    node_free (node->args[i]);
  g_free (node->args);
  g_strfreev (node->path);
  value_clear (&node->literal);
  g_free (node);
}

static const OpInfo *
lookup_op (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (op_table); i++)
    if (g_str_equal (op_table[i].name, name))
      return &op_table[i];

  return NULL;
}

static void
set_path_error (GError    **error,
                const char *field,
                GString    *path,
                const char *detail)
{
  g_autofree char *where = NULL;

  if (field != NULL)
    where = g_strconcat (field, path->str + 1, NULL);
  else
    where = g_strdup (path->str);

  sy_error_set_field (error, where, "%s", detail);
}

static Node *compile_node (JsonNode    *json,
                           guint        depth,
                           GString     *path,
                           const char  *field,
                           GError     **error);

static gboolean
compile_args (Node        *node,
              JsonNode    *values,
              guint        depth,
              GString     *path,
              const char  *field,
              GError     **error)
{
  gsize path_len = path->len;

  if (JSON_NODE_HOLDS_ARRAY (values))
    {
      JsonArray *array = json_node_get_array (values);

      node->n_args = json_array_get_length (array);
      node->args = g_new0 (Node *, MAX (node->n_args, 1));
      for (guint i = 0; i < node->n_args; i++)
        {
          g_string_append_printf (path, "[%u]", i);
          node->args[i] = compile_node (json_array_get_element (array, i), depth + 1, path, field, error);
          g_string_truncate (path, path_len);
          if (node->args[i] == NULL)
            return FALSE;
        }
      return TRUE;
    }

  /* {"var": "x"} is short for {"var": ["x"]}. */
  node->n_args = 1;
  node->args = g_new0 (Node *, 1);
  node->args[0] = compile_node (values, depth + 1, path, field, error);
  return node->args[0] != NULL;
}

static Node *
compile_node (JsonNode    *json,
              guint        depth,
              GString     *path,
              const char  *field,
              GError     **error)
{
  Node *node = g_new0 (Node, 1);
  gsize path_len = path->len;

  if (depth > SY_JSONLOGIC_MAX_DEPTH)
    {
      set_path_error (error, field, path, "the rule nests deeper than 64 levels");
      node_free (node);
      return NULL;
    }

  if (JSON_NODE_HOLDS_ARRAY (json))
    {
      node->op = OP_ARRAY;
      if (!compile_args (node, json, depth, path, field, error))
        {
          node_free (node);
          return NULL;
        }
      return node;
    }

  /* Only an object with exactly one key is an operation; anything else is data. */
  if (JSON_NODE_HOLDS_OBJECT (json) && json_object_get_size (json_node_get_object (json)) == 1)
    {
      JsonObject *obj = json_node_get_object (json);
      g_autoptr(GList) members = json_object_get_members (obj);
      const char *name = members->data;
      JsonNode *values = json_object_get_member (obj, name);
      const OpInfo *info = lookup_op (name);
      guint n_given;

      if (strchr (name, '.') != NULL || strchr (name, '[') != NULL)
        g_string_append_printf (path, "[\"%s\"]", name);
      else
        g_string_append_printf (path, ".%s", name);

      if (info == NULL)
        {
          g_autofree char *detail = g_strdup_printf ("unknown operator “%s”", name);

          set_path_error (error, field, path, detail);
          node_free (node);
          return NULL;
        }

      node->op = info->op;
      if (!compile_args (node, values, depth, path, field, error))
        {
          node_free (node);
          return NULL;
        }

      n_given = node->n_args;
      if ((gint) n_given < info->min_args || (info->max_args >= 0 && (gint) n_given > info->max_args))
        {
          g_autofree char *detail = NULL;

          if (info->min_args == info->max_args)
            detail = g_strdup_printf ("“%s” takes %d argument%s, not %u", name, info->min_args,
                                      info->min_args == 1 ? "" : "s", n_given);
          else if (info->max_args < 0)
            detail = g_strdup_printf ("“%s” takes at least %d argument%s, not %u", name,
                                      info->min_args, info->min_args == 1 ? "" : "s", n_given);
          else
            detail = g_strdup_printf ("“%s” takes %d to %d arguments, not %u", name,
                                      info->min_args, info->max_args, n_given);
          set_path_error (error, field, path, detail);
          node_free (node);
          return NULL;
        }

      /* A constant path is split once, here, not on every evaluation. */
      if (node->op == OP_VAR)
        {
          Node *arg = node->n_args > 0 ? node->args[0] : NULL;

          if (arg == NULL ||
              (arg->op == OP_LITERAL && (arg->literal.type == V_NULL ||
                                         (arg->literal.type == V_STRING && arg->literal.s[0] == '\0'))))
            node->whole = TRUE;
          else if (arg->op == OP_LITERAL && (arg->literal.type == V_STRING || arg->literal.type == V_NUMBER))
            {
              g_autofree char *text = js_string (&arg->literal);

              node->path = g_strsplit (text, ".", -1);
            }
        }

      g_string_truncate (path, path_len);
      return node;
    }

  node->op = OP_LITERAL;
  value_from_node (&node->literal, json);
  return node;
}

/* json_node_copy() shares arrays and objects, and a text round trip is not exact (json-glib
 * 1.6 writes 1e21 as "1e+21.0"), hence this. */
static JsonNode *
deep_copy (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *src = json_node_get_object (node);
      JsonObject *dst = json_object_new ();
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init (&iter, src);
      while (json_object_iter_next (&iter, &name, &member))
        json_object_set_member (dst, name, deep_copy (member));
      node = json_node_init_object (json_node_alloc (), dst);
      json_object_unref (dst);
      return node;
    }

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *src = json_node_get_array (node);
      JsonArray *dst = json_array_sized_new (json_array_get_length (src));

      for (guint i = 0; i < json_array_get_length (src); i++)
        json_array_add_element (dst, deep_copy (json_array_get_element (src, i)));
      node = json_node_init_array (json_node_alloc (), dst);
      json_array_unref (dst);
      return node;
    }

  return json_node_copy (node);
}

/**
 * sy_jsonlogic_compile:
 * @rule: the rule, any JSON value
 * @field: (nullable): the rule's own field name, to prefix error paths with
 * @error: return location for a SY_ERROR_INVALID_FIELD error
 *
 * Returns: (transfer full) (nullable): the compiled rule
 */
SyJsonLogic *
sy_jsonlogic_compile (JsonNode    *rule,
                      const char  *field,
                      GError     **error)
{
  g_autoptr(GString) path = g_string_new ("$");
  SyJsonLogic *self;
  Node *root;

  g_return_val_if_fail (rule != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_new0 (SyJsonLogic, 1);
  g_atomic_ref_count_init (&self->ref_count);
  /* Literals borrow strings from the rule: keep a private deep copy that nobody can change. */
  self->rule = deep_copy (rule);
  json_node_seal (self->rule);

  root = compile_node (self->rule, 0, path, field, error);
  if (root == NULL)
    {
      sy_jsonlogic_unref (self);
      return NULL;
    }

  self->root = root;
  return self;
}

SyJsonLogic *
sy_jsonlogic_ref (SyJsonLogic *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
sy_jsonlogic_unref (SyJsonLogic *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  node_free (self->root);
  json_node_unref (self->rule);
  g_free (self);
}

/* Evaluation */

static gboolean eval (Ctx         *ctx,
                      const Node  *node,
                      JsonNode    *scope,
                      Value       *out);

static gboolean
fail (Ctx        *ctx,
      const char *format,
      ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (Ctx        *ctx,
      const char *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (ctx->error, SY_ERROR, SY_ERROR_INVALID, message);
  return FALSE;
}

/* Looks @parts up in @scope; NULL when absent (JavaScript's undefined) or when a null is in
 * the way. */
static JsonNode *
lookup_path (JsonNode    *scope,
             char       **parts)
{
  JsonNode *current = scope;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *part = parts[i];

      if (current == NULL || JSON_NODE_HOLDS_NULL (current))
        return NULL;

      if (JSON_NODE_HOLDS_OBJECT (current))
        {
          current = json_object_get_member (json_node_get_object (current), part);
        }
      else if (JSON_NODE_HOLDS_ARRAY (current))
        {
          JsonArray *array = json_node_get_array (current);
          guint64 index;

          /* Only canonical indices: JavaScript's arr["01"] is undefined. */
          if ((part[0] == '0' && part[1] != '\0') ||
              !g_ascii_string_to_unsigned (part, 10, 0, G_MAXUINT32, &index, NULL) ||
              index >= json_array_get_length (array))
            return NULL;
          current = json_array_get_element (array, (guint) index);
        }
      else
        {
          return NULL;
        }

      if (current == NULL)
        return NULL;
    }

  return current;
}

static gboolean
eval_var (Ctx        *ctx,
          const Node *node,
          JsonNode   *scope,
          Value      *out)
{
  g_auto(GStrv) dynamic = NULL;
  JsonNode *found;

  if (node->whole)
    {
      value_from_node (out, scope);
      return TRUE;
    }

  if (node->path == NULL)
    {
      Value key = { 0 };
      g_autofree char *text = NULL;

      if (!eval (ctx, node->args[0], scope, &key))
        return FALSE;
      if (key.type == V_NULL || (key.type == V_STRING && key.s[0] == '\0'))
        {
          value_clear (&key);
          value_from_node (out, scope);
          return TRUE;
        }
      text = js_string (&key);
      value_clear (&key);
      dynamic = g_strsplit (text, ".", -1);
    }

  found = lookup_path (scope, node->path != NULL ? node->path : dynamic);
  if (found != NULL && !JSON_NODE_HOLDS_NULL (found))
    {
      value_from_node (out, found);
      return TRUE;
    }
  /* Absent, or null: the default when there is one (the reference returns a stored null as
   * is, which is also null). */
  if (found == NULL && node->n_args > 1)
    return eval (ctx, node->args[1], scope, out);

  memset (out, 0, sizeof *out);
  return TRUE;
}

/* Evaluates every argument of @node into @values (n_args long). */
static gboolean
eval_args (Ctx        *ctx,
           const Node *node,
           JsonNode   *scope,
           Value      *values)
{
  for (guint i = 0; i < node->n_args; i++)
    if (!eval (ctx, node->args[i], scope, &values[i]))
      {
        for (guint j = 0; j < i; j++)
          value_clear (&values[j]);
        return FALSE;
      }

  return TRUE;
}

static void
clear_values (Value *values,
              guint  n)
{
  for (guint i = 0; i < n; i++)
    value_clear (&values[i]);
}

static gboolean
check_array_size (Ctx  *ctx,
                  guint size)
{
  if (size > SY_JSONLOGIC_MAX_ARRAY)
    return fail (ctx, "an array built by the rule would exceed %d items", SY_JSONLOGIC_MAX_ARRAY);

  return TRUE;
}

static gboolean
eval_missing_keys (Ctx        *ctx,
                   JsonNode   *scope,
                   Value      *keys,
                   guint       n_keys,
                   JsonArray **out_missing,
                   guint      *out_n_keys)
{
  g_autoptr(JsonArray) missing = json_array_new ();
  JsonArray *key_array = NULL;
  guint n;

  /* {"missing": ["a", "b"]} or one argument that is itself an array (from merge or if). */
  if (n_keys > 0 && keys[0].type == V_ARRAY)
    key_array = keys[0].array;
  n = key_array != NULL ? json_array_get_length (key_array) : n_keys;

  for (guint i = 0; i < n; i++)
    {
      Value key = { 0 };
      g_autofree char *text = NULL;
      g_auto(GStrv) parts = NULL;
      JsonNode *found;

      if (key_array != NULL)
        value_from_node (&key, json_array_get_element (key_array, i));
      else
        value_copy (&key, &keys[i]);

      text = js_string (&key);
      parts = g_strsplit (text, ".", -1);
      found = key.type == V_NULL || text[0] == '\0' ? scope : lookup_path (scope, parts);

      if (found == NULL || JSON_NODE_HOLDS_NULL (found) ||
          (JSON_NODE_HOLDS_VALUE (found) && json_node_get_value_type (found) == G_TYPE_STRING &&
           json_node_get_string (found)[0] == '\0'))
        json_array_add_element (missing, value_to_node (&key));

      value_clear (&key);
    }

  if (!check_array_size (ctx, json_array_get_length (missing)))
    return FALSE;

  *out_missing = g_steal_pointer (&missing);
  *out_n_keys = n;
  return TRUE;
}

/* map, filter, all, none, some and reduce: @logic runs once per item with the item as data. */
static gboolean
eval_iteration (Ctx        *ctx,
                const Node *node,
                JsonNode   *scope,
                Value      *out)
{
  g_autoptr(JsonArray) result = NULL;
  Value items = { 0 };
  Value acc = { 0 };
  const Node *logic = node->args[1];
  guint n = 0;
  gboolean ok = TRUE;

  if (!eval (ctx, node->args[0], scope, &items))
    return FALSE;

  if (node->op == OP_REDUCE && node->n_args > 2 && !eval (ctx, node->args[2], scope, &acc))
    {
      value_clear (&items);
      return FALSE;
    }

  if (items.type == V_ARRAY)
    n = json_array_get_length (items.array);

  if (node->op == OP_MAP || node->op == OP_FILTER)
    result = json_array_new ();
  else if (node->op == OP_ALL)
    value_set_bool (out, n > 0);     /* all() of nothing is false in JSONLogic */
  else if (node->op == OP_NONE)
    value_set_bool (out, TRUE);
  else if (node->op == OP_SOME)
    value_set_bool (out, FALSE);

  for (guint i = 0; ok && i < n; i++)
    {
      JsonNode *item = json_array_get_element (items.array, i);
      g_autoptr(JsonNode) reduce_scope = NULL;
      Value v = { 0 };

      if (node->op == OP_REDUCE)
        {
          JsonObject *obj = json_object_new ();

          json_object_set_member (obj, "current", json_node_copy (item));
          json_object_set_member (obj, "accumulator", value_to_node (&acc));
          reduce_scope = json_node_init_object (json_node_alloc (), obj);
          json_object_unref (obj);
        }

      if (!eval (ctx, logic, reduce_scope != NULL ? reduce_scope : item, &v))
        {
          ok = FALSE;
          break;
        }

      if (node->op == OP_MAP)
        {
          json_array_add_element (result, value_to_node (&v));
          ok = check_array_size (ctx, json_array_get_length (result));
        }
      else if (node->op == OP_FILTER)
        {
          if (value_truthy (&v))
            {
              json_array_add_element (result, json_node_copy (item));
              ok = check_array_size (ctx, json_array_get_length (result));
            }
        }
      else if (node->op == OP_ALL)
        {
          if (!value_truthy (&v))
            {
              value_set_bool (out, FALSE);
              n = 0;
            }
        }
      else if (node->op == OP_NONE || node->op == OP_SOME)
        {
          if (value_truthy (&v))
            {
              value_set_bool (out, node->op == OP_SOME);
              n = 0;
            }
        }
      else
        {
          /* reduce */
          value_clear (&acc);
          value_copy (&acc, &v);
        }

      value_clear (&v);
    }

  value_clear (&items);

  if (!ok)
    {
      value_clear (&acc);
      return FALSE;
    }

  if (result != NULL)
    value_take_array (out, g_steal_pointer (&result));
  else if (node->op == OP_REDUCE)
    *out = acc;

  return TRUE;
}

static gboolean
eval_substr (Ctx   *ctx,
             Value *args,
             guint  n_args,
             Value *out)
{
  g_autofree char *source = js_string (&args[0]);
  glong len = g_utf8_strlen (source, -1);
  double start_n = js_number (&args[1]);
  glong start;
  glong count;
  const char *from;
  const char *to;

  if (isnan (start_n))
    start_n = 0;
  start = (glong) CLAMP (start_n, (double) -len, (double) len);
  if (start < 0)
    start = MAX (len + start, 0);

  count = len - start;
  if (n_args > 2)
    {
      double length_n = js_number (&args[2]);

      if (isnan (length_n))
        length_n = 0;
      /* A negative length counts from the end, as json-logic-js does. */
      if (length_n < 0)
        count = MAX (count + (glong) MAX (length_n, (double) -len), 0);
      else
        count = MIN (count, (glong) MIN (length_n, (double) len));
    }

  from = g_utf8_offset_to_pointer (source, start);
  to = g_utf8_offset_to_pointer (from, count);
  value_take_string (out, g_strndup (from, to - from));
  return TRUE;
}

static gboolean
eval_op (Ctx        *ctx,
         const Node *node,
         JsonNode   *scope,
         Value      *out)
{
  Value stack_args[4];
  g_autofree Value *heap_args = NULL;
  Value *args;
  gboolean ok = TRUE;

  args = node->n_args <= G_N_ELEMENTS (stack_args) ? stack_args : (heap_args = g_new (Value, node->n_args));
  memset (args, 0, sizeof (Value) * node->n_args);

  if (!eval_args (ctx, node, scope, args))
    return FALSE;

  switch (node->op)
    {
    case OP_EQ:
      value_set_bool (out, loose_equals (&args[0], &args[1]));
      break;
    case OP_NE:
      value_set_bool (out, !loose_equals (&args[0], &args[1]));
      break;
    case OP_STRICT_EQ:
      value_set_bool (out, strict_equals (&args[0], &args[1]));
      break;
    case OP_STRICT_NE:
      value_set_bool (out, !strict_equals (&args[0], &args[1]));
      break;
    case OP_NOT:
      value_set_bool (out, !(node->n_args > 0 && value_truthy (&args[0])));
      break;
    case OP_NOTNOT:
      value_set_bool (out, node->n_args > 0 && value_truthy (&args[0]));
      break;
    case OP_GT:
      value_set_bool (out, js_compare (&args[0], &args[1]) == 1);
      break;
    case OP_GE:
      {
        int c = js_compare (&args[0], &args[1]);

        value_set_bool (out, c == 0 || c == 1);
      }
      break;
    case OP_LT:
    case OP_LE:
      {
        int c = js_compare (&args[0], &args[1]);
        gboolean r = node->op == OP_LT ? c == -1 : (c == -1 || c == 0);

        /* The three-argument form: between, exclusive (<) or inclusive (<=). */
        if (r && node->n_args == 3)
          {
            c = js_compare (&args[1], &args[2]);
            r = node->op == OP_LT ? c == -1 : (c == -1 || c == 0);
          }
        value_set_bool (out, r);
      }
      break;
    case OP_MAX:
    case OP_MIN:
      {
        double r = node->op == OP_MAX ? -INFINITY : INFINITY;

        for (guint i = 0; i < node->n_args; i++)
          {
            double x = js_number (&args[i]);

            if (isnan (x))
              {
                r = NAN;
                break;
              }
            r = node->op == OP_MAX ? MAX (r, x) : MIN (r, x);
          }
        value_set_number (out, r);
      }
      break;
    case OP_ADD:
      {
        double r = 0;

        for (guint i = 0; i < node->n_args; i++)
          r += js_parse_float (&args[i]);
        value_set_number (out, r);
      }
      break;
    case OP_MUL:
      /* reduce() without an initial value: one argument comes back untouched. */
      if (node->n_args == 1)
        {
          value_copy (out, &args[0]);
        }
      else
        {
          double r = js_parse_float (&args[0]);

          for (guint i = 1; i < node->n_args; i++)
            r *= js_parse_float (&args[i]);
          value_set_number (out, r);
        }
      break;
    case OP_SUB:
      if (node->n_args == 1)
        value_set_number (out, -js_number (&args[0]));
      else
        value_set_number (out, js_number (&args[0]) - js_number (&args[1]));
      break;
    case OP_DIV:
      value_set_number (out, js_number (&args[0]) / js_number (&args[1]));
      break;
    case OP_MOD:
      value_set_number (out, fmod (js_number (&args[0]), js_number (&args[1])));
      break;
    case OP_MERGE:
      {
        g_autoptr(JsonArray) merged = json_array_new ();

        for (guint i = 0; ok && i < node->n_args; i++)
          {
            if (args[i].type == V_ARRAY)
              {
                for (guint j = 0; j < json_array_get_length (args[i].array); j++)
                  json_array_add_element (merged, json_node_copy (json_array_get_element (args[i].array, j)));
              }
            else
              {
                json_array_add_element (merged, value_to_node (&args[i]));
              }
            ok = check_array_size (ctx, json_array_get_length (merged));
          }
        if (ok)
          value_take_array (out, g_steal_pointer (&merged));
      }
      break;
    case OP_IN:
      if (args[1].type == V_STRING)
        {
          g_autofree char *needle = js_string (&args[0]);

          value_set_bool (out, strstr (args[1].s, needle) != NULL);
        }
      else if (args[1].type == V_ARRAY)
        {
          gboolean found = FALSE;

          for (guint i = 0; !found && i < json_array_get_length (args[1].array); i++)
            {
              Value item;

              value_from_node (&item, json_array_get_element (args[1].array, i));
              found = strict_equals (&args[0], &item);
              value_clear (&item);
            }
          value_set_bool (out, found);
        }
      else
        {
          value_set_bool (out, FALSE);
        }
      break;
    case OP_CAT:
      {
        GString *text = g_string_new (NULL);

        for (guint i = 0; ok && i < node->n_args; i++)
          {
            append_js_string (text, &args[i]);
            if (text->len > SY_JSONLOGIC_MAX_STRING)
              ok = fail (ctx, "a string built by the rule would exceed %d bytes", SY_JSONLOGIC_MAX_STRING);
          }
        if (ok)
          value_take_string (out, g_string_free (text, FALSE));
        else
          g_string_free (text, TRUE);
      }
      break;
    case OP_SUBSTR:
      ok = eval_substr (ctx, args, node->n_args, out);
      break;
    case OP_LOG:
      {
        g_autoptr(JsonNode) logged = value_to_node (&args[0]);
        g_autofree char *text = json_to_string (logged, FALSE);

        g_debug ("jsonlogic log: %s", text);
        value_copy (out, &args[0]);
      }
      break;
    case OP_MISSING:
      {
        JsonArray *missing = NULL;
        guint n_keys;

        ok = eval_missing_keys (ctx, scope, args, node->n_args, &missing, &n_keys);
        if (ok)
          value_take_array (out, missing);
      }
      break;
    case OP_MISSING_SOME:
      {
        JsonArray *missing = NULL;
        guint n_keys;
        double need = js_number (&args[0]);

        ok = eval_missing_keys (ctx, scope, &args[1], 1, &missing, &n_keys);
        if (ok && args[1].type != V_ARRAY)
          n_keys = 1;
        if (ok && (double) (n_keys - json_array_get_length (missing)) >= need)
          {
            json_array_unref (missing);
            missing = json_array_new ();
          }
        if (ok)
          value_take_array (out, missing);
      }
      break;
    case OP_LITERAL:
    case OP_ARRAY:
    case OP_VAR:
    case OP_IF:
    case OP_OR:
    case OP_AND:
    case OP_MAP:
    case OP_FILTER:
    case OP_REDUCE:
    case OP_ALL:
    case OP_NONE:
    case OP_SOME:
    default:
      g_assert_not_reached ();
    }

  clear_values (args, node->n_args);
  return ok;
}

static gboolean
eval (Ctx        *ctx,
      const Node *node,
      JsonNode   *scope,
      Value      *out)
{
  memset (out, 0, sizeof *out);

  if (++ctx->steps > SY_JSONLOGIC_MAX_STEPS)
    return fail (ctx, "the rule took more than %d steps", SY_JSONLOGIC_MAX_STEPS);

  switch (node->op)
    {
    case OP_LITERAL:
      value_copy (out, &node->literal);
      return TRUE;

    case OP_VAR:
      return eval_var (ctx, node, scope, out);

    case OP_ARRAY:
      {
        g_autoptr(JsonArray) array = json_array_new ();

        for (guint i = 0; i < node->n_args; i++)
          {
            Value v;

            if (!eval (ctx, node->args[i], scope, &v))
              return FALSE;
            json_array_add_element (array, value_to_node (&v));
            value_clear (&v);
          }
        value_take_array (out, g_steal_pointer (&array));
        return TRUE;
      }

    case OP_IF:
      {
        guint i;

        /* if (a) b else if (c) d else e: only the branches taken are evaluated. */
        for (i = 0; i + 1 < node->n_args; i += 2)
          {
            Value cond;
            gboolean truth;

            if (!eval (ctx, node->args[i], scope, &cond))
              return FALSE;
            truth = value_truthy (&cond);
            value_clear (&cond);
            if (truth)
              return eval (ctx, node->args[i + 1], scope, out);
          }
        if (i + 1 == node->n_args)
          return eval (ctx, node->args[i], scope, out);
        return TRUE;
      }

    case OP_AND:
    case OP_OR:
      /* The first falsy (and) or truthy (or) value, or the last one. */
      for (guint i = 0; i < node->n_args; i++)
        {
          value_clear (out);
          if (!eval (ctx, node->args[i], scope, out))
            return FALSE;
          if (value_truthy (out) == (node->op == OP_OR))
            return TRUE;
        }
      return TRUE;

    case OP_MAP:
    case OP_FILTER:
    case OP_REDUCE:
    case OP_ALL:
    case OP_NONE:
    case OP_SOME:
      return eval_iteration (ctx, node, scope, out);

    case OP_MISSING:
    case OP_MISSING_SOME:
    case OP_EQ:
    case OP_STRICT_EQ:
    case OP_NE:
    case OP_STRICT_NE:
    case OP_NOT:
    case OP_NOTNOT:
    case OP_GT:
    case OP_GE:
    case OP_LT:
    case OP_LE:
    case OP_MAX:
    case OP_MIN:
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
    case OP_MERGE:
    case OP_IN:
    case OP_CAT:
    case OP_SUBSTR:
    case OP_LOG:
    default:
      return eval_op (ctx, node, scope, out);
    }
}

/**
 * sy_jsonlogic_evaluate:
 * @self: a compiled rule
 * @data: (nullable): the data `var` reads
 * @error: return location for a SY_ERROR_INVALID error (a bound was exceeded)
 *
 * Returns: (transfer full) (nullable): the rule's value
 */
JsonNode *
sy_jsonlogic_evaluate (SyJsonLogic  *self,
                       JsonNode     *data,
                       GError      **error)
{
  Ctx ctx = { 0, error };
  Value v;
  JsonNode *node;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!eval (&ctx, self->root, data, &v))
    return NULL;

  node = value_to_node (&v);
  value_clear (&v);
  return node;
}

gboolean
sy_jsonlogic_matches (SyJsonLogic  *self,
                      JsonNode     *data,
                      gboolean     *out_match,
                      GError      **error)
{
  Ctx ctx = { 0, error };
  Value v;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out_match != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!eval (&ctx, self->root, data, &v))
    return FALSE;

  *out_match = value_truthy (&v);
  value_clear (&v);
  return TRUE;
}

gboolean
sy_jsonlogic_truthy (JsonNode *value)
{
  Value v;
  gboolean truth;

  value_from_node (&v, value);
  truth = value_truthy (&v);
  value_clear (&v);
  return truth;
}
