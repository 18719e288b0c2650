-- Blob uploads join the kernel outbox (edge/kernel/outbox.py): like every outbox table, the
-- `blobs` rows get a delivery state and the time a worker claimed them, and a blob is due from
-- the moment it is recorded. Existing rows keep their attempts, error and next time; central
-- ingests none of the new columns.
ALTER TABLE blobs ADD COLUMN upload_state TEXT NOT NULL DEFAULT 'queued'
    CHECK (upload_state IN ('queued', 'sending', 'sent', 'failed'));
ALTER TABLE blobs ADD COLUMN upload_claimed_at TEXT;
UPDATE blobs SET upload_state = 'sent' WHERE uploaded_at IS NOT NULL;
UPDATE blobs SET upload_next_at = created_at WHERE uploaded_at IS NULL AND upload_next_at IS NULL;
CREATE INDEX blobs_upload_queue ON blobs (upload_state, upload_next_at);
