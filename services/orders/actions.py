"""What happens to an order before it reaches shipping: its stock is reserved (or cannot be), an
operator cancels, holds, releases or corrects it, a payment or COD deadline passes.
"""

from __future__ import annotations

from chassis.refusal import Refusal
from contracts import (
    CancelReason,
    OrderCancelled,
    OrderContactCorrected,
    OrderPlaced,
    OrderStatus,
)
from contracts.values import Address, Allocation
from services.orders import domain, store
from services.orders.lifecycle import Step, ids, move, note, payment_of, reload
from services.orders.records import Order, OrderChanges, applied

S = OrderStatus
NO_COURIER = "courier"
"""``held_for`` of an order no courier delivers to (ADR 0311)."""


async def reserved(step: Step, row: Order, *, reservation_id: str, allocations: list[Allocation]) -> None:
    """Stock is held for the order: go on to payment, COD confirmation, review or confirmation."""
    status = row.status
    if row.reservation_id is not None:
        return
    if status in (S.CANCELLED, S.REJECTED):
        # Cancelled while routing was still working: the stock reserved since must go back.
        await note(step, row, f"stock reserved ({reservation_id}) after cancellation; releasing it")
        await step.emit(
            OrderCancelled(**ids(row), reason_code=CancelReason.OTHER, note="reserved after cancel")
        )
        return
    # Written with the status change it leads to, in one UPDATE.
    reservation: OrderChanges = {
        "reservation_id": reservation_id,
        "allocations": tuple(allocations),
        "warehouse_codes": tuple(sorted({a.warehouse_code for a in allocations})),
        "unroutable": False,
    }
    waited_for = domain.waited_for(status, row.held_for, no_courier_hold=NO_COURIER)
    if waited_for is not None:
        # Routing planned it again by itself (ADR 0311, ADR 0301): a courier serves its pincode now,
        # or its stock arrived. On it goes, to where it would have been.
        row = applied(row, reservation)
        payment = payment_of(row)
        target, why = domain.status_after_reservation(payment.method, payment.status, list(row.risk_reasons))
        if target is S.ON_HOLD and status is S.ON_HOLD:
            await store.update_order(step.conn, row.order_id, {**reservation, "held_for": "review"})
            await note(step, row, f"{waited_for}; still held: {why}")
        else:
            await move(
                step,
                row,
                target,
                f"{waited_for}; {why}",
                held_for="review" if target is S.ON_HOLD else None,
                also=reservation,
            )
        return
    if status is not S.PLACED:
        await store.update_order(step.conn, row.order_id, reservation)
        await note(step, row, f"stock reserved ({reservation_id}); the order stays {status}")
        return
    row = applied(row, reservation)
    payment = payment_of(row)
    target, reason = domain.status_after_reservation(payment.method, payment.status, list(row.risk_reasons))
    await move(
        step, row, target, reason, held_for="review" if target is S.ON_HOLD else None, also=reservation
    )


async def unroutable(step: Step, row: Order, reason: str, *, no_courier: bool = False) -> None:
    """Routing gave up: hold, backorder or cancel, by setting. An order no courier delivers to is
    always held, visibly, never confirmed (ADR 0311): routing plans it again when a courier serves
    its pincode, and a corrected address or a release asks again."""
    if row.reservation_id is not None or row.status in (S.CANCELLED, S.REJECTED):
        return
    # Remembered even for an order someone already holds: releasing it must ask routing again.
    flagged: OrderChanges = {"unroutable": True}
    if no_courier:
        if row.status is S.PLACED:
            await move(step, row, S.ON_HOLD, f"no courier: {reason}", held_for=NO_COURIER, also=flagged)
            return
        await store.update_order(step.conn, row.order_id, flagged)
        if row.status is S.ON_HOLD and row.held_for == NO_COURIER:
            await note(step, row, f"still no courier: {reason}")
        else:
            await note(step, row, f"no courier: {reason}")
        return
    if row.status is not S.PLACED:
        await store.update_order(step.conn, row.order_id, flagged)
        await note(step, row, f"no stock to fulfil: {reason}")
        return
    target = domain.UNROUTABLE_TARGET[step.settings.unroutable_action]
    await move(
        step,
        row,
        target,
        f"no stock to fulfil: {reason}",
        cancel_code=CancelReason.UNROUTABLE,
        held_for="stock",
        also=flagged,
    )


# operator actions ------------------------------------------------------------------------------


async def cancel(step: Step, row: Order, *, code: CancelReason, note_text: str | None) -> None:
    """Cancel before dispatch: inventory releases the stock, shipping cancels the shipment."""
    status = row.status
    if status not in domain.BEFORE_DISPATCH:
        raise Refusal(
            "status", f"a {status} order can no longer be cancelled (it has left the warehouse)", status=409
        )
    reason = f"cancelled ({code})" + (f": {note_text}" if note_text else "")
    await move(step, row, S.CANCELLED, reason, cancel_code=code)


async def hold(step: Step, row: Order, reason: str) -> None:
    """Stop an order before it reaches shipping, for a person to look at."""
    status = row.status
    if not domain.can_transition(status, S.ON_HOLD):
        raise Refusal("status", f"a {status} order cannot be held (only before it is confirmed)", status=409)
    await move(step, row, S.ON_HOLD, f"held: {reason}", held_for="operator")


