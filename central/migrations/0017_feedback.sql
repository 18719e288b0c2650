-- 我有话说 at central (issue 14): the edges' feedback items and their history as ingested
-- (county departments answer theirs at /officer/feedback, down the feed), and the Open311
-- GeoReport v2 API keys (stored as sha256, created by a central admin).
CREATE TABLE edge_feedback (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    tracking_code TEXT,
    village_code TEXT,
    kind TEXT,
    category TEXT,
    channel TEXT,
    body TEXT,
    public_body TEXT,
    author_name TEXT,
    author_phone TEXT,
    name_hidden INTEGER,
    private INTEGER,
    photo_sha256 TEXT,
    photo_hidden INTEGER,
    agent_id TEXT,
    department_code TEXT,
    level TEXT,
    state TEXT,
    deadline_days INTEGER,
    received_on TEXT,
    due_on TEXT,
    created_at TEXT,
    updated_at TEXT,
    answer TEXT,
    answered_by TEXT,
    answered_at TEXT,
    visit_note TEXT,
    rating TEXT,
    rated_at TEXT,
    reopened INTEGER,
    reopen_reason TEXT,
    urged_at TEXT,
    urge_count INTEGER,
    escalated_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE INDEX edge_feedback_id ON edge_feedback (id);
CREATE INDEX edge_feedback_department ON edge_feedback (level, department_code, state);
CREATE INDEX edge_feedback_created ON edge_feedback (created_at);
CREATE TABLE edge_feedback_events (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    feedback_id TEXT,
    at TEXT,
    action TEXT,
    state TEXT,
    note TEXT,
    actor TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE INDEX edge_feedback_events_item ON edge_feedback_events (node_id, feedback_id);
CREATE TABLE open311_keys (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
