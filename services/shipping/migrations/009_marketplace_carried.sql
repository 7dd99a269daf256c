-- The marketplace whose own logistics carry the parcel (flipkart: its non-self-ship shipments,
-- amazon: Easy Ship); NULL for a parcel a courier of ours carries. Such a shipment is never booked
-- with our couriers: its AWB and label come from the marketplace (ADR 330).
ALTER TABLE shipments ADD COLUMN marketplace text;
