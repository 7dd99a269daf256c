-- A parcel a marketplace's own logistics carry gets its label (and AWB) from the marketplace, asked
-- for with our invoice once invoicing issued it (ADR 370); what the marketplace then reports of the
-- parcel (collected by its courier, delivered) is passed on to shipping (ADR 371). Each is owed
-- here, in the transaction that learnt it, and sent later outside any transaction.
CREATE TABLE marketplace_labels (
    shipment_id       text PRIMARY KEY,
    order_id          text        NOT NULL,
    account           text        NOT NULL REFERENCES channel_accounts (account),
    store_order_id    text        NOT NULL,
    invoice_number    text        NOT NULL,
    invoice_issued_at timestamptz NOT NULL,
    rates             jsonb       NOT NULL,   -- Dabba SKU → GST rate (percent) on our invoice
    state             text        NOT NULL DEFAULT 'owed' CHECK (state IN ('owed', 'recorded', 'refused')),
    awb               text,
    carrier           text,                   -- who carries it for the marketplace (Ekart…)
    outcome           text,                   -- why it was refused, for an operator
    attempts          integer     NOT NULL DEFAULT 0,
    next_try_at       timestamptz NOT NULL DEFAULT now(),
    claimed_at        timestamptz,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX marketplace_labels_owed ON marketplace_labels (next_try_at) WHERE state = 'owed';

CREATE TABLE marketplace_news (
    account        text        NOT NULL REFERENCES channel_accounts (account),
    store_order_id text        NOT NULL,
    status         text        NOT NULL,   -- the canonical shipment status it maps to
    code           text        NOT NULL,   -- the marketplace's own state
    occurred_at    timestamptz NOT NULL,
    outcome        text,                   -- what shipping answered; NULL while owed
    attempts       integer     NOT NULL DEFAULT 0,
    next_try_at    timestamptz NOT NULL DEFAULT now(),
    claimed_at     timestamptz,
    last_error     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, store_order_id, status)
);
CREATE INDEX marketplace_news_owed ON marketplace_news (next_try_at) WHERE outcome IS NULL;
