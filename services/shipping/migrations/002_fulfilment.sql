-- Fulfilment: pickup locations, serviceability and rate cards (with when they were loaded),
-- SKU sizes, the allocation on each shipment, tracking history, NDR actions, pack scans, manifests.

CREATE TABLE pickup_locations (
    warehouse_code text PRIMARY KEY,
    name           text NOT NULL,
    line1          text NOT NULL,
    city           text NOT NULL,
    state          text NOT NULL,
    pincode        text NOT NULL CHECK (pincode ~ '^[1-9][0-9]{5}$'),
    phone          text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE serviceability (
    courier        text NOT NULL,
    pincode        text NOT NULL CHECK (pincode ~ '^[1-9][0-9]{5}$'),
    prepaid        boolean NOT NULL,
    cod            boolean NOT NULL,
    reverse_pickup boolean NOT NULL,
    source         text NOT NULL,   -- the CSV file or API it came from
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (courier, pincode)
);

CREATE TABLE rate_cards (
    courier               text    NOT NULL,
    zone                  text    NOT NULL CHECK (zone IN ('A', 'B', 'C', 'D', 'E')),
    first_slab_grams      integer NOT NULL CHECK (first_slab_grams > 0),
    first_slab_paise      integer NOT NULL CHECK (first_slab_paise >= 0),
    additional_slab_grams integer NOT NULL CHECK (additional_slab_grams > 0),
    additional_slab_paise integer NOT NULL CHECK (additional_slab_paise >= 0),
    cod_fixed_paise       integer NOT NULL CHECK (cod_fixed_paise >= 0),
    cod_percent_bp        integer NOT NULL CHECK (cod_percent_bp >= 0),
    sla_days              integer NOT NULL CHECK (sla_days >= 0),
    source                text    NOT NULL,
    loaded_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (courier, zone)
);

CREATE TABLE sku_dimensions (
    sku          text PRIMARY KEY,
    barcode      text UNIQUE,      -- what the pack station scans; the SKU itself when null
    weight_grams integer NOT NULL CHECK (weight_grams > 0),
    length_cm    numeric NOT NULL CHECK (length_cm > 0),
    breadth_cm   numeric NOT NULL CHECK (breadth_cm > 0),
    height_cm    numeric NOT NULL CHECK (height_cm > 0),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE shipments
    ADD COLUMN consignee        jsonb,         -- name, phone, address: for the label and NDR edits
    ADD COLUMN allocation       jsonb,         -- ranked couriers and exclusions, with reasons
    ADD COLUMN booking_attempts jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN routing_code     text,
    ADD COLUMN chargeable_grams integer,
    ADD COLUMN package_grams    integer,       -- weighed at the pack station
    ADD COLUMN priority         integer NOT NULL DEFAULT 0,
    ADD COLUMN ndr_attempts     integer NOT NULL DEFAULT 0,
    ADD COLUMN ndr_reason       text,
    ADD COLUMN last_change_at   timestamptz,   -- courier time of the scan that last moved it
    ADD COLUMN tracked_at       timestamptz,   -- when we last heard from the courier
    ADD COLUMN return_id        text,
    ADD COLUMN manifest_id      text,
    ADD COLUMN packed_by        text,
    ADD COLUMN packed_at        timestamptz;
CREATE INDEX shipments_awb ON shipments (courier, awb);

CREATE TABLE tracking_events (
    id           bigserial PRIMARY KEY,
    shipment_id  text NOT NULL REFERENCES shipments (shipment_id),
    courier_code text NOT NULL,
    status       text,                 -- canonical, null for informational scans
    occurred_at  timestamptz NOT NULL,
    location     text,
    ndr_reason   text,
    remark       text,
    applied      boolean NOT NULL,     -- false: late, repeated or informational
    source       text NOT NULL,        -- webhook | poll
    received_at  timestamptz NOT NULL DEFAULT now(),
    -- the same scan pushed twice, or pushed and then polled, is one row
    CONSTRAINT tracking_events_once UNIQUE (shipment_id, courier_code, occurred_at)
);

CREATE TABLE ndr_actions (
    id           bigserial PRIMARY KEY,
    shipment_id  text NOT NULL REFERENCES shipments (shipment_id),
    attempt      integer NOT NULL,
    action       text NOT NULL CHECK (action IN ('reattempt', 'new_address', 'new_phone', 'rto')),
    reattempt_on date,
    new_phone    text,
    new_address  jsonb,
    actor        text NOT NULL,         -- operator name, 'customer', or 'policy'
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    error        text,
    tries        integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    -- one instruction per failed attempt: a repeated reply or click does not call the courier twice
    CONSTRAINT ndr_actions_one_per_attempt UNIQUE (shipment_id, attempt)
);
CREATE INDEX ndr_actions_pending ON ndr_actions (created_at) WHERE state = 'pending';

CREATE TABLE pack_scans (
    id          bigserial PRIMARY KEY,
    shipment_id text NOT NULL REFERENCES shipments (shipment_id),
    barcode     text NOT NULL,
    sku         text,
    outcome     text NOT NULL CHECK (outcome IN ('ok', 'wrong_item', 'extra_item')),
    actor       text NOT NULL,
    scanned_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pack_scans_shipment ON pack_scans (shipment_id);

CREATE TABLE manifests (
    manifest_id    text PRIMARY KEY,
    courier        text NOT NULL,
    warehouse_code text NOT NULL,
    pickup_date    date NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
