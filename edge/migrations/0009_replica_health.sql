-- What the replicate process last learned of the node's replica by restoring it (a restore
-- drill with a full integrity check): one row. `generation` is the replica generation being
-- written; `good_ms` is when a drill last restored it clean, `good_txid` the point it reached.
-- state: unknown (no drill yet), ok, corrupt (a drill's integrity check failed), healing (a new
-- generation is being written and not yet verified), unreachable (the store did not answer).
CREATE TABLE replica_health (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL DEFAULT 'unknown'
        CHECK (state IN ('unknown', 'ok', 'corrupt', 'healing', 'unreachable')),
    checked_ms INTEGER,
    good_ms INTEGER,
    good_txid INTEGER,
    error TEXT NOT NULL DEFAULT ''
);
INSERT INTO replica_health (id) VALUES (1);
