"""Wiring of the notifications service: settings, migrations, providers, handlers, the dispatcher,
the watchers and the routes on the chassis."""

from __future__ import annotations

from pathlib import Path

from chassis.service import Service
from services.notifications import api, handlers, watchers
from services.notifications.dispatcher import Dispatcher
from services.notifications.domain.policy import CATALOGUE
from services.notifications.providers.interface import MessageProvider
from services.notifications.providers.slack import SlackWebhook
from services.notifications.providers.sms_msg91 import Msg91Provider
from services.notifications.providers.whatsapp import WhatsAppProvider
from services.notifications.settings import NotificationsSettings


def build(settings: NotificationsSettings | None = None) -> Service:
    """The notifications service, ready to run."""
    settings = settings or NotificationsSettings()
    service = Service("notifications", settings=settings, migrations=Path(__file__).parent / "migrations")
    providers: dict[str, MessageProvider] = {
        "whatsapp": WhatsAppProvider(
            service.http_client(base_url=settings.whatsapp_base_url, timeout=settings.whatsapp_timeout_s),
            phone_number_id=settings.whatsapp_phone_number_id,
            token=settings.whatsapp_token,
        ),
        "sms": Msg91Provider(
            service.http_client(base_url=settings.msg91_base_url, timeout=settings.msg91_timeout_s),
            authkey=settings.msg91_authkey,
            sender=CATALOGUE.sender,
        ),
        "slack": SlackWebhook(
            service.http_client(base_url=settings.alert_webhook_url, timeout=settings.msg91_timeout_s),
            webhook_url=settings.alert_webhook_url,
        ),
    }
    handlers.register(service, settings)
    dispatcher = Dispatcher(service, settings, providers)

    @service.every(settings.dispatch_interval_s, name="dispatch")
    async def dispatch(_service: Service) -> None:
        await dispatcher.run_once()

    watchers.register(service, settings)
    service.include_router(api.router)
    return service
