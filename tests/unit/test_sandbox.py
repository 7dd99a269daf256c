"""The provider sandbox answers in Delhivery's and Meta's shapes, statefully and idempotently.
Runs the app in-process through httpx.ASGITransport; no network."""

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sandbox.app import create_app
from sandbox.settings import SandboxSettings

COURIER_AUTH = {"Authorization": "Token sandbox-token"}
WHATSAPP_AUTH = {"Authorization": "Bearer sandbox-token"}
MESSAGES_URL = "/v21.0/1234567890/messages"


def make_client(settings: SandboxSettings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://sandbox")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(SandboxSettings(http_port=8010, courier_token=None)) as c:
        yield c


def shipment(order: str = "DB-1001", **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "Priya Sharma",
        "add": "12 MI Road",
        "pin": "302001",
        "city": "Jaipur",
        "state": "Rajasthan",
        "country": "India",
        "phone": "9812345678",
        "order": order,
        "payment_mode": "COD",
        "cod_amount": 499.0,
        "total_amount": 499.0,
        "products_desc": "Assam tea 250g",
        "quantity": 1,
        "weight": 300,
        "shipment_width": 10,
        "shipment_height": 5,
        "shipment_length": 15,
        "seller_name": "Chai Ghar",
    }
    return fields | overrides


async def manifest(
    client: httpx.AsyncClient, *shipments: dict[str, Any], headers: dict[str, str] = COURIER_AUTH
) -> httpx.Response:
    data = {"shipments": list(shipments), "pickup_location": {"name": "Bhiwandi"}}
    return await client.post(
        "/api/cmu/create.json",
        data={"format": "json", "data": json.dumps(data)},
        headers=headers,
    )


def order_confirmation(to: str = "919812345678") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {
            "name": "cod_order_confirmation",
            "language": {"code": "hi"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "DB-1001"}]},
            ],
        },
    }


async def test_manifesting_a_cod_order_issues_a_14_digit_awb(client: httpx.AsyncClient) -> None:
    response = await manifest(client, shipment())

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["package_count"] == 1
    assert body["upload_wbn"].startswith("UPL")
    [package] = body["packages"]
    assert package["status"] == "Success"
    assert package["refnum"] == "DB-1001"
    assert package["payment"] == "COD"
    assert package["cod_amount"] == 499.0
    assert package["sort_code"] == "JAI/302"
    assert len(package["waybill"]) == 14 and package["waybill"].isdigit()


async def test_retrying_the_same_order_returns_the_same_waybill(client: httpx.AsyncClient) -> None:
    first = (await manifest(client, shipment())).json()["packages"][0]
    again = (await manifest(client, shipment())).json()
    other = (await manifest(client, shipment(order="DB-1002"))).json()["packages"][0]

    assert again["success"] is True
    assert again["packages"][0]["waybill"] == first["waybill"]
    assert again["packages"][0]["remarks"] == ["Duplicate order id"]
    assert other["waybill"] != first["waybill"]
    listed = (await client.get("/_sandbox/courier/shipments", params={"order": "DB-1001"})).json()
    assert [s["waybill"] for s in listed] == [first["waybill"]]


async def test_courier_call_without_token_is_unauthorised(client: httpx.AsyncClient) -> None:
    response = await manifest(client, shipment(), headers={})

    assert response.status_code == 401
    assert "detail" in response.json()
    assert (await client.get("/_sandbox/courier/shipments")).json() == []


async def test_configured_courier_token_rejects_any_other() -> None:
    async with make_client(SandboxSettings(courier_token="right")) as client:
        wrong = await manifest(client, shipment(), headers={"Authorization": "Token wrong"})
        right = await manifest(client, shipment(), headers={"Authorization": "Token right"})

    assert wrong.status_code == 401
    assert right.json()["success"] is True


async def test_invalid_pincode_fails_the_package_naming_pin(client: httpx.AsyncClient) -> None:
    body = (await manifest(client, shipment(pin="30200"))).json()

    assert body["success"] is False
    assert "pin" in body["rmk"]
    [package] = body["packages"]
    assert package["status"] == "Fail"
    assert package["waybill"] == ""
    assert any("pin" in remark for remark in package["remarks"])


async def test_missing_name_and_phone_are_both_named(client: httpx.AsyncClient) -> None:
    body = (await manifest(client, shipment(name="", phone=None))).json()

    remarks = body["packages"][0]["remarks"]
    assert body["success"] is False
    assert any(r.startswith("name ") for r in remarks)
    assert any(r.startswith("phone ") for r in remarks)


async def test_tracking_reports_manifested_then_scanned_status(client: httpx.AsyncClient) -> None:
    waybill = (await manifest(client, shipment())).json()["packages"][0]["waybill"]

    tracked = await client.get("/api/v1/packages/json/", params={"waybill": waybill}, headers=COURIER_AUTH)
    status = tracked.json()["ShipmentData"][0]["Shipment"]["Status"]
    assert status["Status"] == "Manifested"
    assert status["StatusType"] == "UD"
    assert status["StatusLocation"] == "Bhiwandi"
    assert set(status) >= {"StatusDateTime", "Instructions"}

    scan = {"status": "In Transit", "status_type": "UD", "location": "Jaipur_Hub"}
    await client.post(f"/_sandbox/courier/shipments/{waybill}/scans", json=scan)
    by_order = await client.get("/api/v1/packages/json/", params={"ref_ids": "DB-1001"}, headers=COURIER_AUTH)
    assert by_order.json()["ShipmentData"][0]["Shipment"]["Status"]["Status"] == "In Transit"


