-- Reverse pickups are shipments too (return_id set): one forward parcel per order × warehouse,
-- one pickup per return.

ALTER TABLE shipments DROP CONSTRAINT shipments_one_per_order_warehouse;
CREATE UNIQUE INDEX shipments_one_forward_per_order_warehouse
    ON shipments (order_id, warehouse_code) WHERE return_id IS NULL;
CREATE UNIQUE INDEX shipments_one_pickup_per_return ON shipments (return_id) WHERE return_id IS NOT NULL;
