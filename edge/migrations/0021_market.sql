-- 我的集市 (issue 15): real-name sellers checked by their village agent, their supply and
-- demand listings (replicated to central, searchable there), buyers' contact requests (SMS to
-- the seller; central's come down the feed), reports and staff hide/restore.
CREATE TABLE market_sellers (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    kind TEXT NOT NULL CHECK (kind IN ('person', 'cooperative')),
    name TEXT NOT NULL,
    cooperative TEXT NOT NULL DEFAULT '',
    id_number TEXT NOT NULL,
    phone TEXT NOT NULL CHECK (length(phone) = 11),
    village_code TEXT NOT NULL REFERENCES jurisdictions (code),
    checked_by TEXT NOT NULL REFERENCES accounts (id),
    checked_at TEXT NOT NULL,
    hidden_count INTEGER NOT NULL DEFAULT 0,
    suspended_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (id_number, cooperative)
);
CREATE INDEX market_sellers_village ON market_sellers (village_code);
CREATE INDEX market_sellers_phone ON market_sellers (phone);

CREATE TABLE market_listings (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    seller_id TEXT NOT NULL REFERENCES market_sellers (id),
    seller_label TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('supply', 'demand')),
    category TEXT NOT NULL,
    product TEXT NOT NULL,
    variety TEXT NOT NULL DEFAULT '',
    grade TEXT NOT NULL DEFAULT '',
    quantity REAL NOT NULL CHECK (quantity > 0),
    unit TEXT NOT NULL,
    price_fen INTEGER CHECK (price_fen IS NULL OR price_fen > 0),
    available_from TEXT NOT NULL,
    available_until TEXT NOT NULL CHECK (available_until >= available_from),
    village_code TEXT NOT NULL,
    delivery_note TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    search_grams TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('active', 'sold_out', 'withdrawn', 'hidden')),
    hidden_reason TEXT NOT NULL DEFAULT '',
    origin_confirmed_by TEXT NOT NULL REFERENCES accounts (id),
    origin_confirmed_at TEXT NOT NULL,
    origin_seal_id TEXT,
    posted_by TEXT NOT NULL REFERENCES accounts (id),
    manage_token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX market_listings_live ON market_listings (state, available_until);
CREATE INDEX market_listings_created ON market_listings (state, created_at);
CREATE INDEX market_listings_seller ON market_listings (seller_id);
CREATE INDEX market_listings_rev ON market_listings (rev);
CREATE TRIGGER market_listings_rev_insert AFTER INSERT ON market_listings BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE market_listings SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER market_listings_rev_update AFTER UPDATE ON market_listings
WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE market_listings SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;

-- full text: trigram over product, variety, description (queries of 3+ characters); 1-2
-- character queries match search_grams, each character and bigram followed by '|'
CREATE VIRTUAL TABLE market_listings_fts USING fts5(
    product, variety, description, search_grams,
    content='market_listings', content_rowid='rowid', tokenize='trigram'
);
CREATE TRIGGER market_listings_fts_insert AFTER INSERT ON market_listings BEGIN
    INSERT INTO market_listings_fts (rowid, product, variety, description, search_grams)
    VALUES (NEW.rowid, NEW.product, NEW.variety, NEW.description, NEW.search_grams);
END;
CREATE TRIGGER market_listings_fts_update AFTER UPDATE OF product, variety, description,
    search_grams ON market_listings BEGIN
    INSERT INTO market_listings_fts (market_listings_fts, rowid, product, variety, description,
        search_grams)
    VALUES ('delete', OLD.rowid, OLD.product, OLD.variety, OLD.description, OLD.search_grams);
    INSERT INTO market_listings_fts (rowid, product, variety, description, search_grams)
    VALUES (NEW.rowid, NEW.product, NEW.variety, NEW.description, NEW.search_grams);
END;

CREATE TABLE market_contacts (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    listing_id TEXT NOT NULL REFERENCES market_listings (id),
    buyer_phone TEXT NOT NULL CHECK (length(buyer_phone) = 11),
    buyer_key TEXT NOT NULL,
    message TEXT NOT NULL,
    source_key TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('edge', 'central')),
    dedupe_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX market_contacts_listing ON market_contacts (listing_id, created_at);
CREATE INDEX market_contacts_buyer ON market_contacts (buyer_key, created_at);
CREATE INDEX market_contacts_source ON market_contacts (source_key, created_at);
CREATE TRIGGER market_contacts_rev_insert AFTER INSERT ON market_contacts BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE market_contacts SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;
CREATE TRIGGER market_contacts_rev_update AFTER UPDATE ON market_contacts
WHEN NEW.rev = OLD.rev BEGIN
    UPDATE rev_counter SET value = value + 1;
    UPDATE market_contacts SET rev = (SELECT value FROM rev_counter) WHERE id = NEW.id;
END;

CREATE TABLE market_reports (
    id TEXT PRIMARY KEY CHECK (length(id) = 26),
    listing_id TEXT NOT NULL REFERENCES market_listings (id),
    reason TEXT NOT NULL CHECK (reason IN
        ('spam', 'fraud', 'prohibited', 'wrong_category', 'duplicate')),
    note TEXT NOT NULL DEFAULT '',
    source_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT REFERENCES accounts (id),
    resolution TEXT CHECK (resolution IS NULL OR resolution IN ('hidden', 'kept'))
);
CREATE INDEX market_reports_open ON market_reports (resolved_at, created_at);
CREATE INDEX market_reports_listing ON market_reports (listing_id);
