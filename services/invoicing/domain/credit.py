"""What a credit note credits, decided from the invoices it reduces: pure, in paise (ADR 0240).

Rules, stated once:
- A credit note line is a part of one invoice line: the units credited and the value credited (what
  went back to the customer, tax included), its taxable value and taxes in the proportions of what is
  left of the invoice line (taxable = value × taxable left / value left, rounded half up; the tax is
  the rest; CGST half of it rounded half up and SGST the rest, or all IGST, as on the invoice). The
  credit that takes the last of a line takes exactly what is left of each amount, so a line's credits
  add up to its invoiced amounts, never more.
- Nothing is credited twice: a line's units and value already credited are taken off first, so a
  credit never exceeds what is left of the invoice.
- A return credits what was refunded for it: the refund's goods value is shared over the units
  returned in proportion to their invoiced value (never above it); the shipping line is credited only
  with the part of the refund that repaid the shipping fee, and not at all when none did.
- An RTO credits everything left of the parcel's invoice, the shipping line too: the goods never
  reached the customer, so no supply took place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from services.invoicing.domain.tax import SHIPPING_SAC, Supply, TaxedLine, half_up, share


@dataclass(frozen=True, slots=True)
class Creditable:
    """One invoice line and what is left of it to credit (units, value, taxable value, each tax)."""

    line: TaxedLine
    units_left: int
    value_left_paise: int
    taxable_left_paise: int
    cgst_left_paise: int
    sgst_left_paise: int
    igst_left_paise: int

    @property
    def is_shipping(self) -> bool:
        return self.line.hsn_code == SHIPPING_SAC and self.line.sku == "SHIPPING"


@dataclass(frozen=True, slots=True)
class InvoiceToCredit:
    """An invoice that stands, its supply and its lines with what is left of each."""

    invoice_id: str
    supply: Supply
    lines: tuple[Creditable, ...]


def left_to_credit(invoiced: TaxedLine, credited: Sequence[TaxedLine]) -> Creditable:
    """An invoice line less what earlier credit notes took of it (never below nothing)."""

    def left(field: str) -> int:
        return max(int(getattr(invoiced, field)) - sum(int(getattr(x, field)) for x in credited), 0)

    return Creditable(
        line=invoiced,
        units_left=left("quantity"),
        value_left_paise=max(invoiced.total_paise - sum(x.total_paise for x in credited), 0),
        taxable_left_paise=left("taxable_paise"),
        cgst_left_paise=left("cgst_paise"),
        sgst_left_paise=left("sgst_paise"),
        igst_left_paise=left("igst_paise"),
    )


_TAKEN = ("quantity", "taxable_paise", "cgst_paise", "sgst_paise", "igst_paise")


def invoice_left(
    invoice_id: str, supply: Supply, invoiced: Sequence[TaxedLine], credited: Sequence[TaxedLine]
) -> InvoiceToCredit:
    """An invoice's lines less what its credit notes took of them, matched by SKU; when a SKU is on
    two lines, what was credited of it is taken from the first line first."""
    taken: dict[str, dict[str, int]] = {}
    for line in credited:
        sums = taken.setdefault(line.sku, dict.fromkeys(_TAKEN, 0))
        for field in _TAKEN:
            sums[field] += int(getattr(line, field))
    lines = []
    for line in invoiced:
        sums = taken.get(line.sku, dict.fromkeys(_TAKEN, 0))
        took = {field: min(int(getattr(line, field)), sums[field]) for field in _TAKEN}
        for field in _TAKEN:
            sums[field] -= took[field]
        before = replace(
            line,
            quantity=took["quantity"],
            taxable_paise=took["taxable_paise"],
            cgst_paise=took["cgst_paise"],
            sgst_paise=took["sgst_paise"],
            igst_paise=took["igst_paise"],
        )
        lines.append(left_to_credit(line, [before]))
    return InvoiceToCredit(invoice_id=invoice_id, supply=supply, lines=tuple(lines))


def credit_line(creditable: Creditable, *, units: int, value_paise: int, supply: Supply) -> TaxedLine:
    """A credit note line: `units` of an invoice line and `value_paise` of its value, tax included,
    split into taxable value and taxes as what is left of the invoice line is (all that is left
    when the credit takes the rest of its value)."""
    c = creditable
    if not 0 <= value_paise <= c.value_left_paise:
        raise ValueError("a credit is between nothing and what is left of the line")
    if not 0 <= units <= max(c.units_left, 1):
        raise ValueError("a credit takes no more units than are left of the line")
    if value_paise == c.value_left_paise:
        taxable, cgst, sgst, igst = (
            c.taxable_left_paise,
            c.cgst_left_paise,
            c.sgst_left_paise,
            c.igst_left_paise,
        )
    else:
        taxable = half_up(Decimal(value_paise) * c.taxable_left_paise / c.value_left_paise)
        tax = value_paise - taxable
        if supply is Supply.INTRA_STATE:
            cgst = half_up(Decimal(tax) / 2)
            sgst, igst = tax - cgst, 0
        else:
            cgst, sgst, igst = 0, 0, tax
    line = c.line
    return TaxedLine(
        sku=line.sku,
        description=line.description,
        hsn_code=line.hsn_code,
        quantity=units,
        unit=line.unit,
        gst_rate=line.gst_rate,
        gross_paise=value_paise,
        discount_paise=0,
        taxable_paise=taxable,
        cgst_paise=cgst,
        sgst_paise=sgst,
        igst_paise=igst,
    )


def _value_of(creditable: Creditable, units: int) -> int:
    """What `units` of a line are worth of what is left of it (all of it for the last units)."""
    if units >= creditable.units_left:
        return creditable.value_left_paise
    return creditable.value_left_paise * units // creditable.units_left


def refund_credit(
    invoices: Sequence[InvoiceToCredit],
    *,
    returned: Sequence[tuple[str, int]],
    items_paise: int,
    shipping_fee_paise: int,
) -> dict[str, list[TaxedLine]]:
    """A refunded return's credit per invoice (invoice id → its credit note's lines), the order's
    invoices oldest first: returned units are taken from the first invoice that has them left, the
    refund's goods value shared over them by value, its shipping part on the shipping lines."""
    taken: list[tuple[InvoiceToCredit, Creditable, int]] = []
    for sku, quantity in returned:
        wanted = quantity
        for invoice in invoices:
            for creditable in invoice.lines:
                if wanted and not creditable.is_shipping and creditable.line.sku == sku:
                    units = min(wanted, creditable.units_left)
                    if units:
                        taken.append((invoice, creditable, units))
                        wanted -= units
    worth = [_value_of(c, units) for _, c, units in taken]
    values = share(min(max(items_paise, 0), sum(worth)), worth) if sum(worth) else [0] * len(worth)
    credits: dict[str, list[TaxedLine]] = {}
    for (invoice, creditable, units), value in zip(taken, values, strict=True):
        if value:
            line = credit_line(creditable, units=units, value_paise=value, supply=invoice.supply)
            credits.setdefault(invoice.invoice_id, []).append(line)
    fee = max(shipping_fee_paise, 0)
    for invoice in invoices:
        for creditable in invoice.lines:
            if fee and creditable.is_shipping and creditable.value_left_paise:
                value = min(fee, creditable.value_left_paise)
                line = credit_line(creditable, units=1, value_paise=value, supply=invoice.supply)
                credits.setdefault(invoice.invoice_id, []).append(line)
                fee -= value
    return credits


def rto_credit(invoice: InvoiceToCredit) -> list[TaxedLine]:
    """An RTO parcel's credit: every line of its invoice, with all that is left of it."""
    return [
        credit_line(c, units=c.units_left, value_paise=c.value_left_paise, supply=invoice.supply)
        for c in invoice.lines
        if c.value_left_paise
    ]
