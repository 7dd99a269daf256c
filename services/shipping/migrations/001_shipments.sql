-- Shipments: one parcel per (order, warehouse), its courier, AWB and canonical status.

CREATE TABLE shipments (
    shipment_id       text PRIMARY KEY,
    order_id          text        NOT NULL,
    warehouse_code    text        NOT NULL,
    status            text        NOT NULL,
    courier           text,
    awb               text UNIQUE,
    lines             jsonb       NOT NULL,
    value_paise       bigint      NOT NULL CHECK (value_paise >= 0),
    cod_amount_paise  bigint      NOT NULL DEFAULT 0 CHECK (cod_amount_paise >= 0),
    booking_error     text,       -- the courier's refusal, when it gave no AWB
    cause_event_id    text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shipments_one_per_order_warehouse UNIQUE (order_id, warehouse_code)
);
CREATE INDEX shipments_order ON shipments (order_id);
CREATE INDEX shipments_status_created ON shipments (status, created_at);
