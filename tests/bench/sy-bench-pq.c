/* Copyright 2026 The Switchyard authors
 * SPDX-License-Identifier: GPL-3.0-or-later */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>

#include "sy-event-bus-private.h"
#include "sy-pq-detector-private.h"
#include "sy-store-private.h"

/* Power-quality detection cost per reading: a three-phase 230 V meter at 10 readings/s with
 * realistic noise (±0.5 % RMS, THD 3 ± 0.3 %), a sag on one or more phases every ~2000 readings
 * and a THD excursion every ~5000. Three figures:
 *  - core: the state machines alone (_sy_pq_meter_process), NEMA imbalance;
 *  - core_vuf: the same with phase angles (IEC VUF);
 *  - subscriber: the data.ingested subscriber on a real store and bus (JSON node → sample, the
 *    meter's cached state, event writes queued to the writer), i.e. what ingestion pays.
 * Prints one line per figure and a BENCH line. */

#define N_SAMPLES  200000
#define PERIOD_MS  100

static double
gauss (GRand *rand)
{
  /* Box–Muller. */
  double u1 = g_rand_double_range (rand, 1e-12, 1.0);
  double u2 = g_rand_double (rand);

  return sqrt (-2 * log (u1)) * cos (2 * G_PI * u2);
}

static SyPqSample *
make_trace (gboolean angles)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (61000430);
  SyPqSample *samples = g_new0 (SyPqSample, N_SAMPLES);
  int sag_left = 0;
  int thd_left = 0;
  guint sag_phases = 0;
  double sag_depth = 1;

  for (guint i = 0; i < N_SAMPLES; i++)
    {
      SyPqSample *s = &samples[i];

      if (sag_left == 0 && g_rand_int_range (rand, 0, 2000) == 0)
        {
          sag_left = g_rand_int_range (rand, 1, 12);
          sag_phases = g_rand_int_range (rand, 1, 8);
          sag_depth = g_rand_double_range (rand, 0.4, 0.88);
        }
      if (thd_left == 0 && g_rand_int_range (rand, 0, 5000) == 0)
        thd_left = g_rand_int_range (rand, 5, 600);

      s->ts_ms = (gint64) i * PERIOD_MS;
      s->phases = 7;
      for (guint p = 0; p < 3; p++)
        {
          double v = 230 * (1 + 0.005 * gauss (rand));

          if (sag_left > 0 && (sag_phases & (1u << p)))
            v *= sag_depth;
          s->v[p] = v;
        }
      s->has_thd = TRUE;
      s->thd_pct = (thd_left > 0 ? 9.0 : 3.0) + 0.3 * gauss (rand);
      if (angles)
        {
          s->has_angles = TRUE;
          s->angle_deg[0] = 0.2 * gauss (rand);
          s->angle_deg[1] = -120 + 0.2 * gauss (rand);
          s->angle_deg[2] = 120 + 0.2 * gauss (rand);
        }

      if (sag_left > 0)
        sag_left--;
      if (thd_left > 0)
        thd_left--;
    }

  return samples;
}

static void
count_cb (SyPqEvent *event,
          gpointer   user_data)
{
  guint *transitions = user_data;

  (*transitions)++;
}

static double
bench_core (const char *name,
            gboolean    angles,
            double      seconds,
            GString    *bench)
{
  g_autofree SyPqSample *samples = make_trace (angles);
  SyPqMeterState state;
  SyPqConfig config;
  guint transitions = 0;
  guint64 readings = 0;
  gint64 offset = 0;
  gint64 start, elapsed;
  double ns;

  _sy_pq_meter_state_init (&state);
  _sy_pq_config_init_defaults (&config);

  start = g_get_monotonic_time ();
  do
    {
      for (guint i = 0; i < N_SAMPLES; i++)
        {
          SyPqSample s = samples[i];

          s.ts_ms += offset;
          _sy_pq_meter_process (&state, &config, 230, &s, count_cb, &transitions);
        }
      readings += N_SAMPLES;
      offset += (gint64) N_SAMPLES * PERIOD_MS;
      elapsed = g_get_monotonic_time () - start;
    }
  while (elapsed < seconds * G_USEC_PER_SEC);

  ns = elapsed * 1000.0 / readings;
  g_print ("pq %-10s ns/reading=%.1f readings/s=%.0f transitions/100k readings=%.1f\n",
           name, ns, 1e9 / ns, transitions * 1e5 / readings);
  g_string_append_printf (bench, "%s\"%s\":{\"ns_per_reading\":%.1f}", bench->len > 1 ? "," : "", name, ns);
  return ns;
}

