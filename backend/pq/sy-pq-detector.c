/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#define G_LOG_DOMAIN "sy-pq"

#include "config.h"

#include <math.h>
#include <string.h>

#include "sy-error.h"
#include "sy-pq-detector-private.h"
#include "sy-pq-events-private.h"
#include "sy-protection-private.h"
#include "sy-time.h"

/* Power-quality detection, IEC 61000-4-30 (class S semantics on the RMS values we receive) and
 * EN 50160 classification:
 *
 * - Dip: starts when any measured phase falls below sag_v_threshold × nominal, ends when all
 *   measured phases are at or above (sag_v_threshold + hysteresis) × nominal. One polyphase
 *   event: residual voltage = lowest voltage of any phase during the event, worst phase = the
 *   phase that had it.
 * - Swell: mirrored (above swell_v_threshold, ends when all are at or below swell − hysteresis);
 *   peak voltage and its phase.
 * - Interruption: starts when all measured phases are below interruption_v_threshold × nominal,
 *   ends when any phase is at or above (interruption threshold + hysteresis) × nominal
 *   (IEC 61000-4-30 5.5). As in the standard it is evaluated independently of dips, so an
 *   outage also shows as a dip with a residual below 5 % (row 5 of the EN 50160 table).
 * - THD: thd_v_pct above thd_pct_threshold; ends at or below threshold × (1 − hysteresis/100).
 * - Imbalance (three phases measured, not during an interruption): NEMA (maximum deviation from
 *   the mean over the mean) or, when the reading's extras carry angle_a|b|c in degrees, the IEC
 *   voltage unbalance factor |V2| / |V1|; same hysteresis rule as THD. The method of the worst
 *   value is stored with the event.
 * - As IEC 61000-4-30 flags aggregated values measured during a dip, swell or interruption,
 *   THD and imbalance are not evaluated while one of those is in progress: a single-phase dip
 *   is one dip, not also an imbalance.
 *
 * Start is the timestamp of the first reading past the threshold, end that of the first reading
 * that satisfies the end rule. With a minimum duration, the open transition is held back until
 * the event has lasted that long, and an event that ends sooner is dropped. */

static const char * const type_names[SY_PQ_N_EVENT_TYPES] = {
  "dip", "swell", "interruption", "thd", "imbalance",
};

static const char * const severity_names[] = { NULL, "info", "warning", "critical" };

static const char phase_names[3] = { 'a', 'b', 'c' };

const char *
_sy_pq_event_type_name (SyPqEventType type)
{
  g_return_val_if_fail (type < SY_PQ_N_EVENT_TYPES, NULL);

  return type_names[type];
}

gboolean
_sy_pq_event_type_from_name (const char    *name,
                             SyPqEventType *out)
{
  for (guint i = 0; i < SY_PQ_N_EVENT_TYPES; i++)
    {
      if (g_strcmp0 (name, type_names[i]) == 0)
        {
          *out = i;
          return TRUE;
        }
    }

  return FALSE;
}

const char *
_sy_pq_severity_name (SyPqSeverity severity)
{
  g_return_val_if_fail (severity >= SY_PQ_SEVERITY_INFO && severity <= SY_PQ_SEVERITY_CRITICAL, NULL);

  return severity_names[severity];
}

gboolean
_sy_pq_severity_from_name (const char   *name,
                           SyPqSeverity *out)
{
  for (guint i = SY_PQ_SEVERITY_INFO; i <= SY_PQ_SEVERITY_CRITICAL; i++)
    {
      if (g_strcmp0 (name, severity_names[i]) == 0)
        {
          *out = i;
          return TRUE;
        }
    }

  return FALSE;
}

double
_sy_pq_imbalance_nema (const double v[3])
{
  double mean = (v[0] + v[1] + v[2]) / 3;
  double dev = 0;

  if (!(mean > 0))
    return 0;

  for (guint i = 0; i < 3; i++)
    dev = MAX (dev, fabs (v[i] - mean));

  return dev / mean * 100;
}

