-- A released unroutable order is planned again: its attempts continue in a new round, and the
-- re-plan budget counts from the round's first attempt.
ALTER TABLE routed_orders ADD COLUMN round_start int NOT NULL DEFAULT 1;
