"""The reconciliation poll: ask each store for the orders it changed since the last poll and take in
any a webhook never brought (or a cancellation it never told), through the same receipts and dedupe
as the webhooks. The store is called outside any transaction; the cursor moves with what was taken."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chassis.db import Conn
from chassis.logging import get_logger
from chassis.ratelimit import RateLimited
from chassis.service import Service
from services.channels import domain, intake, store
from services.channels.settings import ChannelsSettings
from services.channels.stores.interface import (
    Account,
    MarketplaceAdapter,
    PolledOrder,
    StoreAdapter,
    StoreError,
    StoreOrder,
    StoreUnreadable,
)

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one account's poll found: orders listed, and receipts taken in (missed or cancelled)."""

    account: str
    listed: int
    taken_in: int
    error: str | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def poll_all(
    service: Service,
    settings: ChannelsSettings,
    adapters: dict[str, StoreAdapter],
    *,
    clock: Callable[[], datetime] = _utcnow,
) -> list[PollResult]:
    """Poll every enabled account once."""
    async with service.pool.acquire() as conn:
        names = [due.account for due in await store.accounts_to_poll(conn)]
    return [await poll_account(service, settings, adapters, name, clock=clock) for name in names]


async def poll_account(
    service: Service,
    settings: ChannelsSettings,
    adapters: dict[str, StoreAdapter],
    name: str,
    *,
    clock: Callable[[], datetime] = _utcnow,
) -> PollResult:
    """One account: list what changed since its cursor (less an overlap for clock skew and orders
    changed in the cursor's own second), keep the ones we have not seen, process them."""
    async with service.pool.acquire() as conn:
        account = await store.get_account(conn, name)
        cursor = next(
            (due.updated_at for due in await store.accounts_to_poll(conn) if due.account == name), None
        )
    if account is None:
        return PollResult(name, 0, 0, "no such enabled account")
    since: datetime = (
        cursor if cursor is not None else clock() - timedelta(seconds=settings.poll_first_lookback_s)
    )
    adapter = adapters[account.platform]
    if isinstance(adapter, MarketplaceAdapter):
        return await poll_marketplace(service, settings, adapter, account, clock=clock)
    try:
        changed = await adapter.orders_changed_since(
            account, since - timedelta(seconds=settings.poll_overlap_s)
        )
    except StoreError as exc:
        async with service.pool.acquire() as conn:
            await store.advance_poll(conn, name, since, error=str(exc)[:500])
        log.warning("reconciliation poll failed", account=name, error=str(exc))
        return PollResult(name, 0, 0, str(exc))
    taken = 0
    async with service.pool.acquire() as conn, conn.transaction():
        if not await store.lock_poll(conn, name):
            return PollResult(name, len(changed), 0, "another replica is polling this account")
        orders = [(p, read(adapter, p)) for p in changed]
        known = await store.known_store_orders(conn, name, [o.store_order_id for _, o in orders if o])
        for polled, order in orders:
            if order is not None and order.store_order_id in known and not order.cancelled:
                continue  # seen already, and nothing a webhook would have added
            taken += await store.insert_receipt(conn, name, polled.delivery)
        newest = max((p.updated_at for p in changed), default=since)
        await store.advance_poll(conn, name, max(newest, since))
    if taken:
        await intake.process_pending(service, adapters, account=name)
        log.info("reconciliation poll took in orders a webhook missed", account=name, taken_in=taken)
    return PollResult(name, len(changed), taken)


