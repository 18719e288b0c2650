-- Audit rows signed (issue 12, finding 4): central's own log is signed with central's identity
-- key (its private half a file in the keys folder, its public half here), and the witness copy
-- of each node's rows keeps the signature the node made, checked against edge_node_identity.
CREATE TABLE node_identity (
    key_id TEXT PRIMARY KEY CHECK (length(key_id) = 26),
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL
);
ALTER TABLE audit_log ADD COLUMN key_id TEXT;
ALTER TABLE audit_log ADD COLUMN signature TEXT;
CREATE TRIGGER audit_log_signature_no_update BEFORE UPDATE OF key_id, signature ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
ALTER TABLE edge_audit_log ADD COLUMN key_id TEXT;
ALTER TABLE edge_audit_log ADD COLUMN signature TEXT;
-- The witness rows' signatures are checked once each: up to which seq, and what was found.
ALTER TABLE audit_checks ADD COLUMN signatures_to INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_checks ADD COLUMN signature_problems TEXT NOT NULL DEFAULT '';
