/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-test-pq-detector"

#include "config.h"

#include <complex.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "sy-error.h"
#include "sy-event-bus-private.h"
#include "sy-pq-config-private.h"
#include "sy-pq-detector-private.h"
#include "sy-pq-events-private.h"
#include "sy-protection-private.h"
#include "sy-store-private.h"
#include "sy-time.h"

/* The power-quality state machines fed synthetic traces whose right answer is known, then the
 * detector object on a real SQLite file and event bus. */

#define NOMINAL        230.0
#define T0_MS          G_GINT64_CONSTANT (1764288000000)  /* 2025-11-28T00:00:00Z */
#define WAIT_TIMEOUT_S 10

/* Every transition, copied. */
typedef struct
{
  GArray *transitions;   /* SyPqEvent */
  gint64  next_id;
} Collector;

static void
collect_cb (SyPqEvent *event,
            gpointer   user_data)
{
  Collector *c = user_data;

  if (event->id == 0)
    event->id = ++c->next_id;
  g_array_append_val (c->transitions, *event);
}

typedef struct
{
  SyPqMeterState state;
  SyPqConfig     config;
  Collector      collector;
} Machine;

static void
machine_init (Machine *m)
{
  _sy_pq_meter_state_init (&m->state);
  _sy_pq_config_init_defaults (&m->config);
  m->collector.transitions = g_array_new (FALSE, TRUE, sizeof (SyPqEvent));
  m->collector.next_id = 0;
}

static void
machine_clear (Machine *m)
{
  g_array_unref (m->collector.transitions);
}

static gboolean
feed_full (Machine      *m,
           gint64        t_ms,
           double        a,
           double        b,
           double        c,
           double        thd,
           const double *angles)
{
  SyPqSample s = { 0 };

  s.ts_ms = T0_MS + t_ms;
  s.v[0] = a;
  s.v[1] = b;
  s.v[2] = c;
  s.phases = (isnan (a) ? 0 : 1) | (isnan (b) ? 0 : 2) | (isnan (c) ? 0 : 4);
  s.has_thd = !isnan (thd);
  s.thd_pct = thd;
  if (angles != NULL)
    {
      s.has_angles = TRUE;
      memcpy (s.angle_deg, angles, sizeof s.angle_deg);
    }

  return _sy_pq_meter_process (&m->state, &m->config, NOMINAL, &s, collect_cb, &m->collector);
}

static gboolean
feed (Machine *m,
      gint64   t_ms,
      double   a,
      double   b,
      double   c)
{
  return feed_full (m, t_ms, a, b, c, NAN, NULL);
}

static const SyPqEvent *
transition (Machine *m,
            guint    i)
{
  g_assert_cmpuint (i, <, m->collector.transitions->len);
  return &g_array_index (m->collector.transitions, SyPqEvent, i);
}

static guint
n_transitions (Machine *m)
{
  return m->collector.transitions->len;
}

/* Counts transitions of one type. */
static guint
count_type (Machine       *m,
            SyPqEventType  type,
            gboolean       closed)
{
  guint n = 0;

  for (guint i = 0; i < n_transitions (m); i++)
    {
      const SyPqEvent *e = transition (m, i);

      if (e->type == type && e->closed == closed)
        n++;
    }

  return n;
}

static void
test_single_phase_sag (void)
{
  Machine m;
  const SyPqEvent *open, *closed;

  machine_init (&m);

  feed (&m, 0, 230, 230, 230);
  g_assert_cmpuint (n_transitions (&m), ==, 0);

  /* Phase B sags to 78 % (179.4 V) for 340 ms. */
  feed (&m, 100, 230, 190, 230);
  g_assert_cmpuint (n_transitions (&m), ==, 1);
  open = transition (&m, 0);
  g_assert_cmpint (open->type, ==, SY_PQ_EVENT_DIP);
  g_assert_false (open->closed);
  g_assert_cmpint (open->start_ms, ==, T0_MS + 100);
  g_assert_cmpint (open->worst_phase, ==, 1);
  g_assert_cmpfloat_with_epsilon (open->threshold, 207.0, 1e-9);

  feed (&m, 200, 230, 179.4, 230);
  /* Above the 207 V threshold but below 207 + 2 % of 230 = 211.6 V: still the same dip. */
  feed (&m, 300, 230, 210, 230);
  g_assert_cmpuint (n_transitions (&m), ==, 1);
  feed (&m, 440, 230, 230, 230);
  g_assert_cmpuint (n_transitions (&m), ==, 2);

  /* The array may have moved. */
  open = transition (&m, 0);
  closed = transition (&m, 1);
  g_assert_true (closed->closed);
  g_assert_cmpint (closed->id, ==, open->id);
  g_assert_cmpint (closed->start_ms, ==, T0_MS + 100);
  g_assert_cmpint (closed->end_ms, ==, T0_MS + 440);
  g_assert_cmpfloat_with_epsilon (closed->value, 179.4, 1e-9);
  g_assert_cmpint (closed->worst_phase, ==, 1);
  g_assert_cmpuint (closed->phases, ==, 2);
  /* 78 % is in the 80 > u >= 70 row, 340 ms in the 200 < t <= 500 column. */
  g_assert_cmpstr (closed->dip_class, ==, "2B");
  g_assert_cmpint (closed->severity, ==, SY_PQ_SEVERITY_WARNING);

  /* No other machine fired. */
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_SWELL, FALSE), ==, 0);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_INTERRUPTION, FALSE), ==, 0);

  machine_clear (&m);
}

