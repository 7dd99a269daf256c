"""The tax on an invoice: each line's taxable value and its CGST + SGST or IGST, in paise.

Rules, stated once (ADR 0120):
- Intra-state supply (the warehouse's GSTIN's state = the place of supply, the delivery address's
  state) is taxed CGST + SGST, half the rate each; inter-state supply IGST at the full rate.
- Prices are GST-inclusive (Indian retail prices are), unless the seller says otherwise: a line's
  value is what the customer pays for it, and the taxable value is worked back from it.
- The order's discount is shared over its units in proportion to their price (largest remainder, so
  the shares add up to the discount exactly); the shipping fee is its own line (SAC 9965, goods
  transport) at the highest rate among the goods it carries, on the order's first invoice only.
- Rounding, per line: taxable value = value × 100 / (100 + rate), rounded half up to the paisa; the
  tax is the rest, so every line adds up to what was charged; CGST is half the tax rounded half up,
  SGST the other half.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

GST_RATES = frozenset(Decimal(r) for r in ("0", "0.1", "0.25", "1.5", "3", "5", "12", "18", "28", "40"))
"""The GST rates a line may carry (percent): the slabs, the special rates for precious stones and
metals, and 40% for sin and luxury goods since 22 September 2025 (12% and 28% stay for older data)."""

SHIPPING_SAC = "9965"
"""Services of goods transport: the code the shipping fee's line carries."""


class Supply(StrEnum):
    """Which taxes a supply bears."""

    INTRA_STATE = "intra_state"  # CGST + SGST
    INTER_STATE = "inter_state"  # IGST


def supply_between(supplier_state_code: str, place_of_supply_code: str) -> Supply:
    """Intra-state when the supplier's state is the place of supply, otherwise inter-state."""
    if supplier_state_code == place_of_supply_code:
        return Supply.INTRA_STATE
    return Supply.INTER_STATE


def half_up(value: Decimal) -> int:
    """A paise amount rounded to the whole paisa, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Good:
    """One line to invoice: a SKU, its units, its unit price and its tax class."""

    sku: str
    description: str
    hsn_code: str
    gst_rate: Decimal
    quantity: int
    unit_price_paise: int
    unit: str = "NOS"


@dataclass(frozen=True, slots=True)
class TaxedLine:
    """One line of an invoice, its money in paise."""

    sku: str
    description: str
    hsn_code: str
    quantity: int
    unit: str
    gst_rate: Decimal
    gross_paise: int  # quantity × unit price
    discount_paise: int
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int

    @property
    def tax_paise(self) -> int:
        return self.cgst_paise + self.sgst_paise + self.igst_paise

    @property
    def total_paise(self) -> int:
        return self.taxable_paise + self.tax_paise


def share(amount: int, weights: list[int]) -> list[int]:
    """`amount` split in proportion to `weights`, in whole paise adding up to `amount` exactly
    (largest remainder; ties go to the earlier weight)."""
    if amount == 0 or not weights:
        return [0] * len(weights)
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("weights must add up to more than zero")
    floors = [amount * w // whole for w in weights]
    left = amount - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % whole), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def tax_line(
    *,
    sku: str,
    description: str,
    hsn_code: str,
    quantity: int,
    unit: str,
    gst_rate: Decimal,
    gross_paise: int,
    discount_paise: int,
    supply: Supply,
    prices_include_tax: bool,
) -> TaxedLine:
    """One line's taxable value and taxes from what is charged for it (rounding rule above)."""
    if gst_rate not in GST_RATES:
        raise ValueError(f"{gst_rate}% is not a GST rate")
    if not 0 <= discount_paise <= gross_paise:
        raise ValueError("a line's discount is between nothing and its value")
    value = gross_paise - discount_paise
    if prices_include_tax:
        taxable = half_up(Decimal(value) * 100 / (100 + gst_rate))
        tax = value - taxable
    else:
        taxable = value
        tax = half_up(Decimal(value) * gst_rate / 100)
    if supply is Supply.INTRA_STATE:
        cgst = half_up(Decimal(tax) / 2)
        sgst, igst = tax - cgst, 0
    else:
        cgst, sgst, igst = 0, 0, tax
    return TaxedLine(
        sku=sku,
        description=description,
        hsn_code=hsn_code,
        quantity=quantity,
        unit=unit,
        gst_rate=gst_rate,
        gross_paise=gross_paise,
        discount_paise=discount_paise,
        taxable_paise=taxable,
        cgst_paise=cgst,
        sgst_paise=sgst,
        igst_paise=igst,
    )


def invoice_lines(
    goods: list[Good],
    *,
    order_value_paise: int,
    order_discount_paise: int,
    shipping_fee_paise: int,
    supply: Supply,
    prices_include_tax: bool = True,
) -> list[TaxedLine]:
    """The lines of one shipment's invoice: its goods, each with its share of the order's discount
    (`order_value_paise` is the whole order's value before discount, so a split order's invoices
    share the discount by what each carries), and the shipping fee as its own line when given."""
    if not goods:
        raise ValueError("an invoice has at least one line")
    grosses = [g.quantity * g.unit_price_paise for g in goods]
    if order_value_paise < sum(grosses):
        raise ValueError("the order is worth at least the shipment's goods")
    # This shipment's part of the discount, then each line's part of that.
    mine = share(order_discount_paise, [sum(grosses), order_value_paise - sum(grosses)])[0]
    discounts = share(mine, grosses)
    lines = [
        tax_line(
            sku=g.sku,
            description=g.description,
            hsn_code=g.hsn_code,
            quantity=g.quantity,
            unit=g.unit,
            gst_rate=g.gst_rate,
            gross_paise=gross,
            discount_paise=discount,
            supply=supply,
            prices_include_tax=prices_include_tax,
        )
        for g, gross, discount in zip(goods, grosses, discounts, strict=True)
    ]
    if shipping_fee_paise:
        lines.append(
            tax_line(
                sku="SHIPPING",
                description="Shipping charges",
                hsn_code=SHIPPING_SAC,
                quantity=1,
                unit="OTH",
                gst_rate=max(g.gst_rate for g in goods),
                gross_paise=shipping_fee_paise,
                discount_paise=0,
                supply=supply,
                prices_include_tax=prices_include_tax,
            )
        )
    return lines


@dataclass(frozen=True, slots=True)
class Totals:
    """What an invoice adds up to."""

    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int

    @property
    def total_paise(self) -> int:
        return self.taxable_paise + self.cgst_paise + self.sgst_paise + self.igst_paise


def totals(lines: list[TaxedLine]) -> Totals:
    """The sums of an invoice's lines."""
    return Totals(
        taxable_paise=sum(x.taxable_paise for x in lines),
        cgst_paise=sum(x.cgst_paise for x in lines),
        sgst_paise=sum(x.sgst_paise for x in lines),
        igst_paise=sum(x.igst_paise for x in lines),
    )
