-- The audit chain anchored outside the node (issue 12): the heartbeat publishes the chain's
-- head (sequence and hash); central keeps every head it sees beside its witness copy of the
-- rows, so rows cut, replaced or rewritten after central saw them are found.
ALTER TABLE heartbeat ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE heartbeat ADD COLUMN audit_hash TEXT NOT NULL DEFAULT '';