double
_sy_pq_imbalance_vuf (const double v[3],
                      const double angle_deg[3])
{
  /* Symmetrical components with a = 1∠120°: V1 = (Va + a Vb + a² Vc) / 3 and
   * V2 = (Va + a² Vb + a Vc) / 3; the common 1/3 cancels in the ratio. */
  double re[3], im[3];
  double v1_re = 0, v1_im = 0, v2_re = 0, v2_im = 0;
  double v1;

  for (guint i = 0; i < 3; i++)
    {
      double rad = angle_deg[i] * G_PI / 180;

      re[i] = v[i] * cos (rad);
      im[i] = v[i] * sin (rad);
    }

  for (guint i = 0; i < 3; i++)
    {
      /* Rotation by +120° · k for V1 (k = 0, 1, 2) and by −120° · k for V2. */
      double rot1 = 2 * G_PI / 3 * i;
      double rot2 = -rot1;

      v1_re += re[i] * cos (rot1) - im[i] * sin (rot1);
      v1_im += re[i] * sin (rot1) + im[i] * cos (rot1);
      v2_re += re[i] * cos (rot2) - im[i] * sin (rot2);
      v2_im += re[i] * sin (rot2) + im[i] * cos (rot2);
    }

  v1 = hypot (v1_re, v1_im);
  if (!(v1 > 0))
    return 0;

  return hypot (v2_re, v2_im) / v1 * 100;
}

void
_sy_pq_voltage_class (gboolean  swell,
                      double    value_pct,
                      gint64    duration_ms,
                      char      out[4])
{
  /* EN 50160:2010 tables 5 (dips) and 6 (swells); see data/sql/0002-pq.sql. Durations below the
   * 10 ms of the first column (readings faster than a half cycle) count in it, longer than the
   * last column's 60 s in the last one. */
  if (swell)
    {
      out[0] = 'S';
      out[1] = value_pct >= 120 ? '1' : '2';
      out[2] = duration_ms <= 500 ? 'A' : duration_ms <= 5000 ? 'B' : 'C';
      out[3] = '\0';
      return;
    }

  if (value_pct >= 80)
    out[0] = '1';
  else if (value_pct >= 70)
    out[0] = '2';
  else if (value_pct >= 40)
    out[0] = '3';
  else if (value_pct >= 5)
    out[0] = '4';
  else
    out[0] = '5';

  if (duration_ms <= 200)
    out[1] = 'A';
  else if (duration_ms <= 500)
    out[1] = 'B';
  else if (duration_ms <= 1000)
    out[1] = 'C';
  else if (duration_ms <= 5000)
    out[1] = 'D';
  else
    out[1] = 'E';
  out[2] = '\0';
}

void
_sy_pq_event_clear (SyPqEvent *event)
{
  g_clear_pointer (&event->ack_by, g_free);
  g_clear_pointer (&event->ack_note, g_free);
}

void
_sy_pq_meter_state_init (SyPqMeterState *state)
{
  g_return_if_fail (state != NULL);

  memset (state, 0, sizeof *state);
  state->last_ts_ms = G_MININT64;
}

static SyPqSeverity
event_severity (const SyPqEvent *e)
{
  double pct = e->nominal > 0 ? e->value / e->nominal * 100 : 0;
  gint64 duration = (e->closed ? e->end_ms : e->last_ms) - e->start_ms;

  switch (e->type)
    {
    case SY_PQ_EVENT_INTERRUPTION:
      return SY_PQ_SEVERITY_CRITICAL;
    case SY_PQ_EVENT_DIP:
      /* Rows 3–5 of the EN 50160 table, or longer than half a second. */
      return pct < 70 || duration > 500 ? SY_PQ_SEVERITY_CRITICAL : SY_PQ_SEVERITY_WARNING;
    case SY_PQ_EVENT_SWELL:
      return pct >= 120 ? SY_PQ_SEVERITY_CRITICAL : SY_PQ_SEVERITY_WARNING;
    case SY_PQ_EVENT_THD:
    case SY_PQ_EVENT_IMBALANCE:
    case SY_PQ_N_EVENT_TYPES:
    default:
      return SY_PQ_SEVERITY_WARNING;
    }
}

static void
report (SyPqEvent          *e,
        SyPqTransitionFunc  func,
        gpointer            user_data)
{
  e->severity = event_severity (e);
  if (func != NULL)
    func (e, user_data);
}