static void
test_polyphase_sag (void)
{
  Machine m;
  const SyPqEvent *closed;

  machine_init (&m);

  feed (&m, 0, 230, 230, 230);
  feed (&m, 20, 200, 230, 230);        /* A dips first */
  feed (&m, 40, 195, 175, 230);        /* B deeper: the worst phase */
  feed (&m, 60, 198, 230, 205);        /* B recovers, C dips, A still low */
  feed (&m, 80, 215, 230, 200);        /* A recovers, C still low */
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_DIP, FALSE), ==, 1);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_DIP, TRUE), ==, 0);
  feed (&m, 120, 229, 231, 230);       /* all back */

  g_assert_cmpuint (n_transitions (&m), ==, 2);
  closed = transition (&m, 1);
  g_assert_true (closed->closed);
  g_assert_cmpint (closed->start_ms, ==, T0_MS + 20);
  g_assert_cmpint (closed->end_ms, ==, T0_MS + 120);
  g_assert_cmpfloat_with_epsilon (closed->value, 175, 1e-9);
  g_assert_cmpint (closed->worst_phase, ==, 1);
  g_assert_cmpuint (closed->phases, ==, 7);
  /* 76 % for 100 ms. */
  g_assert_cmpstr (closed->dip_class, ==, "2A");

  machine_clear (&m);
}

static void
test_hysteresis_chatter (void)
{
  static const double trace[] = { 205, 208, 206, 209, 207.5, 206.9, 210, 211 };
  Machine m;
  Machine bare;

  machine_init (&m);
  machine_init (&bare);
  bare.config.hysteresis_pct = 0;

  feed (&m, 0, 230, 230, 230);
  feed (&bare, 0, 230, 230, 230);
  for (guint i = 0; i < G_N_ELEMENTS (trace); i++)
    {
      feed (&m, 10 * (i + 1), 230, 230, trace[i]);
      feed (&bare, 10 * (i + 1), 230, 230, trace[i]);
    }
  feed (&m, 100, 230, 230, 212);
  feed (&bare, 100, 230, 230, 212);

  /* With the 2 % hysteresis the chatter around 207 V is one dip… */
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_DIP, FALSE), ==, 1);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_DIP, TRUE), ==, 1);
  g_assert_cmpint (transition (&m, 1)->start_ms, ==, T0_MS + 10);
  g_assert_cmpint (transition (&m, 1)->end_ms, ==, T0_MS + 100);
  g_assert_cmpfloat_with_epsilon (transition (&m, 1)->value, 205, 1e-9);

  /* …without it, the same trace splits (which is what the hysteresis is for). */
  g_assert_cmpuint (count_type (&bare, SY_PQ_EVENT_DIP, TRUE), ==, 3);

  machine_clear (&m);
  machine_clear (&bare);
}

/* The last transition of @type, or NULL. */
static const SyPqEvent *
last_of_type (Machine       *m,
              SyPqEventType  type)
{
  const SyPqEvent *found = NULL;

  for (guint i = 0; i < n_transitions (m); i++)
    {
      if (transition (m, i)->type == type)
        found = transition (m, i);
    }

  return found;
}

static void
test_swell (void)
{
  Machine m;
  const SyPqEvent *closed;

  machine_init (&m);

  feed (&m, 0, 230, 230, 230);
  feed (&m, 100, 230, 230, 260);       /* 113 % */
  feed (&m, 200, 232, 230, 280);       /* 121.7 %: the peak */
  feed (&m, 300, 230, 230, 250);       /* below 253 but above 253 − 4.6 */
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_SWELL, FALSE), ==, 1);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_SWELL, TRUE), ==, 0);
  feed (&m, 900, 230, 230, 240);

  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_SWELL, TRUE), ==, 1);
  closed = last_of_type (&m, SY_PQ_EVENT_SWELL);
  g_assert_true (closed->closed);
  g_assert_cmpfloat_with_epsilon (closed->value, 280, 1e-9);
  g_assert_cmpint (closed->worst_phase, ==, 2);
  g_assert_cmpint (closed->end_ms - closed->start_ms, ==, 800);
  g_assert_cmpstr (closed->dip_class, ==, "S1B");
  g_assert_cmpint (closed->severity, ==, SY_PQ_SEVERITY_CRITICAL);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_DIP, FALSE), ==, 0);
  /* One phase up by a fifth is also an imbalance (NEMA), a separate event. */
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_IMBALANCE, FALSE), ==, 1);

  machine_clear (&m);
}

