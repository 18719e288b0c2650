-- A password (or tracking-code) check in flight: counted against the attempt limit from the
-- moment it starts, so a parallel burst cannot run more checks than the limit allows, and
-- turned into a failure or withdrawn when it ends; one whose process died expires (lockout.py).
CREATE TABLE login_checks (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    started_at TEXT NOT NULL
);
CREATE INDEX login_checks_key ON login_checks (key, started_at);
