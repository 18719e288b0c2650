-- 我的集市 (issue 15): each edge's listings and contact counts as ingested (the seller's
-- masked label only: no name, ID or phone leaves the edge in these columns), a trigram index
-- over them for the city-wide search, and the contact requests buyers made here.
CREATE TABLE edge_market_listings (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    seller_id TEXT,
    seller_label TEXT,
    side TEXT,
    category TEXT,
    product TEXT,
    variety TEXT,
    grade TEXT,
    quantity REAL,
    unit TEXT,
    price_fen INTEGER,
    available_from TEXT,
    available_until TEXT,
    village_code TEXT,
    delivery_note TEXT,
    description TEXT,
    search_grams TEXT,
    state TEXT,
    origin_confirmed_at TEXT,
    origin_seal_id TEXT,
    created_at TEXT,
    updated_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE INDEX edge_market_listings_live ON edge_market_listings (state, available_until);
-- newest first walks this index and stops at a page (the window's end is checked per row)
CREATE INDEX edge_market_listings_created ON edge_market_listings (state, created_at);
CREATE VIRTUAL TABLE market_search USING fts5(
    product, variety, description, search_grams,
    content='edge_market_listings', content_rowid='rowid', tokenize='trigram'
);
CREATE TRIGGER market_search_insert AFTER INSERT ON edge_market_listings BEGIN
    INSERT INTO market_search (rowid, product, variety, description, search_grams)
    VALUES (NEW.rowid, NEW.product, NEW.variety, NEW.description, NEW.search_grams);
END;
CREATE TRIGGER market_search_update AFTER UPDATE OF product, variety, description,
    search_grams ON edge_market_listings BEGIN
    INSERT INTO market_search (market_search, rowid, product, variety,
        description, search_grams)
    VALUES ('delete', OLD.rowid, OLD.product, OLD.variety, OLD.description, OLD.search_grams);
    INSERT INTO market_search (rowid, product, variety, description, search_grams)
    VALUES (NEW.rowid, NEW.product, NEW.variety, NEW.description, NEW.search_grams);
END;
CREATE TRIGGER market_search_delete AFTER DELETE ON edge_market_listings BEGIN
    INSERT INTO market_search (market_search, rowid, product, variety,
        description, search_grams)
    VALUES ('delete', OLD.rowid, OLD.product, OLD.variety, OLD.description, OLD.search_grams);
END;

CREATE TABLE edge_market_contacts (
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    id TEXT,
    listing_id TEXT,
    buyer_key TEXT,
    origin TEXT,
    created_at TEXT,
    rev INTEGER,
    PRIMARY KEY (node_id, id)
);
CREATE INDEX edge_market_contacts_listing ON edge_market_contacts (node_id, listing_id, created_at);

-- contact requests made at central (rate limits, this week's count until the edge's copy is
-- ingested); the buyer's number travels only in the command to the seller's edge
CREATE TABLE market_contacts (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    node_id TEXT NOT NULL REFERENCES nodes (node_id),
    listing_id TEXT NOT NULL,
    buyer_key TEXT NOT NULL,
    source_key TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    command_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX market_contacts_buyer ON market_contacts (buyer_key, created_at);
CREATE INDEX market_contacts_source ON market_contacts (source_key, created_at);
CREATE INDEX market_contacts_listing ON market_contacts (node_id, listing_id, created_at);
