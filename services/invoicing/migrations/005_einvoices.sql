-- B2B e-invoices' registration with the IRP (ADR 0401): asked for in the transaction that issues the
-- invoice, sent by a sweep outside any transaction (lease, call, record) and tried again until the
-- IRP answers, so an IRP outage delays an IRN and loses nothing.
-- state: due (to send; `problem` says what held the last try), registered (IRN and signed QR kept),
-- rejected (the IRP refused the document: its errors are in `problem`; an operator retries it).
CREATE TABLE einvoices (
    invoice_id      text PRIMARY KEY REFERENCES invoices (invoice_id),
    gstin           text        NOT NULL,
    state           text        NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'registered', 'rejected')),
    calls           integer     NOT NULL DEFAULT 0,
    lease_until     timestamptz,
    problem         text,
    irn             text UNIQUE CHECK (irn ~ '^[0-9a-f]{64}$'),
    ack_no          text,
    ack_at          timestamptz,
    signed_invoice  text,
    signed_qr_code  text,
    requested_at    timestamptz NOT NULL,
    registered_at   timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'registered') = (irn IS NOT NULL AND signed_qr_code IS NOT NULL))
);
CREATE INDEX einvoices_due ON einvoices (requested_at) WHERE state = 'due';
