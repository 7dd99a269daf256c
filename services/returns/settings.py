"""Settings of the returns service (environment variables)."""

from __future__ import annotations

from pydantic import Field

from chassis.settings import ServiceSettings


class ReturnsSettings(ServiceSettings):
    """Returns: port 8006, and the return window."""

    http_port: int = 8006
    return_window_days: int = Field(default=7, ge=0, description="Days after delivery to ask.")
