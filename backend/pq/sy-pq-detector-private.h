/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <json-glib/json-glib.h>

#include "sy-event-bus-private.h"
#include "sy-pq-config-private.h"
#include "sy-store-private.h"

G_BEGIN_DECLS

#define SY_EVENT_PQ "pq.event"

typedef enum
{
  SY_PQ_EVENT_DIP = 0,
  SY_PQ_EVENT_SWELL,
  SY_PQ_EVENT_INTERRUPTION,
  SY_PQ_EVENT_THD,
  SY_PQ_EVENT_IMBALANCE,
  SY_PQ_N_EVENT_TYPES
} SyPqEventType;

typedef enum
{
  SY_PQ_SEVERITY_INFO = 1,
  SY_PQ_SEVERITY_WARNING = 2,
  SY_PQ_SEVERITY_CRITICAL = 3,
} SyPqSeverity;

/* What the detector needs from one reading. */
typedef struct
{
  gint64  ts_ms;
  guint   phases;          /* bit i set when v[i] (phase a, b, c) was measured */
  double  v[3];            /* V, RMS */
  gboolean has_thd;
  double  thd_pct;         /* THD of the voltage, % */
  gboolean has_angles;     /* angle_a|b|c in the reading's extras (degrees) */
  double  angle_deg[3];
} SyPqSample;

/* One disturbance. Plain data: the strings are static or owned (ack_by, ack_note) by
 * whoever read the event from the database. */
typedef struct
{
  gint64         id;              /* 0 until the open transition was reported */
  gint64         meter_id;
  gint64         site_id;
  SyPqEventType  type;
  gboolean       closed;
  gboolean       reported;        /* the open transition went out (min duration reached) */
  SyPqSeverity   severity;
  gint64         start_ms;
  gint64         end_ms;          /* closed only */
  gint64         last_ms;         /* last sample inside the event */
  double         nominal;         /* V */
  double         threshold;       /* V (voltage events) or % */
  double         value;           /* residual / peak V, worst THD / imbalance % */
  int            worst_phase;     /* 0..2 for a, b, c; -1 when not per phase */
  guint          phases;          /* bit i: phase i crossed the threshold */
  const char    *method;          /* imbalance: "nema" or "iec_vuf"; thd: "thd_v"; else NULL */
  char           dip_class[4];    /* EN 50160 cell ("2A", "S1B"), set on close; "" otherwise */
  gint64         ack_ms;          /* 0 = not acknowledged */
  char          *ack_by;
  char          *ack_note;
} SyPqEvent;

/* The per-meter state machine: one slot per event type, plus the last processed timestamp. */
typedef struct
{
  gint64    last_ts_ms;
  gboolean  active[SY_PQ_N_EVENT_TYPES];
  SyPqEvent events[SY_PQ_N_EVENT_TYPES];
} SyPqMeterState;

/* Called for every transition: @event->closed tells open from close. On an open transition the
 * callee may set @event->id (it stays with the event until it closes). */
typedef void (*SyPqTransitionFunc) (SyPqEvent *event,
                                    gpointer   user_data);

const char *_sy_pq_event_type_name     (SyPqEventType        type);
gboolean    _sy_pq_event_type_from_name (const char          *name,
                                         SyPqEventType       *out);
const char *_sy_pq_severity_name       (SyPqSeverity         severity);
gboolean    _sy_pq_severity_from_name  (const char           *name,
                                        SyPqSeverity         *out);

/* Pure functions, any thread. */
double      _sy_pq_imbalance_nema      (const double          v[3]);
double      _sy_pq_imbalance_vuf       (const double          v[3],
                                        const double          angle_deg[3]);
/* EN 50160 table cell of a dip (@swell FALSE) or swell; see data/sql/0002-pq.sql. */
void        _sy_pq_voltage_class       (gboolean              swell,
                                        double                value_pct,
                                        gint64                duration_ms,
                                        char                  out[4]);

void        _sy_pq_meter_state_init    (SyPqMeterState       *state);
/* Feeds one sample through every state machine of a meter. Returns FALSE (and changes nothing)
 * when @sample is not newer than the last one processed: out-of-order and duplicate readings
 * are ignored, since a late sample cannot be placed inside an event that may already be
 * closed and written. Pure: no I/O, any thread, the caller serialises calls per state. */
gboolean    _sy_pq_meter_process       (SyPqMeterState       *state,
                                        const SyPqConfig     *config,
                                        double                nominal,
                                        const SyPqSample     *sample,
                                        SyPqTransitionFunc    func,
                                        gpointer              user_data);

/* The event's API JSON. */
void        _sy_pq_event_append_json   (GString              *out,
                                        const SyPqEvent      *event);
void        _sy_pq_event_clear         (SyPqEvent            *event);

#define SY_TYPE_PQ_DETECTOR (sy_pq_detector_get_type ())
G_DECLARE_FINAL_TYPE (SyPqDetector, sy_pq_detector, SY, PQ_DETECTOR, GObject)

/* Backend thread only: subscribes to data.ingested on @bus, writes events through @store's
 * writer (completions on @context, the backend thread's) and emits pq.event and
 * protection.event after each commit. Creating it reads the highest event id once. */
SyPqDetector *_sy_pq_detector_new     (SyStore            *store,
                                       SyEventBus         *bus,
                                       GMainContext       *context);
/* What the data.ingested subscriber does with one reading; exposed for tests. */
void          _sy_pq_detector_process (SyPqDetector       *self,
                                       gint64              meter_id,
                                       const SyPqSample   *sample,
                                       const char         *breaker_state);

G_END_DECLS
