"""HTTP routes of the notifications service: the audit of what was sent about an order, and
operators' replies to customers' tickets and their closing (ADR 0350). Providers' callbacks are in
webhooks.py."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from chassis.auth import STAFF, Principal, Role, require
from chassis.http import errors
from chassis.logging import mask_phone
from chassis.pages import Cursor, Limit, Page, next_cursor, position
from chassis.refusal import Refusal
from services.notifications import store, ticket_store, tickets
from services.notifications.domain.policy import OPS_RECIPIENT
from services.notifications.domain.tickets import window_closes_at

router = APIRouter(tags=["messages"])


class Event(BaseModel):
    """One step of a message's life: queued, sent, delivered, read, failed."""

    status: str
    detail: str | None = None
    at: datetime


class Message(BaseModel):
    """One message about an order, its recipient masked."""

    message_id: str
    order_id: str | None
    subject: str | None
    template: str
    language: str
    channel: str
    recipient: str
    parameters: list[str]
    body: str
    buttons: list[str]
    cause_event_id: str
    status: str = Field(description="One word: queued, sent, delivered, read, failed or suppressed.")
    send_status: str
    delivery: str
    attempts: int
    urgent: bool
    transactional: bool
    fallback_of: str | None
    provider_message_id: str | None
    error: str | None
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    history: list[Event]


@router.get(
    "/messages",
    summary="The messages about one order, oldest first, with their history (recipients masked)",
    dependencies=[require(*STAFF)],
    response_model=Page[Message],
)
async def list_messages(
    request: Request,
    order_id: Annotated[str, Query(min_length=1, max_length=64)],
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    items = []
    found = await store.list_for_order(
        request.app.state.service.pool, order_id, after=position(cursor), limit=limit
    )
    for item in found:
        if item["recipient"] != OPS_RECIPIENT:
            item["recipient"] = mask_phone(item["recipient"])
        # One word for the reader: queued, sent, delivered, read, failed (or suppressed).
        item["send_status"] = item.pop("status")
        item["status"] = item["send_status"] if item["send_status"] != "sent" else item["delivery"]
        items.append(item)
    return {
        "items": items,
        "next_cursor": next_cursor(found, limit, lambda m: (m["created_at"], m["message_id"])),
    }


class TicketMessage(BaseModel):
    """One message of a ticket's conversation."""

    direction: str = Field(description="in: the customer wrote; out: an operator replied.")
    text: str
    author: str | None
    delivery: str
    error: str | None
    at: datetime


class Ticket(BaseModel):
    """A customer's conversation with the operators, phone masked."""

    ticket_id: str
    order_id: str | None
    customer_name: str | None
    customer_phone: str
    open: bool
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    window_closes_at: datetime | None = Field(
        description="When WhatsApp's 24-hour window for free-form replies closes (or closed)."
    )
    messages: list[TicketMessage]


class ReplyBody(BaseModel):
    """An operator's free-form answer: sent as a WhatsApp text inside the 24-hour window."""

    text: str = Field(min_length=1, max_length=4096)


class Replied(BaseModel):
    ticket_id: str
    provider_message_id: str
    sent_at: datetime


class Closed(BaseModel):
    ticket_id: str
    closed_at: datetime


TicketId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get(
    "/tickets/{ticket_id}",
    summary="A customer's ticket with its conversation (phone masked)",
    dependencies=[require(*STAFF)],
    response_model=Ticket,
    responses=errors(404),
)
async def get_ticket(request: Request, ticket_id: TicketId) -> dict[str, Any]:
    async with request.app.state.service.pool.acquire() as conn:
        found = await ticket_store.facts(conn, ticket_id)
        if found is None:
            raise Refusal("ticket_id", f"no ticket {ticket_id}", status=404)
        facts, ticket = found
        conversation = await ticket_store.messages(conn, ticket_id)
    return {
        **dataclasses.asdict(ticket),
        "customer_phone": mask_phone(ticket.phone),
        "window_closes_at": window_closes_at(facts.last_inbound_at) if facts.last_inbound_at else None,
        "messages": [dataclasses.asdict(m) for m in conversation],
    }


@router.post(
    "/tickets/{ticket_id}/replies",
    summary="Answer a ticket as a WhatsApp session message; refused outside the 24-hour window",
    response_model=Replied,
    responses=errors(404, 409, 502, 503),
)
async def reply_to_ticket(
    request: Request, ticket_id: TicketId, body: ReplyBody, principal: Principal = require(Role.OPS)
) -> dict[str, Any]:
    state = request.app.state
    return await tickets.reply(
        state.service,
        state.whatsapp,
        ticket_id=ticket_id,
        text=body.text,
        actor=principal.actor,
        now=state.clock(),
    )


@router.post(
    "/tickets/{ticket_id}/close",
    summary="Close a ticket",
    response_model=Closed,
    responses=errors(404, 409),
)
async def close_ticket(
    request: Request, ticket_id: TicketId, principal: Principal = require(Role.OPS)
) -> dict[str, Any]:
    state = request.app.state
    return await tickets.close(state.service, ticket_id=ticket_id, actor=principal.actor, now=state.clock())
