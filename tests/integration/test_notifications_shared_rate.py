"""Two replicas of notifications send through one provider account: together they stay within its
rate (a bucket per channel in PostgreSQL, ADR 470), where each used to allow the whole rate alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from chassis.outbox import emit
from contracts import Event, NotificationChannel
from services.notifications import store
from services.notifications.dispatcher import Dispatcher
from services.notifications.domain.policy import PlannedMessage
from services.notifications.providers.interface import ProviderReceipt, TemplateMessage
from services.notifications.settings import NotificationsSettings
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parents[2] / "services" / "notifications" / "migrations"


@dataclass
class Notifications:
    """What the dispatcher needs of the service: its pool, its name, its outbox."""

    pool: asyncpg.Pool
    name: str = "notifications"

    async def emit(self, conn: db.Conn, event: Event) -> str:
        return await emit(conn, event, source=self.name)


@dataclass
class Msg91:
    """An SMS provider that accepts everything and counts what it was sent."""

    channel: str = "sms"
    echoes_message_id: bool = False
    sent: list[str] = field(default_factory=list)

    async def send_template(self, message: TemplateMessage) -> ProviderReceipt:
        self.sent.append(message.idempotency_key)
        return ProviderReceipt(unique("req"))


@pytest.fixture(scope="module")
async def replicas(servers: infra.Servers) -> AsyncIterator[list[Notifications]]:
    """Two pools on one notifications database, nothing queued and no bucket left from a past run."""
    pools = [
        await db.open_database(
            server_url=servers.database_url,
            service="notifications_rate_test",
            migrations_dir=MIGRATIONS,
            min_size=1,
            max_size=2,
        )
        for _ in range(2)
    ]
    async with pools[0].acquire() as conn:
        await conn.execute("UPDATE messages SET status = 'sent' WHERE status = 'queued'")
        await conn.execute("DELETE FROM rate_buckets")
    yield [Notifications(pool) for pool in pools]
    for pool in pools:
        await pool.close()


async def queue_sms(service: Notifications, count: int) -> None:
    """``count`` SMSes due since long ago."""
    async with service.pool.acquire() as conn:
        for _ in range(count):
            message = PlannedMessage(
                message_id=unique("MSG"), order_id=unique("ORD"), channel=NotificationChannel.SMS,
                template="order_confirmed", language="en", recipient="+919812345678", parameters=("Asha",),
                provider_template="msg91-tpl", dlt_template_id="1107160000000000001",
            )  # fmt: skip
            await store.queue(
                conn, message=message, cause_event_id=unique("ev"), send_at=datetime(2020, 1, 1, tzinfo=UTC)
            )


async def test_two_replicas_together_send_one_burst_of_the_providers_rate(
    replicas: list[Notifications],
) -> None:
    # One message at once, then one every 100 s: nothing refills while the test runs.
    settings = NotificationsSettings(rate_sms_per_s=0.01, dispatch_batch=50)
    await queue_sms(replicas[0], 20)
    msg91 = Msg91()
    dispatchers = [
        Dispatcher(service, settings, {"sms": msg91})  # type: ignore[arg-type]
        for service in replicas
    ]

    tried = await asyncio.gather(*(d.run_once() for d in dispatchers))

    assert len(msg91.sent) == len(set(msg91.sent)) == sum(tried)
    assert sum(tried) == 1, f"one burst of the account between both replicas, not one each: {tried}"
