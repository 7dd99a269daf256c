"""What Meta sends back after a message: status webhooks (sent, delivered or failed, echoing the
message's biz_opaque_callback_data) and the customer's button reply or text, signed with
X-Hub-Signature-256 like the real Cloud API, and retried with backoff while they fail.

Webhooks go to $NOTIFICATIONS_URL/webhooks/whatsapp, signed with $WHATSAPP_APP_SECRET (the same
default as the notifications service); without NOTIFICATIONS_URL (in-process tests) none are sent.
Control routes under /_sandbox/whatsapp make numbers unreachable, delay or withhold their statuses,
set automatic replies, reply now, or have a customer write first (free text, in reply to nothing).
Like Meta, a free-form (non-template) message outside the customer's 24-hour window is accepted and
then reported failed with error 131047, "Re-engagement message";
WHATSAPP_AUTO_REPLY=cod_confirm makes every number without its own rule tap that button (the demo).
"""

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import time
from datetime import datetime, timedelta
from typing import Any, Literal, Self

import httpx
import httpx_aiohttp
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, model_validator

from sandbox.control import State
from sandbox.state import SandboxState, WhatsAppMessage, utc_now

DEFAULT_APP_SECRET = "dev-whatsapp-app-secret-local"
NOT_ON_WHATSAPP = (131026, "Message undeliverable")
"""Meta's error for a number that has no WhatsApp account: accepted, then a failed status."""
RE_ENGAGEMENT = (131047, "Re-engagement message")
"""Meta's error for a free-form message outside the 24-hour customer-service window."""
RE_ENGAGEMENT_DETAILS = (
    "Message failed to send because more than 24 hours have passed since the customer last replied "
    "to this number."
)
CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
STATUS_DELAY_S = 0.5
REPLY_DELAY_S = 0.5
WEBHOOK_RETRY_FOR_S = 300.0
"""How long a failing webhook is retried (Meta keeps trying for up to 7 days)."""
WEBHOOK_BACKOFF_S = (1.0, 5.0)
"""First and longest wait between tries of a failing webhook (doubling in between)."""
CONTROL_RETRY_FOR_S = 15.0
"""A webhook a control route sends now is retried only this long: its caller waits for the answer."""
_tasks: set[asyncio.Task[None]] = set()

router = APIRouter(prefix="/_sandbox/whatsapp")


def webhook_url() -> str | None:
    base = os.environ.get("NOTIFICATIONS_URL")
    return base.rstrip("/") + "/webhooks/whatsapp" if base else None


def sign(body: bytes, secret: str | None = None) -> str:
    secret = secret or os.environ.get("WHATSAPP_APP_SECRET") or DEFAULT_APP_SECRET
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(phone_number_id: str, value: dict[str, Any]) -> dict[str, Any]:
    """Meta's notification wrapper around one change."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "911140000000", "phone_number_id": phone_number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }


def status_value(
    message: WhatsAppMessage, status: str, error: tuple[int, str] | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": message.wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": message.wa_id,
    }
    if message.biz_opaque_callback_data is not None:
        item["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    if error is not None:
        code, title = error
        item["errors"] = [{"code": code, "title": title, "message": title}]
        if error == RE_ENGAGEMENT:
            item["errors"][0]["error_data"] = {"details": RE_ENGAGEMENT_DETAILS}
    return {"statuses": [item]}


def outside_window(state: SandboxState, wa_id: str, kind: str, at: datetime) -> bool:
    """Whether Meta would refuse this free-form message: a template may always be sent; anything
    else only within 24 hours of the customer's last message to the business."""
    if kind == "template":
        return False
    last = state.whatsapp.last_inbound_at.get(wa_id)
    return last is None or at - last > CUSTOMER_SERVICE_WINDOW


def button_payloads(message: WhatsAppMessage) -> list[str]:
    """The quick-reply payloads a template message offers, in button order."""
    template = message.body.get("template") or {}
    payloads = []
    for component in template.get("components") or []:
        if component.get("type") == "button" and component.get("sub_type") == "quick_reply":
            payloads += [p.get("payload", "") for p in component.get("parameters") or [] if p.get("payload")]
    return payloads


def reply_value(
    message: WhatsAppMessage | None, *, payload: str | None = None, text: str | None = None, wa_id: str = ""
) -> dict[str, Any]:
    """A customer's message: a button tapped or text typed in reply to ``message``, or (None) text
    they wrote first, from ``wa_id``."""
    wa_id = message.wa_id if message is not None else wa_id
    item: dict[str, Any] = {
        "from": wa_id,
        "id": "wamid." + secrets.token_urlsafe(24),
        "timestamp": str(int(time.time())),
    }
    if message is not None:
        item["context"] = {"from": "911140000000", "id": message.wamid}
    if payload is not None:
        item |= {"type": "button", "button": {"payload": payload, "text": payload.split(":")[0]}}
    else:
        item |= {"type": "text", "text": {"body": text or ""}}
    return {
        "contacts": [{"profile": {"name": "Sandbox customer"}, "wa_id": wa_id}],
        "messages": [item],
    }


