-- Item master, sale buffers and reorder points, reservation expiry/confirmation and commits,
-- returned units (restocked or quarantined) and orders cancelled before they were reserved.

CREATE TABLE items (
    sku             text PRIMARY KEY,
    name            text        NOT NULL,
    category        text,
    barcode         text UNIQUE,
    weight_grams    integer     NOT NULL CHECK (weight_grams > 0),
    length_mm       integer     CHECK (length_mm > 0),
    width_mm        integer     CHECK (width_mm > 0),
    height_mm       integer     CHECK (height_mm > 0),
    hsn_code        text,
    mrp_paise       bigint      NOT NULL CHECK (mrp_paise >= 0),
    updated_by      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- available = on_hand - reserved - buffer (clamped at 0 when a buffer is raised above what is free).
-- low_stock_armed: a low_stock alert fires once per crossing and re-arms only above the point.
ALTER TABLE stock
    ADD COLUMN buffer          integer NOT NULL DEFAULT 0 CHECK (buffer >= 0),
    ADD COLUMN reorder_point   integer CHECK (reorder_point >= 0),
    ADD COLUMN low_stock_armed boolean NOT NULL DEFAULT true;

ALTER TABLE reservations
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN confirmed_at timestamptz;
CREATE INDEX reservations_expiring ON reservations (expires_at)
    WHERE status = 'active' AND confirmed_at IS NULL;

-- One row per warehouse of a reservation that the courier picked up: makes the commit idempotent
-- and lets a later cancel release only what has not left the building.
CREATE TABLE reservation_commits (
    reservation_id  text        NOT NULL REFERENCES reservations,
    warehouse_code  text        NOT NULL,
    shipment_id     text        NOT NULL,
    committed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (reservation_id, warehouse_code)
);

-- A return's units come back once, whether restocked or quarantined, however often it is announced.
CREATE TABLE returned_units (
    return_id       text        NOT NULL,
    sku             text        NOT NULL,
    warehouse_code  text        NOT NULL,
    quantity        integer     NOT NULL CHECK (quantity > 0),
    disposition     text        NOT NULL,   -- restocked | quarantined
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (return_id, sku)
);

-- An order cancelled before routing's plan arrived must never be reserved afterwards.
CREATE TABLE cancelled_orders (
    order_id        text PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now()
);