async def test_tracking_an_unknown_waybill_says_so(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/packages/json/", params={"waybill": "14900000009999"}, headers=COURIER_AUTH
    )

    assert response.json() == {"Error": "No such waybill or Order Id found"}


async def test_cancelling_a_shipment_shows_in_tracking(client: httpx.AsyncClient) -> None:
    waybill = (await manifest(client, shipment())).json()["packages"][0]["waybill"]

    cancelled = await client.post(
        "/api/p/edit", json={"waybill": waybill, "cancellation": "true"}, headers=COURIER_AUTH
    )
    tracked = await client.get("/api/v1/packages/json/", params={"waybill": waybill}, headers=COURIER_AUTH)

    assert cancelled.json()["status"] is True
    assert tracked.json()["ShipmentData"][0]["Shipment"]["Status"]["StatusType"] == "CN"


async def test_whatsapp_like_meta_ignores_idempotency_keys_and_records_every_send(
    client: httpx.AsyncClient,
) -> None:
    headers = WHATSAPP_AUTH | {"Idempotency-Key": "notif-42"}
    message = order_confirmation() | {"biz_opaque_callback_data": "notif-42"}
    first = await client.post(MESSAGES_URL, json=message, headers=headers)
    retry = await client.post(MESSAGES_URL, json=message, headers=headers)

    assert first.status_code == 200
    body = first.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "919812345678", "wa_id": "919812345678"}]
    assert body["messages"][0]["id"].startswith("wamid.")
    assert retry.json()["messages"][0]["id"] != body["messages"][0]["id"]
    recorded = (
        await client.get(
            "/_sandbox/whatsapp/messages",
            params={"to": "+919812345678", "template": "cod_order_confirmation"},
        )
    ).json()
    assert len(recorded) == 2
    assert recorded[0]["wamid"] == body["messages"][0]["id"]
    assert recorded[0]["biz_opaque_callback_data"] == "notif-42"
    assert recorded[0]["language"] == "hi"
    assert recorded[0]["received_at"].endswith("+00:00")


async def test_whatsapp_without_key_records_every_send(client: httpx.AsyncClient) -> None:
    text = {"messaging_product": "whatsapp", "to": "919812345678", "type": "text"}
    text["text"] = {"body": "Your order DB-1001 is packed"}

    first = await client.post(MESSAGES_URL, json=text, headers=WHATSAPP_AUTH)
    second = await client.post(MESSAGES_URL, json=text, headers=WHATSAPP_AUTH)

    assert first.json()["messages"][0]["id"] != second.json()["messages"][0]["id"]
    assert len((await client.get("/_sandbox/whatsapp/messages")).json()) == 2


async def test_whatsapp_without_bearer_gets_metas_oauth_error(client: httpx.AsyncClient) -> None:
    response = await client.post(MESSAGES_URL, json=order_confirmation())

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "OAuthException"
    assert error["code"] == 190


async def test_whatsapp_template_without_name_is_rejected_naming_it(
    client: httpx.AsyncClient,
) -> None:
    message = order_confirmation()
    del message["template"]["name"]

    response = await client.post(MESSAGES_URL, json=message, headers=WHATSAPP_AUTH)

    assert response.status_code == 400
    assert "template.name" in response.json()["error"]["error_data"]["details"]
    assert (await client.get("/_sandbox/whatsapp/messages")).json() == []


async def test_injected_fault_fails_next_call_then_recovers(client: httpx.AsyncClient) -> None:
    armed = await client.post(
        "/_sandbox/faults", json={"provider": "whatsapp", "fail_next": 1, "status_code": 503}
    )
    failed = await client.post(MESSAGES_URL, json=order_confirmation(), headers=WHATSAPP_AUTH)
    recovered = await client.post(MESSAGES_URL, json=order_confirmation(), headers=WHATSAPP_AUTH)

    assert armed.status_code == 200
    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == 2
    assert recovered.status_code == 200
    assert len((await client.get("/_sandbox/whatsapp/messages")).json()) == 1


async def test_courier_fault_leaves_no_shipment_behind(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/faults", json={"provider": "courier", "fail_next": 2, "status_code": 429})

    first = await manifest(client, shipment())
    second = await manifest(client, shipment())
    third = await manifest(client, shipment())

    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["Retry-After"] == "1"
    assert len((await client.get("/_sandbox/courier/shipments")).json()) == 1


async def test_reset_forgets_shipments_messages_and_faults(client: httpx.AsyncClient) -> None:
    await manifest(client, shipment())
    await client.post(MESSAGES_URL, json=order_confirmation(), headers=WHATSAPP_AUTH)
    await client.post("/_sandbox/faults", json={"provider": "courier", "fail_next": 5, "status_code": 500})

    assert (await client.post("/_sandbox/reset")).status_code == 200

    assert (await client.get("/_sandbox/courier/shipments")).json() == []
    assert (await client.get("/_sandbox/whatsapp/messages")).json() == []
    assert (await client.get("/_sandbox/faults")).json() == {}
    assert (await manifest(client, shipment())).json()["success"] is True


async def test_healthz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_slow_fault_delays_the_call_but_lets_it_through(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/faults", json={"provider": "courier", "delay_ms": 200})

    started = time.monotonic()
    response = await manifest(client, shipment())

    assert time.monotonic() - started >= 0.2
    assert response.json()["success"] is True
