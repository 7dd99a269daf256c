"""What channels needs from any store platform: read its signed webhooks as orders, set stock on
its listings, put tracking on its orders. Each platform's adapter speaks its documented API behind
this one Protocol; credentials and base URLs come per channel account (a seller may have two stores).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from chassis.aws import Queue
from contracts import CancelReason, Payment


@dataclass(frozen=True, slots=True)
class Account:
    """One store of the seller's, as the adapters need it; secrets never leave this object."""

    account: str
    platform: str
    base_url: str
    webhook_secret: str = field(repr=False)
    api_key: str = field(default="", repr=False)
    api_secret: str = field(default="", repr=False)
    location_id: str | None = None
    stock_buffer: int = 0
    stock_share_pct: int | None = None
    low_stock_hide_below: int = 0
    refresh_token: str = field(default="", repr=False)
    """Amazon: the Login with Amazon refresh token the seller's authorisation gave."""
    seller_id: str | None = None
    """Amazon: the selling partner id (listings are addressed by it)."""
    marketplace_id: str | None = None
    """Amazon: the marketplace (A21TJRUUN4KGV is Amazon.in)."""
    auth_url: str | None = None
    """Where access tokens come from (LWA's or Flipkart's token URL); None: the platform's own."""
    orders_api: str = "v0"
    """Amazon: which Orders API its orders are read with, ordersV0 (getOrders) or 2026-01-01
    (searchOrders), ADR 421."""
    sqs_queue_url: str | None = None
    """Amazon: the SQS queue its ORDER_CHANGE notifications are delivered to (None: polled only)."""
    sqs_region: str | None = None
    sqs_access_key_id: str = ""
    sqs_secret_access_key: str = field(default="", repr=False)
    """The access key of an AWS principal allowed to receive from that queue and delete."""

    @property
    def order_queue(self) -> Queue | None:
        """Where the marketplace tells of changed orders, when the seller set it up (ADR 420)."""
        if not self.sqs_queue_url:
            return None
        return Queue(
            url=self.sqs_queue_url,
            region=self.sqs_region or "",
            access_key_id=self.sqs_access_key_id,
            secret_access_key=self.sqs_secret_access_key,
        )


@dataclass(frozen=True, slots=True)
class StoreLine:
    """One line as the store sent it: its own SKU and listing ids, not yet a Dabba SKU."""

    channel_sku: str
    quantity: int
    unit_price_paise: int
    variant_id: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class StoreOrder:
    """An order as a store sent it, in our terms (paise, E.164-ish phone, state by name)."""

    store_order_id: str
    """The store's own id of the order: the same id twice is the same order."""
    name: str
    """What the seller sees in the store's admin, e.g. #1001."""
    placed_at: datetime
    customer: dict[str, str | None]
    shipping_address: dict[str, str | None]
    lines: tuple[StoreLine, ...]
    shipping_fee_paise: int
    discount_paise: int
    total_paise: int
    payment: Payment
    cancelled: bool = False
    awaiting_payment: bool = False
    """A marketplace order whose payment is not authorised yet (Amazon's Pending): not taken in
    until it is; its next change brings it again."""
    shipped_by_marketplace: bool = False
    """The marketplace's own logistics carry it (Amazon Easy Ship, Flipkart's E2E): Dabba books no
    courier and takes the label from the marketplace."""
    fulfilled_by_marketplace: bool = False
    """Packed and shipped from the marketplace's warehouse (Amazon AFN, Flipkart FBF): not Dabba's
    stock or order to fulfil."""
    buyer_cancel_reason: str | None = None
    news_status: str | None = None
    """A parcel the marketplace carries, reported moving since (picked up, delivered): the canonical
    shipment status it maps to (ADR 371). Such a listing is news for shipping, never a new order."""
    news_code: str | None = None
    """The marketplace's own state behind ``news_status`` (Flipkart: PICKUP_COMPLETE, SHIPPED…)."""
    """The buyer asked the marketplace to cancel (Amazon's BuyerRequestedCancel): surfaced to ops."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A verified webhook: its delivery id (for dropping repeats), its topic, its raw body."""

    delivery_id: str
    topic: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Listing:
    """Where one SKU's stock lives on a store."""

    channel_sku: str
    product_id: str | None = None
    variant_id: str | None = None
    inventory_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class StockLevel:
    """A quantity a store should show for a listing."""

    listing: Listing
    quantity: int


