"""Whether a return may be requested, as rules over data: delivered (the whole order, or for a split
order the parcels that have arrived), within the category's window, the SKU returnable, and no more
units than were delivered minus those already coming back."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from chassis.clock import india_date
from contracts import FieldProblem, OrderStatus, PaymentMethod, ReturnLine, ReturnResolution


@dataclass(frozen=True, slots=True)
class SkuRule:
    """What the seller configured for one SKU: its category's return window and returnability."""

    category: str | None = None
    window_days: int | None = None
    returnable: bool = True
    product: str | None = None
    """The product this SKU is a variant of (size, colour), when the seller named it."""


def last_return_day(delivered_at: datetime, window_days: int) -> date:
    """The last day (in India) a return may be asked for: a 7-day window on a parcel delivered at
    23:50 IST on the 5th lasts to the end of the 12th, as a customer counts days."""
    return india_date(delivered_at) + timedelta(days=window_days)


def eligibility_problems(
    *,
    order_id: str,
    order_status: OrderStatus | None,
    delivered_at: datetime | None,
    now: datetime,
    window_days: int,
    lines: list[ReturnLine],
    already_requested: Collection[str],
    delivered: Mapping[str, int] | None = None,
    returned: Mapping[str, int] | None = None,
    rules: Mapping[str, SkuRule] | None = None,
    ordered: Mapping[str, int] | None = None,
) -> list[FieldProblem]:
    """Every reason this return cannot be requested (an empty list means it can).

    `delivered` (units per SKU delivered: the order's lines, or for a PARTIALLY_DELIVERED order
    those of its delivered shipments) and `returned` (units per SKU in earlier returns) are checked
    when known; `ordered` (units per SKU on the order) tells "not delivered yet" from "not on the
    order"; `rules` give per-SKU windows and non-returnable SKUs."""
    problems: list[FieldProblem] = []
    rules = rules or {}

    def problem(field: str, text: str) -> None:
        problems.append(FieldProblem(field=field, problem=text))

    was_delivered = order_status in (OrderStatus.DELIVERED, OrderStatus.PARTIALLY_DELIVERED)
    if order_status is None:
        problem("order_id", f"no delivered order {order_id} is known")
    elif not was_delivered:
        problem("order_id", f"order {order_id} is {order_status}, not DELIVERED")
    elif delivered_at is not None and any(
        rules.get(line.sku, SkuRule()).window_days is None for line in lines
    ):
        if india_date(now) > (last := last_return_day(delivered_at, window_days)):
            problem(
                "order_id",
                f"order {order_id} was delivered on {india_date(delivered_at).isoformat()}; returns "
                f"were accepted for {window_days} days, until {last.isoformat()}",
            )
    skus = [line.sku for line in lines]
    for index, line in enumerate(lines):
        rule = rules.get(line.sku, SkuRule())
        field = f"lines.{index}.sku"
        if skus.count(line.sku) > 1 and skus.index(line.sku) != index:
            problem(field, f"SKU {line.sku} appears on more than one line")
            continue
        if line.sku in already_requested:
            problem(field, f"SKU {line.sku} already has an open return")
            continue
        if not rule.returnable:
            problem(field, f"SKU {line.sku} is marked non-returnable")
            continue
        if delivered is not None:
            on_order = delivered.get(line.sku, 0)
            back = (returned or {}).get(line.sku, 0)
            if on_order == 0:
                if (ordered or {}).get(line.sku, 0) > 0:
                    problem(field, f"SKU {line.sku} of order {order_id} has not been delivered yet")
                else:
                    problem(field, f"SKU {line.sku} is not on order {order_id}")
                continue
            if line.quantity > on_order - back:
                problem(
                    f"lines.{index}.quantity",
                    f"{line.quantity} units of {line.sku} asked; {on_order - back} can be returned "
                    f"({on_order} delivered, {back} already returned)",
                )
        if was_delivered and delivered_at is not None and rule.window_days is not None:
            if india_date(now) > last_return_day(delivered_at, rule.window_days):
                problem(
                    field,
                    f"{rule.category or 'this category'} can be returned within {rule.window_days} days "
                    f"of delivery; order {order_id} was delivered on {india_date(delivered_at).isoformat()}",
                )
    return problems


def product_of(sku: str, rule: SkuRule | None) -> str:
    """The product a SKU is a variant of: the seller's name for it, else the SKU without its last
    part (KURTA-INDIGO-M and KURTA-INDIGO-XL are the same kurta)."""
    if rule is not None and rule.product:
        return rule.product
    return sku.rsplit("-", 1)[0]


def exchange_problems(
    pairs: Sequence[tuple[str, str | None]], rules: Mapping[str, SkuRule]
) -> list[FieldProblem]:
    """An exchange is like for like: each replacement is the returned SKU or another variant of its
    product. It ships free at the returned unit's price, so anything else would let a ₹100 return
    buy a ₹50,000 item."""
    problems: list[FieldProblem] = []
    for index, (sku, replacement) in enumerate(pairs):
        if replacement is None or replacement == sku:
            continue
        if product_of(replacement, rules.get(replacement)) != product_of(sku, rules.get(sku)):
            problems.append(
                FieldProblem(
                    field=f"lines.{index}.replacement_sku",
                    problem=f"{replacement} is not another size or colour of {sku}: "
                    "an exchange is for the same product",
                )
            )
    return problems


def request_problems(
    *,
    resolution: ReturnResolution,
    replacements: list[str | None],
    payment_method: PaymentMethod | None,
    has_refund_to: bool,
) -> list[FieldProblem]:
    """What a request must say besides its lines: a replacement per exchanged line, and for a COD
    refund where the money should go (the customer paid cash: there is no payment to refund).
    A prepaid order's money goes back to its payment: whoever holds a return link must not be
    able to send it to store credit or a UPI id of their choice."""
    problems: list[FieldProblem] = []
    if resolution is ReturnResolution.EXCHANGE:
        for index, replacement in enumerate(replacements):
            if not replacement:
                problems.append(
                    FieldProblem(
                        field=f"lines.{index}.replacement_sku",
                        problem="an exchange needs the SKU to send instead",
                    )
                )
    if payment_method is not PaymentMethod.COD and has_refund_to:
        problems.append(
            FieldProblem(
                field="refund_to",
                problem="a prepaid order is refunded to the payment it was paid with; leave refund_to out",
            )
        )
    elif (
        resolution is not ReturnResolution.EXCHANGE
        and payment_method is PaymentMethod.COD
        and not has_refund_to
    ):
        problems.append(
            FieldProblem(
                field="refund_to",
                problem="a COD order is refunded by UPI, bank transfer or store credit: say which",
            )
        )
    return problems
