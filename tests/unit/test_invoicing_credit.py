"""Credit notes' decisions (ADR 0240), worked by hand: a partial return credits what was refunded for
it, in the invoice line's tax split; the shipping line only when its fee was refunded; an RTO credits
the whole invoice; nothing is ever credited twice or above what was invoiced."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from services.invoicing import domain
from services.invoicing.domain import Good, InvoiceToCredit, Supply, TaxedLine

TEA = Good("TEA-ASSAM-250", "Assam tea 250 g", "0902", Decimal(5), 2, 34900)
KURTA = Good("KURTA-M", "Cotton kurta M", "6206", Decimal(12), 1, 129900)


def invoice(
    goods: list[Good], *, supply: Supply, discount: int = 0, fee: int = 0, credited: Sequence[TaxedLine] = ()
) -> InvoiceToCredit:
    lines = domain.invoice_lines(
        goods,
        order_value_paise=sum(g.quantity * g.unit_price_paise for g in goods),
        order_discount_paise=discount,
        shipping_fee_paise=fee,
        supply=supply,
    )
    return InvoiceToCredit(
        "INV-1",
        supply,
        tuple(domain.left_to_credit(x, [c for c in credited if c.sku == x.sku]) for x in lines),
    )


def amounts(line: TaxedLine) -> tuple[str, int, int, int, int, int, int]:
    return (
        line.sku,
        line.quantity,
        line.total_paise,
        line.taxable_paise,
        line.cgst_paise,
        line.sgst_paise,
        line.igst_paise,
    )


def test_one_of_two_units_returned_in_maharashtra_credits_half_the_line_split_cgst_and_sgst() -> None:
    # Invoiced: 2 × ₹349 tea at 5%, Bhiwandi → Mumbai: taxable 66476, CGST 1662, SGST 1662.
    inv = invoice([TEA], supply=Supply.INTRA_STATE)
    credit = domain.refund_credit(
        [inv], returned=[("TEA-ASSAM-250", 1)], items_paise=34900, shipping_fee_paise=0
    )
    # 34900 × 66476 / 69800 = 33238 taxable; tax 1662 split 831 + 831.
    assert [amounts(x) for x in credit["INV-1"]] == [("TEA-ASSAM-250", 1, 34900, 33238, 831, 831, 0)]


def test_partial_return_after_a_discount_credits_the_refund_not_the_list_price_and_keeps_the_shipping() -> (
    None
):
    # Order: 2 tea + 1 kurta = ₹1,997, ₹100 off, ₹50 shipping, to Jaipur (IGST). The discount is
    # shared 3495 / 6505, so the tea line is worth 66305 (taxable 63148, IGST 3157).
    inv = invoice([TEA, KURTA], supply=Supply.INTER_STATE, discount=10000, fee=5000)
    # Returns refunded one tea, changed mind: 34900 × 189700 / 199700 = 33152, no shipping fee.
    credit = domain.refund_credit(
        [inv], returned=[("TEA-ASSAM-250", 1)], items_paise=33152, shipping_fee_paise=0
    )
    # 33152 × 63148 / 66305 = 31573.5 → 31574 taxable (half up), IGST the rest: 1578.
    assert [amounts(x) for x in credit["INV-1"]] == [("TEA-ASSAM-250", 1, 33152, 31574, 0, 0, 1578)]


def test_the_shipping_line_is_credited_only_with_the_fee_the_refund_repaid() -> None:
    inv = invoice([TEA, KURTA], supply=Supply.INTER_STATE, discount=10000, fee=5000)
    # The kurta came back damaged: its whole value (123395) and its share of the fee
    # (5000 × 129900 / 199700 = 3252) went back.
    credit = domain.refund_credit(
        [inv], returned=[("KURTA-M", 1)], items_paise=123395, shipping_fee_paise=3252
    )
    assert [amounts(x) for x in credit["INV-1"]] == [
        ("KURTA-M", 1, 123395, 110174, 0, 0, 13221),  # the whole line, exactly as invoiced
        ("SHIPPING", 1, 3252, 2903, 0, 0, 349),  # 3252 × 4464 / 5000 = 2903.4 → 2903
    ]


def test_an_rto_credits_every_line_exactly_as_invoiced_shipping_too() -> None:
    inv = invoice([TEA, KURTA], supply=Supply.INTRA_STATE, discount=10000, fee=5000)
    credit = domain.rto_credit(inv)
    invoiced = [c.line for c in inv.lines]
    assert [amounts(x) for x in credit] == [amounts(x) for x in invoiced]
    assert domain.totals(credit) == domain.totals(invoiced)
    assert domain.totals(credit).total_paise == 199700 - 10000 + 5000


def test_what_was_credited_before_is_never_credited_again() -> None:
    first = invoice([TEA], supply=Supply.INTRA_STATE)
    one = domain.refund_credit(
        [first], returned=[("TEA-ASSAM-250", 1)], items_paise=34900, shipping_fee_paise=0
    )
    after = invoice([TEA], supply=Supply.INTRA_STATE, credited=one["INV-1"])
    # The same unit claimed again, with more money than is left: only the one unit left, at its value.
    two = domain.refund_credit(
        [after], returned=[("TEA-ASSAM-250", 2)], items_paise=99999, shipping_fee_paise=0
    )
    assert [amounts(x) for x in two["INV-1"]] == [("TEA-ASSAM-250", 1, 34900, 33238, 831, 831, 0)]
    both = one["INV-1"] + two["INV-1"]
    assert domain.totals(both) == domain.totals([c.line for c in first.lines])
    nothing_left = invoice([TEA], supply=Supply.INTRA_STATE, credited=both)
    assert domain.rto_credit(nothing_left) == []
    assert (
        domain.refund_credit(
            [nothing_left], returned=[("TEA-ASSAM-250", 1)], items_paise=34900, shipping_fee_paise=0
        )
        == {}
    )


def test_a_return_of_units_from_two_parcels_credits_each_parcels_invoice() -> None:
    lines_a = domain.invoice_lines(
        [TEA],
        order_value_paise=69800,
        order_discount_paise=0,
        shipping_fee_paise=0,
        supply=Supply.INTER_STATE,
    )
    lines_b = domain.invoice_lines(
        [TEA],
        order_value_paise=69800,
        order_discount_paise=0,
        shipping_fee_paise=0,
        supply=Supply.INTER_STATE,
    )
    a = InvoiceToCredit("INV-A", Supply.INTER_STATE, tuple(domain.left_to_credit(x, []) for x in lines_a))
    b = InvoiceToCredit("INV-B", Supply.INTER_STATE, tuple(domain.left_to_credit(x, []) for x in lines_b))
    credit = domain.refund_credit(
        [a, b], returned=[("TEA-ASSAM-250", 3)], items_paise=104700, shipping_fee_paise=0
    )
    assert [amounts(x) for x in credit["INV-A"]] == [("TEA-ASSAM-250", 2, 69800, 66476, 0, 0, 3324)]
    assert [amounts(x) for x in credit["INV-B"]] == [("TEA-ASSAM-250", 1, 34900, 33238, 0, 0, 1662)]


def test_a_refund_of_nothing_for_the_goods_credits_no_goods_line() -> None:
    inv = invoice([TEA], supply=Supply.INTRA_STATE)
    # A customer-fault unit that failed QC, refunded at 0%.
    assert (
        domain.refund_credit([inv], returned=[("TEA-ASSAM-250", 1)], items_paise=0, shipping_fee_paise=0)
        == {}
    )


def test_a_credit_above_what_is_left_of_a_line_is_refused() -> None:
    inv = invoice([TEA], supply=Supply.INTRA_STATE)
    with pytest.raises(ValueError, match="what is left"):
        domain.credit_line(inv.lines[0], units=1, value_paise=69801, supply=Supply.INTRA_STATE)


def test_a_sku_on_two_lines_of_an_invoice_is_credited_from_the_first_line_first() -> None:
    one = Good("TEA-ASSAM-250", "Assam tea 250 g", "0902", Decimal(5), 1, 34900)
    invoiced = domain.invoice_lines(
        [one, one],
        order_value_paise=69800,
        order_discount_paise=0,
        shipping_fee_paise=0,
        supply=Supply.INTRA_STATE,
    )
    fresh = domain.invoice_left("INV-1", Supply.INTRA_STATE, invoiced, [])
    first = domain.refund_credit(
        [fresh], returned=[("TEA-ASSAM-250", 1)], items_paise=34900, shipping_fee_paise=0
    )
    after = domain.invoice_left("INV-1", Supply.INTRA_STATE, invoiced, first["INV-1"])
    assert [(c.units_left, c.value_left_paise) for c in after.lines] == [(0, 0), (1, 34900)]
    # What the RTO credits now is the second line only: together, exactly the invoice.
    rest = domain.rto_credit(after)
    assert domain.totals(first["INV-1"] + rest) == domain.totals(invoiced)
