"""Every service's HTTP surface, read from its own OpenAPI: one shape for answers, errors and lists.

Each app is built in-process (no stack: `build().http_app().openapi()` starts nothing) and checked:
- every 2xx answer declares its schema: a named model with fields and no undeclared extras (JSON),
  or a string (a PDF, a CSV, text); a 204 declares no body;
- every 4xx answer is the one error body (`Problems`: error + problems[field, problem]); every route
  documents 422 (every route refuses control characters in its path and query), routes behind an API
  key document 401 and 403, signed webhooks document 401;
- every list operation is keyset-paginated: a list is a GET whose answer is an array or holds an
  `items` array; it must answer a Page (items + next_cursor) and take `cursor` and a `limit` capped at
  chassis.pages.MAX_LIMIT.
The rule for what is not a JSON API: a route the app keeps out of its OpenAPI (the console's pages,
its form posts and redirects, its event stream and files) must answer something other than JSON,
which its endpoint's declared return type says; a route answering JSON may not hide from the schema.
"""

from __future__ import annotations

import importlib
import typing
from functools import cache
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.responses import Response

from chassis.auth import route_auth
from chassis.http import api_routes
from chassis.pages import MAX_LIMIT

SERVICES = (
    "orders",
    "inventory",
    "routing",
    "shipping",
    "notifications",
    "returns",
    "console",
    "channels",
    "invoicing",
)
ERROR_REF = "#/components/schemas/Problems"


@cache
def app_of(service: str) -> FastAPI:
    app: FastAPI = importlib.import_module(f"services.{service}.app").build().http_app()
    return app


def spec_of(service: str) -> dict[str, Any]:
    return app_of(service).openapi()


def operations() -> list[tuple[str, str, str]]:
    return [
        (service, path, method)
        for service in SERVICES
        for path, methods in spec_of(service)["paths"].items()
        for method in methods
    ]


