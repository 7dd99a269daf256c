-- Invoicing: the seller's GST registrations and which warehouse ships under which, each SKU's tax
-- class, a read model of orders and shipments (from the topics), one gapless series per GSTIN, kind
-- and financial year, and every invoice and credit note issued (never deleted, never renumbered).

CREATE TABLE registrations (
    gstin           text PRIMARY KEY CHECK (gstin ~ '^[0-9]{2}[A-Z0-9]{13}$'),
    legal_name      text        NOT NULL,
    trade_name      text,
    address         text        NOT NULL,
    state_code      text        NOT NULL CHECK (state_code = left(gstin, 2)),
    turnover_band   text        NOT NULL CHECK (turnover_band IN ('up_to_5_crore', 'above_5_crore')),
    updated_by      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Each warehouse ships under the registration of the state it is in.
CREATE TABLE warehouse_registrations (
    warehouse_code  text PRIMARY KEY,
    gstin           text        NOT NULL REFERENCES registrations (gstin),
    updated_by      text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tax_classes (
    sku             text PRIMARY KEY,
    description     text        NOT NULL,
    hsn_code        text        NOT NULL CHECK (hsn_code ~ '^([0-9]{4}|[0-9]{6}|[0-9]{8})$'),
    gst_rate        numeric(5, 2) NOT NULL CHECK (gst_rate >= 0 AND gst_rate <= 40),
    unit            text        NOT NULL DEFAULT 'NOS',
    updated_by      text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- From orders.placed.v1 (and orders.contact_corrected.v1 for the address).
CREATE TABLE orders (
    order_id            text PRIMARY KEY,
    channel             text        NOT NULL,
    channel_order_id    text        NOT NULL,
    placed_at           timestamptz NOT NULL,
    customer            jsonb       NOT NULL,
    shipping_address    jsonb       NOT NULL,
    lines               jsonb       NOT NULL,
    shipping_fee_paise  bigint      NOT NULL,
    discount_paise      bigint      NOT NULL
);

-- From shipping.shipment_created.v1 / shipment_updated.v1 (forward parcels only). invoice_state:
-- none (not packed yet), due (packed, not issued yet: `problem` says why), issued, marketplace
-- (the marketplace invoices this channel's orders), void (cancelled before an invoice was issued).
CREATE TABLE shipments (
    shipment_id     text PRIMARY KEY,
    order_id        text        NOT NULL,
    warehouse_code  text        NOT NULL,
    lines           jsonb,
    packed_at       timestamptz,
    invoice_state   text        NOT NULL DEFAULT 'none'
        CHECK (invoice_state IN ('none', 'due', 'issued', 'marketplace', 'void')),
    problem         text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipments_due ON shipments (packed_at) WHERE invoice_state = 'due';
CREATE INDEX shipments_by_order ON shipments (order_id);

-- One row per GSTIN × kind × financial year; the issuing transaction bumps last_serial, so a
-- rollback gives the number back (no gap) and the row lock queues concurrent issuers (no repeat).
CREATE TABLE series (
    gstin           text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    financial_year  integer     NOT NULL,
    last_serial     integer     NOT NULL CHECK (last_serial > 0),
    PRIMARY KEY (gstin, kind, financial_year)
);

CREATE TABLE invoices (
    invoice_id          text PRIMARY KEY,
    number              text        NOT NULL CHECK (number ~ '^[A-Za-z0-9/-]{1,16}$'),
    gstin               text        NOT NULL,
    financial_year      integer     NOT NULL,
    serial              integer     NOT NULL,
    order_id            text        NOT NULL,
    shipment_id         text        NOT NULL UNIQUE,
    channel             text        NOT NULL,
    channel_order_id    text        NOT NULL,
    issued_at           timestamptz NOT NULL,
    supplier            jsonb       NOT NULL,
    recipient           jsonb       NOT NULL,
    place_of_supply     text        NOT NULL,
    supply              text        NOT NULL CHECK (supply IN ('intra_state', 'inter_state')),
    lines               jsonb       NOT NULL,
    -- The order's shipping fee goes on its first invoice (that is not cancelled) only.
    shipping_fee_paise  bigint      NOT NULL,
    taxable_paise       bigint      NOT NULL,
    cgst_paise          bigint      NOT NULL,
    sgst_paise          bigint      NOT NULL,
    igst_paise          bigint      NOT NULL,
    total_paise         bigint      NOT NULL,
    status              text        NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'cancelled')),
    cancelled_at        timestamptz,
    UNIQUE (gstin, financial_year, serial),
    UNIQUE (gstin, number)
);
CREATE INDEX invoices_by_order ON invoices (order_id);
CREATE INDEX invoices_by_time ON invoices (issued_at, invoice_id);

CREATE TABLE credit_notes (
    credit_note_id      text PRIMARY KEY,
    number              text        NOT NULL CHECK (number ~ '^[A-Za-z0-9/-]{1,16}$'),
    gstin               text        NOT NULL,
    financial_year      integer     NOT NULL,
    serial              integer     NOT NULL,
    -- What it credits: a return's refund or an RTO, once each.
    source              text        NOT NULL UNIQUE,
    invoice_id          text        NOT NULL REFERENCES invoices (invoice_id),
    order_id            text        NOT NULL,
    issued_at           timestamptz NOT NULL,
    reason              text        NOT NULL,
    lines               jsonb       NOT NULL,
    taxable_paise       bigint      NOT NULL,
    cgst_paise          bigint      NOT NULL,
    sgst_paise          bigint      NOT NULL,
    igst_paise          bigint      NOT NULL,
    total_paise         bigint      NOT NULL,
    UNIQUE (gstin, financial_year, serial),
    UNIQUE (gstin, number)
);
CREATE INDEX credit_notes_by_time ON credit_notes (issued_at, credit_note_id);
