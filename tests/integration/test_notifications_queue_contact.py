"""A status change's message and its customer's contact saved in one statement, on real PostgreSQL,
as ``save_contact`` saves it: the latest change wins, a rehearsal stays one, and a redelivered event
(its message planned already) still saves the contact; without a contact, none is written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from chassis.consumer import HandlerContext, Incoming, Transaction
from chassis.logging import get_logger
from contracts import NotificationChannel
from services.notifications import handlers, store
from services.notifications.domain.policy import Facts, PlannedMessage
from services.notifications.settings import NotificationsSettings
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parents[2] / "services" / "notifications" / "migrations"


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.open_database(
        server_url=servers.database_url, service="notifications_queue_contact_test",
        migrations_dir=MIGRATIONS,
        min_size=1, max_size=2,
    )  # fmt: skip
    yield pool
    await pool.close()


async def queue(pool: asyncpg.Pool, order_id: str, message_id: str, contact: Facts | None) -> bool:
    message = PlannedMessage(
        message_id=message_id, order_id=order_id, channel=NotificationChannel.WHATSAPP,
        template="order_confirmed", language="en", recipient="+919812345678", parameters=("Asha",),
    )  # fmt: skip
    async with pool.acquire() as conn:
        return await store.queue(
            conn, message=message, cause_event_id=unique("ev"), send_at=datetime.now(UTC), contact=contact
        )


async def test_the_contact_is_saved_with_the_message_as_save_contact_would(pool: asyncpg.Pool) -> None:
    order_id = unique("ORD")
    first = Facts(order_id, "Asha", "+919812345678", "hi", channel_order_id="#1001", rehearsal=True)
    later = Facts(order_id, "Asha R", "+919800000000", "en", channel_order_id="#1001")

    assert await queue(pool, order_id, unique("MSG"), first)
    async with pool.acquire() as conn:
        assert await store.contact(conn, order_id) == first
    message_id = unique("MSG")
    assert await queue(pool, order_id, message_id, later)
    assert not await queue(pool, order_id, message_id, later), "a redelivered event plans nothing new"

    async with pool.acquire() as conn:
        saved = await store.contact(conn, order_id)
    assert saved == Facts(order_id, "Asha R", "+919800000000", "en", channel_order_id="#1001", rehearsal=True)


async def test_a_message_without_a_contact_writes_none(pool: asyncpg.Pool) -> None:
    order_id = unique("ORD")
    assert await queue(pool, order_id, unique("MSG"), None)

    async with pool.acquire() as conn:
        assert await store.contact(conn, order_id) is None


async def test_a_message_due_now_nudges_the_dispatcher_and_a_replayed_one_does_not(
    pool: asyncpg.Pool,
) -> None:
    """The handler marks its transaction when it queued a message to send at once; once that commits,
    the service nudges the dispatcher instead of leaving the message to its next round (ADR 544)."""
    settings = NotificationsSettings(database_url="postgresql://unused", quiet_hours="")
    message = PlannedMessage(
        message_id=unique("MSG"), order_id=unique("ORD"), channel=NotificationChannel.WHATSAPP,
        template="order_confirmed", language="en", recipient="+919812345678", parameters=("Asha",),
    )  # fmt: skip

    async def queued_in_a_transaction() -> dict[str, object]:
        async with pool.acquire() as conn, conn.transaction():
            tx = Transaction(conn=conn, service="notifications")
            incoming = Incoming(record=None, event_id=unique("ev"), envelope=None, traceparent=None)  # type: ignore[arg-type]
            ctx = HandlerContext(tx=tx, incoming=incoming, log=get_logger("test"), deps=settings)
            await handlers.queue(ctx, message)
        return tx.shared

    assert (await queued_in_a_transaction()).get(handlers.DUE_NOW) is True
    assert handlers.DUE_NOW not in await queued_in_a_transaction(), "planned before: nothing new to send"
