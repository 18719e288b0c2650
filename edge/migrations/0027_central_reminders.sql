-- 催办 and escalations of county steps sent at central (issue 13): central's feed writes them
-- into the township's history; the sender is not an account of this node, so their name is
-- kept, and `origin` says where the reminder was sent from.
ALTER TABLE reminders ADD COLUMN origin TEXT NOT NULL DEFAULT 'township'
    CHECK (origin IN ('township', 'central'));
ALTER TABLE reminders ADD COLUMN sent_by_name TEXT;
