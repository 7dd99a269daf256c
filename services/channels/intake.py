"""Orders in from the stores: a verified webhook is kept raw (many requests share one commit) and
answered at once; one worker then takes the stored receipts in batches, maps their lines to Dabba
SKUs and publishes each order on ``channel.orders.v1`` — once per store order, whatever the number of
deliveries. An order with an unmapped SKU goes out naming it (orders keeps it REJECTED) and is sent
again, corrected, as soon as a mapping for it arrives.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chassis import faults
from chassis.batching import Batcher
from chassis.db import Conn
from chassis.logging import get_logger
from chassis.service import Service
from contracts import Channel, ChannelOrder, FieldProblem
from services.channels import domain, store
from services.channels.domain import Mappings
from services.channels.records import Receipt
from services.channels.stores.interface import Delivery, StoreAdapter, StoreOrder, StoreUnreadable

log = get_logger(__name__)

DUPLICATE = "duplicate: order already received"
CANCELLED = "cancelled on the store"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one receipt, for its row and the log."""

    what: str
    store_order_id: str | None = None


class ReceiptWriter:
    """Keeps verified deliveries durably before the webhook is answered: concurrent requests share
    one INSERT and one commit (chassis.batching), then the intake worker is woken."""

    def __init__(self, service: Service, *, max_batch: int = 500) -> None:
        self._service = service
        self._batcher: Batcher[tuple[str, Delivery], bool] = Batcher(self._write, max_batch=max_batch)
        self.wake = asyncio.Event()
        """Set when new receipts are stored: the intake worker takes them without waiting its sweep."""

    async def keep(self, account: str, delivery: Delivery) -> bool:
        """Store one delivery; True when it is new, False for a delivery id already received."""
        return await self._batcher.submit((account, delivery))

    async def _write(self, deliveries: Sequence[tuple[str, Delivery]]) -> list[bool]:
        async with self._service.pool.acquire() as conn:
            fresh = await store.insert_receipts(conn, deliveries)
        if any(fresh):
            self.wake.set()
        return fresh


async def process_pending(
    service: Service,
    adapters: dict[str, StoreAdapter],
    *,
    account: str | None = None,
    limit: int = 500,
) -> int:
    """Take in receipts not processed yet, one batch in one transaction; returns how many.

    A crash anywhere before the commit leaves every receipt of the batch unprocessed and nothing
    published, so the next worker takes them again: no order lost, none sent twice."""
    async with service.pool.acquire() as conn, conn.transaction():
        receipts = await store.claim_receipts(conn, limit=limit, account=account)
        if not receipts:
            return 0
        try:
            async with conn.transaction():  # a savepoint: a batch that fails is taken one by one
                outcomes = await take_in(conn, service, adapters, receipts)
        except Exception:
            log.exception("intake batch failed; taking its receipts one by one", receipts=len(receipts))
            outcomes = [await _take_in_one(conn, service, adapters, receipt) for receipt in receipts]
        done = list(zip(receipts, outcomes, strict=True))
        await store.finish_receipts(conn, [(r.account, r.delivery.delivery_id, o.what) for r, o in done])
        await faults.freeze_if_armed(
            "channels.intake.before_commit",
            lambda: [domain.channel_order_id(r.account, o.store_order_id or "") for r, o in done],
        )
    for receipt, outcome in done:
        if outcome.what not in ("sent", DUPLICATE):  # the unusual ones, one by one
            log.info(
                "webhook processed",
                account=receipt.account,
                topic=receipt.delivery.topic,
                delivery_id=receipt.delivery.delivery_id,
                store_order_id=outcome.store_order_id,
                outcome=outcome.what,
            )
    log.info("webhooks taken in", receipts=len(receipts), **_tally(outcomes))
    return len(receipts)


def _tally(outcomes: list[Outcome]) -> dict[str, int]:
    return dict(Counter(o.what.split(":")[0].replace(" ", "_") for o in outcomes))


async def _take_in_one(
    conn: Conn, service: Service, adapters: dict[str, StoreAdapter], receipt: Receipt
) -> Outcome:
    """One receipt in its own savepoint: one that cannot be applied is recorded as failed, not
    retried forever in a batch it rolls back with every other receipt."""
    try:
        async with conn.transaction():
            [outcome] = await take_in(conn, service, adapters, [receipt])
            return outcome
    except Exception as exc:
        log.exception("webhook failed", account=receipt.account, delivery_id=receipt.delivery.delivery_id)
        return Outcome(f"failed: {type(exc).__name__}: {exc}")


