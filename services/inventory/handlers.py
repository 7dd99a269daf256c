"""Kafka handlers of the inventory service: reserve the first plan that fits, release on cancel,
deduct when the parcel leaves (pickup or any later scan), take returned units back, and sweep
unconfirmed reservations.

Each runs inside the consumer's transaction; the rows a plan needs are locked and read first, so
the plan reserved is one that fits and its reservation is one statement. Stock changes are announced
once per SKU per transaction, so a burst of orders for one SKU yields one inventory.stock_changed.v1,
not one per order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chassis.consumer import Emit, HandlerContext, Transaction
from chassis.db import Conn
from chassis.handlers import Handlers
from chassis.logging import get_logger
from contracts import (
    Allocation,
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    LowStock,
    OrderCancelled,
    OrderConfirmed,
    ReturnUpdated,
    RoutingPlanned,
    ShipmentUpdated,
    StockChanged,
    StockLevels,
)
from contracts.enums import ReturnStatus
from services.inventory import domain, store
from services.inventory.records import Reservation
from services.inventory.settings import InventorySettings

log = get_logger(__name__)

Pair = tuple[str, str]


async def announce(conn: Conn, pairs: set[Pair], emit: Emit) -> None:
    """After stock of these (sku, warehouse) pairs changed: one stock_changed per SKU (available and
    the numbers behind it, per warehouse), and a low_stock per pair that just crossed its reorder point."""
    skus = sorted({sku for sku, _ in pairs})
    if not skus:
        return
    rows = await store.levels_of(conn, skus)
    totals: dict[str, int] = {}
    for sku in skus:
        mine = [r for r in rows if r.sku == sku]
        total, per = domain.by_warehouse([(r.warehouse_code, r.available) for r in mine])
        totals[sku] = total
        levels = {
            r.warehouse_code: StockLevels(
                on_hand=r.on_hand,
                reserved=r.reserved,
                buffer=r.buffer,
                reorder_point=r.reorder_point,
                rehearsal_reserved=r.rehearsal_reserved,
            )
            for r in mine
        }
        await emit(StockChanged(sku=sku, available_total=total, by_warehouse=per, levels=levels))
    for r in await store.reorder_states(conn, sorted(pairs)):
        alert, armed = domain.low_stock_alert(
            available=r.available, reorder_point=r.reorder_point, armed=r.low_stock_armed
        )
        if armed != r.low_stock_armed:
            await store.set_armed(conn, sku=r.sku, warehouse_code=r.warehouse_code, armed=armed)
        if alert:
            await emit(
                LowStock(
                    sku=r.sku,
                    warehouse_code=r.warehouse_code,
                    available=r.available,
                    reorder_point=r.reorder_point,
                    available_total=totals[r.sku],
                )
            )


def touched(ctx: HandlerContext, allocations: list[Allocation]) -> None:
    """Remember stock rows whose availability changed, to announce once when the transaction ends."""
    ctx.shared.setdefault(_TOUCHED, set()).update((a.sku, a.warehouse_code) for a in allocations)


_TOUCHED = "inventory.touched"


subscriptions: Handlers[InventorySettings] = Handlers()


@subscriptions.before_commit
async def announce_stock(tx: Transaction) -> None:
    await announce(tx.conn, tx.shared.pop(_TOUCHED, set()), tx.emit)


@subscriptions.on(RoutingPlanned)
async def on_planned(ctx: HandlerContext, event: RoutingPlanned) -> None:
    reserved, cancelled = await store.reserved_or_cancelled(ctx.conn, event.order_id)
    if reserved:
        ctx.log.info("order already has a reservation", order_id=event.order_id)
        return
    if cancelled:
        ctx.log.info("order was cancelled before its plan arrived", order_id=event.order_id)
        return
    ttl = timedelta(minutes=subscriptions.deps(ctx).reservation_ttl_minutes)
    expires_at = datetime.now(UTC) + ttl
    # Lock every row any plan touches, decide which plan fits, then reserve it in one statement:
    # three round trips per order instead of a savepoint and an update per allocation per plan.
    plans = [domain.allocations_of(plan) for plan in event.plans]
    pairs = sorted({(a.sku, a.warehouse_code) for allocations in plans for a in allocations})
    chosen = domain.first_fitting(plans, await store.free_units(ctx.conn, pairs)) if pairs else None
    if chosen is not None:
        allocations, plan = plans[chosen], event.plans[chosen]
        reservation_id = domain.new_reservation_id()
        await store.reserve(
            ctx.conn,
            allocations=allocations,
            order_id=event.order_id,
            reservation_id=reservation_id,
            expires_at=expires_at,
            rehearsal=event.rehearsal,
        )
        await ctx.emit(
            InventoryReserved(
                order_id=event.order_id,
                reservation_id=reservation_id,
                allocations=allocations,
                plan_rank=plan.rank,
                expires_at=expires_at,
            )
        )
        touched(ctx, allocations)
        ctx.log.info("stock reserved", order_id=event.order_id, rank=plan.rank)
        return
    if event.plans:
        ctx.log.info("no plan fits the stock now", order_id=event.order_id, plans=len(event.plans))
    skus = {line.sku for p in event.plans for s in p.shipments for line in s.lines}
    availability = await store.availability(ctx.conn, sorted(skus | {line.sku for line in event.unplanned}))
    reason, final = domain.failure(event, availability)
    await ctx.emit(
        InventoryReservationFailed(
            order_id=event.order_id,
            attempt=event.attempt,
            reason=reason,
            availability=availability,
            final=final,
            no_courier=event.no_courier is not None,
        )
    )
    ctx.log.info("reservation failed", order_id=event.order_id, reason=reason, final=final)


@subscriptions.on(OrderConfirmed)
async def on_confirmed(ctx: HandlerContext, event: OrderConfirmed) -> None:
    if await store.confirm(ctx.conn, event.order_id):
        return
    reservation = await store.reservation_of(ctx.conn, event.order_id)
    if reservation is None or reservation.released_because != "expired":
        return
    # Paid after the safety net let the units go: take them again if nobody bought them since.
    try:
        async with ctx.conn.transaction():
            allocations = await store.reserve_again(ctx.conn, reservation=reservation)
    except store.NotEnoughStock as short:
        ctx.log.error(
            "confirmed order's expired reservation cannot be taken again; stock sold meanwhile",
            order_id=event.order_id,
            short=str(short),
        )
        return
    touched(ctx, allocations)
    ctx.log.warning("expired reservation taken again on late confirmation", order_id=event.order_id)


@subscriptions.on(OrderCancelled)
async def on_cancelled(ctx: HandlerContext, event: OrderCancelled) -> None:
    reservation = await store.reservation_of(ctx.conn, event.order_id)
    if reservation is None:
        await store.remember_cancelled(ctx.conn, event.order_id)
        return
    if reservation.status != "active":
        return
    await release(ctx, reservation, reason=f"order cancelled: {event.reason_code}")


@subscriptions.on(ShipmentUpdated)
async def on_shipment_updated(ctx: HandlerContext, event: ShipmentUpdated) -> None:
    if event.return_id is not None or not domain.dispatches(event.status):
        return
    reservation = await store.reservation_of(ctx.conn, event.order_id)
    if reservation is None or reservation.status == "released":
        ctx.log.info(
            "shipment left with no reservation to dispatch", order_id=event.order_id, status=event.status
        )
        return
    committed = await store.commit_pickup(
        ctx.conn,
        reservation=reservation,
        warehouse_code=event.warehouse_code,
        shipment_id=event.shipment_id,
    )
    # Available stays, but on hand and reserved fell: readers of the levels (the console) hear it.
    touched(ctx, committed)
    if committed:
        ctx.log.info(
            "reservation dispatched",
            order_id=event.order_id,
            warehouse=event.warehouse_code,
            first_evidence=event.status,
        )


@subscriptions.on(ReturnUpdated)
async def on_return_updated(ctx: HandlerContext, event: ReturnUpdated) -> None:
    if event.status not in (ReturnStatus.RESTOCKED, ReturnStatus.QUARANTINED):
        return
    if event.warehouse_code is None:
        # Retried, then dead-lettered: units must not vanish silently; an operator replays it.
        raise ValueError(f"return {event.return_id} is {event.status} without a warehouse_code")
    lines = domain.merged_lines([(line.sku, line.quantity) for line in event.lines])
    restock = event.status is ReturnStatus.RESTOCKED
    new = await store.record_return(
        ctx.conn,
        return_id=event.return_id,
        warehouse_code=event.warehouse_code,
        lines=lines,
        disposition="restocked" if restock else "quarantined",
    )
    if not restock:
        return
    for sku, quantity in new.items():
        await store.receive(
            ctx.conn,
            sku=sku,
            warehouse_code=event.warehouse_code,
            quantity=quantity,
            reference=event.return_id,
            actor="returns",
            kind="return",
        )
    touched(
        ctx,
        [Allocation(sku=sku, warehouse_code=event.warehouse_code, quantity=q) for sku, q in new.items()],
    )


async def release(ctx: HandlerContext, reservation: Reservation, *, reason: str) -> None:
    """Release a reservation and say so."""
    allocations = await store.release(ctx.conn, reservation=reservation, reason=reason)
    await ctx.emit(
        InventoryReleased(
            order_id=reservation.order_id,
            reservation_id=reservation.reservation_id,
            allocations=allocations,
            reason=reason,
        )
    )
    touched(ctx, allocations)
