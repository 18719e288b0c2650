-- Sync with central: blob uploads, the heartbeat, the node's identity, applied commands.

-- Durable intent of a blob upload: a blob is uploaded to the store until `uploaded_at` is set.
ALTER TABLE blobs ADD COLUMN uploaded_at TEXT;
ALTER TABLE blobs ADD COLUMN upload_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE blobs ADD COLUMN upload_next_at TEXT;
ALTER TABLE blobs ADD COLUMN upload_error TEXT NOT NULL DEFAULT '';
CREATE INDEX blobs_upload_due ON blobs (upload_next_at) WHERE uploaded_at IS NULL;

-- One row the sync process rewrites every few seconds: central measures lag with it, and
-- reads when this node last pulled the command feed.
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    beat_ms INTEGER NOT NULL,
    feed_pulled_ms INTEGER,
    feed_error TEXT NOT NULL DEFAULT '',
    rev INTEGER NOT NULL DEFAULT 0
);

-- The public half of the key this node signs its feed requests with; the private half is a
-- file in data_dir/keys. Central learns the public key from the replica.
CREATE TABLE node_identity (
    key_id TEXT PRIMARY KEY CHECK (length(key_id) = 26),
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);

-- Every command of the feed this node has taken, applied or refused, exactly once.
CREATE TABLE applied_commands (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    seq INTEGER NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('applied', 'refused')),
    detail TEXT NOT NULL DEFAULT '',
    applied_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);

-- Officers of county departments who decide at central are named here by their central id;
-- such accounts cannot log in at the township (no password, inactive).
ALTER TABLE accounts ADD COLUMN origin TEXT NOT NULL DEFAULT 'local'
    CHECK (origin IN ('local', 'central'));

CREATE TRIGGER heartbeat_rev_insert AFTER INSERT ON heartbeat BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE heartbeat SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER heartbeat_rev_update AFTER UPDATE ON heartbeat WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE heartbeat SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER node_identity_rev_insert AFTER INSERT ON node_identity BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE node_identity SET rev = (SELECT value FROM rev_counter) WHERE key_id = NEW.key_id;
END;
CREATE TRIGGER node_identity_rev_update AFTER UPDATE ON node_identity WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE node_identity SET rev = (SELECT value FROM rev_counter) WHERE key_id = NEW.key_id;
END;
CREATE TRIGGER applied_commands_rev_insert AFTER INSERT ON applied_commands BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE applied_commands SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER applied_commands_rev_update AFTER UPDATE ON applied_commands WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE applied_commands SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
