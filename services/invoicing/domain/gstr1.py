"""A month's GSTR-1 tables for one GSTIN, as the rows a seller's accountant imports (ADR 0241): pure.

Sections, each the columns of the GST Offline Tool's sheet of the same name:
- b2b (table 4): invoices to registered buyers (the order named the buyer's GSTIN), one row per
  invoice and rate; they are in no B2C section, nor are their credit notes (CDNR is not produced);
- b2cl (table 5): inter-state invoices to unregistered buyers above ₹1,00,000 (Rule 59(4)(b) as
  amended by Notification 12/2024-Central Tax, from 1 August 2024), one row per invoice and rate;
- b2cs (table 7): every other B2C supply, summed by place of supply and rate, net of the month's
  credit notes against such invoices;
- cdnur (table 9B): credit notes against B2CL invoices, one row per note and rate;
- hsn (table 12): by HSN/SAC, unit and rate, net of the month's credit notes;
- docs (table 13): each series' first and last number, how many were issued and cancelled.
Cancelled invoices are reported in docs only. Amounts are rupees with two decimals from paise;
dates are India's (dd-Mon-yyyy); the place of supply reads `27-Maharashtra`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from chassis.clock import india_date
from services.invoicing.domain.gstin import STATE_CODES
from services.invoicing.domain.tax import Supply, TaxedLine

B2CL_LIMIT_PAISE = 1_00_000_00
"""Above this invoice value an inter-state B2C invoice is reported on its own (₹1 lakh)."""

HEADERS: dict[str, tuple[str, ...]] = {
    "b2b": (
        "GSTIN/UIN of Recipient",
        "Receiver Name",
        "Invoice Number",
        "Invoice date",
        "Invoice Value",
        "Place Of Supply",
        "Reverse Charge",
        "Applicable % of Tax Rate",
        "Invoice Type",
        "E-Commerce GSTIN",
        "Rate",
        "Taxable Value",
        "Cess Amount",
    ),
    "b2cl": (
        "Invoice Number",
        "Invoice date",
        "Invoice Value",
        "Place Of Supply",
        "Applicable % of Tax Rate",
        "Rate",
        "Taxable Value",
        "Cess Amount",
        "E-Commerce GSTIN",
    ),
    "b2cs": (
        "Type",
        "Place Of Supply",
        "Applicable % of Tax Rate",
        "Rate",
        "Taxable Value",
        "Cess Amount",
        "E-Commerce GSTIN",
    ),
    "cdnur": (
        "UR Type",
        "Note Number",
        "Note Date",
        "Note Type",
        "Place Of Supply",
        "Note Value",
        "Applicable % of Tax Rate",
        "Rate",
        "Taxable Value",
        "Cess Amount",
    ),
    "hsn": (
        "HSN",
        "Description",
        "UQC",
        "Total Quantity",
        "Total Value",
        "Rate",
        "Taxable Value",
        "Integrated Tax Amount",
        "Central Tax Amount",
        "State/UT Tax Amount",
        "Cess Amount",
    ),
    "docs": ("Nature of Document", "Sr. No. From", "Sr. No. To", "Total Number", "Cancelled"),
}
SECTIONS = tuple(HEADERS)

# The GST unit quantity codes a tax class uses most, as the return names them; a service (SAC 99…)
# has no quantity.
_UQC = {
    "BOX": "BOX-BOX",
    "BTL": "BTL-BOTTLES",
    "DOZ": "DOZ-DOZENS",
    "GMS": "GMS-GRAMMES",
    "KGS": "KGS-KILOGRAMS",
    "LTR": "LTR-LITRES",
    "MTR": "MTR-METERS",
    "NOS": "NOS-NUMBERS",
    "OTH": "OTH-OTHERS",
    "PAC": "PAC-PACKS",
    "PCS": "PCS-PIECES",
    "PRS": "PRS-PAIRS",
    "SET": "SET-SETS",
}


@dataclass(frozen=True, slots=True)
class MonthInvoice:
    """An invoice issued in the month."""

    number: str
    serial: int
    issued_at: datetime
    cancelled: bool
    place_of_supply: str
    supply: Supply
    lines: tuple[TaxedLine, ...]
    buyer_gstin: str | None = None  # a registered buyer's: a B2B invoice
    buyer_name: str = ""

    @property
    def total_paise(self) -> int:
        return sum(x.total_paise for x in self.lines)


@dataclass(frozen=True, slots=True)
class MonthCreditNote:
    """A credit note issued in the month, and the value of the invoice it reduces (which decides
    whether it is reported against B2CL or netted in B2CS)."""

    number: str
    serial: int
    issued_at: datetime
    place_of_supply: str
    supply: Supply
    lines: tuple[TaxedLine, ...]
    invoice_total_paise: int
    buyer_gstin: str | None = None  # its invoice's registered buyer: not a B2C credit

    @property
    def total_paise(self) -> int:
        return sum(x.total_paise for x in self.lines)


def is_b2cl(supply: Supply, invoice_total_paise: int) -> bool:
    """An inter-state B2C invoice above ₹1 lakh."""
    return supply is Supply.INTER_STATE and invoice_total_paise > B2CL_LIMIT_PAISE


def rupees(paise: int) -> str:
    """12345 → "123.45"; -5 → "-0.05"."""
    sign = "-" if paise < 0 else ""
    whole, rest = divmod(abs(paise), 100)
    return f"{sign}{whole}.{rest:02d}"


def rate_text(rate: Decimal) -> str:
    """Decimal("5.00") → "5"; Decimal("0.25") → "0.25"."""
    return format(rate.normalize(), "f")


def place(code: str) -> str:
    """ "27" → "27-Maharashtra"."""
    return f"{code}-{STATE_CODES.get(code, 'Other Territory')}"


def day(at: datetime) -> str:
    """India's date of a moment as the return writes it: 05-Nov-2026."""
    return india_date(at).strftime("%d-%b-%Y")


