-- Which of Amazon's Orders APIs an account's orders are read with (ADR 421): ordersV0's getOrders
-- (the default, as before) or the Orders API 2026-01-01's searchOrders.
ALTER TABLE channel_accounts
    ADD COLUMN orders_api text NOT NULL DEFAULT 'v0' CHECK (orders_api IN ('v0', '2026-01-01'));
