"""What a corrected phone or address does to each shipment of the order, decided without I/O:
stored before booking, edited at the courier on the same pincode, re-booked on a new one, recorded
as too late once the courier has the parcel, and nothing at all the second time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contracts import ShipmentStatus
from contracts.examples import order_contact_corrected
from services.shipping.corrections import Fix, consignee_of, fix_for, status_after_rebook
from services.shipping.couriers.interface import Consignee

S = ShipmentStatus
CORRECTED = consignee_of(order_contact_corrected())


def stored(**address: str) -> Consignee:
    return replace(CORRECTED, address=CORRECTED.address.model_copy(update={"line1": "12 MI Road", **address}))


def test_the_corrected_consignee_is_kept_in_the_shape_of_a_booking() -> None:
    assert Consignee.stored(CORRECTED.to_store()) == CORRECTED
    assert CORRECTED.to_store() == {
        "name": "Asha Verma",
        "phone": "+919812345678",
        "address": {
            "line1": "14 MI Road, 2nd floor",
            "line2": None,
            "landmark": "Opposite Raj Mandir Cinema",
            "city": "Jaipur",
            "state": "Rajasthan",
            "pincode": "302001",
        },
    }


def test_a_shipment_not_booked_yet_just_keeps_the_new_address_for_its_booking() -> None:
    assert fix_for(S.CREATED, stored=stored(), corrected=CORRECTED) is Fix.STORE
    assert fix_for(S.CREATED, stored=None, corrected=CORRECTED) is Fix.STORE


@pytest.mark.parametrize("status", [S.AWB_ASSIGNED, S.PICKED, S.PACKED, S.MANIFESTED])
def test_a_booked_parcel_on_the_same_pincode_is_edited_at_the_courier(status: ShipmentStatus) -> None:
    assert fix_for(status, stored=stored(), corrected=CORRECTED) is Fix.EDIT


@pytest.mark.parametrize("status", [S.AWB_ASSIGNED, S.PICKED, S.PACKED, S.MANIFESTED])
def test_a_booked_parcel_to_another_pincode_is_booked_again(status: ShipmentStatus) -> None:
    assert fix_for(status, stored=stored(pincode="302017"), corrected=CORRECTED) is Fix.REBOOK


@pytest.mark.parametrize(
    "status",
    [S.PICKED_UP, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.NDR, S.DELIVERED, S.RTO_INITIATED, S.LOST],
)
def test_a_parcel_the_courier_has_picked_up_is_too_late(status: ShipmentStatus) -> None:
    assert fix_for(status, stored=stored(), corrected=CORRECTED) is Fix.TOO_LATE


@pytest.mark.parametrize("status", list(ShipmentStatus))
def test_the_same_correction_twice_changes_nothing_the_second_time(status: ShipmentStatus) -> None:
    assert fix_for(status, stored=CORRECTED, corrected=CORRECTED) is Fix.NOTHING


def test_a_cancelled_shipment_is_left_alone() -> None:
    assert fix_for(S.CANCELLED, stored=stored(), corrected=CORRECTED) is Fix.NOTHING


def test_a_rebooked_box_stays_on_the_floor_but_leaves_the_old_couriers_manifest() -> None:
    assert [status_after_rebook(s) for s in (S.AWB_ASSIGNED, S.PICKED, S.PACKED, S.MANIFESTED)] == [
        S.AWB_ASSIGNED,
        S.PICKED,
        S.PACKED,
        S.PACKED,
    ]


@pytest.mark.parametrize("status", [S.CREATED, S.AWB_ASSIGNED, S.PACKED, S.IN_TRANSIT])
def test_a_parcel_the_marketplace_carries_is_never_booked_again_with_our_couriers(
    status: ShipmentStatus,
) -> None:
    moved = stored(pincode="302017")
    assert fix_for(status, stored=moved, corrected=CORRECTED, marketplace="flipkart") is Fix.MARKETPLACE
    assert fix_for(S.CANCELLED, stored=moved, corrected=CORRECTED, marketplace="flipkart") is Fix.NOTHING
