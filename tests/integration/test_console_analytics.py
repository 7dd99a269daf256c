"""Every number on the console's analytics page, from a read model of seven orders whose numbers
were worked out by hand (in the comments), through the real PostgreSQL queries and the page's own
functions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from services.console import store
from services.console.domain import metrics
from services.console.domain.inbox import TicketLine
from services.console.domain.view import OrderView, ReturnView, ShipmentView
from tests import infra

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "console" / "migrations"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=14)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def order(
    name: str,
    channel: str,
    method: str,
    placed: datetime,
    lines: tuple[tuple[str, int, int], ...],
    *,
    status: str = "DELIVERED",
    courier: str | None = None,
    ndr: bool = False,
    promised: datetime | None = None,
    returned: tuple[tuple[str, int, str], ...] = (),
    **milestones: datetime,
) -> OrderView:
    parcels = (
        (
            ShipmentView(
                f"SHP-{name}", "GGN1", courier, f"AWB{name}", status, ndr_attempts=(1,) if ndr else ()
            ),
        )
        if courier
        else ()
    )
    return OrderView(
        order_id=f"ORD-M-{name}",
        first_seen_at=placed,
        updated_at=placed,
        channel=channel,
        channel_order_id=f"CH-{name}",
        payment_method=method,
        status=status,
        placed_at=placed,
        lines=lines,
        shipments=parcels,
        returns=(ReturnView(f"RET-{name}", "REQUESTED", returned),) if returned else (),
        milestones={"placed": placed, **milestones},
        promised_dispatch_by=promised,
    )


SCENARIO = [
    # A: on time (picked 09:00, promised 11:00); confirmed → picked 22 h; placed → delivered 48 h;
    # one unit came back as the wrong item.
    order(
        "A",
        "shopify",
        "upi",
        at(10, 10),
        (("TEA", 2, 100),),
        courier="delhivery",
        promised=at(11, 11),
        confirmed=at(10, 11),
        picked_up=at(11, 9),
        first_attempt=at(12, 10),
        delivered=at(12, 10),
        returned=(("TEA", 1, "wrong_item"),),
    ),
    # B: late (picked a day after the promise); 48 h to dispatch; 96 h to deliver; one NDR.
    order(
        "B",
        "website",
        "cod",
        at(10, 12),
        (("TEA", 1, 100), ("SOCK", 2, 50)),
        courier="xpressbees",
        ndr=True,
        promised=at(11, 14),
        confirmed=at(10, 14),
        picked_up=at(12, 14),
        first_attempt=at(13, 10),
        delivered=at(14, 12),
    ),
    # C: on time, 22 h to dispatch, an NDR and then back to origin.
    order(
        "C",
        "website",
        "cod",
        at(15, 8),
        (("SOCK", 1, 50),),
        status="RTO_DELIVERED",
        courier="delhivery",
        ndr=True,
        promised=at(16, 9),
        confirmed=at(15, 9),
        picked_up=at(16, 7),
        first_attempt=at(17, 10),
        rto=at(18, 10),
    ),
    # D: promised for tomorrow and not picked yet: not due, so not in the fulfilment rate.
    order(
        "D",
        "amazon",
        "upi",
        at(19, 8),
        (("TEA", 1, 100),),
        status="CONFIRMED",
        promised=at(21, 9),
        confirmed=at(19, 9),
    ),
    # E: cancelled after its promise passed: not in the fulfilment rate, its units not sold.
    order("E", "shopify", "cod", at(18, 8), (("TEA", 5, 100),), status="CANCELLED", promised=at(19, 8)),
    # F: rejected: counted in orders per channel per day only.
    order("F", "shopify", "cod", at(18, 9), (("TEA", 1, 100),), status="REJECTED"),
    # G: placed before the window: in no number.
    order("G", "website", "cod", at(1, 9), (("TEA", 9, 100),), courier="delhivery", picked_up=at(2, 9)),
]


def said(
    event: str, ticket: str, at_: datetime, change: str, text: str | None, *, order: str | None
) -> TicketLine:
    return TicketLine(
        event_id=event, ticket_id=ticket, order_id=order, at=at_, change=change, open=change != "closed",
        customer_name="Asha" if order else None, customer_phone="+91******5678", text=text,
        actor=None if change == "customer_wrote" else "ops:asha", window_closes_at=at_ + timedelta(hours=24),
    )  # fmt: skip


TICKETS = [
    # T1 on order A: opened on the 12th, answered, then the customer wrote again (one ticket).
    said("e1", "T1", at(12, 9), "customer_wrote", "Where is it?", order="ORD-M-A"),
    said("e2", "T1", at(12, 10), "operator_replied", "Out today", order="ORD-M-A"),
    said("e3", "T1", at(12, 11), "customer_wrote", "Thanks", order="ORD-M-A"),
    # T2 on no order, opened on the 15th and closed: still a support ticket.
    said("e4", "T2", at(15, 9), "customer_wrote", "Do you ship to Shillong?", order=None),
    said("e5", "T2", at(15, 10), "closed", None, order=None),
    # T3 opened before the window: not counted, though still open.
    said("e6", "T3", at(1, 9), "customer_wrote", "Hello", order="ORD-M-G"),
]


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url,
        service="console_metrics_test",
        migrations_dir=MIGRATIONS,
        min_size=1,
        max_size=2,
    )
    async with p.acquire() as conn, conn.transaction():
        await store.replace_all(conn, SCENARIO, [], [], [], TICKETS)
    yield p
    await p.close()


async def test_each_number_matches_the_one_worked_out_by_hand(pool: asyncpg.Pool) -> None:
    s = metrics.summarise(await store.metric_facts(pool, since=SINCE), now=NOW)
    assert s.orders == 5  # A, B, C, D, E
    assert s.fulfilment_rate == 66.7  # due: A, B, C; on time: A, C
    assert s.avg_dispatch_hours == 30.67  # (22 + 48 + 22) / 3
    assert (s.delivery_p50_hours, s.delivery_p90_hours) == (48.0, 96.0)  # A 48 h, B 96 h
    assert s.order_error_rate == 33.3  # picked up: A, B, C; wrong item: A
    assert s.cod_share == 60.0  # B, C, E of five
    assert s.ndr_rate == 66.7  # attempted: A, B, C; NDR: B, C
    assert [(c.courier, c.picked_up, c.rto, c.percent) for c in s.rto_by_courier] == [
        ("delhivery", 2, 1, 50.0),  # A, C; C came back
        ("xpressbees", 1, 0, 0.0),
    ]


async def test_return_rate_by_sku_and_orders_per_channel_per_day_match_the_hand_count(
    pool: asyncpg.Pool,
) -> None:
    rates = metrics.return_rates(
        await store.units_sold(pool, since=SINCE), await store.units_returned(pool, since=SINCE)
    )
    # TEA sold: A 2 + B 1 + D 1 (E cancelled, F rejected, G too old); one returned as the wrong item.
    assert [(r.sku, r.sold, r.returned, r.percent, r.by_reason) for r in rates] == [
        ("TEA", 4, 1, 25.0, {"wrong_item": 1}),
        ("SOCK", 3, 0, 0.0, {}),
    ]
    days, channels, counts = metrics.orders_by_channel_and_day(
        await store.orders_per_channel_day(pool, since=SINCE)
    )
    # India time: A 15:30 and B 17:30 on the 10th; E and F (rejected ones count here) on the 18th.
    assert days == ["2026-11-10", "2026-11-15", "2026-11-18", "2026-11-19"]
    assert counts == {
        ("2026-11-10", "shopify"): 1,
        ("2026-11-10", "website"): 1,
        ("2026-11-15", "website"): 1,
        ("2026-11-18", "shopify"): 2,
        ("2026-11-19", "amazon"): 1,
    }
    assert channels == ["amazon", "shopify", "website"]


async def test_support_tickets_per_100_orders_and_the_inbox_match_the_hand_count(pool: asyncpg.Pool) -> None:
    opened = await store.tickets_opened(pool, since=SINCE)
    assert opened == 2  # T1 and T2; T3 is older than the window
    assert metrics.tickets_per_100_orders(opened, 5) == 40.0  # 2 tickets over A, B, C, D, E
    inbox = await store.tickets(pool, open_=True, limit=10)
    assert [(t.ticket_id, t.last_text, t.last_change, t.messages) for t in inbox] == [
        ("T1", "Thanks", "customer_wrote", 3),
        ("T3", "Hello", "customer_wrote", 1),
    ]
    assert inbox[0].opened_at == at(12, 9) and inbox[0].customer_name == "Asha"
    assert [t.ticket_id for t in await store.tickets(pool, open_=False, limit=10)] == ["T2"]
    assert await store.open_ticket_count(pool) == 2


def test_nothing_measured_yet_is_shown_as_nothing_not_zero() -> None:
    s = metrics.summarise([], now=NOW)
    assert (s.orders, s.fulfilment_rate, s.avg_dispatch_hours, s.delivery_p50_hours) == (0, None, None, None)
    assert (s.order_error_rate, s.cod_share, s.ndr_rate, s.rto_by_courier) == (None, None, None, [])
    assert metrics.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 90) == 5.0
    assert metrics.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert metrics.tickets_per_100_orders(3, 0) is None
