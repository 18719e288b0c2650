-- 我有话说's ratings as the levels of 好差评 (1 非常满意 … 5 非常不满意), as the edges keep them
-- from edge migration 0027; the text codes an edge not migrated yet still sends are turned
-- into levels as they are copied (the triggers), so old rows ingest as before.
ALTER TABLE edge_feedback ADD COLUMN rating_level INTEGER;
UPDATE edge_feedback SET rating_level = CASE rating WHEN 'very_satisfied' THEN 1
        WHEN 'satisfied' THEN 2 WHEN 'neutral' THEN 3
        WHEN 'dissatisfied' THEN 4 WHEN 'very_dissatisfied' THEN 5 END
WHERE rating IS NOT NULL AND rating_level IS NULL;
CREATE TRIGGER edge_feedback_rating_insert AFTER INSERT ON edge_feedback
WHEN NEW.rating IS NOT NULL AND NEW.rating_level IS NULL BEGIN
    UPDATE edge_feedback SET rating_level = CASE NEW.rating WHEN 'very_satisfied' THEN 1
        WHEN 'satisfied' THEN 2 WHEN 'neutral' THEN 3
        WHEN 'dissatisfied' THEN 4 WHEN 'very_dissatisfied' THEN 5 END
    WHERE node_id = NEW.node_id AND id = NEW.id;
END;
CREATE TRIGGER edge_feedback_rating_update AFTER UPDATE OF rating ON edge_feedback
WHEN NEW.rating IS NOT NULL AND NEW.rating_level IS NULL BEGIN
    UPDATE edge_feedback SET rating_level = CASE NEW.rating WHEN 'very_satisfied' THEN 1
        WHEN 'satisfied' THEN 2 WHEN 'neutral' THEN 3
        WHEN 'dissatisfied' THEN 4 WHEN 'very_dissatisfied' THEN 5 END
    WHERE node_id = NEW.node_id AND id = NEW.id;
END;
