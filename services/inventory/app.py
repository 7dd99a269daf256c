"""Wiring of the inventory service: settings, migrations, handlers, sweeps and routes on the chassis."""

from __future__ import annotations

from pathlib import Path

from chassis.service import Service
from services.inventory import api, handlers, sweeps
from services.inventory.items import api as items_api
from services.inventory.settings import InventorySettings


def build(settings: InventorySettings | None = None) -> Service:
    """The inventory service, ready to run."""
    settings = settings or InventorySettings()
    service = Service("inventory", settings=settings, migrations=Path(__file__).parent / "migrations")
    service.include_handlers(handlers.subscriptions, settings)
    sweeps.register(service, settings)
    service.include_router(api.router)
    service.include_router(items_api.router)
    return service
