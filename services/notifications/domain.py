"""Notification decisions as data: which order status sends which template, and the templates.

No I/O here: the policy and templates are plain tables, rendering is a pure function.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from contracts import NotificationChannel, OrderStatus, OrderStatusChanged

POLICY: dict[OrderStatus, str] = {
    OrderStatus.CONFIRMED: "order_confirmed",
    OrderStatus.PENDING_COD_CONFIRMATION: "cod_confirmation_request",
    OrderStatus.SHIPPED: "order_shipped",
    OrderStatus.OUT_FOR_DELIVERY: "order_out_for_delivery",
    OrderStatus.DELIVERED: "order_delivered",
}
"""The template a customer gets when their order reaches a status; other statuses send nothing."""

DEFAULT_LANGUAGE = "en"

PARAMETERS: dict[str, Callable[[OrderStatusChanged], str]] = {
    "customer_name": lambda e: e.customer.name if e.customer else "",
    "order_id": lambda e: e.order_id,
    "channel_order_id": lambda e: e.channel_order_id,
}
"""Where each named body parameter comes from in the event."""


@dataclass(frozen=True, slots=True)
class Template:
    """One approved WhatsApp template in one language; ``{{n}}`` is the n-th parameter."""

    name: str
    language: str
    body: str
    parameters: tuple[str, ...]


_NAME_AND_ORDER = ("customer_name", "channel_order_id")

TEMPLATES: dict[tuple[str, str], Template] = {
    (t.name, t.language): t
    for t in (
        Template(
            "order_confirmed",
            "en",
            "Hi {{1}}, your order {{2}} is confirmed. We will tell you when it ships.",
            _NAME_AND_ORDER,
        ),
        Template(
            "order_confirmed",
            "hi",
            "नमस्ते {{1}}, आपका ऑर्डर {{2}} कन्फ़र्म हो गया है। भेजे जाने पर हम आपको बताएँगे।",
            _NAME_AND_ORDER,
        ),
        Template(
            "cod_confirmation_request",
            "en",
            "Hi {{1}}, please confirm your cash-on-delivery order {{2}} (ref {{3}}) with a button below.",
            ("customer_name", "channel_order_id", "order_id"),
        ),
        Template(
            "cod_confirmation_request",
            "hi",
            "नमस्ते {{1}}, कृपया नीचे दिए बटन से अपने कैश-ऑन-डिलीवरी ऑर्डर {{2}} (रेफ़ {{3}}) की पुष्टि करें।",
            ("customer_name", "channel_order_id", "order_id"),
        ),
        Template("order_shipped", "en", "Hi {{1}}, your order {{2}} has been shipped.", _NAME_AND_ORDER),
        Template("order_shipped", "hi", "नमस्ते {{1}}, आपका ऑर्डर {{2}} भेज दिया गया है।", _NAME_AND_ORDER),
        Template(
            "order_out_for_delivery",
            "en",
            "Hi {{1}}, your order {{2}} is out for delivery today.",
            _NAME_AND_ORDER,
        ),
        Template(
            "order_out_for_delivery",
            "hi",
            "नमस्ते {{1}}, आपका ऑर्डर {{2}} आज डिलीवरी के लिए निकल चुका है।",
            _NAME_AND_ORDER,
        ),
        Template(
            "order_delivered",
            "en",
            "Hi {{1}}, your order {{2}} has been delivered. Thank you for shopping with us!",
            _NAME_AND_ORDER,
        ),
        Template(
            "order_delivered",
            "hi",
            "नमस्ते {{1}}, आपका ऑर्डर {{2}} डिलीवर हो गया है। हमसे ख़रीदारी के लिए धन्यवाद!",
            _NAME_AND_ORDER,
        ),
    )
}
"""Every approved template, by (name, language)."""


def template_for(name: str, language: str) -> Template:
    """The template in the customer's language, or in English when it has no translation."""
    return TEMPLATES.get((name, language)) or TEMPLATES[(name, DEFAULT_LANGUAGE)]


def render(template: Template, parameters: tuple[str, ...]) -> str:
    """The text the customer reads, for previews and the audit."""
    text = template.body
    for n, value in enumerate(parameters, start=1):
        text = text.replace(f"{{{{{n}}}}}", value)
    return text


_MESSAGE_NAMESPACE = uuid.UUID("9d2f4b7a-1c3e-4f60-8a15-3e7b9c0d2a41")


def message_id_for(order_id: str, template: str, recipient: str, channel: str) -> str:
    """MSG-… derived from what makes a message unique: a redelivered event after a crash uses the
    same id, hence the same provider idempotency key, and the customer gets it once."""
    digest = uuid.uuid5(_MESSAGE_NAMESPACE, f"{order_id}/{template}/{recipient}/{channel}")
    return "MSG-" + digest.hex[:20].upper()


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    """A message the policy says to send, ready for the provider."""

    message_id: str
    order_id: str
    channel: NotificationChannel
    template: str
    language: str
    recipient: str
    parameters: tuple[str, ...]


def message_for(event: OrderStatusChanged) -> PlannedMessage | None:
    """The WhatsApp message this status change sends, or None (no template, or no customer)."""
    name = POLICY.get(event.to_status)
    if name is None or event.customer is None:
        return None
    template = template_for(name, event.customer.language)
    channel = NotificationChannel.WHATSAPP
    recipient = event.customer.phone
    return PlannedMessage(
        message_id=message_id_for(event.order_id, template.name, recipient, channel.value),
        order_id=event.order_id,
        channel=channel,
        template=template.name,
        language=template.language,
        recipient=recipient,
        parameters=tuple(PARAMETERS[p](event) for p in template.parameters),
    )
