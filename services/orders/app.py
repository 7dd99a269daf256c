"""Wiring of the orders service: settings, migrations, handlers, sweeps and routes on the chassis."""

from __future__ import annotations

from pathlib import Path

from chassis.service import Service
from services.orders import api, handlers, priorities, sweeps, webhooks
from services.orders.settings import OrdersSettings


def build(settings: OrdersSettings | None = None) -> Service:
    """The orders service, ready to run."""
    settings = settings or OrdersSettings()
    service = Service("orders", settings=settings, migrations=Path(__file__).parent / "migrations")
    service.include_handlers(handlers.subscriptions, settings)
    sweeps.register(service, settings)
    service.include_router(api.router)
    service.include_router(webhooks.router)
    service.include_router(priorities.router)
    return service