static void
finish (SyPqEvent          *e,
        gint64              end_ms,
        double              min_duration_ms,
        SyPqTransitionFunc  func,
        gpointer            user_data)
{
  gint64 duration = end_ms - e->start_ms;

  if (!e->reported)
    {
      /* Never went out: report open and close together, or drop a too-short event. */
      if (duration < min_duration_ms)
        return;
      e->reported = TRUE;
      report (e, func, user_data);
    }

  e->closed = TRUE;
  e->end_ms = end_ms;

  switch (e->type)
    {
    case SY_PQ_EVENT_DIP:
      _sy_pq_voltage_class (FALSE, e->value / e->nominal * 100, duration, e->dip_class);
      break;
    case SY_PQ_EVENT_SWELL:
      _sy_pq_voltage_class (TRUE, e->value / e->nominal * 100, duration, e->dip_class);
      break;
    case SY_PQ_EVENT_INTERRUPTION:
      /* EN 50160: short up to three minutes, long beyond. */
      g_strlcpy (e->dip_class, duration <= 180000 ? "SI" : "LI", sizeof e->dip_class);
      break;
    case SY_PQ_EVENT_THD:
    case SY_PQ_EVENT_IMBALANCE:
    case SY_PQ_N_EVENT_TYPES:
    default:
      break;
    }

  report (e, func, user_data);
}

/* One step of one state machine. @worse tells whether @value beats the event's worst so far. */
static void
step (SyPqMeterState     *state,
      SyPqEventType       type,
      gint64              ts_ms,
      gboolean            starts,
      gboolean            ends,
      double              value,
      gboolean            lower_is_worse,
      int                 phase,
      guint               crossed,
      const char         *method,
      double              nominal,
      double              threshold,
      double              min_duration_ms,
      SyPqTransitionFunc  func,
      gpointer            user_data)
{
  SyPqEvent *e = &state->events[type];

  if (!state->active[type])
    {
      if (!starts)
        return;

      _sy_pq_event_clear (e);
      memset (e, 0, sizeof *e);
      e->type = type;
      e->start_ms = ts_ms;
      e->last_ms = ts_ms;
      e->nominal = nominal;
      e->threshold = threshold;
      e->value = value;
      e->worst_phase = phase;
      e->phases = crossed;
      e->method = method;
      state->active[type] = TRUE;
    }
  else if (ends)
    {
      finish (e, ts_ms, min_duration_ms, func, user_data);
      state->active[type] = FALSE;
      return;
    }
  else
    {
      if (lower_is_worse ? value < e->value : value > e->value)
        {
          e->value = value;
          e->worst_phase = phase;
          e->method = method;
        }
      e->phases |= crossed;
      e->last_ms = ts_ms;
    }

  if (!e->reported && e->last_ms - e->start_ms >= min_duration_ms)
    {
      e->reported = TRUE;
      report (e, func, user_data);
    }
}

