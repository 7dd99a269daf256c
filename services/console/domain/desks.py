"""The desks' decisions: which NDR parcels a filter asks for, what an NDR answer tells shipping, which
returns wait at the warehouse desk and when their refund is due. Plain functions over plain data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from contracts import NdrReason
from services.console.domain.decisions import Search, parse_day, parse_search, return_actions
from services.console.domain.view import OrderView, ReturnView

Problems = list[tuple[str, str]]

# --- the NDR desk ---------------------------------------------------------------------------------

# Couriers' NDR reasons (normalised by shipping) grouped by what the operator does about them:
# bucket → (label, reasons). Every NdrReason is in exactly one bucket (a unit test holds this).
NDR_BUCKETS: dict[str, tuple[str, tuple[NdrReason, ...]]] = {
    "customer": (
        "Customer not reached",
        (NdrReason.CUSTOMER_UNAVAILABLE, NdrReason.PHONE_UNREACHABLE, NdrReason.FUTURE_DELIVERY_REQUESTED),
    ),
    "address": ("Address problem", (NdrReason.WRONG_OR_INCOMPLETE_ADDRESS, NdrReason.OUT_OF_DELIVERY_AREA)),
    "payment": ("Cash not ready (COD)", (NdrReason.CASH_NOT_READY,)),
    "refused": ("Refused", (NdrReason.REFUSED,)),
    "other": ("Other", (NdrReason.OTHER,)),
}
# What the desk's attempt filter offers: "3" means the third attempt or later.
NDR_ATTEMPTS = ("1", "2", "3")
PAYMENT_MODES = ("cod", "prepaid")
# NDR answers the desk sends to shipping (POST /shipments/{id}/ndr-actions): name → button label.
NDR_ACTIONS: dict[str, str] = {
    "reattempt": "Re-attempt delivery",
    "new_address": "Deliver to a new address",
    "rto": "Return to origin",
}
NDR_BULK_ACTIONS = ("reattempt", "rto")  # a new address is one parcel's, never a bulk answer
_PAISE = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
_PINCODE = re.compile(r"^[1-9]\d{5}$")
ADDRESS_FIELDS = ("line1", "line2", "landmark", "city", "state", "pincode")
_REQUIRED_ADDRESS = ("line1", "city", "state", "pincode")


def bucket_of(reason: str | None) -> str:
    """The desk's bucket of a courier's NDR reason (an unknown or missing reason is "other")."""
    for bucket, (_, reasons) in NDR_BUCKETS.items():
        if reason in reasons:
            return bucket
    return "other"


def bucket_counts(by_reason: Mapping[str | None, int]) -> dict[str, int]:
    """Parcels in NDR per desk bucket (every bucket, zero included), from parcels per courier reason."""
    counts = dict.fromkeys(NDR_BUCKETS, 0)
    for reason, parcels in by_reason.items():
        counts[bucket_of(reason)] += parcels
    return counts


@dataclass(frozen=True)
class NdrFilter:
    """What the NDR desk narrowed its parcels to (every field optional)."""

    courier: str | None = None
    bucket: str | None = None
    attempt: int | None = None  # the parcel's failed attempts; NDR_ATTEMPTS[-1] means that many or more
    payment: str | None = None  # cod | prepaid
    min_paise: int | None = None
    max_paise: int | None = None
    search: Search | None = None

    @property
    def reasons(self) -> list[str] | None:
        """The NDR reasons the bucket filter stands for (None: any)."""
        if self.bucket is None:
            return None
        return [r.value for r in NDR_BUCKETS[self.bucket][1]]

    @property
    def attempts_at_least(self) -> bool:
        """The attempt filter is "this many or more" (its last choice)."""
        return self.attempt is not None and str(self.attempt) == NDR_ATTEMPTS[-1]


def rupees(text: str, field: str, problems: Problems) -> int | None:
    """Paise from what an operator typed as rupees ("1499", "1,499.50"); a problem when it is not."""
    text = text.strip().replace(",", "").removeprefix("₹").strip()
    if not text:
        return None
    if not _PAISE.fullmatch(text):
        problems.append((field, f"{text!r} is not an amount in rupees, e.g. 1499 or 1499.50"))
        return None
    whole, _, fraction = text.partition(".")
    return int(whole) * 100 + int(fraction.ljust(2, "0") or 0)


def ndr_filter(params: Mapping[str, str]) -> tuple[NdrFilter, Problems]:
    """The desk's filter from its query string, and a problem for each field that is not one."""
    problems: Problems = []

    def choice(field: str, allowed: tuple[str, ...] | list[str]) -> str | None:
        value = (params.get(field) or "").strip()
        if not value:
            return None
        if value not in allowed:
            problems.append((field, f"{value!r} is not one of {', '.join(allowed)}"))
            return None
        return value

    bucket = choice("bucket", list(NDR_BUCKETS))
    attempt = choice("attempt", NDR_ATTEMPTS)
    payment = choice("payment", PAYMENT_MODES)
    low = rupees(params.get("min_value") or "", "min_value", problems)
    high = rupees(params.get("max_value") or "", "max_value", problems)
    if low is not None and high is not None and low > high:
        problems.append(("max_value", "is below min_value"))
    courier = (params.get("courier") or "").strip().lower() or None
    return (
        NdrFilter(
            courier=courier,
            bucket=bucket,
            attempt=int(attempt) if attempt else None,
            payment=payment,
            min_paise=low,
            max_paise=high,
            search=parse_search(params.get("search") or ""),
        ),
        problems,
    )


