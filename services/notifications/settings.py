"""Settings of the notifications service (environment variables)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from chassis.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    """Notifications: port 8005, and the WhatsApp Cloud API account it sends from."""

    http_port: int = 8005
    whatsapp_base_url: str = Field(
        default="", description="Meta Graph API base URL; empty means the sandbox (SANDBOX_URL)."
    )
    whatsapp_phone_number_id: str = "1234567890"
    whatsapp_token: str = "sandbox-token"
    whatsapp_timeout_s: float = 10.0

    @model_validator(mode="after")
    def _default_to_sandbox(self) -> Self:
        if not self.whatsapp_base_url:
            self.whatsapp_base_url = self.sandbox_url
        return self