static void
test_interruption (void)
{
  Machine m;
  const SyPqEvent *e = NULL;

  machine_init (&m);

  /* One phase at zero is a dip, not an interruption. */
  feed (&m, 0, 230, 230, 230);
  feed (&m, 10, 0, 230, 230);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_INTERRUPTION, FALSE), ==, 0);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_DIP, FALSE), ==, 1);
  feed (&m, 20, 230, 230, 230);
  g_array_set_size (m.collector.transitions, 0);

  /* All three below 10 % (23 V). */
  feed (&m, 1000, 5, 3, 20);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_INTERRUPTION, FALSE), ==, 1);
  feed (&m, 1500, 2, 1, 4);
  /* One phase at 25 V: above 23 V but below 23 + 4.6 V, so it goes on. */
  feed (&m, 2000, 25, 1, 4);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_INTERRUPTION, TRUE), ==, 0);
  /* IEC 61000-4-30: it ends when any phase reaches the threshold plus hysteresis. */
  feed (&m, 2500, 100, 30, 4);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_INTERRUPTION, TRUE), ==, 1);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_DIP, TRUE), ==, 0);
  feed (&m, 3000, 230, 230, 230);
  g_assert_cmpuint (count_type (&m, SY_PQ_EVENT_DIP, TRUE), ==, 1);

  for (guint i = 0; i < n_transitions (&m); i++)
    {
      if (transition (&m, i)->type == SY_PQ_EVENT_INTERRUPTION && transition (&m, i)->closed)
        e = transition (&m, i);
    }
  g_assert_nonnull (e);
  g_assert_cmpint (e->start_ms, ==, T0_MS + 1000);
  g_assert_cmpint (e->end_ms, ==, T0_MS + 2500);
  g_assert_cmpfloat_with_epsilon (e->value, 1, 1e-9);
  g_assert_cmpstr (e->dip_class, ==, "SI");
  g_assert_cmpint (e->severity, ==, SY_PQ_SEVERITY_CRITICAL);

  /* The dip around it has its residual below 5 %: row 5. */
  e = last_of_type (&m, SY_PQ_EVENT_DIP);
  g_assert_true (e->closed);
  g_assert_cmpstr (e->dip_class, ==, "5D");

  machine_clear (&m);
}

static void
test_thd (void)
{
  Machine m;
  const SyPqEvent *closed;

  machine_init (&m);
  m.config.thd_pct_threshold = 5.0;

  feed_full (&m, 0, 230, 230, 230, 3.0, NULL);
  feed_full (&m, 10, 230, 230, 230, 4.99, NULL);
  feed_full (&m, 20, 230, 230, 230, 5.0, NULL);
  g_assert_cmpuint (n_transitions (&m), ==, 0);

  feed_full (&m, 30, 230, 230, 230, 5.5, NULL);
  feed_full (&m, 40, 230, 230, 230, 7.2, NULL);
  feed_full (&m, 50, 230, 230, 230, 4.95, NULL);   /* above 5 × 0.98 = 4.9 */
  /* A reading without THD neither ends nor extends it. */
  feed (&m, 55, 230, 230, 230);
  g_assert_cmpuint (n_transitions (&m), ==, 1);
  feed_full (&m, 60, 230, 230, 230, 4.8, NULL);

  g_assert_cmpuint (n_transitions (&m), ==, 2);
  closed = transition (&m, 1);
  g_assert_cmpint (closed->type, ==, SY_PQ_EVENT_THD);
  g_assert_true (closed->closed);
  g_assert_cmpfloat_with_epsilon (closed->value, 7.2, 1e-9);
  g_assert_cmpint (closed->start_ms, ==, T0_MS + 30);
  g_assert_cmpint (closed->end_ms, ==, T0_MS + 60);
  g_assert_cmpstr (closed->method, ==, "thd_v");
  g_assert_cmpint (closed->worst_phase, ==, -1);

  machine_clear (&m);
}

