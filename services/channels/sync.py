"""Stock, tracking and Dabba's cancellations out to the stores, each call outside any transaction:
claim what is owed in one short transaction, call the store, record what it confirmed in another
(ADR 40's shape).
A burst of changes to one SKU is one push of the final number; a store that answers 429/5xx is
tried again after what it asked for, else exponential backoff.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo

import httpx

from chassis.logging import get_logger
from chassis.ratelimit import RateLimited
from chassis.service import Service
from contracts import CancelReason
from services.channels import domain, store
from services.channels.records import MarketplaceLabel, StockOwed
from services.channels.settings import ChannelsSettings
from services.channels.stores.interface import (
    LabelSource,
    MarketplaceInvoice,
    SkusRefused,
    StockLevel,
    StoreAdapter,
    StoreError,
    Tracking,
)

log = get_logger(__name__)


async def push_stock(service: Service, settings: ChannelsSettings, adapters: dict[str, StoreAdapter]) -> int:
    """Send owed stock levels, a batch per account, every account at once (a slow or throttled
    store does not hold back the others' numbers); returns how many levels the stores confirmed."""
    async with service.pool.acquire() as conn, conn.transaction():
        rows = await store.claim_stock(conn, limit=1000)
        await store.mark_stock_claimed(conn, [(r.account, r.channel_sku) for r in rows])
    by_account: defaultdict[str, list[StockOwed]] = defaultdict(list)
    for row in rows:
        by_account[row.account].append(row)
    pushed = await asyncio.gather(
        *(_push_account(service, settings, adapters, name, owed) for name, owed in by_account.items()),
        return_exceptions=True,
    )
    for name, outcome in zip(by_account, pushed, strict=True):
        if isinstance(outcome, BaseException):  # its levels stay claimed a minute, then go again
            log.error("stock push of an account failed", account=name, error=repr(outcome))
    return sum(n for n in pushed if isinstance(n, int))


async def _push_account(
    service: Service,
    settings: ChannelsSettings,
    adapters: dict[str, StoreAdapter],
    name: str,
    owed: list[StockOwed],
) -> int:
    """One account's owed levels, in the store's batches one after another (its rate limit is
    per store); how many it confirmed."""
    confirmed = 0
    async with service.pool.acquire() as conn:
        account = await store.get_account(conn, name)
    if account is None:
        return 0
    adapter = adapters[account.platform]
    for batch in domain.stock_batches(owed, size=adapter.max_stock_batch, alone=lambda r: r.push_alone):
        keys = [(r.account, r.channel_sku) for r in batch]
        levels = [StockLevel(listing=r.listing, quantity=r.quantity) for r in batch]
        refused: dict[str, str] = {}
        try:
            shown = await adapter.set_stock(account, levels)
        except SkusRefused as exc:
            shown, refused = exc.shown, exc.refused
        except (StoreError, RateLimited) as exc:
            attempts = max(r.attempts for r in batch) + 1
            wait = domain.next_try_in(
                attempts,
                retry_after_s=exc.retry_after_s if isinstance(exc, StoreError) else exc.wait_s,
                max_s=settings.push_retry_max_s,
            )
            async with service.pool.acquire() as conn:
                await store.stock_failed(conn, keys, error=str(exc)[:500], wait_s=wait)
            log.warning("stock push failed", account=name, levels=len(batch), error=str(exc), retry_in_s=wait)
            continue
        async with service.pool.acquire() as conn:
            await store.stock_pushed(
                conn,
                [
                    (r.account, r.channel_sku, r.version, shown.get(r.channel_sku))
                    for r in batch
                    if r.channel_sku not in refused
                ],
            )
            for r in batch:
                if (reason := refused.get(r.channel_sku)) is not None:
                    # Tried again alone (ADR 142): at once when it was refused among others, with
                    # backoff once it is refused on its own; the reason stays on its row for ops.
                    alone = len(batch) == 1
                    wait = (
                        domain.next_try_in(
                            r.attempts + 1, retry_after_s=None, max_s=settings.push_retry_max_s
                        )
                        if alone
                        else 0.0
                    )
                    await store.stock_refused(conn, r.account, r.channel_sku, error=reason[:500], wait_s=wait)
                    log.warning(
                        "stock push refused for one listing",
                        account=name,
                        channel_sku=r.channel_sku,
                        reason=reason,
                        alone=alone,
                    )
        confirmed += sum(1 for r in batch if shown.get(r.channel_sku) == r.quantity)
        log.info("stock pushed", account=name, levels=len(batch))
    return confirmed


async def push_fulfilments(
    service: Service, settings: ChannelsSettings, adapters: dict[str, StoreAdapter]
) -> int:
    """Put tracking on store orders whose parcels were picked up; returns how many were done."""
    async with service.pool.acquire() as conn, conn.transaction():
        rows = await store.claim_fulfilments(conn, limit=50)
    done = 0
    for row in rows:
        async with service.pool.acquire() as conn:
            account = await store.get_account(conn, row.account)
        if account is None:
            continue
        tracking = Tracking(
            courier=row.courier,
            awb=row.awb,
            url=row.tracking_url,
            shipped_by_marketplace=row.shipped_by_marketplace,
        )
        try:
            await adapters[account.platform].fulfil(account, row.store_order_id, tracking)
        except StoreError as exc:
            wait = domain.next_try_in(
                row.attempts + 1, retry_after_s=exc.retry_after_s, max_s=settings.push_retry_max_s
            )
            async with service.pool.acquire() as conn:
                await store.fulfilment_failed(conn, row.shipment_id, error=str(exc)[:500], wait_s=wait)
            log.warning("tracking push failed", shipment_id=row.shipment_id, error=str(exc), retry_in_s=wait)
            continue
        async with service.pool.acquire() as conn:
            await store.fulfilment_done(conn, row.shipment_id)
        done += 1
        log.info("tracking pushed", shipment_id=row.shipment_id, account=row.account, awb=row.awb)
    return done


async def push_cancellations(service: Service, settings: ChannelsSettings, orders: httpx.AsyncClient) -> int:
    """Cancel in Dabba the orders their store cancelled; returns how many orders answered.

    Orders decides: before dispatch it cancels (and inventory releases the stock); after dispatch it
    refuses, and the refusal is kept on the channel order for an operator to act on."""
    async with service.pool.acquire() as conn, conn.transaction():
        rows = await store.claim_cancellations(conn, limit=50)
    answered = 0
    for row in rows:
        note = f"cancelled on the store ({row.account}, order {row.store_order_id})"
        try:
            response = await orders.post(
                f"/orders/{row.order_id}/cancel",
                json={"reason_code": "customer_request", "note": note},
                headers={"X-API-Key": settings.orders_api_key},
            )
        except httpx.HTTPError as exc:
            response = None
            error = f"{type(exc).__name__}: {exc}"
        if response is not None and response.status_code < 500 and response.status_code != 429:
            outcome = (
                "cancelled in Dabba"
                if response.is_success
                else f"refused by orders (HTTP {response.status_code}): {response.text[:400]}"
            )
            async with service.pool.acquire() as conn:
                await store.cancellation_done(conn, row.account, row.store_order_id, outcome)
            answered += 1
            log.info("store cancellation passed on", order_id=row.order_id, outcome=outcome)
            continue
        if response is not None:
            error = f"HTTP {response.status_code}"
        wait = domain.next_try_in(
            row.cancel_attempts + 1, retry_after_s=None, max_s=settings.push_retry_max_s
        )
        async with service.pool.acquire() as conn:
            await store.cancellation_failed(conn, row.account, row.store_order_id, wait_s=wait)
        log.warning(
            "store cancellation not passed on yet", order_id=row.order_id, error=error, retry_in_s=wait
        )
    return answered


async def push_store_cancellations(
    service: Service, settings: ChannelsSettings, adapters: dict[str, StoreAdapter]
) -> int:
    """Tell each store about the orders Dabba cancelled; returns how many the stores answered.

    A store's refusal (an order it will not cancel, e.g. already fulfilled there) is kept on the
    channel order for an operator; throttling and outages are tried again with backoff."""
    async with service.pool.acquire() as conn, conn.transaction():
        rows = await store.claim_store_cancellations(conn, limit=50)
    answered = 0
    for row in rows:
        async with service.pool.acquire() as conn:
            account = await store.get_account(conn, row.account)
        if account is None:
            continue
        reason = CancelReason(row.dabba_cancel_reason or CancelReason.OTHER)
        note = f"Cancelled in Dabba, order {row.order_id} ({reason.value})"
        try:
            outcome = await adapters[account.platform].cancel(
                account, row.store_order_id, reason=reason, note=note
            )
        except StoreError as exc:
            async with service.pool.acquire() as conn:
                if not exc.retryable:
                    await store.store_cancellation_done(
                        conn, row.account, row.store_order_id, f"refused by the store: {exc}"[:500]
                    )
                    log.warning("store refused a cancellation", order_id=row.order_id, error=str(exc))
                    answered += 1
                    continue
                wait = domain.next_try_in(
                    row.store_cancel_attempts + 1,
                    retry_after_s=exc.retry_after_s,
                    max_s=settings.push_retry_max_s,
                )
                await store.store_cancellation_failed(
                    conn, row.account, row.store_order_id, error=str(exc)[:500], wait_s=wait
                )
            log.warning(
                "store cancellation not sent yet", order_id=row.order_id, error=str(exc), retry_in_s=wait
            )
            continue
        async with service.pool.acquire() as conn:
            await store.store_cancellation_done(conn, row.account, row.store_order_id, outcome)
        answered += 1
        log.info("cancellation sent to the store", order_id=row.order_id, outcome=outcome)
    return answered


async def fetch_labels(
    service: Service,
    settings: ChannelsSettings,
    adapters: dict[str, StoreAdapter],
    shipping: httpx.AsyncClient,
) -> int:
    """Ask the marketplace for the label of each parcel it carries whose invoice we issued, and record
    its AWB on the shipment through shipping's API (ADR 370); returns how many were recorded."""
    async with service.pool.acquire() as conn, conn.transaction():
        rows = await store.claim_labels(conn, limit=20)
    recorded = 0
    for row in rows:
        shipment_id = row.shipment_id
        async with service.pool.acquire() as conn:
            account = await store.get_account(conn, row.account)
            mappings = await store.mappings_of(conn, row.account)
        adapter = adapters.get(account.platform) if account else None
        if account is None or not isinstance(adapter, LabelSource):
            async with service.pool.acquire() as conn:
                await store.label_settled(
                    conn, shipment_id, state="refused", outcome="no labelling marketplace"
                )
            continue
        awb, carrier = row.awb, row.carrier
        if awb is None:
            invoice = MarketplaceInvoice(
                number=row.invoice_number,
                issued_at=row.invoice_issued_at,
                rates=domain.label_rates(mappings, row.rates),
            )
            try:
                label = await adapter.label(account, row.store_order_id, invoice)
            except (StoreError, RateLimited) as exc:
                await _label_not_yet(service, settings, row, exc)
                continue
            awb, carrier = label.awb, label.carrier
        try:
            response = await shipping.put(
                f"/shipments/{shipment_id}/marketplace-awb",
                json={"awb": awb},
                headers={"X-API-Key": settings.shipping_api_key},
            )
        except httpx.HTTPError as exc:
            await _label_not_yet(
                service, settings, row, StoreError(f"shipping: {exc}"), awb=awb, carrier=carrier
            )
            continue
        async with service.pool.acquire() as conn:
            if response.is_success:
                await store.label_settled(conn, shipment_id, state="recorded", awb=awb, carrier=carrier)
                recorded += 1
                log.info("marketplace label recorded", shipment_id=shipment_id, awb=awb, carrier=carrier)
            elif response.status_code < 500 and response.status_code != 429:
                outcome = f"refused by shipping (HTTP {response.status_code}): {response.text[:400]}"
                await store.label_settled(conn, shipment_id, state="refused", awb=awb, outcome=outcome)
                log.warning("marketplace AWB refused by shipping", shipment_id=shipment_id, outcome=outcome)
            else:
                wait = domain.next_try_in(
                    row.attempts + 1, retry_after_s=None, max_s=settings.push_retry_max_s
                )
                error = f"shipping: HTTP {response.status_code}"
                await store.label_failed(
                    conn, shipment_id, error=error, wait_s=wait, awb=awb, carrier=carrier
                )
    return recorded


async def _label_not_yet(
    service: Service,
    settings: ChannelsSettings,
    row: MarketplaceLabel,
    exc: StoreError | RateLimited,
    *,
    awb: str | None = None,
    carrier: str | None = None,
) -> None:
    async with service.pool.acquire() as conn:
        if isinstance(exc, StoreError) and not exc.retryable:
            await store.label_settled(conn, row.shipment_id, state="refused", outcome=str(exc)[:500])
            log.warning("marketplace label refused", shipment_id=row.shipment_id, error=str(exc))
            return
        wait = domain.next_try_in(
            row.attempts + 1,
            retry_after_s=exc.retry_after_s if isinstance(exc, StoreError) else exc.wait_s,
            max_s=settings.push_retry_max_s,
        )
        await store.label_failed(
            conn, row.shipment_id, error=str(exc)[:500], wait_s=wait, awb=awb, carrier=carrier
        )
    log.info("marketplace label not yet", shipment_id=row.shipment_id, error=str(exc), retry_in_s=wait)


async def push_news(service: Service, settings: ChannelsSettings, shipping: httpx.AsyncClient) -> int:
    """Pass what marketplaces reported of the parcels they carry (collected, delivered) to shipping,
    which moves the shipment as a courier's scan would (ADR 371); returns how many it answered."""
    async with service.pool.acquire() as conn, conn.transaction():
        rows = await store.claim_news(conn, limit=50)
    answered = 0
    for row in rows:
        key = (row.account, row.store_order_id, row.status)
        if row.shipment_id is None:
            async with service.pool.acquire() as conn:
                await store.news_settled(conn, *key, outcome="no shipment of ours known")
            continue
        try:
            response = await shipping.post(
                f"/shipments/{row.shipment_id}/marketplace-news",
                json={
                    "status": row.status,
                    "code": row.code,
                    "occurred_at": row.occurred_at.isoformat(),
                },
                headers={"X-API-Key": settings.shipping_api_key},
            )
        except httpx.HTTPError as exc:
            response, error = None, f"{type(exc).__name__}: {exc}"
        async with service.pool.acquire() as conn:
            if response is not None and response.status_code < 500 and response.status_code != 429:
                outcome = "applied" if response.is_success else f"refused (HTTP {response.status_code}): "
                outcome += "" if response.is_success else response.text[:400]
                await store.news_settled(conn, *key, outcome=outcome)
                answered += 1
                log.info("marketplace news passed on", shipment_id=row.shipment_id, status=row.status)
                continue
            if response is not None:
                error = f"HTTP {response.status_code}"
            wait = domain.next_try_in(row.attempts + 1, retry_after_s=None, max_s=settings.push_retry_max_s)
            await store.news_failed(conn, *key, error=error, wait_s=wait)
    return answered


@dataclass(frozen=True, slots=True)
class FullPush:
    """What a full push of one store found and did."""

    account: str
    listings: int
    drift: list[tuple[str, str, int | None, int]]
    """(channel SKU, SKU, what the store showed — None when it does not know the listing, ours)."""
    error: str | None = None


async def full_push(service: Service, adapters: dict[str, StoreAdapter], name: str) -> FullPush | None:
    """Read every listing's number on the store, report the ones that drifted from what the store's
    rules give it, and owe every listing its number again, so the push repairs any drift (ADR 94).
    None when there is no such enabled account."""
    async with service.pool.acquire() as conn:
        account = await store.get_account(conn, name)
        rows = await store.listings_with_rules(conn, account=name)
    if account is None:
        return None
    adapter = adapters[account.platform]
    ours = {
        row.channel_sku: (
            row,
            domain.stock_to_show(
                row.available_total,
                buffer=row.stock_buffer,
                share_pct=row.stock_share_pct,
                hide_below=row.low_stock_hide_below,
            ),
        )
        for row in rows
        if row.available_total is not None
    }
    shown: dict[str, int] = {}
    error = None
    it = iter(ours.values())
    try:
        while batch := list(islice(it, adapter.max_stock_batch)):
            shown |= await adapter.read_stock(account, [row.listing for row, _ in batch])
    except StoreError as exc:
        error = str(exc)[:500]
    drift = (
        []
        if error
        else [
            (c, row.sku, shown.get(c), quantity)
            for c, (row, quantity) in ours.items()
            if shown.get(c) != quantity
        ]
    )
    async with service.pool.acquire() as conn, conn.transaction():
        await store.record_full_push(conn, name, listings=len(ours), drift=drift, error=error)
        await store.owe_stock(conn, [(name, c, row.sku, quantity) for c, (row, quantity) in ours.items()])
    log.info("full stock push", account=name, listings=len(ours), drifted=len(drift), error=error)
    return FullPush(account=name, listings=len(ours), drift=drift, error=error)


async def nightly_full_push(
    service: Service, settings: ChannelsSettings, adapters: dict[str, StoreAdapter], *, now: datetime
) -> int:
    """Full-push every store whose last full push is older than the latest nightly hour; how many."""
    due = domain.last_full_push_due(
        now, at_hour=settings.full_push_hour, tz=ZoneInfo(settings.seller_time_zone)
    )
    async with service.pool.acquire() as conn:
        last = await store.full_pushes(conn)
    pushed = 0
    for name, pushed_at in last.items():
        if pushed_at < due:
            await full_push(service, adapters, name)
            pushed += 1
    return pushed
