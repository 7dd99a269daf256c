"""Notifications through the real stack: Kafka events in, the sandbox's WhatsApp, MSG91 and Slack
out, Meta-signed webhooks back, and the audit over HTTP."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import (
    LowStock,
    NdrReason,
    OrderStatus,
    OrderStatusChanged,
    ReturnStatus,
    ShipmentStatus,
    ShipmentUpdated,
)
from contracts.examples import (
    customer,
    low_stock,
    order_status_changed,
    return_refunded,
    return_requested,
    shipment_updated,
)
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from services.notifications.domain.policy import message_id_for
from services.notifications.domain.replies import signature_for
from services.notifications.settings import SANDBOX_APP_SECRET
from tests.conftest import Tap, body_has, publish_event
from tests.helpers import channel_order, encode, seed_stock, unique, url, wait_routing_knows

pytestmark = pytest.mark.e2e


def new_phone() -> str:
    """A valid Indian mobile number no other test uses, so sandbox lookups see only this test."""
    return f"+9198{random.randrange(10**8):08d}"


def status_change(order_id: str, to: OrderStatus, phone: str, **customer_fields: Any) -> OrderStatusChanged:
    who = customer().model_copy(update={"phone": phone, **customer_fields})
    return order_status_changed().model_copy(
        update={
            "order_id": order_id,
            "channel_order_id": f"SHP-{order_id[-6:]}",
            "to_status": to,
            "customer": who,
        }
    )


async def sandbox(path: str, **params: str) -> Any:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(url("sandbox", path), params=params)
        r.raise_for_status()
        return r.json()


async def sandbox_call(method: str, path: str, body: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.request(method, url("sandbox", path), json=body)
        r.raise_for_status()
        return r.json()


async def audit(order_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        r = await http.get(url("notifications", "/messages"), params={"order_id": order_id})
        r.raise_for_status()
        return r.json()["items"]  # type: ignore[no-any-return]


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 60, what: str = "") -> Any:
    """Poll until ``check`` returns something truthy; fail naming what was awaited."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"waited {timeout}s for {what}; last saw {found!r}")
        await asyncio.sleep(0.2)


async def arm(provider: str, status_code: int, fail_next: int = 1) -> None:
    await sandbox_call(
        "POST", "/_sandbox/faults", {"provider": provider, "status_code": status_code, "fail_next": fail_next}
    )


def templates(messages: list[dict[str, Any]]) -> list[str]:
    return [m["template"] for m in messages]


async def test_a_redelivered_status_change_sends_one_whatsapp(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-NTF"), new_phone()
    event = status_change(order_id, OrderStatus.CONFIRMED, phone)

    # The same change announced twice under two event ids: the inbox cannot tell, the message id can.
    await publish_event(producer, event)
    await publish_event(producer, event)
    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id))
    await asyncio.sleep(2)  # a second send, if any, follows within a dispatch round

    assert len(tap.find("notifications.sent.v1", body_has(order_id=order_id))) == 1
    assert templates(await sandbox("/_sandbox/whatsapp/messages", to=phone)) == ["order_confirmed"]
    [message] = await audit(order_id)
    assert message["status"] in {"sent", "delivered"} and message["attempts"] == 1


async def test_a_whatsapp_5xx_is_retried_until_the_message_goes_out_once(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-5XX"), new_phone()
    await arm("whatsapp", 503, fail_next=2)

    await publish_event(producer, status_change(order_id, OrderStatus.CONFIRMED, phone))
    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id))

    [message] = await audit(order_id)
    assert message["attempts"] == 3
    assert [h["status"] for h in message["history"]][:4] == ["queued", "retrying", "retrying", "sent"]
    assert "whatsapp HTTP 503" in message["history"][1]["detail"]
    assert len(await sandbox("/_sandbox/whatsapp/messages", to=phone)) == 1
    assert not tap.find("notifications.failed.v1", body_has(order_id=order_id))


async def test_a_whatsapp_4xx_is_not_retried_and_the_customer_gets_an_sms(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-4XX"), new_phone()
    await arm("whatsapp", 400)

    await publish_event(producer, status_change(order_id, OrderStatus.OUT_FOR_DELIVERY, phone))
    failed = await tap.wait_for("notifications.failed.v1", body_has(order_id=order_id))
    sent = await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id))

    assert json.loads(failed[0].value)["channel"] == "whatsapp"
    assert json.loads(sent[0].value)["channel"] == "sms"
    whatsapp, sms = await audit(order_id)
    assert (whatsapp["channel"], whatsapp["status"], whatsapp["attempts"]) == ("whatsapp", "failed", 1)
    assert (sms["channel"], sms["send_status"], sms["fallback_of"]) == ("sms", "sent", whatsapp["message_id"])
    [text] = await sandbox("/_sandbox/sms/messages", to=phone)
    assert text["dlt_template_id"] == "1107170000000000107" and text["sender"] == "DABBAS"
    assert await sandbox("/_sandbox/whatsapp/messages", to=phone) == []


