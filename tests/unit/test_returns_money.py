"""What a return is worth: refund amounts under the seller's policy, where the money goes, what an
exchange sends, and eligibility by quantity, category window and non-returnable SKUs."""

from datetime import UTC, datetime, timedelta

from contracts import (
    OrderLine,
    OrderStatus,
    PaymentMethod,
    ReturnLine,
    ReturnReason,
    ReturnResolution,
    ReturnStatus,
)
from services.returns import domain
from services.returns.domain import QcVerdict, RefundPolicy, SkuRule

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
KURTA = OrderLine(sku="KURTA-M", quantity=2, unit_price_paise=80000)
MUG = OrderLine(sku="MUG", quantity=1, unit_price_paise=20000)


def line(sku: str, quantity: int, reason: ReturnReason) -> ReturnLine:
    return ReturnLine(sku=sku, quantity=quantity, reason=reason)


def quote(returned, verdicts, *, discount=0, fee=0, policy=RefundPolicy(), refundable=10**9, rto=False):
    return domain.refund_quote(
        order_lines=[KURTA, MUG],
        discount_paise=discount,
        shipping_fee_paise=fee,
        returned=returned,
        verdicts={v.sku: v for v in verdicts},
        policy=policy,
        refundable_paise=refundable,
        rto=rto,
    )


def test_a_unit_that_passes_qc_is_refunded_at_its_price():
    q = quote([line("MUG", 1, ReturnReason.CHANGED_MIND)], [QcVerdict("MUG", 1, 0, "A")])
    assert (q.items_paise, q.shipping_fee_paise) == (20000, 0)


def test_the_order_discount_is_taken_back_in_proportion():
    # 18 000 off 180 000 of lines: every rupee of goods was sold at 90 paise.
    q = quote([line("MUG", 1, ReturnReason.CHANGED_MIND)], [QcVerdict("MUG", 1, 0, "A")], discount=18000)
    assert q.items_paise == 18000


def test_a_unit_the_customer_damaged_is_not_refunded_by_default():
    q = quote([line("KURTA-M", 2, ReturnReason.SIZE_ISSUE)], [QcVerdict("KURTA-M", 1, 1, "C")])
    assert q.items_paise == 80000


def test_the_seller_can_refund_a_share_of_units_failing_qc_by_the_customers_fault():
    q = quote(
        [line("KURTA-M", 2, ReturnReason.SIZE_ISSUE)],
        [QcVerdict("KURTA-M", 1, 1, "C")],
        policy=RefundPolicy(failed_qc_percent=50),
    )
    assert q.items_paise == 80000 + 40000


def test_a_damaged_item_is_refunded_with_its_share_of_shipping_even_if_it_fails_qc():
    q = quote([line("MUG", 1, ReturnReason.DAMAGED)], [QcVerdict("MUG", 0, 1, "D")], fee=9000)
    assert q.items_paise == 20000
    assert q.shipping_fee_paise == 9000 * 20000 // 180000


def test_shipping_is_not_refunded_when_the_customer_changed_their_mind():
    q = quote([line("MUG", 1, ReturnReason.CHANGED_MIND)], [QcVerdict("MUG", 1, 0, "A")], fee=9000)
    assert q.shipping_fee_paise == 0


def test_a_seller_may_always_or_never_refund_shipping():
    returned, verdicts = [line("MUG", 1, ReturnReason.CHANGED_MIND)], [QcVerdict("MUG", 1, 0, "A")]
    assert (
        quote(returned, verdicts, fee=9000, policy=RefundPolicy(shipping_fee="always")).shipping_fee_paise
        == 1000
    )
    damaged = [line("MUG", 1, ReturnReason.DAMAGED)]
    assert (
        quote(damaged, verdicts, fee=9000, policy=RefundPolicy(shipping_fee="never")).shipping_fee_paise == 0
    )


def test_a_refund_never_exceeds_what_is_left_to_refund():
    q = quote(
        [line("KURTA-M", 2, ReturnReason.DEFECTIVE)],
        [QcVerdict("KURTA-M", 2, 0, "A")],
        fee=9000,
        refundable=100000,
    )
    assert q.total_paise == 100000


