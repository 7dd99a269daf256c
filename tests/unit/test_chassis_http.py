"""Every HTTP app answers every 4xx with one body: {"error", "problems": [{"field", "problem"}]}."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Form, Request
from pydantic import BaseModel, Field

from chassis.auth import Role, parse_keys, require
from chassis.http import ErrorBody, create_http_app
from chassis.pages import cursor_of, next_cursor, position
from chassis.refusal import Refusal

KEYS = "asha:ops:ops-key-0123456789,ravi:viewer:viewer-key-0123456789"


class _Receipt(BaseModel):
    sku: str
    quantity: int = Field(ge=1)


async def _ready() -> dict[str, bool]:
    return {}


def _app() -> FastAPI:
    app = create_http_app(title="t", version="0", lifespan=None, readiness=_ready, api_keys=parse_keys(KEYS))  # type: ignore[arg-type]
    router = APIRouter()

    @router.post("/receipts")
    async def receive(body: _Receipt, who: Any = require(Role.OPS)) -> dict[str, str]:
        if body.sku == "GONE":
            raise Refusal("sku", "no item GONE", status=404)
        if body.sku == "HELD":
            raise Refusal("sku", "HELD is on hold", status=409)
        return {"sku": body.sku, "actor": who.actor}

    @router.get("/items/{sku}")
    async def item(sku: str) -> dict[str, str]:
        raise Refusal.of([("sku", "unknown"), ("warehouse", "unknown")], status=404, error="unknown stock")

    @router.post("/notes")
    async def note(text: str = Form(...)) -> dict[str, str]:
        return {"text": text}

    @router.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.include_router(router)
    return app


async def _call(method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(method, path, **kwargs)


OPS = {"X-API-Key": "ops-key-0123456789"}
VIEWER = {"X-API-Key": "viewer-key-0123456789"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "error", "field"),
    [
        (
            "POST",
            "/receipts",
            {"json": {"sku": "GONE", "quantity": 1}, "headers": OPS},
            404,
            "not found",
            "sku",
        ),
        (
            "POST",
            "/receipts",
            {"json": {"sku": "HELD", "quantity": 1}, "headers": OPS},
            409,
            "not allowed now",
            "sku",
        ),
        (
            "POST",
            "/receipts",
            {"json": {"sku": "T", "quantity": 0}, "headers": OPS},
            422,
            "invalid request",
            "quantity",
        ),
        ("POST", "/receipts", {"json": {"sku": "T", "quantity": 1}}, 401, "unauthorized", "X-API-Key"),
        (
            "POST",
            "/receipts",
            {"json": {"sku": "T", "quantity": 1}, "headers": VIEWER},
            403,
            "forbidden",
            "X-API-Key",
        ),
        ("GET", "/no/such/route", {}, 404, "not found", "path"),
        ("DELETE", "/receipts", {"headers": OPS}, 405, "method not allowed", "path"),
        ("GET", "/items/TEA", {}, 404, "unknown stock", "sku"),
    ],
)
async def test_every_4xx_answers_the_one_error_body_naming_a_field(
    method: str, path: str, kwargs: dict[str, Any], status: int, error: str, field: str
) -> None:
    r = await _call(method, path, **kwargs)
    assert r.status_code == status
    body = ErrorBody.model_validate(r.json())
    assert set(r.json()) == {"error", "problems"}
    assert body.error == error and body.problems[0].field == field


async def test_a_form_route_is_read_once_and_its_fields_follow_the_text_rule() -> None:
    ok = await _call("POST", "/notes", data={"text": "left at the gate"})
    assert ok.status_code == 200 and ok.json() == {"text": "left at the gate"}
    refused = await _call("POST", "/notes", data={"text": "left\x00at the gate"})
    assert refused.status_code == 422 and refused.json()["problems"][0]["field"] == "text"
    raw = await _call("POST", "/raw", data={"text": "as sent"})
    assert raw.status_code == 200 and raw.json() == {"bytes": len("text=as+sent")}


async def test_a_refusal_of_several_problems_names_each_and_the_actor_is_role_and_name() -> None:
    r = await _call("GET", "/items/TEA")
    assert [p["field"] for p in r.json()["problems"]] == ["sku", "warehouse"]
    ok = await _call("POST", "/receipts", json={"sku": "TEA", "quantity": 1}, headers=OPS)
    assert ok.json() == {"sku": "TEA", "actor": "ops:asha"}


def test_request_validation_422s_are_documented_with_the_one_error_schema() -> None:
    spec = _app().openapi()
    answer = spec["paths"]["/receipts"]["post"]["responses"]["422"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Problems"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_a_cursor_points_after_the_last_row_and_a_forged_one_is_refused_naming_the_cursor() -> None:
    at = datetime(2026, 11, 26, 4, 45, tzinfo=UTC)
    rows = [(at, "ORD-2"), (at, "ORD-1")]
    cursor = next_cursor(rows, 2, lambda r: r)
    assert cursor == cursor_of(at, "ORD-1") and position(cursor) == (at, "ORD-1")
    assert next_cursor(rows, 3, lambda r: r) is None and position(None) is None
    for forged in ("yesterday|ORD-1", "2026-11-26T04:45:00|ORD-1", "2026-11-26T04:45:00+00:00|"):
        with pytest.raises(Refusal) as refused:
            position(forged)
        assert (refused.value.field, refused.value.status) == ("cursor", 422)
