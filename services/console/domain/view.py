"""The console's read model of one order, folded purely from the events that mention it.

`apply(view, event)` is the only place an event changes a view; the live consumer and the rebuild
from offset 0 both call it. Events of different topics arrive in any order, so every rule here gives
the same view whatever the interleaving of topics (ADR 81); within a topic the key keeps them in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from contracts import (
    Event,
    InventoryReservationFailed,
    InventoryReserved,
    NotificationFailed,
    NotificationSent,
    OrderCancelled,
    OrderConfirmed,
    OrderContactCorrected,
    OrderPlaced,
    OrderRejected,
    OrderStatusChanged,
    PaymentUpdated,
    ReturnRefunded,
    ReturnRequested,
    ReturnStatus,
    ReturnUpdated,
    ShipmentCreated,
    ShipmentStatus,
    ShipmentUpdated,
)

# Events the console folds into its read model; its consumer subscribes to exactly these topics.
FOLDED: tuple[type[Event], ...] = (
    OrderPlaced,
    OrderRejected,
    OrderStatusChanged,
    OrderConfirmed,
    OrderCancelled,
    OrderContactCorrected,
    PaymentUpdated,
    InventoryReserved,
    InventoryReservationFailed,
    ShipmentCreated,
    ShipmentUpdated,
    ReturnRequested,
    ReturnUpdated,
    ReturnRefunded,
    NotificationSent,
    NotificationFailed,
)

# Shipment status → the order milestone it marks (the first time any parcel reaches it).
_SHIPMENT_MILESTONES = {
    ShipmentStatus.PACKED: "packed",
    ShipmentStatus.PICKED_UP: "picked_up",
    ShipmentStatus.OUT_FOR_DELIVERY: "first_attempt",
    ShipmentStatus.NDR: "first_attempt",
    ShipmentStatus.DELIVERED: "delivered",
    ShipmentStatus.RTO_INITIATED: "rto",
}
_STATUS_MILESTONES = {"CONFIRMED": "confirmed", "CANCELLED": "cancelled", "RTO_INITIATED": "rto"}
MILESTONES = (
    "placed",
    "confirmed",
    "packed",
    "picked_up",
    "first_attempt",
    "delivered",
    "rto",
    "cancelled",
    "return_requested",
    "refunded",
)


@dataclass(frozen=True)
class ShipmentView:
    """One parcel of the order as the console shows it."""

    shipment_id: str
    warehouse_code: str
    courier: str
    awb: str | None = None
    status: str = ShipmentStatus.CREATED.value
    lines: tuple[tuple[str, int], ...] = ()
    ndr_attempts: tuple[int, ...] = ()
    ndr_reason: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class ReturnView:
    """One return (RMA) of the order."""

    return_id: str
    status: str
    lines: tuple[tuple[str, int, str], ...] = ()
    kind: str = "return"
    # returns alerted that the refund is past its SLA / the refund went out (sticky facts, so the
    # return's events and its refund's, on two topics, fold in any order)
    sla_breached: bool = False
    refunded: bool = False
    # When it was asked for, reached the desk, was QC'd and refunded: the earliest time each was
    # said (event times, so the three topics fold alike in any order). The refund is due a number
    # of days after QC (the returns desk, ADR 211).
    requested_at: datetime | None = None
    received_at: datetime | None = None
    qc_at: datetime | None = None
    refunded_at: datetime | None = None
    # Why the gateway last refused the refund (returns' `refund_failed` alert): the desk offers a retry
    refund_failure: str | None = None

    @property
    def refund_overdue(self) -> bool:
        return self.sla_breached and not self.refunded


@dataclass(frozen=True)
class OrderView:
    """One row of the console's queue: everything an operator scans the queue for."""

    order_id: str
    first_seen_at: datetime
    updated_at: datetime
    channel: str | None = None
    channel_order_id: str | None = None
    customer_name: str | None = None
    phone: str | None = None
    email: str | None = None
    city: str | None = None
    state: str | None = None
    pincode: str | None = None
    lines: tuple[tuple[str, int, int], ...] = ()
    total_paise: int | None = None
    payment_method: str | None = None
    payment_status: str | None = None
    status: str | None = None
    status_reason: str | None = None
    problems: tuple[tuple[str, str], ...] = ()
    placed_at: datetime | None = None
    shipments: tuple[ShipmentView, ...] = ()
    returns: tuple[ReturnView, ...] = ()
    refunds: tuple[tuple[str, int], ...] = ()
    messages_sent: int = 0
    messages_failed: int = 0
    contact_corrected: bool = False
    milestones: dict[str, datetime] = field(default_factory=dict)
    # When orders promised the order would leave the warehouse (orders.confirmed.v1)
    promised_dispatch_by: datetime | None = None
    # The latest final reservation failure (routing gave up) and the latest reservation: the order
    # is unroutable while the failure is the newer (event times: the topics fold in any order).
    unroutable_at: datetime | None = None
    reserved_at: datetime | None = None
    # An operator's rehearsal (any orders.* event says so; sticky): never in analytics (ADR 0360)
    rehearsal: bool = False

    @property
    def unroutable(self) -> bool:
        """Routing found no stock to fulfil it and nothing was reserved since."""
        if self.unroutable_at is None or self.status in ("CANCELLED", "REJECTED"):
            return False
        return self.reserved_at is None or self.reserved_at < self.unroutable_at

    @property
    def unbooked(self) -> bool:
        """A parcel no courier took (shipping books a parcel before announcing it, or says CREATED)."""
        return self.status != "CANCELLED" and any(
            s.status == ShipmentStatus.CREATED.value for s in self.shipments
        )

    @property
    def refund_overdue(self) -> bool:
        return any(r.refund_overdue for r in self.returns)

    @property
    def sort_at(self) -> datetime:
        """Where the order sits in the queue: when it was placed, or first heard of."""
        return self.placed_at or self.first_seen_at

    @property
    def ndr_count(self) -> int:
        """Failed delivery attempts across the order's parcels."""
        return sum(len(s.ndr_attempts) for s in self.shipments)

    @property
    def refunded_paise(self) -> int:
        return sum(amount for _, amount in self.refunds)

    @property
    def shipment_status(self) -> str | None:
        """The parcels' statuses in one word (the latest parcel's when they differ)."""
        statuses = sorted({s.status for s in self.shipments})
        return "/".join(statuses) if statuses else None


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an order's merged timeline."""

    event_id: str
    order_id: str
    at: datetime
    kind: str
    text: str
    actor: str | None = None


