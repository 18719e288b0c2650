-- 催办 and escalation of county steps at central (issue 13): central's own SMS outbox (the
-- edge's kind and columns, drained by `central follow`), every reminder central sent (the
-- township gets a copy by the feed), and the edges' new reminder columns.
CREATE TABLE sms_outbox (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    phone TEXT NOT NULL,
    template TEXT NOT NULL,
    body TEXT NOT NULL,
    application_id TEXT,
    dedupe_key TEXT UNIQUE,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    sent_at TEXT,
    claimed_by TEXT,
    started_at TEXT,
    unconfirmed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sms_outbox_due ON sms_outbox (state, next_attempt_at);

CREATE TABLE step_reminders (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    step_id TEXT NOT NULL,
    application_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('urge', 'escalation')),
    sent_by TEXT REFERENCES accounts (id),
    sent_at TEXT NOT NULL,
    recipients TEXT NOT NULL CHECK (json_valid(recipients)),
    note TEXT NOT NULL DEFAULT '',
    command_id TEXT NOT NULL
);
CREATE INDEX step_reminders_application ON step_reminders (node_id, application_id);
-- a step escalates at central exactly once
CREATE UNIQUE INDEX step_reminders_one_escalation ON step_reminders (node_id, step_id)
    WHERE kind = 'escalation';

ALTER TABLE edge_reminders ADD COLUMN origin TEXT;
ALTER TABLE edge_reminders ADD COLUMN sent_by_name TEXT;
