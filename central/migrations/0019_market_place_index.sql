-- Nearest-first market search reads a sparse tier of the administrative tree (a village, the
-- rest of a township or county) through this index instead of walking every live listing.
CREATE INDEX edge_market_listings_place ON edge_market_listings (state, village_code, created_at);
