"""Notifications killed between the provider's acceptance and the record of it: the customer still
gets the message once, because the retry reuses the message id as the provider's idempotency key."""

from __future__ import annotations

import asyncio
import json
import random

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


async def test_notifications_killed_after_whatsapp_accepted_a_message_sends_it_once(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, phone = unique("ORD-NCRASH"), f"+9197{random.randrange(10**8):08d}"
    stack.stop("notifications")
    log_from = stack.log_path("notifications").stat().st_size
    # A short lease, so the restarted process takes the unrecorded message over quickly.
    stack.start(
        "notifications",
        extra_env={
            "DABBA_FAULTS": "notifications.after_send",
            "DABBA_FAULT_MATCH": order_id,
            "DISPATCH_LEASE_S": "3",
        },
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
        stack.start("notifications")
        stack.wait_ready(["notifications"])

    sent = await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id), timeout=90)
    await asyncio.sleep(2)

    async with httpx.AsyncClient(timeout=10) as http:
        whatsapp = (
            await http.get(url("sandbox", "/_sandbox/whatsapp/messages"), params={"to": phone})
        ).json()
    assert len(whatsapp) == 1, "the customer got the message twice"
    assert len(tap.find("notifications.sent.v1", body_has(order_id=order_id))) == 1
    [row] = await db_fetch(
        "notifications",
        "SELECT attempts, status, provider_message_id FROM messages WHERE order_id = $1",
        order_id,
    )
    assert row["attempts"] == 2, "the second try after the crash is the one recorded"
    assert (
        row["provider_message_id"] == whatsapp[0]["wamid"] == json.loads(sent[0].value)["provider_message_id"]
    )
