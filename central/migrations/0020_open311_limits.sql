-- Open311 API keys (issue 14): each key's limit of POSTed requests per hour, who revoked it
-- and when, and the times of its accepted requests within the last hour (the rate limit).
ALTER TABLE open311_keys ADD COLUMN per_hour INTEGER NOT NULL DEFAULT 60;
ALTER TABLE open311_keys ADD COLUMN revoked_at TEXT;
ALTER TABLE open311_keys ADD COLUMN revoked_by TEXT;
CREATE TABLE open311_key_uses (
    key_id TEXT NOT NULL REFERENCES open311_keys (id),
    at TEXT NOT NULL
);
CREATE INDEX open311_key_uses_key ON open311_key_uses (key_id, at);
