-- Webhook subscriptions (POST /api/v1/webhooks). The delivery queues are in
-- memory; the subscriptions survive a restart.
CREATE TABLE webhooks (
    -- 32 lowercase hex digits, random.
    id         TEXT    NOT NULL PRIMARY KEY,
    url        TEXT    NOT NULL,
    -- JSON array of event names: new_block, new_transaction, reorg.
    events     TEXT    NOT NULL,
    -- HMAC-SHA256 key of the subscriber's deliveries (X-Signature).
    secret     TEXT    NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX webhooks_created ON webhooks (created_ms);
