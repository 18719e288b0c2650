-- Idempotency keys record what the first request created (kind and id), not the URL it was
-- answered with: handlers rebuild the URL from the named route. Every URL ever stored names an
-- application, and becomes it:
--   /agent/applications/<id>/receipt  (an intake)
--   /agent/applications/<id>          (a supplement or a withdrawal)
--   /staff/applications/<id>          (a township decision)
-- Any other URL gives no id, the NOT NULL below fails and the whole migration is rolled back:
-- no key is lost or silently turned into something else.
-- Local to this node: no rev column, central never ingests this table.

CREATE TABLE idempotency_results (
    key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    request_hash TEXT NOT NULL,
    result_kind TEXT NOT NULL CHECK (result_kind <> ''),
    result_id TEXT NOT NULL CHECK (result_id <> '' AND instr(result_id, '/') = 0),
    created_at TEXT NOT NULL
);

INSERT INTO idempotency_results (key, account_id, request_hash, result_kind, result_id, created_at)
SELECT
    key,
    account_id,
    request_hash,
    'application',
    CASE
        WHEN substr(result_url, 1, 20) = '/agent/applications/'
            AND substr(result_url, -8) = '/receipt'
            THEN substr(result_url, 21, length(result_url) - 28)
        WHEN substr(result_url, 1, 20) IN ('/agent/applications/', '/staff/applications/')
            THEN substr(result_url, 21)
    END,
    created_at
FROM idempotency_keys;

DROP TABLE idempotency_keys;
ALTER TABLE idempotency_results RENAME TO idempotency_keys;
