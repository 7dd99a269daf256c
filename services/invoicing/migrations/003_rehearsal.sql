-- An operator's rehearsal order (ADR 0360) is never invoiced: its parcel, should it be packed
-- before the rehearsal is cancelled, takes the state `rehearsal`, never a number of the series.
ALTER TABLE orders ADD COLUMN rehearsal boolean NOT NULL DEFAULT false;
ALTER TABLE shipments DROP CONSTRAINT shipments_invoice_state_check;
ALTER TABLE shipments ADD CONSTRAINT shipments_invoice_state_check
    CHECK (invoice_state IN ('none', 'due', 'issued', 'marketplace', 'void', 'rehearsal'));
