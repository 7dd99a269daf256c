"""Settings of the invoicing service (environment variables)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from chassis.settings import ServiceSettings, account, provider_url, secret
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
    einvoicing: bool = Field(
        default=True,
        description="Register B2B invoices of sellers above ₹5 crore turnover with the IRP. false: "
        "they wait (state due), and the IRP_* settings are not needed.",
    )
    irp_base_url: str = provider_url("NIC's IRP API (or a GSP's); empty means the sandbox (SANDBOX_URL).")
    irp_client_id: str = account("dev-irp-client-local", "The IRP API client id.")
    irp_client_secret: str = secret("dev-irp-client-secret-local", "The IRP API client secret.")
    irp_username: str = account("dev-irp-user-local", "The e-invoice API user of the seller.")
    irp_password: str = secret("dev-irp-password-local", "That user's password.")
    irp_public_key: str = account(
        "", "NIC's public key (PEM) the login is encrypted with; empty in development: the sandbox's."
    )
    irp_timeout_s: float = 15.0
    irn_sweep_seconds: float = Field(default=2, gt=0, description="How often due e-invoices are sent.")
    irn_retry_seconds: float = Field(
        default=10, ge=0, description="After the IRP failed to answer, the wait before trying again."
    )
    irn_lease_seconds: float = Field(
        default=30, gt=0, description="A registration not answered within this is tried again."
    )

    @model_validator(mode="after")
    def _irp_defaults_to_sandbox(self) -> Self:
        if not self.irp_base_url:
            self.irp_base_url = self.sandbox_url
        return self

    def unsafe_for_production(self) -> list[str]:
        """As every service, except that a seller who does not e-invoice needs no IRP settings."""
        problems = super().unsafe_for_production()
        return problems if self.einvoicing else [p for p in problems if not p.startswith("IRP_")]
