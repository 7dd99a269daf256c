"""HTTP routes of the notifications service: the audit of what was sent about an order, the
WhatsApp webhook (Meta's verification handshake, then signed status and reply notifications), and
operators' replies to customers' tickets and their closing (ADR 0350)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from chassis.auth import STAFF, Principal, Role, by_signature, require
from chassis.http import errors
from chassis.logging import mask_phone
from chassis.pages import Cursor, Limit, Page, next_cursor, position
from chassis.refusal import Refusal
from chassis.signatures import same_secret
from services.notifications import inbound, store, ticket_store, tickets
from services.notifications.domain.policy import OPS_RECIPIENT
from services.notifications.domain.replies import notices, signature_ok
from services.notifications.domain.reports import delivery_reports
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


class Applied(BaseModel):
    """How many of each kind of notice changed something."""

    applied: dict[str, int] = Field(examples=[{"statuses": 1, "replies": 0, "opt_outs": 0}])


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


async def _verify_token_matches(request: Request) -> None:
    """Meta's subscription handshake: hub.verify_token must be ours (constant-time compare)."""
    query = request.query_params
    ours = request.app.state.service.settings.whatsapp_verify_token
    if query.get("hub.mode") != "subscribe" or not same_secret(ours, query.get("hub.verify_token")):
        raise Refusal("hub.verify_token", "does not match this service's verify token", status=403)


async def _meta_signed(request: Request) -> bytes:
    """The raw body, when X-Hub-Signature-256 is Meta's signature of it under the app secret."""
    raw = await request.body()
    secret = request.app.state.service.settings.whatsapp_app_secret
    if not signature_ok(raw, request.headers.get("X-Hub-Signature-256"), secret):
        raise Refusal(
            "X-Hub-Signature-256",
            "missing, or not the HMAC-SHA256 of this body with the app secret",
            status=401,
            error="unauthorized",
        )
    return raw


async def _msg91_token(request: Request) -> bytes:
    """The raw body, when the URL carries this deployment's MSG91 webhook token. MSG91 signs no
    delivery report, and its panel takes only a URL, so the token rides in the query (ADR 0310)."""
    ours = request.app.state.service.settings.msg91_webhook_token
    if not same_secret(ours, request.query_params.get("token")):
        raise Refusal(
            "token",
            "missing, or not this deployment's MSG91 webhook token",
            status=401,
            error="unauthorized",
        )
    return await request.body()


@router.post(
    "/webhooks/msg91",
    summary="MSG91's SMS delivery reports (webhook v2: data=<JSON array>), with our token in the URL",
    response_model=Applied,
    responses=errors(400, 401),
)
async def msg91_webhook(
    request: Request,
    raw: Annotated[bytes, by_signature("msg91", _msg91_token)],
    token: Annotated[str | None, Query(max_length=256, description="This deployment's webhook token")] = None,
) -> dict[str, Any]:
    # token was checked by the route's declaration; declared here for the docs.
    return {"applied": await inbound.apply(request.app.state.service, delivery_reports(raw))}


@router.get(
    "/webhooks/whatsapp",
    summary="Meta's webhook verification: echo hub.challenge when the verify token matches",
    dependencies=[by_signature("meta", _verify_token_matches)],
    response_class=PlainTextResponse,
    responses=errors(403),
)
async def verify_whatsapp_webhook(
    mode: Annotated[str, Query(alias="hub.mode", max_length=32)],
    verify_token: Annotated[str, Query(alias="hub.verify_token", max_length=256)],
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=256)],
) -> str:
    # mode and verify_token were checked by the route's declaration; declared here for the docs.
    return challenge


@router.post(
    "/webhooks/whatsapp",
    summary="Meta's message statuses and customer replies, signed with X-Hub-Signature-256",
    response_model=Applied,
)
async def whatsapp_webhook(
    request: Request,
    raw: Annotated[bytes, by_signature("meta", _meta_signed)],
    x_hub_signature_256: Annotated[str | None, Header(description="sha256=<hex HMAC of the body>")] = None,
) -> dict[str, Any]:
    service = request.app.state.service
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise Refusal("body", f"not JSON: {exc}") from exc
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        raise Refusal("object", "expected a whatsapp_business_account notification")
    return {"applied": await inbound.apply(service, notices(body), now=request.app.state.clock())}


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
