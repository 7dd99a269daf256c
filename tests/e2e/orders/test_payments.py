"""Razorpay through the real orders service: a capture confirms, a forged or replayed webhook changes
nothing, two webhooks racing for one order apply one after the other, an unpaid order expires."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime

import pytest
from aiokafka import AIOKafkaProducer

from chassis.clock import IST
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has
from tests.e2e.orders.support import (
    UNPAID_UPI,
    available,
    call,
    deliver,
    detail,
    place,
    razorpay_payment,
    stocked_sku,
    wait_available,
    wait_status,
)
from tests.helpers import channel_order, db_execute, db_fetch, encode, unique

pytestmark = pytest.mark.e2e


def changes_to(order: dict[str, object], status: str) -> int:
    """Status changes (not notes) into a status on the order's timeline."""
    timeline = order["timeline"]
    assert isinstance(timeline, list)
    return sum(1 for t in timeline if t["to_status"] == status and t["from_status"] != status)


async def unpaid_order(producer: AIOKafkaProducer, tap: Tap, units: int = 5) -> tuple[str, str]:
    sku = await stocked_sku(tap, units=units)
    order_id = await place(producer, tap, sku, payment=UNPAID_UPI)
    await wait_status(order_id, "PENDING_PAYMENT")
    return order_id, sku


