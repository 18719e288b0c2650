-- Each signed feed request names a nonce once: central keeps the nonces it has seen while
-- their signature could still be accepted (the +-300 s window), so a captured request cannot
-- be replayed (central/feed/routes.py).
CREATE TABLE feed_nonces (
    node_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (node_id, nonce)
) WITHOUT ROWID;
CREATE INDEX feed_nonces_seen ON feed_nonces (seen_at);
