"""Shipping tells routing each courier's pickup and delivery pincodes on the real PostgreSQL server
(ADR 0410): one shipping.serviceability_changed.v2 per courier per load, data loaded before v2 is
announced at the next start and only once, and a file without the pickup column says nothing of
pickup."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest

from chassis import db
from chassis.outbox import emit
from services.shipping import announce, app, catalogue, reference
from services.shipping.settings import ShippingSettings
from tests import infra

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "shipping" / "migrations"
V2 = "shipping.serviceability_changed.v2"


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url, service="shipping_pairs_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=2,
    )  # fmt: skip
    # The database is this module's own: no courier data and nothing announced yet.
    await p.execute("TRUNCATE serviceability, serviceability_announced, rate_cards, pickup_locations, outbox")
    yield p
    await p.close()


def shipping(pool: asyncpg.Pool) -> Any:
    """What load_reference_data needs of the service: its pool and an outbox writer."""
    return SimpleNamespace(pool=pool, emit=lambda conn, event: emit(conn, event, source="shipping"))


async def announced(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT payload FROM outbox WHERE topic = $1 ORDER BY id", V2)
    return [json.loads(r["payload"]) for r in rows]


async def test_each_courier_is_announced_once_per_load_and_a_file_without_pickup_says_nothing_of_it(
    pool: asyncpg.Pool, servers: infra.Servers
) -> None:
    settings = ShippingSettings(database_url=servers.database_url)
    await app.load_reference_data(shipping(pool), settings)
    await app.load_reference_data(shipping(pool), settings)  # a restart: nothing new to tell

    first = await announced(pool)
    assert [e["courier"] for e in first] == ["delhivery", "shiprocket", "xpressbees"]
    delhivery = first[0]
    assert {"122001", "421302", "560058"} <= set(delhivery["pickup"])
    assert "781001" not in delhivery["pickup"] and "781001" in delhivery["cod"]  # delivers, no pickup
    assert "190001" in delhivery["prepaid"] and "190001" not in delhivery["cod"]

    # An upload of Xpressbees' rows in the old format (no pickup column) replaces only Xpressbees.
    rows, problems = catalogue.parse_serviceability(
        "courier,pincode,prepaid,cod,reverse_pickup\nxpressbees,302019,true,false,false",
        couriers=settings.courier_names,
    )
    assert problems == []
    async with pool.acquire() as conn, conn.transaction():
        await reference.replace_serviceability(conn, rows, source="upload")
        await announce.serviceability_loaded(conn, shipping(pool).emit)

    [*_, xpressbees] = await announced(pool)
    assert len(await announced(pool)) == 4
    assert xpressbees["courier"] == "xpressbees"
    assert (xpressbees["pickup"], xpressbees["prepaid"], xpressbees["cod"]) == (None, ["302019"], [])