async def test_a_number_not_on_whatsapp_gets_the_message_by_sms(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-NOWA"), new_phone()
    await sandbox_call("PUT", f"/_sandbox/whatsapp/numbers/{phone}", {"on_whatsapp": False})

    await publish_event(producer, status_change(order_id, OrderStatus.CONFIRMED, phone, language="hi"))
    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id, channel="sms"))

    whatsapp, sms = await audit(order_id)
    assert whatsapp["status"] == "failed" and "131026" in whatsapp["error"]
    assert [h["status"] for h in whatsapp["history"]] == ["queued", "sent", "failed"]
    assert sms["language"] == "hi" and sms["body"].startswith("Dabba: नमस्ते Asha Verma")
    assert len(await sandbox("/_sandbox/sms/messages", to=phone)) == 1

    async def sms_delivered() -> dict[str, Any] | None:
        found = (await audit(order_id))[1]
        return found if found["status"] == "delivered" else None

    # MSG91's delivery report (the sandbox posts it, with our token in the URL) settles the SMS.
    sms = await eventually(sms_delivered, what="the SMS's delivery report")
    assert [h["status"] for h in sms["history"]] == ["queued", "sent", "delivered"]


async def test_a_failed_status_that_overtakes_the_record_of_the_send_still_falls_back_to_sms(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-EARLY"), new_phone()
    # Meta accepts the message, reports it failed at once, and answers the send two seconds later:
    # the status, naming our message id, records the send before the dispatcher can.
    behaviour = {"on_whatsapp": False, "status_delay_s": 0, "answer_delay_s": 2}
    await sandbox_call("PUT", f"/_sandbox/whatsapp/numbers/{phone}", behaviour)

    await publish_event(producer, status_change(order_id, OrderStatus.CONFIRMED, phone))
    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id, channel="sms"))

    [accepted] = await sandbox("/_sandbox/whatsapp/messages", to=phone)
    assert accepted["biz_opaque_callback_data"] == message_id_for(
        order_id, "order_confirmed", phone, "whatsapp"
    )
    whatsapp, sms = await audit(order_id)
    assert (whatsapp["provider_message_id"], whatsapp["status"]) == (accepted["wamid"], "failed")
    assert "131026" in whatsapp["error"] and sms["fallback_of"] == whatsapp["message_id"]
    assert len(tap.find("notifications.sent.v1", body_has(order_id=order_id, channel="whatsapp"))) == 1
    assert len(tap.find("notifications.failed.v1", body_has(order_id=order_id))) == 1
    assert len(await sandbox("/_sandbox/sms/messages", to=phone)) == 1


async def test_a_status_without_our_message_id_that_overtakes_the_record_waits_for_it(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-PARK"), new_phone()
    # Meta answers late and sends no status of its own; a failed status that does not name our
    # message (as from a sender without biz_opaque_callback_data) comes before the answer.
    behaviour = {"sends_statuses": False, "answer_delay_s": 3}
    await sandbox_call("PUT", f"/_sandbox/whatsapp/numbers/{phone}", behaviour)
    await publish_event(producer, status_change(order_id, OrderStatus.CONFIRMED, phone))
    accepted: list[dict[str, Any]] = []
    for _ in range(100):
        if accepted := await sandbox("/_sandbox/whatsapp/messages", to=phone):
            break
        await asyncio.sleep(0.05)
    status = {"id": accepted[0]["wamid"], "status": "failed", "recipient_id": phone.lstrip("+")}
    status["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
    value = {"messaging_product": "whatsapp", "statuses": [status]}
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()
    async with httpx.AsyncClient(timeout=10) as http:
        parked = await http.post(
            url("notifications", "/webhooks/whatsapp"),
            content=body,
            headers={"X-Hub-Signature-256": signature_for(body, SANDBOX_APP_SECRET)},
        )
    assert parked.status_code == 200
    assert parked.json()["applied"]["statuses"] == 0, "the send was not recorded yet"

    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id, channel="sms"))
    whatsapp, sms = await audit(order_id)
    assert (whatsapp["provider_message_id"], whatsapp["status"]) == (accepted[0]["wamid"], "failed")
    assert sms["fallback_of"] == whatsapp["message_id"]


