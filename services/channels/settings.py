"""Settings of the channels service (environment variables): port, sync pace, the demo accounts."""

from __future__ import annotations

from pydantic import Field

from chassis.settings import ServiceSettings


class ChannelsSettings(ServiceSettings):
    """Channels: port 8007, how fast owed stock and tracking go out, provider timeouts."""

    http_port: int = 8007
    channels_demo_accounts: bool = Field(
        default=False,
        description="Local development only: create demo-shopify and demo-woo (sandbox stores, dev "
        "webhook secrets) at start, and accept dev-*-local secrets. Never set in a deployment.",
    )
    shopify_api_version: str = "2026-04"
    provider_timeout_s: float = 10.0
    intake_sweep_s: float = Field(
        default=1.0, description="How often webhooks accepted but not yet processed are picked up."
    )
    push_every_s: float = Field(default=0.25, description="How often owed stock levels and tracking go out.")
    push_retry_max_s: float = Field(default=300.0, description="Longest wait between two tries of a push.")
