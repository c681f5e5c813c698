/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-events"

#include "config.h"

#include "sy-event-bus-private.h"

typedef struct
{
  guint           id;
  char           *type;
  SyEventFunc     func;
  gpointer        user_data;
  GDestroyNotify  destroy;
} Subscriber;

struct _SyEventBus
{
  GObject  parent_instance;

  GArray  *subscribers;
  guint    last_id;
  guint64  emitted;
};

G_DEFINE_FINAL_TYPE (SyEventBus, sy_event_bus, G_TYPE_OBJECT)

static void
clear_subscriber (gpointer data)
{
  Subscriber *sub = data;

  if (sub->destroy != NULL)
    sub->destroy (sub->user_data);
  g_free (sub->type);
}

static void
sy_event_bus_finalize (GObject *object)
{
  SyEventBus *self = (SyEventBus *) object;

  g_clear_pointer (&self->subscribers, g_array_unref);

  G_OBJECT_CLASS (sy_event_bus_parent_class)->finalize (object);
}

static void
sy_event_bus_class_init (SyEventBusClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sy_event_bus_finalize;
}

static void
sy_event_bus_init (SyEventBus *self)
{
  self->subscribers = g_array_new (FALSE, TRUE, sizeof (Subscriber));
  g_array_set_clear_func (self->subscribers, clear_subscriber);
}

SyEventBus *
_sy_event_bus_new (void)
{
  return g_object_new (SY_TYPE_EVENT_BUS, NULL);
}

guint
_sy_event_bus_subscribe (SyEventBus     *self,
                         const char     *type,
                         SyEventFunc     func,
                         gpointer        user_data,
                         GDestroyNotify  destroy)
{
  Subscriber sub = { 0 };

  g_return_val_if_fail (SY_IS_EVENT_BUS (self), 0);
  g_return_val_if_fail (func != NULL, 0);

  sub.id = ++self->last_id;
  sub.type = g_strdup (type);
  sub.func = func;
  sub.user_data = user_data;
  sub.destroy = destroy;
  g_array_append_val (self->subscribers, sub);

  return sub.id;
}

void
_sy_event_bus_unsubscribe (SyEventBus *self,
                           guint       id)
{
  g_return_if_fail (SY_IS_EVENT_BUS (self));

  for (guint i = 0; i < self->subscribers->len; i++)
    {
      if (g_array_index (self->subscribers, Subscriber, i).id == id)
        {
          g_array_remove_index (self->subscribers, i);
          return;
        }
    }
}

gboolean
_sy_event_bus_has_subscribers (SyEventBus *self,
                               const char *type)
{
  g_return_val_if_fail (SY_IS_EVENT_BUS (self), FALSE);

  for (guint i = 0; i < self->subscribers->len; i++)
    {
      const Subscriber *sub = &g_array_index (self->subscribers, Subscriber, i);

      if (sub->type == NULL || g_strcmp0 (sub->type, type) == 0)
        return TRUE;
    }

  return FALSE;
}

/**
 * _sy_event_bus_emit:
 * @data: (transfer none): the event's payload
 *
 * Calls every matching subscriber in subscription order. Backend thread only.
 */
void
_sy_event_bus_emit (SyEventBus *self,
                    const char *type,
                    gint64      ts_ms,
                    JsonNode   *data)
{
  g_return_if_fail (SY_IS_EVENT_BUS (self));
  g_return_if_fail (type != NULL);

  self->emitted++;

  /* Index loop: a subscriber may subscribe others while we run. */
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber sub = g_array_index (self->subscribers, Subscriber, i);

      if (sub.type == NULL || g_str_equal (sub.type, type))
        sub.func (type, ts_ms, data, sub.user_data);
    }
}

guint64
_sy_event_bus_get_emitted (SyEventBus *self)
{
  g_return_val_if_fail (SY_IS_EVENT_BUS (self), 0);

  return self->emitted;
}
