"""Wiring of the returns service: settings, migrations, handlers and routes on the chassis."""

from __future__ import annotations

from pathlib import Path

from chassis.service import Service
from services.returns import api, handlers
from services.returns.settings import ReturnsSettings


def build(settings: ReturnsSettings | None = None) -> Service:
    """The returns service, ready to run."""
    settings = settings or ReturnsSettings()
    service = Service("returns", settings=settings, migrations=Path(__file__).parent / "migrations")
    handlers.register(service, settings)
    service.include_router(api.router)
    return service
