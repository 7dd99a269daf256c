"""What a WhatsApp webhook says: delivery statuses, button replies, STOP/START and free text (which
opens a ticket, ADR 0350), checked by signature.

Meta signs the raw body with the app secret (``X-Hub-Signature-256: sha256=<hex>``); a payload is
read only after its signature checks out. Button payloads are ``<choice>:<order_id or shipment_id>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chassis.clock import india_date
from chassis.signatures import hmac_sha256_hex, signed_by
from contracts import ReplyChoice
from services.notifications.domain.delivery import Delivery

STOP_WORDS = frozenset({"stop", "unsubscribe", "stop all", "रोकें", "बंद"})
START_WORDS = frozenset({"start", "subscribe", "unstop"})


def signature_for(body: bytes, secret: str) -> str:
    """The X-Hub-Signature-256 value Meta sends for this raw body."""
    return "sha256=" + hmac_sha256_hex(secret, body)


def signature_ok(body: bytes, header: str | None, secret: str) -> bool:
    """Whether the header is Meta's signature of exactly these bytes (constant-time compare)."""
    return signed_by(secret, body, header, prefix="sha256=")


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """The provider's news about one message we sent."""

    provider_message_id: str
    status: Delivery
    error: str | None = None
    error_code: int | None = None
    message_id: str | None = None
    """Our message id as the provider echoes it (WhatsApp's ``biz_opaque_callback_data``)."""
    recipient: str | None = None
    """Who the message went to, E.164."""


@dataclass(frozen=True, slots=True)
class ButtonReply:
    """A customer tapped a quick reply."""

    provider_message_id: str
    phone: str
    choice: ReplyChoice
    reference: str
    """The order id, or the shipment id for NDR choices."""
    in_reply_to: str | None
    sent_at: datetime | None = None
    """When the customer sent it (Meta's ``timestamp``): their 24-hour window counts from it."""


@dataclass(frozen=True, slots=True)
class TextReply:
    """A customer typed something: STOP, START, or anything else (a ticket for the operators)."""

    provider_message_id: str
    phone: str
    text: str
    sent_at: datetime | None = None
    """When the customer sent it (Meta's ``timestamp``): their 24-hour window counts from it."""

    @property
    def opts_out(self) -> bool:
        return self.text.strip().lower() in STOP_WORDS

    @property
    def opts_in(self) -> bool:
        return self.text.strip().lower() in START_WORDS

    @property
    def is_free_text(self) -> bool:
        """Neither STOP nor START (nor empty): something for a person to read."""
        return bool(self.text.strip()) and not self.opts_out and not self.opts_in


Notice = StatusUpdate | ButtonReply | TextReply

_STATUSES = {
    "sent": Delivery.SENT,
    "delivered": Delivery.DELIVERED,
    "read": Delivery.READ,
    "failed": Delivery.FAILED,
}


def parse_payload(payload: str) -> tuple[ReplyChoice, str] | None:
    """``cod_confirm:ORD-…`` → (choice, reference); None for anything else."""
    choice, sep, reference = payload.partition(":")
    if not sep or not reference:
        return None
    try:
        return ReplyChoice(choice), reference
    except ValueError:
        return None


def _phone(wa_id: str) -> str:
    return wa_id if wa_id.startswith("+") else "+" + wa_id


def notices(body: dict[str, Any]) -> list[Notice]:
    """Everything a webhook body reports that we act on, in order; unknown parts are skipped
    (Meta adds fields and message types over time)."""
    found: list[Notice] = []
    for entry in body.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            for status in value.get("statuses") or []:
                reported = _STATUSES.get(str(status.get("status")))
                if reported is None or not status.get("id"):
                    continue
                errors = status.get("errors") or [{}]
                found.append(
                    StatusUpdate(
                        provider_message_id=str(status["id"]),
                        status=reported,
                        error=errors[0].get("title") or errors[0].get("message"),
                        error_code=errors[0].get("code"),
                        message_id=status.get("biz_opaque_callback_data") or None,
                        recipient=_phone(str(status["recipient_id"])) if status.get("recipient_id") else None,
                    )
                )
            for message in value.get("messages") or []:
                found.extend(_message_notice(message))
    return found


def _sent_at(timestamp: Any) -> datetime | None:
    """Meta's message ``timestamp`` (Unix seconds, as a string) as a UTC time; None if absent or bad."""
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _message_notice(message: dict[str, Any]) -> list[Notice]:
    wamid, phone = str(message.get("id", "")), _phone(str(message.get("from", "")))
    sent_at = _sent_at(message.get("timestamp"))
    context = (message.get("context") or {}).get("id")
    kind = message.get("type")
    payload: str | None = None
    if kind == "button":  # a template's quick reply
        payload = (message.get("button") or {}).get("payload")
    elif kind == "interactive":  # an interactive message's reply button
        payload = ((message.get("interactive") or {}).get("button_reply") or {}).get("id")
    elif kind == "text":
        return [
            TextReply(
                provider_message_id=wamid,
                phone=phone,
                text=str((message.get("text") or {}).get("body", "")),
                sent_at=sent_at,
            )
        ]
    parsed = parse_payload(payload or "")
    if parsed is None or not wamid:
        return []
    return [ButtonReply(wamid, phone, parsed[0], parsed[1], context, sent_at)]


def reattempt_on(choice: ReplyChoice, replied_at: datetime) -> date | None:
    """The delivery date a re-attempt button asks for: the next day in India (the button reads
    "Deliver tomorrow"); None for every other choice."""
    if choice is not ReplyChoice.NDR_REATTEMPT:
        return None
    return india_date(replied_at) + timedelta(days=1)
