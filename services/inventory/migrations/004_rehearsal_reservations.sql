-- Operators' rehearsal orders (ADR 0360) reserve real stock, but what they hold is counted apart:
-- available-to-sell, as announced to channels and routing, leaves it out, so no channel is ever
-- told a lower number for a rehearsal. The reservation itself still takes the units (no oversell).
ALTER TABLE stock
    ADD COLUMN rehearsal_reserved integer NOT NULL DEFAULT 0 CHECK (rehearsal_reserved >= 0),
    ADD CONSTRAINT stock_rehearsal_within_reserved CHECK (rehearsal_reserved <= reserved);

ALTER TABLE reservations ADD COLUMN rehearsal boolean NOT NULL DEFAULT false;
