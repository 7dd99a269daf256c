"""Shiprocket and Xpressbees adapters against the sandbox's copies of their APIs: booking, the same
reference booking once, NDR actions reaching the simulated road, and falling back on an outage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest

from chassis.geo import Zone
from sandbox.app import create_app
from services.shipping import booking
from services.shipping.couriers.delhivery import DelhiveryCourier
from services.shipping.couriers.interface import (
    CourierRejected,
    CourierUnavailable,
    Handover,
    NdrAction,
    NdrActionKind,
    ShipmentRequest,
)
from services.shipping.couriers.shiprocket import ShiprocketCourier
from services.shipping.couriers.xpressbees import XpressbeesCourier
from services.shipping.domain import allocation
from tests.helpers import shipment_request


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as c:
        yield c


def request(reference: str = "SHP-0001", **overrides: object) -> ShipmentRequest:
    return shipment_request(reference, **overrides)


def couriers(client: httpx.AsyncClient) -> dict[str, object]:
    return {
        "xpressbees": XpressbeesCourier(client, email="e@x", password="p"),
        "shiprocket": ShiprocketCourier(client, email="e@x", password="p"),
        "delhivery": DelhiveryCourier(client, token="t"),
    }


@pytest.mark.parametrize("name", ["shiprocket", "xpressbees"])
async def test_the_same_reference_books_one_awb(client: httpx.AsyncClient, name: str) -> None:
    courier = couriers(client)[name]

    first = await courier.create_shipment(request("SHP-ONCE"))  # type: ignore[attr-defined]
    again = await courier.create_shipment(request("SHP-ONCE"))  # type: ignore[attr-defined]

    assert first.awb == again.awb and len(first.awb) == 14
    assert first.routing_code


async def test_shiprocket_names_the_bad_field(client: httpx.AsyncClient) -> None:
    courier = ShiprocketCourier(client, email="e@x", password="p")
    with pytest.raises(CourierRejected, match="billing_phone"):
        await courier.create_shipment(request(consignee_phone="+91123"))


async def test_an_expired_shiprocket_token_logs_in_again(client: httpx.AsyncClient) -> None:
    courier = ShiprocketCourier(client, email="e@x", password="p")
    await courier.create_shipment(request("SHP-T1"))
    await client.post("/_sandbox/reset")  # forgets issued tokens

    assert (await courier.create_shipment(request("SHP-T2"))).awb


async def test_an_xpressbees_outage_is_retryable(client: httpx.AsyncClient) -> None:
    courier = XpressbeesCourier(client, email="e@x", password="p")
    await courier.create_shipment(request("SHP-WARM"))  # logged in
    await client.post("/_sandbox/faults", json={"provider": "xpressbees", "status_code": 503})
    with pytest.raises(CourierUnavailable):
        await courier.create_shipment(request("SHP-DOWN"))


async def test_when_the_first_courier_is_down_the_next_one_books(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/faults", json={"provider": "xpressbees", "status_code": 503, "fail_next": 5})
    ranked = tuple(
        allocation.Choice(name, Zone.REST_OF_INDIA, 1000, 100, 0, 4, "")
        for name in ("xpressbees", "shiprocket")
    )

    booked, attempts = await booking.book_ranked(ranked, couriers(client), request("SHP-FALL"))  # type: ignore[arg-type]

    assert booked is not None and booked.courier == "shiprocket"
    assert [(a["courier"], a["outcome"]) for a in attempts] == [
        ("xpressbees", "CourierUnavailable"),
        ("shiprocket", "booked"),
    ]


async def test_a_courier_whose_pickup_filled_since_the_ranking_is_skipped_for_the_next(
    client: httpx.AsyncClient,
) -> None:
    ranked = tuple(
        allocation.Choice(name, Zone.REST_OF_INDIA, 1000, 100, 0, 4, "")
        for name in ("xpressbees", "shiprocket")
    )
    asked: list[str] = []

    async def claim(courier: str) -> str | None:
        asked.append(courier)
        return (
            "pickup capacity full on 2026-11-07: 40 of 40 parcels booked" if courier == "xpressbees" else None
        )

    booked, attempts = await booking.book_ranked(ranked, couriers(client), request("SHP-CAP"), claim)  # type: ignore[arg-type]

    assert booked is not None and booked.courier == "shiprocket"
    assert asked == ["xpressbees", "shiprocket"]
    assert attempts == [
        {
            "courier": "xpressbees",
            "outcome": "at_capacity",
            "error": "pickup capacity full on 2026-11-07: 40 of 40 parcels booked",
        },
        {"courier": "shiprocket", "outcome": "booked", "awb": booked.awb},
    ]


@pytest.mark.parametrize("name", ["delhivery", "shiprocket", "xpressbees"])
async def test_an_ndr_reattempt_reaches_the_couriers_road(client: httpx.AsyncClient, name: str) -> None:
    courier = couriers(client)[name]
    booked = await courier.create_shipment(request(f"SHP-NDR-{name}"))  # type: ignore[attr-defined]
    sim = client._transport.app.state.sandbox.simulation  # type: ignore[attr-defined]
    parcel = sim.parcels[(name, booked.awb)]
    parcel.waiting_since = datetime.now(UTC)  # the courier is waiting on an NDR instruction

    await courier.ndr_action(booked.awb, NdrAction(kind=NdrActionKind.RTO))  # type: ignore[attr-defined]

    assert parcel.waiting_since is None
    assert parcel.next_step.value == "rto_initiated"


@pytest.mark.parametrize("name", ["delhivery", "shiprocket", "xpressbees"])
async def test_a_manifests_parcels_get_a_pickup_booked(client: httpx.AsyncClient, name: str) -> None:
    courier = couriers(client)[name]
    booked = await courier.create_shipment(request(f"SHP-PICKUP-{name}"))  # type: ignore[attr-defined]

    reference = await courier.request_pickup(  # type: ignore[attr-defined]
        warehouse_code="GGN1",
        pickup_date=date(2026, 11, 27),
        parcels=[Handover(awb=booked.awb, courier_ref=booked.courier_ref)],
    )

    assert reference


async def test_shiprocket_refuses_a_pickup_for_a_parcel_it_does_not_know(client: httpx.AsyncClient) -> None:
    courier = ShiprocketCourier(client, email="e@x", password="p")
    await courier.create_shipment(request("SHP-KNOWN"))
    with pytest.raises(CourierRejected):
        await courier.request_pickup(
            warehouse_code="GGN1",
            pickup_date=date(2026, 11, 27),
            parcels=[Handover(awb="1", courier_ref="999")],
        )


async def test_a_courier_token_that_expired_is_fetched_again_once_and_shared_by_concurrent_calls() -> None:
    import asyncio

    from services.shipping.couriers.common import BearerSession
    from services.shipping.couriers.interface import CourierRejected, CourierUnavailable

    logins: list[str] = []
    valid = {"token": "t1"}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login":
            logins.append("login")
            valid["token"] = f"t{len(logins)}"
            return httpx.Response(200, json={"token": valid["token"]})
        if request.headers.get("Authorization") != f"Bearer {valid['token']}":
            return httpx.Response(401, json={"message": "Token has expired"})
        if request.url.path == "/bad":
            return httpx.Response(422, json={"message": "pincode not serviceable"})
        return httpx.Response(200, json={"ok": True})

    async def login(session: BearerSession) -> str:
        return str((await session.send("POST", "/login", None))["token"])

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://c") as client:
        session = BearerSession(client, courier="acme", login=login, refusals=frozenset({422}))
        assert await asyncio.gather(*(session.call("GET", "/track") for _ in range(5))) == [{"ok": True}] * 5
        assert logins == ["login"], "five concurrent calls share one login"
        valid["token"] = "rotated-by-the-courier"
        assert await session.call("GET", "/track") == {"ok": True}
        assert logins == ["login", "login"], "a 401 logs in again, once"
        with pytest.raises(CourierRejected, match="acme refused /bad"):
            await session.call("POST", "/bad")
        valid["token"] = "never-valid"

        async def stubborn(session: BearerSession) -> str:
            return "still-wrong"

        broken = BearerSession(client, courier="acme", login=stubborn)
        with pytest.raises(CourierUnavailable, match="refused the token"):
            await broken.call("GET", "/track")
