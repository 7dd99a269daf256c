"""Order decisions as plain functions: intake validation, the status machine, what follows a reservation.

No I/O here: everything takes and returns plain data, and is tested without Kafka or PostgreSQL.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import indian_pincode
import phonenumbers
from pydantic import ValidationError

from chassis.ids import time_ordered_id
from contracts import ChannelOrder, FieldProblem, OrderStatus, PaymentMethod, PaymentStatus

S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PLACED: frozenset(
        {
            S.PENDING_PAYMENT,
            S.PENDING_COD_CONFIRMATION,
            S.ON_HOLD,
            S.CONFIRMED,
            S.CANCELLED,
            S.BACKORDERED,
        }
    ),
    S.PENDING_PAYMENT: frozenset({S.CONFIRMED, S.ON_HOLD, S.CANCELLED}),
    S.PENDING_COD_CONFIRMATION: frozenset({S.CONFIRMED, S.ON_HOLD, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.CONFIRMED, S.PENDING_PAYMENT, S.PENDING_COD_CONFIRMATION, S.CANCELLED}),
    S.BACKORDERED: frozenset({S.PLACED, S.ON_HOLD, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.PACKED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.PACKED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED, S.IN_TRANSIT}),
    S.SHIPPED: frozenset({S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED, S.DELIVERY_FAILED, S.RTO_INITIATED}),
    S.IN_TRANSIT: frozenset({S.OUT_FOR_DELIVERY, S.DELIVERED, S.DELIVERY_FAILED, S.RTO_INITIATED}),
    S.OUT_FOR_DELIVERY: frozenset({S.DELIVERED, S.DELIVERY_FAILED, S.RTO_INITIATED}),
    S.DELIVERY_FAILED: frozenset({S.OUT_FOR_DELIVERY, S.DELIVERED, S.RTO_INITIATED}),
    S.RTO_INITIATED: frozenset({S.RTO_DELIVERED}),
    S.DELIVERED: frozenset({S.RETURN_REQUESTED}),
    S.RETURN_REQUESTED: frozenset({S.RETURNED, S.DELIVERED}),
    S.RETURNED: frozenset({S.REFUNDED}),
}
"""Allowed order status changes: the order machine of DESIGN.md, as data."""


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether current → target is allowed."""
    return target in TRANSITIONS.get(current, frozenset())


def new_order_id() -> str:
    """A time-ordered, unique order id such as ORD-01A2160C9718-5E3B7A21."""
    return time_ordered_id("ORD")


def _state_key(name: str) -> str:
    return re.sub(r"[^A-Z]", "", name.upper().replace("&", "AND"))


@functools.lru_cache(maxsize=8192)
def normalise_phone(raw: str) -> str | None:
    """An Indian mobile number in E.164 (+91XXXXXXXXXX), or None if it is not one (cached: the
    same number is checked during validation and again when the order is stored)."""
    try:
        number = phonenumbers.parse(raw, "IN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 91 or not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def schema_problems(error: ValidationError) -> list[FieldProblem]:
    """Every pydantic error as a FieldProblem naming the dotted field."""
    return [
        FieldProblem(field=".".join(str(p) for p in e["loc"]) or "body", problem=e["msg"])
        for e in error.errors()
    ]


def check_order(order: ChannelOrder, *, cod_limit_paise: int) -> list[FieldProblem]:
    """Every business problem with a channel order (an empty list means it can be placed)."""
    problems: list[FieldProblem] = []

    def problem(field: str, text: str) -> None:
        problems.append(FieldProblem(field=field, problem=text))

    address = order.shipping_address
    pin_state = indian_pincode.get_state(address.pincode)
    if pin_state is None:
        problem("shipping_address.pincode", f"{address.pincode} is not an Indian pincode")
    elif _state_key(pin_state) != _state_key(address.state):
        problem(
            "shipping_address.state",
            f"pincode {address.pincode} is in {pin_state.title()}, not {address.state}",
        )
    if normalise_phone(order.customer.phone) is None:
        problem("customer.phone", f"{order.customer.phone!r} is not a valid Indian mobile number")

    lines_total = sum(line.quantity * line.unit_price_paise for line in order.lines)
    expected = lines_total + order.shipping_fee_paise - order.discount_paise
    if expected != order.total_paise:
        problem(
            "total_paise",
            f"lines {lines_total} + shipping {order.shipping_fee_paise} − discount "
            f"{order.discount_paise} = {expected}, not {order.total_paise}",
        )
    skus = [line.sku for line in order.lines]
    for dup in sorted({s for s in skus if skus.count(s) > 1}):
        problem("lines", f"SKU {dup} appears on more than one line")

    pay = order.payment
    if pay.amount_paise != order.total_paise:
        problem("payment.amount_paise", f"{pay.amount_paise} does not match total {order.total_paise}")
    if pay.method is PaymentMethod.COD:
        if pay.status is not PaymentStatus.PENDING:
            problem("payment.status", f"a COD order starts pending, not {pay.status}")
        if order.total_paise > cod_limit_paise:
            problem("payment.method", f"COD is allowed up to {cod_limit_paise} paise")
    elif pay.status not in (
        PaymentStatus.PENDING,
        PaymentStatus.AUTHORIZED,
        PaymentStatus.CAPTURED,
    ):
        problem("payment.status", f"a new {pay.method} order cannot be {pay.status}")
    elif pay.status is not PaymentStatus.PENDING and not pay.gateway_payment_id:
        problem("payment.gateway_payment_id", f"required when the payment is {pay.status}")
    return problems


def status_after_reservation(method: PaymentMethod, status: PaymentStatus) -> tuple[OrderStatus, str]:
    """Where an order goes once its stock is reserved, and why."""
    if method is PaymentMethod.COD:
        return S.PENDING_COD_CONFIRMATION, "stock reserved; waiting for the customer to confirm COD"
    if status in (PaymentStatus.CAPTURED, PaymentStatus.AUTHORIZED):
        return S.CONFIRMED, f"stock reserved and payment {status}"
    return S.PENDING_PAYMENT, "stock reserved; waiting for payment"


def dedupe_problems(problems: Iterable[FieldProblem]) -> list[FieldProblem]:
    """The same problem reported twice (schema and business) counts once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if (p.field, p.problem) not in seen:
            seen.add((p.field, p.problem))
            out.append(p)
    return out
