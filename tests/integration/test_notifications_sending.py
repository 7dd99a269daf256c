"""A WhatsApp status webhook that overtakes the record of its send, served by the process whose
dispatcher is sending it, on real PostgreSQL: it waits for that round, holding no connection, and then
moves the message recorded by the dispatcher; it does not record the send itself (ADR 0515)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from chassis import db
from chassis.outbox import emit
from contracts import Event, NotificationChannel
from services.notifications import inbound, store
from services.notifications.dispatcher import record_sent
from services.notifications.domain.delivery import Delivery
from services.notifications.domain.policy import PlannedMessage
from services.notifications.domain.replies import StatusUpdate
from services.notifications.records import Message
from services.notifications.sending import Sending
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parents[2] / "services" / "notifications" / "migrations"
PHONE = "+919812345678"


@dataclass
class Watched:
    """A pool that notes each time a connection is taken."""

    pool: asyncpg.Pool
    log: list[str]

    def acquire(self) -> Any:
        self.log.append("connection taken")
        return self.pool.acquire()


@dataclass
class Notifications:
    """What inbound.apply needs of the service: its pool, its name, its outbox."""

    real_pool: asyncpg.Pool
    log: list[str] = field(default_factory=list)
    name: str = "notifications"

    @property
    def pool(self) -> Watched:
        return Watched(self.real_pool, self.log)

    async def emit(self, conn: db.Conn, event: Event) -> str:
        return await emit(conn, event, source=self.name)


@pytest.fixture(scope="module")
async def service(servers: infra.Servers) -> AsyncIterator[Notifications]:
    pool = await db.open_database(
        server_url=servers.database_url, service="notifications_sending_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=2,
    )  # fmt: skip
    yield Notifications(pool)
    await pool.close()


async def queued_whatsapp(pool: asyncpg.Pool) -> str:
    message_id = unique("MSG")
    message = PlannedMessage(
        message_id=message_id, order_id=unique("ORD"), channel=NotificationChannel.WHATSAPP,
        template="order_confirmed", language="en", recipient=PHONE, parameters=("Asha",),
    )  # fmt: skip
    async with pool.acquire() as conn:
        assert await store.queue(
            conn, message=message, cause_event_id=unique("ev"), send_at=datetime.now(UTC)
        )
    return message_id


async def test_a_status_overtaking_its_send_waits_for_the_round_and_moves_what_the_dispatcher_recorded(
    service: Notifications,
) -> None:
    pool, sending = service.real_pool, Sending()
    message_id, wamid = await queued_whatsapp(pool), unique("wamid")
    over = sending.started([message_id])  # the dispatcher claimed it and is calling Meta
    delivered = StatusUpdate(wamid, Delivery.DELIVERED, message_id=message_id, recipient=PHONE)

    webhook = asyncio.create_task(inbound.apply(service, [delivered], sending=sending))  # type: ignore[arg-type]
    for _ in range(20):
        await asyncio.sleep(0)
    assert not webhook.done() and service.log == [], "the webhook went to the database during the round"

    async with pool.acquire() as conn, conn.transaction():  # the dispatcher records its round
        row = await conn.fetchrow("SELECT * FROM messages WHERE message_id = $1", message_id)
        recorded = await record_sent(service, conn, [(Message.of(row), wamid)])  # type: ignore[arg-type]
    service.log.append("round recorded")
    sending.finished([message_id], over, recorded=[wamid])

    assert recorded == {message_id}
    assert (await asyncio.wait_for(webhook, 60))["statuses"] == 1
    assert service.log[:2] == ["round recorded", "connection taken"]
    async with pool.acquire() as conn:
        state = await conn.fetchrow("SELECT status, delivery FROM messages WHERE message_id = $1", message_id)
        history = await conn.fetch(
            "SELECT status FROM message_events WHERE message_id = $1 ORDER BY id", message_id
        )
    assert (state["status"], state["delivery"]) == ("sent", "delivered")
    assert [h["status"] for h in history] == ["queued", "sent", "delivered"]


async def test_a_sent_status_after_the_round_needs_no_connection(service: Notifications) -> None:
    pool, sending = service.real_pool, Sending()
    message_id, wamid = await queued_whatsapp(pool), unique("wamid")
    over = sending.started([message_id])
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("SELECT * FROM messages WHERE message_id = $1", message_id)
        await record_sent(service, conn, [(Message.of(row), wamid)])  # type: ignore[arg-type]
    sending.finished([message_id], over, recorded=[wamid])
    service.log.clear()

    sent = StatusUpdate(wamid, Delivery.SENT, message_id=message_id, recipient=PHONE)
    assert (await inbound.apply(service, [sent], sending=sending))["statuses"] == 0  # type: ignore[arg-type]
    assert service.log == []


async def test_a_status_parked_while_its_send_was_being_recorded_is_applied_by_the_sweep(
    service: Notifications,
) -> None:
    """Another replica's webhook (or one whose round wait ran out) parks a status while the round
    that sent the message records it: neither transaction sees the other's row, so the round takes
    no parked status and the webhook finds no message. The sweep applies it, once."""
    pool = service.real_pool
    message_id, wamid = await queued_whatsapp(pool), unique("wamid")
    delivered = StatusUpdate(wamid, Delivery.DELIVERED, recipient=PHONE)  # Meta's status: no id of ours

    async with pool.acquire() as conn, conn.transaction():  # the round records its send...
        row = await conn.fetchrow("SELECT * FROM messages WHERE message_id = $1", message_id)
        assert await record_sent(service, conn, [(Message.of(row), wamid)]) == {message_id}  # type: ignore[arg-type]
        # ...while the webhook, which cannot see that record yet, parks the status
        assert (await inbound.apply(service, [delivered], sending=Sending()))["statuses"] == 0  # type: ignore[arg-type]

    async def delivery() -> str:
        return str(await pool.fetchval("SELECT delivery FROM messages WHERE message_id = $1", message_id))

    assert await delivery() == "sent", "the race: the status is parked and nothing applied it"
    assert await inbound.apply_parked(service) == 1  # type: ignore[arg-type]
    assert await delivery() == "delivered"
    assert await inbound.apply_parked(service) == 0  # type: ignore[arg-type]
    assert (
        await pool.fetchval("SELECT count(*) FROM early_statuses WHERE provider_message_id = $1", wamid) == 0
    )
    history = await pool.fetch(
        "SELECT status FROM message_events WHERE message_id = $1 ORDER BY id", message_id
    )
    assert [h["status"] for h in history] == ["queued", "sent", "delivered"]
