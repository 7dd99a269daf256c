"""Bounded input: every app refuses a body over its limit with 413 before anything reads it, and a
return link is checked before its body is (issue 15, item 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from chassis.http import upload
from chassis.service import Service
from services.orders.app import build as build_orders
from services.orders.domain import razorpay
from services.orders.settings import OrdersSettings
from services.returns import api as returns_api
from services.returns.app import build as build_returns
from services.returns.settings import ReturnsSettings

TEN_MB = 10 * 1024 * 1024
TOO_LARGE = {
    "error": "too large",
    "problems": [
        {
            "field": "body",
            "problem": "the body is larger than 1,048,576 bytes, the most this service accepts here",
        }
    ],
}


def _orders() -> FastAPI:
    service = build_orders(OrdersSettings(dabba_mode="development"))
    app = service.http_app()
    app.state.service = service  # not started: a route that got this far would fail on the pool
    return app


async def _post(app: FastAPI, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.post(path, **kwargs)


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every body the Razorpay webhook's signature check is handed."""
    seen: list[bytes] = []

    def spy(secret: str, body: bytes, presented: str | None) -> bool:
        seen.append(body)
        return False

    monkeypatch.setattr(razorpay, "signature_ok", spy)
    return seen


async def test_a_10_mb_webhook_body_is_refused_with_413_before_anything_reads_it(
    verified: list[bytes],
) -> None:
    r = await _post(
        _orders(),
        "/webhooks/razorpay",
        content=b'{"event": "payment.captured", "pad": "' + b"x" * TEN_MB + b'"}',
        headers={"X-Razorpay-Signature": "0" * 64, "Content-Type": "application/json"},
    )

    assert r.status_code == 413
    assert r.json() == TOO_LARGE
    assert verified == []
    small = await _post(_orders(), "/webhooks/razorpay", content=b"{}", headers={"X-Razorpay-Signature": "0"})
    assert small.status_code == 401
    assert verified == [b"{}"]


async def test_a_webhook_body_without_a_length_is_cut_off_as_soon_as_it_passes_the_limit(
    verified: list[bytes],
) -> None:
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(10 * 1024):  # 10 MB in 1 KiB chunks, chunked: no Content-Length
            pulled += 1
            yield b"x" * 1024

    r = await _post(
        _orders(), "/webhooks/razorpay", content=chunks(), headers={"X-Razorpay-Signature": "0" * 64}
    )

    assert r.status_code == 413
    assert r.json() == TOO_LARGE
    assert verified == []
    assert pulled <= 1024 + 2  # the limit's worth, not the whole 10 MB


async def test_a_csv_import_may_be_larger_than_other_bodies_up_to_the_upload_limit() -> None:
    service = Service(
        "t", settings=OrdersSettings(dabba_mode="development", http_max_upload_bytes=3 * 1024 * 1024)
    )
    app = service.http_app()
    app.state.service = service  # started: routes answer (ADR 170)

    @app.post("/imports")
    @upload
    async def imports(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.post("/other")
    async def other(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    two_mb = b"a,b\n" * (512 * 1024)
    assert (await _post(app, "/imports", content=two_mb)).json() == {"bytes": len(two_mb)}
    assert (await _post(app, "/other", content=two_mb)).status_code == 413
    assert (await _post(app, "/imports", content=two_mb * 2)).status_code == 413


async def test_a_return_link_is_checked_before_its_body_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    service = build_returns(ReturnsSettings(dabba_mode="development"))
    app = service.http_app()
    app.state.service = service
    parsed: list[bytes] = []
    monkeypatch.setattr(returns_api, "_customer_request", lambda raw: parsed.append(raw))

    r = await _post(
        app, "/returns/by-link/ORD-1.9999999999.forged", content=b'{"lines": [' + b"{}," * 300 + b"{}]}"
    )

    assert r.status_code == 401
    assert r.json()["problems"] == [{"field": "token", "problem": "this return link is not valid"}]
    assert parsed == []
    monkeypatch.undo()
    token = returns_api.link_token(
        service.settings.return_link_secret, "ORD-1", expires=datetime(2999, 1, 1, tzinfo=UTC)
    )

    r = await _post(app, f"/returns/by-link/{token}", json={"lines": [], "resolution": "teleport"})
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} == {"lines", "resolution"}
    r = await _post(app, f"/returns/by-link/{token}", content=b'{"lines": [')
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "body"
    r = await _post(app, f"/returns/by-link/{token}", json={"lines": [{"sku": "A\u0000", "quantity": 1}]})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "lines.0.sku"


async def test_a_services_own_csv_import_takes_the_upload_limit_and_its_other_routes_do_not() -> None:
    from services.inventory.app import build as build_inventory
    from services.inventory.settings import InventorySettings

    service = build_inventory(InventorySettings(dabba_mode="development"))
    app = service.http_app()
    app.state.service = service  # started: routes answer (ADR 170)
    two_mb = b"sku,name\n" + b"TEA-ASSAM-250,Assam tea\n" * (2 * 1024 * 1024 // 24)

    imported = await _post(app, "/items/import", content=two_mb, headers={"Content-Type": "text/csv"})
    other = await _post(app, "/items", content=two_mb, headers={"Content-Type": "application/json"})

    assert imported.status_code == 401  # through the size limit, on to the key check
    assert other.status_code == 413
