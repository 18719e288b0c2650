-- A resident signs in with an SMS code (no password to remember): the code's hash, until
-- when it holds and how often it was tried, one row per phone (a new code replaces the old).
CREATE TABLE resident_codes (
    phone TEXT PRIMARY KEY CHECK (length(phone) = 11),
    code_hash TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
