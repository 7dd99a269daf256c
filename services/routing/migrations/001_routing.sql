-- Routing: warehouses, a read model of available stock, and every plan made (for "explain").

CREATE TABLE warehouses (
    code            text PRIMARY KEY,
    name            text        NOT NULL,
    pincode         text        NOT NULL,
    state           text        NOT NULL,
    latitude        double precision NOT NULL,
    longitude       double precision NOT NULL,
    active          boolean     NOT NULL DEFAULT true,
    priority        integer     NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Fed by inventory.stock_changed.v1; inventory stays the truth, this only guides the plan.
CREATE TABLE stock_view (
    sku             text        NOT NULL,
    warehouse_code  text        NOT NULL,
    available       integer     NOT NULL,
    changed_at      timestamptz NOT NULL,
    PRIMARY KEY (sku, warehouse_code)
);

CREATE TABLE route_decisions (
    order_id        text        NOT NULL,
    attempt         integer     NOT NULL,
    customer_pincode text       NOT NULL,
    plans           jsonb       NOT NULL,
    decided_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, attempt)
);