async def test_a_captured_payment_confirms_the_order_that_waited_for_it(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, _ = await unpaid_order(producer, tap)
    payment_id = unique("pay")

    r = await deliver(razorpay_payment("payment.captured", order_id, payment_id))

    assert r.status_code == 200, r.text
    assert r.json() == {"status": "applied", "order_id": order_id, "outcome": "confirmed"}
    order = await detail(order_id)
    assert order["status"] == "CONFIRMED"
    assert order["payment"] == {**order["payment"], "status": "captured", "gateway_payment_id": payment_id}
    assert order["payment_expires_at"] is None
    assert order["timeline"][-1]["cause"] == "razorpay payment.captured"
    [update] = await tap.wait_for("payments.updated.v1", body_has(order_id=order_id, status="captured"))
    assert json.loads(update.value)["gateway_payment_id"] == payment_id
    [confirmed] = await tap.wait_for("orders.confirmed.v1", body_has(order_id=order_id))
    body = json.loads(confirmed.value)
    assert body["priority"] == 10  # standard, prepaid, under ₹5,000
    # Placed Thursday 26 November 10:15 IST, before the cut-off: standard leaves by Friday night, not
    # the same Thursday (the stored speed once lost standard's extra day).
    assert datetime.fromisoformat(body["promised_dispatch_by"]) == datetime(
        2026, 11, 27, 23, 59, 59, tzinfo=IST
    )


async def test_a_forged_webhook_is_refused_and_changes_nothing(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, _ = await unpaid_order(producer, tap)
    body = razorpay_payment("payment.captured", order_id, unique("pay"))
    other = razorpay_payment("payment.captured", order_id, unique("pay"), amount=1)
    event_id = unique("evt")

    for attempt in (
        await deliver(body, event_id=event_id, signature="0" * 64),
        await deliver(body, event_id=event_id, signature=""),
        await deliver(other, event_id=event_id, signature=(await _signature_of(body))),
    ):
        assert attempt.status_code == 401
        assert attempt.json()["problems"] == [
            {"field": "X-Razorpay-Signature", "problem": "missing or not Razorpay's signature of this body"}
        ]

    order = await detail(order_id)
    assert order["status"] == "PENDING_PAYMENT" and order["payment"]["status"] == "pending"
    assert await db_fetch("orders", "SELECT 1 FROM processed_webhooks WHERE order_id = $1", order_id) == []
    # The genuine delivery with the same id still works: a forgery did not burn the id.
    assert (await deliver(body, event_id=event_id)).json()["status"] == "applied"


async def _signature_of(body: bytes) -> str:
    from services.orders.domain import razorpay

    return razorpay.sign("dev-razorpay-webhook-secret-local", body)


async def test_a_replayed_webhook_is_answered_but_applied_once(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, _ = await unpaid_order(producer, tap)
    payment_id = unique("pay")
    body = razorpay_payment("payment.captured", order_id, payment_id)
    event_id = unique("evt")

    answers = await asyncio.gather(*(deliver(body, event_id=event_id) for _ in range(5)))
    answers.append(await deliver(body, event_id=event_id))

    assert all(a.status_code == 200 for a in answers)
    assert sorted(a.json()["status"] for a in answers) == ["applied"] + ["duplicate"] * 5
    await tap.wait_for("orders.confirmed.v1", body_has(order_id=order_id))
    await asyncio.sleep(1)
    assert len(tap.find("payments.updated.v1", body_has(order_id=order_id))) == 1
    order = await detail(order_id)
    assert changes_to(order, "CONFIRMED") == 1


async def test_a_captured_delivery_replayed_under_a_new_event_id_is_known_by_what_razorpay_signed(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, _ = await unpaid_order(producer, tap)
    failed = razorpay_payment("payment.failed", order_id, unique("pay"), error_description="declined")
    assert (await deliver(failed, event_id=unique("evt"))).json()["outcome"] == "payment failed"
    captured = razorpay_payment("payment.captured", order_id, unique("pay"))
    assert (await deliver(captured, event_id=unique("evt"))).json()["outcome"] == "confirmed"

    # Someone who saw the failure's signed body sends it again, under an event id never used.
    replayed = await deliver(failed, event_id=unique("evt"))

    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "duplicate"
    order = await detail(order_id)
    assert (order["status"], order["payment"]["status"]) == ("CONFIRMED", "captured")
    statuses = await db_fetch(
        "orders", "SELECT outcome FROM processed_webhooks WHERE order_id = $1 ORDER BY outcome", order_id
    )
    assert [r["outcome"] for r in statuses] == ["confirmed", "payment failed"]


async def test_a_signed_capture_older_than_razorpays_retries_is_refused_and_changes_nothing(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, _ = await unpaid_order(producer, tap)
    two_days_ago = int(time.time()) - 2 * 86400
    stale = razorpay_payment("payment.captured", order_id, unique("pay"), created_at=two_days_ago)

    r = await deliver(stale)

    assert r.status_code == 422, r.text
    [problem] = r.json()["problems"]
    assert problem["field"] == "created_at" and "older than Razorpay retries" in problem["problem"]
    order = await detail(order_id)
    assert (order["status"], order["payment"]["status"]) == ("PENDING_PAYMENT", "pending")
    assert await db_fetch("orders", "SELECT 1 FROM processed_webhooks WHERE order_id = $1", order_id) == []


async def test_two_webhooks_for_one_order_racing_apply_one_after_the_other(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, _ = await unpaid_order(producer, tap)
    payment_id = unique("pay")
    bodies = [
        razorpay_payment(e, order_id, payment_id) for e in ("payment.authorized", "payment.captured") * 4
    ]

    answers = await asyncio.gather(*(deliver(body) for body in bodies))

    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert [a.json()["outcome"] for a in answers].count("confirmed") == 1
    order = await detail(order_id)
    assert order["status"] == "CONFIRMED"
    assert order["payment"]["status"] == "captured"
    assert changes_to(order, "CONFIRMED") == 1
    await tap.wait_for("orders.confirmed.v1", body_has(order_id=order_id))
    await asyncio.sleep(1)
    assert len(tap.find("orders.confirmed.v1", body_has(order_id=order_id))) == 1
    statuses = sorted(
        json.loads(r.value)["status"] for r in tap.find("payments.updated.v1", body_has(order_id=order_id))
    )
    assert statuses in (["authorized", "captured"], ["captured"])


async def test_a_failed_payment_keeps_the_order_waiting_and_says_why(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, _ = await unpaid_order(producer, tap)
    body = razorpay_payment(
        "payment.failed", order_id, unique("pay"), error_description="Payment was declined by the bank"
    )
    assert (await deliver(body)).json()["outcome"] == "payment failed"
    order = await detail(order_id)
    assert order["status"] == "PENDING_PAYMENT"
    assert order["payment"]["status"] == "failed"
    assert "declined by the bank" in order["timeline"][-1]["reason"]
    [update] = await tap.wait_for("payments.updated.v1", body_has(order_id=order_id, status="failed"))
    assert json.loads(update.value)["failure_reason"] == "Payment was declined by the bank"

    # The customer tries again and pays.
    assert (await deliver(razorpay_payment("payment.captured", order_id, unique("pay")))).json()[
        "outcome"
    ] == ("confirmed")


async def test_an_unpaid_order_is_cancelled_when_its_payment_window_closes_and_its_stock_returns(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, sku = await unpaid_order(producer, tap, units=5)
    assert await available(sku) == 3
    order = await detail(order_id)
    assert order["payment_expires_at"] is not None

    await db_execute(
        "orders",
        "UPDATE orders SET payment_expires_at = now() - interval '1 second' WHERE order_id = $1",
        order_id,
    )

    order = await wait_status(order_id, "CANCELLED")
    assert order["timeline"][-1]["reason"] == "not paid within 30 minutes"
    assert order["timeline"][-1]["cause"] == "payment expiry sweep"
    [cancelled] = await tap.wait_for("orders.cancelled.v1", body_has(order_id=order_id))
    assert json.loads(cancelled.value)["reason_code"] == "payment_expired"
    await wait_available(sku, 5)

    # Money that arrives after all is kept on the record for a refund, not lost.
    late = await deliver(razorpay_payment("payment.captured", order_id, unique("pay")))
    assert late.json()["outcome"] == "paid after cancellation: refund due"
    assert (await detail(order_id))["status"] == "CANCELLED"


async def test_a_paid_order_is_not_expired(stack: Stack, tap: Tap, producer: AIOKafkaProducer) -> None:
    order_id, _ = await unpaid_order(producer, tap)
    await deliver(razorpay_payment("payment.captured", order_id, unique("pay")))
    await db_execute(
        "orders",
        "UPDATE orders SET payment_expires_at = now() - interval '1 second' WHERE order_id = $1",
        order_id,
    )
    await asyncio.sleep(12)  # more than two sweeps
    assert (await detail(order_id))["status"] == "CONFIRMED"


async def test_refunds_add_up_once_each_and_an_amount_mismatch_holds_the_order(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, _ = await unpaid_order(producer, tap)
    payment_id = unique("pay")
    await deliver(razorpay_payment("payment.captured", order_id, payment_id))

    def refund(refund_id: str, amount: int, *, later: int = 0) -> bytes:
        body = json.loads(razorpay_payment("payment.captured", order_id, payment_id))
        body["event"] = "refund.processed"
        body["created_at"] += later
        body["payload"]["refund"] = {
            "entity": {"id": refund_id, "amount": amount, "currency": "INR", "payment_id": payment_id}
        }
        return json.dumps(body).encode()

    assert (await deliver(refund("rfnd_A", 30000))).json()["status"] == "applied"
    # Another event about the same refund (created a second later) is read and adds nothing.
    assert (await deliver(refund("rfnd_A", 30000, later=1))).json()["status"] == "ignored"
    assert (await detail(order_id))["payment"]["status"] == "partially_refunded"
    await deliver(refund("rfnd_B", 39800))
    order = await detail(order_id)
    assert (order["payment"]["status"], order["refunded_paise"]) == ("refunded", 69800)

    short_id, _ = await unpaid_order(producer, tap)
    r = await deliver(razorpay_payment("payment.captured", short_id, unique("pay"), amount=100))
    assert r.json()["outcome"] == "held: amount mismatch"
    assert (await detail(short_id))["status"] == "ON_HOLD"


async def test_an_underpaid_order_released_by_an_operator_stays_held_naming_the_shortfall(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    """Captured 100 paise of 69,800: the hold for the amount cannot be released into shipping."""
    short_id, _ = await unpaid_order(producer, tap)
    r = await deliver(razorpay_payment("payment.captured", short_id, unique("pay"), amount=100))
    assert r.json()["outcome"] == "held: amount mismatch"

    r = await call("POST", f"/orders/{short_id}/release")

    assert r.status_code == 409, r.text
    assert "paid 100 paise but the order total is 69800" in r.text
    order = await detail(short_id)
    assert (order["status"], order["payment"]["amount_paise"]) == ("ON_HOLD", 100)
    assert changes_to(order, "CONFIRMED") == 0


async def test_a_payment_captured_before_its_order_arrives_is_kept_and_confirms_the_order(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    """The store's checkout took the money (notes.order_id: the store's order number) before its
    order reached us: the webhook is kept, not lost, and the order is confirmed when it arrives."""
    sku = await stocked_sku(tap)
    channel_order_id = unique("SHP-EARLY")
    payment_id = unique("pay")

    r = await deliver(razorpay_payment("payment.captured", channel_order_id, payment_id))

    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["order_id"]) == ("kept", None)
    body = channel_order(channel_order_id, sku, payment=UNPAID_UPI)
    await producer.send_and_wait(
        "channel.orders.v1", encode(body), key=f"shopify:{channel_order_id}".encode()
    )
    [placed] = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id))
    order_id = json.loads(placed.value)["order_id"]
    order = await wait_status(order_id, "CONFIRMED")
    assert (order["payment"]["status"], order["payment"]["gateway_payment_id"]) == ("captured", payment_id)
    [update] = await tap.wait_for("payments.updated.v1", body_has(order_id=order_id, status="captured"))
    assert json.loads(update.value)["gateway_payment_id"] == payment_id
    assert changes_to(order, "CANCELLED") == 0


async def test_a_signed_body_without_the_payment_entity_is_refused_naming_it(stack: Stack) -> None:
    body = json.dumps({"entity": "event", "event": "payment.captured", "payload": {}}).encode()
    r = await deliver(body)
    assert r.status_code == 422
    assert r.json()["problems"] == [{"field": "payload.payment.entity", "problem": "missing"}]
