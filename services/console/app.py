"""Wiring of the console: settings, migrations, the read model's handlers, its pages, the owning
services' clients and the demo operators on the chassis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from chassis.logging import get_logger
from chassis.service import Service
from services.console import api, fulfilment, handlers, sessions, setup_screen, sweeps
from services.console.owners import Owners
from services.console.settings import ConsoleSettings

log = get_logger(__name__)
READ_MODEL_POLL_S = 0.02
"""How often an action looks whether the read model has applied its events."""
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class ConsoleService(Service):
    """A Service whose HTTP app is a signed-in web UI besides the chassis' health routes."""

    def __init__(self, settings: ConsoleSettings, owners: Owners | None, clock: Clock) -> None:
        super().__init__(
            "console", settings=settings, migrations=Path(__file__).parent / "migrations", follower=True
        )
        self.console_settings = settings
        self.clock = clock
        self.owners = owners or Owners(
            {
                name: self.http_client(base_url=url, timeout=settings.owner_timeout_s)
                for name, url in (
                    ("orders", settings.orders_url),
                    ("routing", settings.routing_url),
                    ("inventory", settings.inventory_url),
                    ("shipping", settings.shipping_url),
                    ("returns", settings.returns_url),
                    ("notifications", settings.notifications_url),
                )
            },
            settings.role_keys(),
            self.read_model_has,
        )

    async def read_model_has(self, written: list[tuple[str, str]]) -> None:
        """Return once the read model has applied these events an owner just wrote, or after
        READ_MODEL_WAIT_S. The console follows (ADR 543): without this an operator's next page could
        be one fetch wait behind what they just did (ADR 545). Events on topics it does not read are
        not waited for."""
        followed = set(self.topics)
        ids = list(dict.fromkeys(event_id for topic, event_id in written if topic in followed))
        if not ids or self.pool is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.console_settings.read_model_wait_s
        while True:
            applied = await self.pool.fetchval(
                "SELECT count(*) FROM inbox WHERE event_id = ANY($1::text[])", ids
            )
            if applied >= len(ids):
                return
            if loop.time() >= deadline:
                log.warning(
                    "read model still behind an action; showing the page anyway", waiting=len(ids) - applied
                )
                return
            await asyncio.sleep(READ_MODEL_POLL_S)

    def http_app(self) -> FastAPI:
        app = super().http_app()
        app.state.clock = self.clock
        app.state.owners = self.owners

        @app.exception_handler(sessions.SignInNeeded)
        async def _sign_in(_request: Request, _exc: sessions.SignInNeeded) -> RedirectResponse:
            return RedirectResponse("/login", status_code=303)

        @app.exception_handler(sessions.CsrfRefused)
        async def _csrf(request: Request, _exc: sessions.CsrfRefused) -> HTMLResponse:
            return api.templates.TemplateResponse(
                request, "refused.html", {"operator": None, "tabs": {}, "q": {}}, status_code=403
            )

        return app


def build(
    settings: ConsoleSettings | None = None, *, owners: Owners | None = None, clock: Clock = _now
) -> Service:
    """The console, ready to run."""
    settings = settings or ConsoleSettings()
    service = ConsoleService(settings, owners, clock)
    service.include_handlers(handlers.subscriptions, None)
    service.include_router(api.router)
    service.include_router(fulfilment.router)
    service.include_router(setup_screen.router)

    @service.on_start
    async def operators(svc: Service) -> None:
        created = await sessions.ensure_operators(svc.pool, settings)
        if created:
            log.info("operators created", operators=created)

    sweeps.register(service, clock)
    return service
