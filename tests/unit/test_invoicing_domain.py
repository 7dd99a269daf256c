"""GST invoices' decisions: real GSTINs' check digits, CGST+SGST or IGST by place of supply, the
discount and shipping fee split to the paisa, amounts in words, and the financial year's series."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import indian_pincode
import pytest

from services.invoicing import domain, issuing
from services.invoicing.domain import DocumentKind, Good, Supply

# Published GSTINs (a marketplace's, a large manufacturer's, and the GST portal's own example).
REAL_GSTINS = ("29AAICA3918J1ZE", "29AACCF0683K1ZD", "27AAACR5055K1Z7", "27AAPFU0939F1ZV")


@pytest.mark.parametrize("gstin", REAL_GSTINS)
def test_real_gstins_pass_the_check_digit(gstin: str) -> None:
    assert domain.gstin_problem(gstin) is None


@pytest.mark.parametrize(
    ("gstin", "says"),
    [
        ("29AAICA3918J1ZF", "check digit is wrong"),  # last character mistyped
        ("29AAICA3198J1ZE", "check digit is wrong"),  # two digits swapped
        ("29AAICA3918J1Z", "15 characters"),
        ("29AAICA3918J1XE", "not a GSTIN"),  # the 14th is always Z
        ("25AAICA3918J1ZE", "state code 25"),  # Daman and Diu's old code, merged in 2020
        ("29aaica3918j1ze", "not a GSTIN"),
    ],
)
def test_a_mistyped_gstin_is_refused_naming_why(gstin: str, says: str) -> None:
    problem = domain.gstin_problem(gstin)
    assert problem is not None and says in problem


def place_of(pincode: str) -> str:
    return domain.state_code(indian_pincode.get_state(pincode))


def test_bhiwandi_to_mumbai_is_intra_state_and_bhiwandi_to_jaipur_inter_state() -> None:
    bhiwandi, mumbai, jaipur = place_of("421302"), place_of("400001"), place_of("302001")
    assert (bhiwandi, mumbai, jaipur) == ("27", "27", "08")
    assert domain.supply_between(bhiwandi, mumbai) is Supply.INTRA_STATE
    assert domain.supply_between(bhiwandi, jaipur) is Supply.INTER_STATE


def test_every_state_of_the_pincode_directory_has_a_gst_code() -> None:
    codes = {state: domain.state_code(state) for state in indian_pincode.list_states()}
    assert codes["TAMIL NADU"] == "33" and codes["LADAKH"] == "38"
    assert codes["THE DADRA AND NAGAR HAVELI AND DAMAN AND DIU"] == "26"


TEA = Good("TEA-ASSAM-250", "Assam tea 250 g", "0902", Decimal(5), 2, 34900)
KURTA = Good("KURTA-M", "Cotton kurta M", "6206", Decimal(12), 1, 129900)


def test_intra_state_line_splits_the_tax_in_halves_and_adds_up_to_the_price() -> None:
    (line,) = domain.invoice_lines(
        [TEA],
        order_value_paise=69800,
        order_discount_paise=0,
        shipping_fee_paise=0,
        supply=Supply.INTRA_STATE,
    )
    # 69800 × 100 / 105 = 66476.19… → 66476; tax 3324 → CGST 1662 + SGST 1662.
    assert (line.taxable_paise, line.cgst_paise, line.sgst_paise, line.igst_paise) == (66476, 1662, 1662, 0)
    assert line.total_paise == 69800


def test_inter_state_line_is_all_igst() -> None:
    (line,) = domain.invoice_lines(
        [TEA],
        order_value_paise=69800,
        order_discount_paise=0,
        shipping_fee_paise=0,
        supply=Supply.INTER_STATE,
    )
    assert (line.taxable_paise, line.cgst_paise, line.sgst_paise, line.igst_paise) == (66476, 0, 0, 3324)


def test_discount_is_shared_by_value_and_shipping_is_its_own_line_at_the_goods_highest_rate() -> None:
    lines = domain.invoice_lines(
        [TEA, KURTA],
        order_value_paise=69800 + 129900,
        order_discount_paise=10001,
        shipping_fee_paise=4900,
        supply=Supply.INTRA_STATE,
    )
    tea, kurta, shipping = lines
    # 10001 × 69800 / 199700 = 3495.67 and × 129900 / 199700 = 6505.33: the odd paisa to the tea.
    assert (tea.discount_paise, kurta.discount_paise) == (3496, 6505)
    assert (shipping.hsn_code, shipping.gst_rate, shipping.gross_paise) == ("9965", Decimal(12), 4900)
    # Shipping 4900 at 12% inclusive: 4375 + 525 (262.5 → CGST 263, SGST 262).
    assert (shipping.taxable_paise, shipping.cgst_paise, shipping.sgst_paise) == (4375, 263, 262)
    assert domain.totals(lines).total_paise == 199700 - 10001 + 4900


def test_a_split_order_shares_its_discount_by_what_each_shipment_carries() -> None:
    whole = 69800 + 129900
    first = domain.invoice_lines(
        [TEA],
        order_value_paise=whole,
        order_discount_paise=10001,
        shipping_fee_paise=0,
        supply=Supply.INTER_STATE,
    )
    second = domain.invoice_lines(
        [KURTA],
        order_value_paise=whole,
        order_discount_paise=10001,
        shipping_fee_paise=0,
        supply=Supply.INTER_STATE,
    )
    assert first[0].discount_paise + second[0].discount_paise == 10001


def test_rounding_is_half_up_to_the_paisa() -> None:
    # 21 paise at 5% inclusive: 20.0 taxable, 1 tax; 1 paisa of tax intra-state → CGST 1, SGST 0.
    line = domain.tax_line(
        sku="X",
        description="x",
        hsn_code="0902",
        quantity=1,
        unit="NOS",
        gst_rate=Decimal(5),
        gross_paise=21,
        discount_paise=0,
        supply=Supply.INTRA_STATE,
        prices_include_tax=True,
    )
    assert (line.taxable_paise, line.cgst_paise, line.sgst_paise) == (20, 1, 0)
    # Exclusive prices: 1050 at 18% → 189 tax exactly; 1053 → 189.54 → 190.
    for value, tax in ((1050, 189), (1053, 190)):
        exclusive = domain.tax_line(
            sku="X",
            description="x",
            hsn_code="8517",
            quantity=1,
            unit="NOS",
            gst_rate=Decimal(18),
            gross_paise=value,
            discount_paise=0,
            supply=Supply.INTER_STATE,
            prices_include_tax=False,
        )
        assert (exclusive.taxable_paise, exclusive.igst_paise) == (value, tax)


def test_a_rate_that_is_not_a_gst_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="not a GST rate"):
        domain.invoice_lines(
            [Good("X", "x", "0902", Decimal(7), 1, 100)],
            order_value_paise=100,
            order_discount_paise=0,
            shipping_fee_paise=0,
            supply=Supply.INTER_STATE,
        )


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [(100, [1, 1, 1], [34, 33, 33]), (0, [5, 5], [0, 0]), (7, [0, 3], [0, 7]), (10, [2, 1, 1], [5, 3, 2])],
)
def test_shares_add_up_to_the_amount(amount: int, weights: list[int], expected: list[int]) -> None:
    assert domain.share(amount, weights) == expected


def test_amount_in_words_counts_in_lakh_and_crore() -> None:
    assert (
        domain.rupees_in_words(123456)
        == "Rupees One Thousand Two Hundred Thirty Four and Fifty Six Paise Only"
    )
    assert domain.number_in_words(123456789) == (
        "Twelve Crore Thirty Four Lakh Fifty Six Thousand Seven Hundred Eighty Nine"
    )
    assert domain.rupees_in_words(10_000_000_00) == "Rupees One Crore Only"
    assert domain.number_in_words(100_000) == "One Lakh"


@pytest.mark.parametrize(
    ("at", "year"),
    [
        (datetime(2027, 3, 31, 18, 29, 59, tzinfo=UTC), 2026),  # 23:59:59 IST on 31 March
        (datetime(2027, 3, 31, 18, 30, tzinfo=UTC), 2027),  # 00:00 IST on 1 April
        (datetime(2026, 12, 31, 20, 0, tzinfo=UTC), 2026),  # 1 January IST, same financial year
    ],
)
def test_the_financial_year_turns_at_midnight_ist_on_1_april(at: datetime, year: int) -> None:
    assert domain.financial_year(at) == year


def test_numbers_fit_sixteen_characters_of_the_allowed_kind() -> None:
    assert domain.document_number(DocumentKind.INVOICE, 2026, 1) == "INV/26-27/000001"
    assert domain.document_number(DocumentKind.CREDIT_NOTE, 2099, 1234567) == "CN/99-00/1234567"
    with pytest.raises(ValueError, match="16 characters"):
        domain.document_number(DocumentKind.INVOICE, 2026, 1_000_000)


@pytest.mark.parametrize(
    ("rate", "text"), [(Decimal(40), "40"), (Decimal("0.25"), "0.25"), ("5", "5"), (Decimal("18.0"), "18")]
)
def test_a_gst_rate_on_the_invoice_event_is_plain_digits_never_an_exponent(rate: object, text: str) -> None:
    assert issuing.rate_text(rate) == text
