-- Sign-in throttling an attacker cannot turn against the owner (edge/kernel/auth/throttle.py).
-- Where each running check came from, so one address's checks in flight count against its limit.
ALTER TABLE login_checks ADD COLUMN source TEXT;
CREATE INDEX login_checks_source ON login_checks (source);

-- Failed checks per source address across all accounts and tracking codes (sources.py): past
-- ten, each further try waits 2^k seconds (at most 15 minutes); forgotten an hour after the last.
CREATE TABLE login_sources (
    source TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failed_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX login_sources_last_failed ON login_sources (last_failed_at);

-- A browser that signed in to an account (or opened a tracking code's details), by the sha256
-- of its cb_device cookie: its owner's usual device, limited on its own (devices.py).
CREATE TABLE known_devices (
    token_hash TEXT NOT NULL,
    key TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (token_hash, key)
) WITHOUT ROWID;
