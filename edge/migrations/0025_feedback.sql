-- 我有话说 (issue 14): one row per feedback item, written only by this node (the answer of a
-- county department arrives by the feed and is written here too), replicated to central;
-- its history in feedback_events; each submission's key (a retry gets the first item) and
-- where it came from (for rate limits), kept here only.
CREATE TABLE feedback (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    tracking_code TEXT NOT NULL UNIQUE,
    village_code TEXT NOT NULL REFERENCES jurisdictions (code),
    kind TEXT NOT NULL CHECK (kind IN ('problem', 'complaint', 'consultation', 'help',
                                       'suggestion')),
    category TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('web', 'agent', 'sms', 'open311')),
    body TEXT NOT NULL,
    public_body TEXT,
    author_name TEXT NOT NULL DEFAULT '',
    author_phone TEXT NOT NULL DEFAULT '',
    name_hidden INTEGER NOT NULL DEFAULT 0,
    private INTEGER NOT NULL DEFAULT 0,
    photo_sha256 TEXT REFERENCES blobs (sha256),
    photo_hidden INTEGER NOT NULL DEFAULT 0,
    agent_id TEXT REFERENCES accounts (id),
    department_code TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('township', 'county')),
    state TEXT NOT NULL CHECK (state IN ('accepted', 'transferred', 'handling', 'answered',
                                         'visited', 'rated')),
    deadline_days INTEGER NOT NULL CHECK (deadline_days > 0),
    received_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    answer TEXT,
    answered_by TEXT,
    answered_at TEXT,
    visit_note TEXT,
    rating TEXT CHECK (rating IN ('very_satisfied', 'satisfied', 'neutral', 'dissatisfied',
                                  'very_dissatisfied')),
    rated_at TEXT,
    reopened INTEGER NOT NULL DEFAULT 0,
    reopen_reason TEXT,
    urged_at TEXT,
    urge_count INTEGER NOT NULL DEFAULT 0,
    escalated_at TEXT,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX feedback_public ON feedback (private, created_at);
CREATE INDEX feedback_village ON feedback (village_code, created_at);
CREATE INDEX feedback_open ON feedback (state, due_on);
CREATE TABLE feedback_events (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    feedback_id TEXT NOT NULL REFERENCES feedback (id),
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL DEFAULT '',
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX feedback_events_item ON feedback_events (feedback_id, at);
CREATE TABLE feedback_submissions (
    submit_key TEXT PRIMARY KEY,
    feedback_id TEXT NOT NULL REFERENCES feedback (id),
    source TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX feedback_submissions_source ON feedback_submissions (source, at);
CREATE TRIGGER feedback_rev_insert AFTER INSERT ON feedback BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE feedback SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER feedback_rev_update AFTER UPDATE ON feedback WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE feedback SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER feedback_events_rev_insert AFTER INSERT ON feedback_events BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE feedback_events SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER feedback_events_rev_update AFTER UPDATE ON feedback_events
WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE feedback_events SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
