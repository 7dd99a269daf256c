"""Periodic sweeps of the shipping service: send queued NDR instructions, poll quiet shipments,
count parcels late to dispatch, report tomorrow's pickups against the couriers' capacity."""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import Gauge

from chassis.clock import india_date, utcnow
from chassis.logging import get_logger
from chassis.service import Service
from services.shipping import store, updates
from services.shipping.couriers.interface import CourierAdapter, CourierError
from services.shipping.domain import allocation
from services.shipping.settings import ShippingSettings

log = get_logger(__name__)
LATE_TO_DISPATCH = Gauge(
    "dabba_shipping_late_to_dispatch",
    "Forward parcels still in the warehouse past their order's dispatch-by (alert when above 0)",
    ["warehouse_code"],
)

PICKUPS_BOOKED = Gauge(
    "dabba_shipping_pickups_booked_tomorrow",
    "Parcels booked for tomorrow's (IST) pickup per courier and warehouse (ADR 0362)",
    ["courier", "warehouse_code"],
)
PICKUP_CAPACITY = Gauge(
    "dabba_shipping_pickup_capacity_tomorrow",
    "The pickup capacity a courier confirmed for tomorrow (IST) at a warehouse; absent when unlimited",
    ["courier", "warehouse_code"],
)


def register(service: Service, settings: ShippingSettings, adapters: dict[str, CourierAdapter]) -> None:
    """Schedule the sweeps."""

    @service.every(settings.ndr_sweep_s, name="ndr_actions")
    async def send_ndr_actions(svc: Service) -> None:
        await updates.send_pending_ndr_actions(svc.pool, adapters)

    @service.every(settings.rebook_s, name="rebook")
    async def rebook_unbooked(svc: Service) -> None:
        async with svc.pool.acquire() as conn, conn.transaction():
            for row in await store.unbooked(conn, older_than_s=settings.rebook_s, limit=20):
                await updates.rebook(
                    conn, row, emit=lambda event: svc.emit(conn, event), settings=settings, adapters=adapters
                )

    @service.every(settings.tracking_poll_s, name="tracking_poll")
    async def poll_quiet_shipments(svc: Service) -> None:
        await poll(svc, settings, adapters)

    @service.every(settings.late_to_dispatch_s, name="late_to_dispatch")
    async def count_late_to_dispatch(svc: Service) -> None:
        await count_late(svc)

    @service.every(settings.pickup_report_s, name="pickup_report")
    async def report_tomorrows_pickups(svc: Service) -> None:
        await report_pickups(svc, now=utcnow())


async def count_late(service: Service) -> int:
    """Set the late-to-dispatch gauge per warehouse and warn for each one with late parcels."""
    rows = await store.late_to_dispatch(service.pool, now=utcnow(), warehouse_code=None)
    LATE_TO_DISPATCH.clear()
    for row in rows:
        LATE_TO_DISPATCH.labels(warehouse_code=row.warehouse_code).set(row.late)
        log.warning(
            "parcels late to dispatch",
            warehouse_code=row.warehouse_code,
            late=row.late,
            oldest_dispatch_by=row.oldest_dispatch_by.isoformat(),
        )
    return sum(row.late for row in rows)


async def report_pickups(service: Service, *, now: datetime) -> list[str]:
    """The morning report as gauges and alerts: tomorrow's (IST) booked pickups against capacity per
    courier × warehouse, and a warning per courier nearly full, full or over (what an alert rule and
    the operators' log watch, like late-to-dispatch, ADR 260); GET /pickup-capacity shows the same."""
    day = india_date(now) + timedelta(days=1)
    rows = await store.pickups_on(service.pool, pickup_date=day, warehouse_code=None)
    PICKUPS_BOOKED.clear()
    PICKUP_CAPACITY.clear()
    for row in rows:
        labels = {"courier": row.courier, "warehouse_code": row.warehouse_code}
        PICKUPS_BOOKED.labels(**labels).set(row.booked)
        if row.capacity is not None:
            PICKUP_CAPACITY.labels(**labels).set(row.capacity)
    warnings = allocation.pickup_warnings(
        [(r.courier, r.warehouse_code, r.booked, r.capacity) for r in rows], day=day
    )
    for warning in warnings:
        log.warning("pickup capacity", pickup_date=day.isoformat(), alert=warning)
    return warnings


async def poll(service: Service, settings: ShippingSettings, adapters: dict[str, CourierAdapter]) -> int:
    """Ask couriers about shipments they went quiet on; apply what they say like a webhook."""
    moved = 0
    async with service.pool.acquire() as conn, conn.transaction():
        for row in await store.quiet_shipments(conn, quiet_s=settings.tracking_quiet_s, limit=50):
            adapter = adapters.get(row.courier)
            if adapter is None:
                continue
            try:
                scans = await adapter.track(row.awb)
            except CourierError as exc:
                log.warning("tracking poll failed", shipment_id=row.shipment_id, error=str(exc))
                continue
            await store.touch_tracked(conn, row.shipment_id)
            changes = await updates.apply_scans(
                conn,
                courier=row.courier,
                scans=scans,
                source="poll",
                emit=lambda event: service.emit(conn, event),
                max_attempts=settings.ndr_max_attempts,
            )
            moved += len(changes)
    return moved
