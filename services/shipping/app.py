"""Wiring of the shipping service: settings, migrations, handlers and routes on the chassis."""

from __future__ import annotations

from pathlib import Path

from chassis.service import Service
from services.shipping import api, handlers
from services.shipping.settings import ShippingSettings


def build(settings: ShippingSettings | None = None) -> Service:
    """The shipping service, ready to run."""
    settings = settings or ShippingSettings()
    service = Service("shipping", settings=settings, migrations=Path(__file__).parent / "migrations")
    handlers.register(service, settings)
    service.include_router(api.router)
    return service