def _by_rate(lines: Iterable[TaxedLine]) -> dict[Decimal, int]:
    taxable: dict[Decimal, int] = defaultdict(int)
    for line in lines:
        taxable[line.gst_rate] += line.taxable_paise
    return taxable


def b2b(invoices: Sequence[MonthInvoice]) -> list[list[str]]:
    """Table 4: each invoice to a registered buyer, a row per rate."""
    rows = []
    for inv in sorted(invoices, key=lambda x: x.serial):
        if inv.cancelled or not inv.buyer_gstin:
            continue
        for rate, taxable in sorted(_by_rate(inv.lines).items()):
            rows.append(
                [
                    inv.buyer_gstin,
                    inv.buyer_name,
                    inv.number,
                    day(inv.issued_at),
                    rupees(inv.total_paise),
                    place(inv.place_of_supply),
                    "N",
                    "",
                    "Regular B2B",
                    "",
                    rate_text(rate),
                    rupees(taxable),
                    "",
                ]
            )
    return rows


def b2cl(invoices: Sequence[MonthInvoice]) -> list[list[str]]:
    """Table 5: each large inter-state invoice, a row per rate."""
    rows = []
    for inv in sorted(invoices, key=lambda x: x.serial):
        if inv.cancelled or inv.buyer_gstin or not is_b2cl(inv.supply, inv.total_paise):
            continue
        for rate, taxable in sorted(_by_rate(inv.lines).items()):
            rows.append(
                [
                    inv.number,
                    day(inv.issued_at),
                    rupees(inv.total_paise),
                    place(inv.place_of_supply),
                    "",
                    rate_text(rate),
                    rupees(taxable),
                    "",
                    "",
                ]
            )
    return rows


