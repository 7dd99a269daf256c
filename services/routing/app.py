"""Wiring of the routing service: settings, migrations, handlers and routes on the chassis."""

from __future__ import annotations

from pathlib import Path

from chassis.service import Service
from services.routing import api, handlers
from services.routing.settings import RoutingSettings


def build(settings: RoutingSettings | None = None) -> Service:
    """The routing service, ready to run."""
    settings = settings or RoutingSettings()
    service = Service("routing", settings=settings, migrations=Path(__file__).parent / "migrations")
    service.include_handlers(handlers.subscriptions, handlers.Planning.of(settings))
    service.include_router(api.router)
    return service
