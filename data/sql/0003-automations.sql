-- Switchyard schema, migration 3: automations (actions, rules, the deliveries outbox,
-- annotations, relay approvals and their audit trail). See backend/rules/.
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC).

-- What a rule can do. config is the type's JSON object (backend/rules/sy-actions.c validates
-- it). A webhook answering 410 Gone disables its action (enabled = 0, disabled_reason set).
CREATE TABLE automation_actions (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  name             TEXT NOT NULL CHECK (length (name) BETWEEN 1 AND 200),
  type             TEXT NOT NULL
                   CHECK (type IN ('webhook', 'annotate', 'alert', 'relay_command',
                                   'notify_email', 'plugin_action')),
  config           TEXT NOT NULL,
  enabled          INTEGER NOT NULL DEFAULT 1,
  disabled_reason  TEXT,
  created_by       TEXT,
  created_ms       INTEGER NOT NULL,
  updated_ms       INTEGER NOT NULL
);

CREATE TABLE automation_rules (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  name              TEXT NOT NULL CHECK (length (name) BETWEEN 1 AND 200),
  description       TEXT,
  event_key         TEXT NOT NULL
                    CHECK (event_key IN ('data.ingested', 'pq.event', 'protection.event',
                                         'alert.triggered')),
  jsonlogic         TEXT NOT NULL,
  throttle_seconds  INTEGER NOT NULL DEFAULT 0 CHECK (throttle_seconds >= 0),
  dedupe_template   TEXT,
  enabled           INTEGER NOT NULL DEFAULT 1,
  created_by        TEXT,
  created_ms        INTEGER NOT NULL,
  updated_ms        INTEGER NOT NULL
);

-- An action still used by a rule cannot be deleted.
CREATE TABLE automation_rule_actions (
  rule_id    INTEGER NOT NULL REFERENCES automation_rules (id) ON DELETE CASCADE,
  position   INTEGER NOT NULL,
  action_id  INTEGER NOT NULL REFERENCES automation_actions (id) ON DELETE RESTRICT,
  PRIMARY KEY (rule_id, position)
) WITHOUT ROWID;
CREATE INDEX automation_rule_actions_action ON automation_rule_actions (action_id);

-- When a rule last fired per rendered dedupe key, so that a restart does not fire again
-- inside the throttle window.
CREATE TABLE automation_fired (
  rule_id     INTEGER NOT NULL REFERENCES automation_rules (id) ON DELETE CASCADE,
  dedupe_key  TEXT NOT NULL,
  fired_ms    INTEGER NOT NULL,
  PRIMARY KEY (rule_id, dedupe_key)
) WITHOUT ROWID;

-- The outbox: one row per action run. status:
--   pending    waiting for next_attempt_at (new, or a retry after a failure)
--   in_flight  an attempt is running (found at start-up: the process died mid-attempt, so the
--              delivery is retried: at-least-once, receivers dedupe on webhook_id)
--   succeeded  done
--   failed     the last attempt failed and another is scheduled at next_attempt_at
--   dead       no further attempt (schedule exhausted, 410, refused destination, disabled action)
-- No foreign keys: deliveries are history and outlive their rule and action.
CREATE TABLE deliveries (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  action_id        INTEGER NOT NULL,
  rule_id          INTEGER,
  event_type       TEXT,
  event            TEXT,
  payload          TEXT NOT NULL,
  message_id       TEXT NOT NULL,
  destination      TEXT,
  status           TEXT NOT NULL
                   CHECK (status IN ('pending', 'in_flight', 'succeeded', 'failed', 'dead')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER,
  last_error       TEXT,
  response_code    INTEGER,
  latency_ms       INTEGER,
  created_ms       INTEGER NOT NULL,
  updated_ms       INTEGER NOT NULL
);
CREATE INDEX deliveries_status ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_action ON deliveries (action_id);

-- Notes on a meter's timeline (the annotate action), shown in charts.
CREATE TABLE annotations (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  meter_id     INTEGER NOT NULL,
  ts_ms        INTEGER NOT NULL,
  text         TEXT NOT NULL,
  rule_id      INTEGER,
  action_id    INTEGER,
  delivery_id  INTEGER,
  created_ms   INTEGER NOT NULL
);
CREATE INDEX annotations_meter ON annotations (meter_id, ts_ms);

-- relay_command never executes directly: it asks for a second person's approval. status:
-- pending → approved (then recorded: there is no MQTT yet) | rejected | expired.
CREATE TABLE automation_approvals (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  action_id     INTEGER NOT NULL,
  rule_id       INTEGER,
  delivery_id   INTEGER,
  command       TEXT NOT NULL,
  status        TEXT NOT NULL
                CHECK (status IN ('pending', 'rejected', 'expired', 'recorded')),
  requested_by  TEXT,
  decided_by    TEXT,
  reason        TEXT,
  created_ms    INTEGER NOT NULL,
  expires_ms    INTEGER NOT NULL,
  decided_ms    INTEGER
);
CREATE INDEX automation_approvals_status ON automation_approvals (status, expires_ms);

CREATE TABLE automation_audit (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  ts_ms      INTEGER NOT NULL,
  actor      TEXT,
  what       TEXT NOT NULL,
  object_id  INTEGER,
  detail     TEXT
);
