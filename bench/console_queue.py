"""The console's queue with 100,000 orders in its read model: first page, a filtered page, a search.

`python -m bench.console_queue [--orders N]` fills a scratch database (dabba_console_bench) on the
local PostgreSQL with synthetic views through the console's own store, then times each query
(median of 20 runs). The issue's bar: each under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chassis import db
from deploy.local.ports import LOCAL_DATABASE
from services.console import store
from services.console.domain.decisions import parse_search
from services.console.domain.view import OrderView, ShipmentView

MIGRATIONS = Path(__file__).resolve().parents[1] / "services" / "console" / "migrations"
CHANNELS = ("website", "shopify", "woocommerce", "amazon", "flipkart", "whatsapp")
STATUSES = ("PLACED", "PENDING_COD_CONFIRMATION", "CONFIRMED", "SHIPPED", "IN_TRANSIT", "DELIVERED")
CITIES = ("Jaipur", "Pune", "Mysuru", "Lucknow", "Kochi", "Indore")


def synthetic(i: int, start: datetime) -> OrderView:
    at = start + timedelta(seconds=30 * i)
    return OrderView(
        order_id=f"ORD-BENCH-{i:07d}",
        first_seen_at=at,
        updated_at=at,
        placed_at=at,
        channel=CHANNELS[i % len(CHANNELS)],
        channel_order_id=f"CH-{i:07d}",
        customer_name=f"Customer {i}",
        phone=f"+9198{i:08d}",
        email=f"c{i}@example.com",
        city=CITIES[i % len(CITIES)],
        status=STATUSES[i % len(STATUSES)],
        payment_method="cod" if i % 3 == 0 else "upi",
        total_paise=34900 * (1 + i % 4),
        lines=(("TEA-ASSAM-250", 1 + i % 3, 34900),),
        shipments=(ShipmentView(f"SHP-{i}", "GGN1", "delhivery", f"AWB{i:010d}", "IN_TRANSIT"),),
    )


async def timed(label: str, run: object) -> float:
    times = []
    for _ in range(20):
        started = time.perf_counter()
        await run()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    print(f"{label:<40} median {median:6.1f} ms   max {max(times):6.1f} ms")
    return median


async def main(orders: int) -> None:
    server = os.environ.get("DATABASE_URL") or LOCAL_DATABASE
    pool = await db.open_database(
        server_url=server,
        service="console_bench",
        migrations_dir=MIGRATIONS,
        min_size=1,
        max_size=2,
    )
    have = await pool.fetchval("SELECT count(*) FROM order_view")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    if have < orders:
        began = time.perf_counter()
        for first in range(have, orders, 2000):
            async with pool.acquire() as conn, conn.transaction():
                await store.save_views(
                    conn, [synthetic(i, start) for i in range(first, min(first + 2000, orders))]
                )
        await pool.execute("ANALYZE order_view")
        print(f"filled {orders - have} views in {time.perf_counter() - began:.1f}s")
    print(f"{orders} orders in the read model")
    everything = store.QueueFilter()
    filtered = store.QueueFilter(tab="all", status="IN_TRANSIT", channel="flipkart")
    await timed("first page (50)", lambda: store.queue(pool, everything, after=None, limit=51))
    await timed("status + channel filter", lambda: store.queue(pool, filtered, after=None, limit=51))
    search = store.QueueFilter(search=parse_search("98000123"))
    await timed("search by part of a phone", lambda: store.queue(pool, search, after=None, limit=51))
    by_name = store.QueueFilter(search=parse_search("customer 4242"))
    await timed("search by name", lambda: store.queue(pool, by_name, after=None, limit=51))
    await timed("tab counts", lambda: store.tab_counts(pool))
    await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().orders))