static void
test_imbalance_nema (void)
{
  Machine m;
  const SyPqEvent *closed;

  machine_init (&m);

  g_assert_cmpfloat_with_epsilon (_sy_pq_imbalance_nema ((double[]) { 236, 230, 224 }), 6.0 / 230 * 100, 1e-9);
  g_assert_cmpfloat_with_epsilon (_sy_pq_imbalance_nema ((double[]) { 230, 230, 230 }), 0, 1e-12);

  feed (&m, 0, 232, 230, 228);         /* 0.87 %: under */
  g_assert_cmpuint (n_transitions (&m), ==, 0);
  feed (&m, 10, 236, 230, 224);        /* 2.61 % */
  feed (&m, 20, 240, 230, 220);        /* 4.35 %: the worst */
  feed (&m, 30, 234.55, 230, 225.45);  /* 1.98 %: under 2 but not under 2 × 0.98 */
  g_assert_cmpuint (n_transitions (&m), ==, 1);
  feed (&m, 40, 233, 230, 227);        /* 1.30 % */

  g_assert_cmpuint (n_transitions (&m), ==, 2);
  closed = transition (&m, 1);
  g_assert_cmpint (closed->type, ==, SY_PQ_EVENT_IMBALANCE);
  g_assert_cmpfloat_with_epsilon (closed->value, 10.0 / 230 * 100, 1e-9);
  g_assert_cmpstr (closed->method, ==, "nema");
  g_assert_cmpint (closed->start_ms, ==, T0_MS + 10);
  g_assert_cmpint (closed->end_ms, ==, T0_MS + 40);

  machine_clear (&m);
}

/* An independent VUF with C99 complex numbers. */
static double
reference_vuf (const double v[3],
               const double deg[3])
{
  double complex a = cexp (I * 2 * G_PI / 3);
  double complex p[3];
  double complex v1, v2;

  for (guint i = 0; i < 3; i++)
    p[i] = v[i] * cexp (I * deg[i] * G_PI / 180);

  v1 = (p[0] + a * p[1] + a * a * p[2]) / 3;
  v2 = (p[0] + a * a * p[1] + a * p[2]) / 3;

  return cabs (v2) / cabs (v1) * 100;
}

static void
test_imbalance_vuf (void)
{
  const double balanced[3] = { 0, -120, 120 };
  const double skewed[3] = { 0, -110, 120 };
  const double slight[3] = { 0, -119, 120 };
  const double v_equal[3] = { 230, 230, 230 };
  const double v_unequal[3] = { 230, 225, 200 };
  Machine m;
  const SyPqEvent *closed;

  g_assert_cmpfloat_with_epsilon (_sy_pq_imbalance_vuf (v_equal, balanced), 0, 1e-9);
  g_assert_cmpfloat_with_epsilon (_sy_pq_imbalance_vuf (v_unequal, balanced), reference_vuf (v_unequal, balanced), 1e-9);
  g_assert_cmpfloat_with_epsilon (_sy_pq_imbalance_vuf (v_equal, skewed), reference_vuf (v_equal, skewed), 1e-9);
  g_assert_cmpfloat (reference_vuf (v_equal, skewed), >, 5);

  machine_init (&m);

  /* Equal magnitudes: NEMA sees nothing, the angles show a 10° skew. */
  feed_full (&m, 0, 230, 230, 230, NAN, slight);
  g_assert_cmpuint (n_transitions (&m), ==, 0);
  feed_full (&m, 10, 230, 230, 230, NAN, skewed);
  g_assert_cmpuint (n_transitions (&m), ==, 1);
  g_assert_cmpstr (transition (&m, 0)->method, ==, "iec_vuf");
  feed_full (&m, 20, 230, 230, 230, NAN, balanced);

  g_assert_cmpuint (n_transitions (&m), ==, 2);
  closed = transition (&m, 1);
  g_assert_cmpint (closed->type, ==, SY_PQ_EVENT_IMBALANCE);
  g_assert_cmpstr (closed->method, ==, "iec_vuf");
  g_assert_cmpfloat_with_epsilon (closed->value, reference_vuf (v_equal, skewed), 1e-9);

  /* The same magnitudes without angles are balanced by NEMA: no event. */
  machine_clear (&m);
  machine_init (&m);
  feed (&m, 10, 230, 230, 230);
  g_assert_cmpuint (n_transitions (&m), ==, 0);

  machine_clear (&m);
}

