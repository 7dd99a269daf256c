-- Credit notes (ADR 0240): what asks for one (a refunded return, an RTO parcel back at the
-- warehouse), kept until it is credited so a request that finds no invoice yet waits instead of
-- being lost; and what each credit note reduces (its invoice, its supply, its parcel or return).

-- source: return:<return_id> or rto:<shipment_id>, so a redelivered refund or RTO asks once.
-- state: due (not credited yet: `problem` says why), credited (its credit notes are issued), nothing
-- (nothing is left to credit: no invoice of ours, a marketplace's, or already all credited).
CREATE TABLE credit_requests (
    source              text PRIMARY KEY,
    reason              text        NOT NULL CHECK (reason IN ('return', 'rto')),
    order_id            text        NOT NULL,
    shipment_id         text,
    return_id           text,
    -- A return's units back, [{sku, quantity}]; an RTO credits its parcel's invoice whole.
    lines               jsonb       NOT NULL DEFAULT '[]',
    items_paise         bigint      NOT NULL DEFAULT 0 CHECK (items_paise >= 0),
    shipping_fee_paise  bigint      NOT NULL DEFAULT 0 CHECK (shipping_fee_paise >= 0),
    requested_at        timestamptz NOT NULL,
    state               text        NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'credited', 'nothing')),
    problem             text,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((reason = 'rto') = (shipment_id IS NOT NULL)),
    CHECK ((reason = 'return') = (return_id IS NOT NULL))
);
CREATE INDEX credit_requests_due ON credit_requests (requested_at) WHERE state = 'due';

-- Nothing has been written to credit_notes before this migration (no code issued any).
ALTER TABLE credit_notes
    ADD COLUMN invoice_number   text        NOT NULL,
    ADD COLUMN invoice_date     timestamptz NOT NULL,
    ADD COLUMN place_of_supply  text        NOT NULL,
    ADD COLUMN supply           text        NOT NULL CHECK (supply IN ('intra_state', 'inter_state')),
    ADD COLUMN return_id        text,
    ADD COLUMN shipment_id      text,
    ADD CONSTRAINT credit_notes_reason CHECK (reason IN ('return', 'rto')),
    ADD CONSTRAINT credit_notes_source_fk FOREIGN KEY (source) REFERENCES credit_requests (source);
-- A return whose units came from two parcels credits each parcel's invoice on a note of its own.
ALTER TABLE credit_notes DROP CONSTRAINT credit_notes_source_key;
ALTER TABLE credit_notes ADD CONSTRAINT credit_notes_source_invoice UNIQUE (source, invoice_id);
CREATE INDEX credit_notes_by_invoice ON credit_notes (invoice_id);
CREATE INDEX credit_notes_by_order ON credit_notes (order_id);
