"""Notification policy as data: which lifecycle event messages the customer with which template,
and which alerts the operators. No I/O: tables, and pure functions that plan messages from facts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from contracts import (
    NdrReason,
    NotificationChannel,
    OrderContactCorrected,
    OrderStatus,
    OrderStatusChanged,
    ReturnStatus,
    ReturnUpdated,
    ShipmentStatus,
)
from services.notifications.domain.templates import Catalogue, Template, clip, load, render, render_sms

CATALOGUE: Catalogue = load()
TEMPLATES = CATALOGUE.templates
"""Every approved template, by (name, language)."""

DEFAULT_LANGUAGE = "en"

POLICY: dict[OrderStatus, str] = {
    OrderStatus.CONFIRMED: "order_confirmed",
    OrderStatus.PENDING_COD_CONFIRMATION: "cod_confirmation_request",
    OrderStatus.SHIPPED: "order_shipped",
    OrderStatus.OUT_FOR_DELIVERY: "order_out_for_delivery",
    OrderStatus.DELIVERED: "order_delivered",
}
"""The template a customer gets when their order reaches a status; other statuses send nothing."""

SHIPMENT_POLICY: dict[ShipmentStatus, str] = {ShipmentStatus.NDR: "ndr_options"}
"""Shipment updates that message the customer directly (the order's status covers the others)."""

RETURN_POLICY: frozenset[ReturnStatus] = frozenset(
    {ReturnStatus.APPROVED, ReturnStatus.REJECTED, ReturnStatus.PICKUP_SCHEDULED, ReturnStatus.RECEIVED}
)
"""Return statuses the customer hears about (template return_update); refunds have their own."""

OPERATOR_ALERTS: dict[str, str] = {
    "ndr": "NDR on order {order_id}: shipment {shipment_id} (AWB {awb}) attempt {attempt}: {ndr_reason}",
    "rto": "RTO started for order {order_id}: shipment {shipment_id} (AWB {awb}) is coming back",
    "low_stock": "Low stock: {sku} at {warehouse_code} has {available} left (reorder point {reorder_point})",
    "dlq_growing": "Dead letters growing: {topic} has {count} new message(s), {total} in all",
    "refund_overdue": "Refund overdue: return {return_id} of order {order_id}: {note}",
    "message_failed": "Customer message failed for order {order_id}: {template} on {channel}: {error}",
}
"""Operator alerts (Slack-compatible webhook): why, and the text with its fields."""

SHIPMENT_ALERTS: dict[ShipmentStatus, str] = {ShipmentStatus.NDR: "ndr", ShipmentStatus.RTO_INITIATED: "rto"}

RETURN_ALERTS: dict[str, str] = {"refund_sla_breached": "refund_overdue"}
"""Returns' operator alerts (``returns.updated.v1`` ``alert``) passed on to operators, by kind.
Returns decides when a refund is overdue (it owns the refund SLA, ADR 0230); nothing here times it."""

NDR_REASON_TEXT: dict[NdrReason, str] = {
    NdrReason.CUSTOMER_UNAVAILABLE: "nobody was available",
    NdrReason.PHONE_UNREACHABLE: "your phone was unreachable",
    NdrReason.CASH_NOT_READY: "cash was not ready",
    NdrReason.FUTURE_DELIVERY_REQUESTED: "a later date was asked",
    NdrReason.REFUSED: "the parcel was refused",
    NdrReason.WRONG_OR_INCOMPLETE_ADDRESS: "the address was incomplete",
    NdrReason.OUT_OF_DELIVERY_AREA: "out of delivery area",
    NdrReason.OTHER: "the courier could not deliver",
}

OPS_RECIPIENT = "ops"
"""The recipient of operator alerts: the configured Slack-compatible webhook."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known about the customer and the order when a message is planned."""

    order_id: str
    customer_name: str
    phone: str
    language: str = DEFAULT_LANGUAGE
    channel_order_id: str = ""
    shipment_id: str | None = None
    awb: str | None = None
    ndr_reason: str = ""
    return_id: str = ""
    return_status: str = ""
    refund_amount: str = ""
    rehearsal: bool = False
    """An operator's rehearsal order: the phone is the operator's own (ADR 0360)."""


PARAMETERS: dict[str, Callable[[Facts], str]] = {
    "customer_name": lambda f: f.customer_name,
    "order_id": lambda f: f.order_id,
    "channel_order_id": lambda f: f.channel_order_id or f.order_id,
    "shipment_id": lambda f: f.shipment_id or "",
    "awb": lambda f: f.awb or "",
    "ndr_reason": lambda f: f.ndr_reason,
    "return_id": lambda f: f.return_id,
    "return_status": lambda f: f.return_status,
    "refund_amount": lambda f: f.refund_amount,
}
"""Where each named template parameter comes from."""


def template_for(name: str, language: str) -> Template:
    """The template in the customer's language, or in English when it has no translation."""
    return TEMPLATES.get((name, language)) or TEMPLATES[(name, DEFAULT_LANGUAGE)]


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
    order_id: str | None
    channel: NotificationChannel
    template: str
    language: str
    recipient: str
    parameters: tuple[str, ...]
    occasion: str = ""
    """What makes it unique besides the order: the template, plus e.g. the NDR attempt."""
    subject: str | None = None
    """The shipment, return or SKU the message is about, when not just the order."""
    text: str = ""
    buttons: tuple[str, ...] = ()
    """Quick-reply payloads, ``<choice>:<order_id or shipment_id>``."""
    url_suffix: str | None = None
    provider_template: str = ""
    """The provider's own template id: the WhatsApp name, or MSG91's template id for SMS."""
    dlt_template_id: str | None = None
    urgent: bool = True
    transactional: bool = True
    fallback: PlannedMessage | None = field(default=None, compare=False)
    """The SMS that goes instead when WhatsApp cannot deliver this one."""


def plan(
    name: str, facts: Facts, *, occasion: str | None = None, subject: str | None = None
) -> PlannedMessage:
    """The WhatsApp message of a template for these facts, with its SMS fallback."""
    template = template_for(name, facts.language)
    occasion = occasion or template.name
    values = tuple(PARAMETERS[p](facts) for p in template.parameters)
    reply_to = facts.shipment_id if template.name in SHIPMENT_POLICY.values() else facts.order_id
    common = {
        "order_id": facts.order_id,
        "template": template.name,
        "language": template.language,
        "recipient": facts.phone,
        "occasion": occasion,
        "subject": subject,
        "urgent": template.urgent,
        "transactional": template.transactional,
    }
    sms = None
    if template.sms is not None:
        # DLT scrubbing refuses a variable over 30 characters; WhatsApp allows far longer ones.
        sms_values = tuple(clip(v, PARAMETERS[v](facts)) for v in template.sms.variables)
        sms = PlannedMessage(
            message_id=message_id_for(facts.order_id, occasion, facts.phone, NotificationChannel.SMS.value),
            channel=NotificationChannel.SMS,
            parameters=sms_values,
            text=render_sms(template.sms, sms_values),
            provider_template=template.sms.msg91_template_id,
            dlt_template_id=template.sms.dlt_template_id,
            **common,  # type: ignore[arg-type]
        )
    return PlannedMessage(
        message_id=message_id_for(facts.order_id, occasion, facts.phone, NotificationChannel.WHATSAPP.value),
        channel=NotificationChannel.WHATSAPP,
        parameters=values,
        text=render(template, values),
        buttons=tuple(f"{choice.value}:{reply_to}" for choice in template.buttons),
        url_suffix=PARAMETERS[template.url_button](facts) if template.url_button else None,
        provider_template=template.name,
        fallback=sms,
        **common,  # type: ignore[arg-type]
    )


def facts_from(event: OrderStatusChanged | OrderContactCorrected) -> Facts | None:
    """The facts an order's status change (or an operator's correction of the phone) carries, or
    None when it names no customer."""
    if event.customer is None:
        return None
    return Facts(
        order_id=event.order_id,
        customer_name=event.customer.name,
        phone=event.customer.phone,
        language=event.customer.language,
        channel_order_id=event.channel_order_id,
        rehearsal=event.rehearsal,
    )


def message_for(event: OrderStatusChanged) -> PlannedMessage | None:
    """The WhatsApp message this status change sends, or None (no template, or no customer)."""
    name = POLICY.get(event.to_status)
    facts = facts_from(event)
    if name is None or facts is None:
        return None
    return plan(name, facts)


def rehearsal_booked_message(facts: Facts, *, shipment_id: str, awb: str) -> PlannedMessage | None:
    """A rehearsal order's parcel was booked: the operator gets the "shipped" message a customer gets
    at pickup, with the real AWB, because a rehearsal is cancelled before any pickup (ADR 0360).
    None for a real order, which hears of it when the courier collects it."""
    if not facts.rehearsal:
        return None
    return plan(
        POLICY[OrderStatus.SHIPPED], replace(facts, shipment_id=shipment_id, awb=awb), subject=shipment_id
    )


def ndr_message(facts: Facts, *, attempt: int | None, reason: NdrReason | None) -> PlannedMessage:
    """The NDR options (re-attempt, new address, cancel) for one failed attempt of one shipment."""
    with_reason = replace(facts, ndr_reason=NDR_REASON_TEXT[reason or NdrReason.OTHER])
    return plan(
        "ndr_options",
        with_reason,
        occasion=f"ndr_options:{facts.shipment_id}:{attempt or 1}",
        subject=facts.shipment_id,
    )


def return_message(facts: Facts, status: ReturnStatus) -> PlannedMessage | None:
    """The customer's update for a return reaching a status, or None for internal steps."""
    if status not in RETURN_POLICY:
        return None
    text = status.value.replace("_", " ").lower()
    return plan(
        "return_update",
        replace(facts, return_status=text),
        occasion=f"return_update:{facts.return_id}:{status.value}",
        subject=facts.return_id,
    )


def refund_message(facts: Facts, *, refund_id: str, amount_paise: int) -> PlannedMessage:
    """The customer hears their refund went through."""
    rupees = f"Rs {amount_paise // 100}" + (f".{amount_paise % 100:02d}" if amount_paise % 100 else "")
    return plan(
        "refund_processed",
        replace(facts, refund_amount=rupees),
        occasion=f"refund_processed:{refund_id}",
        subject=facts.return_id,
    )


def alert(kind: str, *, key: str, order_id: str | None = None, **fields: object) -> PlannedMessage:
    """An operator alert of one kind; ``key`` makes it unique (the same key alerts once)."""
    text = OPERATOR_ALERTS[kind].format(order_id=order_id, **fields)
    channel = NotificationChannel.SLACK
    return PlannedMessage(
        message_id=message_id_for(order_id or "-", f"{kind}:{key}", OPS_RECIPIENT, channel.value),
        order_id=order_id,
        channel=channel,
        template=kind,
        language=DEFAULT_LANGUAGE,
        recipient=OPS_RECIPIENT,
        parameters=(),
        occasion=f"{kind}:{key}",
        subject=key,
        text=text,
        provider_template=kind,
    )


def return_alert(event: ReturnUpdated) -> PlannedMessage | None:
    """The operator alert a return update raises (returns said a refund breached its SLA), or None.
    One per return: a second alert about the same return queues nothing."""
    kind = RETURN_ALERTS.get(event.alert or "")
    if kind is None:
        return None
    return alert(
        kind,
        key=event.return_id,
        order_id=event.order_id,
        return_id=event.return_id,
        note=event.note or "no reason given",
    )
