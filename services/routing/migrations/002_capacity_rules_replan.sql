-- Routing: warehouse capacity and cut-off, operator rules, orders kept for re-planning, and how
-- many orders each warehouse took per (India) day.

ALTER TABLE warehouses
    ADD COLUMN daily_capacity integer CHECK (daily_capacity >= 0),
    ADD COLUMN cutoff_time    time;

-- kind: prefer_for_channel (channel → warehouse), exclude_pincodes (a warehouse does not serve
-- pincode_from..pincode_to), pin_sku (a SKU ships only from the warehouses pinned for it).
CREATE TABLE routing_rules (
    id              bigserial PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('prefer_for_channel', 'exclude_pincodes', 'pin_sku')),
    warehouse_code  text        NOT NULL REFERENCES warehouses (code),
    channel         text,
    pincode_from    text,
    pincode_to      text,
    sku             text,
    created_by      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'prefer_for_channel' OR channel IS NOT NULL),
    CHECK (kind <> 'exclude_pincodes' OR (pincode_from IS NOT NULL AND pincode_to IS NOT NULL)),
    CHECK (kind <> 'pin_sku' OR sku IS NOT NULL)
);
CREATE UNIQUE INDEX routing_rules_one_preference ON routing_rules (channel) WHERE kind = 'prefer_for_channel';

-- What a re-plan needs of the order (orders.placed.v1 is not read again).
CREATE TABLE routed_orders (
    order_id         text PRIMARY KEY,
    channel          text        NOT NULL,
    customer_pincode text        NOT NULL,
    lines            jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Fed by inventory.reserved.v1: an order counts against a warehouse's capacity once reserved there.
CREATE TABLE warehouse_load (
    warehouse_code  text    NOT NULL,
    day             date    NOT NULL,
    orders          integer NOT NULL,
    PRIMARY KEY (warehouse_code, day)
);

-- Why warehouses were left out, and what inventory made of each attempt, for "explain".
ALTER TABLE route_decisions
    ADD COLUMN notes   jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN outcome text;
