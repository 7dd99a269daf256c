-- Messages: every outbound notification, once per (order, template, recipient, channel).

CREATE TABLE messages (
    message_id           text PRIMARY KEY,
    order_id             text        NOT NULL,
    template             text        NOT NULL,
    language             text        NOT NULL,
    channel              text        NOT NULL,
    recipient            text        NOT NULL,   -- E.164; masked everywhere it leaves this table
    parameters           jsonb       NOT NULL DEFAULT '[]',
    cause_event_id       text        NOT NULL,
    status               text        NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    provider_message_id  text,
    error                text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT messages_once UNIQUE (order_id, template, recipient, channel)
);
CREATE INDEX messages_order ON messages (order_id, created_at);
