-- Stock per SKU × warehouse as inventory last announced it (inventory.stock_changed.v1, ADR 320):
-- available always; on hand, reserved, buffer and reorder point from announcements that carry them
-- (`python -m services.console rebuild` fills the rows of SKUs announced before this migration).
CREATE TABLE stock_view (
    sku             text        NOT NULL,
    warehouse_code  text        NOT NULL,
    available       integer     NOT NULL,
    on_hand         integer,
    reserved        integer,
    buffer          integer,
    reorder_point   integer,
    changed_at      timestamptz NOT NULL,
    PRIMARY KEY (sku, warehouse_code)
);
-- The low-stock list pages by the same key as the whole list, over the rows at their reorder point.
CREATE INDEX stock_view_low ON stock_view (sku, warehouse_code) WHERE available <= reorder_point;
CREATE INDEX stock_view_warehouse ON stock_view (warehouse_code, sku);
