-- An operator's rehearsal order (orders.placed.v1 said so): every plan for it says so too, so
-- inventory keeps its reservation out of the available-to-sell it announces (ADR 0360).
ALTER TABLE routed_orders ADD COLUMN rehearsal boolean NOT NULL DEFAULT false;
