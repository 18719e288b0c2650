-- Supervision (issue 13): the edges' reminders (催办 and escalations) and heads of units,
-- copied like the other edge_* tables; central's own department heads.
ALTER TABLE accounts ADD COLUMN is_head INTEGER NOT NULL DEFAULT 0 CHECK (is_head IN (0, 1));
ALTER TABLE edge_accounts ADD COLUMN is_head INTEGER;

CREATE TABLE edge_reminders (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    step_id TEXT,
    application_id TEXT,
    kind TEXT,
    sent_by TEXT,
    sent_at TEXT,
    recipients TEXT,
    note TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE INDEX edge_reminders_step ON edge_reminders (node_id, step_id);
CREATE INDEX edge_applications_village ON edge_applications (village_code, submitted_on);
