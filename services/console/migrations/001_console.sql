-- The console: operator accounts and sessions, and its read model of every order (from the topics).

CREATE TABLE operators (
    name            text PRIMARY KEY,
    role            text        NOT NULL CHECK (role IN ('admin', 'ops', 'warehouse', 'viewer')),
    password_hash   text        NOT NULL,
    failed_sign_ins int         NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Only a digest of the session token is kept; the cookie holds the token.
CREATE TABLE sessions (
    token_digest text PRIMARY KEY,
    operator     text        NOT NULL REFERENCES operators (name) ON DELETE CASCADE,
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- One row per order, folded from its events by services/console/domain/view.py (ADR 81).
CREATE SEQUENCE order_view_seq;
CREATE TABLE order_view (
    order_id          text PRIMARY KEY,
    seq               bigint      NOT NULL DEFAULT nextval('order_view_seq'),
    first_seen_at     timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    sort_at           timestamptz NOT NULL,
    channel           text,
    channel_order_id  text,
    customer_name     text,
    phone             text,
    email             text,
    city              text,
    state             text,
    pincode           text,
    total_paise       bigint,
    payment_method    text,
    payment_status    text,
    status            text,
    status_reason     text,
    placed_at         timestamptz,
    shipment_status   text,
    warehouses        text[]      NOT NULL DEFAULT '{}',
    couriers          text[]      NOT NULL DEFAULT '{}',
    awbs              text[]      NOT NULL DEFAULT '{}',
    ndr_count         int         NOT NULL DEFAULT 0,
    ndr_open          boolean     NOT NULL DEFAULT false,
    return_open       boolean     NOT NULL DEFAULT false,
    refunded_paise    bigint      NOT NULL DEFAULT 0,
    messages_sent     int         NOT NULL DEFAULT 0,
    messages_failed   int         NOT NULL DEFAULT 0,
    contact_corrected boolean     NOT NULL DEFAULT false,
    -- lowercased ids, AWBs, name and email; phone_digits for search by any part of a phone
    search_text       text        NOT NULL DEFAULT '',
    phone_digits      text        NOT NULL DEFAULT '',
    lines             jsonb       NOT NULL DEFAULT '[]',
    problems          jsonb       NOT NULL DEFAULT '[]',
    shipments         jsonb       NOT NULL DEFAULT '[]',
    returns           jsonb       NOT NULL DEFAULT '[]',
    refunds           jsonb       NOT NULL DEFAULT '[]',
    milestones        jsonb       NOT NULL DEFAULT '{}'
);
-- The queue is read newest first by keyset (sort_at, order_id); filters narrow it.
CREATE INDEX order_view_queue ON order_view (sort_at DESC, order_id DESC);
CREATE INDEX order_view_status ON order_view (status, sort_at DESC, order_id DESC);
CREATE INDEX order_view_channel ON order_view (channel, sort_at DESC, order_id DESC);
CREATE INDEX order_view_ndr ON order_view (sort_at DESC) WHERE ndr_open;
CREATE INDEX order_view_returns ON order_view (sort_at DESC) WHERE return_open;
CREATE INDEX order_view_channel_order ON order_view (channel_order_id);
CREATE INDEX order_view_seq_idx ON order_view (seq);

-- The merged timeline: one line per event about an order, whichever service wrote it.
CREATE TABLE order_timeline (
    event_id text PRIMARY KEY,
    order_id text        NOT NULL,
    at       timestamptz NOT NULL,
    kind     text        NOT NULL,
    text     text        NOT NULL,
    actor    text
);
CREATE INDEX order_timeline_order ON order_timeline (order_id, at);
