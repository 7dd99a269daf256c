"""Returns killed after Razorpay paid a refund and before it wrote that down: the customer is paid once."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.stack import Stack
from tests.conftest import Tap, body_has
from tests.e2e.test_returns_flow import (
    client,
    delivered_order,
    receive_and_qc,
    refunded_return,
    request_return,
)
from tests.helpers import unique, url, wait_until

pytestmark = pytest.mark.e2e


async def test_returns_killed_between_the_refund_call_and_its_record_refunds_once(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    order = await delivered_order(producer, lines=[(sku, 1, 34900)])
    knobs = url("sandbox", "/_sandbox/razorpay/knobs")
    stack.stop("returns")
    log_from = stack.log_path("returns").stat().st_size
    stack.start(
        "returns",
        extra_env={
            "DABBA_FAULTS": "returns.after_refund_call",
            "DABBA_FAULT_MATCH": order["order_id"],
            "REFUND_LEASE_SECONDS": "3",
        },
    )
    async with client() as http:
        try:
            stack.wait_ready(["returns"])
            # The refund.processed webhook is held back, so only the retried call can tell returns.
            await http.post(knobs, json={"hold_webhooks": True})
            rma = await request_return(
                http, order_id=order["order_id"], lines=[{"sku": sku, "quantity": 1, "reason": "damaged"}]
            )
            await receive_and_qc(
                http, rma["return_id"], [{"sku": sku, "passed": 1, "failed": 0, "grade": "A"}]
            )

            async def frozen() -> bool | None:
                return (
                    "fault point reached" in stack.log_path("returns").read_text(errors="replace")[log_from:]
                    or None
                )

            await wait_until(frozen, what="returns to freeze after the refund call", timeout=60)
            stack.kill("returns")
        finally:
            stack.start("returns")
            stack.wait_ready(["returns"])

        async def answered() -> dict[str, Any] | None:
            refund = (await http.get(url("returns", f"/returns/{rma['return_id']}"))).json()["refund"]
            return refund if refund["status"] == "initiated" else None

        refund = await wait_until(answered, what="the retried call to be recorded", timeout=60)
        assert refund["calls"] == 2
        await http.post(knobs, json={})
        await refunded_return(http, rma["return_id"])
        refunds = (
            await http.get(
                url("sandbox", "/_sandbox/razorpay/refunds"), params={"payment_id": order["payment_id"]}
            )
        ).json()
    assert len(refunds) == 1, "two calls, one refund"
    assert len(tap.find("returns.refunded.v1", body_has(return_id=rma["return_id"]))) == 1
