"""Wiring of the notifications service: settings, migrations, providers, handlers, the dispatcher,
the sweeps and the routes on the chassis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from chassis.service import Service
from services.notifications import api, catalogue, handlers, sweeps, webhooks
from services.notifications.dispatcher import Dispatcher
from services.notifications.domain.policy import CATALOGUE
from services.notifications.providers.interface import MessageProvider
from services.notifications.providers.slack import SlackWebhook
from services.notifications.providers.sms_msg91 import Msg91Provider
from services.notifications.providers.whatsapp import WhatsAppProvider
from services.notifications.sending import Sending
from services.notifications.settings import NotificationsSettings

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class NotificationsService(Service):
    """A Service whose routes also reach WhatsApp (operators' replies to tickets) and a clock (the
    24-hour window), both on the HTTP app's state."""

    def __init__(self, settings: NotificationsSettings, clock: Clock) -> None:
        super().__init__("notifications", settings=settings, migrations=Path(__file__).parent / "migrations")
        self.clock = clock
        self.sending = Sending()
        self.whatsapp = WhatsAppProvider(
            self.http_client(base_url=settings.whatsapp_base_url, timeout=settings.whatsapp_timeout_s),
            phone_number_id=settings.whatsapp_phone_number_id,
            token=settings.whatsapp_token,
        )

    def http_app(self) -> FastAPI:
        app = super().http_app()
        app.state.clock = self.clock
        app.state.whatsapp = self.whatsapp
        return app


def build(settings: NotificationsSettings | None = None, *, clock: Clock = _now) -> Service:
    """The notifications service, ready to run."""
    settings = settings or NotificationsSettings()
    service = NotificationsService(settings, clock)
    providers: dict[str, MessageProvider] = {
        "whatsapp": service.whatsapp,
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
    service.include_handlers(handlers.subscriptions, settings)
    dispatcher = Dispatcher(service, settings, providers, service.sending)
    sweeps.register(service, settings, dispatcher)
    service.include_router(api.router)
    service.include_router(webhooks.router)
    service.include_router(catalogue.router)
    return service
