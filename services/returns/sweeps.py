"""Periodic jobs of the returns service: send due refunds and reconcile those in flight with the
gateway, and say when a refund is overdue (returns owns the refund SLA, ADR 0230)."""

from __future__ import annotations

from chassis.service import Service
from services.returns import refunds
from services.returns.gateways.interface import RefundGateway
from services.returns.settings import ReturnsSettings


def register(service: Service, settings: ReturnsSettings, payments: RefundGateway) -> None:
    """Every periodic job of the service, on ``service``."""

    @service.every(settings.refund_sweep_seconds, name="send-refunds")
    async def send_refunds(svc: Service) -> None:
        await refunds.send_due_refunds(svc, payments, settings)
        await refunds.reconcile(svc, payments, settings)

    @service.every(settings.sla_sweep_seconds, name="refund-sla")
    async def refund_sla(svc: Service) -> None:
        await refunds.alert_overdue(svc, settings)
