-- Customers' free-text WhatsApp conversations with the operators (ADR 0350). A ticket is opened by
-- the first message that is not a button reply or STOP/START, on the customer's most recent order
-- (by phone) or on none; later messages join the phone's open ticket until an operator closes it.

-- When notifications first heard of each order's customer: "most recent order" of a phone.
ALTER TABLE contacts ADD COLUMN first_seen_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX contacts_phone ON contacts (phone, first_seen_at DESC);

-- The customer's last message of any kind, per phone: WhatsApp's 24-hour customer-service window
-- is counted from it.
CREATE TABLE conversations (
    phone             text PRIMARY KEY,
    last_inbound_at   timestamptz NOT NULL
);

CREATE TABLE tickets (
    ticket_id   text PRIMARY KEY,
    phone       text        NOT NULL,   -- E.164; masked everywhere it leaves this table
    order_id    text,                   -- null: no order has this phone (unmatched)
    open        boolean     NOT NULL DEFAULT true,
    opened_at   timestamptz NOT NULL,
    closed_at   timestamptz,
    closed_by   text
);
-- One open ticket per phone: a second message joins it.
CREATE UNIQUE INDEX tickets_open_phone ON tickets (phone) WHERE open;

CREATE TABLE ticket_messages (
    id                   bigserial PRIMARY KEY,
    ticket_id            text        NOT NULL REFERENCES tickets (ticket_id),
    direction            text        NOT NULL CHECK (direction IN ('in', 'out')),
    text                 text        NOT NULL,
    author               text,       -- the operator (role:name) of a reply
    provider_message_id  text,
    delivery             text        NOT NULL DEFAULT 'sent'
        CHECK (delivery IN ('sent', 'delivered', 'read', 'failed')),
    error                text,
    at                   timestamptz NOT NULL
);
-- Meta redelivers a webhook: the same customer message is kept once.
CREATE UNIQUE INDEX ticket_messages_provider_id ON ticket_messages (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);
