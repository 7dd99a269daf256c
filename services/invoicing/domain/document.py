"""What goes on one shipment's invoice, decided from gathered facts: its lines, taxes and problems.

Pure: the issuer gathers the order, the shipment, the SKUs' tax classes and the registration, and
this says what to print, or every reason it cannot be issued yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.invoicing.domain.tax import GST_RATES, Good, Supply, TaxedLine, invoice_lines, supply_between


@dataclass(frozen=True, slots=True)
class TaxClassFact:
    description: str
    hsn_code: str
    gst_rate: Decimal
    unit: str


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """Everything one shipment's invoice is made from."""

    shipment_lines: tuple[tuple[str, int], ...]  # (sku, quantity) in the parcel
    order_lines: tuple[tuple[str, int, int], ...]  # (sku, quantity, unit price in paise) ordered
    order_discount_paise: int
    order_shipping_fee_paise: int
    shipping_fee_already_invoiced: bool
    tax_classes: dict[str, TaxClassFact]
    supplier_state_code: str
    turnover_band: str  # up_to_5_crore | above_5_crore
    place_of_supply: str  # the delivery address's state code
    prices_include_tax: bool


@dataclass(frozen=True, slots=True)
class Draft:
    """An invoice ready to number."""

    supply: Supply
    lines: tuple[TaxedLine, ...]
    shipping_fee_paise: int


def hsn_digits_required(turnover_band: str) -> int:
    """HSN digits an invoice must show: 6 above ₹5 crore aggregate turnover, otherwise 4
    (Notification 78/2020-Central Tax)."""
    return 6 if turnover_band == "above_5_crore" else 4


def draft_invoice(facts: InvoiceFacts) -> Draft | list[str]:
    """The invoice of a shipment, or why it cannot be issued yet (every reason at once)."""
    problems: list[str] = []
    prices: dict[str, int] = {}
    for sku, _, price in facts.order_lines:
        prices.setdefault(sku, price)
    digits = hsn_digits_required(facts.turnover_band)
    goods = []
    for sku, quantity in facts.shipment_lines:
        tax_class = facts.tax_classes.get(sku)
        if sku not in prices:
            problems.append(f"{sku} is in the parcel but not in the order")
        if tax_class is None:
            problems.append(f"no tax class for {sku}: PUT /tax-classes/{sku}")
        elif len(tax_class.hsn_code) < digits:
            problems.append(f"{sku}: HSN {tax_class.hsn_code} has fewer than the {digits} digits required")
        elif tax_class.gst_rate not in GST_RATES:
            problems.append(f"{sku}: {tax_class.gst_rate}% is not a GST rate")
        if tax_class is not None and sku in prices and not problems:
            goods.append(
                Good(
                    sku=sku,
                    description=tax_class.description,
                    hsn_code=tax_class.hsn_code,
                    gst_rate=tax_class.gst_rate,
                    quantity=quantity,
                    unit_price_paise=prices[sku],
                    unit=tax_class.unit,
                )
            )
    if not facts.shipment_lines:
        problems.append("the parcel's lines are not known yet")
    if problems:
        return problems
    supply = supply_between(facts.supplier_state_code, facts.place_of_supply)
    fee = 0 if facts.shipping_fee_already_invoiced else facts.order_shipping_fee_paise
    order_value = sum(quantity * price for _, quantity, price in facts.order_lines)
    lines = invoice_lines(
        goods,
        order_value_paise=max(order_value, sum(g.quantity * g.unit_price_paise for g in goods)),
        order_discount_paise=min(facts.order_discount_paise, order_value),
        shipping_fee_paise=fee,
        supply=supply,
        prices_include_tax=facts.prices_include_tax,
    )
    return Draft(supply=supply, lines=tuple(lines), shipping_fee_paise=fee)
