-- Central's copy of each township's withheld disclosures, so the city's results list leaves
-- out what a township withheld (released ones come back when released_at arrives).
CREATE TABLE edge_disclosure_withholdings (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    application_id TEXT,
    reason TEXT,
    note TEXT,
    withheld_by TEXT,
    withheld_at TEXT,
    released_by TEXT,
    released_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, application_id)
);
