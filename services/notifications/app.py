"""Wiring of the notifications service: settings, migrations, handlers and routes on the chassis."""

from __future__ import annotations

from pathlib import Path

from chassis.service import Service
from services.notifications import api, handlers
from services.notifications.settings import NotificationsSettings


def build(settings: NotificationsSettings | None = None) -> Service:
    """The notifications service, ready to run."""
    settings = settings or NotificationsSettings()
    service = Service("notifications", settings=settings, migrations=Path(__file__).parent / "migrations")
    handlers.register(service, settings)
    service.include_router(api.router)
    return service
