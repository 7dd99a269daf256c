"""The orders service's other decisions: intake refusals one by one, risk, priority, shipments,
returns and how a Razorpay webhook reads. No Kafka, no PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from contracts import (
    ChannelOrder,
    DeliverySpeed,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    ShipmentStatus,
)
from services.orders import domain
from services.orders.domain import razorpay
from tests.helpers import channel_order

LIMIT = 5_000_000
S = OrderStatus
Sh = ShipmentStatus


def order(**overrides: Any) -> ChannelOrder:
    return ChannelOrder.model_validate(channel_order("SHP-1001", "TEA-ASSAM-250", **overrides))


def problems_of(**overrides: Any) -> dict[str, str]:
    return {p.field: p.problem for p in domain.check_order(order(**overrides), cod_limit_paise=LIMIT)}


COD = {"method": "cod", "status": "pending", "amount_paise": 69800}

# intake: each refusal names its field ---------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"shipping_address": {"line1": "x", "city": "Jaipur", "state": "Rajasthan", "pincode": "999999"}},
            "shipping_address.pincode",
        ),
        (
            {"shipping_address": {"line1": "x", "city": "Pune", "state": "Rajasthan", "pincode": "411001"}},
            "shipping_address.state",
        ),
        ({"customer": {"name": "Ravi", "phone": "+14155552671"}}, "customer.phone"),
        ({"customer": {"name": "Ravi", "phone": "022 2345 6789"}}, "customer.phone"),
        ({"total_paise": 69900, "payment": {**COD, "amount_paise": 69900}}, "total_paise"),
        ({"payment": {**COD, "amount_paise": 1}}, "payment.amount_paise"),
        (
            {"discount_paise": 80000, "total_paise": 0, "payment": {**COD, "amount_paise": 0}},
            "discount_paise",
        ),
        ({"lines": [{"sku": "A", "quantity": 1, "unit_price_paise": 34900}] * 2}, "lines"),
        ({"payment": {**COD, "status": "captured"}}, "payment.status"),
        ({"payment": {**COD, "gateway_payment_id": "pay_1"}}, "payment.gateway_payment_id"),
        ({"payment": {"method": "upi", "status": "refunded", "amount_paise": 69800}}, "payment.status"),
        (
            {"payment": {"method": "card", "status": "authorized", "amount_paise": 69800}},
            "payment.gateway_payment_id",
        ),
        (
            {
                "payment": {
                    "method": "upi",
                    "status": "captured",
                    "gateway": "exchange",
                    "amount_paise": 69800,
                }
            },
            "payment.gateway",
        ),
        (
            {
                "lines": [{"sku": "A", "quantity": 100_001, "unit_price_paise": 0}],
                "total_paise": 0,
                "payment": {**COD, "amount_paise": 0},
            },
            "lines.0.quantity",
        ),
        (
            {
                "lines": [{"sku": "A", "quantity": 1, "unit_price_paise": 10**13}],
                "total_paise": 10**13,
                "payment": {"method": "upi", "status": "pending", "amount_paise": 10**13},
            },
            "lines.0.unit_price_paise",
        ),
    ],
)
def test_each_business_refusal_names_its_field(overrides: dict[str, Any], field: str) -> None:
    assert field in problems_of(**overrides)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "A", "quantity": 0, "unit_price_paise": 1}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "", "quantity": 1, "unit_price_paise": 1}]}, "lines.0.sku"),
        ({"total_paise": -1}, "total_paise"),
        (
            {"shipping_address": {"line1": "x", "city": "J", "state": "R", "pincode": "30200"}},
            "shipping_address.pincode",
        ),
        ({"placed_at": "2026-11-26T10:15:00"}, "placed_at"),
        ({"payment": {"method": "cheque", "status": "pending", "amount_paise": 1}}, "payment.method"),
        ({"channel": "myspace"}, "channel"),
        ({"customer": {"phone": "+919812345678"}}, "customer.name"),
    ],
)
def test_each_shape_refusal_names_its_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        order(**overrides)
    assert field in {p.field for p in domain.schema_problems(err.value)}


def test_cod_over_the_configured_limit_is_refused_and_under_it_accepted() -> None:
    cod = order(payment=COD)
    assert {p.field for p in domain.check_order(cod, cod_limit_paise=69799)} == {"payment.method"}
    assert domain.check_order(cod, cod_limit_paise=69800) == []


def test_an_exchange_order_paid_by_the_return_is_accepted() -> None:
    exchange = order(
        channel="exchange",
        discount_paise=69800,
        total_paise=0,
        payment={"method": "upi", "status": "captured", "gateway": "exchange", "amount_paise": 0},
    )
    assert domain.check_order(exchange, cod_limit_paise=LIMIT) == []


def test_an_exchange_order_that_asks_for_money_is_refused() -> None:
    exchange = order(channel="exchange", payment={**COD})
    assert "payment" in {p.field for p in domain.check_order(exchange, cod_limit_paise=LIMIT)}


# risk ------------------------------------------------------------------------------------------

RULES = domain.RiskRules(cod_review_above_paise=1_000_000, rto_threshold=2)


def reasons(
    facts: domain.RiskFacts, method: PaymentMethod = PaymentMethod.COD, total: int = 69800
) -> list[str]:
    return domain.risk_reasons(method=method, total_paise=total, pincode="302001", facts=facts, rules=RULES)


def test_a_clean_order_needs_no_review() -> None:
    assert reasons(domain.RiskFacts()) == []


def test_each_risk_rule_says_why_it_fired() -> None:
    assert reasons(domain.RiskFacts(phone_blocked="abusive")) == ["phone is blocked: abusive"]
    assert reasons(domain.RiskFacts(pincode_blocked="fraud ring")) == [
        "pincode 302001 is blocked: fraud ring"
    ]
    assert reasons(domain.RiskFacts(past_rtos=2)) == ["phone had 2 past order(s) returned to origin"]
    assert reasons(domain.RiskFacts(past_rtos=1)) == []
    assert reasons(domain.RiskFacts(past_rtos=5), method=PaymentMethod.UPI) == []
    [big] = reasons(domain.RiskFacts(), total=1_000_001)
    assert "above the review threshold" in big
    assert reasons(domain.RiskFacts(), method=PaymentMethod.UPI, total=1_000_001) == []


def test_a_risky_reserved_order_goes_on_hold_with_its_reasons() -> None:
    status, why = domain.status_after_reservation(
        PaymentMethod.UPI, PaymentStatus.CAPTURED, ["phone is blocked: x"]
    )
    assert status is S.ON_HOLD
    assert "phone is blocked: x" in why


def test_a_released_cod_order_that_the_customer_already_confirmed_is_confirmed() -> None:
    assert domain.next_after_hold(PaymentMethod.COD, PaymentStatus.COD_CONFIRMED)[0] is S.CONFIRMED
    assert domain.next_after_hold(PaymentMethod.COD, PaymentStatus.PENDING)[0] is S.PENDING_COD_CONFIRMATION
    assert domain.next_after_hold(PaymentMethod.CARD, PaymentStatus.FAILED)[0] is S.PENDING_PAYMENT


# priority --------------------------------------------------------------------------------------

PRIO = domain.PriorityRules()


def ist(text: str) -> datetime:
    return datetime.fromisoformat(text + "+05:30")


def test_an_express_order_before_the_cutoff_leaves_the_same_day() -> None:
    due = domain.promised_dispatch_by(ist("2026-11-26T10:00:00"), DeliverySpeed.EXPRESS, PRIO)
    assert due.astimezone(ist("2026-11-26T00:00:00").tzinfo).date().isoformat() == "2026-11-26"


def test_after_the_cutoff_it_is_the_next_working_day_and_sunday_is_skipped() -> None:
    # 2026-11-28 is a Saturday: after the cutoff, Sunday is skipped, Monday it is.
    due = domain.promised_dispatch_by(ist("2026-11-28T15:00:00"), DeliverySpeed.EXPRESS, PRIO)
    assert due.astimezone(ist("2026-11-26T00:00:00").tzinfo).date().isoformat() == "2026-11-30"


def test_standard_gets_a_day_more_than_express() -> None:
    express = domain.promised_dispatch_by(ist("2026-11-26T10:00:00"), DeliverySpeed.EXPRESS, PRIO)
    standard = domain.promised_dispatch_by(ist("2026-11-26T10:00:00"), DeliverySpeed.STANDARD, PRIO)
    assert (standard - express).days == 1


def test_express_beats_standard_prepaid_beats_cod_and_high_value_breaks_ties() -> None:
    def rank(speed: DeliverySpeed, prepaid: bool, total: int) -> int:
        return domain.priority(speed=speed, prepaid=prepaid, total_paise=total, rules=PRIO)

    assert rank(DeliverySpeed.EXPRESS, False, 100) > rank(DeliverySpeed.STANDARD, True, 10**9)
    assert rank(DeliverySpeed.STANDARD, True, 100) > rank(DeliverySpeed.STANDARD, False, 10**9)
    assert rank(DeliverySpeed.STANDARD, True, 600_000) > rank(DeliverySpeed.STANDARD, True, 100)
    assert rank(DeliverySpeed.SAME_DAY, False, 100) > rank(DeliverySpeed.EXPRESS, True, 10**9)


# shipments and returns -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shipments", "expected", "status"),
    [
        ([Sh.CREATED], 1, None),
        ([Sh.PACKED], 1, S.PACKED),
        ([Sh.PICKED_UP], 1, S.SHIPPED),
        ([Sh.IN_TRANSIT], 1, S.IN_TRANSIT),
        ([Sh.OUT_FOR_DELIVERY], 1, S.OUT_FOR_DELIVERY),
        ([Sh.DELIVERED], 1, S.DELIVERED),
        ([Sh.NDR], 1, S.DELIVERY_FAILED),
        ([Sh.RTO_IN_TRANSIT], 1, S.RTO_INITIATED),
        ([Sh.RTO_DELIVERED], 1, S.RTO_DELIVERED),
        ([Sh.PICKED_UP], 2, S.PARTIALLY_SHIPPED),
        ([Sh.PICKED_UP, Sh.PACKED], 2, S.PARTIALLY_SHIPPED),
        ([Sh.PICKED_UP, Sh.OUT_FOR_DELIVERY], 2, S.SHIPPED),
        ([Sh.IN_TRANSIT, Sh.OUT_FOR_DELIVERY], 2, S.IN_TRANSIT),
        ([Sh.DELIVERED, Sh.IN_TRANSIT], 2, S.PARTIALLY_DELIVERED),
        ([Sh.DELIVERED, Sh.DELIVERED], 2, S.DELIVERED),
        ([Sh.DELIVERED, Sh.NDR], 2, S.DELIVERY_FAILED),
        ([Sh.PACKED, Sh.CREATED], 2, None),
        ([Sh.CANCELLED], 1, None),
    ],
)
def test_the_order_status_follows_all_of_its_shipments(
    shipments: list[ShipmentStatus], expected: int, status: OrderStatus | None
) -> None:
    assert domain.status_from_shipments(shipments, expected) is status


def test_an_order_is_returned_once_every_unit_came_back() -> None:
    assert domain.status_from_returns({"A": 2, "B": 1}, {"A": 1}) is S.PARTIALLY_RETURNED
    assert domain.status_from_returns({"A": 2, "B": 1}, {"A": 2, "B": 1}) is S.RETURNED


# razorpay --------------------------------------------------------------------------------------

SECRET = "dev-razorpay-webhook-secret-local"


def webhook(event: str, **payment: Any) -> dict[str, Any]:
    entity = {"id": "pay_1", "amount": 69800, "notes": {"order_id": "ORD-1"}, "method": "upi", **payment}
    return {"entity": "event", "event": event, "payload": {"payment": {"entity": entity}}}


def test_only_razorpays_signature_of_the_exact_body_is_accepted() -> None:
    body = json.dumps(webhook("payment.captured")).encode()
    good = razorpay.sign(SECRET, body)
    assert razorpay.signature_ok(SECRET, body, good)
    assert not razorpay.signature_ok(SECRET, body + b" ", good)
    assert not razorpay.signature_ok("another-secret", body, good)
    assert not razorpay.signature_ok(SECRET, body, None)
    assert not razorpay.signature_ok(SECRET, body, "")


def test_a_captured_payment_names_the_order_from_its_notes() -> None:
    event = razorpay.read_webhook(webhook("payment.captured"))
    assert event is not None
    assert (event.status, event.order_ref, event.payment_id, event.amount_paise) == (
        PaymentStatus.CAPTURED,
        "ORD-1",
        "pay_1",
        69800,
    )


def test_a_failed_payment_carries_razorpays_reason() -> None:
    event = razorpay.read_webhook(webhook("payment.failed", error_description="Payment was declined by bank"))
    assert event is not None and event.failure_reason == "Payment was declined by bank"


def test_a_refund_reads_its_own_id_and_amount() -> None:
    body = webhook("refund.processed")
    body["payload"]["refund"] = {
        "entity": {"id": "rfnd_1", "amount": 1000, "payment_id": "pay_1", "notes": {}}
    }
    event = razorpay.read_webhook(body)
    assert event is not None
    assert (event.refund_id, event.amount_paise, event.order_ref) == ("rfnd_1", 1000, "ORD-1")


def test_events_we_do_not_act_on_are_none_and_bad_shapes_name_the_field() -> None:
    assert razorpay.read_webhook(webhook("order.paid")) is None
    with pytest.raises(razorpay.UnreadableWebhook) as err:
        razorpay.read_webhook({"event": "payment.captured", "payload": {}})
    assert err.value.field == "payload.payment.entity"
    with pytest.raises(razorpay.UnreadableWebhook) as err:
        razorpay.read_webhook(webhook("payment.captured", amount="698.00"))
    assert err.value.field == "payload.payment.entity.amount"


def test_refunds_add_up_to_full() -> None:
    assert razorpay.refund_status(500, 1000) is PaymentStatus.PARTIALLY_REFUNDED
    assert razorpay.refund_status(1000, 1000) is PaymentStatus.REFUNDED


def test_a_malformed_order_still_names_its_wrong_pincode_phone_total_and_cod_status_at_once() -> None:
    from pydantic import ValidationError

    from contracts import ChannelOrder
    from services.orders.domain import all_problems

    raw = {
        "channel": "manual",
        "channel_order_id": "PH-1",
        "placed_at": "2026-11-26T10:15:00+05:30",
        "customer": {"name": "Asha", "phone": "98123"},
        "shipping_address": {
            "line1": "12 MI Road",
            "city": "Jaipur",
            "state": "Rajasthan",
            "pincode": "110001",
        },
        "lines": [{"sku": "TEA-ASSAM-250", "quantity": -2, "unit_price_paise": 34900}],
        "shipping_fee_paise": 0,
        "discount_paise": 0,
        "total_paise": 69800,
        "payment": {"method": "cod", "status": "captured", "amount_paise": 69800},
    }
    with pytest.raises(ValidationError) as caught:
        ChannelOrder.model_validate(raw)
    fields = [p.field for p in all_problems(caught.value, raw)]
    assert fields[0] == "lines.0.quantity"
    assert set(fields[1:]) == {"shipping_address.state", "customer.phone", "total_paise", "payment.status"}
    assert len(fields) == len(set(fields)), "a field with a shape error is not named twice"


def test_a_malformed_part_is_left_to_its_shape_error() -> None:
    from services.orders.domain import raw_problems

    assert (
        raw_problems({"shipping_address": {"pincode": "30200", "state": "Rajasthan"}, "lines": "two"}) == []
    )
    assert raw_problems({"customer": {"phone": 9812345678}, "payment": {"method": "cod"}}) == []


def test_a_release_cannot_hide_a_prepaid_order_paid_short_but_cod_and_exact_payments_pass() -> None:
    short = domain.underpaid(PaymentMethod.UPI, PaymentStatus.CAPTURED, 100, 59_900)
    assert short is not None and "paid 100 paise" in short and "59900" in short
    assert domain.underpaid(PaymentMethod.UPI, PaymentStatus.CAPTURED, 59_900, 59_900) is None
    assert domain.underpaid(PaymentMethod.COD, PaymentStatus.PENDING, 0, 59_900) is None
    assert domain.underpaid(PaymentMethod.UPI, PaymentStatus.PENDING, 0, 59_900) is None
