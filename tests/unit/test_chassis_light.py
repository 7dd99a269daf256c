"""Light routes (chassis.http.light, ADR 430): a route a provider floods is answered by its light
handler straight from ASGI, yet refuses as every route does: 413 over the body limit, 422 for control
characters in the path, 503 until the service has started, the one error body for a refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from chassis.http import LightRequest, light
from chassis.refusal import Refusal
from chassis.service import Service
from chassis.settings import ServiceSettings


def _app(*, started: bool = True) -> tuple[FastAPI, list[LightRequest]]:
    """A service with one light route; the requests its light handler got."""
    seen: list[LightRequest] = []
    router = APIRouter()

    async def endpoint(name: str) -> dict[str, str]:
        raise AssertionError("FastAPI's endpoint answered a light route")

    async def handler(request: LightRequest) -> tuple[int, Any]:
        seen.append(request)
        if request.body == b"forged":
            raise Refusal("headers", "the signature does not match", status=401, error="webhook refused")
        if request.body == b"boom":
            raise RuntimeError("a bug")
        return 200, {"name": request.path_params["name"], "bytes": len(request.body)}

    light(endpoint, handler)
    router.add_api_route("/hooks/{name}", endpoint, methods=["POST"])
    service = Service("t", settings=ServiceSettings(dabba_mode="development"))
    service.include_router(router)
    app = service.http_app()
    if started:
        app.state.service = service
    return app, seen


async def _post(app: FastAPI, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.post(path, **kwargs)


async def test_a_light_route_is_answered_by_its_light_handler_with_its_raw_body_and_headers() -> None:
    app, seen = _app()

    r = await _post(app, "/hooks/demo", content=b'{"a": 1}', headers={"X-Provider-Sig": "abc"})

    assert (r.status_code, r.json()) == (200, {"name": "demo", "bytes": 8})
    assert r.headers["content-type"] == "application/json"
    [request] = seen
    assert request.body == b'{"a": 1}'
    assert request.headers["x-provider-sig"] == "abc"


async def test_a_refusal_gets_the_one_error_body_and_a_failure_a_500() -> None:
    app, _ = _app()

    forged = await _post(app, "/hooks/demo", content=b"forged")
    failed = await _post(app, "/hooks/demo", content=b"boom")

    assert forged.status_code == 401
    assert forged.json() == {
        "error": "webhook refused",
        "problems": [{"field": "headers", "problem": "the signature does not match"}],
    }
    assert failed.status_code == 500
    assert failed.json()["problems"][0]["field"] == "service"


async def test_a_body_over_the_limit_never_reaches_the_light_handler() -> None:
    app, seen = _app()

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(2 * 1024):  # 2 MB in 1 KiB chunks, no Content-Length
            yield b"x" * 1024

    declared = await _post(app, "/hooks/demo", content=b"x" * (2 * 1024 * 1024))
    streamed = await _post(app, "/hooks/demo", content=chunks())

    assert declared.status_code == streamed.status_code == 413
    assert declared.json()["problems"][0]["field"] == "body"
    assert seen == []


async def test_control_characters_in_the_path_or_query_are_refused_naming_the_field() -> None:
    app, seen = _app()

    in_path = await _post(app, "/hooks/de%00mo", content=b"{}")
    in_query = await _post(app, "/hooks/demo", params={"topic": "a\x07b"}, content=b"{}")

    assert (in_path.status_code, in_path.json()["problems"][0]["field"]) == (422, "name")
    assert (in_query.status_code, in_query.json()["problems"][0]["field"]) == (422, "topic")
    assert seen == []


async def test_until_the_service_has_started_a_light_route_answers_503() -> None:
    app, seen = _app(started=False)

    r = await _post(app, "/hooks/demo", content=b"{}")

    assert r.status_code == 503
    assert r.json()["error"] == "unavailable"
    assert seen == []


async def test_other_methods_and_paths_are_fastapis() -> None:
    app, seen = _app()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        wrong_method = await client.get("/hooks/demo")
        health = await client.get("/healthz")

    assert wrong_method.status_code == 405
    assert health.json() == {"status": "ok"}
    assert seen == []
