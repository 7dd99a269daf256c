-- A provider's status callback can overtake our record of the send (the webhook arrives before the
-- dispatcher's transaction commits). Such a status waits here and is applied when the send is
-- recorded; statuses for wamids that never become ours are dropped after a day.
CREATE TABLE early_statuses (
    id                   bigserial PRIMARY KEY,
    provider_message_id  text        NOT NULL,
    status               text        NOT NULL,
    error                text,
    error_code           integer,
    received_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX early_statuses_message ON early_statuses (provider_message_id);