def event_time(event: Event) -> datetime:
    """When the event says it happened."""
    for name in ("changed_at", "occurred_at", "corrected_at", "replied_at"):
        value = getattr(event, name, None)
        if isinstance(value, datetime):
            return value
    raise ValueError(f"{type(event).__name__} carries no time")


def _earliest(milestones: dict[str, datetime], name: str, at: datetime) -> dict[str, datetime]:
    if name in milestones and milestones[name] <= at:
        return milestones
    return {**milestones, name: at}


def _first(known: datetime | None, at: datetime) -> datetime:
    return at if known is None or at < known else known


def _latest(known: datetime | None, at: datetime) -> datetime:
    return at if known is None or known < at else known


def _upsert(items: tuple[Any, ...], key: str, value: Any, new: Any) -> tuple[Any, ...]:
    kept = tuple(i for i in items if getattr(i, key) != value)
    return tuple(sorted((*kept, new), key=lambda i: getattr(i, key)))


def _find(items: tuple[Any, ...], key: str, value: Any) -> Any:
    return next((i for i in items if getattr(i, key) == value), None)


def apply(view: OrderView | None, event: Event) -> OrderView:
    """The order's view after one more event (the first event of an order creates it)."""
    order_id = getattr(event, "order_id", None)
    if not order_id:
        raise ValueError(f"{type(event).__name__} without order_id is not about an order")
    at = event_time(event)
    if view is None:
        view = OrderView(order_id=order_id, first_seen_at=at, updated_at=at)
    view = replace(view, first_seen_at=min(view.first_seen_at, at), updated_at=max(view.updated_at, at))
    if channel := getattr(event, "channel_order_id", None):
        view = replace(view, channel=getattr(event, "channel"), channel_order_id=channel)  # noqa: B009
    if getattr(event, "rehearsal", False):
        view = replace(view, rehearsal=True)
    match event:
        case OrderPlaced():
            return _placed(view, event)
        case OrderRejected():
            return replace(
                view,
                status=view.status or "REJECTED",
                problems=tuple((p.field, p.problem) for p in event.problems),
            )
        case OrderStatusChanged():
            view = replace(view, status=event.to_status.value, status_reason=event.reason)
            if event.customer is not None and view.customer_name is None:
                view = replace(view, customer_name=event.customer.name, phone=event.customer.phone)
            if name := _STATUS_MILESTONES.get(event.to_status.value):
                view = replace(view, milestones=_earliest(view.milestones, name, at))
            return view
        case OrderConfirmed():
            promised = [t for t in (view.promised_dispatch_by, event.promised_dispatch_by) if t is not None]
            return replace(
                view,
                promised_dispatch_by=min(promised) if promised else None,
                milestones=_earliest(view.milestones, "confirmed", at),
            )
        case OrderCancelled():
            return replace(view, milestones=_earliest(view.milestones, "cancelled", at))
        case OrderContactCorrected():
            return _contact(view, event)
        case PaymentUpdated():
            return replace(view, payment_method=event.method.value, payment_status=event.status.value)
        case InventoryReservationFailed():
            if not event.final:  # routing re-plans; only its last word makes the order unroutable
                return view
            return replace(view, unroutable_at=_latest(view.unroutable_at, event.occurred_at))
        case InventoryReserved():
            return replace(view, reserved_at=_latest(view.reserved_at, event.occurred_at))
        case ShipmentCreated():
            return _shipment_created(view, event) if event.return_id is None else view
        case ShipmentUpdated():
            return _shipment_updated(view, event) if event.return_id is None else view
        case ReturnRequested():
            lines = tuple((line.sku, line.quantity, line.reason.value) for line in event.lines)
            known = _find(view.returns, "return_id", event.return_id)
            ret = (
                replace(known, lines=lines, status=known.status or event.status.value)
                if known
                else ReturnView(event.return_id, event.status.value, lines)
            )
            ret = replace(ret, requested_at=_first(ret.requested_at, at))
            view = replace(view, returns=_upsert(view.returns, "return_id", event.return_id, ret))
            return replace(view, milestones=_earliest(view.milestones, "return_requested", at))
        case ReturnUpdated():
            known = _find(view.returns, "return_id", event.return_id)
            lines = (
                known.lines
                if known and known.lines
                else tuple((line.sku, line.quantity, line.reason.value) for line in event.lines)
            )
            ret = replace(
                known or ReturnView(event.return_id, event.status.value),
                status=event.status.value,
                lines=lines,
                kind=event.kind or "return",
                sla_breached=(known is not None and known.sla_breached)
                or event.alert == "refund_sla_breached",
            )
            if event.alert == "refund_failed":
                ret = replace(ret, refund_failure=event.note or "the gateway refused the refund")
            if event.status is ReturnStatus.RECEIVED:
                ret = replace(ret, received_at=_first(ret.received_at, at))
            if event.status in (ReturnStatus.QC_PASSED, ReturnStatus.QC_FAILED):
                ret = replace(ret, qc_at=_first(ret.qc_at, at))
            return replace(view, returns=_upsert(view.returns, "return_id", event.return_id, ret))
        case ReturnRefunded():
            refunds = tuple(sorted({*view.refunds, (event.refund_id, event.amount_paise)}))
            known = _find(view.returns, "return_id", event.return_id)
            ret = (
                replace(known, refunded=True)
                if known
                else ReturnView(event.return_id, "", refunded=True)  # its status comes on its own topic
            )
            ret = replace(ret, refunded_at=_first(ret.refunded_at, at))
            return replace(
                view,
                refunds=refunds,
                returns=_upsert(view.returns, "return_id", event.return_id, ret),
                milestones=_earliest(view.milestones, "refunded", at),
            )
        case NotificationSent():
            return replace(view, messages_sent=view.messages_sent + 1)
        case NotificationFailed():
            return replace(view, messages_failed=view.messages_failed + 1)
    return view