def test_an_rto_parcel_is_worth_everything_it_carried_even_if_damaged_in_transit():
    q = quote([line("MUG", 1, ReturnReason.OTHER)], [QcVerdict("MUG", 0, 1, "D")], fee=9000, rto=True)
    assert q.items_paise == 20000 and q.shipping_fee_paise == 1000


def test_money_goes_back_to_the_gateway_payment_or_as_the_cod_customer_chose():
    prepaid = dict(method=PaymentMethod.UPI, gateway="razorpay", gateway_payment_id="pay_1", refund_to=None)
    assert domain.refund_mode(**prepaid) == "gateway_refund"
    cod = dict(method=PaymentMethod.COD, gateway=None, gateway_payment_id=None)
    assert domain.refund_mode(**cod, refund_to="upi") == "payout"
    assert domain.refund_mode(**cod, refund_to="bank_account") == "payout"
    assert domain.refund_mode(**cod, refund_to="store_credit") == "store_credit"


def test_an_exchange_sends_one_replacement_per_unit_that_qualifies():
    lines = domain.exchange_lines(
        returned=[line("KURTA-M", 2, ReturnReason.SIZE_ISSUE)],
        replacements={"KURTA-M": "KURTA-L"},
        verdicts={"KURTA-M": QcVerdict("KURTA-M", 1, 1, "C")},
        order_lines=[KURTA],
    )
    assert lines == [OrderLine(sku="KURTA-L", quantity=1, unit_price_paise=80000)]


def test_an_exchange_of_a_defective_unit_is_sent_although_it_failed_qc():
    lines = domain.exchange_lines(
        returned=[line("MUG", 1, ReturnReason.DEFECTIVE)],
        replacements={"MUG": "MUG"},
        verdicts={"MUG": QcVerdict("MUG", 0, 1, "D")},
        order_lines=[MUG],
    )
    assert [(ln.sku, ln.quantity) for ln in lines] == [("MUG", 1)]


def problems(lines, *, delivered=None, returned=None, rules=None, days_ago=2):
    return domain.eligibility_problems(
        order_id="ORD-1",
        order_status=OrderStatus.DELIVERED,
        delivered_at=NOW - timedelta(days=days_ago),
        now=NOW,
        window_days=7,
        lines=lines,
        already_requested=(),
        delivered=delivered if delivered is not None else {"KURTA-M": 2, "MUG": 1},
        returned=returned or {},
        rules=rules or {},
    )


def test_no_more_units_than_delivered_minus_already_returned():
    (p,) = problems([line("KURTA-M", 2, ReturnReason.SIZE_ISSUE)], returned={"KURTA-M": 1})
    assert p.field == "lines.0.quantity"
    assert p.problem == "2 units of KURTA-M asked; 1 can be returned (2 delivered, 1 already returned)"


def test_a_sku_not_on_the_order_is_refused():
    (p,) = problems([line("SAREE", 1, ReturnReason.WRONG_ITEM)])
    assert (p.field, p.problem) == ("lines.0.sku", "SKU SAREE is not on order ORD-1")


def test_a_non_returnable_sku_is_refused():
    (p,) = problems([line("MUG", 1, ReturnReason.DAMAGED)], rules={"MUG": SkuRule(returnable=False)})
    assert p.problem == "SKU MUG is marked non-returnable"


def test_a_category_window_replaces_the_default_one():
    apparel = {"KURTA-M": SkuRule(category="apparel", window_days=15)}
    assert problems([line("KURTA-M", 1, ReturnReason.SIZE_ISSUE)], rules=apparel, days_ago=10) == []
    (p,) = problems([line("KURTA-M", 1, ReturnReason.SIZE_ISSUE)], rules=apparel, days_ago=16)
    assert p.field == "lines.0.sku" and "apparel can be returned within 15 days" in p.problem
    tea = {"MUG": SkuRule(category="kitchen", window_days=2)}
    (p,) = problems([line("MUG", 1, ReturnReason.DAMAGED)], rules=tea, days_ago=3)
    assert "within 2 days" in p.problem


