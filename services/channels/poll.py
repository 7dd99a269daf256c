"""The reconciliation poll: ask each store for the orders it changed since the last poll and take in
any a webhook never brought (or a cancellation it never told), through the same receipts and dedupe
as the webhooks. The store is called outside any transaction; the cursor moves with what was taken."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chassis.logging import get_logger
from chassis.service import Service
from services.channels import intake, store
from services.channels.settings import ChannelsSettings
from services.channels.stores.interface import (
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
        names = [r["account"] for r in await store.accounts_to_poll(conn)]
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
            (r["updated_at"] for r in await store.accounts_to_poll(conn) if r["account"] == name), None
        )
    if account is None:
        return PollResult(name, 0, 0, "no such enabled account")
    since: datetime = (
        cursor if cursor is not None else clock() - timedelta(seconds=settings.poll_first_lookback_s)
    )
    adapter = adapters[account.platform]
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
        orders = [(p, _read(adapter, p)) for p in changed]
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


def _read(adapter: StoreAdapter, polled: PolledOrder) -> StoreOrder | None:
    """The order a listing carries; None when unreadable (kept as a receipt all the same, so intake
    records why)."""
    try:
        return adapter.read_order(polled.delivery)
    except StoreUnreadable:
        return None