gboolean
_sy_pq_meter_process (SyPqMeterState     *state,
                      const SyPqConfig   *config,
                      double              nominal,
                      const SyPqSample   *s,
                      SyPqTransitionFunc  func,
                      gpointer            user_data)
{
  gboolean flagged = FALSE;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (s != NULL, FALSE);

  /* Out of order or a duplicate: see the header. */
  if (s->ts_ms <= state->last_ts_ms)
    return FALSE;
  state->last_ts_ms = s->ts_ms;

  if ((s->phases & 7) != 0 && nominal > 0)
    {
      double sag = config->sag_v_threshold * nominal;
      double swell = config->swell_v_threshold * nominal;
      double intr = config->interruption_v_threshold * nominal;
      double hyst = config->hysteresis_pct / 100 * nominal;
      double vmin = G_MAXDOUBLE;
      double vmax = -G_MAXDOUBLE;
      int pmin = -1;
      int pmax = -1;
      guint below = 0;
      guint above = 0;
      guint below_intr = 0;
      guint present = s->phases & 7;
      gboolean dip_ends = TRUE;
      gboolean swell_ends = TRUE;
      gboolean intr_ends = FALSE;

      for (int i = 0; i < 3; i++)
        {
          double v;

          if (!(present & (1u << i)))
            continue;

          v = s->v[i];
          if (v < vmin)
            {
              vmin = v;
              pmin = i;
            }
          if (v > vmax)
            {
              vmax = v;
              pmax = i;
            }
          if (v < sag)
            below |= 1u << i;
          if (v < sag + hyst)
            dip_ends = FALSE;
          if (v > swell)
            above |= 1u << i;
          if (v > swell - hyst)
            swell_ends = FALSE;
          if (v < intr)
            below_intr |= 1u << i;
          if (v >= intr + hyst)
            intr_ends = TRUE;
        }

      step (state, SY_PQ_EVENT_DIP, s->ts_ms, below != 0, dip_ends, vmin, TRUE, pmin, below, NULL,
            nominal, sag, config->voltage_min_duration_ms, func, user_data);
      step (state, SY_PQ_EVENT_SWELL, s->ts_ms, above != 0, swell_ends, vmax, FALSE, pmax, above, NULL,
            nominal, swell, config->voltage_min_duration_ms, func, user_data);
      step (state, SY_PQ_EVENT_INTERRUPTION, s->ts_ms, below_intr == present, intr_ends, vmin, TRUE, pmin,
            below_intr, NULL, nominal, intr, config->voltage_min_duration_ms, func, user_data);

      flagged = state->active[SY_PQ_EVENT_DIP] || state->active[SY_PQ_EVENT_SWELL] ||
                state->active[SY_PQ_EVENT_INTERRUPTION];

      /* Imbalance needs all three phases. */
      if (present == 7 && !flagged)
        {
          const char *method = s->has_angles ? "iec_vuf" : "nema";
          double value = s->has_angles ? _sy_pq_imbalance_vuf (s->v, s->angle_deg) : _sy_pq_imbalance_nema (s->v);
          double thr = config->imbalance_pct_threshold;

          step (state, SY_PQ_EVENT_IMBALANCE, s->ts_ms, value > thr, value <= thr * (1 - config->hysteresis_pct / 100),
                value, FALSE, -1, 0, method, nominal, thr, config->imbalance_min_duration_ms, func, user_data);
        }
    }

  if (s->has_thd && !flagged)
    {
      double thr = config->thd_pct_threshold;

      step (state, SY_PQ_EVENT_THD, s->ts_ms, s->thd_pct > thr, s->thd_pct <= thr * (1 - config->hysteresis_pct / 100),
            s->thd_pct, FALSE, -1, 0, "thd_v", nominal, thr, config->thd_min_duration_ms, func, user_data);
    }

  return TRUE;
}

static void
append_double_or_null (GString *out,
                       gboolean present,
                       double   value)
{
  if (present && isfinite (value))
    g_string_append_printf (out, "%.6g", value);
  else
    g_string_append (out, "null");
}

void
_sy_pq_event_append_json (GString         *out,
                          const SyPqEvent *e)
{
  gboolean voltage = e->type == SY_PQ_EVENT_DIP || e->type == SY_PQ_EVENT_SWELL ||
                     e->type == SY_PQ_EVENT_INTERRUPTION;
  const char *value_name;
  gboolean first = TRUE;

  g_return_if_fail (out != NULL && e != NULL);

  g_string_append_printf (out, "{\"id\":%" G_GINT64_FORMAT ",\"meter_id\":%" G_GINT64_FORMAT ",\"site_id\":",
                          e->id, e->meter_id);
  if (e->site_id > 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, e->site_id);
  else
    g_string_append (out, "null");
  g_string_append_printf (out, ",\"type\":\"%s\",\"state\":\"%s\",\"severity\":\"%s\",\"start\":\"",
                          type_names[e->type], e->closed ? "closed" : "open",
                          severity_names[CLAMP (e->severity, SY_PQ_SEVERITY_INFO, SY_PQ_SEVERITY_CRITICAL)]);
  sy_time_append_iso8601 (out, e->start_ms);
  g_string_append (out, "\",\"end\":");
  if (e->closed)
    {
      g_string_append_c (out, '"');
      sy_time_append_iso8601 (out, e->end_ms);
      g_string_append_printf (out, "\",\"duration_ms\":%" G_GINT64_FORMAT, e->end_ms - e->start_ms);
    }
  else
    g_string_append (out, "null,\"duration_ms\":null");

  g_string_append (out, ",\"nominal_voltage\":");
  append_double_or_null (out, e->nominal > 0, e->nominal);
  g_string_append (out, ",\"threshold\":");
  append_double_or_null (out, TRUE, e->threshold);
  g_string_append_printf (out, ",\"unit\":\"%s\",\"value\":", voltage ? "V" : "%");
  append_double_or_null (out, TRUE, e->value);

  /* The same number under the name the standards use for it. */
  switch (e->type)
    {
    case SY_PQ_EVENT_DIP:
    case SY_PQ_EVENT_INTERRUPTION:
      value_name = "residual_voltage";
      break;
    case SY_PQ_EVENT_SWELL:
      value_name = "peak_voltage";
      break;
    case SY_PQ_EVENT_THD:
    case SY_PQ_EVENT_IMBALANCE:
    case SY_PQ_N_EVENT_TYPES:
    default:
      value_name = "worst_value";
      break;
    }
  g_string_append_printf (out, ",\"%s\":", value_name);
  append_double_or_null (out, TRUE, e->value);
  g_string_append (out, ",\"value_pct_of_nominal\":");
  append_double_or_null (out, voltage && e->nominal > 0, e->value / e->nominal * 100);

  g_string_append (out, ",\"worst_phase\":");
  if (e->worst_phase >= 0 && e->worst_phase < 3)
    g_string_append_printf (out, "\"%c\"", phase_names[e->worst_phase]);
  else
    g_string_append (out, "null");

  g_string_append (out, ",\"phases\":[");
  for (guint i = 0; i < 3; i++)
    {
      if (e->phases & (1u << i))
        {
          g_string_append_printf (out, "%s\"%c\"", first ? "" : ",", phase_names[i]);
          first = FALSE;
        }
    }
  g_string_append (out, "],\"dip_class\":");
  if (e->dip_class[0] != '\0')
    g_string_append_printf (out, "\"%s\"", e->dip_class);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"method\":");
  if (e->method != NULL)
    g_string_append_printf (out, "\"%s\"", e->method);
  else
    g_string_append (out, "null");

  g_string_append (out, ",\"acknowledged\":");
  if (e->ack_ms > 0)
    {
      g_string_append (out, "{\"at\":\"");
      sy_time_append_iso8601 (out, e->ack_ms);
      g_string_append (out, "\",\"by\":");
      _sy_pq_json_append_string (out, e->ack_by);
      g_string_append (out, ",\"note\":");
      _sy_pq_json_append_string (out, e->ack_note);
      g_string_append_c (out, '}');
    }
  else
    g_string_append (out, "null");

  g_string_append_c (out, '}');
}

