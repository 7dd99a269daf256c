"""Customers' free-text WhatsApp messages as tickets, answered and closed by operators (ADR 0350).

A customer's text that is not a button reply or STOP/START joins the open ticket of their phone or
opens one on their most recent order (none: unmatched). An operator's reply is a WhatsApp session
message, sent only inside the 24-hour window: decided first (domain.tickets), the provider called
outside any transaction, the reply recorded after; every change goes out as
``notifications.ticket_updated.v1`` with the state change, through the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import asyncpg

from chassis import db
from chassis.ids import time_ordered_id
from chassis.logging import get_logger, mask_phone
from chassis.refusal import Refusal
from contracts import Event, TicketChange, TicketUpdated
from services.notifications import ticket_store
from services.notifications.domain.replies import TextReply
from services.notifications.domain.tickets import reply_refusal, window_closes_at
from services.notifications.providers.interface import (
    MessageRejected,
    ProviderUnavailable,
    SessionMessage,
    SessionSender,
)
from services.notifications.records import Ticket

log = get_logger(__name__)


class Emitter(Protocol):
    """What tickets need of the service: its pool and its outbox."""

    @property
    def pool(self) -> asyncpg.Pool: ...

    async def emit(self, conn: db.Conn, event: Event) -> str: ...


def _event(
    ticket: Ticket,
    change: TicketChange,
    *,
    at: datetime,
    last_inbound_at: datetime | None,
    **fields: Any,
) -> TicketUpdated:
    """The event of one change to a ticket."""
    return TicketUpdated(
        ticket_id=ticket.ticket_id,
        order_id=ticket.order_id,
        change=change,
        open=change is not TicketChange.CLOSED,
        customer_name=ticket.customer_name,
        customer_phone=mask_phone(ticket.phone),
        window_closes_at=window_closes_at(last_inbound_at) if last_inbound_at else None,
        occurred_at=at,
        **fields,
    )


async def received(service: Emitter, conn: db.Conn, notice: TextReply, *, now: datetime) -> bool:
    """File a customer's free text in their ticket, inside the webhook's transaction; False when
    Meta delivered it before (one message per wamid)."""
    if await ticket_store.known_message(conn, notice.provider_message_id):
        return False
    at = min(notice.sent_at or now, now)
    order = await ticket_store.latest_order(conn, notice.phone)
    row = await ticket_store.open_ticket(
        conn,
        ticket_id=time_ordered_id("TKT"),
        phone=notice.phone,
        order_id=order.order_id if order else None,
        at=at,
    )
    if not await ticket_store.add_message(
        conn,
        ticket_id=row.ticket_id,
        direction="in",
        text=notice.text,
        at=at,
        provider_message_id=notice.provider_message_id,
    ):
        return False
    last = await ticket_store.last_inbound_at(conn, notice.phone)
    await service.emit(
        conn,
        _event(
            row,
            TicketChange.CUSTOMER_WROTE,
            at=at,
            last_inbound_at=last,
            text=notice.text,
            provider_message_id=notice.provider_message_id,
        ),
    )
    log.info("customer wrote", ticket_id=row.ticket_id, order_id=row.order_id)
    return True


async def reply(
    service: Emitter, sender: SessionSender, *, ticket_id: str, text: str, actor: str, now: datetime
) -> dict[str, Any]:
    """Answer a ticket as a WhatsApp session message, or raise Refusal (closed ticket, window shut,
    provider refusal); nothing is sent when the reply is refused."""
    async with service.pool.acquire() as conn:
        found = await ticket_store.facts(conn, ticket_id)
    if found is None:
        raise Refusal("ticket_id", f"no ticket {ticket_id}", status=404)
    facts, ticket = found
    if (refused := reply_refusal(facts, text, now)) is not None:
        raise refused
    key = time_ordered_id("TKM")
    try:
        receipt = await sender.send_text(
            SessionMessage(idempotency_key=key, recipient=ticket.phone, text=text)
        )
    except MessageRejected as exc:
        raise Refusal("text", f"WhatsApp refused the reply: {exc}", status=502, error="bad gateway") from exc
    except ProviderUnavailable as exc:
        raise Refusal("text", f"WhatsApp did not take the reply, try again: {exc}", status=503) from exc
    async with service.pool.acquire() as conn, conn.transaction():
        await ticket_store.add_message(
            conn,
            ticket_id=ticket_id,
            direction="out",
            text=text,
            at=now,
            provider_message_id=receipt.provider_message_id,
            author=actor,
        )
        await service.emit(
            conn,
            _event(
                ticket,
                TicketChange.OPERATOR_REPLIED,
                at=now,
                last_inbound_at=facts.last_inbound_at,
                text=text,
                actor=actor,
                provider_message_id=receipt.provider_message_id,
            ),
        )
    log.info("operator replied", ticket_id=ticket_id, actor=actor)
    return {"ticket_id": ticket_id, "provider_message_id": receipt.provider_message_id, "sent_at": now}


async def close(service: Emitter, *, ticket_id: str, actor: str, now: datetime) -> dict[str, Any]:
    """Close a ticket, or raise Refusal (unknown, or closed already)."""
    async with service.pool.acquire() as conn, conn.transaction():
        ticket = await ticket_store.ticket(conn, ticket_id)
        if ticket is None:
            raise Refusal("ticket_id", f"no ticket {ticket_id}", status=404)
        if not await ticket_store.close(conn, ticket_id=ticket_id, by=actor, at=now):
            raise Refusal("ticket_id", f"ticket {ticket_id} is closed already", status=409)
        last = await ticket_store.last_inbound_at(conn, ticket.phone)
        await service.emit(
            conn, _event(ticket, TicketChange.CLOSED, at=now, last_inbound_at=last, actor=actor)
        )
    log.info("ticket closed", ticket_id=ticket_id, actor=actor)
    return {"ticket_id": ticket_id, "closed_at": now}
