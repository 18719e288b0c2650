-- The other township nodes as central sent them down the feed (`townships`): each one's
-- public web address, so the home page links to them. Central's list, replaced whole; local.
CREATE TABLE peer_townships (
    township_code TEXT PRIMARY KEY CHECK (length(township_code) = 12),
    node_id TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    base_url TEXT NOT NULL,
    received_at TEXT NOT NULL
);
