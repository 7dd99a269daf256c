"""Notifications under other settings: quiet hours hold non-urgent messages, and the watchers alert
operators about growing dead-letter topics and overdue refunds. Each test restarts the service."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import OrderStatus, ReturnStatus
from contracts.examples import customer, order_status_changed, return_refunded, return_updated
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from services.notifications.domain.delivery import IST
from tests.conftest import Tap, body_has, publish_event
from tests.helpers import unique, url

pytestmark = pytest.mark.e2e


@pytest.fixture
def notifications_with(stack: Stack) -> Iterator[Callable[[dict[str, str]], None]]:
    """Restart notifications with extra settings; the usual settings come back afterwards."""

    def restart(env: dict[str, str]) -> None:
        stack.stop("notifications")
        stack.start("notifications", extra_env=env)
        stack.wait_ready(["notifications"])

    yield restart
    stack.stop("notifications")
    stack.start("notifications")
    stack.wait_ready(["notifications"])


def status_change(order_id: str, to: OrderStatus, phone: str) -> Any:
    return order_status_changed().model_copy(
        update={
            "order_id": order_id,
            "to_status": to,
            "customer": customer().model_copy(update={"phone": phone}),
        }
    )


async def get(service: str, path: str, **params: str) -> Any:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        r = await http.get(url(service, path), params=params)
        r.raise_for_status()
        return r.json()


async def alerts_mentioning(text: str, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = [a for a in await get("sandbox", "/_sandbox/slack/messages") if text in a["text"]]
        if found:
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"no operator alert mentioning {text!r} within {timeout}s")


async def test_quiet_hours_hold_a_shipped_message_but_not_an_out_for_delivery_one(
    notifications_with: Callable[[dict[str, str]], None], tap: Tap, producer: AIOKafkaProducer
) -> None:
    now = datetime.now(IST)
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    notifications_with({"QUIET_HOURS": f"{start}-{end}"})
    order_id, phone = unique("ORD-QUIET"), f"+9196{random.randrange(10**8):08d}"

    await publish_event(producer, status_change(order_id, OrderStatus.SHIPPED, phone))
    await publish_event(producer, status_change(order_id, OrderStatus.OUT_FOR_DELIVERY, phone))
    await tap.wait_for(
        "notifications.sent.v1", body_has(order_id=order_id, template="order_out_for_delivery")
    )
    await asyncio.sleep(1)

    held = {m["template"]: m for m in (await get("notifications", "/messages", order_id=order_id))["items"]}
    assert held["order_shipped"]["status"] == "queued"
    wakes = datetime.fromisoformat(held["order_shipped"]["next_attempt_at"]).astimezone(IST)
    assert wakes.strftime("%H:%M") == end and wakes > now
    sent = await get("sandbox", "/_sandbox/whatsapp/messages", to=phone)
    assert [m["template"] for m in sent] == ["order_out_for_delivery"]


async def test_operators_hear_when_a_dead_letter_topic_grows_and_when_a_refund_is_overdue(
    notifications_with: Callable[[dict[str, str]], None], tap: Tap, producer: AIOKafkaProducer
) -> None:
    # Overdue after 72 s: the return pending for 5 minutes is; the one refunded at once never gets to be.
    notifications_with({"WATCH_INTERVAL_S": "1", "REFUND_OVERDUE_H": "0.02"})
    pending = {"status": ReturnStatus.REFUND_PENDING, "occurred_at": datetime.now(UTC) - timedelta(minutes=5)}
    overdue = return_updated().model_copy(
        update={
            "order_id": unique("ORD-RFND"),
            "return_id": unique("RMA"),
            **pending,
        }
    )
    refunded_in_time = return_updated().model_copy(
        update={
            "order_id": unique("ORD-RFND"),
            "return_id": unique("RMA"),
            "status": ReturnStatus.REFUND_PENDING,
            "occurred_at": datetime.now(UTC),
        }
    )
    done = return_refunded().model_copy(
        update={"order_id": refunded_in_time.order_id, "return_id": refunded_in_time.return_id}
    )
    await publish_event(producer, refunded_in_time)
    await publish_event(producer, done)
    await publish_event(producer, overdue)
    await producer.send_and_wait("dlq.returns", b"not an event", key=b"poison")

    [alert] = await alerts_mentioning(f"return {overdue.return_id} of order {overdue.order_id}")
    assert alert["text"].startswith("Refund overdue:")
    grown = await alerts_mentioning("Dead letters growing: dlq.returns")
    assert grown
    await asyncio.sleep(2)
    assert not [
        a for a in await get("sandbox", "/_sandbox/slack/messages") if refunded_in_time.return_id in a["text"]
    ]
    assert len(await alerts_mentioning(overdue.return_id)) == 1, "each overdue refund alerts once"
