-- Central's copies of the edges' public content (issue 14) and its own city-wide rows.

CREATE TABLE edge_policies (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    origin TEXT,
    scope_code TEXT,
    title TEXT,
    issuer TEXT,
    eligibility TEXT,
    amount TEXT,
    how_to_apply TEXT,
    item_code TEXT,
    valid_from TEXT,
    valid_to TEXT,
    created_by TEXT,
    created_at TEXT,
    updated_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_affairs (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    village_code TEXT,
    kind TEXT,
    period TEXT,
    title TEXT,
    body TEXT,
    income_total_fen INTEGER,
    spending_total_fen INTEGER,
    status TEXT,
    return_reason TEXT,
    created_by TEXT,
    created_at TEXT,
    updated_at TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT,
    published_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_affair_lines (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    affair_id TEXT,
    position INTEGER,
    direction TEXT,
    label TEXT,
    amount_fen INTEGER,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_elections (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    village_code TEXT,
    title TEXT,
    note TEXT,
    starts_on TEXT,
    ends_on TEXT,
    created_by TEXT,
    created_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_election_candidates (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    election_id TEXT,
    position INTEGER,
    name TEXT,
    role TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_news (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    origin TEXT,
    scope TEXT,
    scope_code TEXT,
    title TEXT,
    body TEXT,
    photo_sha256 TEXT,
    thumb_sha256 TEXT,
    author_id TEXT,
    published_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE INDEX edge_affair_lines_affair ON edge_affair_lines (node_id, affair_id);
CREATE INDEX edge_election_candidates_election ON edge_election_candidates (node_id, election_id);
CREATE TABLE city_policies (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    issuer TEXT NOT NULL,
    eligibility TEXT NOT NULL,
    amount TEXT NOT NULL,
    how_to_apply TEXT NOT NULL,
    item_code TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    created_by TEXT NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL
);
CREATE TABLE city_news (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES accounts (id),
    published_at TEXT NOT NULL
);
-- central admins' publications carry idempotency keys, as edge forms do (edge.kernel.idempotency)
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    request_hash TEXT NOT NULL,
    result_kind TEXT NOT NULL CHECK (result_kind <> ''),
    result_id TEXT NOT NULL CHECK (result_id <> '' AND instr(result_id, '/') = 0),
    created_at TEXT NOT NULL
);
