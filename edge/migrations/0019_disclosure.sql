-- Results disclosure (办理结果公开) and the printable notice-board sheet (公开栏).
-- A decided application is disclosed unless staff withhold it with a reason (政府信息公开条例
-- art. 15); releasing it again keeps the row (released_at set), so the action is reversible
-- and the history stays. Seals may now certify a disclosure sheet, which names no application.

CREATE TABLE disclosure_withholdings (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    reason TEXT NOT NULL CHECK (reason IN ('third_party_privacy', 'trade_secret', 'minor')),
    note TEXT NOT NULL DEFAULT '',
    withheld_by TEXT NOT NULL REFERENCES accounts (id),
    withheld_at TEXT NOT NULL,
    released_by TEXT REFERENCES accounts (id),
    released_at TEXT,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER disclosure_withholdings_rev_insert AFTER INSERT ON disclosure_withholdings BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE disclosure_withholdings SET rev = (SELECT value FROM rev_counter)
    WHERE application_id = NEW.application_id;
END;
CREATE TRIGGER disclosure_withholdings_rev_update AFTER UPDATE ON disclosure_withholdings
WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE disclosure_withholdings SET rev = (SELECT value FROM rev_counter)
    WHERE application_id = NEW.application_id;
END;

-- Decided applications by month, for the results list and its filters.
CREATE INDEX IF NOT EXISTS applications_decided ON applications (status, finished_at);

CREATE TABLE seals_next (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    kind TEXT NOT NULL CHECK (kind IN ('decision', 'village_certificate', 'disclosure_sheet')),
    application_id TEXT REFERENCES applications (id)
        CHECK ((kind = 'disclosure_sheet') = (application_id IS NULL)),
    key_id TEXT NOT NULL REFERENCES seal_keys (id),
    algorithm TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    signature TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
INSERT INTO seals_next (id, kind, application_id, key_id, algorithm, payload, signature,
    created_at, rev)
SELECT id, kind, application_id, key_id, algorithm, payload, signature, created_at, rev
FROM seals;
DROP TABLE seals;
ALTER TABLE seals_next RENAME TO seals;
CREATE INDEX seals_application ON seals (application_id);
CREATE INDEX seals_sheet ON seals (kind, payload) WHERE kind = 'disclosure_sheet';
CREATE TRIGGER seals_rev_insert AFTER INSERT ON seals BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE seals SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER seals_rev_update AFTER UPDATE ON seals WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE seals SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
