"""The console's desks decide purely: which NDR parcels a filter keeps, what an NDR answer tells
shipping, and the field named when an operator's input is not one."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contracts import NdrReason
from services.console.domain.desks import (
    NDR_BUCKETS,
    bucket_of,
    ndr_filter,
    ndr_instruction,
    ndr_parcels,
)

TODAY = date(2026, 12, 6)


def test_every_courier_ndr_reason_is_in_exactly_one_bucket() -> None:
    seen = [r for _, reasons in NDR_BUCKETS.values() for r in reasons]
    assert sorted(seen) == sorted(NdrReason)
    assert bucket_of("wrong_or_incomplete_address") == "address"
    assert bucket_of("cash_not_ready") == "payment"
    assert bucket_of(None) == "other"


def test_the_desk_filter_reads_rupees_as_paise_and_names_each_bad_field() -> None:
    f, problems = ndr_filter(
        {"courier": " Delhivery ", "bucket": "address", "attempt": "2", "payment": "cod"}
        | {"min_value": "1,499.5", "max_value": "₹2000"}
    )
    assert problems == []
    assert (f.courier, f.bucket, f.attempt, f.payment) == ("delhivery", "address", 2, "cod")
    assert (f.min_paise, f.max_paise) == (149950, 200000)
    assert f.reasons == ["wrong_or_incomplete_address", "out_of_delivery_area"]

    _, problems = ndr_filter(
        {"bucket": "weather", "attempt": "9", "payment": "upi", "min_value": "12.345", "max_value": "-1"}
    )
    assert [field for field, _ in problems] == ["bucket", "attempt", "payment", "min_value", "max_value"]
    _, problems = ndr_filter({"min_value": "500", "max_value": "100"})
    assert problems == [("max_value", "is below min_value")]


def test_an_empty_filter_keeps_everything() -> None:
    f, problems = ndr_filter({})
    assert problems == []
    assert f.reasons is None and f.attempt is None and f.search is None and f.min_paise is None


def parcel(shipment_id: str, **kw: Any) -> dict[str, Any]:
    return {
        "shipment_id": shipment_id,
        "courier": "delhivery",
        "awb": f"AWB-{shipment_id}",
        "status": "NDR",
        "ndr_attempts": [1],
        "ndr_reason": "customer_unavailable",
        "location": None,
    } | kw


def order(*shipments: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_id": "ORD-1",
        "channel_order_id": "SHP-1",
        "customer_name": "Asha",
        "phone": "+919812345678",
        "city": "Jaipur",
        "pincode": "302001",
        "payment_method": "cod",
        "total_paise": 69800,
        "shipments": list(shipments),
    }


def test_only_parcels_in_ndr_that_pass_courier_reason_and_attempt_are_listed() -> None:
    row = order(
        parcel("S1"),
        parcel("S2", status="DELIVERED"),
        parcel("S3", courier="xpressbees", ndr_reason="refused", ndr_attempts=[1, 2]),
        parcel("S4", ndr_attempts=[1, 2, 3], ndr_reason=None),
    )
    every = ndr_parcels(row, ndr_filter({})[0])
    assert [p.shipment_id for p in every] == ["S1", "S3", "S4"]
    assert [p.bucket for p in every] == ["customer", "refused", "other"]
    assert every[0].cod and every[0].attempts == 1

    def ids(**params: str) -> list[str]:
        return [p.shipment_id for p in ndr_parcels(row, ndr_filter(params)[0])]

    assert ids(courier="xpressbees") == ["S3"]
    assert ids(bucket="refused") == ["S3"]
    assert ids(attempt="1") == ["S1"]
    assert ids(attempt="2") == ["S3"]
    assert ids(attempt="3") == ["S4"]  # the last choice is "3 or more"
    assert ids(courier="delhivery", bucket="other") == ["S4"]


def test_a_reattempt_may_name_a_day_that_is_not_past() -> None:
    assert ndr_instruction({"action": "reattempt"}, today=TODAY) == ({"action": "reattempt"}, [])
    assert ndr_instruction({"action": "reattempt", "reattempt_on": "2026-12-08"}, today=TODAY) == (
        {"action": "reattempt", "reattempt_on": "2026-12-08"},
        [],
    )
    assert ndr_instruction({"action": "reattempt", "reattempt_on": "2026-12-05"}, today=TODAY) == (
        None,
        [("reattempt_on", "2026-12-05 is in the past")],
    )
    body, problems = ndr_instruction({"action": "reattempt", "reattempt_on": "next week"}, today=TODAY)
    assert body is None and problems[0][0] == "reattempt_on"


def test_a_new_address_needs_its_line_city_state_and_a_six_digit_pincode() -> None:
    form = {
        "action": "new_address",
        "new_address.line1": " 14 MI Road ",
        "new_address.city": "Jaipur",
        "new_address.state": "Rajasthan",
        "new_address.pincode": "302001",
    }
    body, problems = ndr_instruction(form, today=TODAY)
    assert problems == []
    assert body == {
        "action": "new_address",
        "new_address": {
            "line1": "14 MI Road",
            "line2": None,
            "landmark": None,
            "city": "Jaipur",
            "state": "Rajasthan",
            "pincode": "302001",
        },
    }
    body, problems = ndr_instruction(
        form | {"new_address.line1": "", "new_address.pincode": "30200"}, today=TODAY
    )
    assert body is None
    assert problems == [
        ("new_address.line1", "required"),
        ("new_address.pincode", "'30200' is not a six-digit pincode"),
    ]


@pytest.mark.parametrize("action", ["", "deliver_anyway", "new_phone"])
def test_an_answer_the_desk_does_not_offer_is_refused_naming_the_action(action: str) -> None:
    body, problems = ndr_instruction({"action": action}, today=TODAY)
    assert body is None and [f for f, _ in problems] == ["action"]


def test_rto_needs_nothing_more() -> None:
    assert ndr_instruction({"action": "rto", "reattempt_on": "1999-01-01"}, today=TODAY) == (
        {"action": "rto"},
        [],
    )
