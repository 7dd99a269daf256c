"""Notifications under other settings: quiet hours hold non-urgent messages, the watchers alert
operators about growing dead-letter topics, and returns' overdue-refund alerts are passed on (returns
times the refund SLA, not notifications). Each test restarts the service."""

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
from contracts.examples import customer, order_status_changed, return_updated
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


async def test_operators_hear_of_a_growing_dead_letter_topic_and_of_returns_overdue_refund_not_of_a_timer(
    notifications_with: Callable[[dict[str, str]], None], tap: Tap, producer: AIOKafkaProducer
) -> None:
    # Returns owns the refund SLA (ADR 0230): a refund pending for four days is overdue only when
    # returns says so; notifications, watching every second, keeps no timer of its own.
    notifications_with({"WATCH_INTERVAL_S": "1"})
    order_id = unique("ORD-RFND")
    long_pending = return_updated().model_copy(
        update={
            "order_id": order_id,
            "return_id": unique("RMA"),
            "status": ReturnStatus.REFUND_PENDING,
            "occurred_at": datetime.now(UTC) - timedelta(days=4),
        }
    )
    flagged = return_updated().model_copy(
        update={
            "order_id": order_id,
            "return_id": unique("RMA"),
            "status": ReturnStatus.REFUND_PENDING,
            "alert": "refund_sla_breached",
            "note": "refund RF-1 of 34900 paise is pending 3 days after QC on 1 Dec 2026",
        }
    )
    await publish_event(producer, long_pending)
    await publish_event(producer, flagged)  # same order, same partition: read after the other
    await publish_event(producer, flagged)  # returns' sweep said it twice (a rerun): one alert

    [alert] = await alerts_mentioning(f"return {flagged.return_id} of order {order_id}")
    assert alert["text"] == (
        f"Refund overdue: return {flagged.return_id} of order {order_id}: "
        "refund RF-1 of 34900 paise is pending 3 days after QC on 1 Dec 2026"
    )
    # The dead letter arrives after both returns were read, so the watcher that reports it has
    # looked at everything notifications knows; it raised nothing about the long-pending refund.
    await producer.send_and_wait("dlq.returns", b"not an event", key=b"poison")
    assert await alerts_mentioning("Dead letters growing: dlq.returns")
    slack = await get("sandbox", "/_sandbox/slack/messages")
    assert not [a for a in slack if long_pending.return_id in a["text"]]
    assert len([a for a in slack if flagged.return_id in a["text"]]) == 1, "each overdue refund alerts once"
