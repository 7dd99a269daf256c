"""What an order entered over HTTP may claim, and for which channel a key may enter it (issue 15,
item 4; ADR 0067)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contracts import Channel
from services.orders.app import build
from services.orders.domain import bound_channel, resubmitted_payment_problems
from services.orders.schemas import STAFF_ORDER_EXAMPLE
from services.orders.settings import OrdersSettings

KEYS = ",".join(
    [
        "asha:ops:ops-key-0123456789",
        "root:admin:admin-key-0123456789",
        "shopify-adapter:channel:shopify-key-0123456789",
        "partner:channel:partner-key-0123456789",
    ]
)
CAPTURED = {
    "method": "upi",
    "status": "captured",
    "gateway": "razorpay",
    "gateway_payment_id": "pay_DESlfW9H8K9uqM",
    "amount_paise": STAFF_ORDER_EXAMPLE["total_paise"],
}


def _app() -> FastAPI:
    service = build(OrdersSettings(dabba_mode="development", api_keys=KEYS))
    app = service.http_app()
    app.state.service = service  # not started: an order that passes every check fails on the pool
    return app


async def _post(key: str, **changes: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post(
            "/orders", json=STAFF_ORDER_EXAMPLE | changes, headers={"X-API-Key": f"{key}-key-0123456789"}
        )


@pytest.mark.parametrize("key", ["ops", "admin", "shopify"])
async def test_no_key_enters_an_exchange_order_over_http(key: str) -> None:
    r = await _post(
        key,
        channel="exchange",
        payment=CAPTURED | {"gateway": "exchange", "gateway_payment_id": None},
    )

    assert r.status_code in (403, 422)
    assert r.json()["problems"][0]["field"] == "channel"
    if key != "shopify":
        assert {
            "field": "channel",
            "problem": "exchange orders are made by returns, never over HTTP",
        } in r.json()["problems"]


@pytest.mark.parametrize("key", ["ops", "admin", "shopify"])
async def test_no_key_claims_a_captured_payment_over_http(key: str) -> None:
    r = await _post(key, channel="shopify", payment=CAPTURED)

    assert r.status_code == 422
    [problem] = r.json()["problems"]
    assert problem["field"] == "payment.status"
    assert "webhook records the payment" in problem["problem"]


async def test_a_channel_key_enters_orders_for_its_own_channel_only() -> None:
    r = await _post("shopify", channel="woocommerce")
    assert r.status_code == 403
    assert r.json()["problems"] == [
        {"field": "channel", "problem": "key shopify-adapter may enter shopify orders only"}
    ]
    r = await _post("partner", channel="shopify")
    assert r.status_code == 403 and "names no channel" in r.json()["problems"][0]["problem"]

    with pytest.raises(RuntimeError, match="not started"):  # past every check, on to the database
        await _post("shopify", channel="shopify")


def test_a_channel_key_is_bound_by_its_name() -> None:
    assert bound_channel("shopify") is Channel.SHOPIFY
    assert bound_channel("website-checkout") is Channel.WEBSITE
    assert bound_channel("exchange") is None
    assert bound_channel("channel") is None


def test_a_resubmitted_order_keeps_a_taken_payment_only_as_the_channel_reported_it() -> None:
    assert resubmitted_payment_problems(claimed=CAPTURED, received=CAPTURED) == []
    assert resubmitted_payment_problems(claimed={**CAPTURED, "status": "pending"}, received=None) == []
    typed = [
        (CAPTURED, None),
        (CAPTURED, {**CAPTURED, "status": "pending"}),
        ({**CAPTURED, "gateway_payment_id": "pay_Typed1234567"}, CAPTURED),
        ({**CAPTURED, "amount_paise": CAPTURED["amount_paise"] + 100}, CAPTURED),
    ]
    for claimed, received in typed:
        [problem] = resubmitted_payment_problems(claimed=claimed, received=received)
        assert problem.field == "payment.status"
