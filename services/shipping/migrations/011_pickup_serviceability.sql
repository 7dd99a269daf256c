-- Pickup serviceability (ADR 0410): whether a courier picks up from a warehouse at a pincode (null:
-- its data says nothing of pickup), and the load of each courier last announced to routing on
-- shipping.serviceability_changed.v2, so a start announces what was loaded before v2 existed.
ALTER TABLE serviceability ADD COLUMN pickup boolean;

CREATE TABLE serviceability_announced (
    courier    text        PRIMARY KEY,
    loaded_at  timestamptz NOT NULL
);
