"""A message as the store hands it up: frozen, typed, built only in `store`.

Nothing above the store reads a database row or JSON text; the dispatcher, the status webhooks and
the reply handling all take a `Message`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from chassis.db import row_fields
from contracts import NotificationChannel
from services.notifications.domain.policy import PlannedMessage


@dataclass(frozen=True, slots=True)
class Message:
    """One outbound message: what goes to the provider, and how far its send and delivery got."""

    message_id: str
    order_id: str | None  # None for an operators' alert about no order
    channel: str
    template: str
    provider_template: str
    language: str
    recipient: str  # E.164; masked everywhere it leaves this service
    cause_event_id: str
    parameters: tuple[str, ...]
    body: str
    buttons: tuple[str, ...]
    url_suffix: str | None
    dlt_template_id: str | None
    delivery: str
    attempts: int
    fallback: PlannedMessage | None  # the SMS to queue if WhatsApp cannot deliver
    previous_start: datetime | None  # from a claim: the mark of a previous try that recorded nothing

    @classmethod
    def of(cls, row: asyncpg.Record) -> Message:
        """The record of a `messages` row (jsonb columns arrive decoded)."""
        return cls(
            **row_fields(
                cls,
                row,
                parameters=tuple(row["parameters"]),
                buttons=tuple(row["buttons"]),
                fallback=_planned(row["fallback"]),
                previous_start=row.get("previous_start"),
            )
        )


def _planned(data: dict[str, Any] | None) -> PlannedMessage | None:
    """The SMS planned to replace a WhatsApp message, as the store keeps it."""
    if data is None:
        return None
    return PlannedMessage(
        **data
        | {
            "channel": NotificationChannel(data["channel"]),
            "parameters": tuple(data["parameters"]),
            "buttons": tuple(data["buttons"]),
        }
    )


@dataclass(frozen=True, slots=True)
class Ticket:
    """A customer's conversation with the operators (ADR 0350), with the matched order's name."""

    ticket_id: str
    phone: str  # E.164; masked everywhere it leaves this service
    order_id: str | None  # None: no order has this phone
    customer_name: str | None
    open: bool
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> Ticket:
        """The record of a `tickets` row joined with its order's contact name."""
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class TicketLine:
    """One message of a ticket: the customer's (in) or an operator's reply (out)."""

    direction: str
    text: str
    author: str | None
    delivery: str
    error: str | None
    at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> TicketLine:
        """The record of a `ticket_messages` row."""
        return cls(**row_fields(cls, row))