def _placed(view: OrderView, event: OrderPlaced) -> OrderView:
    if not view.contact_corrected:  # a correction (another topic) may have come first
        address = event.shipping_address
        view = replace(
            view,
            customer_name=event.customer.name,
            phone=event.customer.phone,
            email=event.customer.email,
            city=address.city,
            state=address.state,
            pincode=address.pincode,
        )
    return replace(
        view,
        lines=tuple((line.sku, line.quantity, line.unit_price_paise) for line in event.lines),
        total_paise=event.total_paise,
        payment_method=view.payment_method or event.payment.method.value,
        payment_status=view.payment_status or event.payment.status.value,
        status=view.status or event.status.value,
        placed_at=event.placed_at,
        milestones=_earliest(view.milestones, "placed", event.placed_at),
    )


def _contact(view: OrderView, event: OrderContactCorrected) -> OrderView:
    address = event.shipping_address
    return replace(
        view,
        customer_name=event.customer.name,
        phone=event.customer.phone,
        email=event.customer.email,
        city=address.city,
        state=address.state,
        pincode=address.pincode,
        contact_corrected=True,
    )


def _shipment_created(view: OrderView, event: ShipmentCreated) -> OrderView:
    known = _find(view.shipments, "shipment_id", event.shipment_id)
    parcel = ShipmentView(
        shipment_id=event.shipment_id,
        warehouse_code=event.warehouse_code,
        # An update may have come first (another topic): the courier it was booked with since, its
        # AWB and its status are later than the creation's, which never overrides them.
        courier=(known.courier if known else None) or event.courier,
        awb=(known.awb if known else None) or event.awb,
        status=known.status if known else event.status.value,
        lines=tuple(sorted((line.sku, line.quantity) for line in event.lines)),
        ndr_attempts=known.ndr_attempts if known else (),
        ndr_reason=known.ndr_reason if known else None,
        location=known.location if known else None,
    )
    return replace(view, shipments=_upsert(view.shipments, "shipment_id", event.shipment_id, parcel))


