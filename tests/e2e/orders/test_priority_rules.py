"""Priority rules edited over HTTP through the real orders service: an operator's weights rank the
next confirmed order (priority and reasons on orders.confirmed.v1 and on the order), the preview
shows the queue they produce, and going back restores the settings' weights."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.stack import Stack
from tests.conftest import Tap, body_has
from tests.e2e.orders.support import call, detail, place, stocked_sku, wait_status

pytestmark = pytest.mark.e2e

DIWALI = {
    "speed": {"same_day": 300, "express": 100, "standard": 0},
    "prepaid": 20,
    "cod": -5,
    "value_bands": [{"from_paise": 50000, "weight": 7}],
    "channels": {"shopify": 40},
    "pincodes": [{"first": "302001", "last": "302039", "weight": 3, "label": "Jaipur"}],
}


@pytest.fixture
async def settings_weights_after() -> AsyncIterator[None]:
    """Other tests expect the settings' weights: put them back whatever happens here."""
    yield
    reset = await call("DELETE", "/priority-rules")
    assert reset.status_code == 200, reset.text


async def test_an_operators_weights_rank_the_next_confirmed_order_and_the_preview_shows_the_queue(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, settings_weights_after: None
) -> None:
    refused = await call(
        "PUT",
        "/priority-rules",
        json=DIWALI | {"pincodes": [{"first": "3020", "last": "302039", "weight": 3}]},
    )
    viewer = await call("PUT", "/priority-rules", json=DIWALI, role="viewer")
    put = await call("PUT", "/priority-rules", json=DIWALI)
    current = await call("GET", "/priority-rules", role="viewer")

    assert refused.status_code == 422
    assert [p["field"] for p in refused.json()["problems"]] == ["pincodes.0.first"]
    assert viewer.status_code == 403
    assert put.status_code == 200, put.text
    assert current.json()["source"] == "stored"
    assert current.json()["weights"]["channels"] == {"shopify": 40}

    sku = await stocked_sku(tap)
    order_id = await place(producer, tap, sku)  # shopify, UPI captured, ₹698 standard to Jaipur 302001
    [confirmed] = await tap.wait_for("orders.confirmed.v1", body_has(order_id=order_id), timeout=120)
    order = await wait_status(order_id, "CONFIRMED")

    reasons = [
        "prepaid +20",
        "value ≥ ₹500.00 +7",
        "channel shopify +40",
        "pincode 302001–302039 (Jaipur) +3",
    ]
    assert json.loads(confirmed.value)["priority"] == 70
    assert json.loads(confirmed.value)["priority_reasons"] == reasons
    assert order["priority"] == 70
    assert order["priority_reasons"] == reasons

    preview = await call("POST", "/priority-rules/preview", role="viewer", params={"limit": 1000})
    cod_heavy = DIWALI | {"channels": {}, "prepaid": -50}
    what_if = await call(
        "POST", "/priority-rules/preview", role="viewer", params={"limit": 1000}, json=cod_heavy
    )
    assert preview.status_code == 200, preview.text
    [queued] = [q for q in preview.json()["queue"] if q["order_id"] == order_id]
    assert (queued["priority_now"], queued["priority"], queued["reasons"]) == (70, 70, reasons)
    [if_changed] = [q for q in what_if.json()["queue"] if q["order_id"] == order_id]
    assert (if_changed["priority_now"], if_changed["priority"]) == (70, -50 + 7 + 3)
    assert (await detail(order_id))["priority"] == 70, "a preview changes no order"

    back = await call("DELETE", "/priority-rules")
    assert back.json()["source"] == "settings"
    assert back.json()["weights"]["prepaid"] == 10
