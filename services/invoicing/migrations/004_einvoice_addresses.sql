-- B2B e-invoices (ADR 0400): the IRP wants the seller's town and pincode apart from its address, so a
-- registration may state them (an e-invoice waits until they are given).
ALTER TABLE registrations
    ADD COLUMN city     text,
    ADD COLUMN pincode  text CHECK (pincode ~ '^[1-9][0-9]{5}$');
