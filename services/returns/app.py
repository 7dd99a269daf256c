"""Wiring of the returns service: settings, migrations, handlers, routes, the Razorpay gateway and
the refund and SLA sweeps on the chassis."""

from __future__ import annotations

from pathlib import Path

from chassis.service import Service
from services.returns import api, handlers, refunds
from services.returns.gateways.interface import RefundGateway
from services.returns.gateways.razorpay import RazorpayGateway
from services.returns.settings import ReturnsSettings


def build(settings: ReturnsSettings | None = None, gateway: RefundGateway | None = None) -> Service:
    """The returns service, ready to run."""
    settings = settings or ReturnsSettings()
    service = Service("returns", settings=settings, migrations=Path(__file__).parent / "migrations")
    handlers.register(service, settings)
    service.include_router(api.router)
    service.include_router(api.webhooks)
    payments = gateway or RazorpayGateway(
        service.http_client(base_url=settings.razorpay_base_url, timeout=settings.razorpay_timeout_s),
        key_id=settings.razorpay_key_id,
        key_secret=settings.razorpay_key_secret,
        account_number=settings.razorpayx_account_number,
    )

    @service.on_start
    async def seal_bank_numbers(svc: Service) -> None:
        await refunds.seal_stored_bank_numbers(svc, settings)

    @service.every(settings.refund_sweep_seconds, name="send-refunds")
    async def send_refunds(svc: Service) -> None:
        await refunds.send_due_refunds(svc, payments, settings)
        await refunds.reconcile(svc, payments, settings)

    @service.every(settings.sla_sweep_seconds, name="refund-sla")
    async def refund_sla(svc: Service) -> None:
        await refunds.alert_overdue(svc, settings)

    return service
