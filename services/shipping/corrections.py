"""A customer's corrected phone or address reaching shipments already made: stored before booking,
edited at the courier or booked again under a new AWB before pickup, and recorded as too late after.

The decision (`fix_for`) is plain data in, plain data out; `apply` does it for every forward shipment
of the order inside the consumer's transaction, so the shipments, their events and the inbox commit
together. Courier calls happen inside that transaction like booking's: a redelivered event edits
with the same consignee again and re-books under the same courier reference, so it gets the same AWB.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import StrEnum

from chassis.consumer import Emit
from chassis.db import Conn
from chassis.logging import get_logger
from contracts import OrderConfirmed, OrderContactCorrected, ShipmentStatus
from services.shipping import booking, store, updates
from services.shipping.couriers.interface import (
    Consignee,
    CourierAdapter,
    CourierError,
    CourierScan,
    CourierUnavailable,
    Handover,
)
from services.shipping.records import Shipment
from services.shipping.settings import ShippingSettings

log = get_logger(__name__)
S = ShipmentStatus

AT_THE_WAREHOUSE = frozenset({S.AWB_ASSIGNED, S.PICKED, S.PACKED, S.MANIFESTED})
"""Booked with a courier, not yet picked up: the courier can still be told."""


class Fix(StrEnum):
    """What a correction does to one shipment."""

    NOTHING = "nothing"
    """Cancelled, or it already has exactly this consignee (a repeat of the same correction)."""
    STORE = "store"
    """Not booked yet: the booking (or the next retry) uses the new consignee."""
    EDIT = "edit"
    """Booked, same pincode: the courier changes its consignee under the same AWB."""
    REBOOK = "rebook"
    """Booked, new pincode (zone, serviceability, maybe courier change): new AWB, old one cancelled."""
    TOO_LATE = "too_late"
    """With the courier already: recorded, nothing changed."""
    MARKETPLACE = "marketplace"
    """The marketplace's own logistics carry it under the marketplace's label: the address is the
    marketplace's to change; recorded, nothing booked with our couriers (ADR 330)."""


def consignee_of(event: OrderContactCorrected) -> Consignee:
    """The corrected consignee."""
    return Consignee(name=event.customer.name, phone=event.customer.phone, address=event.shipping_address)


def fix_for(
    status: ShipmentStatus,
    *,
    stored: Consignee | None,
    corrected: Consignee,
    marketplace: str | None = None,
) -> Fix:
    """What to do to one forward shipment in ``status`` holding ``stored`` for a ``corrected`` consignee."""
    if status is S.CANCELLED or stored == corrected:
        return Fix.NOTHING
    if marketplace is not None:
        return Fix.MARKETPLACE
    if status is S.CREATED:
        return Fix.STORE
    if status not in AT_THE_WAREHOUSE:
        return Fix.TOO_LATE
    same_pincode = stored is not None and stored.address.pincode == corrected.address.pincode
    return Fix.EDIT if same_pincode else Fix.REBOOK


def corrected_order(order: OrderConfirmed, consignee: Consignee) -> OrderConfirmed:
    """The confirmed order as it stands after a correction that reached shipping before it did."""
    return order.model_copy(
        update={
            "customer": order.customer.model_copy(update={"name": consignee.name, "phone": consignee.phone}),
            "shipping_address": consignee.address,
        }
    )


def status_after_rebook(status: ShipmentStatus) -> ShipmentStatus:
    """A re-booked parcel stays where it is on the floor (a picked or packed box gets the new
    label); a manifested one is taken off the old courier's manifest and waits, packed, for the next."""
    return S.PACKED if status is S.MANIFESTED else status


async def apply(
    conn: Conn,
    event: OrderContactCorrected,
    *,
    emit: Emit,
    settings: ShippingSettings,
    adapters: dict[str, CourierAdapter],
) -> list[Fix]:
    """Apply a correction to every forward shipment of the order; what was done to each."""
    corrected = consignee_of(event)
    await store.lock_order(conn, event.order_id)
    forward = [row for row in await store.lock_for_order(conn, event.order_id) if row.return_id is None]
    if not forward:
        # The correction overtook orders.confirmed.v1 (another topic): book to it when that comes.
        await store.remember_correction(conn, event.order_id, corrected, event.corrected_at)
        log.info("correction kept for shipments not made yet", order_id=event.order_id)
        return [Fix.STORE]
    done: list[Fix] = []
    for row in forward:
        status = row.status
        stored = row.consignee
        fix = fix_for(status, stored=stored, corrected=corrected, marketplace=row.marketplace)
        bound = log.bind(order_id=event.order_id, shipment_id=row.shipment_id, status=status.value)
        if fix is Fix.EDIT:
            fix = await _edit(conn, row, corrected, adapters=adapters, at=event.corrected_at)
        if fix is Fix.STORE:
            await store.set_consignee(conn, row.shipment_id, corrected)
            bound.info("corrected consignee stored for booking")
        elif fix is Fix.REBOOK:
            fix = await _rebook(
                conn, row, corrected, emit=emit, settings=settings, adapters=adapters, at=event.corrected_at
            )
        elif fix is Fix.MARKETPLACE:
            bound.warning("contact correction on a parcel the marketplace carries; nothing changed")
            await _record(
                conn,
                row,
                "correction_on_marketplace",
                f"{event.corrected_by} corrected the phone/address, but {row.marketplace} carries this "
                f"parcel under its own label: change it on {row.marketplace}",
                at=event.corrected_at,
            )
        elif fix is Fix.TOO_LATE:
            bound.warning("contact correction arrived after pickup; nothing changed")
            await _record(
                conn,
                row,
                "correction_too_late",
                f"{event.corrected_by} corrected the phone/address while the parcel was {status}: "
                "too late for this parcel, nothing changed (use an NDR action)",
                at=event.corrected_at,
            )
        done.append(fix)
    return done


