"""Intake validation: the one path every order takes in, from a channel or from staff.

Every problem is reported at once, each naming its dotted field.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import indian_pincode
import phonenumbers
from pydantic import ValidationError

from chassis.ids import time_ordered_id
from contracts import (
    Channel,
    ChannelOrder,
    FieldProblem,
    Payment,
    PaymentMethod,
    PaymentStatus,
    ReturnExchangeRequested,
)
from contracts.values import Address


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


MAX_PAISE = 10**12
"""₹1,000 crore: far above any real order; larger amounts are mistakes (or overflow attempts)."""
MAX_QUANTITY = 100_000

EXCHANGE_GATEWAY = "exchange"
"""The gateway of an exchange order: paid for by the returned item, so no gateway payment id."""


def exchange_order(event: ReturnExchangeRequested) -> ChannelOrder:
    """The replacement order an exchange asks for, as intake takes it in: channel ``exchange``, the
    return id as its channel order id (so a second request for the same return is a duplicate), and
    paid by the units sent back: the lines' value is its discount and it costs nothing."""
    value = sum(line.unit_price_paise * line.quantity for line in event.lines)
    return ChannelOrder(
        channel=Channel.EXCHANGE,
        channel_order_id=event.return_id,
        placed_at=event.occurred_at,
        customer=event.customer,
        shipping_address=event.shipping_address,
        lines=event.lines,
        shipping_fee_paise=0,
        discount_paise=value,
        total_paise=0,
        payment=Payment(
            method=event.payment_method,
            status=PaymentStatus.CAPTURED,
            gateway=EXCHANGE_GATEWAY,
            gateway_payment_id=event.return_id,
            amount_paise=0,
        ),
    )


def address_problems(address: Address, *, prefix: str = "shipping_address") -> list[FieldProblem]:
    """The pincode exists and lies in the given state."""
    pin_state = indian_pincode.get_state(address.pincode)
    if pin_state is None:
        return [
            FieldProblem(field=f"{prefix}.pincode", problem=f"{address.pincode} is not an Indian pincode")
        ]
    if _state_key(pin_state) != _state_key(address.state):
        return [
            FieldProblem(
                field=f"{prefix}.state",
                problem=f"pincode {address.pincode} is in {pin_state.title()}, not {address.state}",
            )
        ]
    return []


def phone_problems(phone: str, *, field: str = "customer.phone") -> list[FieldProblem]:
    """The phone is an Indian mobile number."""
    if normalise_phone(phone) is None:
        return [FieldProblem(field=field, problem=f"{phone!r} is not a valid Indian mobile number")]
    return []


def total_problems(lines_total: int, shipping: int, discount: int, total: int) -> list[FieldProblem]:
    """Lines + shipping − discount must be the total."""
    expected = lines_total + shipping - discount
    if expected == total:
        return []
    problem = f"lines {lines_total} + shipping {shipping} − discount {discount} = {expected}, not {total}"
    return [FieldProblem(field="total_paise", problem=problem)]


def cod_status_problems(status: str) -> list[FieldProblem]:
    """A COD order is paid on delivery, so it arrives pending."""
    if status == PaymentStatus.PENDING:
        return []
    return [FieldProblem(field="payment.status", problem=f"a COD order starts pending, not {status}")]


