-- Payments, operator actions, risk review, shipments and returns per order, and search.

ALTER TABLE orders
    ADD COLUMN phone               text,        -- E.164, for search and the RTO history of a phone
    ADD COLUMN entered_by          text,        -- the staff member who keyed the order in, if any
    ADD COLUMN risk_reasons        jsonb       NOT NULL DEFAULT '[]',
    ADD COLUMN warehouse_codes     text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN unroutable          boolean     NOT NULL DEFAULT false,
    ADD COLUMN held_for            text,        -- why an ON_HOLD order waits: review, operator, cod_no_reply, ...
    ADD COLUMN payment_expires_at  timestamptz,  -- prepaid and unpaid: cancelled after this
    ADD COLUMN cod_confirm_by      timestamptz,  -- COD awaiting the customer's reply until this
    ADD COLUMN promised_dispatch_by timestamptz,
    ADD COLUMN priority            int,
    ADD COLUMN refunded_paise      bigint      NOT NULL DEFAULT 0,
    ADD COLUMN refund_ids          text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN shipments           jsonb       NOT NULL DEFAULT '{}',  -- shipment_id → status
    ADD COLUMN returned            jsonb       NOT NULL DEFAULT '{}';  -- sku → units returned

UPDATE orders SET phone = customer->>'phone' WHERE customer IS NOT NULL;

CREATE INDEX orders_phone ON orders (phone);
CREATE INDEX orders_awbs ON orders USING gin (awbs);
CREATE INDEX orders_warehouses ON orders USING gin (warehouse_codes);
CREATE INDEX orders_gateway_payment ON orders ((payment->>'gateway_payment_id'));
CREATE INDEX orders_payment_due ON orders (payment_expires_at)
    WHERE status IN ('PLACED', 'PENDING_PAYMENT') AND payment_expires_at IS NOT NULL;
CREATE INDEX orders_cod_due ON orders (cod_confirm_by)
    WHERE status = 'PENDING_COD_CONFIRMATION';

-- What caused each change: a topic, an HTTP action or a webhook, beside the event id.
ALTER TABLE order_timeline ADD COLUMN cause text;

-- Razorpay deliveries already applied: a replay is recognised in the same transaction as the effect.
CREATE TABLE processed_webhooks (
    provider     text        NOT NULL,
    webhook_id   text        NOT NULL,
    event        text        NOT NULL,
    order_id     text,
    outcome      text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, webhook_id)
);

-- Phones and pincodes whose orders wait for review, with why and who added them.
CREATE TABLE risk_blocklist (
    kind      text        NOT NULL CHECK (kind IN ('phone', 'pincode')),
    value     text        NOT NULL,
    reason    text        NOT NULL,
    added_by  text        NOT NULL,
    added_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, value)
);
