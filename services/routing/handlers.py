"""Kafka handlers of the routing service: keep the stock view, plan every placed order, re-plan
after a failed reservation (a bounded number of times), and count each warehouse's orders."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from chassis.clock import utcnow
from chassis.consumer import HandlerContext
from chassis.service import Service
from contracts import (
    InventoryReservationFailed,
    InventoryReserved,
    OrderPlaced,
    PaymentMethod,
    RoutingPlanned,
    ServiceabilityChanged,
    StockChanged,
)
from services.routing import domain, store
from services.routing.settings import RoutingSettings


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


def register(service: Service) -> None:
    """Subscribe the routing handlers."""
    settings = service.settings
    assert isinstance(settings, RoutingSettings)
    tz = ZoneInfo(settings.timezone)
    policy = domain.Policy(
        max_shipments=settings.max_shipments,
        min_shipment_value_paise=settings.min_shipment_value_paise,
        max_plans=settings.max_plans,
    )

    async def route(
        ctx: HandlerContext, order_id: str, order: domain.Order, attempt: int, round_start: int
    ) -> None:
        served = await store.served(ctx.conn, order.customer_pincode)
        gap = domain.no_courier(
            order.customer_pincode, cod=order.cod, served=served, by_marketplace=order.shipped_by_marketplace
        )
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
        await store.forget_courierless(ctx.conn, order_id)
        day, local_time = domain.local_moment(utcnow(), tz)
        plans, notes = domain.plan(
            order=order,
            warehouses=await warehouses(ctx),
            available=await store.available_for(ctx.conn, [line.sku for line in order.lines]),
            rules=await rules(ctx),
            policy=policy,
            today=domain.Today(local_time=local_time, orders_taken=await load(ctx, day)),
        )
        fresh = await store.record_decision(
            ctx.conn,
            order_id=order_id,
            attempt=attempt,
            pincode=order.customer_pincode,
            plans=plans,
            notes=notes,
        )
        if not fresh:
            ctx.log.info("attempt already planned", order_id=order_id, attempt=attempt)
            return
        # The budget counts this round's attempts: a release by an operator starts a new round.
        will_replan = bool(plans) and attempt - round_start + 1 < settings.max_plan_attempts
        await ctx.emit(
            RoutingPlanned(
                order_id=order_id,
                attempt=attempt,
                plans=plans,
                will_replan=will_replan,
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

    @service.handles(StockChanged)
    async def on_stock_changed(ctx: HandlerContext, event: StockChanged) -> None:
        await store.record_stock(
            ctx.conn, sku=event.sku, by_warehouse=event.by_warehouse, changed_at=event.changed_at
        )

    @service.handles(OrderPlaced)
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

    @service.handles(InventoryReservationFailed)
    async def on_reservation_failed(ctx: HandlerContext, event: InventoryReservationFailed) -> None:
        # Inventory's numbers at the failure are fresher than the view that led to the plan.
        per_sku: dict[str, dict[str, int]] = {}
        for a in event.availability:
            per_sku.setdefault(a.sku, {})[a.warehouse_code] = a.available
        for sku, by_warehouse in per_sku.items():
            await store.record_stock(
                ctx.conn, sku=sku, by_warehouse=by_warehouse, changed_at=event.occurred_at
            )
        outcome = f"not reserved: {event.reason}" + (" (final)" if event.final else "")
        await store.record_outcome(ctx.conn, order_id=event.order_id, attempt=event.attempt, outcome=outcome)
        if event.final:
            return
        found = await store.order_of(ctx.conn, event.order_id)
        if found is None:
            ctx.log.warning("re-plan asked for an order routing never saw", order_id=event.order_id)
            return
        order, round_start = found
        await route(ctx, event.order_id, order, attempt=event.attempt + 1, round_start=round_start)

    @service.handles(InventoryReserved)
    async def on_reserved(ctx: HandlerContext, event: InventoryReserved) -> None:
        codes = sorted({a.warehouse_code for a in event.allocations})
        day, _ = domain.local_moment(event.occurred_at, tz)
        await store.add_load(ctx.conn, warehouse_codes=codes, day=day)
        await store.record_outcome(
            ctx.conn, order_id=event.order_id, attempt=None, outcome=f"reserved plan {event.plan_rank}"
        )

    @service.handles(ServiceabilityChanged)
    async def on_serviceability_changed(ctx: HandlerContext, event: ServiceabilityChanged) -> None:
        taken = await store.replace_served(
            ctx.conn, couriers=event.couriers, prepaid=event.prepaid, cod=event.cod, loaded_at=event.loaded_at
        )
        if not taken:
            ctx.log.info("older serviceability ignored", loaded_at=event.loaded_at)
            return
        # Orders held for want of a courier that one now serves are planned again, in a new round.
        for order_id in await store.now_served(ctx.conn):
            found = await store.order_of(ctx.conn, order_id)
            if found is None:
                continue
            order, _ = found
            first = await store.remember_order(ctx.conn, order_id=order_id, order=order)
            await route(ctx, order_id, order, attempt=first, round_start=first)