async def test_a_customer_who_sent_stop_gets_only_transactional_messages(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-STOP"), new_phone()
    await publish_event(producer, status_change(order_id, OrderStatus.CONFIRMED, phone))
    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id))
    answer = await sandbox_call("POST", "/_sandbox/whatsapp/replies", {"to": phone, "text": "STOP"})
    assert answer["webhook_status"] == 200

    await publish_event(producer, status_change(order_id, OrderStatus.DELIVERED, phone))
    await publish_event(producer, status_change(order_id, OrderStatus.OUT_FOR_DELIVERY, phone))
    await tap.wait_for(
        "notifications.sent.v1", body_has(order_id=order_id, template="order_out_for_delivery")
    )

    by_template = {m["template"]: m for m in await audit(order_id)}
    assert by_template["order_delivered"]["status"] == "suppressed"
    assert by_template["order_delivered"]["error"] == "customer opted out"
    sent = templates(await sandbox("/_sandbox/whatsapp/messages", to=phone))
    assert sent == ["order_confirmed", "order_out_for_delivery"]


def cod_reply(phone: str, order_id: str, in_reply_to: str) -> bytes:
    message = {
        "from": phone.lstrip("+"),
        "id": unique("wamid.FORGED"),
        "timestamp": "1771855045",
        "context": {"from": "911140000000", "id": in_reply_to},
        "type": "button",
        "button": {"payload": f"cod_confirm:{order_id}", "text": "Confirm"},
    }
    value = {"messaging_product": "whatsapp", "messages": [message]}
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


async def test_a_forged_webhook_is_rejected_and_moves_nothing(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-FORGE"), new_phone()
    await publish_event(producer, status_change(order_id, OrderStatus.PENDING_COD_CONFIRMATION, phone))
    sent = await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id))
    wamid = json.loads(sent[0].value)["provider_message_id"]
    body = cod_reply(phone, order_id, wamid)
    webhook = url("notifications", "/webhooks/whatsapp")

    async with httpx.AsyncClient(timeout=10) as http:
        unsigned = await http.post(webhook, content=body)
        forged = await http.post(
            webhook, content=body, headers={"X-Hub-Signature-256": signature_for(body, "not-the-app-secret")}
        )
        await asyncio.sleep(1)
        assert not tap.find("notifications.customer_replied.v1", body_has(order_id=order_id))
        genuine = await http.post(
            webhook, content=body, headers={"X-Hub-Signature-256": signature_for(body, SANDBOX_APP_SECRET)}
        )

    assert unsigned.status_code == forged.status_code == 401
    assert forged.json()["problems"][0]["field"] == "X-Hub-Signature-256"
    assert genuine.status_code == 200
    await tap.wait_for("notifications.customer_replied.v1", body_has(order_id=order_id, choice="cod_confirm"))


async def test_meta_webhook_verification_echoes_the_challenge_only_for_our_token(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        ok = await http.get(
            url("notifications", "/webhooks/whatsapp"),
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": "dev-whatsapp-verify-token-local",
                "hub.challenge": "1158201444",
            },
        )
        wrong = await http.get(
            url("notifications", "/webhooks/whatsapp"),
            params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert wrong.status_code == 403


async def test_cod_order_asks_for_confirmation_on_whatsapp_and_the_customers_confirm_comes_back(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku, phone = unique("E2E-COD"), new_phone()
    await seed_stock(sku, {"GGN1": 5})
    await wait_routing_knows(sku, 5)
    await sandbox_call("PUT", f"/_sandbox/whatsapp/numbers/{phone}", {"auto_reply": "cod_confirm"})
    channel_order_id = unique("SHP-COD")
    order = channel_order(
        channel_order_id,
        sku,
        customer={"name": "Ravi Kumar", "phone": phone},
        payment={
            "method": "cod",
            "status": "pending",
            "gateway": None,
            "gateway_payment_id": None,
            "amount_paise": 69800,
        },
    )
    await producer.send_and_wait(
        "channel.orders.v1", encode(order), key=f"shopify:{channel_order_id}".encode()
    )

    placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id), timeout=90)
    order_id = json.loads(placed[0].value)["order_id"]
    await tap.wait_for(
        "notifications.sent.v1", body_has(order_id=order_id, template="cod_confirmation_request"), timeout=90
    )
    # Only the question: the auto-reply can confirm the order and its next message arrive first.
    [asked] = await sandbox("/_sandbox/whatsapp/messages", to=phone, template="cod_confirmation_request")
    buttons = [c for c in asked["body"]["template"]["components"] if c["type"] == "button"]
    assert [b["parameters"][0]["payload"] for b in buttons] == [
        f"cod_confirm:{order_id}",
        f"cod_cancel:{order_id}",
    ]

    replied = await tap.wait_for(
        "notifications.customer_replied.v1", body_has(order_id=order_id, choice="cod_confirm"), timeout=60
    )
    reply = json.loads(replied[0].value)
    assert reply["channel"] == "whatsapp" and reply["in_reply_to_message_id"].startswith("MSG-")

    async def answered() -> Any:
        [message] = [m for m in await audit(order_id) if m["template"] == "cod_confirmation_request"]
        return message if "replied" in [h["status"] for h in message["history"]] else None

    message = await eventually(answered, what="the audit to show the reply")
    assert message["status"] == "read"
    assert [h["status"] for h in message["history"]] == ["queued", "sent", "delivered", "read", "replied"]
    assert (
        message["cause_event_id"]
        and message["recipient"].endswith(phone[-2:])
        and phone not in json.dumps(message)
    )


