"""Settings of the shipping service (environment variables)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from chassis.settings import ServiceSettings


class ShippingSettings(ServiceSettings):
    """Shipping: port 8004, and the courier it books with."""

    http_port: int = 8004
    courier_base_url: str = Field(
        default="", description="Delhivery's API base URL; empty means the sandbox (SANDBOX_URL)."
    )
    delhivery_token: str = "sandbox-token"
    courier_timeout_s: float = 10.0
    unit_weight_grams: int = Field(
        default=500, ge=1, description="Parcel weight per unit until the catalogue has weights."
    )

    @model_validator(mode="after")
    def _default_to_sandbox(self) -> Self:
        if not self.courier_base_url:
            self.courier_base_url = self.sandbox_url
        return self
