"""Kafka handlers of the routing service: keep the stock view, plan every placed order, re-plan
after a failed reservation (a bounded number of times), and count each warehouse's orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from chassis.clock import utcnow
from chassis.consumer import HandlerContext
from chassis.handlers import Handlers
from contracts import (
    CourierServiceabilityChanged,
    FulfilmentPlan,
    InventoryReservationFailed,
    InventoryReserved,
    OrderPlaced,
    PaymentMethod,
    RoutingPlanned,
    StockChanged,
)
from services.routing import domain, store
from services.routing.settings import RoutingSettings


@dataclass(frozen=True, slots=True)
class Planning:
    """What routing's handlers plan with, from its settings."""

    tz: ZoneInfo
    policy: domain.Policy
    max_plan_attempts: int

    @classmethod
    def of(cls, settings: RoutingSettings) -> Planning:
        return cls(
            tz=ZoneInfo(settings.timezone),
            policy=domain.Policy(
                max_shipments=settings.max_shipments,
                min_shipment_value_paise=settings.min_shipment_value_paise,
                max_plans=settings.max_plans,
            ),
            max_plan_attempts=settings.max_plan_attempts,
        )


WAKE_AT_MOST = 200
"""Waiting orders looked at per stock announcement of a SKU (the oldest first)."""


async def warehouses(ctx: HandlerContext) -> list[domain.Warehouse]:
    """Active warehouses, read once per consumer transaction (they change only over HTTP)."""
    if "warehouses" not in ctx.shared:
        ctx.shared["warehouses"] = await store.active_warehouses(ctx.conn)
    found: list[domain.Warehouse] = ctx.shared["warehouses"]
    return found


async def rules(ctx: HandlerContext) -> domain.Rules:
    """Routing rules, read once per consumer transaction."""
    if "rules" not in ctx.shared:
        ctx.shared["rules"] = await store.rules(ctx.conn)
    found: domain.Rules = ctx.shared["rules"]
    return found


async def load(ctx: HandlerContext, day: date) -> dict[str, int]:
    """Orders each warehouse took today, read once per consumer transaction: a batch planned
    against the count at its start can overshoot a capacity by at most its own size."""
    key = f"load:{day}"
    if key not in ctx.shared:
        ctx.shared[key] = await store.load_on(ctx.conn, day)
    found: dict[str, int] = ctx.shared[key]
    return found


subscriptions: Handlers[Planning] = Handlers()


async def served(ctx: HandlerContext, order: domain.Order) -> domain.Served:
    """What routing knows of couriers at the order's pincode and at every active warehouse's."""
    pincodes = sorted({wh.pincode for wh in await warehouses(ctx)})
    return await store.served(ctx.conn, order.customer_pincode, pincodes)


async def no_courier(ctx: HandlerContext, order: domain.Order, known: domain.Served) -> str | None:
    """Why no courier can carry the order from any active warehouse (ADR 0311, 0410)."""
    return domain.no_courier(
        order.customer_pincode,
        cod=order.cod,
        served=known,
        warehouses=await warehouses(ctx),
        by_marketplace=order.shipped_by_marketplace,
    )


async def plan_for(
    ctx: HandlerContext,
    order: domain.Order,
    available: dict[tuple[str, str], int] | None = None,
    known: domain.Served | None = None,
) -> tuple[list[FulfilmentPlan], list[str]]:
    """The ranked plans for an order against routing's view of stock (or ``available``), from
    the warehouses some courier carries it from."""
    planning = subscriptions.deps(ctx)
    day, local_time = domain.local_moment(utcnow(), planning.tz)
    if available is None:
        available = await store.available_for(ctx.conn, [line.sku for line in order.lines])
    candidates = await warehouses(ctx)
    unserved = domain.unserved_warehouses(
        order.customer_pincode,
        cod=order.cod,
        warehouses=candidates,
        served=known or await served(ctx, order),
        by_marketplace=order.shipped_by_marketplace,
    )
    return domain.plan(
        order=order,
        warehouses=candidates,
        available=available,
        rules=await rules(ctx),
        policy=planning.policy,
        today=domain.Today(local_time=local_time, orders_taken=await load(ctx, day)),
        unserved=unserved,
    )


async def route(
    ctx: HandlerContext, order_id: str, order: domain.Order, attempt: int, round_start: int
) -> None:
    known = await served(ctx, order)
    gap = await no_courier(ctx, order, known)
    if gap is not None:
        # No plan can be booked: held back (not confirmed) until serviceability or the address changes.
        await store.hold_for_courier(
            ctx.conn, order_id=order_id, pincode=order.customer_pincode, cod=order.cod
        )
        if await store.record_decision(
            ctx.conn, order_id=order_id, attempt=attempt, pincode=order.customer_pincode, plans=[],
            notes=[gap],
        ):  # fmt: skip
            await ctx.emit(
                RoutingPlanned(
                    order_id=order_id,
                    attempt=attempt,
                    plans=[],
                    no_courier=gap,
                    rehearsal=order.rehearsal,
                )
            )
            ctx.log.info("no courier for the order", order_id=order_id, reason=gap)
        return
    plans, notes = await plan_for(ctx, order, known=known)
    fresh = await store.record_decision(
        ctx.conn,
        order_id=order_id,
        attempt=attempt,
        pincode=order.customer_pincode,
        plans=plans,
        notes=notes,
        served=True,
    )
    if not fresh:
        ctx.log.info("attempt already planned", order_id=order_id, attempt=attempt)
        return
    if not plans:  # planned again by itself when one of its SKUs is announced with stock
        await store.hold_for_stock(ctx.conn, order_id=order_id, skus=[line.sku for line in order.lines])
    will_replan = domain.replans(
        planned=bool(plans),
        attempt=attempt,
        round_start=round_start,
        max_attempts=subscriptions.deps(ctx).max_plan_attempts,
    )
    await ctx.emit(
        RoutingPlanned(
            order_id=order_id,
            attempt=attempt,
            plans=plans,
            will_replan=will_replan,
            unplanned=[] if plans else domain.wanted(order),
            rehearsal=order.rehearsal,
        )
    )
    ctx.log.info(
        "order routed",
        order_id=order_id,
        attempt=attempt,
        plans=len(plans),
        first=[s.warehouse_code for s in plans[0].shipments] if plans else None,
    )