def _shipment_updated(view: OrderView, event: ShipmentUpdated) -> OrderView:
    known = _find(view.shipments, "shipment_id", event.shipment_id)
    attempts = known.ndr_attempts if known else ()
    if event.status is ShipmentStatus.NDR:
        attempts = tuple(sorted({*attempts, event.attempt or len(attempts) + 1}))
    parcel = ShipmentView(
        shipment_id=event.shipment_id,
        warehouse_code=event.warehouse_code,
        courier=event.courier,
        awb=event.awb or (known.awb if known else None),
        status=event.status.value,
        lines=known.lines if known else (),
        ndr_attempts=attempts,
        ndr_reason=event.ndr_reason.value if event.ndr_reason else (known.ndr_reason if known else None),
        location=event.location or (known.location if known else None),
    )
    view = replace(view, shipments=_upsert(view.shipments, "shipment_id", event.shipment_id, parcel))
    if name := _SHIPMENT_MILESTONES.get(event.status):
        view = replace(view, milestones=_earliest(view.milestones, name, event.occurred_at))
    return view


def timeline_entry(event: Event, event_id: str) -> TimelineEntry | None:
    """The line an event adds to its order's timeline (None for events not about one order)."""
    order_id = getattr(event, "order_id", None)
    if not order_id:
        return None
    at = event_time(event)

    def entry(kind: str, text: str, actor: str | None = None) -> TimelineEntry:
        return TimelineEntry(event_id, order_id, at, kind, text, actor)

    match event:
        case OrderPlaced():
            return entry("order", f"placed on {event.channel.value} as {event.channel_order_id}")
        case OrderRejected():
            return entry("order", "rejected: " + "; ".join(f"{p.field}: {p.problem}" for p in event.problems))
        case OrderStatusChanged():
            was = event.from_status.value if event.from_status else "new"
            return entry("status", f"{was} → {event.to_status.value}: {event.reason}", event.actor)
        case OrderCancelled():
            return entry(
                "order", f"cancelled ({event.reason_code.value})" + (f": {event.note}" if event.note else "")
            )
        case OrderContactCorrected():
            return entry("order", "contact corrected", event.corrected_by)
        case PaymentUpdated():
            return entry(
                "payment",
                f"payment {event.status.value} ({event.method.value}, ₹{event.amount_paise / 100:,.2f})",
            )
        case InventoryReserved():
            held = ", ".join(f"{a.quantity}× {a.sku} at {a.warehouse_code}" for a in event.allocations)
            return entry("stock", f"reserved {event.reservation_id}: {held}")
        case InventoryReservationFailed():
            what = "no stock to fulfil" if event.final else f"attempt {event.attempt} failed"
            return entry("stock", f"{what}: {event.reason}")
        case ShipmentCreated():
            what = "return pickup" if event.return_id else "shipment"
            return entry(
                "shipment",
                f"{what} {event.shipment_id} from {event.warehouse_code} by {event.courier}, "
                f"AWB {event.awb or '—'}",
            )
        case ShipmentUpdated():
            text = f"{event.shipment_id} {event.status.value}"
            if event.ndr_reason:
                text += f" ({event.ndr_reason.value}, attempt {event.attempt or '?'})"
            if event.location:
                text += f" at {event.location}"
            return entry("shipment", text)
        case ReturnRequested():
            lines = ", ".join(f"{line.quantity}× {line.sku} ({line.reason.value})" for line in event.lines)
            return entry("return", f"return {event.return_id} requested: {lines}")
        case ReturnUpdated():
            return entry(
                "return",
                f"return {event.return_id} {event.status.value}" + (f": {event.note}" if event.note else ""),
            )
        case ReturnRefunded():
            return entry("refund", f"refunded ₹{event.amount_paise / 100:,.2f} ({event.refund_id})")
        case NotificationSent():
            return entry("message", f"{event.channel.value} {event.template} sent to {event.recipient}")
        case NotificationFailed():
            return entry("message", f"{event.channel.value} {event.template} failed: {event.error}")
    return None