async def _edit(
    conn: Conn,
    row: Shipment,
    corrected: Consignee,
    *,
    adapters: dict[str, CourierAdapter],
    at: datetime,
) -> Fix:
    """Ask the courier to change the consignee under the same AWB; REBOOK when it cannot."""
    courier, awb = row.booking()
    adapter = adapters.get(courier)
    if adapter is None:
        return Fix.REBOOK
    try:
        await adapter.update_consignee(Handover(awb, row.courier_ref), corrected)
    except CourierUnavailable:
        raise  # the consumer retries the event, then dead-letters it
    except CourierError as exc:
        log.info("courier cannot edit the consignee; re-booking", shipment_id=row.shipment_id, error=str(exc))
        return Fix.REBOOK
    await store.set_consignee(conn, row.shipment_id, corrected)
    await _record(conn, row, "consignee_updated", f"{row.courier} holds the corrected phone/address", at=at)
    log.info("courier consignee updated", shipment_id=row.shipment_id, courier=row.courier)
    return Fix.EDIT


class _NotBooked(Exception):
    """No courier took the corrected parcel: undo the attempt, keep the old booking."""


async def _rebook(
    conn: Conn,
    row: Shipment,
    corrected: Consignee,
    *,
    emit: Emit,
    settings: ShippingSettings,
    adapters: dict[str, CourierAdapter],
    at: datetime,
) -> Fix:
    """Book the parcel to the corrected address under a new AWB first, then cancel the old AWB: if no
    courier takes it the old booking stands, untouched, and the operator is told."""
    (old_courier, old_awb), status = row.booking(), row.status
    try:
        async with conn.transaction():  # a savepoint: a failed booking leaves no trace
            bookings = 1 + await store.add_replaced_awb(conn, row.shipment_id, old_awb)
            outcome = await booking.rebook(
                conn,
                dataclasses.replace(row, consignee=corrected),
                settings=settings,
                adapters=adapters,
                reference=f"{row.shipment_id}-{bookings}",
            )
            if outcome.booking is None:
                raise _NotBooked(outcome.error or "no courier took it")
            after = status_after_rebook(status)
            if after is not S.AWB_ASSIGNED:
                await store.set_status(conn, row.shipment_id, after, manifest_id=None)
    except _NotBooked as exc:
        log.warning("corrected address could not be booked", shipment_id=row.shipment_id, error=str(exc))
        await _record(
            conn,
            row,
            "correction_not_booked",
            f"no courier took the corrected address ({exc}); {old_courier} {old_awb} still has the old one",
            at=at,
        )
        return Fix.NOTHING
    new = outcome.booking
    adapter = adapters.get(old_courier)
    try:
        if adapter is None:
            raise CourierError(f"no adapter for courier {old_courier}")
        await adapter.cancel(old_awb)
        cancelled = f"{old_courier} {old_awb} cancelled"
    except CourierError as exc:
        log.warning("old awb not cancelled", shipment_id=row.shipment_id, awb=old_awb, error=str(exc))
        cancelled = f"{old_courier} {old_awb} NOT cancelled ({exc}): cancel it with the courier"
    note = f"corrected address booked with {new.courier} {new.awb}; {cancelled}"
    if status in (S.PICKED, S.PACKED, S.MANIFESTED):
        note += "; print the new label for the box"
    await _record(conn, row, "rebooked_for_correction", note, at=at)
    log.info("rebooked for a corrected address", shipment_id=row.shipment_id, awb=new.awb, old_awb=old_awb)
    rebooked = dataclasses.replace(row, courier=new.courier, awb=new.awb)
    await emit(updates.updated_event(rebooked, status_after_rebook(status)))
    return Fix.REBOOK


async def _record(conn: Conn, row: Shipment, code: str, remark: str, *, at: datetime) -> None:
    """A line in the shipment's tracking history the operator sees (GET /shipments/{id})."""
    await store.record_scan(
        conn,
        shipment_id=row.shipment_id,
        scan=CourierScan(awb=row.awb or "", code=f"dabba:{code}", status=None, occurred_at=at, remark=remark),
        applied=False,
        source="correction",
    )
