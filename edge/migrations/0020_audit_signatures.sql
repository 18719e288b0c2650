-- Each audit row signed with the node's identity key (issue 12, finding 4): a row appended
-- behind the app's back, its hash chain recomputed, has no signature the key's holder made.
-- Rows written before this migration stay unsigned (legacy); every row after a signed one is
-- signed. A row names the key that signed it (node_identity.key_id), so keys can rotate.
ALTER TABLE audit_log ADD COLUMN key_id TEXT;
ALTER TABLE audit_log ADD COLUMN signature TEXT;
CREATE TRIGGER audit_log_signature_no_update BEFORE UPDATE OF key_id, signature ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
