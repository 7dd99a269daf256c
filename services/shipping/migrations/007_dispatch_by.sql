-- The order's promise to leave the warehouse (orders.confirmed.v1's promised_dispatch_by), kept on
-- each of its forward shipments: pick lists go by it first, then by priority, and a parcel still in
-- the warehouse after it is late to dispatch. NULL on reverse pickups and shipments made before it.
ALTER TABLE shipments ADD COLUMN dispatch_by timestamptz;

CREATE INDEX shipments_waiting_to_pick ON shipments (warehouse_code, dispatch_by, priority DESC)
    WHERE status = 'AWB_ASSIGNED' AND return_id IS NULL;
