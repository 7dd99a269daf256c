-- The marketplace's own logistics carry the order (channel.orders.v1 said so): passed on to shipping
-- on orders.confirmed.v1, which then books no courier of ours (ADR 330).
ALTER TABLE orders ADD COLUMN shipped_by_marketplace boolean NOT NULL DEFAULT false;
