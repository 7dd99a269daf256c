-- Why a reservation was released: an expired one is taken again if its order is confirmed late.
ALTER TABLE reservations ADD COLUMN released_because text;  -- cancelled | expired
