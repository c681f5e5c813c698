-- Switchyard schema, migration 2: power quality (IEC 61000-4-30 / EN 50160 events and their
-- thresholds) and protection events (trips, earth leakage, breaker state changes).
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC).

-- Thresholds per meter or per site (site defaults). A NULL column inherits: meter → site →
-- built-in default (see backend/pq/sy-pq-config.c). Voltage thresholds are fractions of the
-- meter's nominal voltage, the rest are percents.
CREATE TABLE pq_config (
  id                         INTEGER PRIMARY KEY AUTOINCREMENT,
  meter_id                   INTEGER UNIQUE REFERENCES meters (id) ON DELETE CASCADE,
  site_id                    INTEGER UNIQUE REFERENCES sites (id) ON DELETE CASCADE,
  sag_v_threshold            REAL,
  swell_v_threshold          REAL,
  interruption_v_threshold   REAL,
  hysteresis_pct             REAL,
  thd_pct_threshold          REAL,
  imbalance_pct_threshold    REAL,
  voltage_min_duration_ms    INTEGER,
  thd_min_duration_ms        INTEGER,
  imbalance_min_duration_ms  INTEGER,
  updated_ms                 INTEGER NOT NULL,
  updated_by                 TEXT,
  CHECK ((meter_id IS NULL) <> (site_id IS NULL))
);

-- One row per disturbance, written 'open' when it starts and updated when it closes. Ids are
-- assigned by the detector (it knows the id before the insert commits, so a close queued behind
-- the open finds its row). No foreign key on meter_id, as for readings.
--
-- value: residual (lowest) voltage in V for dip and interruption, peak voltage in V for swell,
-- worst THD in % for thd, worst imbalance in % for imbalance (method 'nema' or 'iec_vuf').
-- dip_class: EN 50160 table cell, residual band (row) × duration band (column), set on close:
--   rows 1: 90 > u >= 80 %   2: 80 > u >= 70 %   3: 70 > u >= 40 %   4: 40 > u >= 5 %   5: u < 5 %
--   columns A: t <= 200 ms   B: 200 < t <= 500 ms   C: 500 ms < t <= 1 s   D: 1 s < t <= 5 s
--           E: t > 5 s
--   swells (EN 50160 table 6): rows S1: u >= 120 %   S2: 120 > u > 110 %; columns A: t <= 500 ms
--   B: 500 ms < t <= 5 s   C: t > 5 s.
-- severity: 1 info, 2 warning, 3 critical.
CREATE TABLE pq_events (
  id               INTEGER PRIMARY KEY,
  meter_id         INTEGER NOT NULL,
  site_id          INTEGER,
  type             TEXT NOT NULL
                   CHECK (type IN ('dip', 'swell', 'interruption', 'thd', 'imbalance')),
  state            TEXT NOT NULL CHECK (state IN ('open', 'closed')),
  severity         INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 3),
  start_ms         INTEGER NOT NULL,
  end_ms           INTEGER,
  duration_ms      INTEGER,
  nominal_voltage  REAL,
  threshold        REAL,
  value            REAL,
  worst_phase      TEXT,
  phases           TEXT,
  dip_class        TEXT,
  method           TEXT,
  ack_ms           INTEGER,
  ack_by           TEXT,
  ack_note         TEXT,
  updated_ms       INTEGER NOT NULL
);
CREATE INDEX pq_events_meter ON pq_events (meter_id, start_ms);
CREATE INDEX pq_events_start ON pq_events (start_ms);
CREATE INDEX pq_events_open ON pq_events (state) WHERE state = 'open';

-- Posted by devices (source 'device') or derived from a change of breaker_state in readings
-- (source 'reading').
CREATE TABLE protection_events (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  meter_id        INTEGER,
  site_id         INTEGER,
  device_id       INTEGER,
  type            TEXT NOT NULL CHECK (type IN ('trip', 'earth_leakage', 'breaker_state')),
  severity        INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 3),
  ts_ms           INTEGER NOT NULL,
  breaker_id      TEXT,
  state           TEXT,
  previous_state  TEXT,
  leakage_ma      REAL,
  cause           TEXT,
  source          TEXT NOT NULL CHECK (source IN ('device', 'reading')),
  ack_ms          INTEGER,
  ack_by          TEXT,
  ack_note        TEXT,
  created_ms      INTEGER NOT NULL
);
CREATE INDEX protection_events_meter ON protection_events (meter_id, ts_ms);
CREATE INDEX protection_events_ts ON protection_events (ts_ms);
