"""Periodic jobs of the invoicing service: issue the invoices held for a missing fact (a tax class, a
warehouse's GSTIN) once it is given, and the credit notes that waited for their invoice."""

from __future__ import annotations

from chassis.clock import utcnow
from chassis.service import Service
from services.invoicing import crediting, issuing
from services.invoicing.settings import InvoicingSettings


def register(service: Service, settings: InvoicingSettings) -> None:
    """Every periodic job of the service, on ``service``."""

    @service.every(settings.due_sweep_seconds, name="issue-due-invoices")
    async def issue_due(svc: Service) -> None:
        await issuing.issue_due(svc, settings, now=utcnow())

    @service.every(settings.due_sweep_seconds, name="credit-due-requests")
    async def credit_due(svc: Service) -> None:
        await crediting.credit_due(svc, now=utcnow())
