"""What notifications needs from a messaging provider: send one approved template message; and
from WhatsApp, one free-form text inside a customer's 24-hour window (an operator's reply).

Each provider adapter speaks that provider's documented HTTP API behind this one Protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TemplateMessage:
    """One approved template to one recipient, with its body parameters in order."""

    idempotency_key: str
    """Our message id. WhatsApp echoes it in its status webhooks (``biz_opaque_callback_data``);
    Slack's receipt is made of it; MSG91 has no use for it."""
    recipient: str
    """E.164, e.g. +919812345678."""
    template: str
    """The provider's template: Meta's approved name, MSG91's template id, or an alert kind."""
    language: str
    parameters: tuple[str, ...]
    text: str = ""
    """The rendered text: what Slack posts, and what the audit shows."""
    buttons: tuple[str, ...] = ()
    """Quick-reply payloads, in button order."""
    url_suffix: str | None = None
    """The dynamic part of the template's URL button (e.g. the order id of a tracking link)."""
    dlt_template_id: str | None = None
    """SMS only: the DLT template id the operator scrubs the message against."""


@dataclass(frozen=True, slots=True)
class SessionMessage:
    """Free-form text to a customer who wrote to us in the last 24 hours (WhatsApp's session message)."""

    idempotency_key: str
    """Our id for it, echoed in the provider's status webhooks (``biz_opaque_callback_data``)."""
    recipient: str
    """E.164."""
    text: str


@dataclass(frozen=True, slots=True)
class ProviderReceipt:
    """The provider accepted the message under its own id."""

    provider_message_id: str


class ProviderError(Exception):
    """A message was not accepted; ``status_code`` is the provider's HTTP status, if any."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class MessageRejected(ProviderError):
    """The provider refused this message (bad number, unknown template): retrying won't help."""


class ProviderUnavailable(ProviderError):
    """Timeout, 429, 5xx or an auth failure: nothing is wrong with the message; retry it."""


class MessageProvider(Protocol):
    """A provider's send API."""

    channel: str
    """The NotificationChannel value this provider sends on, e.g. ``whatsapp``."""
    echoes_message_id: bool
    """Whether the provider's status webhooks name our message id, so that a send whose answer a
    crash lost is recognised when its status arrives instead of being sent again."""

    async def send_template(self, message: TemplateMessage) -> ProviderReceipt:
        """Send one template message and return the provider's message id.

        Not idempotent: Meta and MSG91 send a repeated request again (ADR 0040).
        Raises MessageRejected for a message the provider will never accept, ProviderUnavailable
        for everything that may succeed later.
        """
        ...


class SessionSender(Protocol):
    """A provider that can answer a customer in free form inside their customer-service window."""

    async def send_text(self, message: SessionMessage) -> ProviderReceipt:
        """Send one text message and return the provider's message id.

        Meta accepts a text outside the 24-hour window and reports it failed afterwards (131047), so
        the caller checks the window first. Raises MessageRejected or ProviderUnavailable as
        MessageProvider.send_template does."""
        ...
