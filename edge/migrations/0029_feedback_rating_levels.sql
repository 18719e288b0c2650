-- 我有话说's ratings as the levels of 好差评 (edge/ratings/levels.py: 1 非常满意 … 5 非常不满意),
-- in a new column: the old text codes are converted and cleared (the update bumps rev, so
-- central copies the change); `rating` stays, unused, for replicas of older nodes.
ALTER TABLE feedback ADD COLUMN rating_level INTEGER CHECK (rating_level BETWEEN 1 AND 5);
UPDATE feedback SET rating_level = CASE rating WHEN 'very_satisfied' THEN 1
        WHEN 'satisfied' THEN 2 WHEN 'neutral' THEN 3
        WHEN 'dissatisfied' THEN 4 WHEN 'very_dissatisfied' THEN 5 END,
    rating = NULL
WHERE rating IS NOT NULL;
