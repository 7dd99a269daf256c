-- Amazon and Flipkart (ADR 141): marketplaces are polled, not webhooked. An account carries what
-- their APIs need (Amazon: the LWA refresh token, seller and marketplace ids; both: the token URL),
-- and the poll's cursor keeps the window it is paging through and the page to ask for next, so a
-- restart mid-poll resumes at that page: no order missed, none asked for twice.
ALTER TABLE channel_accounts DROP CONSTRAINT channel_accounts_platform_check;
ALTER TABLE channel_accounts
    ADD CONSTRAINT channel_accounts_platform_check
        CHECK (platform IN ('shopify', 'woocommerce', 'amazon', 'flipkart')),
    ADD COLUMN refresh_token  text NOT NULL DEFAULT '',
    ADD COLUMN seller_id      text,
    ADD COLUMN marketplace_id text,
    ADD COLUMN auth_url       text;

ALTER TABLE poll_cursors
    ADD COLUMN window_from timestamptz,   -- the window being paged through: changed after this ...
    ADD COLUMN window_to   timestamptz,   -- ... and up to this (the marketplace's own "before")
    ADD COLUMN next_page   text;          -- Amazon's NextToken / Flipkart's nextPageUrl

-- What a marketplace said about an order beyond the order itself: the buyer asked to cancel
-- (Amazon's BuyerRequestedCancel), the marketplace ships it (Easy Ship, Flipkart's own logistics).
ALTER TABLE channel_orders
    ADD COLUMN buyer_cancel_reason  text,
    ADD COLUMN shipped_by_marketplace boolean NOT NULL DEFAULT false;

-- A listing a marketplace refused in a batch is tried again alone (ADR 142).
ALTER TABLE stock_pushes ADD COLUMN push_alone boolean NOT NULL DEFAULT false;