def check_order(order: ChannelOrder, *, cod_limit_paise: int) -> list[FieldProblem]:
    """Every business problem with a channel order (an empty list means it can be placed)."""
    problems = [
        *order.channel_problems,
        *address_problems(order.shipping_address),
        *phone_problems(order.customer.phone),
    ]

    def problem(field: str, text: str) -> None:
        problems.append(FieldProblem(field=field, problem=text))

    for name, amount in (
        ("total_paise", order.total_paise),
        ("shipping_fee_paise", order.shipping_fee_paise),
        ("discount_paise", order.discount_paise),
        ("payment.amount_paise", order.payment.amount_paise),
        *((f"lines.{i}.unit_price_paise", line.unit_price_paise) for i, line in enumerate(order.lines)),
    ):
        if amount > MAX_PAISE:
            problem(name, f"{amount} is more than the largest amount accepted ({MAX_PAISE})")
    for i, line in enumerate(order.lines):
        if line.quantity > MAX_QUANTITY:
            problem(f"lines.{i}.quantity", f"{line.quantity} is more than {MAX_QUANTITY} units")
    lines_total = sum(line.quantity * line.unit_price_paise for line in order.lines)
    if order.discount_paise > lines_total + order.shipping_fee_paise:
        problem(
            "discount_paise",
            f"{order.discount_paise} is more than lines {lines_total} + shipping {order.shipping_fee_paise}",
        )
    problems += total_problems(lines_total, order.shipping_fee_paise, order.discount_paise, order.total_paise)
    skus = [line.sku for line in order.lines]
    for dup in sorted({s for s in skus if skus.count(s) > 1}):
        problem("lines", f"SKU {dup} appears on more than one line")

    pay = order.payment
    exchange = pay.gateway == EXCHANGE_GATEWAY
    if pay.amount_paise != order.total_paise:
        problem("payment.amount_paise", f"{pay.amount_paise} does not match total {order.total_paise}")
    if exchange and order.channel is not Channel.EXCHANGE:
        problem("payment.gateway", "only exchange orders are paid by an exchange")
    if pay.method is PaymentMethod.COD and exchange:
        pass  # a COD order's replacement: paid by the units sent back, nothing to collect (checked below)
    elif pay.method is PaymentMethod.COD:
        if pay.status is not PaymentStatus.PENDING:
            problems += cod_status_problems(pay.status)
        if order.total_paise > cod_limit_paise:
            problem(
                "payment.method", f"COD is allowed up to {cod_limit_paise} paise, not {order.total_paise}"
            )
        if pay.gateway_payment_id:
            problem("payment.gateway_payment_id", "a COD order has no gateway payment yet")
    elif pay.status not in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED):
        problem("payment.status", f"a new {pay.method} order cannot be {pay.status}")
    elif pay.status is not PaymentStatus.PENDING and not pay.gateway_payment_id and not exchange:
        problem("payment.gateway_payment_id", f"required when the payment is {pay.status}")
    if order.channel is Channel.EXCHANGE and not (exchange and pay.status is PaymentStatus.CAPTURED):
        problem(
            "payment", f"an exchange order is paid by the exchange (gateway {EXCHANGE_GATEWAY}, captured)"
        )
    return problems


def http_problems(*, channel: Channel, payment_status: PaymentStatus) -> list[FieldProblem]:
    """What an order entered over HTTP may not claim (ADR 0067): to be an exchange (only returns makes
    those, over Kafka) or a payment already taken (only the gateway's signed webhook says so)."""
    problems = []
    if channel is Channel.EXCHANGE:
        problems.append(
            FieldProblem(field="channel", problem="exchange orders are made by returns, never over HTTP")
        )
    if payment_status is not PaymentStatus.PENDING:
        problems.append(
            FieldProblem(
                field="payment.status",
                problem=f"an order entered over HTTP is pending, not {payment_status}: the gateway's "
                "webhook records the payment (give its gateway_payment_id)",
            )
        )
    return problems


REHEARSAL_PREFIX = "REHEARSAL-"
"""The channel order id a rehearsal gets, so no store's own order id is ever taken (ADR 0360)."""


def rehearsal_problems(
    *, channel_order_id: str | None, method: PaymentMethod, phone: str, operator_phones: Iterable[str]
) -> list[FieldProblem]:
    """What a rehearsal order may not be (ADR 0360): another store's order (its id is made up here),
    a payment (cash on delivery, so no money moves), or anyone's but an operator's own number."""
    problems = []
    if channel_order_id is not None:
        problems.append(
            FieldProblem(
                field="channel_order_id",
                problem=f"a rehearsal gets its own {REHEARSAL_PREFIX}… id, so no store's order is "
                "touched; leave channel_order_id out",
            )
        )
    if method is not PaymentMethod.COD:
        problems.append(
            FieldProblem(
                field="payment.method",
                problem=f"a rehearsal is cod, not {method}: no money moves, and the operator confirms "
                "it on their own WhatsApp",
            )
        )
    allowed = set(operator_phones)
    if normalise_phone(phone) not in allowed:
        problems.append(
            FieldProblem(
                field="customer.phone",
                problem=f"a rehearsal messages an operator's own number; {phone!r} is not one of "
                "OPERATOR_PHONES"
                if allowed
                else "a rehearsal messages an operator's own number, and OPERATOR_PHONES names none",
            )
        )
    return problems


