"""Periodic jobs of the console: forget operators' sessions that have expired."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chassis.service import Service
from services.console import store


def register(service: Service, clock: Callable[[], datetime]) -> None:
    """Every periodic job of the service, on ``service``."""

    @service.every(3600, name="purge-sessions")
    async def purge(svc: Service) -> None:
        await store.purge_sessions(svc.pool, clock())