@dataclass(frozen=True, slots=True)
class Tracking:
    """A parcel handed to a courier: what the store's order should show."""

    courier: str
    awb: str
    url: str | None
    shipped_by_marketplace: bool = False
    """The marketplace's own logistics carry it (Flipkart's shipments other than self-ship): the store
    is told the parcel is ready for its courier, not given ours."""


@dataclass(frozen=True, slots=True)
class PolledOrder:
    """An order a reconciliation poll listed: when the store last changed it, and the order as a
    delivery (the same shape as the platform's order webhook), read by the same intake."""

    updated_at: datetime
    delivery: Delivery


@dataclass(frozen=True, slots=True)
class PolledPage:
    """One page of a marketplace's changed orders: the orders, the end of the window the marketplace
    fixed (its own "updated before"), and the token of the next page (None: the window is done)."""

    orders: list[PolledOrder]
    until: datetime
    next_page: str | None


class WebhookRefused(Exception):
    """A webhook whose signature does not verify (401) or which cannot be read (400)."""

    def __init__(self, problem: str, *, status: int = 401) -> None:
        super().__init__(problem)
        self.status = status


class StoreUnreadable(Exception):
    """A verified webhook whose body is not an order we can read; kept, never dropped."""


class SkusRefused(Exception):
    """A stock batch the marketplace took in part: ``shown`` by channel SKU for those it took,
    ``refused`` (channel SKU → its reason) for the others. Each refused one is tried again alone."""

    def __init__(self, shown: dict[str, int], refused: dict[str, str]) -> None:
        super().__init__(
            f"{len(refused)} listing(s) refused: " + "; ".join(f"{k}: {v}" for k, v in refused.items())
        )
        self.shown = shown
        self.refused = refused