def test_an_exchange_must_name_the_replacement_and_a_cod_refund_where_the_money_goes():
    (p,) = domain.request_problems(
        resolution=ReturnResolution.EXCHANGE,
        replacements=["KURTA-L", None],
        payment_method=PaymentMethod.UPI,
        has_refund_to=False,
    )
    assert p.field == "lines.1.replacement_sku"
    (p,) = domain.request_problems(
        resolution=ReturnResolution.REFUND,
        replacements=[None],
        payment_method=PaymentMethod.COD,
        has_refund_to=False,
    )
    assert p.field == "refund_to"
    assert not domain.request_problems(
        resolution=ReturnResolution.REFUND,
        replacements=[None],
        payment_method=PaymentMethod.UPI,
        has_refund_to=False,
    )


def test_late_and_repeated_courier_scans_are_behind_the_return():
    R = ReturnStatus
    assert domain.is_behind(R.PICKED_UP, R.PICKUP_SCHEDULED)
    assert domain.is_behind(R.RECEIVED, R.PICKED_UP)
    assert domain.is_behind(R.PICKED_UP, R.PICKED_UP)
    assert not domain.is_behind(R.APPROVED, R.PICKED_UP)
    assert domain.advance(R.APPROVED, R.PICKED_UP) is R.PICKED_UP, "a pickup scan may beat the schedule"
    assert domain.advance(R.APPROVED, R.RECEIVED) is R.RECEIVED, "a drop-off comes straight to the desk"


def test_the_desk_must_account_for_every_unit_of_every_line():
    from services.returns.desk import verdict_problems

    lines = [line("KURTA-M", 2, ReturnReason.SIZE_ISSUE), line("MUG", 1, ReturnReason.DAMAGED)]
    assert verdict_problems(lines, [QcVerdict("KURTA-M", 1, 1, "B"), QcVerdict("MUG", 0, 1, "D")]) == []
    assert verdict_problems(lines, [QcVerdict("KURTA-M", 1, 0, "B"), QcVerdict("SAREE", 1, 0, "A")]) == [
        ("lines.0.passed", "passed + failed must be the 2 units returned of KURTA-M"),
        ("lines.1.sku", "SKU SAREE is not in this return"),
        ("lines", "SKU MUG has no QC verdict"),
    ]


def test_a_prepaid_refund_goes_to_the_payment_even_when_refund_to_is_given():
    # A return link holder must not redirect a prepaid order's money to a UPI id they typed.
    (p,) = domain.request_problems(
        resolution=ReturnResolution.REFUND,
        replacements=[None],
        payment_method=PaymentMethod.CARD,
        has_refund_to=True,
    )
    assert p.field == "refund_to" and "refunded to the payment" in p.problem
    paid = dict(method=PaymentMethod.UPI, gateway="razorpay", gateway_payment_id="pay_1")
    assert domain.refund_mode(**paid, refund_to="upi") == "gateway_refund"
    unknown_payment = dict(method=PaymentMethod.UPI, gateway=None, gateway_payment_id=None)
    assert domain.refund_mode(**unknown_payment, refund_to="upi") == "store_credit"
    assert domain.refund_mode(**unknown_payment, refund_to="bank_account") == "store_credit"


def test_an_exchange_is_for_another_size_or_colour_of_the_same_product():
    assert domain.exchange_problems([("KURTA-INDIGO-M", "KURTA-INDIGO-XL"), ("MUG", "MUG")], {}) == []
    (p,) = domain.exchange_problems([("TEA-GREEN-100", None), ("CABLE-USBC-1M", "EARBUDS-TWS")], {})
    assert p.field == "lines.1.replacement_sku"
    assert "EARBUDS-TWS is not another size or colour of CABLE-USBC-1M" in p.problem


def test_a_declared_product_decides_what_a_variant_is():
    rules = {"PHONE-X": SkuRule(product="phone-x"), "PHONE-Y": SkuRule(product="phone-y")}
    # Same stem, different products: a ₹100 case must not become a ₹50,000 phone.
    (p,) = domain.exchange_problems([("PHONE-X", "PHONE-Y")], rules)
    assert p.field == "lines.0.replacement_sku"
    sizes = {"SAREE-RED": SkuRule(product="silk-saree"), "SAREE-BLUE-WIDE": SkuRule(product="silk-saree")}
    assert domain.exchange_problems([("SAREE-RED", "SAREE-BLUE-WIDE")], sizes) == []
