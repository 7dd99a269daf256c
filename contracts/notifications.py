"""Outbound message audit (sent, failed), customers' button replies (COD confirm, NDR choice) and
their free-text conversations with the operators (tickets).

Recipients are masked; a reply carries everything the orders and shipping services need to act.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from contracts import topics
from contracts._base import Event, UtcDatetime, utcnow
from contracts.enums import NotificationChannel, ReplyChoice, TicketChange
from contracts.values import Address, NonEmptyStr


class _MessageEvent(Event):
    """What both audit events carry; keyed by order_id, or message_id for alerts about no order."""

    order_id: str | None = Field(default=None, description="None for alerts such as low stock.")
    message_id: NonEmptyStr
    channel: NotificationChannel
    template: NonEmptyStr
    language: str = "en"
    recipient: str = Field(description="Masked, e.g. +91******5678.")
    provider_message_id: str | None = None
    cause_event_id: str = Field(description="ce_id of the event that caused this message.")
    occurred_at: UtcDatetime = Field(default_factory=utcnow)

    def partition_key(self) -> str:
        return self.order_id or self.message_id


class NotificationSent(_MessageEvent):
    """``notifications.sent.v1``: the provider accepted the message."""

    TOPIC = topics.NOTIFICATIONS_SENT


class NotificationFailed(_MessageEvent):
    """``notifications.failed.v1``: the message could not be delivered after retries."""

    TOPIC = topics.NOTIFICATIONS_FAILED

    error: str


class CustomerReplied(Event):
    """``notifications.customer_replied.v1``: a button reply; extra fields depend on ``choice``."""

    TOPIC = topics.NOTIFICATIONS_CUSTOMER_REPLIED

    order_id: NonEmptyStr
    channel: NotificationChannel
    choice: ReplyChoice
    shipment_id: str | None = Field(default=None, description="For NDR replies.")
    reattempt_on: date | None = Field(default=None, description="For ndr_reattempt with a date.")
    new_address: Address | None = Field(default=None, description="For ndr_new_address.")
    new_phone: str | None = Field(default=None, description="For ndr_new_phone, E.164.")
    in_reply_to_message_id: str | None = Field(
        default=None, description="message_id of the message the customer answered."
    )
    provider_message_id: NonEmptyStr = Field(description="The reply's id at the provider.")
    replied_at: UtcDatetime = Field(default_factory=utcnow)


class TicketUpdated(Event):
    """``notifications.ticket_updated.v1``: a customer's free-text WhatsApp conversation moved on: they
    wrote, an operator answered inside WhatsApp's 24-hour window, or an operator closed it (ADR 0350).

    Keyed by the order it was matched to (the customer's most recent order, by phone), or by the
    ticket id when no order has that phone."""

    TOPIC = topics.NOTIFICATIONS_TICKET_UPDATED

    ticket_id: NonEmptyStr
    order_id: str | None = Field(default=None, description="None: no order has the customer's phone.")
    change: TicketChange
    open: bool = Field(description="Whether the ticket is open after this change.")
    customer_name: str | None = Field(default=None, description="From the matched order.")
    customer_phone: str = Field(description="Masked, e.g. +91******5678.")
    text: str | None = Field(default=None, description="What the customer or the operator wrote.")
    actor: str | None = Field(default=None, description="The operator who replied or closed, role:name.")
    provider_message_id: str | None = Field(
        default=None, description="The message's id at WhatsApp (the customer's, or our reply's)."
    )
    window_closes_at: UtcDatetime | None = Field(
        default=None,
        description="When WhatsApp's 24-hour customer-service window closes: 24 hours after the "
        "customer's last message. A free-form reply is refused after it.",
    )
    occurred_at: UtcDatetime = Field(default_factory=utcnow)

    def partition_key(self) -> str:
        return self.order_id or self.ticket_id
