"""The chassis text rule: NUL and control characters answer 422 naming the field, wherever they come
from (body, path, query), and the OpenAPI says so with a pattern on every free string."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Form, Query, Request
from pydantic import BaseModel, Field

from chassis import text
from chassis.auth import by_signature, parse_keys
from chassis.http import create_http_app
from chassis.refusal import Refusal


class _Line(BaseModel):
    sku: str
    note: str | None = None


class _Parcel(BaseModel):
    warehouse_code: str = Field(min_length=1, max_length=32)
    pickup_date: date | None = None
    courier: Annotated[str, Field(pattern=r"^[a-z]+$")] = "delhivery"
    lines: list[_Line] = []


def _app() -> Any:
    async def ready() -> dict[str, bool]:
        return {}

    app = create_http_app(title="t", version="0", lifespan=None, readiness=ready, api_keys=parse_keys(""))  # type: ignore[arg-type]
    router = APIRouter()
    stored: list[Any] = []

    @router.post("/manifests/{warehouse}")
    async def manifest(warehouse: str, body: _Parcel, order_id: str | None = None) -> dict[str, str]:
        stored.append(body)
        return {"ok": warehouse}

    @router.post(
        "/import", openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}}
    )
    async def csv_import(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @router.post("/notes")
    async def note(text: Annotated[str, Form()]) -> dict[str, str]:
        return {"text": text}

    async def signed_x(request: Request) -> None:
        if request.headers.get("X-Signature") != "x's":
            raise Refusal("X-Signature", "not x's", status=401)

    @router.post("/webhooks/x", dependencies=[by_signature("x", signed_x)])
    async def webhook(request: Request, tag: Annotated[str | None, Query()] = None) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.include_router(router)
    app.state.stored = stored
    return app


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_a_nul_in_a_body_field_answers_422_naming_the_field_and_reaches_no_route() -> None:
    app = _app()
    async with _client(app) as c:
        r = await c.post(
            "/manifests/BOM1",
            json={"warehouse_code": "BOM\x001", "lines": [{"sku": "TEA", "note": "ok"}, {"sku": "T\x07"}]},
        )
    assert r.status_code == 422
    assert r.json()["error"] == "invalid request"
    assert [p["field"] for p in r.json()["problems"]] == ["warehouse_code", "lines.1.sku"]
    assert "U+0000" in r.json()["problems"][0]["problem"]
    assert app.state.stored == []


@pytest.mark.parametrize(
    ("path", "field"),
    [("/manifests/BOM%001", "warehouse"), ("/manifests/BOM1?order_id=ORD%00", "order_id")],
)
async def test_a_nul_in_a_path_or_query_answers_422_naming_the_parameter(path: str, field: str) -> None:
    async with _client(_app()) as c:
        r = await c.post(path, json={"warehouse_code": "BOM1"})
    assert r.status_code == 422
    assert [p["field"] for p in r.json()["problems"]] == [field]


async def test_lines_tabs_and_any_script_are_text_and_pass() -> None:
    app = _app()
    async with _client(app) as c:
        r = await c.post(
            "/manifests/BOM1?order_id=ORD-1",
            json={"warehouse_code": "BOM1", "lines": [{"sku": "TEA", "note": "दो डिब्बे\nrack\tC4\r\n"}]},
        )
    assert r.status_code == 200, r.text
    assert app.state.stored[0].lines[0].note == "दो डिब्बे\nrack\tC4\r\n"


async def test_a_lone_surrogate_is_refused_as_not_unicode() -> None:
    async with _client(_app()) as c:
        r = await c.post(
            "/manifests/BOM1",
            content=b'{"warehouse_code": "BOM\\ud8001"}',
            headers={"content-type": "application/json"},
        )
    assert r.status_code == 422
    assert r.json()["problems"] == [{"field": "warehouse_code", "problem": text.text_problem("\ud800")}]


async def test_a_csv_body_with_a_nul_is_refused_whole() -> None:
    async with _client(_app()) as c:
        r = await c.post(
            "/import", content=b"sku,name\nTEA,A\x00ssam\n", headers={"content-type": "text/csv"}
        )
        ok = await c.post("/import", content=b"sku,name\nTEA,Assam\n", headers={"content-type": "text/csv"})
    assert r.status_code == 422
    assert [p["field"] for p in r.json()["problems"]] == ["body"]
    assert ok.status_code == 200


async def test_a_form_is_read_once_and_a_nul_in_a_field_answers_422_naming_it() -> None:
    async with _client(_app()) as c:
        ok = await c.post("/notes", data={"text": "दो डिब्बे\nrack C4"})
        refused = await c.post("/notes", data={"text": "a\x00b"})
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"text": "दो डिब्बे\nrack C4"}
    assert refused.status_code == 422
    assert [p["field"] for p in refused.json()["problems"]] == ["text"]


async def test_a_signed_webhook_body_is_left_to_its_route_but_its_query_is_checked() -> None:
    async with _client(_app()) as c:
        body = await c.post("/webhooks/x", json={"event": "a\x00"}, headers={"X-Signature": "x's"})
        query = await c.post("/webhooks/x?tag=a%01", json={}, headers={"X-Signature": "x's"})
    assert body.status_code == 200
    assert query.status_code == 422
    assert query.json()["problems"][0]["field"] == "tag"


async def test_the_openapi_puts_the_pattern_on_free_strings_only() -> None:
    async with _client(_app()) as c:
        spec = (await c.get("/openapi.json")).json()
    parcel = spec["components"]["schemas"]["_Parcel"]["properties"]
    assert parcel["warehouse_code"]["pattern"] == text.PATTERN
    assert parcel["courier"]["pattern"] == "^[a-z]+$"
    assert "pattern" not in parcel["pickup_date"]["anyOf"][0]
    line = spec["components"]["schemas"]["_Line"]["properties"]
    assert line["sku"]["pattern"] == text.PATTERN
    assert line["note"]["anyOf"][0]["pattern"] == text.PATTERN
    params = {p["name"]: p["schema"] for p in spec["paths"]["/manifests/{warehouse}"]["post"]["parameters"]}
    assert params["warehouse"]["pattern"] == text.PATTERN
    assert params["order_id"]["anyOf"][0]["pattern"] == text.PATTERN
    csv = spec["paths"]["/import"]["post"]["requestBody"]["content"]["text/csv"]["schema"]
    assert csv["pattern"] == text.PATTERN


def test_the_schema_pattern_and_the_check_refuse_exactly_the_same_characters() -> None:
    pattern = re.compile(text.PATTERN)
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        assert (pattern.fullmatch(char) is None) == (text.text_problem(char) is not None), hex(code)
    assert text.text_problem("\t\n\r") is None


@pytest.mark.parametrize(
    "raw",
    [
        b'{"note": "x\\u0000"}',
        b'{"note": "x\\u001F"}',
        b'{"note": "x\\u0085"}',
        b'{"note": "x\\u007f"}',
        b'{"note": "\\udc00"}',
        b'{"note": "x\\b"}',
        b'{"note": "x\x7f"}',  # DEL and the C1 controls are legal raw in JSON
        b'{"note": "x\xc2\x85"}',
        b'{"n\\u0001ote": "x"}',
    ],
)
def test_a_body_with_a_refused_character_escaped_or_raw_is_walked_and_refused(raw: bytes) -> None:
    parsed = json.loads(raw)

    assert text.parsed_json_problems(raw, parsed) == text.json_problems(parsed) != []
    assert text.body_problems(raw, "application/json") != []


def test_a_body_whose_escapes_are_all_allowed_text_is_not_refused() -> None:
    raw = json.dumps({"name": "Asha Verma é ₹ नमस्ते", "note": "line\none\ttab"}).encode()
    assert b"\\u" in raw

    assert text.parsed_json_problems(raw, json.loads(raw)) == []
    assert text.body_problems(raw, "application/json") == []


def test_a_surrogate_written_raw_in_a_json_body_is_found_as_one_written_escaped() -> None:
    """json.loads reads bytes with "surrogatepass": a raw ED B0 80 becomes a lone surrogate that
    PostgreSQL's jsonb refuses, so the quick byte check must not let it through unwalked."""
    raw = json.dumps({"name": "a\udc00b"}, ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert b"\\u" not in raw
    assert text.parsed_json_problems(raw, json.loads(raw)) == [
        ("name", "is not valid Unicode text (a lone surrogate)")
    ]


def test_json_text_is_read_or_refused_saying_where_it_broke() -> None:
    assert text.parsed(b'{"weights": {"sla": 3}}') == {"weights": {"sla": 3}}
    with pytest.raises(text.MalformedJson, match=r"^malformed JSON at character 12: Expecting"):
        text.parsed('{"weights": }')
    with pytest.raises(text.MalformedJson, match=r"^malformed JSON"):
        text.parsed(b"\xff\xfe{}")
