"""Wiring of the returns service: settings, migrations, handlers, routes, the Razorpay gateway and
the refund and SLA sweeps on the chassis."""

from __future__ import annotations

from pathlib import Path

from chassis.service import Service
from services.returns import api, handlers, refunds, sweeps, webhooks
from services.returns.gateways.interface import RefundGateway
from services.returns.gateways.razorpay import RazorpayGateway
from services.returns.settings import ReturnsSettings


def build(settings: ReturnsSettings | None = None, gateway: RefundGateway | None = None) -> Service:
    """The returns service, ready to run."""
    settings = settings or ReturnsSettings()
    service = Service("returns", settings=settings, migrations=Path(__file__).parent / "migrations")
    service.include_handlers(handlers.subscriptions, None)
    service.include_router(api.router)
    service.include_router(webhooks.router)
    payments = gateway or RazorpayGateway(
        service.http_client(base_url=settings.razorpay_base_url, timeout=settings.razorpay_timeout_s),
        key_id=settings.razorpay_key_id,
        key_secret=settings.razorpay_key_secret,
        account_number=settings.razorpayx_account_number,
    )

    @service.on_start
    async def seal_bank_numbers(svc: Service) -> None:
        await refunds.seal_stored_bank_numbers(svc, settings)

    sweeps.register(service, settings, payments)
    return service
