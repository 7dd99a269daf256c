"""Wiring of the invoicing service: settings, migrations, handlers, routes and the sweeps that issue
invoices held for a missing fact (a tax class, a warehouse's GSTIN) once it is given, and credit notes
that waited for their invoice."""

from __future__ import annotations

from pathlib import Path

from chassis.service import Service
from services.invoicing import api, handlers, sweeps
from services.invoicing.settings import InvoicingSettings


def build(settings: InvoicingSettings | None = None) -> Service:
    """The invoicing service, ready to run."""
    settings = settings or InvoicingSettings()
    service = Service("invoicing", settings=settings, migrations=Path(__file__).parent / "migrations")
    handlers.register(service, settings)
    service.include_router(api.router)
    sweeps.register(service, settings)
    return service
