"""Payment changes of an order: COD confirmation by the customer or an operator, Razorpay webhooks,
and refunds. Each locks the order first, so two webhooks for one order apply one after the other.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from chassis.logging import get_logger
from chassis.refusal import Refusal
from contracts import (
    CancelReason,
    OrderStatus,
    Payment,
    PaymentEventStatus,
    PaymentMethod,
    PaymentStatus,
    PaymentUpdated,
)
from services.orders import domain, store
from services.orders.domain.razorpay import GatewayEvent, not_acted_on, refund_status
from services.orders.lifecycle import Step, move, note, payment_of, reload
from services.orders.records import Order

S = OrderStatus
GATEWAY = "razorpay"
log = get_logger(__name__)


async def cod_confirmed(step: Step, row: Order, *, by_hand: bool) -> None:
    """The customer (or an operator who called them) confirmed the COD order."""
    payment = payment_of(row)
    status = row.status
    if payment.method is not PaymentMethod.COD:
        raise Refusal(
            "payment.method", f"order {row.order_id} is paid by {payment.method}, not COD", status=409
        )
    if payment.status is PaymentStatus.COD_CONFIRMED:
        return
    if not domain.can_pay(payment.method, payment.status, PaymentStatus.COD_CONFIRMED):
        raise Refusal("payment.status", f"COD already {payment.status}", status=409)
    if status not in domain.BEFORE_DISPATCH or status is S.CANCELLED:
        raise Refusal("status", f"a {status} order cannot be confirmed", status=409)
    await _set_cod(step, row, payment, PaymentStatus.COD_CONFIRMED, PaymentEventStatus.COD_CONFIRMED)
    who = "by phone with an operator" if by_hand else "on WhatsApp"
    if status is S.PENDING_COD_CONFIRMATION or (status is S.ON_HOLD and row.held_for == "cod_no_reply"):
        await move(step, await reload(step, row), S.CONFIRMED, f"customer confirmed COD {who}")
    else:
        await note(step, row, f"customer confirmed COD {who}")


async def cod_declined(step: Step, row: Order, *, by_hand: bool) -> None:
    """The customer declined the COD order: it is cancelled while it still can be."""
    payment = payment_of(row)
    status = row.status
    if payment.method is not PaymentMethod.COD:
        raise Refusal(
            "payment.method", f"order {row.order_id} is paid by {payment.method}, not COD", status=409
        )
    if payment.status is PaymentStatus.COD_DECLINED:
        return
    if status not in domain.BEFORE_DISPATCH:
        raise Refusal("status", f"a {status} order can no longer be cancelled", status=409)
    if not domain.can_pay(payment.method, payment.status, PaymentStatus.COD_DECLINED):
        raise Refusal("payment.status", f"COD already {payment.status}", status=409)
    await _set_cod(step, row, payment, PaymentStatus.COD_DECLINED, PaymentEventStatus.COD_DECLINED)
    who = "by phone with an operator" if by_hand else "on WhatsApp"
    await move(
        step,
        await reload(step, row),
        S.CANCELLED,
        f"customer declined COD {who}",
        cancel_code=CancelReason.COD_DECLINED,
    )


async def _set_cod(
    step: Step, row: Order, payment: Payment, status: PaymentStatus, event: PaymentEventStatus
) -> None:
    await store.set_payment(
        step.conn, order_id=row.order_id, payment=payment.model_copy(update={"status": status})
    )
    await step.emit(
        PaymentUpdated(
            order_id=row.order_id, status=event, method=payment.method, amount_paise=payment.amount_paise
        )
    )


async def _emit_payment(
    step: Step, row: Order, payment: Payment, status: PaymentEventStatus, **extra: Any
) -> None:
    await step.emit(
        PaymentUpdated(
            order_id=row.order_id,
            status=status,
            method=payment.method,
            amount_paise=extra.pop("amount_paise", payment.amount_paise),
            gateway=payment.gateway,
            gateway_payment_id=payment.gateway_payment_id,
            **extra,
        )
    )


async def gateway_event(step: Step, event: GatewayEvent) -> tuple[str | None, str]:
    """Apply one Razorpay payment or refund to its order; (order id, what happened)."""
    row = None
    if event.order_ref:
        row = await store.lock_order(step.conn, event.order_ref)
    if row is None:
        row = await store.lock_order_by_payment(step.conn, event.payment_id)
    if row is None:
        # The money may be taken before the order reaches us: keep it for the order (ADR 116).
        await store.keep_early_payment(
            step.conn,
            payment_id=event.payment_id,
            order_ref=event.order_ref,
            event=dataclasses.asdict(event),
        )
        return None, f"kept: no order yet for payment {event.payment_id}; applied when it arrives"
    order_id = row.order_id
    payment = payment_of(row)
    if payment.method is PaymentMethod.COD:
        await note(step, row, f"{event.event} {event.payment_id} ignored: the order is COD")
        return order_id, "ignored: COD order"
    if (why := not_acted_on(event, payment)) is not None:
        await note(step, row, f"{event.event} {event.payment_id} ignored: {why}")
        return order_id, f"ignored: {why}"
    if event.status is PaymentStatus.REFUNDED:
        return order_id, await _refunded(step, row, payment, event)
    target = event.status
    if target is payment.status or not domain.can_pay(payment.method, payment.status, target):
        await note(
            step, row, f"{event.event} {event.payment_id} ignored: payment is already {payment.status}"
        )
        return order_id, f"ignored: payment already {payment.status}"
    paid = target in domain.PAID
    # The amount the gateway took is the payment's amount: a release must see an underpayment.
    taken = {"amount_paise": event.amount_paise} if paid else {}
    updated = payment.model_copy(
        update={"status": target, "gateway": GATEWAY, "gateway_payment_id": event.payment_id, **taken}
    )
    await store.set_payment(step.conn, order_id=order_id, payment=updated, stop_expiry=paid)
    await _emit_payment(
        step,
        row,
        updated,
        PaymentEventStatus(target.value),
        amount_paise=event.amount_paise,
        failure_reason=event.failure_reason,
    )
    status = row.status
    row = await reload(step, row)
    if not paid:
        await note(
            step, row, f"payment {event.payment_id} failed: {event.failure_reason or 'no reason given'}"
        )
        return order_id, "payment failed"
    if event.amount_paise != row.total_paise:
        why = f"paid {event.amount_paise} paise but the order total is {row.total_paise}"
        if not await move(step, row, S.ON_HOLD, f"review: {why}", held_for="payment"):
            await note(step, row, why)
        return order_id, "held: amount mismatch"
    if status is S.PENDING_PAYMENT:
        await move(step, row, S.CONFIRMED, f"payment {target} ({event.payment_id})")
        return order_id, "confirmed"
    if status is S.CANCELLED:
        await note(step, row, f"payment {event.payment_id} {target} after the order was cancelled: refund it")
        return order_id, "paid after cancellation: refund due"
    await note(step, row, f"payment {target} ({event.payment_id})")
    return order_id, f"payment {target}"


async def apply_early(step: Step, *, order_id: str, channel_order_id: str, payment_id: str | None) -> int:
    """Apply, oldest first, the gateway events kept for an order that has just arrived."""
    kept = await store.take_early_payments(
        step.conn, order_id=order_id, channel_order_id=channel_order_id, payment_id=payment_id
    )
    for fields in kept:
        kept_fields = fields
        event = GatewayEvent(
            **{**kept_fields, "status": PaymentStatus(kept_fields["status"]), "order_ref": order_id}
        )
        _, outcome = await gateway_event(step, event)
        log.info("early payment matched", order_id=order_id, payment_id=event.payment_id, outcome=outcome)
    return len(kept)


async def _refunded(step: Step, row: Order, payment: Payment, event: GatewayEvent) -> str:
    assert event.refund_id is not None
    return await refund(step, row, payment, refund_id=event.refund_id, amount_paise=event.amount_paise)


async def refund(step: Step, row: Order, payment: Payment, *, refund_id: str, amount_paise: int) -> str:
    """Money went back to the customer: counted once per refund id, full or partial."""
    if refund_id in (row.refund_ids or []):
        return "ignored: refund already counted"
    total = row.refunded_paise + amount_paise
    target = refund_status(total, payment.amount_paise)
    if not domain.can_pay(payment.method, payment.status, target):
        await note(step, row, f"refund {refund_id} of {amount_paise} paise while payment is {payment.status}")
        return f"ignored: payment is {payment.status}"
    updated = payment.model_copy(update={"status": target})
    await store.set_payment(
        step.conn, order_id=row.order_id, payment=updated, refunded_paise=total, refund_id=refund_id
    )
    await _emit_payment(
        step, row, updated, PaymentEventStatus.REFUNDED, amount_paise=amount_paise, refund_id=refund_id
    )
    await note(step, row, f"refund {refund_id}: {amount_paise} paise ({target}, {total} in all)")
    return f"refunded {amount_paise}"
