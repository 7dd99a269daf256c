"""After confirmation: the order's status follows its shipments, then its returns and refunds.

Shipping owns shipments and returns owns RMAs; orders keeps each one's latest status on the order
row and derives the order's own status from all of them (several shipments per order are allowed).
"""

from __future__ import annotations

from dataclasses import replace

from contracts import (
    CancelReason,
    OrderStatus,
    PaymentStatus,
    ReturnStatus,
    ShipmentCreated,
    ShipmentStatus,
    ShipmentUpdated,
)
from contracts.returns import ReturnRefunded, ReturnRequested, ReturnUpdated
from services.orders import domain, store
from services.orders.lifecycle import Step, move, note, payment_of, reload
from services.orders.payments import refund
from services.orders.records import Order, OrderChanges, applied

S = OrderStatus

# From RECEIVED on, the units of a return are back at the warehouse.
_BACK = frozenset(
    {
        ReturnStatus.RECEIVED,
        ReturnStatus.QC_PASSED,
        ReturnStatus.QC_FAILED,
        ReturnStatus.RESTOCKED,
        ReturnStatus.QUARANTINED,
        ReturnStatus.REFUND_PENDING,
        ReturnStatus.REFUNDED,
        ReturnStatus.EXCHANGE_PLACED,
        ReturnStatus.CLOSED,
    }
)


async def shipment_changed(step: Step, row: Order, event: ShipmentCreated | ShipmentUpdated) -> None:
    """Record one forward shipment's status and move the order to what all its shipments say."""
    if event.return_id is not None:
        return
    # What this event changes on the row, written in one UPDATE (with the status when it moves).
    changes: OrderChanges = {"awb": event.awb} if event.awb and event.awb not in row.awbs else {}
    shipments = dict(row.shipments)
    if shipments.get(event.shipment_id) == event.status.value:
        await store.update_order(step.conn, row.order_id, changes)
        return
    shipments[event.shipment_id] = event.status.value
    changes["shipments"] = shipments
    expected = max(len(row.warehouse_codes), 1)
    statuses = [ShipmentStatus(s) for s in shipments.values()]
    if row.rehearsal and row.status in domain.BEFORE_DISPATCH and domain.rehearsal_over(statuses, expected):
        # Booked is as far as a rehearsal goes: a pickup would send stock out of the door (ADR 0360).
        why = f"rehearsal over: shipment {event.shipment_id} booked with {event.courier} (AWB {event.awb})"
        await move(step, row, S.CANCELLED, why, cancel_code=CancelReason.OPERATOR, also=changes)
        return
    derived = domain.status_from_shipments(statuses, expected)
    current = row.status
    if event.status is ShipmentStatus.LOST:
        await note(step, row, f"shipment {event.shipment_id} ({event.courier} {event.awb}) reported lost")
    if derived is None or derived is current:
        await store.update_order(step.conn, row.order_id, changes)
        return
    where = f"shipment {event.shipment_id} {event.status}"
    if isinstance(event, ShipmentUpdated) and event.ndr_reason:
        where += f" ({event.ndr_reason}, attempt {event.attempt or 1})"
    if not await move(step, row, derived, where, also=changes):
        await note(step, row, f"{where}; the order stays {current}")
    elif derived is S.DELIVERED:
        await _cod_collected(step, replace(applied(row, changes), status=derived))


async def _cod_collected(step: Step, row: Order) -> None:
    """Delivered COD is cash the courier collected (and remits): the payment is no longer pending."""
    payment = payment_of(row)
    if domain.can_pay(payment.method, payment.status, PaymentStatus.COLLECTED):
        collected = payment.model_copy(update={"status": PaymentStatus.COLLECTED})
        await store.set_payment(step.conn, order_id=row.order_id, payment=collected)
        await note(step, row, f"COD of {payment.amount_paise} paise collected by the courier")


async def return_requested(step: Step, row: Order, event: ReturnRequested) -> None:
    """A return was opened for (part of) the order."""
    await move(step, row, S.RETURN_REQUESTED, f"return {event.return_id} requested")


async def return_updated(step: Step, row: Order, event: ReturnUpdated) -> None:
    """A refused return puts the order back to delivered; units back count towards returned."""
    if event.status is ReturnStatus.REJECTED:
        await move(step, row, S.DELIVERED, f"return {event.return_id} refused")
        return
    if event.status not in _BACK:
        return
    returned = dict(row.returned)
    if event.return_id in returned:
        return
    units: dict[str, int] = {}
    for line in event.lines:
        units[line.sku] = units.get(line.sku, 0) + line.quantity
    returned[event.return_id] = units
    await store.set_returned(step.conn, row.order_id, returned)
    ordered: dict[str, int] = {}
    for ordered_line in row.lines:
        ordered[ordered_line.sku] = ordered.get(ordered_line.sku, 0) + ordered_line.quantity
    back: dict[str, int] = {}
    for per_return in returned.values():
        for sku, quantity in per_return.items():
            back[sku] = back.get(sku, 0) + quantity
    target = domain.status_from_returns(ordered, back)
    await move(step, await reload(step, row), target, f"return {event.return_id} received back")


async def return_refunded(step: Step, row: Order, event: ReturnRefunded) -> None:
    """Money for a return went back: the payment records it, a fully returned order is REFUNDED."""
    await refund(step, row, payment_of(row), refund_id=event.refund_id, amount_paise=event.amount_paise)
    row = await reload(step, row)
    if row.status is S.RETURNED:
        await move(step, row, S.REFUNDED, f"return {event.return_id} refunded")
