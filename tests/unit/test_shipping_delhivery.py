"""The Delhivery adapter books AWBs against the sandbox's copy of Delhivery's CMU API."""

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.app import create_app
from services.shipping.couriers.delhivery import DelhiveryCourier
from services.shipping.couriers.interface import (
    CourierError,
    CourierRejected,
    CourierUnavailable,
    ShipmentRequest,
)
from tests.helpers import shipment_request


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as c:
        yield c


def request(reference: str = "SHP-0001", **overrides) -> ShipmentRequest:
    return shipment_request(reference, pickup_location="BLR1", **overrides)


async def test_a_confirmed_cod_parcel_gets_an_awb_from_delhivery(client):
    courier = DelhiveryCourier(client, token="sandbox-token")

    booking = await courier.create_shipment(request())

    assert booking.courier == "delhivery"
    assert booking.awb.isdigit()
    booked = (await client.get("/_sandbox/courier/shipments", params={"order": "SHP-0001"})).json()
    assert [b["waybill"] for b in booked] == [booking.awb]
    assert booked[0]["payment_mode"] == "COD"
    assert booked[0]["cod_amount"] == 698.0
    assert booked[0]["consignee"]["phone"] == "9812345678"
    assert booked[0]["pickup_location"] == "BLR1"


async def test_rebooking_after_a_crash_returns_the_same_awb(client):
    courier = DelhiveryCourier(client, token="sandbox-token")

    first = await courier.create_shipment(request("SHP-RETRY"))
    again = await courier.create_shipment(request("SHP-RETRY"))

    assert again.awb == first.awb
    assert len((await client.get("/_sandbox/courier/shipments")).json()) == 1


async def test_a_prepaid_parcel_is_booked_as_prepaid(client):
    courier = DelhiveryCourier(client, token="sandbox-token")

    await courier.create_shipment(request("SHP-PREPAID", cod_amount_paise=0))

    (booked,) = (await client.get("/_sandbox/courier/shipments")).json()
    assert booked["payment_mode"] == "Prepaid"
    assert booked["cod_amount"] == 0


async def test_a_refused_parcel_raises_courier_error_naming_the_field(client):
    courier = DelhiveryCourier(client, token="sandbox-token")

    with pytest.raises(CourierRejected) as refused:
        await courier.create_shipment(request(consignee_phone=""))

    assert isinstance(refused.value, CourierError)
    assert any("phone" in remark for remark in refused.value.remarks)
    assert "phone" in str(refused.value)
    assert (await client.get("/_sandbox/courier/shipments")).json() == []


async def test_a_delhivery_outage_is_retryable_not_a_refusal(client):
    await client.post("/_sandbox/faults", json={"provider": "courier", "fail_next": 1, "status_code": 503})
    courier = DelhiveryCourier(client, token="sandbox-token")

    with pytest.raises(CourierUnavailable, match="503"):
        await courier.create_shipment(request("SHP-OUTAGE"))

    assert (await courier.create_shipment(request("SHP-OUTAGE"))).awb


async def test_a_missing_token_is_not_blamed_on_the_parcel(client):
    courier = DelhiveryCourier(client, token="")

    with pytest.raises(CourierUnavailable, match="401"):
        await courier.create_shipment(request())
