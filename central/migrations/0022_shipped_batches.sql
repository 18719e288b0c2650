-- Ingest batches a follow shard on another machine ships through the store
-- (replication/shipped_batches.py): the last batch key central applied, per shard folder, so a
-- batch whose deletion failed is never applied again over newer rows.
CREATE TABLE shipped_batches (
    shard TEXT PRIMARY KEY,
    last_key TEXT NOT NULL
);
