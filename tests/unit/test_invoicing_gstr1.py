"""GSTR-1 for a hand-computed month (ADR 0241): November 2026 of a Bhiwandi seller (GSTIN state 27).

- INV/26-27/000001, 5 Nov, Mumbai (27, intra): 2 × ₹349 tea at 5%: taxable 664.76, CGST 16.62, SGST 16.62.
- INV/26-27/000002, 12 Nov, Jaipur (08, inter): a ₹1,299 kurta at 12% (taxable 1159.82, IGST 139.18)
  and ₹50 shipping at 12% (taxable 44.64, IGST 5.36): ₹1,349, a small B2C invoice.
- INV/26-27/000003, 20 Nov, Bengaluru (29, inter): a ₹1,20,000 laptop at 18% (taxable 101694.92,
  IGST 18305.08): above ₹1 lakh, so B2CL.
- INV/26-27/000004, 30 Nov 23:00 IST, Mumbai: one tea, cancelled.
- CN/26-27/000001, 22 Nov: one tea of invoice 1 returned (taxable 332.38, CGST 8.31, SGST 8.31).
- CN/26-27/000002, 25 Nov: invoice 3's laptop back as an RTO, whole.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from chassis.clock import IST
from services.invoicing import domain
from services.invoicing.api import month_bounds
from services.invoicing.domain import Good, Supply, gstr1
from services.invoicing.domain.gstr1 import MonthCreditNote, MonthInvoice

TEA = Good("TEA-ASSAM-250", "Assam tea 250 g", "0902", Decimal(5), 2, 34900)
KURTA = Good("KURTA-M", "Cotton kurta M", "6206", Decimal(12), 1, 129900)
LAPTOP = Good("LAPTOP-14", "Laptop 14 inch", "8471", Decimal(18), 1, 12000000)


def ist(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=IST).astimezone(UTC)


def lines(goods: list[Good], supply: Supply, fee: int = 0) -> tuple[domain.TaxedLine, ...]:
    value = sum(g.quantity * g.unit_price_paise for g in goods)
    return tuple(
        domain.invoice_lines(
            goods, order_value_paise=value, order_discount_paise=0, shipping_fee_paise=fee, supply=supply
        )
    )


def month() -> tuple[list[MonthInvoice], list[MonthCreditNote]]:
    one_tea = Good("TEA-ASSAM-250", "Assam tea 250 g", "0902", Decimal(5), 1, 34900)
    inv1 = MonthInvoice(
        "INV/26-27/000001", 1, ist(5), False, "27", Supply.INTRA_STATE, lines([TEA], Supply.INTRA_STATE)
    )
    inv2 = MonthInvoice(
        "INV/26-27/000002",
        2,
        ist(12),
        False,
        "08",
        Supply.INTER_STATE,
        lines([KURTA], Supply.INTER_STATE, 5000),
    )
    inv3 = MonthInvoice(
        "INV/26-27/000003", 3, ist(20), False, "29", Supply.INTER_STATE, lines([LAPTOP], Supply.INTER_STATE)
    )
    inv4 = MonthInvoice(
        "INV/26-27/000004",
        4,
        ist(30, 23),
        True,
        "27",
        Supply.INTRA_STATE,
        lines([one_tea], Supply.INTRA_STATE),
    )
    returned = domain.refund_credit(
        [
            domain.InvoiceToCredit(
                "1", Supply.INTRA_STATE, tuple(domain.left_to_credit(x, []) for x in inv1.lines)
            )
        ],
        returned=[("TEA-ASSAM-250", 1)],
        items_paise=34900,
        shipping_fee_paise=0,
    )["1"]
    rto = domain.rto_credit(
        domain.InvoiceToCredit(
            "3", Supply.INTER_STATE, tuple(domain.left_to_credit(x, []) for x in inv3.lines)
        )
    )
    cn1 = MonthCreditNote(
        "CN/26-27/000001", 1, ist(22), "27", Supply.INTRA_STATE, tuple(returned), inv1.total_paise
    )
    cn2 = MonthCreditNote(
        "CN/26-27/000002", 2, ist(25), "29", Supply.INTER_STATE, tuple(rto), inv3.total_paise
    )
    return [inv1, inv2, inv3, inv4], [cn1, cn2]


def test_b2cl_lists_only_the_inter_state_invoice_above_one_lakh() -> None:
    invoices, notes = month()
    assert gstr1.section("b2cl", invoices, notes) == [
        list(gstr1.HEADERS["b2cl"]),
        ["INV/26-27/000003", "20-Nov-2026", "120000.00", "29-Karnataka", "", "18", "101694.92", "", ""],
    ]


def test_b2cs_sums_by_state_and_rate_net_of_the_return_and_leaves_out_the_cancelled_invoice() -> None:
    invoices, notes = month()
    assert gstr1.section("b2cs", invoices, notes)[1:] == [
        ["OE", "08-Rajasthan", "", "12", "1204.46", "", ""],  # 1159.82 kurta + 44.64 shipping
        ["OE", "27-Maharashtra", "", "5", "332.38", "", ""],  # 664.76 less the 332.38 credited
    ]


def test_the_credit_note_of_a_b2cl_invoice_goes_to_cdnur() -> None:
    invoices, notes = month()
    assert gstr1.section("cdnur", invoices, notes)[1:] == [
        [
            "B2CL",
            "CN/26-27/000002",
            "25-Nov-2026",
            "C",
            "29-Karnataka",
            "120000.00",
            "",
            "18",
            "101694.92",
            "",
        ]
    ]


def test_hsn_summary_is_net_of_credit_notes_and_shipping_is_a_service_without_quantity() -> None:
    invoices, notes = month()
    assert gstr1.section("hsn", invoices, notes)[1:] == [
        ["0902", "Assam tea 250 g", "NOS-NUMBERS", "1", "349.00", "5", "332.38", "0.00", "8.31", "8.31", ""],
        [
            "6206",
            "Cotton kurta M",
            "NOS-NUMBERS",
            "1",
            "1299.00",
            "12",
            "1159.82",
            "139.18",
            "0.00",
            "0.00",
            "",
        ],
        # 8471: the laptop sold and credited whole in the month nets to nothing and is left out.
        ["9965", "Shipping charges", "NA", "0", "50.00", "12", "44.64", "5.36", "0.00", "0.00", ""],
    ]


def test_document_summary_counts_each_series_with_the_cancelled_invoice() -> None:
    invoices, notes = month()
    assert gstr1.section("docs", invoices, notes)[1:] == [
        ["Invoices for outward supply", "INV/26-27/000001", "INV/26-27/000004", "4", "1"],
        ["Credit Note", "CN/26-27/000001", "CN/26-27/000002", "2", "0"],
    ]


def test_an_inter_state_invoice_of_exactly_one_lakh_is_still_b2cs() -> None:
    assert not gstr1.is_b2cl(Supply.INTER_STATE, 1_00_000_00)
    assert gstr1.is_b2cl(Supply.INTER_STATE, 1_00_000_01)
    assert not gstr1.is_b2cl(Supply.INTRA_STATE, 50_00_000_00)


def test_amounts_read_in_rupees_to_the_paisa() -> None:
    assert [gstr1.rupees(p) for p in (0, 5, 12345, -5, -33238)] == [
        "0.00",
        "0.05",
        "123.45",
        "-0.05",
        "-332.38",
    ]
    assert [gstr1.rate_text(Decimal(r)) for r in ("5.00", "0.25", "40", "12")] == ["5", "0.25", "40", "12"]


def test_a_month_runs_from_midnight_ist_on_the_first_to_midnight_ist_on_the_next_first() -> None:
    assert month_bounds("2026-11") == (
        datetime(2026, 10, 31, 18, 30, tzinfo=UTC),
        datetime(2026, 11, 30, 18, 30, tzinfo=UTC),
    )
    assert month_bounds("2026-12")[1] == datetime(2026, 12, 31, 18, 30, tzinfo=UTC)


def test_an_invoice_to_a_registered_buyer_is_in_b2b_and_in_no_b2c_section() -> None:
    invoices, notes = month()
    b2b = MonthInvoice(
        "INV/26-27/000005",
        5,
        ist(26),
        False,
        "29",
        Supply.INTER_STATE,
        lines([LAPTOP], Supply.INTER_STATE),
        buyer_gstin="29AAICA3918J1ZE",
        buyer_name="Acme Cafe Private Limited",
    )
    note = MonthCreditNote(
        "CN/26-27/000003", 3, ist(27), "29", Supply.INTER_STATE, b2b.lines, b2b.total_paise, "29AAICA3918J1ZE"
    )
    before = {name: gstr1.section(name, invoices, notes) for name in ("b2cl", "b2cs", "cdnur")}
    after = {
        name: gstr1.section(name, [*invoices, b2b], [*notes, note]) for name in ("b2cl", "b2cs", "cdnur")
    }
    assert after == before
    assert gstr1.section("b2b", [*invoices, b2b], notes)[1:] == [
        [
            "29AAICA3918J1ZE",
            "Acme Cafe Private Limited",
            "INV/26-27/000005",
            "26-Nov-2026",
            "120000.00",
            "29-Karnataka",
            "N",
            "",
            "Regular B2B",
            "",
            "18",
            "101694.92",
            "",
        ]
    ]
