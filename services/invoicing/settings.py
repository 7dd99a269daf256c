"""Settings of the invoicing service (environment variables)."""

from __future__ import annotations

from pydantic import Field

from chassis.settings import ServiceSettings
from contracts.enums import Channel


class InvoicingSettings(ServiceSettings):
    """Invoicing: port 8008, whether prices include GST, which channels invoice for the seller."""

    http_port: int = 8008
    prices_include_tax: bool = Field(
        default=True,
        description="Order prices include GST (Indian retail prices do): taxable values are worked back "
        "from them. false: GST is added on top of the prices.",
    )
    marketplace_invoiced_channels: list[Channel] = Field(
        default_factory=list,
        description="Channels whose marketplace issues the tax invoice itself (e.g. flipkart when it "
        "invoices on the seller's behalf): their shipments are marked, never invoiced here too.",
    )
    due_sweep_seconds: float = Field(
        default=5, gt=0, description="How often shipments packed but not yet invoiced are tried again."
    )
