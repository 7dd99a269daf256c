-- The courier's own id for a parcel (Shiprocket's shipment_id: its pickup API wants it) and the
-- courier's reference for each manifest's pickup request.

ALTER TABLE shipments ADD COLUMN courier_ref text;
ALTER TABLE manifests ADD COLUMN pickup_ref text;
