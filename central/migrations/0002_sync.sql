-- Central's own data: reference data (loaded from the same files as the edges), its own
-- accounts (county officers, central admins), its seals, the command feed, the followers of
-- each edge replica, and the ingested copies of edge rows (edge_*, keyed by node).

CREATE TABLE jurisdictions (
    code TEXT PRIMARY KEY CHECK (length(code) = 12 AND code GLOB '[0-9]*'),
    parent_code TEXT REFERENCES jurisdictions (code),
    level TEXT NOT NULL CHECK (level IN ('province', 'city', 'county', 'township', 'village', 'grid')),
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jurisdictions_parent ON jurisdictions (parent_code, position);
CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE catalog_items (
    code TEXT PRIMARY KEY,
    department_code TEXT NOT NULL REFERENCES departments (code),
    level TEXT NOT NULL CHECK (level IN ('village', 'township', 'county')),
    mode TEXT NOT NULL CHECK (mode IN ('direct', 'forwarded')),
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    keywords TEXT NOT NULL DEFAULT '',
    statutory_days INTEGER NOT NULL CHECK (statutory_days > 0),
    promised_days INTEGER NOT NULL CHECK (promised_days > 0 AND promised_days <= statutory_days),
    body TEXT NOT NULL CHECK (json_valid(body)),
    active INTEGER NOT NULL DEFAULT 1,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX catalog_items_department ON catalog_items (department_code, code);
CREATE TABLE catalog_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);
CREATE TABLE accounts (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    phone TEXT NOT NULL UNIQUE CHECK (length(phone) = 11 AND phone GLOB '1[0-9]*'),
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('resident', 'agent', 'township_staff', 'officer',
                                       'supervisor', 'node_admin', 'central_admin')),
    jurisdiction_code TEXT NOT NULL REFERENCES jurisdictions (code),
    department_code TEXT REFERENCES departments (code),
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0,
    CHECK ((role = 'officer') = (department_code IS NOT NULL))
);
CREATE INDEX accounts_jurisdiction ON accounts (jurisdiction_code);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE TABLE login_failures (
    phone TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until TEXT
);
CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY CHECK (length(day) = 10),
    is_workday INTEGER NOT NULL CHECK (is_workday IN (0, 1)),
    note TEXT NOT NULL DEFAULT '',
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE seal_keys (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    office TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX seal_keys_office ON seal_keys (office, created_at);

-- Central's seals: a county decision is signed here before it travels down the feed.
CREATE TABLE seals (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    kind TEXT NOT NULL CHECK (kind IN ('county_decision')),
    application_id TEXT NOT NULL,
    key_id TEXT NOT NULL REFERENCES seal_keys (id),
    algorithm TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    signature TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX seals_application ON seals (application_id);

-- The feed: commands for one node each, pulled by that node after its cursor (`seq`).
CREATE TABLE commands (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE CHECK (length(id) = 26),
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    kind TEXT NOT NULL CHECK (kind IN ('county_decision', 'calendar', 'catalog')),
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    created_at TEXT NOT NULL,
    created_by TEXT REFERENCES accounts (id),
    application_id TEXT,
    step_id TEXT
);
CREATE INDEX commands_node ON commands (node_id, seq);
CREATE INDEX commands_step ON commands (node_id, step_id);

-- One `litestream restore -f` follower per node, as its supervisor last saw it.
CREATE TABLE followers (
    node_id TEXT PRIMARY KEY REFERENCES nodes (node_id),
    state TEXT NOT NULL CHECK (state IN ('starting', 'following', 'backoff', 'stopped')),
    pid INTEGER,
    restarts INTEGER NOT NULL DEFAULT 0,
    started_ms INTEGER,
    mirror_path TEXT,
    rss_kb INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    updated_ms INTEGER NOT NULL
);

-- How far ingest has read each table of each node's mirror.
CREATE TABLE ingest_watermarks (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    table_name TEXT NOT NULL,
    rev INTEGER NOT NULL,
    PRIMARY KEY (node_id, table_name)
);

-- Replication lag: each heartbeat seen by ingest (commit on the edge -> ingested here).
CREATE TABLE lag_samples (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    beat_ms INTEGER NOT NULL,
    ingested_ms INTEGER NOT NULL,
    PRIMARY KEY (node_id, beat_ms)
);

CREATE TABLE edge_applications (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    tracking_code TEXT,
    item_code TEXT,
    village_code TEXT,
    agent_id TEXT,
    applicant_id_number TEXT,
    applicant_name TEXT,
    applicant_phone TEXT,
    form_data TEXT,
    status TEXT,
    stage INTEGER,
    submitted_at TEXT,
    submitted_on TEXT,
    promised_due_on TEXT,
    paused_on TEXT,
    finished_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_steps (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    application_id TEXT,
    stage INTEGER,
    level TEXT,
    department_code TEXT,
    name_zh TEXT,
    name_en TEXT,
    days INTEGER,
    status TEXT,
    started_on TEXT,
    due_on TEXT,
    decided_by TEXT,
    decided_at TEXT,
    opinion TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_supplement_requests (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    application_id TEXT,
    step_id TEXT,
    requested_by TEXT,
    requested_at TEXT,
    material_keys TEXT,
    note TEXT,
    resolved_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_attachments (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    application_id TEXT,
    kind TEXT,
    material_key TEXT,
    sha256 TEXT,
    thumb_sha256 TEXT,
    width INTEGER,
    height INTEGER,
    created_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_blobs (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    sha256 TEXT,
    content_type TEXT,
    bytes INTEGER,
    created_at TEXT,
    rev INTEGER,
    uploaded_at TEXT,
    upload_attempts INTEGER,
    upload_next_at TEXT,
    upload_error TEXT,
    PRIMARY KEY (node_id, sha256)
);
CREATE TABLE edge_seals (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    kind TEXT,
    application_id TEXT,
    key_id TEXT,
    algorithm TEXT,
    payload TEXT,
    signature TEXT,
    created_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_seal_keys (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    office TEXT,
    algorithm TEXT,
    public_key TEXT,
    created_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_accounts (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    phone TEXT,
    name TEXT,
    role TEXT,
    jurisdiction_code TEXT,
    department_code TEXT,
    active INTEGER,
    created_at TEXT,
    updated_at TEXT,
    rev INTEGER,
    origin TEXT,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_audit_log (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    seq INTEGER,
    at TEXT,
    actor_id TEXT,
    role TEXT,
    jurisdiction_code TEXT,
    action TEXT,
    object_type TEXT,
    object_id TEXT,
    result TEXT,
    prev_hash TEXT,
    hash TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, seq)
);
CREATE TABLE edge_heartbeat (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id INTEGER,
    beat_ms INTEGER,
    feed_pulled_ms INTEGER,
    feed_error TEXT,
    rev INTEGER,
    ingested_ms INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE TABLE edge_node_identity (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    key_id TEXT,
    algorithm TEXT,
    public_key TEXT,
    created_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, key_id)
);
CREATE TABLE edge_applied_commands (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    seq INTEGER,
    kind TEXT,
    result TEXT,
    detail TEXT,
    applied_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE INDEX edge_steps_queue ON edge_steps (status, level, department_code);
CREATE INDEX edge_steps_application ON edge_steps (node_id, application_id);
CREATE INDEX edge_attachments_application ON edge_attachments (node_id, application_id);
