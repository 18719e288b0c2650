-- Supervision (issue 13): every 催办 a supervisor sends and every escalation of a step red too
-- long, one row each (the file's history shows them; central copies them for its figures),
-- and the heads of units (a township leader, a department head) whom escalations reach.
ALTER TABLE accounts ADD COLUMN is_head INTEGER NOT NULL DEFAULT 0 CHECK (is_head IN (0, 1));

CREATE TABLE reminders (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    step_id TEXT NOT NULL REFERENCES steps (id),
    application_id TEXT NOT NULL REFERENCES applications (id),
    kind TEXT NOT NULL CHECK (kind IN ('urge', 'escalation')),
    sent_by TEXT REFERENCES accounts (id),
    sent_at TEXT NOT NULL,
    recipients TEXT NOT NULL CHECK (json_valid(recipients)),
    note TEXT NOT NULL DEFAULT '',
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reminders_step ON reminders (step_id, sent_at);
CREATE INDEX reminders_application ON reminders (application_id);
-- a step escalates exactly once
CREATE UNIQUE INDEX reminders_one_escalation ON reminders (step_id) WHERE kind = 'escalation';

CREATE TRIGGER reminders_rev_insert AFTER INSERT ON reminders BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE reminders SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER reminders_rev_update AFTER UPDATE ON reminders WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE reminders SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
