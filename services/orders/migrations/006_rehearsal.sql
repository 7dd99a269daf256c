-- An operator's rehearsal order (ADR 0360): it runs the real pipeline to the operator's own number
-- and is cancelled once its parcels are booked; every orders.* event about it says so.
ALTER TABLE orders ADD COLUMN rehearsal boolean NOT NULL DEFAULT false;
