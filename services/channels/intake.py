"""Orders in from the stores: a verified webhook is kept raw and answered at once; then each receipt
is read, its lines mapped to Dabba SKUs, and the order published on ``channel.orders.v1`` — once per
store order, whatever the number of deliveries. An order with an unmapped SKU goes out naming it (orders
keeps it REJECTED) and is sent again, corrected, as soon as a mapping for it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chassis.db import Conn
from chassis.logging import get_logger
from chassis.service import Service
from contracts import Channel, ChannelOrder, FieldProblem
from services.channels import domain, store
from services.channels.stores.interface import Delivery, StoreAdapter, StoreOrder, StoreUnreadable

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one receipt, for its row and the log."""

    what: str
    store_order_id: str | None = None


async def process_pending(
    service: Service,
    adapters: dict[str, StoreAdapter],
    *,
    account: str | None = None,
    delivery_id: str | None = None,
    limit: int = 200,
) -> int:
    """Read receipts not processed yet (one, when named); returns how many were processed."""
    async with service.pool.acquire() as conn, conn.transaction():
        rows = await store.claim_receipts(conn, limit=limit, account=account, delivery_id=delivery_id)
        for row in rows:
            adapter = adapters[row["platform"]]
            delivery = Delivery(delivery_id=row["delivery_id"], topic=row["topic"], body=bytes(row["body"]))
            try:
                # A savepoint: a receipt that cannot be applied is recorded as failed, not retried
                # forever in a batch that it rolls back with every other receipt.
                async with conn.transaction():
                    outcome = await apply(conn, service, adapter, row["account"], delivery)
            except Exception as exc:
                log.exception("webhook failed", account=row["account"], delivery_id=row["delivery_id"])
                outcome = Outcome(f"failed: {type(exc).__name__}: {exc}")
            await store.finish_receipt(conn, row["account"], row["delivery_id"], outcome.what)
            log.info(
                "webhook processed",
                account=row["account"],
                topic=row["topic"],
                delivery_id=row["delivery_id"],
                store_order_id=outcome.store_order_id,
                outcome=outcome.what,
            )
    return len(rows)


async def apply(
    conn: Conn, service: Service, adapter: StoreAdapter, account: str, delivery: Delivery
) -> Outcome:
    """One verified delivery, inside the caller's transaction."""
    try:
        order = adapter.read_order(delivery)
    except StoreUnreadable as exc:
        return Outcome(f"unreadable: {exc}")
    if order is None:
        return Outcome(f"ignored: topic {delivery.topic} carries no order")
    known = await store.lock_channel_order(conn, account, order.store_order_id)
    if known is not None:
        if order.cancelled and known["cancelled_on_store_at"] is None:
            await store.mark_cancelled_on_store(conn, account, order.store_order_id)
            return Outcome("cancelled on the store", order.store_order_id)
        return Outcome("duplicate: order already received", order.store_order_id)
    return await receive(conn, service, channel=Channel(adapter.platform), account=account, order=order)


async def receive(
    conn: Conn, service: Service, *, channel: Channel, account: str, order: StoreOrder
) -> Outcome:
    """A store order seen for the first time: publish it, or keep it with the problems that stop it."""
    mappings = await store.mappings_of(conn, account)
    result = domain.to_channel_order(order, channel=channel, account=account, mappings=mappings)
    status, problems = _status_of(result)
    inserted = await store.insert_channel_order(
        conn,
        account=account,
        store_order_id=order.store_order_id,
        channel=channel.value,
        channel_order_id=domain.channel_order_id(account, order.store_order_id),
        status=status,
        problems=problems,
        store_order=domain.store_order_json(order),
        cancelled=order.cancelled,
    )
    if not inserted:
        return Outcome("duplicate: order already received", order.store_order_id)
    if isinstance(result, ChannelOrder):
        await service.emit(conn, result)
    return Outcome(status if not problems else f"{status}: {problems[0]['problem']}", order.store_order_id)


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
    for row in await store.unmapped_orders(conn, account):
        order = domain.store_order_from_json(row["store_order"])
        result = domain.to_channel_order(order, channel=channel, account=account, mappings=mappings)
        status, problems = _status_of(result)
        if isinstance(result, ChannelOrder) and status == "sent":
            await service.emit(conn, result)
            sent.append({"store_order_id": order.store_order_id, "channel_order_id": result.channel_order_id})
        await store.set_channel_order_status(
            conn, account, order.store_order_id, status=status, problems=problems
        )
    return sent