_PAYMENT_FACTS = ("method", "status", "gateway", "gateway_payment_id", "amount_paise")


def resubmitted_payment_problems(
    *, claimed: Mapping[str, Any], received: Mapping[str, Any] | None
) -> list[FieldProblem]:
    """A refused order resubmitted by an operator keeps a payment already taken only exactly as the
    channel reported it; any other taken payment is an operator typing a capture into being, so it
    must be `pending` until the gateway's webhook records it, as on POST /orders (ADR 0067)."""
    if claimed.get("status") == PaymentStatus.PENDING:
        return []
    if received is not None and all(received.get(k) == claimed.get(k) for k in _PAYMENT_FACTS):
        return []
    return [
        FieldProblem(
            field="payment.status",
            problem=f"only the payment the channel reported may be {claimed.get('status')} here; another "
            "is pending until the gateway's webhook records it (give its gateway_payment_id)",
        )
    ]


def bound_channel(key_name: str) -> Channel | None:
    """The channel a `channel`-role key may enter orders for: its name, or its name up to the first
    `-` (`shopify`, `shopify-adapter` → shopify). None when the name names no channel."""
    for name in (key_name, key_name.split("-", 1)[0]):
        if name in Channel._value2member_map_ and name != Channel.EXCHANGE:
            return Channel(name)
    return None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def raw_problems(data: Mapping[str, Any]) -> list[FieldProblem]:
    """The business problems of a payload whose shape is wrong somewhere, so that one refusal names
    every problem at once: pincode and state, phone, totals, a COD order's status. A part that is
    itself malformed is left to the shape errors."""
    problems: list[FieldProblem] = []
    address = data.get("shipping_address")
    if isinstance(address, Mapping) and all(isinstance(address.get(k), str) for k in ("pincode", "state")):
        pin = address["pincode"]
        if re.fullmatch(r"[1-9][0-9]{5}", pin):
            problems += address_problems(
                Address.model_construct(pincode=pin, state=address["state"])  # type: ignore[call-arg]
            )
    customer = data.get("customer")
    if isinstance(customer, Mapping) and isinstance(customer.get("phone"), str):
        problems += phone_problems(customer["phone"])
    lines = data.get("lines")
    shipping, discount, total = (
        data.get(k, 0) for k in ("shipping_fee_paise", "discount_paise", "total_paise")
    )
    if (
        isinstance(lines, list)
        and lines
        and all(
            isinstance(x, Mapping) and _whole(x.get("quantity")) and _whole(x.get("unit_price_paise"))
            for x in lines
        )
        and all(_whole(v) for v in (shipping, discount, total))
    ):
        lines_total = sum(x["quantity"] * x["unit_price_paise"] for x in lines)
        problems += total_problems(lines_total, shipping, discount, total)
    payment = data.get("payment")
    if isinstance(payment, Mapping) and payment.get("method") == "cod" and payment.get("status") is not None:
        problems += cod_status_problems(payment["status"])
    return problems


def all_problems(error: ValidationError, data: Any) -> list[FieldProblem]:
    """Shape errors first, then the business problems of the fields that are well-formed."""
    shape = schema_problems(error)
    named = {p.field for p in shape}
    business = raw_problems(data) if isinstance(data, Mapping) else []
    return shape + [p for p in business if p.field not in named]


def dedupe_problems(problems: Iterable[FieldProblem]) -> list[FieldProblem]:
    """The same problem reported twice (schema and business) counts once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if (p.field, p.problem) not in seen:
            seen.add((p.field, p.problem))
            out.append(p)
    return out
