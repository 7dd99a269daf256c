-- Outbox rows the broker can never take (a record over its size limit), moved aside by the relay so
-- the rows behind them flow; kept with the error for an operator to look at (ADR 115).
CREATE TABLE outbox_set_aside (
    id           bigint      PRIMARY KEY,
    topic        text        NOT NULL,
    key          text,
    headers      jsonb       NOT NULL,
    payload      bytea       NOT NULL,
    error        text        NOT NULL,
    created_at   timestamptz NOT NULL,
    set_aside_at timestamptz NOT NULL DEFAULT now()
);