async def poll_marketplace(
    service: Service,
    settings: ChannelsSettings,
    adapter: MarketplaceAdapter,
    account: Account,
    *,
    clock: Callable[[], datetime] = _utcnow,
    max_pages: int = 50,
) -> PollResult:
    """A marketplace, a page at a time: each page's orders are taken in and the next page's token
    kept in one transaction, so a restart resumes at that page (ADR 141). A new window starts at the
    end of the last one, less the overlap (orders the marketplace records late); dedupe absorbs it.
    When the marketplace's rate allows no more now, the poll stops and resumes on its next run."""
    name = account.account
    listed = taken = 0
    for _ in range(max_pages):
        async with service.pool.acquire() as conn:
            cursor = await store.poll_cursor(conn, name)
        if cursor is not None and cursor.next_page is not None:
            assert cursor.window_from is not None, "a page is asked for within its window"
            since, until, page = cursor.window_from, cursor.window_to, cursor.next_page
        else:
            start = cursor.updated_at if cursor is not None else None
            if start is None:
                start = clock() - timedelta(seconds=settings.poll_first_lookback_s)
            since, until, page = start - timedelta(seconds=settings.poll_overlap_s), None, None
        try:
            found = await adapter.orders_page(account, since=since, until=until, page=page)
        except (StoreError, RateLimited) as exc:
            async with service.pool.acquire() as conn:
                await store.poll_failed(conn, name, str(exc)[:500])
            log.warning("marketplace poll paused", account=name, error=str(exc))
            return PollResult(name, listed, taken, str(exc))
        orders = [(p, read(adapter, p)) for p in found.orders]
        async with service.pool.acquire() as conn, conn.transaction():
            if not await store.lock_poll(conn, name):
                return PollResult(name, listed, taken, "another replica is polling this account")
            if await store.poll_cursor(conn, name) != cursor:
                continue  # another replica took this page meanwhile: ask again from where it got to
            taken += await take_listed(conn, name, orders)
            await store.save_poll_page(
                conn, name, window_from=since, window_to=found.until, next_page=found.next_page
            )
        listed += len(orders)
        if taken:
            await intake.process_pending(service, {account.platform: adapter}, account=name)
        await note_listed(service, name, orders)
        if found.next_page is None:
            break
    if taken:
        log.info("marketplace poll took in orders", account=name, listed=listed, taken_in=taken)
    return PollResult(name, listed, taken)


async def take_listed(conn: Conn, name: str, orders: Sequence[tuple[PolledOrder, StoreOrder | None]]) -> int:
    """Inside the caller's transaction: keep as receipts the listed orders a marketplace poll (or a
    notice, ADR 420) brings in — new paid ones, and a known one's cancellation once. Returns how many."""
    known = await store.cancelled_store_orders(conn, name, [o.store_order_id for _, o in orders if o])
    taken = 0
    for polled, order in orders:
        is_known = order is not None and order.store_order_id in known
        if domain.marketplace_takes(
            order, known=is_known, known_cancelled=bool(order and known.get(order.store_order_id))
        ):
            taken += await store.insert_receipt(conn, name, polled.delivery)
    return taken


async def note_listed(
    service: Service, name: str, orders: Sequence[tuple[PolledOrder, StoreOrder | None]]
) -> None:
    """What listed orders said beyond themselves: the buyer's cancellation request and who carries
    them (on the channel order), and news of parcels the marketplace carries (owed to shipping)."""
    notes = [
        (o.store_order_id, o.buyer_cancel_reason, o.shipped_by_marketplace)
        for _, o in orders
        # A cancelled listing says nothing of who would have carried it (Flipkart's cancelled
        # shipments come without their type): what was noted before stays.
        if o is not None and not o.fulfilled_by_marketplace and not o.cancelled and o.news_status is None
    ]
    # News of parcels the marketplace carries (collected, delivered), owed to shipping (ADR 371).
    news = [
        (o.store_order_id, o.news_status, o.news_code or o.news_status, p.updated_at)
        for p, o in orders
        if o is not None and o.news_status is not None
    ]
    async with service.pool.acquire() as conn:
        await store.note_marketplace(conn, name, notes)
        await store.note_news(conn, name, news)
    for _, o in orders:
        if o is not None and o.buyer_cancel_reason:
            log.warning(
                "buyer asked the marketplace to cancel", account=name, store_order_id=o.store_order_id
            )


def read(adapter: StoreAdapter, polled: PolledOrder) -> StoreOrder | None:
    """The order a listing carries; None when unreadable (kept as a receipt all the same, so intake
    records why)."""
    try:
        return adapter.read_order(polled.delivery)
    except StoreUnreadable:
        return None
