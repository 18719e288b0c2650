-- A staged photo keeps the content type of what the node kept and of its thumbnail, so the
-- intake records each blob with the type the re-encoder chose instead of sniffing the bytes.
-- Every photo staged before this came from prepare_photo: a JPEG with a JPEG thumbnail.
ALTER TABLE staged_photos ADD COLUMN content_type TEXT NOT NULL DEFAULT 'image/jpeg';
ALTER TABLE staged_photos ADD COLUMN thumb_content_type TEXT NOT NULL DEFAULT 'image/jpeg';
