-- A registered IRN whose invoice is cancelled (its shipment cancelled) is cancelled at the IRP
-- (ADR 0401): cancel_due until the IRP answers, then cancelled; the IRN and QR stay on record.
ALTER TABLE einvoices DROP CONSTRAINT einvoices_state_check;
ALTER TABLE einvoices DROP CONSTRAINT einvoices_check;
ALTER TABLE einvoices ADD CONSTRAINT einvoices_state_check
    CHECK (state IN ('due', 'registered', 'rejected', 'void', 'cancel_due', 'cancelled'));
ALTER TABLE einvoices ADD CONSTRAINT einvoices_irn_kept
    CHECK ((state IN ('registered', 'cancel_due', 'cancelled')) = (irn IS NOT NULL AND signed_qr_code IS NOT NULL));
ALTER TABLE einvoices ADD COLUMN cancelled_at timestamptz;
