"""Channels benchmark: webhook intake per adapter process, and stock-sync lag to the stores.

`.venv/bin/python -m bench.channels [--webhooks 2000] [--concurrency 32] [--skus 50] [--rounds 5]`
(Kafka, PostgreSQL and topics up first, as for `make bench`). It restarts the sandbox, orders,
routing, inventory and channels, then measures
1. intake: N signed order webhooks per platform posted at one channels process; accepted/s (answered
   200 after the signature check and the raw receipt is stored) and taken in/s (every receipt
   processed and its order in the outbox for `channel.orders.v1`). Target ≥ 500 orders/s accepted.
2. stock-sync lag: bursts of stock receipts into inventory for S SKUs, each mapped on a Shopify and a
   WooCommerce store; per SKU and store, from the receipt's HTTP answer to the moment channels
   recorded the store's read-back of the new number (`stock_pushes.confirmed_at`). Target p99 ≤ 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from chassis.db import database_name, with_database
from chassis.settings import ServiceSettings
from deploy.local import stores
from deploy.local.ports import PORTS, dev_headers
from deploy.local.stack import ANY_HOUR, Stack
from sandbox import shopify as sandbox_shopify
from sandbox import woocommerce as sandbox_woo
from sandbox.store_webhooks import Listing, PlaceOrder, sign

SECRET = "bench-store-webhook-secret"
PROCESSES = ("sandbox", "orders", "routing", "inventory", "channels")


def url(service: str, path: str) -> str:
    return f"http://127.0.0.1:{PORTS[service]}{path}"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def open_store(http: httpx.AsyncClient, platform: str, account: str, skus: dict[str, str]) -> None:
    """A sandbox store selling these channel SKUs, connected to channels and mapped to Dabba SKUs."""
    await stores.open_store(http, platform, account, secret=SECRET, skus=skus, available=1000)


def signed_webhooks(platform: str, account: str, n: int) -> list[tuple[bytes, dict[str, str]]]:
    """N order webhooks in the platform's documented shape and headers, signed with the secret."""
    listing = Listing(
        sku="BENCH", product_id=1, variant_id=2, inventory_item_id=3, price_paise=34900, available=9
    )
    order = PlaceOrder(lines=[{"sku": "BENCH", "quantity": 1}])  # type: ignore[list-item]
    out = []
    for i in range(n):
        order_id = 7_000_000_000 + i
        if platform == "shopify":
            shop = sandbox_shopify.Shop(name=account, listings={"BENCH": listing})
            body = json.dumps(sandbox_shopify.order_payload(shop, order_id, 1000 + i, order)).encode()
            headers = {
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Hmac-Sha256": sign(SECRET, body),
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            }
        else:
            site = sandbox_woo.Site(name=account, listings={"BENCH": listing})
            body = json.dumps(sandbox_woo.order_payload(site, order_id, order)).encode()
            headers = {
                "X-WC-Webhook-Topic": "order.created",
                "X-WC-Webhook-Signature": sign(SECRET, body),
                "X-WC-Webhook-Delivery-ID": str(uuid.uuid4()),
            }
        out.append((body, {**headers, "Content-Type": "application/json"}))
    return out


async def intake(platform: str, run: str, n: int, concurrency: int, db: asyncpg.Connection) -> dict[str, Any]:
    account = f"bench-{platform[:4]}-{run}".lower()
    async with httpx.AsyncClient(timeout=30) as http:
        await open_store(http, platform, account, {"BENCH": f"BENCH-{run}"})
    hooks = signed_webhooks(platform, account, n)
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for hook in hooks:
        queue.put_nowait(hook)
    refused = retried = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal refused, retried
        while not queue.empty():
            body, headers = queue.get_nowait()
            for _ in range(3):  # as a store does: a delivery whose connection broke is sent again
                try:
                    r = await http.post(
                        url("channels", f"/webhooks/{platform}/{account}"), content=body, headers=headers
                    )
                    break
                except httpx.TransportError:
                    retried += 1
            else:
                raise SystemExit(f"intake: a {platform} webhook failed three times")
            refused += r.status_code != 200

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    accepted_s = time.perf_counter() - started
    unprocessed = "SELECT count(*) FROM webhook_receipts WHERE account = $1 AND processed_at IS NULL"
    while True:  # the bench watches another process's table: polling is the only way to see it
        if not await db.fetchval(unprocessed, account):
            break
        await asyncio.sleep(0.05)
    taken_s = time.perf_counter() - started
    sent = await db.fetchval(
        "SELECT count(*) FROM channel_orders WHERE account = $1 AND status = 'sent'", account
    )
    return {
        "platform": platform,
        "webhooks": n,
        "refused": refused,
        "retried": retried,
        "accepted_per_s": round(n / accepted_s),
        "taken_in_per_s": round(n / taken_s),
        "orders_sent": sent,
    }


