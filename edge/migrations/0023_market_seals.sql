-- 我的集市 origin proof (issue 15): each listing's origin (product, village, the agent's
-- confirmation, the seller masked) sealed with the village's key like a village certificate;
-- /verify/{id} checks it. The listing's id sits in `application_id`, named as in `seals`, so
-- one code signs and verifies both.
CREATE TABLE market_seals (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    kind TEXT NOT NULL CHECK (kind = 'market_origin'),
    application_id TEXT NOT NULL REFERENCES market_listings (id),
    key_id TEXT NOT NULL REFERENCES seal_keys (id),
    algorithm TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    signature TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX market_seals_listing ON market_seals (application_id);