@subscriptions.on(StockChanged)
async def on_stock_changed(ctx: HandlerContext, event: StockChanged) -> None:
    await store.record_stock(
        ctx.conn, sku=event.sku, by_warehouse=event.by_warehouse, changed_at=event.changed_at
    )
    if any(units > 0 for units in event.by_warehouse.values()):
        await plan_waiting(ctx, event.sku)


async def plan_waiting(ctx: HandlerContext, sku: str) -> None:
    """Orders waiting for stock of this SKU, oldest first, planned again now that some is
    announced. Each one planned takes its units out of what the younger ones may count on, so
    one unit arriving for a thousand waiting orders wakes one order, not a thousand."""
    spare: dict[tuple[str, str], int] = {}
    for order_id in await store.waiting_for(ctx.conn, sku, limit=WAKE_AT_MOST):
        found = await store.order_of(ctx.conn, order_id)
        if found is None:
            await store.forget_stockless(ctx.conn, order_id)
            continue
        order, _ = found
        view = await store.available_for(ctx.conn, [line.sku for line in order.lines])
        view.update({key: units for key, units in spare.items() if key in view})
        plans, _ = await plan_for(ctx, order, available=view)
        if not plans:
            continue
        for shipment in plans[0].shipments:
            for line in shipment.lines:
                key = (line.sku, shipment.warehouse_code)
                spare[key] = view.get(key, 0) - line.quantity
        ctx.log.info("stock arrived for a waiting order", order_id=order_id, sku=sku)
        first = await store.remember_order(ctx.conn, order_id=order_id, order=order)
        await route(ctx, order_id, order, attempt=first, round_start=first)


@subscriptions.on(OrderPlaced)
async def on_placed(ctx: HandlerContext, event: OrderPlaced) -> None:
    order = domain.Order(
        lines=event.lines,
        customer_pincode=event.shipping_address.pincode,
        channel=event.channel.value,
        cod=event.payment.method is PaymentMethod.COD,
        shipped_by_marketplace=event.shipped_by_marketplace,
        rehearsal=event.rehearsal,
    )
    first = await store.remember_order(ctx.conn, order_id=event.order_id, order=order)
    await route(ctx, event.order_id, order, attempt=first, round_start=first)


@subscriptions.on(InventoryReservationFailed)
async def on_reservation_failed(ctx: HandlerContext, event: InventoryReservationFailed) -> None:
    # Inventory's numbers at the failure are fresher than the view that led to the plan.
    per_sku: dict[str, dict[str, int]] = {}
    for a in event.availability:
        per_sku.setdefault(a.sku, {})[a.warehouse_code] = a.available
    for sku, by_warehouse in per_sku.items():
        await store.record_stock(ctx.conn, sku=sku, by_warehouse=by_warehouse, changed_at=event.occurred_at)
    outcome = f"not reserved: {event.reason}" + (" (final)" if event.final else "")
    await store.record_outcome(ctx.conn, order_id=event.order_id, attempt=event.attempt, outcome=outcome)
    found = await store.order_of(ctx.conn, event.order_id)
    if found is None:
        ctx.log.warning("re-plan asked for an order routing never saw", order_id=event.order_id)
        return
    order, round_start = found
    if event.final:
        if not event.no_courier:  # planned again by itself when stock of one of its SKUs comes
            await store.hold_for_stock(
                ctx.conn, order_id=event.order_id, skus=[line.sku for line in order.lines]
            )
        return
    await route(ctx, event.order_id, order, attempt=event.attempt + 1, round_start=round_start)


@subscriptions.on(InventoryReserved)
async def on_reserved(ctx: HandlerContext, event: InventoryReserved) -> None:
    codes = sorted({a.warehouse_code for a in event.allocations})
    day, _ = domain.local_moment(event.occurred_at, subscriptions.deps(ctx).tz)
    await store.reserved(
        ctx.conn,
        order_id=event.order_id,
        warehouse_codes=codes,
        day=day,
        outcome=f"reserved plan {event.plan_rank}",
    )


@subscriptions.on(CourierServiceabilityChanged)
async def on_courier_serviceability(ctx: HandlerContext, event: CourierServiceabilityChanged) -> None:
    taken = await store.replace_courier(
        ctx.conn,
        courier=event.courier,
        pickup=event.pickup,
        prepaid=event.prepaid,
        cod=event.cod,
        loaded_at=event.loaded_at,
    )
    if not taken:
        ctx.log.info("older serviceability ignored", courier=event.courier, loaded_at=event.loaded_at)
        return
    # Orders held for want of a courier that this one now carries are planned again, in a new
    # round; only an order it delivers to can have become servable by its announcement.
    for order_id in await store.held_where_it_delivers(ctx.conn, event.courier):
        found = await store.order_of(ctx.conn, order_id)
        if found is None:
            continue
        order, _ = found
        if await no_courier(ctx, order, await served(ctx, order)) is not None:
            continue
        first = await store.remember_order(ctx.conn, order_id=order_id, order=order)
        await route(ctx, order_id, order, attempt=first, round_start=first)
