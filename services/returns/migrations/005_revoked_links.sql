-- Return links an operator revoked (a link sent to the wrong number, a customer who called instead).
-- A link is its signed order and expiry, so revoking one remembers its signature until it would
-- have expired anyway; the same order's other links keep working.

CREATE TABLE revoked_links (
    signature  text PRIMARY KEY,
    order_id   text NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL,
    revoked_by text NOT NULL
);
