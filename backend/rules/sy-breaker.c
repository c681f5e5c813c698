/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-rules"

#include "config.h"

#include "sy-breaker-private.h"

typedef struct
{
  SyBreakerState state;
  guint          failures;        /* consecutive */
  gint64         opened_ms;
  gboolean       probing;         /* half-open: the probe is out */
} Breaker;

struct _SyBreakers
{
  GMutex      mutex;
  GHashTable *breakers;           /* destination -> Breaker */
  guint       threshold;
  gint64      cooldown_ms;
};

SyBreakers *
_sy_breakers_new (guint  threshold,
                  gint64 cooldown_ms)
{
  SyBreakers *self = g_new0 (SyBreakers, 1);

  g_mutex_init (&self->mutex);
  self->breakers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->threshold = MAX (threshold, 1);
  self->cooldown_ms = MAX (cooldown_ms, 1);

  return self;
}

void
_sy_breakers_free (SyBreakers *self)
{
  if (self == NULL)
    return;

  g_hash_table_unref (self->breakers);
  g_mutex_clear (&self->mutex);
  g_free (self);
}

static Breaker *
lookup (SyBreakers *self,
        const char *destination)
{
  Breaker *b = g_hash_table_lookup (self->breakers, destination);

  if (b == NULL)
    {
      b = g_new0 (Breaker, 1);
      g_hash_table_insert (self->breakers, g_strdup (destination), b);
    }

  return b;
}

gboolean
_sy_breakers_allow (SyBreakers *self,
                    const char *destination,
                    gint64      now_ms,
                    gint64     *retry_at_ms)
{
  gboolean allow = TRUE;
  Breaker *b;

  g_return_val_if_fail (self != NULL, TRUE);

  g_mutex_lock (&self->mutex);
  b = lookup (self, destination);

  switch (b->state)
    {
    case SY_BREAKER_CLOSED:
      break;

    case SY_BREAKER_OPEN:
      if (now_ms >= b->opened_ms + self->cooldown_ms)
        {
          b->state = SY_BREAKER_HALF_OPEN;
          b->probing = TRUE;
          g_debug ("breaker %s: half-open, probing", destination);
        }
      else
        {
          allow = FALSE;
          *retry_at_ms = b->opened_ms + self->cooldown_ms;
        }
      break;

    case SY_BREAKER_HALF_OPEN:
      if (b->probing)
        {
          allow = FALSE;
          *retry_at_ms = now_ms + MIN (self->cooldown_ms, 1000);
        }
      else
        b->probing = TRUE;
      break;

    default:
      g_assert_not_reached ();
    }

  g_mutex_unlock (&self->mutex);
  return allow;
}

void
_sy_breakers_record (SyBreakers *self,
                     const char *destination,
                     gboolean    success,
                     gint64      now_ms)
{
  Breaker *b;

  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->mutex);
  b = lookup (self, destination);

  if (success)
    {
      b->state = SY_BREAKER_CLOSED;
      b->failures = 0;
      b->probing = FALSE;
    }
  else
    {
      b->failures++;
      if (b->state == SY_BREAKER_HALF_OPEN ||
          (b->state == SY_BREAKER_CLOSED && b->failures >= self->threshold))
        {
          b->state = SY_BREAKER_OPEN;
          b->opened_ms = now_ms;
          b->probing = FALSE;
          g_debug ("breaker %s: open after %u failures", destination, b->failures);
        }
    }

  g_mutex_unlock (&self->mutex);
}

SyBreakerState
_sy_breakers_get_state (SyBreakers *self,
                        const char *destination)
{
  SyBreakerState state = SY_BREAKER_CLOSED;
  Breaker *b;

  g_mutex_lock (&self->mutex);
  b = g_hash_table_lookup (self->breakers, destination);
  if (b != NULL)
    state = b->state;
  g_mutex_unlock (&self->mutex);

  return state;
}

const char *
_sy_breaker_state_to_string (SyBreakerState state)
{
  static const char * const names[] = { "closed", "open", "half_open" };

  return names[state];
}

JsonNode *
_sy_breakers_to_json (SyBreakers *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  GHashTableIter iter;
  gpointer key, value;

  json_builder_begin_array (builder);

  g_mutex_lock (&self->mutex);
  g_hash_table_iter_init (&iter, self->breakers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Breaker *b = value;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "destination");
      json_builder_add_string_value (builder, key);
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, _sy_breaker_state_to_string (b->state));
      json_builder_set_member_name (builder, "consecutive_failures");
      json_builder_add_int_value (builder, b->failures);
      json_builder_set_member_name (builder, "opened_ms");
      if (b->state == SY_BREAKER_CLOSED)
        json_builder_add_null_value (builder);
      else
        json_builder_add_int_value (builder, b->opened_ms);
      json_builder_set_member_name (builder, "probe_at_ms");
      if (b->state == SY_BREAKER_OPEN)
        json_builder_add_int_value (builder, b->opened_ms + self->cooldown_ms);
      else
        json_builder_add_null_value (builder);
      json_builder_end_object (builder);
    }
  g_mutex_unlock (&self->mutex);

  json_builder_end_array (builder);
  return json_builder_get_root (builder);
}