async def stock_lag(run: str, skus: int, rounds: int, db: asyncpg.Connection) -> dict[str, Any]:
    names = [f"BSYNC-{run}-{i}" for i in range(skus)]
    shop, woo = f"bench-lag-s-{run}".lower(), f"bench-lag-w-{run}".lower()
    lags: list[float] = []
    async with httpx.AsyncClient(timeout=30, headers=dev_headers()) as http:
        await http.put(
            url("routing", "/warehouses/GGN1"), json={"code": "GGN1", "name": "Gurugram", "pincode": "122001"}
        )
        await open_store(http, "shopify", shop, {f"S{i}": sku for i, sku in enumerate(names)})
        await open_store(http, "woocommerce", woo, {f"W{i}": sku for i, sku in enumerate(names)})
        for round_no in range(1, rounds + 1):
            changed: dict[str, float] = {}

            async def receive(sku: str, changed: dict[str, float] = changed) -> None:
                r = await http.post(
                    url("inventory", "/stock/receipts"),
                    json={"sku": sku, "warehouse_code": "GGN1", "quantity": 1, "reference": "bench"},
                )
                r.raise_for_status()
                changed[sku] = time.time()

            await asyncio.gather(*(receive(sku) for sku in names))
            pending = {(a, sku) for a in (shop, woo) for sku in names}
            deadline = time.monotonic() + 60
            while pending and time.monotonic() < deadline:
                rows = await db.fetch(
                    """SELECT account, sku, confirmed_at FROM stock_pushes
                        WHERE account = ANY($1::text[]) AND confirmed_quantity = $2""",
                    [shop, woo],
                    round_no,
                )
                for row in rows:
                    key = (row["account"], row["sku"])
                    if key in pending:
                        pending.discard(key)
                        lags.append(max(0.0, row["confirmed_at"].timestamp() - changed[row["sku"]]))
                await asyncio.sleep(0.05)
            if pending:
                raise SystemExit(f"stock sync: {len(pending)} listings never confirmed round {round_no}")
    return {
        "levels": len(lags),
        "p50_s": round(statistics.median(lags), 3),
        "p99_s": round(pct(lags, 99), 3),
        "max_s": round(max(lags), 3),
    }


async def main(args: argparse.Namespace) -> int:
    settings = ServiceSettings()
    run = datetime.now(UTC).strftime("%H%M%S") + secrets.token_hex(2)
    stack = Stack(env=dict(ANY_HOUR))
    print(f"bench.channels: run {run}; (re)starting {', '.join(PROCESSES)}…", flush=True)
    stack.stop_all()
    stack.start_all(PROCESSES)
    db = await asyncpg.connect(with_database(settings.database_url, database_name("channels")))
    try:
        results = [
            await intake(p, run, args.webhooks, args.concurrency, db) for p in ("shopify", "woocommerce")
        ]
        for r in results:
            print(
                f"intake {r['platform']:<11} {r['webhooks']} webhooks: accepted {r['accepted_per_s']}/s, "
                f"taken in {r['taken_in_per_s']}/s, refused {r['refused']}, retried {r['retried']}, "
                f"orders sent {r['orders_sent']}"
            )
        lag = await stock_lag(run, args.skus, args.rounds, db)
        print(
            f"stock sync lag over {lag['levels']} store levels ({args.skus} SKUs x 2 stores x {args.rounds} "
            f"bursts): p50 {lag['p50_s']} s, p99 {lag['p99_s']} s, max {lag['max_s']} s"
        )
        ok = all(r["accepted_per_s"] >= 500 and not r["refused"] for r in results) and lag["p99_s"] <= 5
        print("targets (>= 500 webhooks/s accepted, p99 <= 5 s):", "met" if ok else "NOT met")
        return 0 if ok else 1
    finally:
        await db.close()
        if not args.keep_running:
            stack.stop_all(PROCESSES)


def cli() -> int:
    parser = argparse.ArgumentParser(prog="bench.channels", description=__doc__)
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--skus", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep-running", action="store_true")
    return asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(cli())
