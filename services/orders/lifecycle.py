"""Load, decide, save, announce: every change to an order, shared by handlers, HTTP and sweeps.

A `Step` is one transaction's worth of work with what caused it (an event, an operator, a webhook,
a sweep). The order row is locked before a decision, so concurrent causes for one order serialize;
every status change goes through the machine in `domain` and lands on the timeline.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from chassis import outbox
from chassis.auth import Principal
from chassis.consumer import HandlerContext
from chassis.db import Conn
from contracts import (
    CancelReason,
    Channel,
    ChannelOrder,
    Customer,
    Event,
    FieldProblem,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderRejected,
    OrderStatus,
    OrderStatusChanged,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from contracts.values import Address, Allocation, OrderLine
from services.orders import domain, store
from services.orders.settings import OrdersSettings

S = OrderStatus
SERVICE = "orders"


@dataclass(frozen=True, slots=True)
class Step:
    """One transaction changing orders: its connection, how it emits, and who or what caused it."""

    conn: Conn
    emit: Callable[[Event], Awaitable[str]]
    settings: OrdersSettings
    cause: str
    cause_event_id: str | None = None
    actor: str = "system"

    @classmethod
    def of_event(cls, ctx: HandlerContext, settings: OrdersSettings) -> Step:
        """A step applying a consumed event (emits join the consumer's transaction)."""
        return cls(ctx.conn, ctx.emit, settings, ctx.incoming.record.topic, ctx.event_id)

    @classmethod
    def direct(cls, conn: Conn, settings: OrdersSettings, *, cause: str, actor: str = "system") -> Step:
        """A step of an HTTP call or a sweep, writing its events to the outbox on `conn`."""

        async def emit(event: Event) -> str:
            return await outbox.emit(conn, event, source=SERVICE)

        return cls(conn, emit, settings, cause, None, actor)

    @classmethod
    def by(cls, conn: Conn, settings: OrdersSettings, principal: Principal, cause: str) -> Step:
        """A step an operator took over HTTP."""
        return cls.direct(conn, settings, cause=cause, actor=f"{principal.role.value}:{principal.name}")


class Refusal(Exception):
    """An action the order's state does not allow; `field` names what the caller should look at."""

    def __init__(self, field: str, problem: str, *, status: int = 409) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem
        self.status = status


# reading a row ---------------------------------------------------------------------------------


def ids(row: Any) -> dict[str, Any]:
    """The identifiers every orders.* event carries."""
    return {
        "order_id": row["order_id"],
        "channel": Channel(row["channel"]),
        "channel_order_id": row["channel_order_id"],
    }


def payment_of(row: Any) -> Payment:
    return Payment.model_validate_json(row["payment"])


def customer_of(row: Any) -> Customer | None:
    return Customer.model_validate_json(row["customer"]) if row["customer"] else None


def risk_of(row: Any) -> list[str]:
    return list(json.loads(row["risk_reasons"] or "[]"))


async def locked(step: Step, order_id: str) -> asyncpg.Record:
    """The order, locked for this step; Refusal(404) if there is none."""
    row = await store.lock_order(step.conn, order_id)
    if row is None:
        raise Refusal("order_id", f"no order {order_id}", status=404)
    return row


async def reload(step: Step, row: Any) -> asyncpg.Record:
    """The row again after an update in this step (the lock is already held)."""
    return await locked(step, row["order_id"])


# status changes --------------------------------------------------------------------------------


async def note(step: Step, row: Any, reason: str) -> None:
    """Something worth knowing on the order's timeline, without a status change."""
    status = OrderStatus(row["status"])
    await store.record_status(
        step.conn,
        order_id=row["order_id"],
        from_status=status,
        to_status=status,
        reason=reason,
        cause=step.cause,
        cause_event_id=step.cause_event_id,
        actor=step.actor,
    )


async def move(
    step: Step,
    row: Any,
    to_status: OrderStatus,
    reason: str,
    *,
    cancel_code: CancelReason = CancelReason.OTHER,
    held_for: str | None = None,
) -> bool:
    """Move a locked order along the machine; record, announce, and do what the new status implies
    (confirmed → shipping starts, cancelled → stock and shipment released, COD → reply deadline).
    False (and nothing written) if the machine does not allow it."""
    current = OrderStatus(row["status"])
    if not domain.can_transition(current, to_status):
        return False
    await store.record_status(
        step.conn,
        order_id=row["order_id"],
        from_status=current,
        to_status=to_status,
        reason=reason,
        cause=step.cause,
        cause_event_id=step.cause_event_id,
        actor=step.actor,
    )
    await step.emit(
        OrderStatusChanged(
            **ids(row),
            from_status=current,
            to_status=to_status,
            reason=reason,
            customer=customer_of(row),
            actor=step.actor,
        )
    )
    if current is S.ON_HOLD or to_status is S.ON_HOLD:
        await store.set_held_for(step.conn, row["order_id"], held_for if to_status is S.ON_HOLD else None)
    if current is S.PENDING_COD_CONFIRMATION:
        await store.set_cod_deadline(step.conn, row["order_id"], None)
    if to_status is S.PENDING_COD_CONFIRMATION:
        deadline = datetime.now(UTC) + timedelta(hours=step.settings.cod_confirmation_hours)
        await store.set_cod_deadline(step.conn, row["order_id"], deadline)
    if to_status is S.CONFIRMED:
        await _announce_confirmed(step, await reload(step, row))
    if to_status is S.CANCELLED:
        await step.emit(OrderCancelled(**ids(row), reason_code=cancel_code, note=reason))
    return True


async def _announce_confirmed(step: Step, row: Any) -> None:
    """orders.confirmed.v1 with the reservation and the fulfilment priority."""
    payment = payment_of(row)
    rules = step.settings.priority_rules()
    speed = row["delivery_speed"]
    dispatch_by = domain.promised_dispatch_by(row["placed_at"], speed, rules)
    rank = domain.priority(
        speed=speed,
        prepaid=payment.method is not PaymentMethod.COD,
        total_paise=row["total_paise"],
        rules=rules,
    )
    await store.set_priority(step.conn, order_id=row["order_id"], dispatch_by=dispatch_by, priority=rank)
    await step.emit(
        OrderConfirmed(
            **ids(row),
            customer=Customer.model_validate_json(row["customer"]),
            shipping_address=Address.model_validate_json(row["shipping_address"]),
            lines=[OrderLine.model_validate(x) for x in json.loads(row["lines"])],
            payment=payment,
            total_paise=row["total_paise"],
            delivery_speed=speed,
            reservation_id=row["reservation_id"],
            allocations=[Allocation.model_validate(a) for a in json.loads(row["allocations"])],
            promised_dispatch_by=dispatch_by,
            priority=rank,
        )
    )


# intake ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placed:
    """The outcome of intake: the order id, and whether it was new (False: a duplicate)."""

    order_id: str
    created: bool


async def place(
    step: Step, order: ChannelOrder, *, entered_by: str | None = None, replacing: Any = None
) -> Placed | list[FieldProblem]:
    """The one intake path: validate, assess risk, store, announce. Problems are returned, not
    stored, so the caller decides (a channel order is kept as REJECTED, an HTTP call is refused)."""
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
    details = {"order": order, "customer": customer, "risk_reasons": risk, "payment_expires_at": expires}
    if replacing is None:
        # A channel that re-sends an order we refused is correcting it: the refused order is replaced.
        known = await store.lock_order_by_channel(step.conn, order.channel.value, order.channel_order_id)
        if known is not None and known["status"] == S.REJECTED:
            replacing = known
    if replacing is not None:
        order_id = replacing["order_id"]
        await store.replace_rejected(step.conn, order_id=order_id, entered_by=entered_by, **details)
        previous: OrderStatus | None = S.REJECTED
        reason = f"corrected and submitted again by {entered_by or order.channel}"
    else:
        order_id = domain.new_order_id()
        if not await store.insert_placed(step.conn, order_id=order_id, entered_by=entered_by, **details):
            existing = await store.order_id_of(step.conn, order.channel.value, order.channel_order_id)
            return Placed(order_id=existing or "", created=False)
        previous = None
        reason = f"received from {order.channel}" + (f", entered by {entered_by}" if entered_by else "")
    await store.record_status(
        step.conn,
        order_id=order_id,
        from_status=previous,
        to_status=S.PLACED,
        reason=reason,
        cause=step.cause,
        cause_event_id=step.cause_event_id,
        actor=step.actor,
    )
    order_ids = {"order_id": order_id, "channel": order.channel, "channel_order_id": order.channel_order_id}
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
    return Placed(order_id=order_id, created=True)


async def reject(
    step: Step, *, channel: str, channel_order_id: str, received: Any, problems: list[FieldProblem]
) -> str | None:
    """Keep a refused channel order visible with every reason, and announce it when identifiable.
    None if this channel order is already known."""
    order_id = domain.new_order_id()
    problems = domain.dedupe_problems(problems)
    if not await store.insert_rejected(
        step.conn,
        order_id=order_id,
        channel=channel,
        channel_order_id=channel_order_id,
        received=received,
        problems=problems,
    ):
        return None
    reason = "; ".join(f"{p.field}: {p.problem}" for p in problems)
    await store.record_status(
        step.conn,
        order_id=order_id,
        from_status=None,
        to_status=S.REJECTED,
        reason=reason,
        cause=step.cause,
        cause_event_id=step.cause_event_id,
        actor=step.actor,
    )
    if channel in Channel._value2member_map_:
        order_ids = {"order_id": order_id, "channel": Channel(channel), "channel_order_id": channel_order_id}
        await step.emit(OrderRejected(**order_ids, problems=problems))
        await step.emit(
            OrderStatusChanged(
                **order_ids, from_status=None, to_status=S.REJECTED, reason=reason, actor=step.actor
            )
        )
    return order_id


# stock -----------------------------------------------------------------------------------------


async def reserved(step: Step, row: Any, *, reservation_id: str, allocations: list[Allocation]) -> None:
    """Stock is held for the order: go on to payment, COD confirmation, review or confirmation."""
    status = OrderStatus(row["status"])
    if row["reservation_id"] is not None:
        return
    if status in (S.CANCELLED, S.REJECTED):
        # Cancelled while routing was still working: the stock reserved since must go back.
        await note(step, row, f"stock reserved ({reservation_id}) after cancellation; releasing it")
        await step.emit(
            OrderCancelled(**ids(row), reason_code=CancelReason.OTHER, note="reserved after cancel")
        )
        return
    await store.set_reservation(
        step.conn, order_id=row["order_id"], reservation_id=reservation_id, allocations=allocations
    )
    if status is not S.PLACED:
        await note(step, row, f"stock reserved ({reservation_id}); the order stays {status}")
        return
    row = await reload(step, row)
    payment = payment_of(row)
    target, reason = domain.status_after_reservation(payment.method, payment.status, risk_of(row))
    await move(step, row, target, reason, held_for="review" if target is S.ON_HOLD else None)


async def unroutable(step: Step, row: Any, reason: str) -> None:
    """Routing gave up: hold, backorder or cancel, by setting."""
    if row["reservation_id"] is not None or OrderStatus(row["status"]) in (S.CANCELLED, S.REJECTED):
        return
    # Remembered even for an order someone already holds: releasing it must ask routing again.
    await store.set_unroutable(step.conn, row["order_id"], True)
    if OrderStatus(row["status"]) is not S.PLACED:
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
    )


