-- Per-store stock rules beyond the buffer (ADR 93): a cap at a share of what we can sell, and a
-- low-stock rule (below a number of units this store shows 0, so the last units sell on the seller's
-- preferred store). Each SKU's latest number from inventory is kept, so a changed rule is applied at
-- once and the nightly full push knows what every listing should show.
ALTER TABLE channel_accounts
    ADD COLUMN stock_share_pct      integer CHECK (stock_share_pct BETWEEN 1 AND 100),
    ADD COLUMN low_stock_hide_below integer NOT NULL DEFAULT 0 CHECK (low_stock_hide_below >= 0);

CREATE TABLE sku_stock (
    sku              text PRIMARY KEY,
    available_total  integer     NOT NULL,
    changed_at       timestamptz NOT NULL DEFAULT now()
);
