"""Wiring of the invoicing service: settings, migrations, handlers, routes and the sweeps that issue
invoices held for a missing fact (a tax class, a warehouse's GSTIN) once it is given, credit notes
that waited for their invoice, and B2B e-invoices to register with the IRP (NIC's, or the sandbox's)."""

from __future__ import annotations

from pathlib import Path

from chassis.service import Service
from services.invoicing import api, handlers, sweeps
from services.invoicing.providers.interface import Irp
from services.invoicing.providers.nic_irp import NicIrp
from services.invoicing.settings import InvoicingSettings


def build(settings: InvoicingSettings | None = None, irp: Irp | None = None) -> Service:
    """The invoicing service, ready to run."""
    settings = settings or InvoicingSettings()
    service = Service(
        "invoicing", settings=settings, migrations=Path(__file__).parent / "migrations", follower=True
    )
    service.include_handlers(handlers.subscriptions, settings)
    service.include_router(api.router)
    portal = irp or NicIrp(
        service.http_client(base_url=settings.irp_base_url, timeout=settings.irp_timeout_s),
        client_id=settings.irp_client_id,
        client_secret=settings.irp_client_secret,
        username=settings.irp_username,
        password=settings.irp_password,
        public_key_pem=settings.irp_public_key,
    )
    sweeps.register(service, settings, portal)
    return service
