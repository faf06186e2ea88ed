"""The notifier's SQLite schema (notifier.store): deliveries and their outbox, the cases intake recorded, the region
inbox and what the deadlines of informing a household need. Columns added after the first release are added to an
existing file on open (MIGRATIONS)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    key             TEXT PRIMARY KEY,   -- idempotency key: sha256(cause ce_id:kind)
    kind            TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    case_id         TEXT NOT NULL,
    cause_event_id  TEXT NOT NULL,
    due_date        TEXT,               -- ISO date, Europe/Amsterdam calendar day
    body            BLOB NOT NULL,      -- receiver request, encoded by adapters.proto
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL,
    deliver_after   REAL NOT NULL,      -- not sent before this moment
    next_attempt_at REAL NOT NULL,      -- retry time, or the in-flight lease expiry
    updated_at      REAL NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    after_key       TEXT,               -- not sent before this delivery was delivered (letter after callback)
    overdue_for     TEXT,               -- the due date an overdue event was emitted for
    trace_context   TEXT NOT NULL DEFAULT ''  -- W3C trace context of the cause's handling (vtkit.tracing), ids only
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_case ON deliveries (tenant_id, case_id);
CREATE TABLE IF NOT EXISTS outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL UNIQUE,  -- ce_id of the published event, fixed before publishing
    event        TEXT NOT NULL,         -- requested | delivered | failed | overdue
    delivery_key TEXT NOT NULL REFERENCES deliveries (key),
    created_at   REAL NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    permanent    INTEGER NOT NULL DEFAULT 0,
    sent_at      REAL                   -- when the broker acknowledged it; kept OUTBOX_KEEP_DAYS to publish again
);
-- Per case, what intake recorded (MeldingReceived, still encrypted: opened only to render a letter).
CREATE TABLE IF NOT EXISTS cases (
    tenant_id   TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    event_id    TEXT NOT NULL,          -- ce_id of the MeldingReceived (associated data of its fields)
    received_at REAL NOT NULL,
    melding     BLOB NOT NULL,          -- serialized vt.intake.v1.MeldingReceived
    PRIMARY KEY (tenant_id, case_id)
);
-- Cases whose dossier intake destroyed (DossierDestroyed): nothing more is kept or sent for them.
CREATE TABLE IF NOT EXISTS destroyed_cases (
    tenant_id    TEXT NOT NULL,
    case_id      TEXT NOT NULL,
    destroyed_at REAL NOT NULL,
    PRIMARY KEY (tenant_id, case_id)
);
-- The region inbox (notifier.domain.inbox): one row per item, next to its delivery. seq orders ListInbox and
-- is its page token; rows are kept (the region may reconcile long after).
CREATE TABLE IF NOT EXISTS inbox (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    key                TEXT NOT NULL UNIQUE REFERENCES deliveries (key),
    tenant_id          TEXT NOT NULL,
    case_id            TEXT NOT NULL,
    occurred_at        REAL NOT NULL,
    acknowledge_before REAL NOT NULL,
    acknowledged_at    REAL,
    escalated_at       REAL
);
CREATE INDEX IF NOT EXISTS inbox_tenant ON inbox (tenant_id, seq);
CREATE INDEX IF NOT EXISTS inbox_unacknowledged ON inbox (acknowledged_at, escalated_at, acknowledge_before);
-- The last assessment input per person of a case, so that an inbox item can say what changed.
CREATE TABLE IF NOT EXISTS assessment_inputs (
    tenant_id TEXT NOT NULL,
    case_id   TEXT NOT NULL,
    person_id TEXT NOT NULL,
    input     BLOB NOT NULL,            -- serialized vt.radar.v1.AssessmentInput
    PRIMARY KEY (tenant_id, case_id, person_id)
);
-- The region's word that it talked with the melder about the decision, or could not reach them: a case's household
-- letter waits for it (docs/architecture.md, "What leaves Veilig Thuis"). The first confirmation counts.
CREATE TABLE IF NOT EXISTS melder_contacts (
    tenant_id    TEXT NOT NULL,
    case_id      TEXT NOT NULL,
    outcome      TEXT NOT NULL,         -- contacted | not_reached
    contacted_at REAL NOT NULL,
    recorded_at  REAL NOT NULL,
    PRIMARY KEY (tenant_id, case_id)
);
-- Meldingen that joined their household's open assessment (radar's EpisodeJoined): their household is informed by
-- the episode's letter, so they have no letter deadline of their own.
CREATE TABLE IF NOT EXISTS episode_members (
    tenant_id       TEXT NOT NULL,
    case_id         TEXT NOT NULL,
    episode_case_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, case_id)
);
-- Cases whose household letter deadline passed before any decision, reported to the region once.
CREATE TABLE IF NOT EXISTS undecided_letters_late (
    tenant_id   TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    reported_at REAL NOT NULL,
    PRIMARY KEY (tenant_id, case_id)
);
-- Every postponement of informing the household (docs/domain.md section 4), never deleted.
CREATE TABLE IF NOT EXISTS postponements (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    weeks       INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    due_before  TEXT NOT NULL,
    due_after   TEXT NOT NULL
);
"""

# Columns added after the first release: added to an existing file on open.
MIGRATIONS = {"after_key": "ALTER TABLE deliveries ADD COLUMN after_key TEXT",
              "overdue_for": "ALTER TABLE deliveries ADD COLUMN overdue_for TEXT",
              "trace_context": "ALTER TABLE deliveries ADD COLUMN trace_context TEXT NOT NULL DEFAULT ''"}
