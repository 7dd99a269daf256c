"""Load, decide, save, announce: every change to an order, shared by handlers, HTTP and sweeps.

A `Step` is one transaction's worth of work with what caused it (an event, an operator, a webhook,
a sweep). The order row is locked before a decision, so concurrent causes for one order serialize;
every status change goes through the machine in `domain` and lands on the timeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chassis import outbox
from chassis.auth import Principal
from chassis.consumer import HandlerContext
from chassis.db import Conn
from chassis.refusal import Refusal
from contracts import (
    CancelReason,
    Channel,
    Event,
    OrderCancelled,
    OrderConfirmed,
    OrderStatus,
    OrderStatusChanged,
    Payment,
    PaymentMethod,
)
from services.orders import domain, store
from services.orders.domain.priority import PriorityFacts, scored, weights_from
from services.orders.priorities import weights_of
from services.orders.records import Order
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
        return cls.direct(conn, settings, cause=cause, actor=principal.actor)


# reading an order -------------------------------------------------------------------------------


def ids(row: Order) -> dict[str, Any]:
    """The identifiers every orders.* event carries, and whether it is a rehearsal (ADR 0360)."""
    return {
        "order_id": row.order_id,
        "channel": Channel(row.channel),
        "channel_order_id": row.channel_order_id,
        "rehearsal": row.rehearsal,
    }


def payment_of(row: Order) -> Payment:
    """The payment of an order past intake: only a REJECTED order has none, and it is never paid."""
    assert row.payment is not None, f"order {row.order_id} has no payment"
    return row.payment


async def locked(step: Step, order_id: str) -> Order:
    """The order, locked for this step; Refusal(404) if there is none."""
    row = await store.lock_order(step.conn, order_id)
    if row is None:
        raise Refusal("order_id", f"no order {order_id}", status=404)
    return row


async def reload(step: Step, row: Order) -> Order:
    """The order again after an update in this step (the lock is already held)."""
    return await locked(step, row.order_id)


# status changes --------------------------------------------------------------------------------


async def note(step: Step, row: Order, reason: str) -> None:
    """Something worth knowing on the order's timeline, without a status change."""
    status = row.status
    await store.record_status(
        step.conn,
        order_id=row.order_id,
        from_status=status,
        to_status=status,
        reason=reason,
        cause=step.cause,
        cause_event_id=step.cause_event_id,
        actor=step.actor,
    )


async def move(
    step: Step,
    row: Order,
    to_status: OrderStatus,
    reason: str,
    *,
    cancel_code: CancelReason = CancelReason.OTHER,
    held_for: str | None = None,
) -> bool:
    """Move a locked order along the machine; record, announce, and do what the new status implies
    (confirmed → shipping starts, cancelled → stock and shipment released, COD → reply deadline).
    False (and nothing written) if the machine does not allow it."""
    current = row.status
    if not domain.can_transition(current, to_status):
        return False
    await store.record_status(
        step.conn,
        order_id=row.order_id,
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
            customer=row.customer,
            actor=step.actor,
        )
    )
    if current is S.ON_HOLD or to_status is S.ON_HOLD:
        await store.set_held_for(step.conn, row.order_id, held_for if to_status is S.ON_HOLD else None)
    if current is S.PENDING_COD_CONFIRMATION:
        await store.set_cod_deadline(step.conn, row.order_id, None)
    if to_status is S.PENDING_COD_CONFIRMATION:
        deadline = datetime.now(UTC) + timedelta(hours=step.settings.cod_confirmation_hours)
        await store.set_cod_deadline(step.conn, row.order_id, deadline)
    if to_status is S.CONFIRMED:
        await _announce_confirmed(step, await reload(step, row))
    if to_status is S.CANCELLED:
        await step.emit(OrderCancelled(**ids(row), reason_code=cancel_code, note=reason))
    return True


async def _announce_confirmed(step: Step, row: Order) -> None:
    """orders.confirmed.v1 with the reservation and the fulfilment priority."""
    payment = payment_of(row)
    rules = step.settings.priority_rules()
    speed = row.delivery_speed
    # a confirmed order went through intake: everything below was validated and stored then
    assert row.placed_at and speed and row.total_paise is not None and row.customer and row.shipping_address
    codes = sorted({a.warehouse_code for a in row.allocations})
    dispatch_by = domain.order_dispatch_by(
        row.placed_at, speed, rules, warehouses=codes, cutoffs=await store.cutoffs(step.conn, codes)
    )
    stored = await store.priority_weights(step.conn)
    weights = weights_of(stored) if stored is not None else weights_from(rules)
    facts = PriorityFacts(
        speed=speed,
        prepaid=payment.method is not PaymentMethod.COD,
        total_paise=row.total_paise,
        channel=row.channel,
        pincode=row.shipping_address.pincode,
    )
    rank, reasons = scored(facts, weights)
    await store.set_priority(
        step.conn, order_id=row.order_id, dispatch_by=dispatch_by, priority=rank, reasons=reasons
    )
    await step.emit(
        OrderConfirmed(
            **ids(row),
            customer=row.customer,
            shipping_address=row.shipping_address,
            lines=list(row.lines),
            payment=payment,
            total_paise=row.total_paise,
            delivery_speed=speed,
            reservation_id=row.reservation_id,
            allocations=list(row.allocations),
            promised_dispatch_by=dispatch_by,
            priority=rank,
            shipped_by_marketplace=row.shipped_by_marketplace,
            priority_reasons=list(reasons),
        )
    )
