-- Nearest-first market search reads a sparse tier of the administrative tree (a village, the
-- rest of a township) through this index instead of walking every live listing newest first.
CREATE INDEX market_listings_place ON market_listings (state, village_code, created_at);
