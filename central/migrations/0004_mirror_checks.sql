-- What central's follow process learns of each mirror: the replica generation it follows, and
-- the mirror's own check (SQLite's quick_check every few seconds): unchecked, ok or corrupt
-- (failed twice in a row), and when it last passed.
ALTER TABLE followers ADD COLUMN replica_generation INTEGER;
ALTER TABLE followers ADD COLUMN mirror_state TEXT NOT NULL DEFAULT 'unchecked'
    CHECK (mirror_state IN ('unchecked', 'ok', 'corrupt'));
ALTER TABLE followers ADD COLUMN mirror_good_ms INTEGER;
