"""Correcting a customer's phone or address: allowed until a parcel is handed to the courier, the
refusal names the status, and a bad correction names every field it gets wrong."""

from __future__ import annotations

import pytest

from contracts import Address, OrderStatus
from services.orders import domain

S = OrderStatus
WITH_A_COURIER = [
    S.PARTIALLY_SHIPPED,
    S.SHIPPED,
    S.IN_TRANSIT,
    S.OUT_FOR_DELIVERY,
    S.DELIVERY_FAILED,
    S.PARTIALLY_DELIVERED,
    S.DELIVERED,
    S.RTO_INITIATED,
    S.RTO_DELIVERED,
    S.RETURN_REQUESTED,
    S.RETURNED,
    S.REFUNDED,
]


@pytest.mark.parametrize(
    "status",
    [
        S.PLACED,
        S.PENDING_PAYMENT,
        S.PENDING_COD_CONFIRMATION,
        S.ON_HOLD,
        S.BACKORDERED,
        S.CONFIRMED,
        S.PACKED,
    ],
)
def test_an_operator_may_correct_the_address_until_the_parcel_is_handed_over(status: OrderStatus) -> None:
    assert domain.correction_refusal(status) is None
    assert status in domain.CORRECTABLE


def test_only_a_confirmed_or_packed_correction_has_to_reach_shipping() -> None:
    assert domain.WITH_SHIPPING_UNDISPATCHED == {S.CONFIRMED, S.PACKED}


@pytest.mark.parametrize("status", WITH_A_COURIER)
def test_once_a_parcel_is_with_the_courier_the_refusal_names_the_status(status: OrderStatus) -> None:
    refusal = domain.correction_refusal(status)
    assert refusal is not None
    assert f"a {status.value} order cannot be corrected" in refusal
    assert "courier" in refusal


@pytest.mark.parametrize("status", [S.CANCELLED, S.REJECTED])
def test_a_cancelled_or_rejected_order_is_not_corrected(status: OrderStatus) -> None:
    assert domain.correction_refusal(status) == (
        f"a {status.value} order cannot be corrected"
        + (" (resubmit it instead)" if status is S.REJECTED else "")
    )


def test_every_status_is_either_correctable_or_refused_with_a_reason() -> None:
    for status in OrderStatus:
        assert (status in domain.CORRECTABLE) is (domain.correction_refusal(status) is None)


def test_a_corrected_pincode_in_another_state_names_the_state_field() -> None:
    moved = Address(line1="5 FC Road", city="Pune", state="Kerala", pincode="411004")
    [problem] = domain.address_problems(moved, prefix="shipping_address")
    assert problem.field == "shipping_address.state"
    assert "Maharashtra" in problem.problem


def test_a_corrected_pincode_that_does_not_exist_names_the_pincode_field() -> None:
    nowhere = Address(line1="1 Nowhere Lane", city="Jaipur", state="Rajasthan", pincode="999999")
    [problem] = domain.address_problems(nowhere, prefix="shipping_address")
    assert problem.field == "shipping_address.pincode"


def test_a_corrected_phone_is_an_indian_mobile_in_e164() -> None:
    assert domain.phone_problems("098123 45679", field="phone") == []
    assert domain.normalise_phone("098123 45679") == "+919812345679"
    [problem] = domain.phone_problems("555", field="phone")
    assert problem.field == "phone"
