-- Customers' tickets as notifications announces them (notifications.ticket_updated.v1, ADR 0351):
-- one line per change; a ticket's state is its newest line, its conversation the lines with text.
CREATE TABLE ticket_lines (
    event_id          text PRIMARY KEY,
    ticket_id         text        NOT NULL,
    order_id          text,
    at                timestamptz NOT NULL,
    change            text        NOT NULL,
    open              boolean     NOT NULL,
    customer_name     text,
    customer_phone    text        NOT NULL,
    text              text,
    actor             text,
    window_closes_at  timestamptz
);
CREATE INDEX ticket_lines_ticket ON ticket_lines (ticket_id, at DESC, event_id DESC);
CREATE INDEX ticket_lines_opened ON ticket_lines (at) WHERE change = 'customer_wrote';
