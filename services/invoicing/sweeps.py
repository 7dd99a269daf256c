"""Periodic jobs of the invoicing service: issue the invoices held for a missing fact (a tax class, a
warehouse's GSTIN) once it is given, the credit notes that waited for their invoice, and register due
B2B e-invoices with the IRP."""

from __future__ import annotations

from chassis.clock import utcnow
from chassis.service import Service
from services.invoicing import crediting, einvoicing, issuing
from services.invoicing.providers.interface import Irp
from services.invoicing.settings import InvoicingSettings


def register(service: Service, settings: InvoicingSettings, irp: Irp) -> None:
    """Every periodic job of the service, on ``service``."""

    if settings.einvoicing:

        @service.every(settings.irn_sweep_seconds, name="register-due-einvoices")
        async def register_einvoices(svc: Service) -> None:
            await einvoicing.register_due(svc.pool, irp, settings)

    @service.every(settings.due_sweep_seconds, name="issue-due-invoices")
    async def issue_due(svc: Service) -> None:
        await issuing.issue_due(svc, settings, now=utcnow())

    @service.every(settings.due_sweep_seconds, name="credit-due-requests")
    async def credit_due(svc: Service) -> None:
        await crediting.credit_due(svc, now=utcnow())
