-- An order cancelled in Dabba (an operator, an expired payment, a declined COD) is owed to its store,
-- so the store's order, stock and customer agree. A cancellation the store itself started is never
-- sent back; when the store's own orders/cancelled webhook echoes ours, it is recognised as ours.
ALTER TABLE channel_orders
    ADD COLUMN dabba_cancelled_at        timestamptz,
    ADD COLUMN dabba_cancel_reason       text,
    ADD COLUMN store_cancel_next_try_at  timestamptz,
    ADD COLUMN store_cancel_attempts     integer NOT NULL DEFAULT 0,
    ADD COLUMN store_cancel_outcome      text,
    ADD COLUMN store_cancel_error        text;
CREATE INDEX channel_orders_store_cancel_owed ON channel_orders (store_cancel_next_try_at)
    WHERE store_cancel_next_try_at IS NOT NULL AND store_cancel_outcome IS NULL;
