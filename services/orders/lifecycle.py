"""Load, decide, save, announce: every change to an order, shared by handlers, HTTP and sweeps.

A `Step` is one transaction's worth of work with what caused it (an event, an operator, a webhook,
a sweep). The order row is locked before a decision, so concurrent causes for one order serialize;
every status change goes through the machine in `domain` and lands on the timeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
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
from services.orders.domain.priority import PriorityFacts, Weights, scored, weights_from
from services.orders.priorities import weights_of
from services.orders.records import NewEntry, Order, OrderChanges, applied
from services.orders.settings import OrdersSettings

S = OrderStatus
SERVICE = "orders"
CUTOFFS = "orders.cutoffs"
WEIGHTS = "orders.priority_weights"
"""Keys of what a step reads once per transaction (`Step.shared`), not once per order."""


@dataclass(frozen=True, slots=True)
class Step:
    """One transaction changing orders: its connection, how it emits, and who or what caused it."""

    conn: Conn
    emit: Callable[[Event], Awaitable[str]]
    settings: OrdersSettings
    cause: str
    cause_event_id: str | None = None
    actor: str = "system"
    shared: dict[str, Any] = field(default_factory=dict)
    """What the transaction already read and every order in it may reuse (warehouse cut-offs,
    priority weights): a change committed elsewhere is seen by the next transaction."""

    @classmethod
    def of_event(cls, ctx: HandlerContext, settings: OrdersSettings) -> Step:
        """A step applying a consumed event (emits join the consumer's transaction, and so do its
        reads of settings-like tables: once per consumer batch)."""
        return cls(ctx.conn, ctx.emit, settings, ctx.incoming.record.topic, ctx.event_id, shared=ctx.shared)

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


async def cutoffs(step: Step) -> dict[str, time]:
    """Every warehouse's cut-off, read once per transaction (see `forget_cutoffs`)."""
    if CUTOFFS not in step.shared:
        step.shared[CUTOFFS] = await store.cutoffs(step.conn)
    known: dict[str, time] = step.shared[CUTOFFS]
    return known


def forget_cutoffs(shared: dict[str, Any]) -> None:
    """A cut-off changed in this transaction: the next order reads them again."""
    shared.pop(CUTOFFS, None)


async def priority_weights(step: Step) -> Weights:
    """The operator's stored weights, or the settings' when none are stored; once per transaction."""
    if WEIGHTS not in step.shared:
        stored = await store.priority_weights(step.conn)
        step.shared[WEIGHTS] = (
            weights_of(stored) if stored is not None else weights_from(step.settings.priority_rules())
        )
    weights: Weights = step.shared[WEIGHTS]
    return weights


# status changes --------------------------------------------------------------------------------


def entry(step: Step, from_status: OrderStatus | None, to_status: OrderStatus, reason: str) -> NewEntry:
    """The timeline entry of this step: what it moved (or noted), why, and what caused it."""
    return NewEntry(from_status, to_status, reason, step.cause, step.cause_event_id, step.actor)


async def note(step: Step, row: Order, reason: str) -> None:
    """Something worth knowing on the order's timeline, without a status change."""
    await store.add_timeline(step.conn, row.order_id, entry(step, row.status, row.status, reason))


def implied(
    current: OrderStatus, to_status: OrderStatus, *, held_for: str | None, now: datetime, cod_hours: float
) -> OrderChanges:
    """What a status change sets on the row besides the status: why it is held (cleared once it
    is not), and when a COD reply is due (cleared once it is not awaited)."""
    changes: OrderChanges = {"status": to_status}
    if current is S.ON_HOLD or to_status is S.ON_HOLD:
        changes["held_for"] = held_for if to_status is S.ON_HOLD else None
    if current is S.PENDING_COD_CONFIRMATION:
        changes["cod_confirm_by"] = None
    if to_status is S.PENDING_COD_CONFIRMATION:
        changes["cod_confirm_by"] = now + timedelta(hours=cod_hours)
    return changes


async def move(
    step: Step,
    row: Order,
    to_status: OrderStatus,
    reason: str,
    *,
    cancel_code: CancelReason = CancelReason.OTHER,
    held_for: str | None = None,
    also: OrderChanges | None = None,
) -> bool:
    """Move a locked order along the machine; record, announce, and do what the new status implies
    (confirmed → shipping starts, cancelled → stock and shipment released, COD → reply deadline).
    `also`: the step's other changes to the row, written in the same UPDATE as the status, or alone
    when the machine does not allow the move: then False, and nothing else is written."""
    current = row.status
    if not domain.can_transition(current, to_status):
        await store.update_order(step.conn, row.order_id, also or {})
        return False
    changes = implied(
        current,
        to_status,
        held_for=held_for,
        now=datetime.now(UTC),
        cod_hours=step.settings.cod_confirmation_hours,
    )
    changes.update(also or {})
    confirmed = None
    if to_status is S.CONFIRMED:
        priority, confirmed = await _confirmation(step, applied(row, changes))
        changes.update(priority)
    await store.update_order(step.conn, row.order_id, changes, noted=entry(step, current, to_status, reason))
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
    if confirmed is not None:
        await step.emit(confirmed)
    if to_status is S.CANCELLED:
        await step.emit(OrderCancelled(**ids(row), reason_code=cancel_code, note=reason))
    return True


async def _confirmation(step: Step, row: Order) -> tuple[OrderChanges, OrderConfirmed]:
    """What confirming an order decides, the dispatch-by and priority it keeps, and
    orders.confirmed.v1 with the reservation and that priority."""
    payment = payment_of(row)
    rules = step.settings.priority_rules()
    speed = row.delivery_speed
    # a confirmed order went through intake: everything below was validated and stored then
    assert row.placed_at and speed and row.total_paise is not None and row.customer and row.shipping_address
    codes = sorted({a.warehouse_code for a in row.allocations})
    dispatch_by = domain.order_dispatch_by(
        row.placed_at, speed, rules, warehouses=codes, cutoffs=await cutoffs(step)
    )
    facts = PriorityFacts(
        speed=speed,
        prepaid=payment.method is not PaymentMethod.COD,
        total_paise=row.total_paise,
        channel=row.channel,
        pincode=row.shipping_address.pincode,
    )
    rank, reasons = scored(facts, await priority_weights(step))
    priority: OrderChanges = {
        "promised_dispatch_by": dispatch_by,
        "priority": rank,
        "priority_reasons": reasons,
    }
    return priority, OrderConfirmed(
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
