-- How many parcels each courier confirmed it will collect from a warehouse on a day (peak days:
-- the courier's own confirmation, kept in confirmation_ref). No row: the courier's pickups there
-- that day are not limited. What is booked against it is counted from the shipments themselves
-- (courier, warehouse, pickup_date, not cancelled), so a cancelled or re-booked parcel frees its
-- place with nothing to keep in step; booking locks the capacity row while it counts (ADR 261).
CREATE TABLE pickup_capacity (
    courier           text    NOT NULL,
    warehouse_code    text    NOT NULL,
    pickup_date       date    NOT NULL,
    parcels           integer NOT NULL CHECK (parcels >= 0),
    confirmation_ref  text,
    updated_by        text    NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (courier, warehouse_code, pickup_date)
);

-- The IST day the courier is to collect the parcel: its dispatch-by day, or the booking day if
-- that has passed. Set when a courier takes the parcel.
ALTER TABLE shipments ADD COLUMN pickup_date date;

CREATE INDEX shipments_pickups ON shipments (courier, warehouse_code, pickup_date)
    WHERE return_id IS NULL AND pickup_date IS NOT NULL;
