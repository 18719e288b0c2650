-- Web push: the node's VAPID key, agents' and staff's device subscriptions, the push outbox.
-- Personal device data stays on this node: no rev columns, central never ingests these tables.

-- Public halves only; the private key is a 0600 PEM file under data_dir/keys/vapid/.
CREATE TABLE vapid_keys (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE push_subscriptions (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id);

-- One row per subscription, written with the change that causes it; the worker drains it.
CREATE TABLE push_outbox (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    subscription_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'gone')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX push_outbox_due ON push_outbox (state, next_attempt_at);
