-- Gateway payments that arrived before their order (a store's checkout is faster than its order
-- webhook): kept here and applied when the order arrives, matched by our order id, the channel's
-- order id (notes.order_id) or the gateway payment id the order carries (ADR 116).
CREATE TABLE early_payments (
    id               bigserial   PRIMARY KEY,
    payment_id       text        NOT NULL,
    order_ref        text,
    event            jsonb       NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    matched_order_id text,
    matched_at       timestamptz
);
CREATE INDEX early_payments_waiting_ref ON early_payments (order_ref) WHERE matched_order_id IS NULL;
CREATE INDEX early_payments_waiting_payment ON early_payments (payment_id) WHERE matched_order_id IS NULL;