async def post_webhook(
    state: SandboxState, body: dict[str, Any], *, retry_for_s: float = WEBHOOK_RETRY_FOR_S
) -> int | None:
    """POST a signed notification; like Meta, a refused connection or a non-2xx answer is tried
    again with backoff (1 s doubling to 5 s) for ``retry_for_s``. Returns the last HTTP status."""
    url = webhook_url()
    if url is None:
        return None
    raw = json.dumps(body).encode()
    status: int | None = None
    if state.whatsapp.webhook_client is None:
        # One pooled client per sandbox: a new client per call cost more CPU than the webhook itself.
        # On aiohttp's transport (as the services' clients are): half of httpx's own CPU per call.
        state.whatsapp.webhook_client = httpx_aiohttp.HttpxAiohttpClient(timeout=10)
    client: httpx.AsyncClient = state.whatsapp.webhook_client
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw)}
    give_up_at, backoff = time.monotonic() + retry_for_s, WEBHOOK_BACKOFF_S[0]
    while True:
        try:
            async with state.whatsapp.webhook_slots:
                status = (await client.post(url, content=raw, headers=headers)).status_code
        except (httpx.HTTPError, TimeoutError):
            status = None
        if (status is not None and 200 <= status < 300) or time.monotonic() + backoff > give_up_at:
            break
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, WEBHOOK_BACKOFF_S[1])
    async with state.whatsapp.lock:
        state.whatsapp.webhooks.append({"at": utc_now().isoformat(), "status_code": status, "body": body})
    return status


def choose_reply(state: SandboxState, message: WhatsAppMessage) -> str | None:
    """The payload this number taps automatically, if it has a rule (or the default) and it is offered."""
    default = state.whatsapp.default_auto_reply or os.environ.get("WHATSAPP_AUTO_REPLY") or None
    wanted = state.whatsapp.auto_reply.get(message.wa_id, default)
    if not wanted:
        return None
    return next((p for p in button_payloads(message) if p.split(":")[0] == wanted), None)


async def follow_up(state: SandboxState, message: WhatsAppMessage) -> None:
    """What happens after Meta accepted a message: its statuses, then perhaps the customer's reply."""
    phone_number_id = message.phone_number_id
    if message.wa_id in state.whatsapp.no_statuses:
        return
    await asyncio.sleep(state.whatsapp.status_delay_s.get(message.wa_id, STATUS_DELAY_S))
    if message.wa_id in state.whatsapp.not_on_whatsapp:
        await post_webhook(state, envelope(phone_number_id, status_value(message, "failed", NOT_ON_WHATSAPP)))
        return
    if message.outside_window:
        await post_webhook(state, envelope(phone_number_id, status_value(message, "failed", RE_ENGAGEMENT)))
        return
    for status in ("sent", "delivered"):
        await post_webhook(state, envelope(phone_number_id, status_value(message, status)))
    payload = choose_reply(state, message)
    if payload is not None:
        await asyncio.sleep(REPLY_DELAY_S)
        await post_webhook(state, envelope(phone_number_id, status_value(message, "read")))
        await customer_writes(state, phone_number_id, reply_value(message, payload=payload))


async def customer_writes(
    state: SandboxState,
    phone_number_id: str,
    value: dict[str, Any],
    *,
    retry_for_s: float = WEBHOOK_RETRY_FOR_S,
) -> int | None:
    """Deliver a customer's message to the business; it opens (or renews) their 24-hour window."""
    async with state.whatsapp.lock:
        state.whatsapp.last_inbound_at[value["contacts"][0]["wa_id"]] = utc_now()
    return await post_webhook(state, envelope(phone_number_id, value), retry_for_s=retry_for_s)


def after_accept(state: SandboxState, message: WhatsAppMessage) -> None:
    """Schedule the follow-up of a newly accepted message (nothing without a webhook URL)."""
    if webhook_url() is None:
        return
    task = asyncio.create_task(follow_up(state, message))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


