-- Deliveries of webhook events not yet acknowledged by their receivers: a
-- delivery is written here before it is queued and removed once its
-- receiver answers 2xx, so a stop (clean or kill -9) loses none.
CREATE TABLE webhook_outbox (
    webhook_id  TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- X-Webhook-Delivery: 32 lowercase hex digits, random.
    delivery_id TEXT    NOT NULL,
    -- Queue order across restarts (assigned by the node, increasing).
    seq         BIGINT  NOT NULL,
    -- new_block, new_transaction or reorg.
    event       TEXT    NOT NULL,
    -- The signed JSON body, as sent.
    body        TEXT    NOT NULL,
    PRIMARY KEY (webhook_id, delivery_id)
);
CREATE INDEX webhook_outbox_seq ON webhook_outbox (seq);