# operator actions ------------------------------------------------------------------------------


async def cancel(step: Step, row: Any, *, code: CancelReason, note_text: str | None) -> None:
    """Cancel before dispatch: inventory releases the stock, shipping cancels the shipment."""
    status = OrderStatus(row["status"])
    if status not in domain.BEFORE_DISPATCH:
        raise Refusal("status", f"a {status} order can no longer be cancelled (it has left the warehouse)")
    reason = f"cancelled ({code})" + (f": {note_text}" if note_text else "")
    await move(step, row, S.CANCELLED, reason, cancel_code=code)


async def hold(step: Step, row: Any, reason: str) -> None:
    """Stop an order before it reaches shipping, for a person to look at."""
    status = OrderStatus(row["status"])
    if not domain.can_transition(status, S.ON_HOLD):
        raise Refusal("status", f"a {status} order cannot be held (only before it is confirmed)")
    await move(step, row, S.ON_HOLD, f"held: {reason}", held_for="operator")


async def release(step: Step, row: Any) -> OrderStatus:
    """Let a held or backordered order go on to where it would be without the hold."""
    status = OrderStatus(row["status"])
    if status not in (S.ON_HOLD, S.BACKORDERED):
        raise Refusal("status", f"a {status} order is not held")
    if row["reservation_id"] is None:
        await move(step, row, S.PLACED, "released; waiting for stock")
        if row["unroutable"]:
            await store.set_unroutable(step.conn, row["order_id"], False)
            await _replan(step, await reload(step, row))
        return S.PLACED
    payment = payment_of(row)
    target, why = domain.next_after_hold(payment.method, payment.status)
    if not await move(step, row, target, f"released: {why}"):
        raise Refusal("status", f"a {status} order cannot go to {target}")
    return target


