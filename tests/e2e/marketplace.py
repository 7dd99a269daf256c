"""What the marketplace e2e tests (Amazon, Flipkart) share: the sandbox seller's control routes,
channels' poll of an account, and a poll whose channels is killed while the seller holds its page 2."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import httpx

from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from tests.helpers import url, wait_until


async def place(platform: str, account: str, channel_sku: str, **extra: Any) -> dict[str, Any]:
    """A buyer orders one of ``channel_sku`` from the sandbox seller; the sandbox's answer."""
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            url("sandbox", f"/_sandbox/{platform}/{account}/orders"),
            json={
                "lines": [{"sku": channel_sku, "quantity": 1}],
                "buyer": {"name": "आशा वर्मा", "phone": f"+9197{random.randrange(10**8):08d}"},
                **extra,
            },
        )
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


async def seller_state(platform: str, account: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(url("sandbox", f"/_sandbox/{platform}/{account}"))).json()  # type: ignore[no-any-return]


async def poll(account: str, *, timeout: float) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=timeout, headers=dev_headers("ops")) as http:
        r = await http.post(url("channels", f"/accounts/{account}/poll"))
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


def events(records: list[Any]) -> set[bytes]:
    """The distinct events among records (their CloudEvents ids)."""
    return {dict(r.headers)["ce_id"] for r in records}


async def poll_killed_on_page_2(
    stack: Stack, platform: str, account: str, *, poll_timeout: float, what: str, timeout: float
) -> None:
    """Channels polls the seller, is killed while the seller holds page 2 (page 1 taken in, page 2
    in flight), and polls again once restarted."""

    async def holding() -> bool | None:
        return True if (await seller_state(platform, account))["holding"] else None

    async with httpx.AsyncClient(timeout=10) as http:
        await http.post(url("sandbox", f"/_sandbox/{platform}/{account}/hold"), params={"page": 2})
    first = asyncio.create_task(poll(account, timeout=poll_timeout))
    await wait_until(holding, what=what, timeout=timeout)
    stack.kill("channels")
    async with httpx.AsyncClient(timeout=10) as http:
        await http.post(url("sandbox", f"/_sandbox/{platform}/{account}/release"))
    with contextlib.suppress(httpx.HTTPError):
        await first
    stack.start("channels")
    stack.wait_ready(["channels"])
    await poll(account, timeout=poll_timeout)