/* The detector object: per-meter state on the backend thread, writes through the store. */

#define CONFIG_RELOAD_US (60 * G_USEC_PER_SEC)

typedef struct
{
  SyPqMeterState  state;
  SyPqConfig      config;
  double          nominal;
  gint64          site_id;
  guint           generation;
  gint64          loaded_us;
  gboolean        known;          /* the meter exists */
  char           *breaker_state;  /* last seen; NULL = unknown */
} MeterEntry;

struct _SyPqDetector
{
  GObject       parent_instance;

  SyStore      *store;
  SyEventBus   *bus;
  GMainContext *context;
  guint         subscription;
  GHashTable   *meters;         /* gint64* meter_id → MeterEntry */
  gint64        next_event_id;

  /* For the transition callback. */
  MeterEntry   *current;
  gint64        current_meter;
};

G_DEFINE_FINAL_TYPE (SyPqDetector, sy_pq_detector, G_TYPE_OBJECT)

static void
meter_entry_free (gpointer data)
{
  MeterEntry *entry = data;

  for (guint i = 0; i < SY_PQ_N_EVENT_TYPES; i++)
    _sy_pq_event_clear (&entry->state.events[i]);
  g_free (entry->breaker_state);
  g_free (entry);
}

typedef struct
{
  SyPqEvent   event;
  SyEventBus *bus;
  char       *json;
} PqWrite;

static void
pq_write_free (gpointer data)
{
  PqWrite *w = data;

  _sy_pq_event_clear (&w->event);
  g_clear_object (&w->bus);
  g_free (w->json);
  g_free (w);
}

static gboolean
pq_write_func (SyWriteBatch  *batch,
               gpointer       data,
               GError       **error)
{
  PqWrite *w = data;

  return _sy_pq_events_upsert (batch, &w->event, error);
}

static void
pq_write_done (const GError *error,
               gpointer      user_data)
{
  PqWrite *w = user_data;

  if (error != NULL)
    {
      g_warning ("Storing %s event %" G_GINT64_FORMAT ": %s",
                 type_names[w->event.type], w->event.id, error->message);
    }
  else
    {
      /* On disk: now the control room may hear of it. */
      g_autoptr(JsonNode) node = json_from_string (w->json, NULL);

      if (node != NULL)
        _sy_event_bus_emit (w->bus, SY_EVENT_PQ, w->event.closed ? w->event.end_ms : w->event.start_ms, node);
    }

  pq_write_free (w);
}

