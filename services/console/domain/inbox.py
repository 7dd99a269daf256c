"""The customer inbox, pure: a ticket's lines from notifications' announcements, its line on the
order's timeline, and how long WhatsApp's 24-hour window has left (ADR 0351)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts import TicketChange, TicketUpdated
from services.console.domain.view import TimelineEntry


@dataclass(frozen=True)
class TicketLine:
    """One change to a ticket, as announced."""

    event_id: str
    ticket_id: str
    order_id: str | None
    at: datetime
    change: str
    open: bool
    customer_name: str | None
    customer_phone: str
    text: str | None
    actor: str | None
    window_closes_at: datetime | None


@dataclass(frozen=True)
class Ticket:
    """A ticket as the inbox lists it: its newest state and last message."""

    ticket_id: str
    order_id: str | None
    customer_name: str | None
    customer_phone: str
    open: bool
    opened_at: datetime
    updated_at: datetime
    last_text: str | None
    last_change: str | None
    window_closes_at: datetime | None
    messages: int


def line_of(event: TicketUpdated, event_id: str) -> TicketLine:
    """The line an announcement adds to its ticket."""
    return TicketLine(
        event_id=event_id,
        ticket_id=event.ticket_id,
        order_id=event.order_id,
        at=event.occurred_at,
        change=event.change.value,
        open=event.open,
        customer_name=event.customer_name,
        customer_phone=event.customer_phone,
        text=event.text,
        actor=event.actor,
        window_closes_at=event.window_closes_at,
    )


_SAID = {
    TicketChange.CUSTOMER_WROTE: "customer wrote",
    TicketChange.OPERATOR_REPLIED: "replied on WhatsApp",
    TicketChange.CLOSED: "ticket closed",
}


def timeline_entry(event: TicketUpdated, event_id: str) -> TimelineEntry | None:
    """The ticket's line on its order's timeline (None for a ticket on no order)."""
    if event.order_id is None:
        return None
    said = f"{_SAID[event.change]} ({event.ticket_id})"
    if event.text:
        said += f": {event.text}"
    return TimelineEntry(event_id, event.order_id, event.occurred_at, "ticket", said, event.actor)


def window_left(closes_at: datetime | None, now: datetime) -> str:
    """What the inbox shows of the 24-hour window: the time left, or that it is closed."""
    if closes_at is None or closes_at <= now:
        return "closed"
    minutes = int((closes_at - now).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min left" if hours else f"{minutes} min left"