async def take_in(
    conn: Conn, service: Service, adapters: dict[str, StoreAdapter], receipts: Sequence[Receipt]
) -> list[Outcome]:
    """Verified deliveries, inside the caller's transaction: each store order seen for the first
    time is recorded and published (or kept with the problems that stop it); any later delivery of
    it is a duplicate, except the first to say the store cancelled it."""
    outcomes: list[Outcome | None] = [None] * len(receipts)
    seen: dict[tuple[str, str], list[tuple[int, StoreOrder]]] = {}
    for i, receipt in enumerate(receipts):
        try:
            order = adapters[receipt.platform].read_order(receipt.delivery)
        except StoreUnreadable as exc:
            outcomes[i] = Outcome(f"unreadable: {exc}")
            continue
        if order is None:
            outcomes[i] = Outcome(f"ignored: topic {receipt.delivery.topic} carries no order")
            continue
        seen.setdefault((receipt.account, order.store_order_id), []).append((i, order))

    known = await store.lock_channel_orders(conn, list(seen))
    mappings: dict[str, Mappings] = {}
    new: list[store.NewChannelOrder] = []
    events: dict[tuple[str, str], ChannelOrder] = {}
    first_outcome: dict[tuple[str, str], str] = {}
    for key, deliveries in seen.items():
        if key in known:
            continue
        account, store_order_id = key
        if account not in mappings:
            mappings[account] = await store.mappings_of(conn, account)
        first_i, order = deliveries[0]
        channel = Channel(receipts[first_i].platform)
        result = domain.to_channel_order(order, channel=channel, account=account, mappings=mappings[account])
        status, problems = _status_of(result)
        new.append(
            store.NewChannelOrder(
                account=account,
                store_order_id=store_order_id,
                channel=channel.value,
                channel_order_id=domain.channel_order_id(account, store_order_id),
                status=status,
                problems=problems,
                store_order=domain.store_order_json(order),
                cancelled=any(o.cancelled for _, o in deliveries),
            )
        )
        if isinstance(result, ChannelOrder):
            events[key] = result
        first_outcome[key] = status if not problems else f"{status}: {problems[0]['problem']}"
    inserted = await store.insert_channel_orders(conn, new)
    await service.emit_many(conn, [events[n.key] for n in new if n.key in inserted and n.key in events])

    for key, deliveries in seen.items():
        store_order_id = key[1]
        rest = deliveries
        if key in inserted:
            first_i, first = deliveries[0]
            outcomes[first_i] = Outcome(first_outcome[key], store_order_id)
            rest = deliveries[1:]
            already_cancelled = first.cancelled
        else:  # known before this batch, or recorded meanwhile by another worker
            found = known.get(key)
            already_cancelled = found is not None and found.cancelled_on_store
        for i, order in rest:
            if order.cancelled and not already_cancelled:
                if key not in inserted:
                    await store.mark_cancelled_on_store(conn, *key)
                already_cancelled = True
                outcomes[i] = Outcome(CANCELLED, store_order_id)
            else:
                outcomes[i] = Outcome(DUPLICATE, store_order_id)
    return [o if o is not None else Outcome("failed: not taken in") for o in outcomes]


def _status_of(result: ChannelOrder | list[FieldProblem]) -> tuple[str, list[dict[str, str]]]:
    """sent (orders will place it); unmapped (sent, and orders will reject it naming the SKU until it
    is mapped); unreadable (not sent: the store's order cannot be put in our shape)."""
    if isinstance(result, ChannelOrder):
        problems = [p.model_dump() for p in result.channel_problems]
        return ("unmapped" if problems else "sent"), problems
    return "unreadable", [p.model_dump() for p in result]


async def retry_unmapped(
    conn: Conn, service: Service, *, account: str, channel: Channel
) -> list[dict[str, Any]]:
    """Map again the orders of an account held for unmapped SKUs; send those that now map."""
    mappings = await store.mappings_of(conn, account)
    sent = []
    for order in await store.unmapped_orders(conn, account):
        result = domain.to_channel_order(order, channel=channel, account=account, mappings=mappings)
        status, problems = _status_of(result)
        if isinstance(result, ChannelOrder) and status == "sent":
            await service.emit(conn, result)
            sent.append({"store_order_id": order.store_order_id, "channel_order_id": result.channel_order_id})
        await store.set_channel_order_status(
            conn, account, order.store_order_id, status=status, problems=problems
        )
    return sent
