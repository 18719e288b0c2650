-- Photos an agent's device sent ahead of their application (the offline outbox), keyed by the
-- sha256 of the bytes the device sent, so a retry asks which ones already arrived.
-- Device traffic stays on this node: no rev columns, central never ingests this table.

CREATE TABLE staged_photos (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    sent_sha256 TEXT NOT NULL CHECK (length(sent_sha256) = 64),
    -- what the node kept after re-encoding (blobs/<aa>/<sha256>), as an intake form's token
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    thumb_sha256 TEXT NOT NULL CHECK (length(thumb_sha256) = 64),
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, sent_sha256)
) WITHOUT ROWID;
