-- The township edge nodes central knows.
CREATE TABLE nodes (
    node_id TEXT PRIMARY KEY,
    township_code TEXT NOT NULL UNIQUE CHECK (length(township_code) = 12),
    township_zh TEXT NOT NULL,
    township_en TEXT NOT NULL,
    county_zh TEXT NOT NULL,
    county_en TEXT NOT NULL,
    base_url TEXT NOT NULL,
    registered_at TEXT NOT NULL
);
