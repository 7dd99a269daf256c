-- The chassis tables every service database has: the transactional outbox and the inbox.

-- Events waiting for the relay. txid orders rows by the transaction that wrote them; the relay only
-- reads rows older than the oldest running transaction, so a row committed late is never skipped.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    txid        xid8        NOT NULL DEFAULT pg_current_xact_id(),
    topic       text        NOT NULL,
    key         text,
    headers     jsonb       NOT NULL,
    payload     bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_relay_order ON outbox (txid, id);

CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Event ids this service has applied, written in the same transaction as the effect.
CREATE TABLE inbox (
    event_id     text PRIMARY KEY,
    topic        text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
