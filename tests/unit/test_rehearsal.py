"""Rehearsal orders (ADR 0360) as plain decisions: what an operator may rehearse, when a rehearsal has
gone far enough, the operator's "shipped" message at booking, and the console's sticky flag."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from contracts import Channel, OrderStatus, OrderStatusChanged, PaymentMethod, ShipmentStatus
from contracts.examples import order_placed
from services.console.domain.view import apply
from services.notifications.domain import policy
from services.orders import domain
from services.orders.settings import SANDBOX_OPERATOR_PHONE, OrdersSettings

S = ShipmentStatus
OPERATORS = ["+919800000000"]


def test_a_rehearsal_to_an_operators_number_cash_on_delivery_with_its_own_id_is_allowed() -> None:
    assert (
        domain.rehearsal_problems(
            channel_order_id=None, method=PaymentMethod.COD, phone="98000 00000", operator_phones=OPERATORS
        )
        == []
    )


def test_a_rehearsal_for_a_customers_number_a_payment_or_a_stores_order_id_is_refused_by_field() -> None:
    problems = domain.rehearsal_problems(
        channel_order_id="SHP-1001",
        method=PaymentMethod.UPI,
        phone="+919812345678",
        operator_phones=OPERATORS,
    )
    assert [p.field for p in problems] == ["channel_order_id", "payment.method", "customer.phone"]
    assert "OPERATOR_PHONES" in problems[2].problem


def test_with_no_operator_number_configured_no_rehearsal_can_be_placed() -> None:
    [problem] = domain.rehearsal_problems(
        channel_order_id=None, method=PaymentMethod.COD, phone="+919800000000", operator_phones=[]
    )
    assert problem.field == "customer.phone" and "names none" in problem.problem


def test_a_rehearsal_is_over_once_every_parcel_its_reservation_implies_is_booked() -> None:
    assert not domain.rehearsal_over([S.CREATED], expected=1), "no courier took it yet"
    assert domain.rehearsal_over([S.AWB_ASSIGNED], expected=1)
    assert not domain.rehearsal_over([S.AWB_ASSIGNED], expected=2), (
        "the second warehouse's parcel is not heard of"
    )
    assert not domain.rehearsal_over([S.AWB_ASSIGNED, S.CANCELLED], expected=2)
    assert domain.rehearsal_over([S.AWB_ASSIGNED, S.PACKED], expected=2)


def test_operator_phones_are_indian_mobiles_and_development_mode_has_the_sandboxs() -> None:
    assert OrdersSettings(dabba_mode="development").operator_phones == [SANDBOX_OPERATOR_PHONE]
    assert OrdersSettings(operator_phones=["98000 00001"]).operator_phones == ["+919800000001"]
    assert OrdersSettings(dabba_mode="production").operator_phones == []
    with pytest.raises(ValidationError, match="not Indian mobile numbers: 12345"):
        OrdersSettings(operator_phones=["12345"])


def test_a_rehearsals_booking_sends_the_operator_the_shipped_message_and_a_real_orders_sends_nothing() -> (
    None
):
    facts = policy.Facts(order_id="ORD-1", customer_name="Ops", phone="+919800000000", rehearsal=True)

    message = policy.rehearsal_booked_message(facts, shipment_id="SHP-ORD-1-GGN1", awb="XB0000000001")
    real = policy.rehearsal_booked_message(
        policy.Facts(order_id="ORD-2", customer_name="Asha", phone="+919812345678"),
        shipment_id="SHP-ORD-2-GGN1",
        awb="XB0000000002",
    )

    assert message is not None and real is None
    assert (message.template, message.recipient, message.subject) == (
        "order_shipped",
        "+919800000000",
        "SHP-ORD-1-GGN1",
    )


def test_a_status_change_says_rehearsal_and_the_console_keeps_it_whatever_folds_after() -> None:
    placed = order_placed().model_copy(update={"rehearsal": True})
    later = OrderStatusChanged(
        order_id=placed.order_id,
        channel=Channel.SHOPIFY,
        channel_order_id=placed.channel_order_id,
        from_status=OrderStatus.PLACED,
        to_status=OrderStatus.CANCELLED,
        reason="rehearsal over",
        changed_at=datetime(2026, 12, 7, tzinfo=UTC),
    )

    view = apply(apply(None, placed), later)

    assert view.rehearsal and view.status == "CANCELLED"
    assert not apply(None, order_placed()).rehearsal
    assert "rehearsal" not in order_placed().model_dump(mode="json"), "absent on a real order"
