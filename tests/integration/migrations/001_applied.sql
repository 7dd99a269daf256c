-- A test service's only table: one row per effect its handler applied.
CREATE TABLE applied (
    id        bigserial PRIMARY KEY,
    event_id  text NOT NULL,
    sku       text NOT NULL
);