async def _replan(step: Step, row: Any) -> None:
    """Ask routing again for an order it could not place before (orders.placed.v1 once more)."""
    await step.emit(
        OrderPlaced(
            **ids(row),
            placed_at=row["placed_at"],
            customer=Customer.model_validate_json(row["customer"]),
            shipping_address=Address.model_validate_json(row["shipping_address"]),
            lines=[OrderLine.model_validate(x) for x in json.loads(row["lines"])],
            shipping_fee_paise=row["shipping_fee_paise"],
            discount_paise=row["discount_paise"],
            total_paise=row["total_paise"],
            payment=payment_of(row),
            delivery_speed=row["delivery_speed"],
        )
    )


async def correct_contact(step: Step, row: Any, *, phone: str | None, address: Address | None) -> None:
    """Correct the phone and/or address before shipping has them; both re-validated, risk re-assessed."""
    status = OrderStatus(row["status"])
    if status not in domain.CORRECTABLE:
        raise Refusal("status", f"a {status} order's address is with shipping already; it cannot change here")
    customer = Customer.model_validate_json(row["customer"])
    new_address = address or Address.model_validate_json(row["shipping_address"])
    problems = (domain.phone_problems(phone, field="phone") if phone else []) + (
        domain.address_problems(address, prefix="shipping_address") if address else []
    )
    if problems:
        raise Invalid(problems)
    if phone:
        customer = customer.model_copy(update={"phone": domain.normalise_phone(phone)})
    payment = payment_of(row)
    facts = await store.risk_facts(step.conn, phone=customer.phone, pincode=new_address.pincode)
    risk = domain.risk_reasons(
        method=payment.method,
        total_paise=row["total_paise"],
        pincode=new_address.pincode,
        facts=facts,
        rules=step.settings.risk_rules(),
    )
    await store.set_contact(
        step.conn, order_id=row["order_id"], customer=customer, address=new_address, risk_reasons=risk
    )
    changed = " and ".join(x for x, v in (("phone", phone), ("address", address)) if v)
    await note(step, row, f"{changed} corrected")
    if risk and status is not S.ON_HOLD and row["reservation_id"] is not None:
        await move(step, await reload(step, row), S.ON_HOLD, "review: " + "; ".join(risk), held_for="review")


class Invalid(Exception):
    """Input refused with every problem named."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.problem}" for p in problems))
        self.problems = problems


# sweeps ----------------------------------------------------------------------------------------


async def expire_payment(step: Step, row: Any) -> None:
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


async def cod_no_reply(step: Step, row: Any) -> None:
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
