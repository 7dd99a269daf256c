"""Customers' free-text conversations (tickets), pure: which messages open one, and whether an
operator may answer now. WhatsApp lets a business send free-form (session) messages only inside the
24-hour customer-service window counted from the customer's last message; after it, only approved
templates (Meta's error 131047, "Re-engagement message"). ADR 0350.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chassis.refusal import Refusal

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
MAX_TEXT = 4096
"""Meta's limit on a text message's body."""


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What deciding on a reply needs of one ticket."""

    ticket_id: str
    open: bool
    last_inbound_at: datetime | None
    """The customer's last message of any kind (text or button), from their phone."""


def window_closes_at(last_inbound_at: datetime) -> datetime:
    """When the customer-service window opened by a message at ``last_inbound_at`` closes."""
    return last_inbound_at + CUSTOMER_SERVICE_WINDOW


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether a free-form message may be sent now: within 24 hours of the customer's last message
    (the closing instant itself is outside, as Meta's "more than 24 hours" allows no later send)."""
    return last_inbound_at is not None and now < window_closes_at(last_inbound_at)


def reply_refusal(ticket: TicketFacts, text: str, now: datetime) -> Refusal | None:
    """Why an operator's reply may not be sent now, or None: the ticket is closed, the text is
    empty or too long, or WhatsApp's 24-hour window has closed (naming when it did)."""
    if not ticket.open:
        return Refusal("ticket_id", f"ticket {ticket.ticket_id} is closed", status=409)
    if not text.strip():
        return Refusal("text", "is empty")
    if len(text) > MAX_TEXT:
        return Refusal("text", f"is {len(text)} characters; WhatsApp allows {MAX_TEXT}")
    if not window_open(ticket.last_inbound_at, now):
        closed = (
            "the customer has not written"
            if ticket.last_inbound_at is None
            else f"it closed at {window_closes_at(ticket.last_inbound_at).isoformat(timespec='minutes')}, "
            "24 hours after the customer's last message"
        )
        return Refusal(
            "text",
            "WhatsApp's 24-hour customer-service window is closed "
            f"({closed}): only an approved template may be sent until the customer writes again",
            status=409,
        )
    return None
