"""A dispatcher round's look at what is due, on real PostgreSQL, in one statement: queued messages to a
customer who said STOP since they were planned are suppressed and not counted, a transactional one
still goes; per channel, only messages due now and not leased count, at most the batch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from contracts import NotificationChannel
from services.notifications import store
from services.notifications.domain.policy import PlannedMessage
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parents[2] / "services" / "notifications" / "migrations"


@pytest.fixture
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.open_database(
        server_url=servers.database_url, service="notifications_due_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=2,
    )  # fmt: skip
    # This module's own database, emptied: the counts are of every message in it.
    await pool.execute("TRUNCATE messages, message_events, opt_outs")
    yield pool
    await pool.close()


async def queue(
    pool: asyncpg.Pool, channel: NotificationChannel, phone: str, *, at: datetime, transactional: bool = False
) -> str:
    message_id = unique("MSG")
    message = PlannedMessage(
        message_id=message_id, order_id=unique("ORD"), channel=channel, template="order_confirmed",
        language="en", recipient=phone, parameters=("Asha",), transactional=transactional,
    )  # fmt: skip
    async with pool.acquire() as conn:
        assert await store.queue(conn, message=message, cause_event_id=unique("ev"), send_at=at)
    return message_id


async def status(pool: asyncpg.Pool, message_id: str) -> tuple[str, str | None]:
    row = await pool.fetchrow("SELECT status, error FROM messages WHERE message_id = $1", message_id)
    assert row is not None
    return row["status"], row["error"]


async def test_opted_out_customers_messages_are_suppressed_and_only_free_due_ones_count(
    pool: asyncpg.Pool,
) -> None:
    now, whatsapp, sms = datetime.now(UTC), NotificationChannel.WHATSAPP, NotificationChannel.SMS
    due = [await queue(pool, whatsapp, "+919800000001", at=now - timedelta(seconds=1)) for _ in range(3)]
    await queue(pool, whatsapp, "+919800000001", at=now + timedelta(hours=1))  # not due yet
    leased = await queue(pool, whatsapp, "+919800000001", at=now - timedelta(seconds=1))
    await pool.execute(
        "UPDATE messages SET lease_until = now() + interval '1 hour' WHERE message_id = $1", leased
    )
    stopped = await queue(pool, sms, "+919800000002", at=now - timedelta(seconds=1))
    must_go = await queue(pool, sms, "+919800000002", at=now - timedelta(seconds=1), transactional=True)
    await pool.execute("INSERT INTO opt_outs (phone, source) VALUES ('+919800000002', 'test')")

    async with pool.acquire() as conn:
        counts = await store.due_counts(conn, channels=["whatsapp", "sms", "slack"], limit=200)
        capped = await store.due_counts(conn, channels=["whatsapp"], limit=2)

    assert counts == {"whatsapp": len(due), "sms": 1, "slack": 0}
    assert capped == {"whatsapp": 2}
    assert await status(pool, stopped) == ("suppressed", "customer opted out")
    assert await status(pool, must_go) == ("queued", None)
