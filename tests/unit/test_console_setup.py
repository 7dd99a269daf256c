"""The settings screen names a field that is not one before it asks routing or orders anything
(ADR 381): a warehouse's whole numbers and cut-off time, a routing rule's kind and warehouse, and
priority weights that are not a JSON object."""

from __future__ import annotations

from services.console.domain.setup import rule_request, warehouse_request, weights_request


def test_a_warehouse_form_becomes_routings_body_and_blank_optionals_are_none() -> None:
    code, body, problems = warehouse_request(
        {"code": " BLR2 ", "name": "Hoskote", "pincode": "562114", "active": "on", "priority": "5"}
    )
    assert (code, problems) == ("BLR2", [])
    assert body == {
        "code": "BLR2",
        "name": "Hoskote",
        "pincode": "562114",
        "active": True,
        "priority": 5,
        "daily_capacity": None,
        "cutoff_time": None,
    }


def test_a_warehouse_form_names_every_bad_field_and_sends_nothing() -> None:
    _, body, problems = warehouse_request(
        {
            "code": "",
            "name": "X",
            "pincode": "562114",
            "priority": "high",
            "daily_capacity": "1.5",
            "cutoff_time": "2pm",
        }
    )
    assert body is None
    assert [field for field, _ in problems] == ["code", "priority", "daily_capacity", "cutoff_time"]
    assert ("cutoff_time", "'2pm' is not a time of day: write it HH:MM, e.g. 14:00") in problems


def test_a_rule_sends_its_kind_warehouse_and_only_the_fields_filled() -> None:
    assert rule_request({"kind": "pin_sku", "warehouse_code": "BOM1", "sku": "TEA", "channel": ""}) == (
        {"kind": "pin_sku", "warehouse_code": "BOM1", "sku": "TEA"},
        [],
    )
    assert rule_request({"kind": "teleport", "warehouse_code": "BOM1"})[1][0][0] == "kind"
    assert rule_request({"kind": "pin_sku", "warehouse_code": " "}) == (
        None,
        [("warehouse_code", "required")],
    )


def test_priority_weights_must_be_a_json_object() -> None:
    assert weights_request('{"prepaid": 10}') == ({"prepaid": 10}, [])
    assert weights_request("[1]") == (None, [("weights", "must be a JSON object of weights")])
    assert weights_request("{prepaid: 10}")[1][0][0] == "weights"
