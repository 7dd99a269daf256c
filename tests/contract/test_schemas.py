"""Committed JSON Schemas match the models, and the checker catches every breaking change kind."""

from __future__ import annotations

import copy
from typing import Any

from contracts import schemas_tool
from contracts.schemas_tool import compare, compare_topics, out_of_date

ADDRESS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "pincode": {"type": "string"}},
    "required": ["city", "pincode"],
}
OLD: dict[str, Any] = {
    "$defs": {
        "Address": ADDRESS,
        "Status": {"enum": ["PLACED", "CONFIRMED"], "type": "string"},
    },
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "total_paise": {"type": "integer"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "status": {"$ref": "#/$defs/Status"},
        "address": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}], "default": None},
        "lines": {"type": "array", "items": {"$ref": "#/$defs/Address"}},
        "placed_at": {"type": "string", "format": "date-time"},
    },
    "required": ["order_id", "total_paise", "status", "lines", "placed_at"],
}


def changed(edit: Any) -> dict[str, Any]:
    new = copy.deepcopy(OLD)
    edit(new)
    return new


def test_schemas_on_disk_match_the_models() -> None:
    snapshots = schemas_tool.read_snapshots(schemas_tool.SCHEMA_DIR)
    current = schemas_tool.current_schemas()
    assert compare_topics(snapshots, current) == []
    assert out_of_date(snapshots, current) == [], "run: python -m contracts.schemas_tool write"
    assert set(snapshots) == set(current)


def test_check_command_passes_on_the_committed_snapshots() -> None:
    assert schemas_tool.main(["check"]) == 0


def test_identical_schema_is_compatible() -> None:
    assert compare(OLD, copy.deepcopy(OLD)) == []


def test_added_optional_field_is_compatible() -> None:
    new = changed(lambda s: s["properties"].update(priority={"type": "integer", "default": 0}))
    assert compare(OLD, new) == []


def test_added_enum_value_is_compatible() -> None:
    new = changed(lambda s: s["$defs"]["Status"]["enum"].append("PACKED"))
    assert compare(OLD, new) == []


def test_added_optional_nested_field_is_compatible() -> None:
    new = changed(lambda s: s["$defs"]["Address"]["properties"].update(landmark={"type": "string"}))
    assert compare(OLD, new) == []


def test_removed_field_is_breaking() -> None:
    new = changed(lambda s: s["properties"].pop("note"))
    assert compare(OLD, new) == ["note: property removed"]


def test_changed_type_is_breaking() -> None:
    new = changed(lambda s: s["properties"].update(total_paise={"type": "number"}))
    assert compare(OLD, new) == ["total_paise: type changed from integer to number"]


def test_changed_format_is_breaking() -> None:
    new = changed(lambda s: s["properties"].update(placed_at={"type": "string", "format": "date"}))
    assert compare(OLD, new) == ["placed_at: type changed from string(date-time) to string(date)"]


def test_field_becoming_nullable_is_breaking() -> None:
    nullable = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    new = changed(lambda s: s["properties"].update(order_id=nullable))
    assert compare(OLD, new) == ["order_id: type changed from string to null | string"]


def test_optional_field_becoming_required_is_breaking() -> None:
    new = changed(lambda s: s["required"].append("note"))
    assert compare(OLD, new) == ["note: property is now required"]


def test_new_required_field_is_breaking() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["reservation_id"] = {"type": "string"}
        s["required"].append("reservation_id")

    assert compare(OLD, changed(edit)) == ["reservation_id: new property is required (add it as optional)"]


def test_removed_enum_value_is_breaking() -> None:
    new = changed(lambda s: s["$defs"]["Status"].update(enum=["PLACED"]))
    assert compare(OLD, new) == ["status: enum narrowed, removed value(s) 'CONFIRMED'"]


def test_nested_model_changes_are_breaking_wherever_it_is_used() -> None:
    new = changed(lambda s: s["$defs"]["Address"]["properties"].pop("pincode"))
    assert compare(OLD, new) == [
        "address.pincode: property removed",
        "lines[].pincode: property removed",
    ]


def test_nested_type_change_inside_a_map_is_breaking() -> None:
    old: dict[str, Any] = {
        "type": "object",
        "properties": {"by_warehouse": {"type": "object", "additionalProperties": {"type": "integer"}}},
    }
    new = copy.deepcopy(old)
    new["properties"]["by_warehouse"]["additionalProperties"] = {"type": "string"}
    assert compare(old, new) == ["by_warehouse{}: type changed from integer to string"]


def test_new_topic_is_a_new_major_not_a_failure() -> None:
    assert compare_topics({"orders.placed.v1": OLD}, {"orders.placed.v1": OLD, "orders.placed.v2": {}}) == []


def test_snapshot_without_a_model_is_a_failure() -> None:
    problems = compare_topics({"orders.placed.v1": OLD}, {})
    assert problems == ["orders.placed.v1: snapshot exists but no model publishes this topic any more"]


def test_problems_are_prefixed_with_their_topic() -> None:
    new = changed(lambda s: s["properties"].pop("order_id"))
    assert compare_topics({"orders.placed.v1": OLD}, {"orders.placed.v1": new}) == [
        "orders.placed.v1: order_id: property removed"
    ]


def test_write_refuses_a_breaking_change_and_check_fails(tmp_path: Any) -> None:
    assert schemas_tool.write(tmp_path) == 0
    assert schemas_tool.check(tmp_path) == 0
    snapshot = tmp_path / "orders.placed.v1.json"
    text = snapshot.read_text().replace('"PLACED"', '"PLACED",\n "LEGACY_STATE"', 1)
    snapshot.write_text(text)
    assert schemas_tool.check(tmp_path) == 1
    assert schemas_tool.write(tmp_path) == 1
    (tmp_path / "orders.teleported.v1.json").write_text("{}")
    assert schemas_tool.check(tmp_path, compat_only=True) == 1