def ndr_instruction(form: Mapping[str, str], *, today: date) -> tuple[dict[str, Any] | None, Problems]:
    """Shipping's NDR instruction (its NdrInstruction body) from the desk's form, or the problems
    naming each field. A re-attempt may name a day (today or later); a new address needs its line,
    city, state and a six-digit pincode (shipping checks the pincode against the state)."""
    action = (form.get("action") or "").strip()
    if action not in NDR_ACTIONS:
        return None, [("action", f"{action or '(none)'!r} is not one of {', '.join(NDR_ACTIONS)}")]
    body: dict[str, Any] = {"action": action}
    problems: Problems = []
    if action == "reattempt":
        try:
            on = parse_day(form.get("reattempt_on") or "")
        except ValueError as exc:
            problems.append(("reattempt_on", str(exc)))
        else:
            if on is not None and on < today:
                problems.append(("reattempt_on", f"{on.strftime('%d/%m/%Y')} is in the past"))
            if on is not None:
                body["reattempt_on"] = on.isoformat()
    if action == "new_address":
        address = {f: (form.get(f"new_address.{f}") or "").strip() or None for f in ADDRESS_FIELDS}
        problems += [(f"new_address.{f}", "required") for f in _REQUIRED_ADDRESS if not address[f]]
        if address["pincode"] and not _PINCODE.fullmatch(address["pincode"]):
            problems.append(("new_address.pincode", f"{address['pincode']!r} is not a six-digit pincode"))
        body["new_address"] = address
    return (None, problems) if problems else (body, [])


@dataclass(frozen=True)
class NdrParcel:
    """One parcel waiting on an answer to its failed delivery, as the desk lists it."""

    order_id: str
    channel_order_id: str | None
    shipment_id: str
    courier: str
    awb: str | None
    reason: str | None
    attempts: int
    customer_name: str | None
    phone: str | None
    city: str | None
    pincode: str | None
    payment_method: str | None
    total_paise: int | None
    location: str | None

    @property
    def bucket(self) -> str:
        return bucket_of(self.reason)

    @property
    def cod(self) -> bool:
        return self.payment_method == "cod"


def ndr_parcels(order: OrderView, f: NdrFilter) -> list[NdrParcel]:
    """The parcels of one order that are in NDR and pass the filter's parcel-level parts (courier,
    bucket, attempt); the SQL already narrowed the orders."""
    found = []
    for s in order.shipments:
        attempts = len(s.ndr_attempts)
        if s.status != "NDR":
            continue
        if f.courier is not None and s.courier != f.courier:
            continue
        if f.bucket is not None and bucket_of(s.ndr_reason) != f.bucket:
            continue
        if f.attempt is not None and (attempts < f.attempt if f.attempts_at_least else attempts != f.attempt):
            continue
        found.append(
            NdrParcel(
                order_id=order.order_id,
                channel_order_id=order.channel_order_id,
                shipment_id=s.shipment_id,
                courier=s.courier,
                awb=s.awb,
                reason=s.ndr_reason,
                attempts=attempts,
                customer_name=order.customer_name,
                phone=order.phone,
                city=order.city,
                pincode=order.pincode,
                payment_method=order.payment_method,
                total_paise=order.total_paise,
                location=s.location,
            )
        )
    return found


# --- the returns desk -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskReturn:
    """One return as the warehouse desk lists it, with its order's customer and the refund's SLA."""

    order_id: str
    channel_order_id: str | None
    customer_name: str | None
    city: str | None
    ret: ReturnView
    refund_due: datetime | None
    overdue: bool

    @property
    def retry(self) -> bool:
        """The gateway refused the refund and it has not gone out since: returns takes a retry."""
        return self.ret.refund_failure is not None and not self.ret.refunded


@dataclass(frozen=True)
class ReturnsDesk:
    """The desk's three lists: parcels to receive, parcels to QC, refunds to see through."""

    to_receive: list[DeskReturn]
    to_qc: list[DeskReturn]
    refunds: list[DeskReturn]


def refund_due(ret: ReturnView, *, sla_days: float) -> datetime | None:
    """When the refund must have gone out: returns' SLA counts from QC (REFUND_SLA_DAYS)."""
    return ret.qc_at + timedelta(days=sla_days) if ret.qc_at else None


def refund_late(ret: ReturnView, *, now: datetime, sla_days: float) -> bool:
    """Not refunded, and returns said it is past its SLA or the console's clock is past its due time."""
    if ret.refunded:
        return False
    due = refund_due(ret, sla_days=sla_days)
    return ret.sla_breached or (due is not None and now >= due)


def returns_desk(
    orders: list[tuple[OrderView, ReturnView]], *, now: datetime, sla_days: float
) -> ReturnsDesk:
    """Sort (order, return) pairs into the desk's lists: to receive (oldest request first), to QC
    (longest at the desk first), and customers' refunds still pending (soonest due first)."""
    far = datetime.max.replace(tzinfo=now.tzinfo)
    desk = ReturnsDesk([], [], [])
    for order, ret in orders:
        item = DeskReturn(
            order_id=order.order_id,
            channel_order_id=order.channel_order_id,
            customer_name=order.customer_name,
            city=order.city,
            ret=ret,
            refund_due=refund_due(ret, sla_days=sla_days),
            overdue=refund_late(ret, now=now, sla_days=sla_days),
        )
        actions = return_actions(ret.status)
        if "receive" in actions:
            desk.to_receive.append(item)
        elif "qc" in actions:
            desk.to_qc.append(item)
        elif (
            ret.kind == "return" and not ret.refunded and (ret.status == "REFUND_PENDING" or ret.sla_breached)
        ):
            desk.refunds.append(item)
    desk.to_receive.sort(key=lambda d: (d.ret.requested_at or far, d.ret.return_id))
    desk.to_qc.sort(key=lambda d: (d.ret.received_at or far, d.ret.return_id))
    desk.refunds.sort(key=lambda d: (d.refund_due or far, d.ret.return_id))
    return desk