def b2cs(invoices: Sequence[MonthInvoice], notes: Sequence[MonthCreditNote]) -> list[list[str]]:
    """Table 7: the other B2C supplies by place of supply and rate, net of their credit notes."""
    taxable: dict[tuple[str, Decimal], int] = defaultdict(int)
    for inv in invoices:
        if not inv.cancelled and not inv.buyer_gstin and not is_b2cl(inv.supply, inv.total_paise):
            for rate, value in _by_rate(inv.lines).items():
                taxable[(inv.place_of_supply, rate)] += value
    for note in notes:
        if not note.buyer_gstin and not is_b2cl(note.supply, note.invoice_total_paise):
            for rate, value in _by_rate(note.lines).items():
                taxable[(note.place_of_supply, rate)] -= value
    return [
        ["OE", place(pos), "", rate_text(rate), rupees(value), "", ""]
        for (pos, rate), value in sorted(taxable.items())
        if value
    ]


def cdnur(notes: Sequence[MonthCreditNote]) -> list[list[str]]:
    """Table 9B: credit notes against large inter-state B2C invoices, a row per rate."""
    rows = []
    for note in sorted(notes, key=lambda x: x.serial):
        if note.buyer_gstin or not is_b2cl(note.supply, note.invoice_total_paise):
            continue
        for rate, taxable in sorted(_by_rate(note.lines).items()):
            rows.append(
                [
                    "B2CL",
                    note.number,
                    day(note.issued_at),
                    "C",
                    place(note.place_of_supply),
                    rupees(note.total_paise),
                    "",
                    rate_text(rate),
                    rupees(taxable),
                    "",
                ]
            )
    return rows


def hsn(invoices: Sequence[MonthInvoice], notes: Sequence[MonthCreditNote]) -> list[list[str]]:
    """Table 12: by HSN/SAC, unit and rate, net of the month's credit notes."""
    sums: dict[tuple[str, str, Decimal], list[int]] = {}
    names: dict[tuple[str, str, Decimal], str] = {}

    def add(lines: Iterable[TaxedLine], sign: int) -> None:
        for line in lines:
            service = line.hsn_code.startswith("99")
            key = (line.hsn_code, "NA" if service else _UQC.get(line.unit, line.unit), line.gst_rate)
            names.setdefault(key, line.description)
            total = sums.setdefault(key, [0, 0, 0, 0, 0, 0])
            amounts = (
                0 if service else line.quantity,
                line.total_paise,
                line.taxable_paise,
                line.igst_paise,
                line.cgst_paise,
                line.sgst_paise,
            )
            for i, amount in enumerate(amounts):
                total[i] += sign * amount

    for inv in invoices:
        if not inv.cancelled:
            add(inv.lines, 1)
    for note in notes:
        add(note.lines, -1)
    rows = []
    for key in sorted(sums):
        quantity, value, taxable, igst, cgst, sgst = sums[key]
        if not any(sums[key]):
            continue
        code, uqc, rate = key
        rows.append(
            [
                code,
                names[key],
                uqc,
                str(quantity),
                rupees(value),
                rate_text(rate),
                rupees(taxable),
                rupees(igst),
                rupees(cgst),
                rupees(sgst),
                "",
            ]
        )
    return rows


def docs(invoices: Sequence[MonthInvoice], notes: Sequence[MonthCreditNote]) -> list[list[str]]:
    """Table 13: each series issued in the month: first and last number, total, cancelled."""
    rows = []
    if invoices:
        ordered = sorted(invoices, key=lambda x: x.serial)
        rows.append(
            [
                "Invoices for outward supply",
                ordered[0].number,
                ordered[-1].number,
                str(len(ordered)),
                str(sum(x.cancelled for x in ordered)),
            ]
        )
    if notes:
        listed = sorted(notes, key=lambda x: x.serial)
        rows.append(["Credit Note", listed[0].number, listed[-1].number, str(len(listed)), "0"])
    return rows


def section(name: str, invoices: Sequence[MonthInvoice], notes: Sequence[MonthCreditNote]) -> list[list[str]]:
    """One section's rows, its header first."""
    rows = {
        "b2b": lambda: b2b(invoices),
        "b2cl": lambda: b2cl(invoices),
        "b2cs": lambda: b2cs(invoices, notes),
        "cdnur": lambda: cdnur(notes),
        "hsn": lambda: hsn(invoices, notes),
        "docs": lambda: docs(invoices, notes),
    }[name]()
    return [list(HEADERS[name]), *rows]
