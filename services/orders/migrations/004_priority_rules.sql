-- The operator's priority weights (prepaid/COD, value bands, speed, channel, pincode ranges), edited
-- over HTTP; no row: the PRIORITY_* settings apply. One row, replaced whole (ADR 262).
CREATE TABLE priority_rules (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    weights     jsonb   NOT NULL,
    updated_by  text    NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Why a confirmed order has its priority: one reason per weight that counted ("express +100").
ALTER TABLE orders ADD COLUMN priority_reasons text[] NOT NULL DEFAULT '{}';