static void
transition_cb (SyPqEvent *event,
               gpointer   user_data)
{
  SyPqDetector *self = user_data;
  g_autoptr(GString) json = g_string_new (NULL);
  PqWrite *w;

  if (event->id == 0)
    event->id = self->next_event_id++;
  event->meter_id = self->current_meter;
  event->site_id = self->current->site_id;

  _sy_pq_event_append_json (json, event);

  w = g_new0 (PqWrite, 1);
  w->event = *event;
  w->event.ack_by = NULL;
  w->event.ack_note = NULL;
  w->bus = g_object_ref (self->bus);
  w->json = g_string_free (g_steal_pointer (&json), FALSE);

  _sy_store_write (self->store, 1, pq_write_func, w, NULL, self->context, pq_write_done, w);
}

/* Loads (or refreshes) what the detector knows of a meter. This reads SQLite on the backend
 * thread, once per meter and then after a configuration change or once a minute (the nominal
 * voltage may change in the registry): a few indexed lookups. */
static MeterEntry *
ensure_entry (SyPqDetector *self,
              gint64        meter_id,
              gint64        ts_ms)
{
  MeterEntry *entry = g_hash_table_lookup (self->meters, &meter_id);
  guint generation = _sy_pq_config_get_generation ();
  gint64 now_us = g_get_monotonic_time ();
  g_auto(SyReaderGuard) guard = { self->store, NULL };
  g_autoptr(GError) error = NULL;
  int phases = 0;

  if (entry != NULL && entry->generation == generation && now_us - entry->loaded_us < CONFIG_RELOAD_US)
    return entry;

  guard.db = _sy_store_reader_acquire (self->store);

  if (entry == NULL)
    {
      gint64 *key = g_new (gint64, 1);

      *key = meter_id;
      entry = g_new0 (MeterEntry, 1);
      _sy_pq_meter_state_init (&entry->state);
      g_hash_table_insert (self->meters, key, entry);

      /* Carry on with events a previous run left open, and know the breaker state before
       * this reading so that a change in it is seen. */
      if (!_sy_pq_events_load_open (guard.db, meter_id, &entry->state, &error))
        {
          g_warning ("Loading open events of meter %" G_GINT64_FORMAT ": %s", meter_id, error->message);
          g_clear_error (&error);
        }
      entry->breaker_state = _sy_protection_last_breaker_state (guard.db, meter_id, ts_ms);
    }

  entry->generation = generation;
  entry->loaded_us = now_us;
  entry->known = _sy_pq_config_load_effective (guard.db, meter_id, &entry->config, &entry->nominal, &phases,
                                               &entry->site_id, &error);
  if (!entry->known && !g_error_matches (error, SY_ERROR, SY_ERROR_NOT_FOUND))
    g_warning ("Loading the power-quality configuration of meter %" G_GINT64_FORMAT ": %s", meter_id, error->message);

  /* A site default changed after a meter's own values were checked may leave a combination
   * that makes no sense; detect with the built-in defaults then rather than with nonsense. */
  if (entry->known && !_sy_pq_config_validate (&entry->config, NULL))
    {
      g_warning ("Meter %" G_GINT64_FORMAT ": inconsistent power-quality configuration, using the defaults", meter_id);
      _sy_pq_config_init_defaults (&entry->config);
    }

  return entry;
}

void
_sy_pq_detector_process (SyPqDetector     *self,
                         gint64            meter_id,
                         const SyPqSample *sample,
                         const char       *breaker_state)
{
  MeterEntry *entry;

  g_return_if_fail (SY_IS_PQ_DETECTOR (self));
  g_return_if_fail (sample != NULL);

  if (meter_id <= 0)
    return;

  entry = ensure_entry (self, meter_id, sample->ts_ms);
  if (!entry->known)
    return;

  self->current = entry;
  self->current_meter = meter_id;
  if (!_sy_pq_meter_process (&entry->state, &entry->config, entry->nominal, sample, transition_cb, self))
    return;

  /* A breaker that changed state between two readings is a protection event too. */
  if (breaker_state != NULL && g_strcmp0 (breaker_state, entry->breaker_state) != 0)
    {
      if (entry->breaker_state != NULL)
        {
          SyProtectionEvent *event = _sy_protection_event_new ();

          event->type = "breaker_state";
          event->meter_id = meter_id;
          event->ts_ms = sample->ts_ms;
          event->state = g_strdup (breaker_state);
          event->previous_state = g_strdup (entry->breaker_state);
          event->source = "reading";
          event->severity = _sy_protection_severity (event);
          _sy_protection_submit (self->store, self->bus, self->context, event, NULL, NULL);
        }
      g_free (entry->breaker_state);
      entry->breaker_state = g_strdup (breaker_state);
    }
}

