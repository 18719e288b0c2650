-- Applications end to end: intake, steps, supplements, attachments, blobs, calendar, seals,
-- audit log, SMS outbox, idempotency keys.

CREATE TABLE applications (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    tracking_code TEXT NOT NULL UNIQUE,
    item_code TEXT NOT NULL REFERENCES catalog_items (code),
    village_code TEXT NOT NULL REFERENCES jurisdictions (code),
    agent_id TEXT NOT NULL REFERENCES accounts (id),
    applicant_id_number TEXT NOT NULL CHECK (length(applicant_id_number) = 18),
    applicant_name TEXT NOT NULL,
    applicant_phone TEXT NOT NULL CHECK (length(applicant_phone) = 11),
    form_data TEXT NOT NULL CHECK (json_valid(form_data)),
    status TEXT NOT NULL CHECK (status IN ('in_review', 'returned', 'approved', 'rejected',
                                           'withdrawn')),
    stage INTEGER NOT NULL DEFAULT 0,
    submitted_at TEXT NOT NULL,
    submitted_on TEXT NOT NULL,
    promised_due_on TEXT NOT NULL,
    paused_on TEXT,
    finished_at TEXT,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX applications_village ON applications (village_code, status);
CREATE INDEX applications_agent ON applications (agent_id, status);

-- One row per department per stage; a stage with several rows is a joint review.
CREATE TABLE steps (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    application_id TEXT NOT NULL REFERENCES applications (id),
    stage INTEGER NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('village', 'township', 'county')),
    department_code TEXT NOT NULL REFERENCES departments (code),
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    days INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'active', 'approved', 'rejected',
                                           'returned', 'cancelled')),
    started_on TEXT,
    due_on TEXT,
    decided_by TEXT REFERENCES accounts (id),
    decided_at TEXT,
    opinion TEXT NOT NULL DEFAULT '',
    rev INTEGER NOT NULL DEFAULT 0,
    UNIQUE (application_id, stage, department_code)
);
CREATE INDEX steps_queue ON steps (status, department_code, due_on);

CREATE TABLE supplement_requests (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    application_id TEXT NOT NULL REFERENCES applications (id),
    step_id TEXT NOT NULL REFERENCES steps (id),
    requested_by TEXT NOT NULL REFERENCES accounts (id),
    requested_at TEXT NOT NULL,
    material_keys TEXT NOT NULL CHECK (json_valid(material_keys)),
    note TEXT NOT NULL DEFAULT '',
    resolved_at TEXT,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX supplement_requests_application ON supplement_requests (application_id);

-- Content-addressed files on disk (blobs/<aa>/<sha256>); the row records that we hold it.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    content_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    application_id TEXT NOT NULL REFERENCES applications (id),
    kind TEXT NOT NULL CHECK (kind IN ('material', 'signature')),
    material_key TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    thumb_sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX attachments_application ON attachments (application_id);

-- Exceptions to "Monday-Friday work": public holidays and 调休 make-up working days.
CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY CHECK (length(day) = 10),
    is_workday INTEGER NOT NULL CHECK (is_workday IN (0, 1)),
    note TEXT NOT NULL DEFAULT '',
    rev INTEGER NOT NULL DEFAULT 0
);

-- Public keys of this node's offices; private keys live in files under data_dir/keys/.
CREATE TABLE seal_keys (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    office TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX seal_keys_office ON seal_keys (office, created_at);

CREATE TABLE seals (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    kind TEXT NOT NULL CHECK (kind IN ('decision', 'village_certificate')),
    application_id TEXT NOT NULL REFERENCES applications (id),
    key_id TEXT NOT NULL REFERENCES seal_keys (id),
    algorithm TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    signature TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX seals_application ON seals (application_id);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id TEXT,
    role TEXT NOT NULL,
    jurisdiction_code TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    result TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OF at, actor_id, role, jurisdiction_code,
    action, object_type, object_id, result, prev_hash, hash ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE sms_outbox (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    phone TEXT NOT NULL,
    template TEXT NOT NULL,
    body TEXT NOT NULL,
    application_id TEXT REFERENCES applications (id),
    dedupe_key TEXT UNIQUE,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    sent_at TEXT,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sms_outbox_due ON sms_outbox (state, next_attempt_at);

-- Retried POSTs: the first result is kept and returned; a reused key with other content is refused.
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    request_hash TEXT NOT NULL,
    result_url TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Periodic jobs remember when they last ran, so a stopped worker catches up.
CREATE TABLE job_runs (
    name TEXT PRIMARY KEY,
    last_run_at TEXT NOT NULL
);

-- rev bumps (see 0001)
CREATE TRIGGER applications_rev_insert AFTER INSERT ON applications BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE applications SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER applications_rev_update AFTER UPDATE ON applications WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE applications SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER steps_rev_insert AFTER INSERT ON steps BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE steps SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER steps_rev_update AFTER UPDATE ON steps WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE steps SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER supplement_requests_rev_insert AFTER INSERT ON supplement_requests BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE supplement_requests SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER supplement_requests_rev_update AFTER UPDATE ON supplement_requests WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE supplement_requests SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER blobs_rev_insert AFTER INSERT ON blobs BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE blobs SET rev = (SELECT value FROM rev_counter) WHERE sha256 = NEW.sha256;
END;
CREATE TRIGGER blobs_rev_update AFTER UPDATE ON blobs WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE blobs SET rev = (SELECT value FROM rev_counter) WHERE sha256 = NEW.sha256;
END;
CREATE TRIGGER attachments_rev_insert AFTER INSERT ON attachments BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE attachments SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER attachments_rev_update AFTER UPDATE ON attachments WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE attachments SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER calendar_days_rev_insert AFTER INSERT ON calendar_days BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE calendar_days SET rev = (SELECT value FROM rev_counter) WHERE day = NEW.day;
END;
CREATE TRIGGER calendar_days_rev_update AFTER UPDATE ON calendar_days WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE calendar_days SET rev = (SELECT value FROM rev_counter) WHERE day = NEW.day;
END;
CREATE TRIGGER seal_keys_rev_insert AFTER INSERT ON seal_keys BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE seal_keys SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER seal_keys_rev_update AFTER UPDATE ON seal_keys WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE seal_keys SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER seals_rev_insert AFTER INSERT ON seals BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE seals SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER seals_rev_update AFTER UPDATE ON seals WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE seals SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER sms_outbox_rev_insert AFTER INSERT ON sms_outbox BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE sms_outbox SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER sms_outbox_rev_update AFTER UPDATE ON sms_outbox WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE sms_outbox SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER audit_log_rev_insert AFTER INSERT ON audit_log BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE audit_log SET rev = (SELECT value FROM rev_counter) WHERE seq = NEW.seq;
END;
