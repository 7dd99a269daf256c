"""Kafka handlers of the routing service: keep the stock view, plan every placed order."""

from __future__ import annotations

from chassis.consumer import HandlerContext
from chassis.service import Service
from contracts import OrderPlaced, RoutingPlanned, StockChanged
from services.routing import domain, store


async def warehouses(ctx: HandlerContext) -> list[domain.Warehouse]:
    """Active warehouses, read once per consumer transaction (they change only over HTTP)."""
    if "warehouses" not in ctx.shared:
        ctx.shared["warehouses"] = await store.active_warehouses(ctx.conn)
    found: list[domain.Warehouse] = ctx.shared["warehouses"]
    return found


def register(service: Service) -> None:
    """Subscribe the routing handlers."""

    @service.handles(StockChanged)
    async def on_stock_changed(ctx: HandlerContext, event: StockChanged) -> None:
        await store.record_stock(
            ctx.conn, sku=event.sku, by_warehouse=event.by_warehouse, changed_at=event.changed_at
        )

    @service.handles(OrderPlaced)
    async def on_placed(ctx: HandlerContext, event: OrderPlaced) -> None:
        pincode = event.shipping_address.pincode
        plans = domain.plan(
            lines=event.lines,
            customer_pincode=pincode,
            warehouses=await warehouses(ctx),
            available=await store.available_for(ctx.conn, [line.sku for line in event.lines]),
        )
        await store.record_decision(
            ctx.conn, order_id=event.order_id, attempt=1, pincode=pincode, plans=plans
        )
        await ctx.emit(RoutingPlanned(order_id=event.order_id, attempt=1, plans=plans))
        ctx.log.info(
            "order routed",
            order_id=event.order_id,
            plans=len(plans),
            first=plans[0].shipments[0].warehouse_code if plans else None,
        )
