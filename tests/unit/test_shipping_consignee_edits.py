"""A corrected address reaching a booked parcel, adapter by adapter against the sandbox's copies of
the couriers' APIs: Delhivery's p/edit and Shiprocket's delivery address update change what the
courier holds (same AWB), Xpressbees has no edit and says so, and nobody edits a parcel on the road."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from contracts import Address
from sandbox.app import create_app
from services.shipping.couriers.delhivery import DelhiveryCourier
from services.shipping.couriers.interface import (
    Consignee,
    CourierAdapter,
    CourierBooking,
    CourierRejected,
    EditUnsupported,
    Handover,
)
from services.shipping.couriers.shiprocket import ShiprocketCourier
from services.shipping.couriers.xpressbees import XpressbeesCourier
from tests.helpers import shipment_request

MOVED = Consignee(
    name="Asha Verma",
    phone="+919812345679",
    address=Address(
        line1="14 MI Road, 2nd floor",
        landmark="Opposite Raj Mandir Cinema",
        city="Jaipur",
        state="Rajasthan",
        pincode="302001",
    ),
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as c:
        yield c


def courier(client: httpx.AsyncClient, name: str) -> CourierAdapter:
    adapters: dict[str, CourierAdapter] = {
        "delhivery": DelhiveryCourier(client, token="t"),
        "shiprocket": ShiprocketCourier(client, email="e@x", password="p"),
        "xpressbees": XpressbeesCourier(client, email="e@x", password="p"),
    }
    return adapters[name]


async def booked(adapter: CourierAdapter, reference: str) -> CourierBooking:
    return await adapter.create_shipment(shipment_request(reference, cod_amount_paise=0))


async def held(client: httpx.AsyncClient, name: str, awb: str) -> dict[str, Any]:
    r = await client.get(f"/_sandbox/couriers/{name}/parcels/{awb}/consignee")
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.mark.parametrize("name", ["delhivery", "shiprocket"])
async def test_a_booked_parcel_gets_the_corrected_address_under_the_same_awb(
    client: httpx.AsyncClient, name: str
) -> None:
    adapter = courier(client, name)
    booking = await booked(adapter, f"SHP-EDIT-{name}")
    before = await held(client, name, booking.awb)
    assert before["address"].startswith("12 MI Road") and before["edits"] == 0

    await adapter.update_consignee(Handover(booking.awb, booking.courier_ref), MOVED)

    after = await held(client, name, booking.awb)
    assert "14 MI Road, 2nd floor" in after["address"]
    assert "Opposite Raj Mandir Cinema" in after["address"]
    assert after["phone"] == "9812345679", "couriers take the 10-digit national number"
    assert (after["pincode"], after["cancelled"], after["edits"]) == ("302001", False, 1)


async def test_xpressbees_says_it_cannot_edit_so_the_parcel_is_rebooked(client: httpx.AsyncClient) -> None:
    adapter = courier(client, "xpressbees")
    booking = await booked(adapter, "SHP-EDIT-XB")

    with pytest.raises(EditUnsupported):
        await adapter.update_consignee(Handover(booking.awb, booking.courier_ref), MOVED)

    assert (await held(client, "xpressbees", booking.awb))["address"].startswith("12 MI Road")


@pytest.mark.parametrize("name", ["delhivery", "shiprocket"])
async def test_a_parcel_already_picked_up_is_not_edited(client: httpx.AsyncClient, name: str) -> None:
    adapter = courier(client, name)
    booking = await booked(adapter, f"SHP-LATE-{name}")
    sim = client._transport.app.state.sandbox.simulation  # type: ignore[attr-defined]
    sim.parcels[(name, booking.awb)].events.append(object())  # the courier has scanned it on the road

    with pytest.raises(CourierRejected):
        await adapter.update_consignee(Handover(booking.awb, booking.courier_ref), MOVED)

    assert (await held(client, name, booking.awb))["edits"] == 0


async def test_shiprocket_needs_its_shipment_id_to_find_the_order(client: httpx.AsyncClient) -> None:
    adapter = courier(client, "shiprocket")
    booking = await booked(adapter, "SHP-NOREF")
    with pytest.raises(CourierRejected, match="shipment_id"):
        await adapter.update_consignee(Handover(booking.awb, None), MOVED)


async def test_delhivery_refuses_to_edit_a_cancelled_parcel(client: httpx.AsyncClient) -> None:
    adapter = courier(client, "delhivery")
    booking = await booked(adapter, "SHP-CANCELLED")
    await adapter.cancel(booking.awb)

    with pytest.raises(CourierRejected, match="no longer be edited"):
        await adapter.update_consignee(Handover(booking.awb), MOVED)

    assert (await held(client, "delhivery", booking.awb))["cancelled"] is True
