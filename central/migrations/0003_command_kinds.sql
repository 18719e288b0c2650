-- Command kinds are declared once, in replication/feed/commands.py, and central appends only
-- typed commands: the feed table stops listing the kinds, so a new kind needs no migration.
-- SQLite cannot drop a CHECK in place: copy the table, keeping every row and its `seq`.
CREATE TABLE commands_next (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE CHECK (length(id) = 26),
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    kind TEXT NOT NULL CHECK (kind != ''),
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    created_at TEXT NOT NULL,
    created_by TEXT REFERENCES accounts (id),
    application_id TEXT,
    step_id TEXT
);
INSERT INTO commands_next (seq, id, node_id, kind, payload, created_at, created_by,
    application_id, step_id)
SELECT seq, id, node_id, kind, payload, created_at, created_by, application_id, step_id
FROM commands ORDER BY seq;
-- the feed's positions never go back: the new table takes over the old one's counter
DELETE FROM sqlite_sequence WHERE name = 'commands_next';
UPDATE sqlite_sequence SET name = 'commands_next' WHERE name = 'commands';
DROP TABLE commands;
ALTER TABLE commands_next RENAME TO commands;
CREATE INDEX commands_node ON commands (node_id, seq);
CREATE INDEX commands_step ON commands (node_id, step_id);
