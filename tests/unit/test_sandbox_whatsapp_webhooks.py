"""The sandbox's WhatsApp webhooks behave like Meta's: each status echoes the message's
biz_opaque_callback_data, a failing webhook is tried again with backoff, and a number can be told
to get its statuses late or never."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox import whatsapp_callbacks
from sandbox.state import SandboxState, WhatsAppMessage, utc_now


def accepted(callback_data: str | None = "msg-0001", wa_id: str = "919812345678") -> WhatsAppMessage:
    return WhatsAppMessage(
        wamid="wamid.TEST",
        phone_number_id="1234567890",
        to=wa_id,
        wa_id=wa_id,
        type="template",
        template_name="order_confirmed",
        language="en",
        body={},
        biz_opaque_callback_data=callback_data,
        received_at=utc_now(),
    )


def answering(state: SandboxState, *answers: int | None) -> list[dict]:
    """Route the sandbox's webhooks to a fake notifications service giving these answers in turn
    (None: connection refused), then 200; returns the bodies it received."""
    received: list[dict] = []
    pending = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        answer = pending.pop(0) if pending else 200
        if answer is None:
            raise httpx.ConnectError("connection refused")
        received.append(json.loads(request.content))
        return httpx.Response(answer)

    state.whatsapp.webhook_client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    return received


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICATIONS_URL", "http://notifications")
    monkeypatch.setattr(whatsapp_callbacks, "WEBHOOK_BACKOFF_S", (0.01, 0.02))
    monkeypatch.setattr(whatsapp_callbacks, "STATUS_DELAY_S", 0.0)


def test_every_status_echoes_the_callback_data_the_message_was_sent_with() -> None:
    [status] = whatsapp_callbacks.status_value(accepted(), "delivered")["statuses"]
    assert status["biz_opaque_callback_data"] == "msg-0001"

    [status] = whatsapp_callbacks.status_value(accepted(None), "sent")["statuses"]
    assert "biz_opaque_callback_data" not in status


async def test_a_webhook_refused_or_answered_5xx_is_tried_again_until_it_is_taken() -> None:
    state = SandboxState()
    received = answering(state, None, 503, None)

    status = await whatsapp_callbacks.post_webhook(state, {"object": "whatsapp_business_account"})

    assert status == 200
    assert len(received) == 2  # the 503 and the 200; the refused ones never arrived


async def test_a_webhook_is_given_up_after_the_retry_period() -> None:
    state = SandboxState()
    answering(state, *[500] * 1000)

    assert await whatsapp_callbacks.post_webhook(state, {}, retry_for_s=0.1) == 500


async def test_a_number_told_to_send_no_statuses_gets_none() -> None:
    state = SandboxState()
    received = answering(state)
    state.whatsapp.no_statuses.add("919812345678")

    await whatsapp_callbacks.follow_up(state, accepted())

    assert received == []


async def test_a_number_on_whatsapp_gets_sent_then_delivered_naming_our_message() -> None:
    state = SandboxState()
    received = answering(state)

    await whatsapp_callbacks.follow_up(state, accepted())

    statuses = [b["entry"][0]["changes"][0]["value"]["statuses"][0] for b in received]
    assert [(s["status"], s["biz_opaque_callback_data"]) for s in statuses] == [
        ("sent", "msg-0001"),
        ("delivered", "msg-0001"),
    ]
