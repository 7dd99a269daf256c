"""The sandbox's simulated road: parcels move on their own when asked to, fail deliveries and go
back to origin with the configured probabilities, and wait for the shipper's NDR instruction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from services.shipping.couriers.delhivery import DelhiveryCourier
from tests.helpers import shipment_request


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # Webhooks go nowhere here; the road and the tracking API are what is under test.
    app = create_app(SandboxSettings(shipping_url="http://127.0.0.1:9"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as c:
        await c.post("/_sandbox/couriers/simulation", json={"webhook_tries": 1})
        yield c


async def book(client: httpx.AsyncClient, reference: str) -> str:
    courier = DelhiveryCourier(client, token="t")
    request = shipment_request(reference, cod_amount_paise=0)
    return (await courier.create_shipment(request)).awb


async def road(client: httpx.AsyncClient, awb: str, last: str) -> list[str]:
    for _ in range(200):
        [parcel] = (await client.get("/_sandbox/couriers/parcels", params={"awb": awb})).json()
        steps = [e["step"] for e in parcel["events"]]
        if steps and steps[-1] == last:
            return steps
        await asyncio.sleep(0.02)
    raise AssertionError(f"{awb} stopped at {steps}")


async def test_an_unscripted_parcel_stays_put_until_auto_advance_is_on(client: httpx.AsyncClient) -> None:
    awb = await book(client, "SHP-STILL")
    await asyncio.sleep(0.2)
    [parcel] = (await client.get("/_sandbox/couriers/parcels", params={"awb": awb})).json()
    assert parcel["events"] == []

    await client.post("/_sandbox/couriers/simulation", json={"auto_advance": True, "step_delay_ms": 0})

    assert await road(client, awb, "delivered") == [
        "picked_up",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]


async def test_with_certain_ndr_and_rto_the_courier_sends_the_parcel_back_itself(
    client: httpx.AsyncClient,
) -> None:
    await client.post(
        "/_sandbox/couriers/simulation",
        json={
            "auto_advance": True,
            "step_delay_ms": 0,
            "ndr_probability": 1,
            "rto_probability": 1,
            "seed": 7,
        },
    )
    awb = await book(client, "SHP-RTO")

    steps = await road(client, awb, "rto_delivered")

    assert steps[2:] == ["out_for_delivery", "ndr", "rto_initiated", "rto_in_transit", "rto_delivered"]
    tracked = (await client.get("/api/v1/packages/json/", params={"waybill": awb},
                                headers={"Authorization": "Token t"})).json()  # fmt: skip
    assert tracked["ShipmentData"][0]["Shipment"]["Status"]["Status"] == "RTO"


async def test_a_failed_delivery_waits_for_the_shippers_instruction(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/couriers/scripts", json={"reference": "SHP-WAIT", "fail_attempts": 1})
    await client.post("/_sandbox/couriers/simulation", json={"step_delay_ms": 0})
    awb = await book(client, "SHP-WAIT")
    await road(client, awb, "ndr")
    await asyncio.sleep(0.2)
    assert (await road(client, awb, "ndr"))[-1] == "ndr"

    answer = await client.post(
        "/api/p/update",
        json={"data": [{"waybill": awb, "act": "RE-ATTEMPT"}]},
        headers={"Authorization": "Token t"},
    )

    assert answer.json()["status"] is True
    assert (await road(client, awb, "delivered"))[-2:] == ["out_for_delivery", "delivered"]
