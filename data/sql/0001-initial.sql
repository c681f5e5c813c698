-- Switchyard schema, migration 1: sites, meters, devices, groups, auth, readings, rollups.
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC). Ids are AUTOINCREMENT:
-- readings refer to meters without a foreign key, so an id must never be reused.

CREATE TABLE sites (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL CHECK (length (name) BETWEEN 1 AND 200),
  timezone    TEXT NOT NULL DEFAULT 'UTC',
  latitude    REAL CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90),
  longitude   REAL CHECK (longitude IS NULL OR longitude BETWEEN -180 AND 180),
  created_ms  INTEGER NOT NULL
);

CREATE TABLE meters (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id            INTEGER NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
  name               TEXT NOT NULL CHECK (length (name) BETWEEN 1 AND 200),
  kind               TEXT NOT NULL
                     CHECK (kind IN ('grid', 'pv', 'battery', 'ev_charger', 'load', 'submeter')),
  phases             INTEGER NOT NULL DEFAULT 3 CHECK (phases IN (1, 3)),
  nominal_voltage    REAL NOT NULL DEFAULT 230 CHECK (nominal_voltage > 0),
  device_key_hash    TEXT NOT NULL UNIQUE,
  hmac_secret        TEXT,
  require_signature  INTEGER NOT NULL DEFAULT 0,
  created_ms         INTEGER NOT NULL
);
CREATE INDEX meters_site ON meters (site_id);

CREATE TABLE meter_groups (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id     INTEGER REFERENCES sites (id) ON DELETE CASCADE,
  name        TEXT NOT NULL CHECK (length (name) BETWEEN 1 AND 200),
  created_ms  INTEGER NOT NULL
);

CREATE TABLE meter_group_members (
  group_id  INTEGER NOT NULL REFERENCES meter_groups (id) ON DELETE CASCADE,
  meter_id  INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, meter_id)
) WITHOUT ROWID;
CREATE INDEX meter_group_members_meter ON meter_group_members (meter_id);

-- A gateway device posts readings for several meters with one key.
CREATE TABLE devices (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  name               TEXT NOT NULL CHECK (length (name) BETWEEN 1 AND 200),
  device_key_hash    TEXT NOT NULL UNIQUE,
  hmac_secret        TEXT,
  require_signature  INTEGER NOT NULL DEFAULT 0,
  created_ms         INTEGER NOT NULL
);

CREATE TABLE device_meters (
  device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  meter_id   INTEGER NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
  PRIMARY KEY (device_id, meter_id)
) WITHOUT ROWID;

-- OAuth2 clients (RFC 6749 4.4). Secrets and tokens are stored as SHA-256 hex of
-- 256-bit random values, so a slow KDF buys nothing.
CREATE TABLE oauth_clients (
  client_id    TEXT PRIMARY KEY,
  name         TEXT NOT NULL CHECK (length (name) BETWEEN 1 AND 200),
  secret_hash  TEXT NOT NULL,
  scopes       TEXT NOT NULL,
  created_ms   INTEGER NOT NULL,
  revoked_ms   INTEGER
) WITHOUT ROWID;

CREATE TABLE oauth_tokens (
  token_hash  TEXT PRIMARY KEY,
  client_id   TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
  scopes      TEXT NOT NULL,
  issued_ms   INTEGER NOT NULL,
  expires_ms  INTEGER NOT NULL,
  revoked_ms  INTEGER
) WITHOUT ROWID;
CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);

-- Readings are clustered by meter so that a meter's range is one b-tree walk.
-- No foreign key: the writer checks the meter when it authenticates the request.
CREATE TABLE readings (
  meter_id       INTEGER NOT NULL,
  ts_ms          INTEGER NOT NULL,
  total_power    REAL,
  total_energy   REAL,
  voltage_a      REAL,
  voltage_b      REAL,
  voltage_c      REAL,
  current_a      REAL,
  current_b      REAL,
  current_c      REAL,
  power_factor   REAL,
  frequency      REAL,
  thd_v_pct      REAL,
  thd_i_pct      REAL,
  breaker_state  TEXT,
  extras         TEXT,
  PRIMARY KEY (meter_id, ts_ms)
) WITHOUT ROWID;

-- Rollups at 60 s, 900 s, 3600 s and 86400 s, maintained by the writer in the
-- transaction that stores the readings. energy_delta is the register difference
-- between the first and the last reading with an energy value inside the bucket.
CREATE TABLE rollups (
  meter_id         INTEGER NOT NULL,
  res_s            INTEGER NOT NULL,
  bucket_ms        INTEGER NOT NULL,
  count            INTEGER NOT NULL,
  power_count      INTEGER NOT NULL,
  sum_power        REAL NOT NULL,
  min_power        REAL,
  max_power        REAL,
  energy_first_ts  INTEGER,
  energy_first     REAL,
  energy_last_ts   INTEGER,
  energy_last      REAL,
  avg_power        REAL GENERATED ALWAYS AS
                     (CASE WHEN power_count > 0 THEN sum_power / power_count END) VIRTUAL,
  energy_delta     REAL GENERATED ALWAYS AS (energy_last - energy_first) VIRTUAL,
  PRIMARY KEY (meter_id, res_s, bucket_ms)
) WITHOUT ROWID;
