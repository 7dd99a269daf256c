"""The console's queue with 100,000 orders in its read model: first page, filtered pages, searches.

`python -m bench.console_queue [--orders N] [--fresh]` fills a scratch database
(dabba_console_bench) on the local PostgreSQL with synthetic views through the console's own store,
then times what the queue page does (its rows, the tab counts and the live-queue position from the
read model, rendered with the page's own template), median and max of 20 runs per page. The
issue's bar: each page under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from starlette.requests import Request

from chassis import db
from deploy.local.ports import LOCAL_DATABASE
from services.console import api, store
from services.console.domain.decisions import TABS, parse_search
from services.console.domain.view import OrderView, ReturnView, ShipmentView
from services.console.owners import Operator

MIGRATIONS = Path(__file__).resolve().parents[1] / "services" / "console" / "migrations"
CHANNELS = ("website", "shopify", "woocommerce", "amazon", "flipkart", "whatsapp")
STATUSES = ("PLACED", "PENDING_COD_CONFIRMATION", "CONFIRMED", "SHIPPED", "IN_TRANSIT", "DELIVERED")
CITIES = ("Jaipur", "Pune", "Mysuru", "Lucknow", "Kochi", "Indore")


def synthetic(i: int, start: datetime) -> OrderView:
    """Order i: six channels and statuses in turn; now and then rejected, in NDR, being returned,
    or shipped from the rarely used Bengaluru warehouse (what the rare filters and tabs look for)."""
    at = start + timedelta(seconds=30 * i)
    status = "REJECTED" if i % 97 == 0 else STATUSES[i % len(STATUSES)]
    parcel = "NDR" if i % 53 == 0 else "IN_TRANSIT"
    warehouse = "BLR1" if i % 101 == 0 else "GGN1"
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
        status=status,
        payment_method="cod" if i % 3 == 0 else "upi",
        total_paise=34900 * (1 + i % 4),
        lines=(("TEA-ASSAM-250", 1 + i % 3, 34900),),
        shipments=(ShipmentView(f"SHP-{i}", warehouse, "delhivery", f"AWB{i:010d}", parcel),),
        returns=(ReturnView(f"RET-{i}", "REQUESTED", (("TEA-ASSAM-250", 1, "damaged"),)),)
        if i % 71 == 0
        else (),
    )


async def timed(label: str, run: object) -> float:
    times = []
    for _ in range(20):
        started = time.perf_counter()
        await run()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    print(f"{label:<44} median {median:6.1f} ms   max {max(times):6.1f} ms")
    return median


async def main(orders: int, fresh: bool) -> None:
    server = os.environ.get("DATABASE_URL") or LOCAL_DATABASE
    if fresh:
        admin = await asyncpg.connect(server)
        await admin.execute(f"DROP DATABASE IF EXISTS {db.database_name('console_bench')}")
        await admin.close()
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
        print(f"filled {orders - have} views in {time.perf_counter() - began:.1f}s")
    # Fresh statistics, as autovacuum keeps them in service.
    await pool.execute("ANALYZE order_view, order_search")
    print(f"{orders} orders in the read model; each line is one queue page, queried and rendered")

    template = api.templates.get_template("orders.html")
    request = Request(
        {"type": "http", "method": "GET", "path": "/orders", "query_string": b"", "headers": []}
    )
    operator = Operator("asha", "ops", "csrf")

    def page(f: store.QueueFilter) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            rows = await store.queue(pool, f, after=None, limit=51)
            counts, seq = await store.tab_counts(pool), await store.latest_seq(pool)
            return template.render(
                request=request,
                operator=operator,
                tabs=TABS,
                q=request.query_params,
                counts=counts,
                rows=rows[:50],
                next_query="after=x" if len(rows) > 50 else None,
                seq=seq,
                statuses=[],
                channels=list(CHANNELS),
                methods=["cod", "upi"],
            )

        return run

    pages = {
        "first page (50)": store.QueueFilter(),
        "filter: status + channel": store.QueueFilter(status="IN_TRANSIT", channel="flipkart"),
        "filter: payment + dates": store.QueueFilter(
            payment_method="cod", placed_from=start + timedelta(days=5), placed_to=start + timedelta(days=6)
        ),
        "filter: a rarely used warehouse (1%)": store.QueueFilter(warehouse="BLR1"),
        "tab: rejected (1%)": store.QueueFilter(tab="rejected"),
        "tab: NDR (2%)": store.QueueFilter(tab="ndr"),
        "search: part of a phone": store.QueueFilter(search=parse_search("98000123")),
        "search: a name": store.QueueFilter(search=parse_search("customer 4242")),
        "search: an AWB": store.QueueFilter(search=parse_search("awb0000031337")),
        "search: matching every order": store.QueueFilter(search=parse_search("example.com")),
        "search: matching none": store.QueueFilter(search=parse_search("nobody-here")),
    }
    for label, f in pages.items():
        await timed(label, page(f))
    await timed("tab counts alone", lambda: store.tab_counts(pool))
    await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true", help="drop the scratch database and fill it again")
    args = parser.parse_args()
    asyncio.run(main(args.orders, args.fresh))
