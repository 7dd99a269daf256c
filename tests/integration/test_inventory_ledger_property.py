"""Property: whatever mix of receipts, reservations, releases, pickups and returns hits a SKU, the
real store keeps on hand ≥ reserved ≥ 0 in every warehouse, agrees with a plain model, and its
movement ledger sums to exactly the on hand and reserved it shows."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chassis import db
from contracts import Allocation
from services.inventory import store
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "inventory" / "migrations"
WAREHOUSES = ("BOM1", "GGN1")

warehouse = st.sampled_from(WAREHOUSES)
units = st.integers(min_value=1, max_value=6)
order_no = st.integers(min_value=0, max_value=2)
step = st.one_of(
    st.tuples(st.just("receive"), warehouse, units),
    st.tuples(st.just("reserve"), order_no, st.lists(st.tuples(warehouse, units), min_size=1, max_size=2)),
    st.tuples(st.just("release"), order_no),
    st.tuples(st.just("pickup"), order_no, warehouse),
    st.tuples(st.just("restock"), warehouse, units),
)


@pytest.fixture(scope="module")
def dsn(servers: infra.Servers) -> str:
    async def migrate() -> None:
        pool = await db.open_database(
            server_url=servers.database_url,
            service="inventory_property",
            migrations_dir=MIGRATIONS,
            min_size=1,
            max_size=1,
        )
        await pool.close()

    asyncio.run(migrate())
    return db.with_database(servers.database_url, db.database_name("inventory_property"))


async def run(dsn: str, steps: list[tuple]) -> None:  # type: ignore[type-arg]
    sku = unique("PROP")
    model = {wh: {"on_hand": 0, "reserved": 0} for wh in WAREHOUSES}
    held: dict[str, list[Allocation]] = {}  # the model's active reservations, per order
    conn = await asyncpg.connect(dsn)
    await db.register_json_codec(conn)
    try:
        for n, s in enumerate(steps):
            order_id = f"{sku}-ORD-{s[1]}" if s[0] in ("reserve", "release", "pickup") else ""
            async with conn.transaction():
                if s[0] in ("receive", "restock"):
                    _, wh, q = s
                    kind = "receipt" if s[0] == "receive" else "return"
                    await store.receive(
                        conn, sku=sku, warehouse_code=wh, quantity=q, reference=f"{n}", actor="t", kind=kind
                    )
                    model[wh]["on_hand"] += q
                elif s[0] == "reserve":
                    merged: dict[str, int] = {}
                    for wh, q in s[2]:
                        merged[wh] = merged.get(wh, 0) + q
                    allocations = [
                        Allocation(warehouse_code=w, sku=sku, quantity=q) for w, q in sorted(merged.items())
                    ]
                    fits = all(
                        model[a.warehouse_code]["on_hand"] - model[a.warehouse_code]["reserved"] >= a.quantity
                        for a in allocations
                    )
                    existing = await store.reservation_of(conn, order_id)
                    if existing is not None:
                        continue  # one reservation per order, as the handler enforces
                    try:
                        async with conn.transaction():
                            await store.reserve(
                                conn,
                                allocations=allocations,
                                order_id=order_id,
                                reservation_id=f"R{n}-{order_id}",
                            )
                    except store.NotEnoughStock:
                        assert not fits, f"step {n}: refused a reservation that fits {model}"
                        continue
                    assert fits, f"step {n}: reserved more than was available {model}"
                    held[order_id] = allocations
                    for a in allocations:
                        model[a.warehouse_code]["reserved"] += a.quantity
                elif s[0] == "release":
                    reservation = await store.reservation_of(conn, order_id)
                    if reservation is None or reservation.status != "active":
                        continue
                    released = await store.release(conn, reservation=reservation, reason="cancelled")
                    for a in released:
                        model[a.warehouse_code]["reserved"] -= a.quantity
                    held.pop(order_id, None)
                else:
                    wh = s[2]
                    reservation = await store.reservation_of(conn, order_id)
                    if reservation is None or reservation.status == "released":
                        continue
                    for a in await store.commit_pickup(
                        conn, reservation=reservation, warehouse_code=wh, shipment_id=f"SHP{n}"
                    ):
                        model[a.warehouse_code]["reserved"] -= a.quantity
                        model[a.warehouse_code]["on_hand"] -= a.quantity
            rows = await conn.fetch("SELECT warehouse_code, on_hand, reserved FROM stock WHERE sku = $1", sku)
            for r in rows:
                assert r["on_hand"] >= r["reserved"] >= 0, f"step {n} {s}: {dict(r)}"
                assert model[r["warehouse_code"]] == {"on_hand": r["on_hand"], "reserved": r["reserved"]}, (
                    f"step {n} {s}"
                )
        ledger = await conn.fetch(
            """SELECT s.warehouse_code, s.on_hand, s.reserved,
                      coalesce(sum(m.on_hand_delta), 0) AS moved_on_hand,
                      coalesce(sum(m.reserved_delta), 0) AS moved_reserved
                 FROM stock s LEFT JOIN stock_movements m
                   ON m.sku = s.sku AND m.warehouse_code = s.warehouse_code
                WHERE s.sku = $1 GROUP BY 1, 2, 3""",
            sku,
        )
        for r in ledger:
            assert r["moved_on_hand"] == r["on_hand"], f"ledger on hand {dict(r)}"
            assert r["moved_reserved"] == r["reserved"], f"ledger reserved {dict(r)}"
    finally:
        await conn.close()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=40))
def test_any_mix_of_stock_moves_keeps_on_hand_above_reserved_and_the_ledger_balanced(
    dsn: str, steps: list[tuple]
) -> None:  # type: ignore[type-arg]
    asyncio.run(run(dsn, steps))
