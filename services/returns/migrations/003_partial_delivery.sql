-- A split order can be returned shipment by shipment: remember when each forward shipment was
-- delivered (shipping.shipment_updated.v1 DELIVERED), so the units of a delivered parcel are
-- returnable while its sibling is still on the road.

ALTER TABLE shipments ADD COLUMN delivered_at timestamptz;
