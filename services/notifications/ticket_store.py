"""SQL for customers' conversations and tickets (ADR 0350); plain asyncpg, one function each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.notifications.domain.tickets import TicketFacts
from services.notifications.records import Ticket, TicketLine
from services.notifications.store import Conn


@dataclass(frozen=True, slots=True)
class Order:
    """The order a phone's ticket is filed on."""

    order_id: str
    name: str


async def customer_wrote(conn: Conn, *, phone: str, at: datetime) -> None:
    """Note the customer's latest message (any kind): their 24-hour window counts from it."""
    await conn.execute(
        """INSERT INTO conversations (phone, last_inbound_at) VALUES ($1, $2)
           ON CONFLICT (phone) DO UPDATE SET last_inbound_at = greatest(conversations.last_inbound_at, $2)""",
        phone,
        at,
    )


async def last_inbound_at(conn: Conn, phone: str) -> datetime | None:
    """When the customer last wrote, if ever."""
    value: datetime | None = await conn.fetchval(
        "SELECT last_inbound_at FROM conversations WHERE phone = $1", phone
    )
    return value


async def known_message(conn: Conn, provider_message_id: str) -> bool:
    """Whether this provider message is already in a ticket (Meta delivered the webhook again)."""
    return bool(
        await conn.fetchval(
            "SELECT true FROM ticket_messages WHERE provider_message_id = $1", provider_message_id
        )
    )


async def latest_order(conn: Conn, phone: str) -> Order | None:
    """The most recent order (first heard of last) whose customer has this phone; an operator's
    rehearsal order (ADR 0360) is not a customer's."""
    row = await conn.fetchrow(
        """SELECT order_id, name FROM contacts WHERE phone = $1 AND NOT rehearsal
           ORDER BY first_seen_at DESC, order_id DESC LIMIT 1""",
        phone,
    )
    return None if row is None else Order(order_id=row["order_id"], name=row["name"])


async def open_ticket(
    conn: Conn, *, ticket_id: str, phone: str, order_id: str | None, at: datetime
) -> Ticket:
    """The phone's open ticket: the one there is, or a new one under ticket_id on order_id."""
    await conn.execute(
        """INSERT INTO tickets (ticket_id, phone, order_id, opened_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (phone) WHERE open DO NOTHING""",
        ticket_id,
        phone,
        order_id,
        at,
    )
    row = await conn.fetchrow(
        """SELECT t.*, c.name AS customer_name FROM tickets t
           LEFT JOIN contacts c ON c.order_id = t.order_id
           WHERE t.phone = $1 AND t.open""",
        phone,
    )
    assert row is not None
    return Ticket.of(row)


async def add_message(
    conn: Conn,
    *,
    ticket_id: str,
    direction: str,
    text: str,
    at: datetime,
    provider_message_id: str | None,
    author: str | None = None,
) -> bool:
    """Add one message to a ticket; False when its provider id is already there (a redelivery)."""
    added = await conn.fetchval(
        """INSERT INTO ticket_messages (ticket_id, direction, text, author, provider_message_id, at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
           RETURNING true""",
        ticket_id,
        direction,
        text,
        author,
        provider_message_id,
        at,
    )
    return bool(added)


async def ticket(conn: Conn, ticket_id: str) -> Ticket | None:
    """One ticket with its customer's name (from its order's contact, if any)."""
    row = await conn.fetchrow(
        """SELECT t.*, c.name AS customer_name FROM tickets t
           LEFT JOIN contacts c ON c.order_id = t.order_id
           WHERE t.ticket_id = $1""",
        ticket_id,
    )
    return None if row is None else Ticket.of(row)


async def facts(conn: Conn, ticket_id: str) -> tuple[TicketFacts, Ticket] | None:
    """What deciding on a reply needs, and the ticket; None for an unknown ticket."""
    found = await ticket(conn, ticket_id)
    if found is None:
        return None
    last = await last_inbound_at(conn, found.phone)
    return TicketFacts(ticket_id=ticket_id, open=found.open, last_inbound_at=last), found


async def close(conn: Conn, *, ticket_id: str, by: str, at: datetime) -> bool:
    """Close an open ticket; False when it is closed already (or unknown)."""
    closed = await conn.fetchval(
        """UPDATE tickets SET open = false, closed_at = $2, closed_by = $3
           WHERE ticket_id = $1 AND open RETURNING true""",
        ticket_id,
        at,
        by,
    )
    return bool(closed)


async def reply_delivery(conn: Conn, *, provider_message_id: str, delivery: str, error: str | None) -> bool:
    """Move an operator's reply's delivery forward (a failure is final); False when the wamid is not
    one of our replies."""
    found = await conn.fetchval(
        """UPDATE ticket_messages SET delivery = $2, error = coalesce($3, error)
           WHERE provider_message_id = $1 AND direction = 'out'
             AND delivery <> 'failed'
             AND array_position(ARRAY['sent', 'delivered', 'read'], delivery)
                 <= coalesce(array_position(ARRAY['sent', 'delivered', 'read'], $2), 99)
           RETURNING true""",
        provider_message_id,
        delivery,
        error,
    )
    if found:
        return True
    return bool(
        await conn.fetchval(
            "SELECT true FROM ticket_messages WHERE provider_message_id = $1 AND direction = 'out'",
            provider_message_id,
        )
    )


async def messages(conn: Conn, ticket_id: str) -> list[TicketLine]:
    """A ticket's conversation, oldest first."""
    rows = await conn.fetch("SELECT * FROM ticket_messages WHERE ticket_id = $1 ORDER BY at, id", ticket_id)
    return [TicketLine.of(row) for row in rows]
