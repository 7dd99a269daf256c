-- The nightly full stock push (ADR 94): when each store last had every listing pushed, and what it
-- found — each listing whose store showed another number than Dabba's rule gives it (drift).
CREATE TABLE full_pushes (
    account     text PRIMARY KEY REFERENCES channel_accounts ON DELETE CASCADE,
    pushed_at   timestamptz NOT NULL,
    listings    integer     NOT NULL,
    drifted     integer     NOT NULL,
    error       text
);

CREATE TABLE stock_drift (
    id              bigserial PRIMARY KEY,
    account         text        NOT NULL REFERENCES channel_accounts ON DELETE CASCADE,
    channel_sku     text        NOT NULL,
    sku             text        NOT NULL,
    store_quantity  integer,    -- NULL: the store does not know the listing
    dabba_quantity  integer     NOT NULL,
    found_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_drift_account ON stock_drift (account, found_at DESC);