static gboolean
member_double (JsonObject *obj,
               const char *name,
               double     *out)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_DOUBLE:
    case G_TYPE_INT64:
      *out = json_node_get_double (node);
      return isfinite (*out);
    default:
      return FALSE;
    }
}

static void
data_ingested_cb (const char *type,
                  gint64      ts_ms,
                  JsonNode   *data,
                  gpointer    user_data)
{
  static const char * const voltages[3] = { "voltage_a", "voltage_b", "voltage_c" };
  static const char * const angles[3] = { "angle_a", "angle_b", "angle_c" };
  SyPqDetector *self = user_data;
  SyPqSample sample = { 0 };
  JsonObject *obj;
  JsonNode *node;
  const char *breaker_state = NULL;
  gint64 meter_id;

  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    return;
  obj = json_node_get_object (data);

  node = json_object_get_member (obj, "meter_id");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return;
  meter_id = json_node_get_int (node);

  sample.ts_ms = ts_ms;
  for (guint i = 0; i < 3; i++)
    {
      if (member_double (obj, voltages[i], &sample.v[i]))
        sample.phases |= 1u << i;
    }
  sample.has_thd = member_double (obj, "thd_v_pct", &sample.thd_pct);

  node = json_object_get_member (obj, "extras");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *extras = json_node_get_object (node);

      sample.has_angles = TRUE;
      for (guint i = 0; i < 3; i++)
        sample.has_angles = sample.has_angles && member_double (extras, angles[i], &sample.angle_deg[i]);
    }

  node = json_object_get_member (obj, "breaker_state");
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    breaker_state = json_node_get_string (node);

  _sy_pq_detector_process (self, meter_id, &sample, breaker_state);
}

static void
sy_pq_detector_dispose (GObject *object)
{
  SyPqDetector *self = (SyPqDetector *) object;

  if (self->subscription != 0 && self->bus != NULL)
    _sy_event_bus_unsubscribe (self->bus, self->subscription);
  self->subscription = 0;
  g_clear_object (&self->bus);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (sy_pq_detector_parent_class)->dispose (object);
}

static void
sy_pq_detector_finalize (GObject *object)
{
  SyPqDetector *self = (SyPqDetector *) object;

  g_clear_pointer (&self->meters, g_hash_table_unref);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (sy_pq_detector_parent_class)->finalize (object);
}

static void
sy_pq_detector_class_init (SyPqDetectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sy_pq_detector_dispose;
  object_class->finalize = sy_pq_detector_finalize;
}

static void
sy_pq_detector_init (SyPqDetector *self)
{
  self->meters = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, meter_entry_free);
}

SyPqDetector *
_sy_pq_detector_new (SyStore      *store,
                     SyEventBus   *bus,
                     GMainContext *context)
{
  SyPqDetector *self;

  g_return_val_if_fail (SY_IS_STORE (store), NULL);
  g_return_val_if_fail (SY_IS_EVENT_BUS (bus), NULL);
  g_return_val_if_fail (context != NULL, NULL);

  self = g_object_new (SY_TYPE_PQ_DETECTOR, NULL);
  self->store = g_object_ref (store);
  self->bus = g_object_ref (bus);
  self->context = g_main_context_ref (context);

  /* The detector alone inserts pq_events, so it can hand out ids before the insert commits
   * and a close queued behind its open always finds the row. */
  {
    g_auto(SyReaderGuard) guard = { store, NULL };

    guard.db = _sy_store_reader_acquire (store);
    self->next_event_id = _sy_sql_query_int64 (guard.db, "SELECT coalesce (max (id), 0) FROM pq_events", 0) + 1;
  }

  self->subscription = _sy_event_bus_subscribe (bus, SY_EVENT_DATA_INGESTED, data_ingested_cb, self, NULL);

  return self;
}
