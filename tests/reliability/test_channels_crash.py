"""Channels killed while it takes stored webhooks in: the store was answered 200 once the delivery was
stored, the intake batch had written the channel order and its event but not committed. After the
restart the receipt is taken in again, and the store's retry of the same delivery is dropped: one
order on ``channel.orders.v1``, never none, never two (ADR 0091)."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from deploy.local.stack import Stack
from tests.conftest import Tap, body_has
from tests.e2e.test_channels import open_store, shopify_delivery
from tests.helpers import db_fetch, seed_stock, unique, url

pytestmark = pytest.mark.e2e


async def _wait_for_log(stack: Stack, service: str, text: str, *, after: int, timeout: float = 60) -> None:
    path = stack.log_path(service)
    for _ in range(int(timeout * 10)):
        if text in path.read_text(errors="replace")[after:]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{service} never logged {text!r}")


async def test_channels_killed_before_its_intake_committed_sends_the_order_once_after_restart(
    stack: Stack, tap: Tap
) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 10})
    account, products = await open_store("shopify", skus={"ASSAM": sku})
    store_order_id = random.randrange(10**11, 10**12)
    coid = f"{account}-{store_order_id}"
    body, headers = shopify_delivery(account, products, store_order_id=store_order_id)
    webhook = url("channels", f"/webhooks/shopify/{account}")

    stack.stop("channels")
    log_from = stack.log_path("channels").stat().st_size
    stack.start(
        "channels", extra_env={"DABBA_FAULTS": "channels.intake.before_commit", "DABBA_FAULT_MATCH": coid}
    )
    stack.wait_ready(["channels"])
    try:
        async with httpx.AsyncClient(timeout=20) as http:
            r = await http.post(webhook, content=body, headers=headers)
        assert r.status_code == 200 and r.json()["duplicate"] is False, r.text
        await _wait_for_log(stack, "channels", "fault point reached", after=log_from)
        stack.kill("channels")
    finally:
        stack.start("channels")
        stack.wait_ready(["channels"])

    async with httpx.AsyncClient(timeout=20) as http:  # Shopify retries: the same delivery id
        again = await http.post(webhook, content=body, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True

    await tap.wait_for("orders.placed.v1", body_has(channel_order_id=coid), timeout=90)
    assert len(tap.find("channel.orders.v1", body_has(channel_order_id=coid))) == 1
    receipts = await db_fetch("channels", "SELECT outcome FROM webhook_receipts WHERE account = $1", account)
    assert [r["outcome"] for r in receipts] == ["sent"]
    rows = await db_fetch("channels", "SELECT status FROM channel_orders WHERE account = $1", account)
    assert [r["status"] for r in rows] == ["sent"]