class NumberBehaviour(BaseModel):
    """How one customer's number behaves: on WhatsApp or not, what it replies to buttons, and when
    (or whether) Meta reports the statuses of messages to it."""

    on_whatsapp: bool = True
    auto_reply: str | None = Field(default=None, examples=["cod_confirm", "ndr_reattempt"])
    status_delay_s: float = Field(default=STATUS_DELAY_S, ge=0, le=3600)
    answer_delay_s: float = Field(
        default=0.0, ge=0, le=60, description="How long Meta takes to answer a send it accepted."
    )
    sends_statuses: bool = Field(
        default=True, description="False: messages are accepted and then no status webhook ever comes."
    )


class DefaultReply(BaseModel):
    """The choice every number without its own rule taps (null: nobody replies)."""

    auto_reply: str | None = None


class Reply(BaseModel):
    """Make the recipient of a recorded message answer it now: a button (by choice) or a text."""

    wamid: str | None = None
    to: str | None = Field(default=None, description="Or: the latest message to this number.")
    choice: str | None = None
    text: str | None = None

    @model_validator(mode="after")
    def one_answer(self) -> Self:
        if (self.choice is None) == (self.text is None):
            raise ValueError("give exactly one of choice or text")
        if (self.wamid is None) == (self.to is None):
            raise ValueError("give exactly one of wamid or to")
        return self


class StatusRequest(BaseModel):
    wamid: str
    status: Literal["sent", "delivered", "read", "failed"]


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


@router.put("/numbers/{phone}")
async def set_number(phone: str, body: NumberBehaviour, state: State) -> dict[str, Any]:
    wa_id = _digits(phone)
    async with state.whatsapp.lock:
        if body.on_whatsapp:
            state.whatsapp.not_on_whatsapp.discard(wa_id)
        else:
            state.whatsapp.not_on_whatsapp.add(wa_id)
        state.whatsapp.auto_reply[wa_id] = body.auto_reply
        state.whatsapp.status_delay_s[wa_id] = body.status_delay_s
        state.whatsapp.answer_delay_s[wa_id] = body.answer_delay_s
        if body.sends_statuses:
            state.whatsapp.no_statuses.discard(wa_id)
        else:
            state.whatsapp.no_statuses.add(wa_id)
    return {"wa_id": wa_id, **body.model_dump()}


@router.put("/auto-reply")
async def set_default_reply(body: DefaultReply, state: State) -> dict[str, Any]:
    state.whatsapp.default_auto_reply = body.auto_reply
    return body.model_dump()


def _find(state: SandboxState, wamid: str | None, to: str | None) -> WhatsAppMessage:
    candidates = [
        m for m in state.whatsapp.messages if (wamid and m.wamid == wamid) or (to and m.wa_id == _digits(to))
    ]
    if not candidates:
        raise HTTPException(status_code=404, detail="no such message")
    return candidates[-1]


@router.post("/replies")
async def reply_now(body: Reply, state: State) -> dict[str, Any]:
    async with state.whatsapp.lock:
        message = _find(state, body.wamid, body.to)
    if body.choice is not None:
        payload = next((p for p in button_payloads(message) if p.split(":")[0] == body.choice), None)
        if payload is None:
            raise HTTPException(
                status_code=422, detail=f"message {message.wamid} offers no {body.choice} button"
            )
        value = reply_value(message, payload=payload)
    else:
        value = reply_value(message, text=body.text)
    status = await customer_writes(state, message.phone_number_id, value, retry_for_s=CONTROL_RETRY_FOR_S)
    return {"webhook_status": status, "message": value["messages"][0]}


class Inbound(BaseModel):
    """A customer writes to the business first: free text, in reply to no message."""

    from_: str = Field(alias="from", pattern=r"^\+?\d{8,15}$", examples=["+919812345678"])
    text: str = Field(min_length=1, max_length=4096)
    phone_number_id: str = Field(
        default="1234567890", pattern=r"^\d+$", description="The business number written to."
    )


@router.post("/inbound")
async def customer_writes_now(body: Inbound, state: State) -> dict[str, Any]:
    value = reply_value(None, text=body.text, wa_id=_digits(body.from_))
    status = await customer_writes(state, body.phone_number_id, value, retry_for_s=CONTROL_RETRY_FOR_S)
    return {"webhook_status": status, "message": value["messages"][0]}


@router.post("/statuses")
async def status_now(body: StatusRequest, state: State) -> dict[str, Any]:
    async with state.whatsapp.lock:
        message = _find(state, body.wamid, None)
    error = NOT_ON_WHATSAPP if body.status == "failed" else None
    status = await post_webhook(
        state,
        envelope(message.phone_number_id, status_value(message, body.status, error)),
        retry_for_s=CONTROL_RETRY_FOR_S,
    )
    return {"webhook_status": status}


@router.get("/webhooks")
async def list_webhooks(state: State) -> list[dict[str, Any]]:
    async with state.whatsapp.lock:
        return list(state.whatsapp.webhooks)
