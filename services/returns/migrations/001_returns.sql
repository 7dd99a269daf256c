-- Returns: RMAs with their lines and status, and a read model of which orders are delivered.

CREATE TABLE order_status (
    order_id    text PRIMARY KEY,
    status      text        NOT NULL,
    updated_at  timestamptz NOT NULL   -- when the order reached this status (its changed_at)
);

CREATE TABLE returns (
    return_id   text PRIMARY KEY,
    order_id    text        NOT NULL,
    status      text        NOT NULL,
    resolution  text        NOT NULL,
    lines       jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX returns_order ON returns (order_id);
CREATE INDEX returns_status_created ON returns (status, created_at);
