-- SMS delivery that survives a killed worker: who claimed a row (a dead claimer's rows are
-- re-queued at once), when its send started (only a started send is asked after), and how many
-- sends no gateway could confirm (shown as "may have been sent twice" on /admin/sms).
ALTER TABLE sms_outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE sms_outbox ADD COLUMN started_at TEXT;
ALTER TABLE sms_outbox ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0;
