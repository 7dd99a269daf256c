-- A store's cancellation owed to Dabba: orders is told through its API (outside any transaction);
-- its answer is kept, and a refusal (already dispatched) stays visible for an operator.
ALTER TABLE channel_orders
    ADD COLUMN cancel_next_try_at timestamptz,
    ADD COLUMN cancel_attempts    integer NOT NULL DEFAULT 0,
    ADD COLUMN cancel_outcome     text;
UPDATE channel_orders SET cancel_next_try_at = cancelled_on_store_at WHERE cancelled_on_store_at IS NOT NULL;
CREATE INDEX channel_orders_cancel_owed ON channel_orders (cancel_next_try_at)
    WHERE cancel_next_try_at IS NOT NULL AND cancel_outcome IS NULL;

-- Where each account's reconciliation poll got to: the store's own "updated at" of the newest order
-- it listed, so the next poll asks only for what changed since (less an overlap; dedupe absorbs it).
CREATE TABLE poll_cursors (
    account     text PRIMARY KEY REFERENCES channel_accounts ON DELETE CASCADE,
    updated_at  timestamptz NOT NULL,
    polled_at   timestamptz NOT NULL DEFAULT now(),
    last_error  text
);
