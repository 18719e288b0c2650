-- 我的集市 photos (issue 15): up to three per listing, re-encoded on the node like intake
-- photos (EXIF dropped, long side ≤ 1600 px, thumbnail ≤ 15 KB), stored by sha256 in blobs.
CREATE TABLE market_photos (
    listing_id TEXT NOT NULL REFERENCES market_listings (id),
    position INTEGER NOT NULL CHECK (position BETWEEN 1 AND 3),
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    thumb_sha256 TEXT NOT NULL,
    thumb_content_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    PRIMARY KEY (listing_id, position)
);
