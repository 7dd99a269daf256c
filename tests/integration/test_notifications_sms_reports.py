"""MSG91 delivery reports applied on real PostgreSQL: a replay changes nothing, the first final report
stands (a late 'failed' never downgrades a delivered SMS, a late 'delivered' never revives a failed
one), a failure is audited once, and a report that overtakes the record of its send waits for it
(ADR 0310)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parents[2] / "services" / "notifications" / "migrations"


@dataclass
class Notifications:
    """What inbound.apply needs of the service: its pool, its name, its outbox."""

    pool: asyncpg.Pool
    name: str = "notifications"

    async def emit(self, conn: db.Conn, event: Event) -> str:
        return await emit(conn, event, source=self.name)


@pytest.fixture(scope="module")
async def service(servers: infra.Servers) -> AsyncIterator[Notifications]:
    pool = await db.open_database(
        server_url=servers.database_url, service="notifications_reports_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=2,
    )  # fmt: skip
    yield Notifications(pool)
    await pool.close()


async def queued_sms(service: Notifications) -> tuple[str, str]:
    """An SMS about a new order, queued; returns (message id, order id)."""
    order_id, message_id = unique("ORD"), unique("MSG")
    message = PlannedMessage(
        message_id=message_id, order_id=order_id, channel=NotificationChannel.SMS, template="order_confirmed",
        language="en", recipient="+919812345678", parameters=("Asha",), provider_template="msg91-tpl",
        dlt_template_id="1107160000000000001",
    )  # fmt: skip
    async with service.pool.acquire() as conn:
        assert await store.queue(
            conn, message=message, cause_event_id=unique("ev"), send_at=datetime(2040, 1, 1, tzinfo=UTC)
        )
    return message_id, order_id


async def send(service: Notifications, message_id: str) -> str:
    """Record the send as the dispatcher does once MSG91 answered with its request id."""
    request_id = unique("req")
    async with service.pool.acquire() as conn, conn.transaction():
        row = await claimed(conn, message_id)
        assert await record_sent(service, conn, [(row, request_id)]) == {message_id}  # type: ignore[arg-type]
    return request_id


async def claimed(conn: db.Conn, message_id: str) -> Message:
    """The queued message as the dispatcher holds it when MSG91 answered."""
    row = await conn.fetchrow("SELECT * FROM messages WHERE message_id = $1 FOR UPDATE", message_id)
    assert row is not None
    return Message.of(row)


def report(request_id: str, status: Delivery, code: int) -> StatusUpdate:
    error = None if status is Delivery.DELIVERED else "Blocked number"
    return StatusUpdate(request_id, status, error=error, error_code=code, recipient="+919812345678")


async def state(service: Notifications, message_id: str) -> tuple[str, str, list[str], int]:
    """(status, delivery, history, notifications.failed.v1 events about it)."""
    async with service.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT status, delivery FROM messages WHERE message_id = $1", message_id)
        history = await conn.fetch(
            "SELECT status FROM message_events WHERE message_id = $1 ORDER BY id", message_id
        )
        failed = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'notifications.failed.v1' AND key = $1",
            await conn.fetchval("SELECT order_id FROM messages WHERE message_id = $1", message_id),
        )
    assert row is not None
    return row["status"], row["delivery"], [h["status"] for h in history], failed


async def test_a_delivered_report_replayed_moves_once_and_a_late_failure_does_not_downgrade_it(
    service: Notifications,
) -> None:
    message_id, _ = await queued_sms(service)
    request_id = await send(service, message_id)

    first = await inbound.apply(service, [report(request_id, Delivery.DELIVERED, 1)])  # type: ignore[arg-type]
    replay = await inbound.apply(service, [report(request_id, Delivery.DELIVERED, 1)])  # type: ignore[arg-type]
    late = await inbound.apply(service, [report(request_id, Delivery.FAILED, 17)])  # type: ignore[arg-type]

    assert (first["statuses"], replay["statuses"], late["statuses"]) == (1, 0, 0)
    assert await state(service, message_id) == ("sent", "delivered", ["queued", "sent", "delivered"], 0)


async def test_a_failed_report_is_audited_once_and_a_late_delivered_does_not_revive_it(
    service: Notifications,
) -> None:
    message_id, _ = await queued_sms(service)
    request_id = await send(service, message_id)

    await inbound.apply(service, [report(request_id, Delivery.FAILED, 17)])  # type: ignore[arg-type]
    await inbound.apply(service, [report(request_id, Delivery.FAILED, 17)])  # type: ignore[arg-type]
    await inbound.apply(service, [report(request_id, Delivery.DELIVERED, 1)])  # type: ignore[arg-type]

    status, delivery, history, failed = await state(service, message_id)
    assert (status, delivery, history, failed) == ("failed", "failed", ["queued", "sent", "failed"], 1)
    async with service.pool.acquire() as conn:
        error = await conn.fetchval("SELECT error FROM messages WHERE message_id = $1", message_id)
    assert error == "msg91 reported failed (code 17): Blocked number"


async def test_a_report_that_overtakes_the_record_of_its_send_is_applied_when_the_send_is_recorded(
    service: Notifications,
) -> None:
    message_id, _ = await queued_sms(service)
    request_id = unique("req")
    early = await inbound.apply(service, [report(request_id, Delivery.DELIVERED, 1)])  # type: ignore[arg-type]
    assert early["statuses"] == 0

    async with service.pool.acquire() as conn, conn.transaction():
        row = await claimed(conn, message_id)
        await record_sent(service, conn, [(row, request_id)])  # type: ignore[arg-type]

    assert await state(service, message_id) == ("sent", "delivered", ["queued", "sent", "delivered"], 0)
