-- An order the marketplace's own logistics carry needs no courier of ours (ADR 0311, ADR 330).
ALTER TABLE routed_orders ADD COLUMN shipped_by_marketplace boolean NOT NULL DEFAULT false;
