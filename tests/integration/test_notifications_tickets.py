"""Customers' free text as tickets on real PostgreSQL, answered through the sandbox's WhatsApp
(ADR 0350): Meta delivering a message twice files it once; a phone with orders gets a ticket on its
most recent one, a phone without any an unmatched ticket; a reply outside the 24-hour window is
refused and nothing reaches WhatsApp, a reply inside it does."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from chassis import db
from chassis.outbox import emit
from chassis.refusal import Refusal
from contracts import Event
from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from services.notifications import inbound, store, tickets
from services.notifications.domain.policy import Facts
from services.notifications.domain.replies import TextReply
from services.notifications.providers.whatsapp import WhatsAppProvider
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parents[2] / "services" / "notifications" / "migrations"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@dataclass
class Notifications:
    """What inbound.apply and tickets need of the service: its pool, its name, its outbox."""

    pool: asyncpg.Pool
    name: str = "notifications"

    async def emit(self, conn: db.Conn, event: Event) -> str:
        return await emit(conn, event, source=self.name)


@pytest.fixture(scope="module")
async def service(servers: infra.Servers) -> AsyncIterator[Notifications]:
    pool = await db.open_database(
        server_url=servers.database_url, service="notifications_tickets_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=2,
    )  # fmt: skip
    yield Notifications(pool)
    await pool.close()


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(SandboxSettings(http_port=8010, courier_token=None)))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


def new_phone() -> str:
    return "+9197" + "".join(random.choices("0123456789", k=8))


async def customer_has_orders(service: Notifications, phone: str, *order_ids: str) -> None:
    """Orders notifications heard of for this phone, oldest first."""
    async with service.pool.acquire() as conn:
        for hours_ago, order_id in zip(range(len(order_ids), 0, -1), order_ids, strict=True):
            await store.save_contact(conn, Facts(order_id=order_id, customer_name="Asha Verma", phone=phone))
            await conn.execute(
                "UPDATE contacts SET first_seen_at = $2 WHERE order_id = $1",
                order_id,
                NOW - timedelta(hours=hours_ago),
            )


def writes(phone: str, text: str, *, at: datetime) -> TextReply:
    return TextReply(provider_message_id=unique("wamid"), phone=phone, text=text, sent_at=at)


async def ticket_of(service: Notifications, phone: str) -> tuple[str, str | None, list[str], int]:
    """(ticket id, order id, the customer's messages, ticket events) of the phone's open ticket."""
    async with service.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT ticket_id, order_id FROM tickets WHERE phone = $1 AND open", phone)
        assert row is not None
        texts = await conn.fetch(
            "SELECT text FROM ticket_messages WHERE ticket_id = $1 AND direction = 'in' ORDER BY id",
            row["ticket_id"],
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'notifications.ticket_updated.v1' AND key = $1",
            row["order_id"] or row["ticket_id"],
        )
    return row["ticket_id"], row["order_id"], [t["text"] for t in texts], events


async def test_a_message_meta_delivers_twice_is_one_ticket_message_on_the_customers_latest_order(
    service: Notifications,
) -> None:
    phone, older, latest = new_phone(), unique("ORD"), unique("ORD")
    await customer_has_orders(service, phone, older, latest)
    message = writes(phone, "Can you deliver after 6 pm?", at=NOW - timedelta(minutes=5))

    first = await inbound.apply(service, [message], now=NOW)  # type: ignore[arg-type]
    again = await inbound.apply(service, [message], now=NOW)  # type: ignore[arg-type]
    then = await inbound.apply(service, [writes(phone, "Nobody is home before", at=NOW)], now=NOW)  # type: ignore[arg-type]

    assert (first["tickets"], again["tickets"], then["tickets"]) == (1, 0, 1)
    _, order_id, texts, events = await ticket_of(service, phone)
    assert order_id == latest
    assert texts == ["Can you deliver after 6 pm?", "Nobody is home before"]
    assert events == 2


async def test_a_phone_with_no_order_still_gets_a_ticket_unmatched(service: Notifications) -> None:
    phone = new_phone()

    await inbound.apply(service, [writes(phone, "Do you ship to Shillong?", at=NOW)], now=NOW)  # type: ignore[arg-type]

    ticket_id, order_id, texts, events = await ticket_of(service, phone)
    assert order_id is None and texts == ["Do you ship to Shillong?"] and events == 1
    assert ticket_id.startswith("TKT-")


async def sent_to(sandbox: httpx.AsyncClient, phone: str) -> list[dict[str, object]]:
    return [m for m in (await sandbox.get("/_sandbox/whatsapp/messages")).json() if m["to"] == phone]


async def test_a_reply_outside_the_24_hour_window_is_refused_and_nothing_is_sent(
    service: Notifications, sandbox: httpx.AsyncClient
) -> None:
    phone = new_phone()
    await customer_has_orders(service, phone, unique("ORD"))
    await inbound.apply(service, [writes(phone, "Where is it?", at=NOW - timedelta(hours=25))], now=NOW)  # type: ignore[arg-type]
    ticket_id, *_ = await ticket_of(service, phone)
    whatsapp = WhatsAppProvider(sandbox, phone_number_id="1234567890", token="sandbox-token")

    with pytest.raises(Refusal) as refused:
        await tickets.reply(service, whatsapp, ticket_id=ticket_id, text="Sorry!", actor="ops:asha", now=NOW)  # type: ignore[arg-type]

    assert refused.value.status == 409
    assert "24-hour customer-service window is closed" in refused.value.problems[0][1]
    assert await sent_to(sandbox, phone) == []
    async with service.pool.acquire() as conn:
        replies = await conn.fetchval(
            "SELECT count(*) FROM ticket_messages WHERE ticket_id = $1 AND direction = 'out'", ticket_id
        )
    assert replies == 0


async def test_a_reply_inside_the_window_reaches_whatsapp_as_text_and_closing_ends_the_ticket(
    service: Notifications, sandbox: httpx.AsyncClient
) -> None:
    phone = new_phone()
    await customer_has_orders(service, phone, unique("ORD"))
    await inbound.apply(service, [writes(phone, "Where is it?", at=NOW - timedelta(hours=23))], now=NOW)  # type: ignore[arg-type]
    ticket_id, _, _, events = await ticket_of(service, phone)
    whatsapp = WhatsAppProvider(sandbox, phone_number_id="1234567890", token="sandbox-token")

    await tickets.reply(service, whatsapp, ticket_id=ticket_id, text="Out today", actor="ops:asha", now=NOW)  # type: ignore[arg-type]
    await tickets.close(service, ticket_id=ticket_id, actor="ops:asha", now=NOW)  # type: ignore[arg-type]

    (sent,) = await sent_to(sandbox, phone)
    assert sent["type"] == "text" and sent["body"]["text"]["body"] == "Out today"  # type: ignore[index]
    async with service.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT open, closed_by FROM tickets WHERE ticket_id = $1", ticket_id)
        changes = await conn.fetch(
            "SELECT convert_from(payload, 'UTF8')::jsonb->>'change' AS change FROM outbox"
            " WHERE topic = 'notifications.ticket_updated.v1'"
            " AND convert_from(payload, 'UTF8')::jsonb->>'ticket_id' = $1 ORDER BY id",
            ticket_id,
        )
    assert row is not None and (row["open"], row["closed_by"]) == (False, "ops:asha")
    assert [c["change"] for c in changes] == ["customer_wrote", "operator_replied", "closed"]
    assert events == 1
    with pytest.raises(Refusal) as again:
        await tickets.close(service, ticket_id=ticket_id, actor="ops:asha", now=NOW)  # type: ignore[arg-type]
    assert again.value.status == 409
