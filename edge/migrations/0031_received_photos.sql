-- Photos the outbox sent that the node has received and kept as sent (durably, under
-- data_dir/received/), not yet re-encoded: the PUT is answered once this row is committed and
-- the re-encode runs off the request path. The row goes when the photo is staged
-- (staged_photos); a form naming the photo waits for that, or does it. Device traffic:
-- never replicated.

CREATE TABLE received_photos (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    sent_sha256 TEXT NOT NULL CHECK (length(sent_sha256) = 64),
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, sent_sha256)
) WITHOUT ROWID;
