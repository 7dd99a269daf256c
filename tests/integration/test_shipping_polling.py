"""When a courier's webhooks never arrive, the polling fallback reads its tracking API and moves the
shipment forward exactly as the webhooks would have (real PostgreSQL, the sandbox in-process)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from chassis import db
from chassis.outbox import emit
from contracts import Event
from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from services.shipping import sweeps
from services.shipping.couriers.xpressbees import XpressbeesCourier
from services.shipping.settings import ShippingSettings
from tests import infra
from tests.helpers import shipment_request, unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parents[2] / "services" / "shipping" / "migrations"


@dataclass
class Poller:
    """What sweeps.poll needs of the service: its pool, and emit through its outbox."""

    pool: asyncpg.Pool

    async def emit(self, conn: asyncpg.Connection, event: Event) -> str:
        return await emit(conn, event, source="shipping")


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url, service="shipping_poll_test", migrations_dir=MIGRATIONS, min_size=1,
        max_size=4,
    )  # fmt: skip
    yield p
    await p.close()


async def test_a_courier_that_went_quiet_is_polled_to_delivery(pool: asyncpg.Pool) -> None:
    # The courier's webhooks go nowhere: only polling can learn what happened.
    app = create_app(SandboxSettings(shipping_url="http://127.0.0.1:9"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
    ) as sandbox:
        courier = XpressbeesCourier(sandbox, email="e@x", password="p")
        shipment_id = unique("SHP")
        await sandbox.post("/_sandbox/couriers/simulation", json={"step_delay_ms": 0, "webhook_tries": 1})
        await sandbox.post("/_sandbox/couriers/scripts", json={"reference": shipment_id})
        booked = await courier.create_shipment(shipment_request(shipment_id, cod_amount_paise=0))
        await pool.execute(
            """INSERT INTO shipments (shipment_id, order_id, warehouse_code, status, courier, awb, lines,
                                      value_paise, cause_event_id, tracked_at)
               VALUES ($1, $2, 'GGN1', 'AWB_ASSIGNED', 'xpressbees', $3, '[]', 100, 'test',
                       now() - interval '7 hours')""",
            shipment_id,
            unique("ORD"),
            booked.awb,
        )
        for _ in range(100):  # the road runs in the sandbox's background
            parcels = (await sandbox.get("/_sandbox/couriers/parcels", params={"awb": booked.awb})).json()
            if parcels[0]["events"] and parcels[0]["events"][-1]["step"] == "delivered":
                break
            await asyncio.sleep(0.05)
        settings = ShippingSettings(tracking_quiet_s=6 * 3600)

        moved = await sweeps.poll(Poller(pool), settings, {"xpressbees": courier})  # type: ignore[arg-type]
        again = await sweeps.poll(Poller(pool), settings, {"xpressbees": courier})  # type: ignore[arg-type]

    row = await pool.fetchrow(
        """SELECT status, tracked_at > now() - interval '1 minute' AS fresh
             FROM shipments WHERE shipment_id = $1""",
        shipment_id,
    )
    events = await pool.fetch(
        "SELECT convert_from(payload, 'UTF8') AS payload FROM outbox "
        "WHERE topic = 'shipping.shipment_updated.v1' AND convert_from(payload, 'UTF8') LIKE $1 ORDER BY id",
        f"%{shipment_id}%",
    )  # fmt: skip
    assert moved >= 4
    assert again == 0, "a polled shipment is fresh: not polled again until it goes quiet"
    assert (row["status"], row["fresh"]) == ("DELIVERED", True)
    assert [json.loads(e["payload"])["status"] for e in events] == [
        "PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED",
    ]  # fmt: skip
