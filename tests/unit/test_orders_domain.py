"""The orders service's decisions, without Kafka or PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from contracts import ChannelOrder, OrderStatus, PaymentMethod, PaymentStatus
from services.orders import domain
from tests.helpers import channel_order

LIMIT = 5_000_000


def order(**overrides: Any) -> ChannelOrder:
    return ChannelOrder.model_validate(channel_order("SHP-1001", "TEA-ASSAM-250", **overrides))


def fields(problems: list[Any]) -> set[str]:
    return {p.field for p in problems}


def test_design_example_order_has_no_problems() -> None:
    assert domain.check_order(order(), cod_limit_paise=LIMIT) == []


def test_every_problem_is_reported_at_once_naming_the_field() -> None:
    bad = order(
        shipping_address={"line1": "1 Park St", "city": "Kolkata", "state": "Rajasthan", "pincode": "700016"},
        customer={"name": "Ravi", "phone": "12345"},
        total_paise=1,
    )
    assert fields(domain.check_order(bad, cod_limit_paise=LIMIT)) == {
        "shipping_address.state",
        "customer.phone",
        "total_paise",
        "payment.amount_paise",
    }


def test_pincode_that_does_not_exist_is_refused() -> None:
    bad = order(shipping_address={"line1": "x", "city": "Jaipur", "state": "Rajasthan", "pincode": "999999"})
    [problem] = domain.check_order(bad, cod_limit_paise=LIMIT)
    assert problem.field == "shipping_address.pincode"
    assert "999999" in problem.problem


def test_state_names_match_whatever_the_case_and_ampersand() -> None:
    ok = order(
        shipping_address={"line1": "x", "city": "Srinagar", "state": "Jammu & Kashmir", "pincode": "190001"}
    )
    assert domain.check_order(ok, cod_limit_paise=LIMIT) == []


def test_cod_above_the_limit_is_refused() -> None:
    cod = order(payment={"method": "cod", "status": "pending", "amount_paise": 69800})
    assert fields(domain.check_order(cod, cod_limit_paise=50_000)) == {"payment.method"}
    assert domain.check_order(cod, cod_limit_paise=LIMIT) == []


def test_captured_payment_needs_the_gateway_payment_id() -> None:
    paid = order(payment={"method": "card", "status": "captured", "amount_paise": 69800})
    assert fields(domain.check_order(paid, cod_limit_paise=LIMIT)) == {"payment.gateway_payment_id"}


def test_negative_quantity_is_a_schema_problem_naming_the_line() -> None:
    with pytest.raises(ValidationError) as err:
        order(lines=[{"sku": "TEA-ASSAM-250", "quantity": -2, "unit_price_paise": 100}])
    assert "lines.0.quantity" in fields(domain.schema_problems(err.value))


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+919812345678", "+919812345678"),
        ("09812345678", "+919812345678"),
        ("98123 45678", "+919812345678"),
        ("12345", None),
        ("+14155552671", None),
    ],
)
def test_phones_are_normalised_to_e164_indian_mobiles(raw: str, e164: str | None) -> None:
    assert domain.normalise_phone(raw) == e164


def test_after_reservation_prepaid_confirms_cod_waits_and_unpaid_waits_for_payment() -> None:
    assert (
        domain.status_after_reservation(PaymentMethod.UPI, PaymentStatus.CAPTURED)[0] is OrderStatus.CONFIRMED
    )
    assert domain.status_after_reservation(PaymentMethod.COD, PaymentStatus.PENDING)[0] is (
        OrderStatus.PENDING_COD_CONFIRMATION
    )
    assert (
        domain.status_after_reservation(PaymentMethod.CARD, PaymentStatus.PENDING)[0]
        is OrderStatus.PENDING_PAYMENT
    )


def test_the_order_machine_only_moves_along_its_table() -> None:
    assert domain.can_transition(OrderStatus.PLACED, OrderStatus.CONFIRMED)
    assert not domain.can_transition(OrderStatus.DELIVERED, OrderStatus.PLACED)
    assert not domain.can_transition(OrderStatus.CANCELLED, OrderStatus.CONFIRMED)
    assert not domain.can_transition(OrderStatus.REJECTED, OrderStatus.CONFIRMED)


def test_every_status_in_the_table_is_a_known_status() -> None:
    for source, targets in domain.TRANSITIONS.items():
        assert isinstance(source, OrderStatus)
        assert all(isinstance(t, OrderStatus) for t in targets)


def test_order_ids_are_unique_and_sortable() -> None:
    ids = [domain.new_order_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(i.startswith("ORD-") for i in ids)


def test_a_reservation_lets_go_only_an_order_that_waited_for_stock_or_a_courier() -> None:
    waited = domain.waited_for
    assert waited(OrderStatus.ON_HOLD, "stock", no_courier_hold="courier") == "its stock arrived"
    assert waited(OrderStatus.BACKORDERED, None, no_courier_hold="courier") == "its stock arrived"
    assert waited(OrderStatus.ON_HOLD, "courier", no_courier_hold="courier") == "a courier serves it now"
    for held_for in ("operator", "review", None):
        assert waited(OrderStatus.ON_HOLD, held_for, no_courier_hold="courier") is None
    assert waited(OrderStatus.PLACED, None, no_courier_hold="courier") is None
    for target in (OrderStatus.CONFIRMED, OrderStatus.PENDING_PAYMENT, OrderStatus.PENDING_COD_CONFIRMATION):
        assert domain.can_transition(OrderStatus.BACKORDERED, target)
