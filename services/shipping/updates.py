"""Load, decide, save, emit for courier news: scans from webhooks and polls, and NDR instructions.

Shared by the webhook routes, the polling job and the Kafka handlers, so every path applies a
scan the same way: row lock on the shipment, forward-only decision, tracking row, event, one commit.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import asyncpg

from chassis.consumer import Emit
from chassis.db import Conn
from chassis.logging import get_logger
from chassis.refusal import Refusal
from contracts import ShipmentStatus, ShipmentUpdated
from services.shipping import booking, domain, store
from services.shipping.couriers.interface import (
    CourierAdapter,
    CourierError,
    CourierScan,
    NdrAction,
    NdrActionKind,
)
from services.shipping.domain import tracking
from services.shipping.records import Shipment
from services.shipping.settings import ShippingSettings

log = get_logger(__name__)


def updated_event(row: Shipment, status: ShipmentStatus, **fields: Any) -> ShipmentUpdated:
    """``shipping.shipment_updated.v1`` for a shipment at a new status."""
    return ShipmentUpdated(
        order_id=row.order_id,
        shipment_id=row.shipment_id,
        warehouse_code=row.warehouse_code,
        courier=row.courier or "unassigned",
        awb=row.awb,
        status=status,
        return_id=row.return_id,
        **fields,
    )


async def apply_scans(
    conn: Conn,
    *,
    courier: str,
    scans: list[CourierScan],
    source: str,
    emit: Emit,
    max_attempts: int,
    now: datetime | None = None,
) -> list[ShipmentStatus]:
    """Apply scans of one courier in courier-time order; the statuses they moved shipments to.

    A scan for an AWB we do not know is logged and dropped (the courier's other clients' parcels
    never reach us; a stray one must not fail the whole push). ``now`` (default: the clock) bounds
    how far in the future a scan may be dated."""
    now = now or datetime.now(UTC)
    moved: list[ShipmentStatus] = []
    for scan in sorted(scans, key=lambda s: s.occurred_at):
        row = await store.lock_by_awb(conn, courier, scan.awb)
        if row is None:
            log.warning("scan for an unknown awb", courier=courier, awb=scan.awb, code=scan.code)
            continue
        current = tracking.Tracked(
            status=row.status,
            ndr_attempts=row.ndr_attempts,
            last_change_at=row.last_change_at,
        )
        change = tracking.apply_scan(current, scan, now=now)
        if not await store.record_scan(
            conn, shipment_id=row.shipment_id, scan=scan, applied=change is not None, source=source
        ):
            await store.touch_tracked(conn, row.shipment_id)
            continue  # the same scan again: already applied or already refused
        if change is None:
            await store.touch_tracked(conn, row.shipment_id)
            log.info(
                "scan does not move the shipment",
                shipment_id=row.shipment_id,
                code=scan.code,
                status=row.status,
            )
            continue
        await store.apply_change(
            conn,
            shipment_id=row.shipment_id,
            status=change.status,
            occurred_at=scan.occurred_at,
            ndr_attempts=change.attempt,
            ndr_reason=change.ndr_reason.value if change.ndr_reason else None,
        )
        moved.append(change.status)
        await emit(
            updated_event(
                row,
                change.status,
                courier_status_code=scan.code,
                ndr_reason=change.ndr_reason,
                attempt=change.attempt,
                location=scan.location,
            )
        )
        if tracking.should_return_to_origin(change, max_attempts=max_attempts):
            assert change.attempt is not None
            await store.add_ndr_action(
                conn,
                shipment_id=row.shipment_id,
                attempt=change.attempt,
                action=NdrAction(kind=NdrActionKind.RTO, remark=f"{change.attempt} failed delivery attempts"),
                actor="policy",
            )
            log.info("rto after failed attempts", shipment_id=row.shipment_id, attempts=change.attempt)
    return moved


MARKETPLACE_NEWS = frozenset(
    {
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    }
)
"""What a marketplace reports of a parcel its own logistics carry (ADR 371)."""


async def record_marketplace_awb(
    conn: Conn, row: Shipment, *, awb: str, tracking_url: str | None, emit: Emit
) -> bool:
    """Put the marketplace's AWB on a parcel it carries (ADR 331, 370); False when it already had it.

    Before picking the shipment becomes AWB_ASSIGNED; a parcel picked or packed before its label
    came (its label follows our invoice, issued on packing) keeps its status and says so again with
    the AWB, so the store is told it is ready and every follower sees the AWB."""
    if row.marketplace is None:
        raise Refusal("shipment_id", "a courier of ours carries this shipment, not a marketplace", status=409)
    if row.awb is not None and row.awb != awb:
        raise Refusal("awb", f"the shipment already has the marketplace's AWB {row.awb}", status=409)
    if row.awb is not None:
        return False
    status = domain.with_marketplace_awb(row.status)
    if status is None:
        raise Refusal("shipment_id", f"shipment is {row.status.value}", status=409)
    try:
        await store.set_marketplace_awb(conn, row.shipment_id, awb, status)
    except asyncpg.UniqueViolationError:
        raise Refusal("awb", f"AWB {awb} is already another shipment's", status=409) from None
    await emit(updated_event(dataclasses.replace(row, awb=awb), status, tracking_url=tracking_url))
    return True


async def apply_marketplace_news(
    conn: Conn,
    row: Shipment,
    *,
    status: ShipmentStatus,
    code: str,
    occurred_at: datetime,
    emit: Emit,
    max_attempts: int,
    now: datetime | None = None,
) -> list[ShipmentStatus]:
    """What the marketplace reports of a parcel it carries (picked up, delivered), applied like a
    courier's scan: forward only, once, late news dropped (ADR 371). The statuses it moved to."""
    if row.marketplace is None:
        raise Refusal(
            "shipment_id", "a courier of ours carries this shipment: its scans come from it", status=409
        )
    if row.awb is None:
        raise Refusal(
            "shipment_id", "no marketplace AWB recorded yet: PUT its marketplace-awb first", status=409
        )
    scan = CourierScan(awb=row.awb, code=code, status=status, occurred_at=occurred_at)
    return await apply_scans(
        conn, courier=row.courier or row.marketplace, scans=[scan], source="marketplace", emit=emit,
        max_attempts=max_attempts, now=now,
    )  # fmt: skip


