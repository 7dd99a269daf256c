"""The stock number each listing owes its store: inventory's latest number for the SKU, through that
store's rules (buffer, share cap, low-stock rule; domain.stock_to_show). Called when a SKU's stock
changes, when a store's rules or mappings change, and by the full push that repairs drift."""

from __future__ import annotations

from collections.abc import Sequence

from chassis.db import Conn
from services.channels import domain, store


async def owe_listings(
    conn: Conn, *, sku: str | None = None, account: str | None = None, skus: Sequence[str] | None = None
) -> int:
    """Owe every listing of a SKU (or of these SKUs, or of a store) the number its store's rules
    give it now."""
    listings = await store.listings_with_rules(conn, sku=sku, account=account, skus=skus)
    return await store.owe_stock(
        conn,
        [
            (
                listing.account,
                listing.channel_sku,
                listing.sku,
                domain.stock_to_show(
                    listing.available_total,
                    buffer=listing.stock_buffer,
                    share_pct=listing.stock_share_pct,
                    hide_below=listing.low_stock_hide_below,
                ),
            )
            for listing in listings
            if listing.available_total is not None
        ],
    )