static void
test_out_of_order (void)
{
  Machine m;
  const SyPqEvent *closed;

  machine_init (&m);

  g_assert_true (feed (&m, 100, 230, 230, 230));
  g_assert_true (feed (&m, 200, 230, 180, 230));
  g_assert_cmpuint (n_transitions (&m), ==, 1);

  /* Older than the last processed reading, and a duplicate: ignored, even though the first
   * would end the dip and the second would deepen it. */
  g_assert_false (feed (&m, 150, 230, 230, 230));
  g_assert_false (feed (&m, 200, 230, 100, 230));
  g_assert_cmpuint (n_transitions (&m), ==, 1);

  g_assert_true (feed (&m, 300, 230, 185, 230));
  g_assert_true (feed (&m, 400, 230, 230, 230));
  g_assert_cmpuint (n_transitions (&m), ==, 2);
  closed = transition (&m, 1);
  g_assert_cmpint (closed->end_ms, ==, T0_MS + 400);
  g_assert_cmpfloat_with_epsilon (closed->value, 180, 1e-9);

  machine_clear (&m);
}

static void
test_min_duration (void)
{
  Machine m;

  machine_init (&m);
  m.config.voltage_min_duration_ms = 200;

  /* 100 ms: dropped. */
  feed (&m, 0, 230, 230, 230);
  feed (&m, 100, 180, 230, 230);
  feed (&m, 200, 230, 230, 230);
  g_assert_cmpuint (n_transitions (&m), ==, 0);

  /* 300 ms: opens once it has lasted 200 ms, with its real start. */
  feed (&m, 1000, 180, 230, 230);
  feed (&m, 1100, 180, 230, 230);
  g_assert_cmpuint (n_transitions (&m), ==, 0);
  feed (&m, 1200, 180, 230, 230);
  g_assert_cmpuint (n_transitions (&m), ==, 1);
  g_assert_cmpint (transition (&m, 0)->start_ms, ==, T0_MS + 1000);
  feed (&m, 1300, 230, 230, 230);
  g_assert_cmpuint (n_transitions (&m), ==, 2);
  g_assert_cmpint (transition (&m, 1)->end_ms - transition (&m, 1)->start_ms, ==, 300);

  machine_clear (&m);
}

