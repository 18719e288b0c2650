-- SMS that residents send to the node's number: each gateway message id once, with which
-- feature claimed it and the reply queued (an SMS of the outbox), so a redelivery is ignored.
CREATE TABLE sms_inbound (
    id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    phone TEXT NOT NULL CHECK (length(phone) = 11),
    text TEXT NOT NULL CHECK (length(text) <= 500),
    received_at TEXT NOT NULL,
    claimed_by TEXT NOT NULL DEFAULT '',
    reply_sms_id TEXT
);
CREATE INDEX sms_inbound_phone ON sms_inbound (phone, received_at);
