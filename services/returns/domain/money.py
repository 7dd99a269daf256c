"""What a return is worth after QC: the refund amount under the seller's policy, how the money goes
back, and which replacement units an exchange sends. Money is integer paise throughout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from contracts import OrderLine, PaymentMethod, ReturnLine, ReturnReason

SELLER_FAULT = frozenset(
    {
        ReturnReason.DAMAGED,
        ReturnReason.WRONG_ITEM,
        ReturnReason.DEFECTIVE,
        ReturnReason.NOT_AS_DESCRIBED,
        ReturnReason.LATE_DELIVERY,
    }
)
"""Reasons that are the seller's doing: a unit failing QC for these is still the seller's loss."""

RefundMode = Literal["gateway_refund", "payout", "store_credit"]


@dataclass(frozen=True, slots=True)
class RefundPolicy:
    """The seller's refund rules (settings)."""

    shipping_fee: Literal["never", "seller_fault", "always"] = "seller_fault"
    """When the order's shipping fee goes back, pro rata to the value returned."""
    failed_qc_percent: int = 0
    """Share of the price refunded for a unit that fails QC when the customer is at fault."""


@dataclass(frozen=True, slots=True)
class QcVerdict:
    """The desk's verdict on one returned line."""

    sku: str
    passed: int
    failed: int
    grade: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RefundQuote:
    """What goes back to the customer, split into items and shipping fee."""

    items_paise: int
    shipping_fee_paise: int

    @property
    def total_paise(self) -> int:
        return self.items_paise + self.shipping_fee_paise


def creditable_units(line: ReturnLine, verdict: QcVerdict | None, *, rto: bool = False) -> int:
    """Units of a line the customer gets full value for: passed ones, and failed ones when the
    seller is at fault (or the parcel never reached the customer at all)."""
    if verdict is None:
        return 0
    if rto or line.reason in SELLER_FAULT:
        return verdict.passed + verdict.failed
    return verdict.passed


def refund_quote(
    *,
    order_lines: Sequence[OrderLine],
    discount_paise: int,
    shipping_fee_paise: int,
    returned: Sequence[ReturnLine],
    verdicts: Mapping[str, QcVerdict],
    policy: RefundPolicy,
    refundable_paise: int,
    rto: bool = False,
) -> RefundQuote:
    """The refund for a QC'd return: net of the order's discount (spread over its lines by value),
    plus a share of the shipping fee when the policy says so, never above what is refundable."""
    lines_total = sum(line.unit_price_paise * line.quantity for line in order_lines)
    if lines_total == 0:
        return RefundQuote(0, 0)
    price = {line.sku: line.unit_price_paise for line in order_lines}
    net = lines_total - min(discount_paise, lines_total)
    gross_items = 0  # undiscounted value of what is refunded, in paise × 100 (for percentages)
    returned_value = 0
    seller_fault = rto
    for line in returned:
        verdict = verdicts.get(line.sku)
        unit = price.get(line.sku, 0)
        full = creditable_units(line, verdict, rto=rto)
        gross_items += full * unit * 100
        if verdict is not None and not (rto or line.reason in SELLER_FAULT):
            gross_items += verdict.failed * unit * policy.failed_qc_percent
        returned_value += line.quantity * unit
        seller_fault = seller_fault or line.reason in SELLER_FAULT
    items = gross_items * net // (lines_total * 100)
    refunds_fee = policy.shipping_fee == "always" or (policy.shipping_fee == "seller_fault" and seller_fault)
    fee = shipping_fee_paise * returned_value // lines_total if refunds_fee and items else 0
    items = min(items, refundable_paise)
    fee = min(fee, refundable_paise - items)
    return RefundQuote(items_paise=items, shipping_fee_paise=fee)


def refund_mode(
    *, method: PaymentMethod, gateway: str | None, gateway_payment_id: str | None, refund_to: str | None
) -> RefundMode:
    """How the money goes back: to the original payment when the gateway has one, else as the
    customer chose for a COD order (a UPI or bank payout, or store credit). A prepaid order with
    no payment on record is never paid out to a requester's account: store credit, for an
    operator to settle."""
    if method is not PaymentMethod.COD:
        return "gateway_refund" if gateway == "razorpay" and gateway_payment_id else "store_credit"
    if refund_to in ("upi", "bank_account"):
        return "payout"
    return "store_credit"


def exchange_lines(
    *,
    returned: Sequence[ReturnLine],
    replacements: Mapping[str, str],
    verdicts: Mapping[str, QcVerdict],
    order_lines: Sequence[OrderLine],
) -> list[OrderLine]:
    """The replacement order's lines: one replacement unit per creditable returned unit, at the
    returned unit's price (an exchange is like for like; the new order's discount makes it free)."""
    price = {line.sku: line.unit_price_paise for line in order_lines}
    wanted: dict[str, tuple[int, int]] = {}
    for line in returned:
        units = creditable_units(line, verdicts.get(line.sku))
        if units == 0:
            continue
        sku = replacements[line.sku]
        quantity, value = wanted.get(sku, (0, 0))
        wanted[sku] = (quantity + units, value + units * price.get(line.sku, 0))
    return [
        OrderLine(sku=sku, quantity=quantity, unit_price_paise=value // quantity)
        for sku, (quantity, value) in wanted.items()
    ]
