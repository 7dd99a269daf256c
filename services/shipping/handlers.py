"""Kafka handlers of the shipping service: plan shipments, book AWBs, persist, emit.

Each runs inside the consumer's transaction, so the shipment rows and their events commit together.
"""

from __future__ import annotations

from chassis.consumer import HandlerContext
from chassis.service import Service
from contracts import OrderConfirmed, ShipmentCreated, ShipmentStatus
from services.shipping import domain, store
from services.shipping.couriers.delhivery import DelhiveryCourier
from services.shipping.couriers.interface import CourierAdapter, CourierRejected
from services.shipping.settings import ShippingSettings


def register(service: Service, settings: ShippingSettings) -> None:
    """Subscribe the shipping handlers."""
    adapter: CourierAdapter = DelhiveryCourier(
        service.http_client(base_url=settings.courier_base_url, timeout=settings.courier_timeout_s),
        token=settings.delhivery_token,
    )

    @service.handles(OrderConfirmed)
    async def on_order_confirmed(ctx: HandlerContext, order: OrderConfirmed) -> None:
        for plan in domain.plan_shipments(order):
            shipment_id = domain.shipment_id_for(order.order_id, plan.warehouse_code)
            if not await store.insert_shipment(
                ctx.conn,
                shipment_id=shipment_id,
                order_id=order.order_id,
                plan=plan,
                cause_event_id=ctx.event_id,
            ):
                ctx.log.info(
                    "shipment already exists", order_id=order.order_id, warehouse_code=plan.warehouse_code
                )
                continue
            request = domain.booking_request(
                order, plan, shipment_id=shipment_id, unit_weight_grams=settings.unit_weight_grams
            )
            # The call happens inside the transaction: a crash before commit redelivers the
            # event, and the same reference makes the courier answer with the same AWB.
            try:
                booking = await adapter.create_shipment(request)
            except CourierRejected as exc:
                await store.record_booking_error(
                    ctx.conn, shipment_id=shipment_id, courier=adapter.name, error=str(exc)
                )
                ctx.log.warning(
                    "courier refused shipment",
                    order_id=order.order_id,
                    shipment_id=shipment_id,
                    remarks=list(exc.remarks),
                )
                status, awb = ShipmentStatus.CREATED, None
            else:
                status = domain.advance(ShipmentStatus.CREATED, ShipmentStatus.AWB_ASSIGNED)
                assert status is not None
                awb = booking.awb
                await store.assign_awb(
                    ctx.conn, shipment_id=shipment_id, courier=booking.courier, awb=awb, status=status
                )
                ctx.log.info(
                    "awb assigned",
                    order_id=order.order_id,
                    shipment_id=shipment_id,
                    courier=booking.courier,
                    awb=awb,
                )
            await ctx.emit(
                ShipmentCreated(
                    order_id=order.order_id,
                    shipment_id=shipment_id,
                    warehouse_code=plan.warehouse_code,
                    courier=adapter.name,
                    awb=awb,
                    status=status,
                    lines=list(plan.lines),
                    cod_amount_paise=plan.cod_amount_paise,
                )
            )
