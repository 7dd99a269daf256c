-- When orders promised each order would leave the warehouse (orders.confirmed.v1): the fulfilment
-- rate on the analytics page compares it with the parcel's pickup.
ALTER TABLE order_view ADD COLUMN promised_dispatch_by timestamptz;
