-- Orders: the single writer of every order's state, its lines, payment and timeline.

CREATE TABLE orders (
    order_id            text PRIMARY KEY,
    channel             text        NOT NULL,
    channel_order_id    text        NOT NULL,
    status              text        NOT NULL,
    placed_at           timestamptz,
    customer            jsonb,
    shipping_address    jsonb,
    lines               jsonb,
    shipping_fee_paise  bigint,
    discount_paise      bigint,
    total_paise         bigint,
    payment             jsonb,
    delivery_speed      text,
    problems            jsonb,
    received            jsonb,      -- what the channel sent, kept so a rejected order can be fixed
    reservation_id      text,
    allocations         jsonb,
    awbs                text[]      NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_one_per_channel_order UNIQUE (channel, channel_order_id)
);
CREATE INDEX orders_status_created ON orders (status, created_at DESC);
CREATE INDEX orders_created ON orders (created_at DESC, order_id DESC);

CREATE TABLE order_timeline (
    id              bigserial PRIMARY KEY,
    order_id        text        NOT NULL REFERENCES orders (order_id),
    from_status     text,
    to_status       text        NOT NULL,
    reason          text        NOT NULL,
    cause_event_id  text,
    actor           text        NOT NULL DEFAULT 'system',
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_timeline_order ON order_timeline (order_id, id);
