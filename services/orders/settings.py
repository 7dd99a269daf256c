"""Settings of the orders service (environment variables)."""

from __future__ import annotations

from pydantic import Field

from chassis.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    """Orders: port 8001, and the intake limits."""

    http_port: int = 8001
    cod_limit_paise: int = Field(default=5_000_000, description="Largest COD order (₹50,000).")