NOT_APPLICABLE = "not applicable"


async def queue_ndr_action(conn: Conn, *, shipment_id: str, action: NdrAction, actor: str) -> int:
    """Queue an NDR instruction for the shipment's latest failed attempt; returns that attempt."""
    row = await store.lock_shipment(conn, shipment_id)
    if row is None:
        raise Refusal("shipment_id", f"no shipment {shipment_id}", status=404)
    if row.status is not ShipmentStatus.NDR:
        raise Refusal(
            "shipment_id",
            f"shipment is {row.status}, not waiting on an NDR",
            status=409,
            error=NOT_APPLICABLE,
        )
    attempt = row.ndr_attempts
    if not await store.add_ndr_action(
        conn, shipment_id=shipment_id, attempt=attempt, action=action, actor=actor
    ):
        raise Refusal(
            "action", f"attempt {attempt} already has an instruction", status=409, error=NOT_APPLICABLE
        )
    return attempt


async def send_pending_ndr_actions(pool: asyncpg.Pool, adapters: dict[str, CourierAdapter]) -> int:
    """Pass queued NDR instructions to the couriers; failed calls stay pending for the next sweep."""
    sent = 0
    async with pool.acquire() as conn, conn.transaction():
        for action in await store.pending_ndr_actions(conn):
            adapter = adapters.get(action.courier or "")
            error: str | None = None
            try:
                if adapter is None or action.awb is None:
                    raise CourierError(f"no adapter for courier {action.courier}")
                await adapter.ndr_action(action.awb, action.action)
                sent += 1
            except CourierError as exc:
                error = str(exc)
                log.warning("ndr instruction not accepted", shipment_id=action.shipment_id, error=error)
            await store.finish_ndr_action(conn, action.id, error=error, give_up=action.tries + 1 >= 10)
    return sent


async def rebook(
    conn: Conn,
    row: Shipment,
    *,
    emit: Emit,
    settings: ShippingSettings,
    adapters: dict[str, CourierAdapter],
) -> booking.Outcome:
    """Book a shipment no courier took before; announce the AWB if one does now."""
    outcome = await booking.rebook(conn, row, settings=settings, adapters=adapters)
    if outcome.booking is not None:
        booked = dataclasses.replace(row, courier=outcome.booking.courier, awb=outcome.booking.awb)
        await emit(updated_event(booked, ShipmentStatus.AWB_ASSIGNED))
    log.info(
        "rebooked" if outcome.booking else "still not booked",
        shipment_id=row.shipment_id,
        courier=outcome.courier,
        error=outcome.error,
    )
    return outcome