static gboolean
insert_meter (SyWriteBatch  *batch,
              gpointer       data,
              GError       **error)
{
  return _sy_sql_exec (_sy_write_batch_get_db (batch),
                       "INSERT INTO sites (name, created_ms) VALUES ('Bench', 0);"
                       "INSERT INTO meters (site_id, name, kind, device_key_hash, created_ms) "
                       "VALUES (last_insert_rowid (), 'M', 'grid', 'hash', 0);", error);
}

static void
bench_subscriber (double   seconds,
                  GString *bench)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("sy-bench-pq-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree SyPqSample *samples = make_trace (FALSE);
  g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GMainContext) context = g_main_context_new ();
  SyStore *store;
  SyEventBus *bus;
  SyPqDetector *detector;
  guint64 readings = 0;
  gint64 offset = 0;
  gint64 start, elapsed;
  double ns;

  g_assert_no_error (error);
  path = g_build_filename (dir, "bench.db", NULL);
  store = _sy_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (_sy_store_write_sync (store, insert_meter, NULL, &error));

  /* The payloads ingestion hands to subscribers (only the timestamp changes between laps). */
  for (guint i = 0; i < N_SAMPLES; i++)
    {
      g_autofree char *text = g_strdup_printf ("{\"meter_id\":1,\"timestamp\":\"2026-11-29T10:00:00Z\","
                                               "\"total_power\":6120.5,\"voltage_a\":%.2f,\"voltage_b\":%.2f,"
                                               "\"voltage_c\":%.2f,\"current_a\":8.9,\"frequency\":50.01,"
                                               "\"thd_v_pct\":%.2f}",
                                               samples[i].v[0], samples[i].v[1], samples[i].v[2], samples[i].thd_pct);

      g_ptr_array_add (nodes, json_from_string (text, NULL));
    }

  g_main_context_push_thread_default (context);
  bus = _sy_event_bus_new ();
  detector = _sy_pq_detector_new (store, bus, context);

  start = g_get_monotonic_time ();
  do
    {
      for (guint i = 0; i < N_SAMPLES; i++)
        {
          _sy_event_bus_emit (bus, SY_EVENT_DATA_INGESTED, samples[i].ts_ms + offset, g_ptr_array_index (nodes, i));
          if (i % 1000 == 0)
            while (g_main_context_iteration (context, FALSE))
              ;
        }
      readings += N_SAMPLES;
      offset += (gint64) N_SAMPLES * PERIOD_MS;
      elapsed = g_get_monotonic_time () - start;
    }
  while (elapsed < seconds * G_USEC_PER_SEC);

  ns = elapsed * 1000.0 / readings;
  g_print ("pq %-10s ns/reading=%.1f readings/s=%.0f (JSON node to sample, cached meter, writes queued)\n",
           "subscriber", ns, 1e9 / ns);
  g_string_append_printf (bench, ",\"subscriber\":{\"ns_per_reading\":%.1f}", ns);

  g_object_unref (detector);
  _sy_store_close (store);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_object_unref (bus);
  g_object_unref (store);
  g_main_context_pop_thread_default (context);

  g_unlink (path);
  {
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (path, "-shm", NULL);

    g_unlink (wal);
    g_unlink (shm);
  }
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GString) bench = g_string_new ("{");
  double seconds = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 2.0;

  bench_core ("core", FALSE, seconds, bench);
  bench_core ("core_vuf", TRUE, seconds, bench);
  bench_subscriber (seconds, bench);

  g_string_append_c (bench, '}');
  g_print ("BENCH %s\n", bench->str);
  return EXIT_SUCCESS;
}
