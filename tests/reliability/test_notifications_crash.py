"""Notifications killed between WhatsApp's acceptance of a message and the record of it. Meta has no
idempotency key: the send was marked started before the call, so the restarted dispatcher waits for
Meta's status webhook, which names our message id and records the send; only when no status comes
within the grace period is the message sent again (the at-least-once corner, ADR 0040)."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import OrderStatus
from contracts.examples import customer, order_status_changed
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has, publish_event
from tests.helpers import db_fetch, unique, url

pytestmark = pytest.mark.e2e


async def _wait_for_log(stack: Stack, service: str, text: str, *, after: int, timeout: float = 60) -> None:
    path = stack.log_path(service)
    for _ in range(int(timeout * 10)):
        if text in path.read_text(errors="replace")[after:]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{service} never logged {text!r}")


async def _sandbox(method: str, path: str, **kwargs: Any) -> Any:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.request(method, url("sandbox", path), **kwargs)
        response.raise_for_status()
        return response.json()


async def _kill_after_whatsapp_accepted(
    stack: Stack, producer: AIOKafkaProducer, *, order_id: str, phone: str, grace_s: float
) -> None:
    """Confirm an order for ``phone`` with notifications armed to freeze once WhatsApp accepted the
    message, SIGKILL it there, and restart it with that grace period for unanswered sends."""
    stack.stop("notifications")
    log_from = stack.log_path("notifications").stat().st_size
    grace = {"WHATSAPP_UNCERTAIN_GRACE_S": str(grace_s)}
    # A short lease, so the restarted process claims the unrecorded message again quickly.
    stack.start(
        "notifications",
        extra_env={
            "DABBA_FAULTS": "notifications.after_send",
            "DABBA_FAULT_MATCH": order_id,
            "DISPATCH_LEASE_S": "3",
        }
        | grace,
    )
    stack.wait_ready(["notifications"])
    try:
        event = order_status_changed().model_copy(
            update={
                "order_id": order_id,
                "to_status": OrderStatus.CONFIRMED,
                "customer": customer().model_copy(update={"phone": phone}),
            }
        )
        await publish_event(producer, event)
        await _wait_for_log(stack, "notifications", "fault point reached", after=log_from)
        stack.kill("notifications")
    finally:
        stack.start("notifications", extra_env=grace)
        stack.wait_ready(["notifications"])


async def _message(order_id: str) -> tuple[Any, list[str]]:
    [row] = await db_fetch(
        "notifications",
        "SELECT message_id, attempts, status, provider_message_id FROM messages WHERE order_id = $1",
        order_id,
    )
    history = await db_fetch(
        "notifications",
        "SELECT status FROM message_events WHERE message_id = $1 ORDER BY id",
        row["message_id"],
    )
    return row, [h["status"] for h in history]


async def test_notifications_killed_after_whatsapp_accepted_a_message_sends_it_once(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-NCRASH"), f"+9197{random.randrange(10**8):08d}"
    # Meta's first status comes late: the restarted dispatcher claims the message before it does.
    await _sandbox("PUT", f"/_sandbox/whatsapp/numbers/{phone}", json={"status_delay_s": 20})

    await _kill_after_whatsapp_accepted(stack, producer, order_id=order_id, phone=phone, grace_s=60)

    sent = await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id), timeout=90)
    await asyncio.sleep(2)
    whatsapp = await _sandbox("GET", "/_sandbox/whatsapp/messages", params={"to": phone})
    assert len(whatsapp) == 1, "the customer got the message twice"
    assert len(tap.find("notifications.sent.v1", body_has(order_id=order_id))) == 1
    row, history = await _message(order_id)
    assert whatsapp[0]["biz_opaque_callback_data"] == row["message_id"]
    assert row["status"] == "sent"
    assert row["attempts"] == 1, "Meta was called once; the status webhook recorded the send"
    assert history.count("sent") == 1
    assert (
        row["provider_message_id"] == whatsapp[0]["wamid"] == json.loads(sent[0].value)["provider_message_id"]
    )


async def test_a_crashed_whatsapp_send_that_meta_never_reports_is_sent_again_after_the_grace_period(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-NSILENT"), f"+9197{random.randrange(10**8):08d}"
    await _sandbox("PUT", f"/_sandbox/whatsapp/numbers/{phone}", json={"sends_statuses": False})
    grace_s = 12.0

    await _kill_after_whatsapp_accepted(stack, producer, order_id=order_id, phone=phone, grace_s=grace_s)

    sent = await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id), timeout=90)
    await asyncio.sleep(2)
    first, second = await _sandbox("GET", "/_sandbox/whatsapp/messages", params={"to": phone})
    waited = datetime.fromisoformat(second["received_at"]) - datetime.fromisoformat(first["received_at"])
    assert waited.total_seconds() >= grace_s - 0.5, "sent again before the grace period was over"
    assert len(tap.find("notifications.sent.v1", body_has(order_id=order_id))) == 1
    row, history = await _message(order_id)
    assert first["biz_opaque_callback_data"] == second["biz_opaque_callback_data"] == row["message_id"]
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert history.count("sent") == 1
    assert row["provider_message_id"] == second["wamid"] == json.loads(sent[0].value)["provider_message_id"]