class StoreError(Exception):
    """A store refused or could not take a call; ``retry_after_s`` when it said how long to wait."""

    def __init__(self, message: str, *, retry_after_s: float | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.retryable = retryable


class StoreAdapter(Protocol):
    """A store platform's API: its webhooks in, stock and tracking out."""

    platform: str
    """The platform's code, which is also the ``channel`` of its orders: ``shopify``."""

    max_stock_batch: int
    """How many stock levels one call may carry (Shopify 250, WooCommerce 100)."""

    def verify_webhook(self, account: Account, headers: Mapping[str, str], body: bytes) -> Delivery:
        """Check the signature over the raw body with the account's secret, before anything parses it.

        Raises WebhookRefused when the signature is missing or wrong, or a header we need is absent."""
        ...

    def read_order(self, delivery: Delivery) -> StoreOrder | None:
        """The order a verified webhook carries; None for topics that carry no order news.

        Raises StoreUnreadable when the body is not an order of this platform's documented shape."""
        ...

    async def set_stock(self, account: Account, levels: list[StockLevel]) -> dict[str, int]:
        """Set these quantities (at most max_stock_batch) and return what the store now shows,
        read back, by channel SKU. Raises StoreError (retryable on 429/5xx, honouring Retry-After)."""
        ...

    async def read_stock(self, account: Account, listings: list[Listing]) -> dict[str, int]:
        """What the store shows now for these listings (at most max_stock_batch), by channel SKU; a
        listing the store does not know is left out. Raises StoreError."""
        ...

    async def orders_changed_since(self, account: Account, since: datetime) -> list[PolledOrder]:
        """Every order the store changed after ``since``, oldest change first (all pages), for the
        reconciliation poll that catches a webhook the store never delivered. Raises StoreError."""
        ...

    async def fulfil(self, account: Account, store_order_id: str, tracking: Tracking) -> None:
        """Tell the store the order left with this courier and AWB; idempotent per AWB.
        Raises StoreError."""
        ...

    async def cancel(self, account: Account, store_order_id: str, *, reason: CancelReason, note: str) -> str:
        """Cancel the store's order because Dabba cancelled it: the customer is refunded what the store
        took, the store does not restock (Dabba's next stock push sets its number). Idempotent: an
        order the store has already cancelled is done. Returns what the store said; raises StoreError
        (``retryable=False`` when the store refuses for good)."""
        ...


@runtime_checkable
class MarketplaceAdapter(StoreAdapter, Protocol):
    """A marketplace (Amazon, Flipkart): no webhooks to us; orders are polled a page at a time within
    the marketplace's rate limits, and the poll's place is kept between pages."""

    async def orders_page(
        self, account: Account, *, since: datetime, until: datetime | None, page: str | None
    ) -> PolledPage:
        """One page of the orders changed after ``since`` (up to ``until`` once the first page fixed
        it), ``page`` the token a previous page gave. Raises StoreError (and chassis.ratelimit's
        RateLimited when the marketplace's rate would be exceeded)."""
        ...


@dataclass(frozen=True, slots=True)
class MarketplaceInvoice:
    """Our tax invoice of a parcel, as a marketplace's label asks for it (ADR 370)."""

    number: str
    issued_at: datetime
    rates: Mapping[str, str]
    """The GST rate (percent, plain digits) by the marketplace's seller SKU or listing id."""


@dataclass(frozen=True, slots=True)
class MarketplaceLabel:
    """The AWB a marketplace's own logistics gave a parcel, and who carries it for the marketplace."""

    awb: str
    carrier: str | None = None


@runtime_checkable
class LabelSource(Protocol):
    """A marketplace that labels the parcels its own logistics carry (Flipkart's pack API)."""

    async def label(
        self, account: Account, store_order_id: str, invoice: MarketplaceInvoice
    ) -> MarketplaceLabel:
        """Pack the marketplace's order with our invoice and return the AWB its label carries.
        Packing an order packed before only reads its label again. Raises StoreError: retryable
        while the marketplace is still generating the label."""
        ...

    async def label_pdf(self, account: Account, store_order_id: str) -> bytes:
        """The marketplace's label of a packed order as a PDF, printed again (never packs it)."""
        ...


@dataclass(frozen=True, slots=True)
class OrderNotice:
    """A marketplace's word that one of its orders changed (Amazon's ORDER_CHANGE), as its queue
    delivered it: whose order, whether it is worth fetching, and the handle that settles it."""

    handle: str
    store_order_id: str | None
    """None: not a notice of an order we can read (another type, a body not of the documented shape)."""
    seller_id: str | None = None
    marketplace_id: str | None = None
    worth_fetching: bool = False
    """False for an order nothing of ours can come of yet (fulfilled by the marketplace, payment
    not authorised: its authorisation is another notice)."""
    cancelled: bool = False
    """The marketplace cancelled the order."""
    buyer_request: bool = False
    """The buyer asked for a change (Amazon's BuyerRequestedChange: a cancellation request)."""
    problem: str | None = None


@runtime_checkable
class NoticeSource(Protocol):
    """A marketplace that tells of changed orders through a queue (Amazon's Notifications API to
    SQS): each notice fetches its order at once; the poll stays on behind it (ADR 420)."""

    async def notices(self, queue: Queue, *, wait_s: int) -> list[OrderNotice]:
        """Notices waiting in the queue, waiting up to ``wait_s`` for the first (long polling).
        A notice not settled comes back once the queue's visibility timeout passes. Raises StoreError."""
        ...

    async def settle(self, queue: Queue, notice: OrderNotice) -> None:
        """Delete a notice handled (taken in, or nothing to take): the queue will not bring it again."""
        ...

    async def order(self, account: Account, store_order_id: str) -> PolledOrder:
        """One order as a poll would list it (the same delivery, the same receipt id for the same
        state), so an order both a notice and the poll bring is taken once. Raises StoreError."""
        ...
