-- A consumer's transaction does not NOTIFY the relay (ADR 531). PostgreSQL serialises, server-wide,
-- the commits of every transaction that has notified, through their WAL flush: with each consumer
-- batch notifying, every service's commits queued behind each other. The consumer marks its
-- transaction quiet and, once it has committed, wakes its own relay or notifies on its own.
-- Every other writer of the outbox (an API call, a sweep) still notifies from this trigger.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('dabba.outbox_quiet', true) IS DISTINCT FROM 'on' THEN
        PERFORM pg_notify('outbox', '');
    END IF;
    RETURN NULL;
END $$;
