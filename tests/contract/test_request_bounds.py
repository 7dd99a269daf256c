"""Every list a request may carry has a maximum length, in every service's OpenAPI (issue 15, item 5).

A request's body is bounded in bytes by chassis.http's BodyLimit; its lists are bounded in the request
models (ADR 0060), so no decision (eligibility, routing, a bulk action) is handed more items than the
model says. Read from each app's own OpenAPI, built in-process: a new model with an unbounded list,
or a map without a maximum of keys, fails here."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from deploy.local.stack import SERVICES


def _unbounded(node: Any, where: str, spec: dict[str, Any], seen: frozenset[str]) -> list[str]:
    """Each array without maxItems and each open map without maxProperties under this schema."""
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return _unbounded(spec["components"]["schemas"][name], f"{where}<{name}>", spec, seen | {name})
    found = []
    if node.get("type") == "array" and "maxItems" not in node:
        found.append(f"{where}: a list without maxItems")
    if isinstance(node.get("additionalProperties"), dict) and "maxProperties" not in node:
        found.append(f"{where}: a map without maxProperties")
    for name, child in (node.get("properties") or {}).items():
        found += _unbounded(child, f"{where}.{name}", spec, seen)
    for key in ("items", "additionalProperties"):
        found += _unbounded(node.get(key), f"{where}[]", spec, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for child in node.get(key) or []:
            found += _unbounded(child, where, spec, seen)
    return found


def unbounded_inputs(spec: dict[str, Any]) -> list[str]:
    """Every unbounded list or map in the request bodies and parameters of an OpenAPI document."""
    found = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            for content in (op.get("requestBody") or {}).get("content", {}).values():
                found += _unbounded(content.get("schema"), f"{where} body", spec, frozenset())
            for parameter in op.get("parameters") or []:
                found += _unbounded(
                    parameter.get("schema"), f"{where} {parameter['name']}", spec, frozenset()
                )
    return found


@pytest.mark.parametrize("name", SERVICES)
def test_every_list_a_request_carries_has_a_maximum_length(name: str) -> None:
    module = importlib.import_module(f"services.{name}.app")
    settings_type = type(module.build().settings)
    spec = module.build(settings_type(dabba_mode="development")).http_app().openapi()

    assert unbounded_inputs(spec) == []
    assert spec["paths"]  # the service's own routes were read


def test_an_unbounded_list_or_map_deep_in_a_request_is_named() -> None:
    spec = {
        "paths": {
            "/returns": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Req"}}}
                    },
                    "parameters": [{"name": "sku", "schema": {"type": "array", "items": {"type": "string"}}}],
                }
            }
        },
        "components": {
            "schemas": {
                "Req": {
                    "properties": {
                        "lines": {
                            "type": "array",
                            "maxItems": 50,
                            "items": {"$ref": "#/components/schemas/Line"},
                        },
                        "tags": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
                    }
                },
                "Line": {
                    "properties": {"attrs": {"type": "object", "additionalProperties": {"type": "string"}}}
                },
            }
        },
    }

    assert unbounded_inputs(spec) == [
        "POST /returns body<Req>.lines[]<Line>.attrs: a map without maxProperties",
        "POST /returns body<Req>.tags: a list without maxItems",
        "POST /returns sku: a list without maxItems",
    ]