async def test_an_ndr_asks_the_customer_what_to_do_and_alerts_ops(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-NDR"), new_phone()
    shipment_id = unique("SHP")
    await publish_event(producer, status_change(order_id, OrderStatus.CONFIRMED, phone))
    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id))
    ndr: ShipmentUpdated = shipment_updated().model_copy(
        update={
            "order_id": order_id,
            "shipment_id": shipment_id,
            "status": ShipmentStatus.NDR,
            "ndr_reason": NdrReason.CUSTOMER_UNAVAILABLE,
            "attempt": 1,
        }
    )

    await publish_event(producer, ndr)
    await publish_event(producer, ndr)  # couriers report twice
    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id, template="ndr_options"))
    alert = await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id, channel="slack"))
    answer = await sandbox_call(
        "POST", "/_sandbox/whatsapp/replies", {"to": phone, "choice": "ndr_reattempt"}
    )
    assert answer["webhook_status"] == 200
    replied = await tap.wait_for("notifications.customer_replied.v1", body_has(order_id=order_id))

    reply = json.loads(replied[0].value)
    assert (reply["choice"], reply["shipment_id"]) == ("ndr_reattempt", shipment_id)
    assert reply["reattempt_on"] > reply["replied_at"][:10], "a re-attempt is for a later day"
    assert json.loads(alert[0].value)["template"] == "ndr"
    posted = [a for a in await sandbox("/_sandbox/slack/messages") if order_id in a["text"]]
    assert len(posted) == 1 and "attempt 1: customer unavailable" in posted[0]["text"]
    asked = templates(await sandbox("/_sandbox/whatsapp/messages", to=phone))
    assert asked == ["order_confirmed", "ndr_options"]


async def test_low_stock_alerts_the_operators(stack: Stack, tap: Tap, producer: AIOKafkaProducer) -> None:
    sku = unique("TEA")
    event: LowStock = low_stock().model_copy(update={"sku": sku, "available": 3})

    await publish_event(producer, event)

    async def posted() -> list[dict[str, Any]]:
        return [a for a in await sandbox("/_sandbox/slack/messages") if sku in a["text"]]

    [alert] = await eventually(posted, what="the low-stock alert on Slack")
    assert alert["text"] == f"Low stock: {sku} at {event.warehouse_code} has 3 left (reorder point 10)"


async def test_a_return_is_followed_on_whatsapp_until_the_refund(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone, return_id = unique("ORD-RET"), new_phone(), unique("RMA")
    approved = return_requested().model_copy(
        update={
            "order_id": order_id,
            "return_id": return_id,
            "status": ReturnStatus.APPROVED,
            "customer": customer().model_copy(update={"phone": phone, "language": "hi"}),
        }
    )
    refunded = return_refunded().model_copy(update={"order_id": order_id, "return_id": return_id})

    await publish_event(producer, approved)
    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id, template="return_update"))
    await publish_event(producer, refunded)
    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id, template="refund_processed"))

    update, refund = await audit(order_id)
    assert update["language"] == "hi" and return_id in update["body"] and "approved" in update["body"]
    assert "Rs 349" in refund["body"]
