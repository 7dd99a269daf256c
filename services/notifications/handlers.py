"""Kafka handlers of the notifications service: apply the policy, record, send, emit the audit.

Each runs inside the consumer's transaction, so the message row and its audit event commit together.
"""

from __future__ import annotations

from chassis.consumer import HandlerContext
from chassis.logging import mask_phone
from chassis.service import Service
from contracts import NotificationFailed, NotificationSent, OrderStatusChanged
from services.notifications import domain, store
from services.notifications.providers.interface import (
    MessageProvider,
    MessageRejected,
    TemplateMessage,
)
from services.notifications.providers.whatsapp import WhatsAppProvider
from services.notifications.settings import NotificationsSettings


def register(service: Service, settings: NotificationsSettings) -> None:
    """Subscribe the notifications handlers."""
    whatsapp: MessageProvider = WhatsAppProvider(
        service.http_client(base_url=settings.whatsapp_base_url, timeout=settings.whatsapp_timeout_s),
        phone_number_id=settings.whatsapp_phone_number_id,
        token=settings.whatsapp_token,
    )

    @service.handles(OrderStatusChanged)
    async def on_status_changed(ctx: HandlerContext, event: OrderStatusChanged) -> None:
        message = domain.message_for(event)
        if message is None:
            return
        if not await store.insert_queued(ctx.conn, message=message, cause_event_id=ctx.event_id):
            ctx.log.info("message already sent", order_id=event.order_id, template=message.template)
            return
        audit = {
            "order_id": message.order_id,
            "message_id": message.message_id,
            "channel": message.channel,
            "template": message.template,
            "language": message.language,
            "recipient": mask_phone(message.recipient),
            "cause_event_id": ctx.event_id,
        }
        # ProviderUnavailable propagates: the chassis rolls back and retries, and the same
        # message id (the idempotency key) keeps the customer from getting it twice.
        try:
            receipt = await whatsapp.send_template(
                TemplateMessage(
                    idempotency_key=message.message_id,
                    recipient=message.recipient,
                    template=message.template,
                    language=message.language,
                    parameters=message.parameters,
                )
            )
        except MessageRejected as exc:
            await store.mark_failed(ctx.conn, message_id=message.message_id, error=str(exc))
            ctx.log.warning(
                "message refused", order_id=event.order_id, template=message.template, error=str(exc)
            )
            await ctx.emit(NotificationFailed(**audit, error=str(exc)))
            return
        await store.mark_sent(
            ctx.conn, message_id=message.message_id, provider_message_id=receipt.provider_message_id
        )
        ctx.log.info("message sent", order_id=event.order_id, template=message.template)
        await ctx.emit(NotificationSent(**audit, provider_message_id=receipt.provider_message_id))