async def release(step: Step, row: Order) -> OrderStatus:
    """Let a held or backordered order go on to where it would be without the hold."""
    status = row.status
    if status not in (S.ON_HOLD, S.BACKORDERED):
        raise Refusal("status", f"a {status} order is not held", status=409)
    payment = payment_of(row)
    assert row.total_paise is not None  # a held or backordered order was placed, so it has its total
    short = domain.underpaid(payment.method, payment.status, payment.amount_paise, row.total_paise)
    if short is not None:
        raise Refusal("payment", short, status=409)
    if row.reservation_id is None:
        await move(
            step,
            row,
            S.PLACED,
            "released; waiting for stock",
            also={"unroutable": False} if row.unroutable else None,
        )
        if row.unroutable:
            await _replan(step, row)
        return S.PLACED
    target, why = domain.next_after_hold(payment.method, payment.status)
    if not await move(step, row, target, f"released: {why}"):
        raise Refusal("status", f"a {status} order cannot go to {target}", status=409)
    return target


async def _replan(step: Step, row: Order) -> None:
    """Ask routing again for an order it could not place before (orders.placed.v1 once more)."""
    assert row.placed_at and row.customer and row.shipping_address and row.delivery_speed  # placed once
    await step.emit(
        OrderPlaced(
            **ids(row),
            placed_at=row.placed_at,
            customer=row.customer,
            shipping_address=row.shipping_address,
            lines=list(row.lines),
            shipping_fee_paise=row.shipping_fee_paise,
            discount_paise=row.discount_paise,
            total_paise=row.total_paise,
            payment=payment_of(row),
            delivery_speed=row.delivery_speed,
            shipped_by_marketplace=row.shipped_by_marketplace,
        )
    )


async def correct_contact(step: Step, row: Order, *, phone: str | None, address: Address | None) -> None:
    """Correct the phone and/or address until a parcel is with a courier; both re-validated, risk
    re-assessed. Once shipping has the order (CONFIRMED, PACKED) it is told in the same transaction."""
    status = row.status
    refusal = domain.correction_refusal(status)
    if refusal is not None:
        raise Refusal("status", refusal, status=409)
    # only a REJECTED order lacks these, and correction_refusal refused it above
    assert row.customer and row.shipping_address and row.total_paise is not None
    customer = row.customer
    new_address = address or row.shipping_address
    problems = (domain.phone_problems(phone, field="phone") if phone else []) + (
        domain.address_problems(address, prefix="shipping_address") if address else []
    )
    if problems:
        raise Refusal.of(problems)
    if phone:
        customer = customer.model_copy(update={"phone": domain.normalise_phone(phone)})
    payment = payment_of(row)
    facts = await store.risk_facts(step.conn, phone=customer.phone, pincode=new_address.pincode)
    risk = domain.risk_reasons(
        method=payment.method,
        total_paise=row.total_paise,
        pincode=new_address.pincode,
        facts=facts,
        rules=step.settings.risk_rules(),
    )
    await store.set_contact(
        step.conn, order_id=row.order_id, customer=customer, address=new_address, risk_reasons=risk
    )
    changed = " and ".join(x for x, v in (("phone", phone), ("address", address)) if v)
    await note(step, row, f"{changed} corrected")
    if status in domain.WITH_SHIPPING_UNDISPATCHED:
        await step.emit(
            OrderContactCorrected(
                **ids(row), customer=customer, shipping_address=new_address, corrected_by=step.actor
            )
        )
        if risk:
            # Shipping has the order, so it cannot be held: a person decides whether to cancel it.
            await note(step, row, "review after correction: " + "; ".join(risk) + " (cancel it if it fails)")
        return
    if address and status is S.ON_HOLD and row.held_for == NO_COURIER:
        # Held because no courier delivered to the old address: ask routing about the new one.
        row = await reload(step, row)
        await move(step, row, S.PLACED, "address corrected; planning again", also={"unroutable": False})
        await _replan(step, row)
        return
    if risk and status is not S.ON_HOLD and row.reservation_id is not None:
        await move(step, await reload(step, row), S.ON_HOLD, "review: " + "; ".join(risk), held_for="review")


# deadlines ---------------------------------------------------------------------------------------


async def expire_payment(step: Step, row: Order) -> None:
    """A prepaid order not paid in time is cancelled and its stock released."""
    payment = payment_of(row)
    if payment.status in domain.PAID:
        return
    await move(
        step,
        row,
        S.CANCELLED,
        f"not paid within {step.settings.payment_expiry_minutes:g} minutes",
        cancel_code=CancelReason.PAYMENT_EXPIRED,
    )


async def cod_no_reply(step: Step, row: Order) -> None:
    """No COD reply in time: hold for a call, or cancel, by setting."""
    hours = f"{step.settings.cod_confirmation_hours:g}"
    if step.settings.cod_no_reply_action == "cancel":
        await move(
            step,
            row,
            S.CANCELLED,
            f"no COD confirmation within {hours} h",
            cancel_code=CancelReason.COD_DECLINED,
        )
    else:
        await move(
            step,
            row,
            S.ON_HOLD,
            f"no COD confirmation within {hours} h: call the customer",
            held_for="cod_no_reply",
        )
