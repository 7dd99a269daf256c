-- The return desk: order and shipment read models, eligibility rules as data, the status history,
-- QC results per line, refunds (claimed before any gateway call) and store credit.

ALTER TABLE order_status ADD COLUMN delivered_at timestamptz;  -- first DELIVERED; later statuses keep it

-- What orders.placed.v1 said: lines, prices, customer, address and payment, for eligibility and refunds.
CREATE TABLE orders (
    order_id            text PRIMARY KEY,
    channel             text        NOT NULL,
    channel_order_id    text        NOT NULL,
    customer            jsonb       NOT NULL,
    shipping_address    jsonb       NOT NULL,
    lines               jsonb       NOT NULL,
    shipping_fee_paise  bigint      NOT NULL,
    discount_paise      bigint      NOT NULL,
    total_paise         bigint      NOT NULL,
    payment             jsonb       NOT NULL,
    placed_at           timestamptz NOT NULL
);

-- Forward shipments (shipping.shipment_created.v1): which warehouse shipped which lines.
CREATE TABLE shipments (
    shipment_id     text PRIMARY KEY,
    order_id        text  NOT NULL,
    warehouse_code  text  NOT NULL,
    lines           jsonb NOT NULL
);
CREATE INDEX shipments_order ON shipments (order_id);

-- Eligibility as data: a window per category, and SKUs put in a category or marked non-returnable.
CREATE TABLE return_categories (
    category     text PRIMARY KEY,
    window_days  integer NOT NULL CHECK (window_days >= 0)
);
CREATE TABLE return_skus (
    sku         text PRIMARY KEY,
    category    text REFERENCES return_categories (category),
    returnable  boolean NOT NULL DEFAULT true
);

ALTER TABLE returns
    ADD COLUMN kind            text NOT NULL DEFAULT 'return' CHECK (kind IN ('return', 'rto')),
    ADD COLUMN pickup_mode     text NOT NULL DEFAULT 'reverse_pickup'
                               CHECK (pickup_mode IN ('reverse_pickup', 'drop_off')),
    ADD COLUMN warehouse_code  text,
    ADD COLUMN shipment_id     text,          -- the forward shipment an RTO parcel came back on
    ADD COLUMN pickup_awb      text,
    ADD COLUMN refund_to       jsonb,         -- COD: where the money goes (upi, bank_account, store_credit)
    ADD COLUMN photo_urls      jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN requested_by    text NOT NULL DEFAULT 'customer',
    ADD COLUMN received_at     timestamptz,
    ADD COLUMN qc_at           timestamptz,
    ADD COLUMN closed_at       timestamptz;
CREATE UNIQUE INDEX returns_rto_shipment ON returns (shipment_id) WHERE kind = 'rto';

-- Every status a return went through, by whom and why: the timeline and the analytics' clock.
CREATE TABLE return_history (
    id          bigserial PRIMARY KEY,
    return_id   text        NOT NULL REFERENCES returns (return_id),
    status      text        NOT NULL,
    actor       text        NOT NULL,
    note        text,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX return_history_return ON return_history (return_id, id);

-- The warehouse's verdict per line: how many units passed and failed, with a grade and a note.
CREATE TABLE qc_lines (
    return_id  text    NOT NULL REFERENCES returns (return_id),
    sku        text    NOT NULL,
    passed     integer NOT NULL CHECK (passed >= 0),
    failed     integer NOT NULL CHECK (failed >= 0),
    grade      text    NOT NULL,
    note       text,
    actor      text    NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (return_id, sku)
);

-- One refund per return, written in the QC transaction, before any call to a gateway: a retried
-- call finds this row and sends the same idempotency key, so the customer is never paid twice.
CREATE TABLE refunds (
    refund_id           text PRIMARY KEY,
    return_id           text        NOT NULL UNIQUE REFERENCES returns (return_id),
    order_id            text        NOT NULL,
    mode                text        NOT NULL CHECK (mode IN ('gateway_refund', 'payout', 'store_credit')),
    amount_paise        bigint      NOT NULL CHECK (amount_paise > 0),
    shipping_fee_paise  bigint      NOT NULL DEFAULT 0,
    status              text        NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'initiated', 'processed', 'failed')),
    attempt             integer     NOT NULL DEFAULT 1,   -- a new attempt (new key) only after a final failure
    calls               integer     NOT NULL DEFAULT 0,   -- gateway calls made, retries included
    lease_until         timestamptz,                      -- a worker is calling the gateway until then
    gateway_payment_id  text,
    gateway_refund_id   text,
    failure_reason      text,
    sla_alerted_at      timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    processed_at        timestamptz
);
CREATE INDEX refunds_open ON refunds (status, created_at) WHERE status IN ('pending', 'initiated', 'failed');
CREATE UNIQUE INDEX refunds_gateway_id ON refunds (gateway_refund_id);

CREATE TABLE store_credits (
    credit_id     text PRIMARY KEY,
    return_id     text        NOT NULL UNIQUE REFERENCES returns (return_id),
    phone         text        NOT NULL,
    amount_paise  bigint      NOT NULL CHECK (amount_paise > 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
