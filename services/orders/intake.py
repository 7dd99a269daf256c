"""The one way in for an order, from a channel or from staff: validate, assess risk, store, announce.

Problems are returned rather than stored, so the caller decides: a channel order is kept as
REJECTED with every reason (`reject`), an HTTP call is refused and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import (
    Channel,
    ChannelOrder,
    FieldProblem,
    OrderPlaced,
    OrderRejected,
    OrderStatus,
    OrderStatusChanged,
    PaymentMethod,
    PaymentStatus,
)
from services.orders import domain, payments, store
from services.orders.lifecycle import Step, entry
from services.orders.records import Order

S = OrderStatus


@dataclass(frozen=True, slots=True)
class Placed:
    """The outcome of intake: the order id, and whether it was new (False: a duplicate)."""

    order_id: str
    created: bool


async def place(
    step: Step,
    order: ChannelOrder,
    *,
    entered_by: str | None = None,
    replacing: Order | None = None,
    rehearsal: bool = False,
) -> Placed | list[FieldProblem]:
    """The one intake path: validate, assess risk, store, announce. Problems are returned, not
    stored, so the caller decides (a channel order is kept as REJECTED, an HTTP call is refused).
    A rehearsal (ADR 0360) is only ever new: the API made up its channel order id."""
    problems = domain.check_order(order, cod_limit_paise=step.settings.cod_limit_paise)
    if problems:
        return problems
    phone = domain.normalise_phone(order.customer.phone)
    assert phone is not None
    customer = order.customer.model_copy(update={"phone": phone})
    facts = await store.risk_facts(step.conn, phone=phone, pincode=order.shipping_address.pincode)
    risk = domain.risk_reasons(
        method=order.payment.method,
        total_paise=order.total_paise,
        pincode=order.shipping_address.pincode,
        facts=facts,
        rules=step.settings.risk_rules(),
    )
    expires = None
    if order.payment.method is not PaymentMethod.COD and order.payment.status is PaymentStatus.PENDING:
        expires = datetime.now(UTC) + timedelta(minutes=step.settings.payment_expiry_minutes)
    details: dict[str, Any] = {
        "order": order,
        "customer": customer,
        "risk_reasons": risk,
        "payment_expires_at": expires,
    }
    if replacing is None:
        order_id = domain.new_order_id()
        reason = f"received from {order.channel}" + (f", entered by {entered_by}" if entered_by else "")
        if rehearsal:
            reason = f"rehearsal {reason}"
        if not await store.insert_placed(
            step.conn,
            order_id=order_id,
            entered_by=entered_by,
            rehearsal=rehearsal,
            noted=entry(step, None, S.PLACED, reason),
            **details,
        ):
            # Known already. A channel that re-sends an order we refused is correcting it: the
            # refused order is replaced. Anything else is a duplicate.
            known = await store.lock_order_by_channel(step.conn, order.channel.value, order.channel_order_id)
            if known is None or known.status is not S.REJECTED:
                return Placed(order_id=known.order_id if known else "", created=False)
            replacing = known
    previous: OrderStatus | None = None
    if replacing is not None:
        order_id = replacing.order_id
        await store.replace_rejected(step.conn, order_id=order_id, entered_by=entered_by, **details)
        previous = S.REJECTED
        reason = f"corrected and submitted again by {entered_by or order.channel}"
        await store.record_status(step.conn, order_id, entry(step, previous, S.PLACED, reason))
    order_ids = {
        "order_id": order_id,
        "channel": order.channel,
        "channel_order_id": order.channel_order_id,
        "rehearsal": rehearsal and replacing is None,
    }
    await step.emit(
        OrderPlaced(
            **order_ids,
            placed_at=order.placed_at,
            customer=customer,
            shipping_address=order.shipping_address,
            lines=order.lines,
            shipping_fee_paise=order.shipping_fee_paise,
            discount_paise=order.discount_paise,
            total_paise=order.total_paise,
            payment=order.payment,
            delivery_speed=order.delivery_speed,
            shipped_by_marketplace=order.shipped_by_marketplace,
        )
    )
    await step.emit(
        OrderStatusChanged(
            **order_ids,
            from_status=previous,
            to_status=S.PLACED,
            reason=reason,
            customer=customer,
            actor=step.actor,
        )
    )
    await payments.apply_early(
        step,
        order_id=order_id,
        channel_order_id=order.channel_order_id,
        payment_id=order.payment.gateway_payment_id,
    )
    return Placed(order_id=order_id, created=True)


async def reject(
    step: Step, *, channel: str, channel_order_id: str, received: Any, problems: list[FieldProblem]
) -> str | None:
    """Keep a refused channel order visible with every reason, and announce it when identifiable.
    None if this channel order is already known."""
    order_id = domain.new_order_id()
    problems = domain.dedupe_problems(problems)
    reason = "; ".join(f"{p.field}: {p.problem}" for p in problems)
    if not await store.insert_rejected(
        step.conn,
        order_id=order_id,
        channel=channel,
        channel_order_id=channel_order_id,
        received=received,
        problems=problems,
        noted=entry(step, None, S.REJECTED, reason),
    ):
        return None
    if channel in Channel._value2member_map_:
        order_ids = {"order_id": order_id, "channel": Channel(channel), "channel_order_id": channel_order_id}
        await step.emit(OrderRejected(**order_ids, problems=problems))
        await step.emit(
            OrderStatusChanged(
                **order_ids, from_status=None, to_status=S.REJECTED, reason=reason, actor=step.actor
            )
        )
    return order_id
