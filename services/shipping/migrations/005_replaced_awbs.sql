-- AWBs a shipment had before a corrected address was booked again under a new one, oldest first:
-- the operator sees them, and the count names the next booking's courier reference (SHP-…-2, -3).

ALTER TABLE shipments ADD COLUMN replaced_awbs jsonb NOT NULL DEFAULT '[]';
