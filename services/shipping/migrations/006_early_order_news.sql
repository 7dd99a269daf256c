-- What shipping hears about an order before it has made the order's shipments. orders.confirmed.v1,
-- orders.cancelled.v1 and orders.contact_corrected.v1 travel on three topics, so a cancellation or a
-- correction made right after confirmation can be consumed first; it is kept here and applied when
-- the confirmation arrives (a cancelled order is then never booked, a corrected one is booked to the
-- corrected address). Handlers serialise per order with an advisory lock (store.lock_order).
CREATE TABLE early_order_news (
    order_id      text PRIMARY KEY,
    cancelled_at  timestamptz,
    consignee     jsonb,
    corrected_at  timestamptz
);
