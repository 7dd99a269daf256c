-- Channel accounts, SKU mappings, webhook receipts, the orders each store sent, and what we owe
-- the stores (stock levels, fulfilments). Secrets live here because signatures need them; the API
-- never reads them back out.

CREATE TABLE channel_accounts (
    account         text PRIMARY KEY CHECK (account ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    platform        text        NOT NULL CHECK (platform IN ('shopify', 'woocommerce')),
    base_url        text        NOT NULL,
    webhook_secret  text        NOT NULL,
    api_key         text        NOT NULL DEFAULT '',
    api_secret      text        NOT NULL DEFAULT '',
    location_id     text,       -- Shopify: the location whose "available" quantity we set
    stock_buffer    integer     NOT NULL DEFAULT 0 CHECK (stock_buffer >= 0),
    enabled         boolean     NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One listing on a store ↔ one Dabba SKU. Orders map by channel SKU or variant id; stock goes out
-- to the listing's variant / inventory item.
CREATE TABLE sku_mappings (
    account            text NOT NULL REFERENCES channel_accounts ON DELETE CASCADE,
    channel_sku        text NOT NULL,
    sku                text NOT NULL,
    product_id         text,
    variant_id         text,
    inventory_item_id  text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, channel_sku)
);
CREATE UNIQUE INDEX sku_mappings_variant ON sku_mappings (account, variant_id) WHERE variant_id IS NOT NULL;
CREATE INDEX sku_mappings_sku ON sku_mappings (sku);

-- Every verified webhook, kept raw before it is read: accepted in milliseconds, processed after.
CREATE TABLE webhook_receipts (
    account       text        NOT NULL,
    delivery_id   text        NOT NULL,  -- X-Shopify-Webhook-Id / X-WC-Webhook-Delivery-ID
    topic         text        NOT NULL,
    body          bytea       NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    outcome       text,
    PRIMARY KEY (account, delivery_id)
);
CREATE INDEX webhook_receipts_pending ON webhook_receipts (received_at) WHERE processed_at IS NULL;

-- One row per order a store (or a CSV import) sent: dedupe by the store's own order id.
CREATE TABLE channel_orders (
    account              text        NOT NULL,
    store_order_id       text        NOT NULL,
    channel              text        NOT NULL,
    channel_order_id     text        NOT NULL,
    status               text        NOT NULL CHECK (status IN ('sent', 'unmapped', 'unreadable')),
    problems             jsonb       NOT NULL DEFAULT '[]',
    store_order          jsonb       NOT NULL,  -- what the store said, in our terms, to map again later
    order_id             text,                  -- Dabba's id, once orders placed it
    cancelled_on_store_at timestamptz,
    received_at          timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, store_order_id),
    UNIQUE (channel, channel_order_id)
);
CREATE INDEX channel_orders_order ON channel_orders (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX channel_orders_unmapped ON channel_orders (account) WHERE status = 'unmapped';

-- The stock number each store should show for each listing. Bursts overwrite `quantity` and bump
-- `version`, so a hundred sales of one SKU become one push of the final number.
CREATE TABLE stock_pushes (
    account            text        NOT NULL REFERENCES channel_accounts ON DELETE CASCADE,
    channel_sku        text        NOT NULL,
    sku                text        NOT NULL,
    quantity           integer     NOT NULL CHECK (quantity >= 0),
    version            bigint      NOT NULL DEFAULT 1,
    changed_at         timestamptz NOT NULL DEFAULT now(),  -- when the latest number arrived
    pushed_version     bigint      NOT NULL DEFAULT 0,
    confirmed_quantity integer,    -- what the store read back after our last push
    confirmed_at       timestamptz,
    claimed_at         timestamptz,
    attempts           integer     NOT NULL DEFAULT 0,
    next_try_at        timestamptz NOT NULL DEFAULT now(),
    last_error         text,
    PRIMARY KEY (account, channel_sku)
);
CREATE INDEX stock_pushes_due ON stock_pushes (next_try_at) WHERE version > pushed_version;

-- Tracking owed to a store: one per shipment picked up.
CREATE TABLE fulfilment_pushes (
    shipment_id     text PRIMARY KEY,
    account         text        NOT NULL,
    store_order_id  text        NOT NULL,
    courier         text        NOT NULL,
    awb             text        NOT NULL,
    tracking_url    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz,
    claimed_at      timestamptz,
    attempts        integer     NOT NULL DEFAULT 0,
    next_try_at     timestamptz NOT NULL DEFAULT now(),
    last_error      text
);
CREATE INDEX fulfilment_pushes_due ON fulfilment_pushes (next_try_at) WHERE done_at IS NULL;
