-- Foundation: revision counter, jurisdictions, departments, catalog, accounts, sessions.
-- Every table central will read carries `rev`, bumped by trigger on insert and update from
-- one node-wide counter, so central ingests by a per-table watermark (DESIGN.md §2).

CREATE TABLE rev_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO rev_counter (id, value) VALUES (1, 0);

-- Reference data owned by central, keyed by official codes (stable across nodes).
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

-- Owned by this node: ULID ids.
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

-- Local only: session tokens are stored hashed, so a replica never holds a usable token.
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

CREATE TRIGGER jurisdictions_rev_insert AFTER INSERT ON jurisdictions BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE jurisdictions SET rev = (SELECT value FROM rev_counter) WHERE code = NEW.code;
END;
CREATE TRIGGER jurisdictions_rev_update AFTER UPDATE ON jurisdictions WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE jurisdictions SET rev = (SELECT value FROM rev_counter) WHERE code = NEW.code;
END;
CREATE TRIGGER departments_rev_insert AFTER INSERT ON departments BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE departments SET rev = (SELECT value FROM rev_counter) WHERE code = NEW.code;
END;
CREATE TRIGGER departments_rev_update AFTER UPDATE ON departments WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE departments SET rev = (SELECT value FROM rev_counter) WHERE code = NEW.code;
END;
CREATE TRIGGER catalog_items_rev_insert AFTER INSERT ON catalog_items BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE catalog_items SET rev = (SELECT value FROM rev_counter) WHERE code = NEW.code;
END;
CREATE TRIGGER catalog_items_rev_update AFTER UPDATE ON catalog_items WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE catalog_items SET rev = (SELECT value FROM rev_counter) WHERE code = NEW.code;
END;
CREATE TRIGGER accounts_rev_insert AFTER INSERT ON accounts BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE accounts SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER accounts_rev_update AFTER UPDATE ON accounts WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE accounts SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