OPERATIONS = operations()
IDS = [f"{s} {m.upper()} {p}" for s, p, m in OPERATIONS]


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return dict(spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    return schema


def route_of(service: str, path: str, method: str) -> APIRoute:
    return next(
        r for r in api_routes(app_of(service).routes) if r.path == path and method.upper() in r.methods
    )


def successes(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {code: answer for code, answer in op["responses"].items() if code.startswith("2")}


def json_schema(answer: dict[str, Any]) -> dict[str, Any] | None:
    content = answer.get("content", {})
    return content["application/json"].get("schema") if "application/json" in content else None


def test_every_service_builds_and_has_json_operations_to_check() -> None:
    counted = {s: sum(1 for service, _, _ in OPERATIONS if service == s) for s in SERVICES}
    # /healthz, /readyz, /metrics and /api-keys everywhere; the console's own routes are pages, not JSON.
    assert all(counted[s] > 4 for s in SERVICES if s != "console"), counted
    assert counted["console"] == 4 and any(
        not r.include_in_schema for r in api_routes(app_of("console").routes)
    )


@pytest.mark.parametrize(("service", "path", "method"), OPERATIONS, ids=IDS)
def test_every_success_answer_declares_its_schema(service: str, path: str, method: str) -> None:
    spec = spec_of(service)
    op = spec["paths"][path][method]
    found = successes(op)
    assert found, "no 2xx answer documented"
    for code, answer in found.items():
        content = answer.get("content", {})
        if code == "204":
            assert not content, "a 204 has no body"
            continue
        assert content, f"{code} declares no body"
        for media, declared in content.items():
            schema = declared.get("schema", {})
            if media == "application/json":
                assert "$ref" in schema, f"{code} {media}: not a named model: {schema}"
                model = resolve(spec, schema)
                assert model.get("properties"), f"{code}: {schema['$ref']} declares no fields"
                assert model.get("additionalProperties") is not True, (
                    f"{code}: {schema['$ref']} answers fields it does not declare"
                )
            else:
                assert schema.get("type") == "string", f"{code} {media}: no schema declared"


@pytest.mark.parametrize(("service", "path", "method"), OPERATIONS, ids=IDS)
def test_every_4xx_answer_is_the_one_error_body(service: str, path: str, method: str) -> None:
    op = spec_of(service)["paths"][path][method]
    errors = {code: answer for code, answer in op["responses"].items() if code.startswith("4")}
    for code, answer in errors.items():
        assert set(answer.get("content", {})) == {"application/json"}, f"{code}: {answer}"
        assert json_schema(answer) == {"$ref": ERROR_REF}, f"{code}: {json_schema(answer)}"
    expected = {"422"}
    auth = route_auth(route_of(service, path, method).dependant)
    if auth is not None:
        expected |= {"401", "403"} if auth[0] == "roles" else {"401"}
    assert expected <= set(errors), f"documents {sorted(errors)}, not {sorted(expected)}"


def test_the_one_error_body_names_its_fields_in_every_service() -> None:
    for service in SERVICES:
        spec = spec_of(service)
        problems = resolve(spec, {"$ref": ERROR_REF})
        assert set(problems["required"]) == {"error", "problems"}
        item = resolve(spec, problems["properties"]["problems"]["items"])
        assert set(item["required"]) == {"field", "problem"}
        assert not {"ErrorBody", "HTTPValidationError", "ValidationError"} & set(
            spec["components"]["schemas"]
        ), service


def is_list(spec: dict[str, Any], method: str, op: dict[str, Any]) -> bool:
    if method != "get":
        return False
    for answer in successes(op).values():
        schema = json_schema(answer)
        if schema is None:
            continue
        body = resolve(spec, schema)
        if body.get("type") == "array" or body.get("properties", {}).get("items", {}).get("type") == "array":
            return True
    return False


LISTS = [(s, p, m) for s, p, m in OPERATIONS if is_list(spec_of(s), m, spec_of(s)["paths"][p][m])]


def test_the_list_rule_finds_the_lists_we_know() -> None:
    found = {(s, p) for s, p, _ in LISTS}
    assert {("orders", "/orders"), ("returns", "/returns"), ("channels", "/channel-orders")} <= found


@pytest.mark.parametrize(("service", "path", "method"), LISTS, ids=[f"{s} GET {p}" for s, p, _ in LISTS])
def test_every_list_takes_a_cursor_and_a_bounded_limit_and_answers_a_page(
    service: str, path: str, method: str
) -> None:
    spec = spec_of(service)
    op = spec["paths"][path][method]
    query = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}
    assert "cursor" in query, f"no cursor: takes {sorted(query)}"
    assert query["cursor"]["schema"]["anyOf"][0]["type"] == "string"
    assert "limit" in query, f"no limit: takes {sorted(query)}"
    limit = query["limit"]["schema"]
    assert limit["type"] == "integer" and 1 <= limit.get("maximum", MAX_LIMIT + 1) <= MAX_LIMIT, limit
    assert not query["limit"].get("required", False), "limit has a default"
    page = resolve(spec, json_schema(successes(op)["200"]) or {})
    assert {"items", "next_cursor"} <= set(page.get("properties", {})), f"not a Page: {page}"


def _answer_type(route: APIRoute) -> Any:
    return typing.get_type_hints(route.endpoint).get("return")


@pytest.mark.parametrize("service", SERVICES)
def test_only_routes_that_do_not_answer_json_are_kept_out_of_the_openapi(service: str) -> None:
    hidden = [r for r in api_routes(app_of(service).routes) if not r.include_in_schema]
    for route in hidden:
        answer = _answer_type(route)
        assert isinstance(answer, type) and issubclass(answer, Response), (
            f"{route.path} is kept out of the OpenAPI but answers {answer}"
        )
        assert not issubclass(answer, JSONResponse), f"{route.path} answers JSON out of the OpenAPI"
        assert route.response_model is None
