-- Serviceability before confirmation (ADR 0311): the pincodes some courier delivers to, as shipping
-- last announced them (shipping.serviceability_changed.v1, each replacing the whole), and the
-- orders routing held back because none does, to plan again when that changes.
CREATE TABLE served_pincodes (
    pincode  text    PRIMARY KEY,
    prepaid  boolean NOT NULL,
    cod      boolean NOT NULL
);

CREATE TABLE serviceability_seen (
    only_row   boolean     PRIMARY KEY DEFAULT true CHECK (only_row),
    couriers   text[]      NOT NULL,
    loaded_at  timestamptz NOT NULL
);

ALTER TABLE routed_orders ADD COLUMN cod boolean NOT NULL DEFAULT false;

CREATE TABLE courierless_orders (
    order_id  text        PRIMARY KEY,
    pincode   text        NOT NULL,
    cod       boolean     NOT NULL,
    held_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX courierless_orders_pincode ON courierless_orders (pincode);
