-- 阳光红页 part 2 (issue 14): benefit policies (central's arrive by the feed), village
-- affairs with finance lines, election publicity with candidates, news. All replicated.

CREATE TABLE policies (
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL CHECK (origin IN ('central', 'township')),
    scope_code TEXT NOT NULL,
    title TEXT NOT NULL,
    issuer TEXT NOT NULL,
    eligibility TEXT NOT NULL,
    amount TEXT NOT NULL,
    how_to_apply TEXT NOT NULL,
    item_code TEXT,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    created_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER policies_rev_insert AFTER INSERT ON policies BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE policies SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER policies_rev_update AFTER UPDATE ON policies WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE policies SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TABLE affairs (
    id TEXT PRIMARY KEY,
    village_code TEXT NOT NULL REFERENCES jurisdictions (code),
    kind TEXT NOT NULL CHECK (kind IN ('village', 'party', 'finance', 'major')),
    period TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    income_total_fen INTEGER,
    spending_total_fen INTEGER,
    status TEXT NOT NULL CHECK (status IN ('draft', 'pending', 'published', 'returned')),
    return_reason TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    reviewed_by TEXT REFERENCES accounts (id),
    reviewed_at TEXT,
    published_at TEXT,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER affairs_rev_insert AFTER INSERT ON affairs BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE affairs SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER affairs_rev_update AFTER UPDATE ON affairs WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE affairs SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TABLE affair_lines (
    id TEXT PRIMARY KEY,
    affair_id TEXT NOT NULL REFERENCES affairs (id),
    position INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('income', 'spending')),
    label TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER affair_lines_rev_insert AFTER INSERT ON affair_lines BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE affair_lines SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER affair_lines_rev_update AFTER UPDATE ON affair_lines WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE affair_lines SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TABLE elections (
    id TEXT PRIMARY KEY,
    village_code TEXT NOT NULL REFERENCES jurisdictions (code),
    title TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES accounts (id),
    created_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER elections_rev_insert AFTER INSERT ON elections BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE elections SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER elections_rev_update AFTER UPDATE ON elections WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE elections SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TABLE election_candidates (
    id TEXT PRIMARY KEY,
    election_id TEXT NOT NULL REFERENCES elections (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER election_candidates_rev_insert AFTER INSERT ON election_candidates BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE election_candidates SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER election_candidates_rev_update AFTER UPDATE ON election_candidates WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE election_candidates SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TABLE news (
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL CHECK (origin IN ('central', 'township')),
    scope TEXT NOT NULL CHECK (scope IN ('city', 'township', 'village')),
    scope_code TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    photo_sha256 TEXT,
    thumb_sha256 TEXT,
    author_id TEXT,
    published_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER news_rev_insert AFTER INSERT ON news BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE news SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER news_rev_update AFTER UPDATE ON news WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE news SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE INDEX policies_valid ON policies (valid_to, valid_from);
CREATE INDEX affairs_village ON affairs (village_code, status, kind, period);
CREATE INDEX affair_lines_affair ON affair_lines (affair_id, position);
CREATE INDEX elections_village ON elections (village_code, ends_on);
CREATE INDEX election_candidates_election ON election_candidates (election_id, position);
CREATE INDEX news_scope ON news (published_at, scope, scope_code);
