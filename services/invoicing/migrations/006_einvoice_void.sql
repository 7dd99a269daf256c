-- An e-invoice whose invoice was cancelled (its shipment cancelled) before the IRP registered it is
-- never sent: state void (ADR 0401).
ALTER TABLE einvoices DROP CONSTRAINT einvoices_state_check;
ALTER TABLE einvoices ADD CONSTRAINT einvoices_state_check
    CHECK (state IN ('due', 'registered', 'rejected', 'void'));
