-- The payment an order was actually paid with, from payments.updated.v1 (captured): a prepaid
-- order paid after placement (Razorpay's webhook) is refunded to that payment, never to an
-- address typed into a return request. Its own table, so a capture read before the order's
-- orders.placed.v1 (another topic) is kept too.

CREATE TABLE captured_payments (
    order_id text PRIMARY KEY,
    gateway text NOT NULL,
    gateway_payment_id text NOT NULL,
    amount_paise bigint NOT NULL CHECK (amount_paise >= 0),
    captured_at timestamptz NOT NULL
);

-- Exchanges are like for like: a replacement must be another variant (size, colour) of the
-- returned SKU's product. The seller may name the product; else the SKU's stem names it.
ALTER TABLE return_skus ADD COLUMN product text;
