-- Orders routing found no stock for (no plan, or inventory could not reserve any), kept to plan
-- again when one of their SKUs is announced with stock: a backordered or held order goes on by
-- itself once stock arrives, oldest first, and an order placed a moment before routing heard of a
-- receipt is picked up as soon as it does.
CREATE TABLE stockless_orders (
    order_id  text        PRIMARY KEY,
    skus      text[]      NOT NULL,
    held_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stockless_orders_skus ON stockless_orders USING gin (skus);
