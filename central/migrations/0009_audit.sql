-- Central's own audit log (issue 12): the same append-only, hash-chained table and triggers
-- as the edges' (edge 0002), for officers' reads, decisions, logins and admin actions.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id TEXT,
    role TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    result TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OF at, actor_id, role, jurisdiction_code,
    action, object_type, object_id, result, prev_hash, hash ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Each node's chain anchored here: the heartbeat's head as ingested, every head ever seen
-- (a second hash for one sequence is itself a divergence), and the newest comparison of the
-- node's chain (its mirror) with central's witness copy (edge_audit_log), for /nodes.
ALTER TABLE edge_heartbeat ADD COLUMN audit_seq INTEGER;
ALTER TABLE edge_heartbeat ADD COLUMN audit_hash TEXT;
CREATE TABLE audit_heads (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    seen_ms INTEGER NOT NULL,
    PRIMARY KEY (node_id, seq, hash)
);
CREATE TABLE audit_checks (
    node_id TEXT PRIMARY KEY REFERENCES nodes (node_id),
    state TEXT NOT NULL CHECK (state IN ('ok', 'diverged')),
    problems TEXT NOT NULL DEFAULT '',
    checked_ms INTEGER NOT NULL
);