static void
test_classes (void)
{
  static const struct
  {
    gboolean    swell;
    double      pct;
    gint64      ms;
    const char *expected;
  } cases[] = {
    { FALSE, 89.9, 10, "1A" }, { FALSE, 80, 200, "1A" }, { FALSE, 79.99, 201, "2B" },
    { FALSE, 70, 500, "2B" }, { FALSE, 69.9, 501, "3C" }, { FALSE, 40, 1000, "3C" },
    { FALSE, 39.9, 1001, "4D" }, { FALSE, 5, 5000, "4D" }, { FALSE, 4.9, 5001, "5E" },
    { FALSE, 0, 120000, "5E" }, { FALSE, 85, 3, "1A" },
    { TRUE, 110.1, 500, "S2A" }, { TRUE, 120, 501, "S1B" }, { TRUE, 119.9, 5001, "S2C" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char out[4];

      _sy_pq_voltage_class (cases[i].swell, cases[i].pct, cases[i].ms, out);
      g_assert_cmpstr (out, ==, cases[i].expected);
    }
}

static void
test_config_validate (void)
{
  static const struct
  {
    gsize       offset;
    double      value;
    const char *field;
  } bad[] = {
    { G_STRUCT_OFFSET (SyPqConfig, sag_v_threshold), 1.0, "sag_v_threshold" },
    { G_STRUCT_OFFSET (SyPqConfig, sag_v_threshold), 0, "sag_v_threshold" },
    { G_STRUCT_OFFSET (SyPqConfig, swell_v_threshold), 1.0, "swell_v_threshold" },
    { G_STRUCT_OFFSET (SyPqConfig, swell_v_threshold), 0.95, "swell_v_threshold" },
    { G_STRUCT_OFFSET (SyPqConfig, interruption_v_threshold), 0.9, "interruption_v_threshold" },
    { G_STRUCT_OFFSET (SyPqConfig, hysteresis_pct), -1, "hysteresis_pct" },
    { G_STRUCT_OFFSET (SyPqConfig, hysteresis_pct), 10, "hysteresis_pct" },
    { G_STRUCT_OFFSET (SyPqConfig, thd_pct_threshold), -5, "thd_pct_threshold" },
    { G_STRUCT_OFFSET (SyPqConfig, thd_pct_threshold), 0, "thd_pct_threshold" },
    { G_STRUCT_OFFSET (SyPqConfig, imbalance_pct_threshold), -2, "imbalance_pct_threshold" },
    { G_STRUCT_OFFSET (SyPqConfig, voltage_min_duration_ms), -1, "voltage_min_duration_ms" },
  };
  SyPqConfig config;
  g_autoptr(GError) error = NULL;

  _sy_pq_config_init_defaults (&config);
  g_assert_true (_sy_pq_config_validate (&config, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (config.sag_v_threshold, ==, 0.9);
  g_assert_cmpfloat (config.swell_v_threshold, ==, 1.1);
  g_assert_cmpfloat (config.interruption_v_threshold, ==, 0.1);
  g_assert_cmpfloat (config.hysteresis_pct, ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *field = NULL;

      _sy_pq_config_init_defaults (&config);
      *(double *) ((guint8 *) &config + bad[i].offset) = bad[i].value;
      g_assert_false (_sy_pq_config_validate (&config, &error));
      g_assert_error (error, SY_ERROR, SY_ERROR_INVALID_FIELD);
      field = sy_error_dup_field (error);
      g_assert_cmpstr (field, ==, bad[i].field);
      g_clear_error (&error);
    }
}

static void
test_iso_week (void)
{
  gint64 ms = 0;
  g_autofree char *text = NULL;

  g_assert_true (_sy_pq_parse_iso_week ("2026-W01", &ms));
  text = sy_time_format_iso8601 (ms);
  g_assert_cmpstr (text, ==, "2025-12-29T00:00:00Z");
  g_clear_pointer (&text, g_free);

  g_assert_true (_sy_pq_parse_iso_week ("2026-W48", &ms));
  text = sy_time_format_iso8601 (ms);
  g_assert_cmpstr (text, ==, "2026-11-23T00:00:00Z");

  g_assert_true (_sy_pq_parse_iso_week ("2020-W53", &ms));
  g_assert_false (_sy_pq_parse_iso_week ("2021-W53", &ms));
  g_assert_false (_sy_pq_parse_iso_week ("2026-W00", &ms));
  g_assert_false (_sy_pq_parse_iso_week ("2026-48", &ms));
  g_assert_false (_sy_pq_parse_iso_week ("2026-W4x", &ms));
}

/* The detector object on a real database and event bus. */

typedef struct
{
  char         *dir;
  SyStore      *store;
  SyEventBus   *bus;
  GMainContext *context;
  GPtrArray    *pq_events;          /* char * JSON */
  GPtrArray    *protection_events;  /* char * JSON */
  gint64        meter_id;
} DetectorFixture;

static void
record_cb (const char *type,
           gint64      ts_ms,
           JsonNode   *data,
           gpointer    user_data)
{
  DetectorFixture *fx = user_data;

  g_ptr_array_add (g_str_equal (type, SY_EVENT_PQ) ? fx->pq_events : fx->protection_events,
                   json_to_string (data, FALSE));
}

static gboolean
insert_meter (SyWriteBatch  *batch,
              gpointer       data,
              GError       **error)
{
  DetectorFixture *fx = data;

  if (!_sy_sql_exec (_sy_write_batch_get_db (batch),
                     "INSERT INTO sites (name, created_ms) VALUES ('PQ', 0);"
                     "INSERT INTO meters (site_id, name, kind, nominal_voltage, device_key_hash, created_ms) "
                     "VALUES (last_insert_rowid (), 'M', 'grid', 230, 'hash', 0);", error))
    return FALSE;

  fx->meter_id = sqlite3_last_insert_rowid (_sy_write_batch_get_db (batch));
  return TRUE;
}

static void
detector_setup (DetectorFixture *fx,
                gconstpointer    data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  fx->dir = g_dir_make_tmp ("sy-pq-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (fx->dir, "switchyard.db", NULL);
  fx->store = _sy_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (_sy_store_write_sync (fx->store, insert_meter, fx, &error));
  g_assert_no_error (error);

  fx->context = g_main_context_new ();
  g_main_context_push_thread_default (fx->context);
  fx->bus = _sy_event_bus_new ();
  fx->pq_events = g_ptr_array_new_with_free_func (g_free);
  fx->protection_events = g_ptr_array_new_with_free_func (g_free);
  _sy_event_bus_subscribe (fx->bus, SY_EVENT_PQ, record_cb, fx, NULL);
  _sy_event_bus_subscribe (fx->bus, SY_EVENT_PROTECTION, record_cb, fx, NULL);
}

static void
detector_teardown (DetectorFixture *fx,
                   gconstpointer    data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  _sy_store_close (fx->store);
  /* Completions of the last writes. */
  while (g_main_context_iteration (fx->context, FALSE))
    ;
  g_assert_finalize_object (fx->bus);
  g_assert_finalize_object (fx->store);
  g_main_context_pop_thread_default (fx->context);
  g_main_context_unref (fx->context);
  g_ptr_array_unref (fx->pq_events);
  g_ptr_array_unref (fx->protection_events);

  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (fx->dir, name, NULL);
      g_unlink (child);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
}

/* Emits data.ingested as the ingestion path does. */
static void
ingest (DetectorFixture *fx,
        gint64           t_ms,
        const char      *fields)
{
  g_autofree char *ts = sy_time_format_iso8601 (T0_MS + t_ms);
  g_autofree char *text = g_strdup_printf ("{\"meter_id\":%" G_GINT64_FORMAT ",\"timestamp\":\"%s\",%s}",
                                           fx->meter_id, ts, fields);
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  g_assert_nonnull (node);
  _sy_event_bus_emit (fx->bus, SY_EVENT_DATA_INGESTED, T0_MS + t_ms, node);
}

static void
wait_for (DetectorFixture *fx,
          GPtrArray       *array,
          guint            n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;

  while (array->len < n)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for %u events (have %u)", n, array->len);
      g_main_context_iteration (fx->context, FALSE);
      g_usleep (1000);
    }
}

static JsonObject *
parse_object (const char *json)
{
  g_autoptr(JsonNode) node = json_from_string (json, NULL);

  g_assert_nonnull (node);
  return json_object_ref (json_node_get_object (node));
}

static void
test_detector_store (DetectorFixture *fx,
                     gconstpointer    data)
{
  g_autoptr(SyPqDetector) detector = _sy_pq_detector_new (fx->store, fx->bus, fx->context);
  g_autoptr(JsonObject) open = NULL;
  g_autoptr(JsonObject) closed = NULL;
  g_autoptr(JsonObject) protection = NULL;
  g_autoptr(GString) items = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  SyPqFilter filter;
  gint64 total = 0;
  g_auto(SyReaderGuard) guard = { fx->store, NULL };

  ingest (fx, 0, "\"voltage_a\":230,\"voltage_b\":230,\"voltage_c\":230,\"breaker_state\":\"closed\"");
  ingest (fx, 100, "\"voltage_a\":230,\"voltage_b\":179.4,\"voltage_c\":230");
  /* The open event is on the bus only after its commit. */
  g_assert_cmpuint (fx->pq_events->len, ==, 0);
  wait_for (fx, fx->pq_events, 1);
  open = parse_object (g_ptr_array_index (fx->pq_events, 0));
  g_assert_cmpstr (json_object_get_string_member (open, "state"), ==, "open");
  g_assert_cmpstr (json_object_get_string_member (open, "type"), ==, "dip");
  g_assert_cmpint (json_object_get_int_member (open, "meter_id"), ==, fx->meter_id);
  g_assert_true (json_object_get_null_member (open, "end"));

  /* Listed as open while it lasts. */
  _sy_pq_filter_init (&filter);
  filter.state = "open";
  g_assert_true (_sy_pq_events_list (fx->store, &filter, 10, 0, items, &total, &error));
  g_assert_no_error (error);
  g_assert_cmpint (total, ==, 1);

  /* Out of order: ignored. */
  ingest (fx, 50, "\"voltage_a\":230,\"voltage_b\":230,\"voltage_c\":230");
  ingest (fx, 440, "\"voltage_a\":230,\"voltage_b\":230,\"voltage_c\":230,\"breaker_state\":\"tripped\"");
  wait_for (fx, fx->pq_events, 2);
  wait_for (fx, fx->protection_events, 1);

  closed = parse_object (g_ptr_array_index (fx->pq_events, 1));
  g_assert_cmpint (json_object_get_int_member (closed, "id"), ==, json_object_get_int_member (open, "id"));
  g_assert_cmpstr (json_object_get_string_member (closed, "state"), ==, "closed");
  g_assert_cmpint (json_object_get_int_member (closed, "duration_ms"), ==, 340);
  g_assert_cmpstr (json_object_get_string_member (closed, "dip_class"), ==, "2B");
  g_assert_cmpstr (json_object_get_string_member (closed, "worst_phase"), ==, "b");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (closed, "residual_voltage"), 179.4, 1e-9);

  protection = parse_object (g_ptr_array_index (fx->protection_events, 0));
  g_assert_cmpstr (json_object_get_string_member (protection, "type"), ==, "breaker_state");
  g_assert_cmpstr (json_object_get_string_member (protection, "state"), ==, "tripped");
  g_assert_cmpstr (json_object_get_string_member (protection, "previous_state"), ==, "closed");
  g_assert_cmpstr (json_object_get_string_member (protection, "source"), ==, "reading");
  g_assert_cmpstr (json_object_get_string_member (protection, "severity"), ==, "critical");

  /* The row was updated in place, not duplicated. */
  guard.db = _sy_store_reader_acquire (fx->store);
  g_assert_cmpint (_sy_sql_query_int64 (guard.db, "SELECT count(*) FROM pq_events", -1), ==, 1);
  g_assert_cmpint (_sy_sql_query_int64 (guard.db, "SELECT duration_ms FROM pq_events WHERE state = 'closed'", -1), ==, 340);
  g_assert_cmpint (_sy_sql_query_int64 (guard.db, "SELECT count(*) FROM protection_events", -1), ==, 1);
  _sy_reader_guard_release (&guard);

  /* A new threshold reaches the detector: at 0.8, 190 V (82.6 %) is no dip any more. */
  {
    g_autofree char *text = g_strdup_printf ("{\"meter_id\": %" G_GINT64_FORMAT ", \"sag_v_threshold\": 0.8}",
                                             fx->meter_id);
    g_autoptr(JsonNode) body = json_from_string (text, NULL);
    g_autoptr(JsonNode) result = NULL;
    g_autoptr(JsonObject) reopened = NULL;

    result = _sy_pq_config_set (fx->store, json_node_get_object (body), "test", &error);
    g_assert_no_error (error);
    g_assert_nonnull (result);

    ingest (fx, 1000, "\"voltage_a\":190,\"voltage_b\":190,\"voltage_c\":190");
    ingest (fx, 1100, "\"voltage_a\":181,\"voltage_b\":183,\"voltage_c\":183");
    wait_for (fx, fx->pq_events, 3);
    reopened = parse_object (g_ptr_array_index (fx->pq_events, 2));
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (reopened, "threshold"), 184, 1e-9);
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (reopened, "residual_voltage"), 181, 1e-9);
  }
}

