-- 好差评 (issue 13): one rating per application and round (1: the service; 2: the fix after
-- a bad rating), created as an invitation when the application closes; a follow-up case
-- (整改) for every bad rating, owned by the unit that handled the deciding step.

CREATE TABLE ratings (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    application_id TEXT NOT NULL REFERENCES applications (id),
    round INTEGER NOT NULL CHECK (round IN (1, 2)),
    follow_up_id TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    phone TEXT NOT NULL CHECK (length(phone) = 11),
    village_code TEXT NOT NULL,
    office_code TEXT NOT NULL,
    office_level TEXT NOT NULL,
    outcome TEXT NOT NULL,
    invited_at TEXT NOT NULL,
    closed_on TEXT NOT NULL,
    follow_up_days INTEGER NOT NULL DEFAULT 5,
    handled_at TEXT NOT NULL DEFAULT 'edge' CHECK (handled_at IN ('edge', 'central')),
    -- 1 非常满意, 2 满意, 3 基本满意, 4 不满意, 5 非常不满意 (4 and 5 are 差评); NULL: not yet
    level INTEGER CHECK (level BETWEEN 1 AND 5),
    efficiency INTEGER CHECK (efficiency BETWEEN 1 AND 5),
    guide INTEGER CHECK (guide BETWEEN 1 AND 5),
    convenience INTEGER CHECK (convenience BETWEEN 1 AND 5),
    usability INTEGER CHECK (usability BETWEEN 1 AND 5),
    overall INTEGER CHECK (overall BETWEEN 1 AND 5),
    comment TEXT NOT NULL DEFAULT '',
    channel TEXT CHECK (channel IN ('link', 'tracking', 'sms', 'agent_device')),
    rated_at TEXT,
    changed_at TEXT,
    malicious_reason TEXT,
    malicious_by TEXT REFERENCES accounts (id),
    malicious_at TEXT,
    rev INTEGER NOT NULL DEFAULT 0,
    UNIQUE (application_id, round)
);
CREATE INDEX ratings_closed ON ratings (closed_on, office_code);
CREATE INDEX ratings_phone ON ratings (phone, invited_at);

CREATE TABLE follow_ups (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    rating_id TEXT NOT NULL UNIQUE REFERENCES ratings (id),
    application_id TEXT NOT NULL REFERENCES applications (id),
    village_code TEXT NOT NULL,
    office_code TEXT NOT NULL,
    office_level TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    opened_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'dismissed')),
    verified_note TEXT,
    verified_by TEXT,
    verified_at TEXT,
    remedy TEXT CHECK (remedy IN ('rectified', 'explained')),
    remedy_note TEXT,
    remedy_by TEXT,
    remedy_at TEXT,
    callback_result TEXT CHECK (callback_result IN ('satisfied', 'accepted', 'unsatisfied',
                                                    'unreachable')),
    callback_note TEXT,
    callback_by TEXT,
    callback_at TEXT,
    closed_on TEXT,
    closed_in_time INTEGER,
    handled_at TEXT NOT NULL DEFAULT 'edge' CHECK (handled_at IN ('edge', 'central')),
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX follow_ups_open ON follow_ups (status, due_on);

CREATE TRIGGER ratings_rev_insert AFTER INSERT ON ratings BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE ratings SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER ratings_rev_update AFTER UPDATE ON ratings WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE ratings SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER follow_ups_rev_insert AFTER INSERT ON follow_ups BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE follow_ups SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER follow_ups_rev_update AFTER UPDATE ON follow_ups WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE follow_ups SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
