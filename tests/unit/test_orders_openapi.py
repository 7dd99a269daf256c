"""The orders API documents itself: every endpoint has a summary, its error answers, and examples."""

from __future__ import annotations

from typing import Any

import pytest

from services.orders.app import build

SPEC: dict[str, Any] = build().http_app().openapi()
OPERATIONS = [
    (path, method, op)
    for path, methods in SPEC["paths"].items()
    for method, op in methods.items()
    if path not in ("/healthz", "/readyz", "/metrics")
]


def _schema(ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in ref_or_schema:
        return dict(SPEC["components"]["schemas"][ref_or_schema["$ref"].split("/")[-1]])
    return ref_or_schema


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_every_endpoint_has_a_summary_a_success_shape_and_its_errors(
    path: str, method: str, op: dict[str, Any]
) -> None:
    assert op.get("summary"), f"{method} {path} has no summary"
    codes = set(op["responses"])
    assert codes & {"200", "201", "204"}
    assert "401" in codes, f"{method} {path} does not document 401"
    if path != "/webhooks/razorpay":
        assert "403" in codes, f"{method} {path} does not document 403"
    if "requestBody" in op:
        assert "422" in codes
        content = op["requestBody"]["content"]["application/json"]
        schema = _schema(content["schema"])
        assert content.get("example") or schema.get("examples"), (
            f"{method} {path}: request body without examples"
        )


def test_error_answers_are_documented_with_the_problem_shape_and_an_example() -> None:
    problems = SPEC["components"]["schemas"]["Problems"]
    assert problems["examples"][0]["problems"][0]["field"] == "shipping_address.state"
    cancel = SPEC["paths"]["/orders/{order_id}/cancel"]["post"]["responses"]
    assert {"401", "403", "404", "409", "422"} <= set(cancel)
