-- Delivery after the record: a message row is written with the event that caused it (status
-- queued), and a dispatcher sends it later under its deterministic message_id, the provider's
-- idempotency key. The message id is derived from (order, occasion, recipient, channel), so it is
-- the uniqueness guarantee; alerts have no order.

ALTER TABLE messages DROP CONSTRAINT messages_once;
ALTER TABLE messages ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('queued', 'sent', 'failed', 'suppressed'));
ALTER TABLE messages
    ADD COLUMN occasion            text        NOT NULL DEFAULT '',
    ADD COLUMN subject             text,
    ADD COLUMN provider_template   text        NOT NULL DEFAULT '',
    ADD COLUMN dlt_template_id     text,
    ADD COLUMN body                text        NOT NULL DEFAULT '',
    ADD COLUMN buttons             jsonb       NOT NULL DEFAULT '[]',
    ADD COLUMN url_suffix          text,
    ADD COLUMN urgent              boolean     NOT NULL DEFAULT true,
    ADD COLUMN transactional       boolean     NOT NULL DEFAULT true,
    ADD COLUMN fallback            jsonb,        -- the SMS to queue if WhatsApp cannot deliver
    ADD COLUMN fallback_of         text REFERENCES messages (message_id),
    ADD COLUMN attempts            integer     NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN lease_until         timestamptz,  -- a dispatcher is sending it until then
    ADD COLUMN delivery            text        NOT NULL DEFAULT 'queued'
        CHECK (delivery IN ('queued', 'sent', 'delivered', 'read', 'failed'));
-- bench/ and old rows: status 'sent' is the send outcome; delivery follows the provider's callbacks.
UPDATE messages SET delivery = status WHERE status IN ('sent', 'failed');

CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status = 'queued';
CREATE UNIQUE INDEX messages_provider_id ON messages (provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX messages_subject ON messages (subject) WHERE subject IS NOT NULL;

-- Every status a message went through, with when and why: the audit's history.
CREATE TABLE message_events (
    id          bigserial PRIMARY KEY,
    message_id  text        NOT NULL REFERENCES messages (message_id),
    status      text        NOT NULL,
    detail      text,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_events_message ON message_events (message_id, id);

-- Customers who sent STOP: they get transactional messages only.
CREATE TABLE opt_outs (
    phone         text PRIMARY KEY,
    opted_out_at  timestamptz NOT NULL DEFAULT now(),
    source        text        NOT NULL
);

-- Who to message about an order, learnt from orders.status_changed (shipping and returns events
-- carry no customer).
CREATE TABLE contacts (
    order_id          text PRIMARY KEY,
    channel_order_id  text NOT NULL,
    name              text NOT NULL,
    phone             text NOT NULL,
    language          text NOT NULL DEFAULT 'en'
);

-- Customer replies already turned into events: a webhook delivered twice emits once.
CREATE TABLE replies (
    provider_message_id  text PRIMARY KEY,
    order_id             text        NOT NULL,
    choice               text        NOT NULL,
    in_reply_to          text,
    received_at          timestamptz NOT NULL DEFAULT now()
);

-- Refunds waiting since when, for the overdue alert.
CREATE TABLE pending_refunds (
    return_id      text PRIMARY KEY,
    order_id       text        NOT NULL,
    pending_since  timestamptz NOT NULL,
    done           boolean     NOT NULL DEFAULT false,
    alerted        boolean     NOT NULL DEFAULT false
);

-- The dead-letter topics' sizes last seen, for the "DLQ growing" alert.
CREATE TABLE dlq_watermarks (
    topic       text PRIMARY KEY,
    end_offset  bigint NOT NULL
);