/* Events left open by a previous run carry on after a restart instead of staying open. */
static void
test_detector_restart (DetectorFixture *fx,
                       gconstpointer    data)
{
  g_autoptr(SyPqDetector) first = _sy_pq_detector_new (fx->store, fx->bus, fx->context);
  g_autoptr(SyPqDetector) second = NULL;
  g_autoptr(JsonObject) closed = NULL;
  g_auto(SyReaderGuard) guard = { fx->store, NULL };

  ingest (fx, 0, "\"voltage_a\":230,\"voltage_b\":230,\"voltage_c\":230");
  ingest (fx, 100, "\"voltage_a\":150,\"voltage_b\":230,\"voltage_c\":230");
  wait_for (fx, fx->pq_events, 1);
  g_clear_object (&first);

  second = _sy_pq_detector_new (fx->store, fx->bus, fx->context);
  ingest (fx, 900, "\"voltage_a\":230,\"voltage_b\":230,\"voltage_c\":230");
  wait_for (fx, fx->pq_events, 2);

  closed = parse_object (g_ptr_array_index (fx->pq_events, 1));
  g_assert_cmpstr (json_object_get_string_member (closed, "state"), ==, "closed");
  g_assert_cmpint (json_object_get_int_member (closed, "duration_ms"), ==, 800);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (closed, "residual_voltage"), 150, 1e-9);

  guard.db = _sy_store_reader_acquire (fx->store);
  g_assert_cmpint (_sy_sql_query_int64 (guard.db, "SELECT count(*) FROM pq_events WHERE state = 'open'", -1), ==, 0);
  g_assert_cmpint (_sy_sql_query_int64 (guard.db, "SELECT count(*) FROM pq_events", -1), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/switchyard/backend/pq/sag/single-phase", test_single_phase_sag);
  g_test_add_func ("/switchyard/backend/pq/sag/polyphase", test_polyphase_sag);
  g_test_add_func ("/switchyard/backend/pq/sag/hysteresis-chatter", test_hysteresis_chatter);
  g_test_add_func ("/switchyard/backend/pq/swell", test_swell);
  g_test_add_func ("/switchyard/backend/pq/interruption", test_interruption);
  g_test_add_func ("/switchyard/backend/pq/thd", test_thd);
  g_test_add_func ("/switchyard/backend/pq/imbalance/nema", test_imbalance_nema);
  g_test_add_func ("/switchyard/backend/pq/imbalance/vuf", test_imbalance_vuf);
  g_test_add_func ("/switchyard/backend/pq/out-of-order", test_out_of_order);
  g_test_add_func ("/switchyard/backend/pq/min-duration", test_min_duration);
  g_test_add_func ("/switchyard/backend/pq/en50160-classes", test_classes);
  g_test_add_func ("/switchyard/backend/pq/config/validate", test_config_validate);
  g_test_add_func ("/switchyard/backend/pq/iso-week", test_iso_week);
  g_test_add ("/switchyard/backend/pq/detector/store", DetectorFixture, NULL,
              detector_setup, test_detector_store, detector_teardown);
  g_test_add ("/switchyard/backend/pq/detector/restart", DetectorFixture, NULL,
              detector_setup, test_detector_restart, detector_teardown);

  return g_test_run ();
}
