"""Settings of the notifications service (environment variables)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from chassis.settings import ServiceSettings, account, provider_url, secret
from services.notifications.domain.delivery import QuietHours

SANDBOX_APP_SECRET = "dev-whatsapp-app-secret-local"
"""The sandbox signs its WhatsApp webhooks with this unless WHATSAPP_APP_SECRET says otherwise."""


class NotificationsSettings(ServiceSettings):
    """Notifications: port 8005, the providers it sends through, and how it paces them."""

    http_port: int = 8005
    whatsapp_base_url: str = provider_url("Meta Graph API base URL; empty means the sandbox (SANDBOX_URL).")
    whatsapp_phone_number_id: str = account("1234567890", "The WhatsApp Business phone number id.")
    whatsapp_token: str = secret("dev-whatsapp-token-local", "Meta Graph API access token.")
    whatsapp_timeout_s: float = 10.0
    whatsapp_app_secret: str = secret(SANDBOX_APP_SECRET, "Meta app secret: checks X-Hub-Signature-256.")
    whatsapp_verify_token: str = secret(
        "dev-whatsapp-verify-token-local", "Answers Meta's webhook verification GET."
    )
    msg91_base_url: str = provider_url("MSG91 base URL; empty means the sandbox.")
    msg91_authkey: str = secret("dev-msg91-authkey-local", "MSG91 auth key.")
    msg91_timeout_s: float = 10.0
    msg91_webhook_token: str = secret(
        "dev-msg91-webhook-token-local",
        "MSG91 does not sign its delivery reports: register the webhook URL as "
        "<notifications>/webhooks/msg91?token=<this>, and only a report carrying it is read.",
    )
    alert_webhook_url: str = provider_url(
        "Slack-compatible incoming webhook for operator alerts; empty: the sandbox."
    )
    quiet_hours: str = Field(
        default="21:00-09:00", description="IST hours when non-urgent messages wait; empty for none."
    )
    dispatch_interval_s: float = Field(default=0.2, gt=0, description="How often due messages are sent.")
    dispatch_batch: int = Field(default=200, ge=1, description="Most messages per channel per round.")
    dispatch_lease_s: float = Field(
        default=30.0, gt=0, description="A claimed message is retried by another round after this."
    )
    whatsapp_uncertain_grace_s: float = Field(
        default=120.0,
        ge=0,
        description="A WhatsApp send that started and recorded no outcome (a crash) waits this long, "
        "from its start, for Meta's status webhook to name it before it is sent again.",
    )
    send_max_attempts: int = Field(default=6, ge=1, description="Tries before a transient error is final.")
    send_retry_base_s: float = Field(default=1.0, gt=0)
    send_retry_cap_s: float = Field(default=300.0, gt=0)
    rate_whatsapp_per_s: float = Field(default=80.0, gt=0, description="Meta's default 80 msg/s per number.")
    rate_sms_per_s: float = Field(default=50.0, gt=0)
    rate_slack_per_s: float = Field(default=1.0, gt=0, description="Slack allows about 1 msg/s per webhook.")
    watch_interval_s: float = Field(default=60.0, gt=0, description="How often the DLQs are checked.")
    parked_status_interval_s: float = Field(
        default=5.0,
        gt=0,
        description="How often a delivery status parked before its send was recorded is matched "
        "again: one that raced the record of its send waits at most this long.",
    )

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_parse(cls, value: str) -> str:
        QuietHours.parse(value)
        return value

    @property
    def quiet(self) -> QuietHours | None:
        """The parsed quiet hours."""
        return QuietHours.parse(self.quiet_hours)

    @model_validator(mode="after")
    def _default_to_sandbox(self) -> Self:
        self.whatsapp_base_url = self.whatsapp_base_url or self.sandbox_url
        self.msg91_base_url = self.msg91_base_url or self.sandbox_url
        self.alert_webhook_url = self.alert_webhook_url or (
            self.sandbox_url.rstrip("/") + "/slack/services/T0DABBA/B0OPS/sandbox-alerts"
        )
        return self
