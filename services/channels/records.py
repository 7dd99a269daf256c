"""What the channels store hands up: frozen, typed records built only in `store`, so the routes,
the intake, the poll and the pushes read attributes, never a database row.

Work claimed by a push (stock, tracking, cancellations, labels, news) carries what the push needs
and its attempts so far; the listings' pages carry what their routes show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from chassis.db import row_fields
from services.channels.stores.interface import Delivery, Listing


def _listing(row: asyncpg.Record) -> Listing:
    """A listing's ids on its store, from a row that carries them."""
    return Listing(
        channel_sku=row["channel_sku"],
        product_id=row["product_id"],
        variant_id=row["variant_id"],
        inventory_item_id=row["inventory_item_id"],
    )


# --- accounts and mappings -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """A channel account as listed: whether each secret is set, never the secret."""

    account: str
    platform: str
    base_url: str
    location_id: str | None
    stock_buffer: int
    stock_share_pct: int | None
    low_stock_hide_below: int
    enabled: bool
    created_at: datetime
    updated_at: datetime
    webhook_secret_set: bool
    api_secret_set: bool

    @classmethod
    def of(cls, row: asyncpg.Record) -> AccountSummary:
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class SkuMapping:
    """One store listing and the Dabba SKU it sells."""

    channel_sku: str
    sku: str
    product_id: str | None
    variant_id: str | None
    inventory_item_id: str | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> SkuMapping:
        return cls(**row_fields(cls, row))


# --- webhook receipts and store orders -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receipt:
    """A stored delivery of one account, to be read."""

    account: str
    platform: str
    delivery: Delivery

    @classmethod
    def of(cls, row: asyncpg.Record) -> Receipt:
        return cls(
            account=row["account"],
            platform=row["platform"],
            delivery=Delivery(delivery_id=row["delivery_id"], topic=row["topic"], body=bytes(row["body"])),
        )


@dataclass(frozen=True, slots=True)
class KnownOrder:
    """A store order we have, locked for the intake's transaction."""

    account: str
    store_order_id: str
    cancelled_on_store: bool  # the store's cancellation is recorded


@dataclass(frozen=True, slots=True)
class StoreOrderRef:
    """Where one of our orders came from: the store account and its order there."""

    account: str
    store_order_id: str
    shipped_by_marketplace: bool  # the marketplace's own logistics carry it


@dataclass(frozen=True, slots=True)
class ChannelOrderSummary:
    """A store order as listed: sent to orders, or held with the problems that stop it."""

    account: str
    store_order_id: str
    channel: str
    channel_order_id: str
    status: str  # sent | unmapped | unreadable
    problems: tuple[dict[str, Any], ...]
    order_id: str | None
    cancelled_on_store_at: datetime | None
    cancel_outcome: str | None
    dabba_cancelled_at: datetime | None
    store_cancel_outcome: str | None
    store_cancel_error: str | None
    received_at: datetime
    updated_at: datetime

    @property
    def page_key(self) -> str:
        """Its place in the list after its received_at: `account:store_order_id`."""
        return f"{self.account}:{self.store_order_id}"

    @classmethod
    def of(cls, row: asyncpg.Record) -> ChannelOrderSummary:
        return cls(**row_fields(cls, row, problems=tuple(row["problems"])))


@dataclass(frozen=True, slots=True)
class CancellationOwed:
    """A store's cancellation owed to orders, held for this try."""

    account: str
    store_order_id: str
    order_id: str
    cancel_attempts: int


@dataclass(frozen=True, slots=True)
class StoreCancellationOwed:
    """Dabba's cancellation owed to a store, held for this try."""

    account: str
    store_order_id: str
    order_id: str | None
    dabba_cancel_reason: str | None
    store_cancel_attempts: int


# --- polls ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PollDue:
    """An enabled account and where its last poll got to (None: never polled)."""

    account: str
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class PollCursor:
    """Where an account's poll got to: the end of the last finished window, and the window being
    paged through with the page to ask for next (marketplaces)."""

    updated_at: datetime
    window_from: datetime | None
    window_to: datetime | None
    next_page: str | None


# --- stock owed to the stores --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListingRules:
    """A listing on an enabled store with the store's stock rules and the SKU's latest number."""

    account: str
    sku: str
    listing: Listing
    stock_buffer: int
    stock_share_pct: int | None
    low_stock_hide_below: int
    available_total: int | None  # None until inventory has told us a number

    @property
    def channel_sku(self) -> str:
        return self.listing.channel_sku

    @classmethod
    def of(cls, row: asyncpg.Record) -> ListingRules:
        return cls(**row_fields(cls, row, listing=_listing(row)))


@dataclass(frozen=True, slots=True)
class StockOwed:
    """A listing's stock level owed to its store and claimed for this push."""

    account: str
    sku: str
    listing: Listing
    quantity: int
    version: int
    attempts: int
    changed_at: datetime
    push_alone: bool  # the store refused it among others: it goes alone (ADR 142)

    @property
    def channel_sku(self) -> str:
        return self.listing.channel_sku

    @classmethod
    def of(cls, row: asyncpg.Record) -> StockOwed:
        return cls(**row_fields(cls, row, listing=_listing(row)))


@dataclass(frozen=True, slots=True)
class ListingStock:
    """The number a listing should show, what the store confirmed, and whether a push is owed."""

    channel_sku: str
    sku: str
    quantity: int
    confirmed_quantity: int | None
    confirmed_at: datetime | None
    owed: bool
    attempts: int
    last_error: str | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> ListingStock:
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class FullPushDone:
    """A store's last full push: listings pushed, how many had drifted, any error."""

    pushed_at: datetime
    listings: int
    drifted: int
    error: str | None


@dataclass(frozen=True, slots=True)
class Drift:
    """A listing whose number on the store was not Dabba's (None: the store did not know it)."""

    channel_sku: str
    sku: str
    store_quantity: int | None
    dabba_quantity: int
    found_at: datetime


# --- tracking, labels and news owed --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FulfilmentOwed:
    """Tracking owed to a store order, claimed for this push."""

    shipment_id: str
    account: str
    store_order_id: str
    courier: str
    awb: str
    tracking_url: str | None
    attempts: int
    shipped_by_marketplace: bool

    @classmethod
    def of(cls, row: asyncpg.Record) -> FulfilmentOwed:
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class MarketplaceLabel:
    """A marketplace's label of a parcel it carries: owed, recorded on the shipment with its AWB,
    refused for good (with why), or cancelled with our invoice."""

    shipment_id: str
    order_id: str
    account: str
    store_order_id: str
    invoice_number: str
    invoice_issued_at: datetime
    rates: dict[str, str]  # Dabba SKU → GST rate (percent) on our invoice
    state: str  # owed | recorded | refused | cancelled
    awb: str | None
    carrier: str | None
    outcome: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> MarketplaceLabel:
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class NewsOwed:
    """What a marketplace reported of a parcel it carries, owed to shipping; with our shipment
    (None when no shipment of ours is known)."""

    account: str
    store_order_id: str
    status: str
    code: str
    occurred_at: datetime
    attempts: int
    shipment_id: str | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> NewsOwed:
        return cls(**row_fields(cls, row))
