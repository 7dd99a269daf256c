-- Inventory: stock per SKU × warehouse, reservations per order, and the movement ledger.

-- available = on_hand - reserved; the CHECKs make overselling impossible even for a buggy caller.
CREATE TABLE stock (
    sku             text        NOT NULL,
    warehouse_code  text        NOT NULL,
    on_hand         integer     NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved        integer     NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, warehouse_code),
    CONSTRAINT stock_reserved_within_on_hand CHECK (reserved <= on_hand)
);

CREATE TABLE reservations (
    reservation_id  text PRIMARY KEY,
    order_id        text        NOT NULL UNIQUE,
    status          text        NOT NULL,   -- active | released | committed
    allocations     jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Every change to a stock number, with who and why, so any number on screen can be explained.
CREATE TABLE stock_movements (
    id              bigserial PRIMARY KEY,
    sku             text        NOT NULL,
    warehouse_code  text        NOT NULL,
    on_hand_delta   integer     NOT NULL DEFAULT 0,
    reserved_delta  integer     NOT NULL DEFAULT 0,
    kind            text        NOT NULL,   -- receipt | adjustment | reservation | release
    reference       text,
    actor           text        NOT NULL DEFAULT 'system',
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_sku ON stock_movements (sku, warehouse_code, id);
