"""Kafka handlers of the inventory service: reserve the first plan that fits, release on cancel.

Each runs inside the consumer's transaction; a plan is tried inside a savepoint so a plan that no
longer fits leaves nothing behind. Stock changes are announced once per SKU per transaction, so a
burst of orders for one SKU yields one inventory.stock_changed.v1, not one per order.
"""

from __future__ import annotations

from asyncpg import Connection

from chassis.consumer import HandlerContext, Transaction
from chassis.service import Service
from contracts import (
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    OrderCancelled,
    RoutingPlanned,
    StockChanged,
)
from services.inventory import domain, store


async def stock_changed(conn: Connection, skus: list[str]) -> list[StockChanged]:
    """The current available-to-sell of each SKU, as events to publish."""
    rows = await store.availability(conn, sorted(set(skus)))
    events = []
    for sku in sorted(set(skus)):
        total, per = domain.by_warehouse([(r.warehouse_code, r.available) for r in rows if r.sku == sku])
        events.append(StockChanged(sku=sku, available_total=total, by_warehouse=per))
    return events


def touched(ctx: HandlerContext, skus: list[str]) -> None:
    """Remember SKUs whose availability changed, to announce once when the transaction ends."""
    ctx.shared.setdefault(_TOUCHED, set()).update(skus)


_TOUCHED = "inventory.touched_skus"


def register(service: Service) -> None:
    """Subscribe the inventory handlers."""

    @service.before_commit
    async def announce_stock(tx: Transaction) -> None:
        skus = tx.shared.pop(_TOUCHED, set())
        if skus:
            for change in await stock_changed(tx.conn, sorted(skus)):
                await tx.emit(change)

    @service.handles(RoutingPlanned)
    async def on_planned(ctx: HandlerContext, event: RoutingPlanned) -> None:
        if await store.reservation_of(ctx.conn, event.order_id) is not None:
            ctx.log.info("order already has a reservation", order_id=event.order_id)
            return
        for plan in event.plans:
            allocations = domain.allocations_of(plan)
            reservation_id = domain.new_reservation_id()
            try:
                async with ctx.conn.transaction():
                    await store.reserve(
                        ctx.conn,
                        allocations=allocations,
                        order_id=event.order_id,
                        reservation_id=reservation_id,
                    )
            except store.NotEnoughStock as short:
                ctx.log.info("plan no longer fits", order_id=event.order_id, rank=plan.rank, short=str(short))
                continue
            await ctx.emit(
                InventoryReserved(
                    order_id=event.order_id,
                    reservation_id=reservation_id,
                    allocations=allocations,
                    plan_rank=plan.rank,
                )
            )
            touched(ctx, [a.sku for a in allocations])
            ctx.log.info("stock reserved", order_id=event.order_id, rank=plan.rank)
            return
        skus = sorted({line.sku for p in event.plans for s in p.shipments for line in s.lines})
        reason = "no plan fits the stock now" if event.plans else "routing found no warehouse"
        await ctx.emit(
            InventoryReservationFailed(
                order_id=event.order_id,
                attempt=event.attempt,
                reason=reason,
                availability=await store.availability(ctx.conn, skus),
            )
        )
        ctx.log.info("reservation failed", order_id=event.order_id, reason=reason)

    @service.handles(OrderCancelled)
    async def on_cancelled(ctx: HandlerContext, event: OrderCancelled) -> None:
        reservation = await store.reservation_of(ctx.conn, event.order_id)
        if reservation is None or reservation["status"] != "active":
            return
        reason = f"order cancelled: {event.reason_code}"
        allocations = await store.release(ctx.conn, reservation=reservation, reason=reason)
        await ctx.emit(
            InventoryReleased(
                order_id=event.order_id,
                reservation_id=reservation["reservation_id"],
                allocations=allocations,
                reason=reason,
            )
        )
        touched(ctx, [a.sku for a in allocations])
