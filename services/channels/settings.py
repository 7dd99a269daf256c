"""Settings of the channels service (environment variables): port, sync pace, provider timeouts.

In development mode (DABBA_MODE, chassis.settings) channels creates the sandbox's two demo stores at
start and accepts dev-…-local secrets for accounts; in production it refuses them."""

from __future__ import annotations

from pydantic import Field

from chassis.settings import ServiceSettings, secret


class ChannelsSettings(ServiceSettings):
    """Channels: port 8007, how fast owed stock and tracking go out, provider timeouts."""

    http_port: int = 8007
    shopify_api_version: str = "2026-04"
    provider_timeout_s: float = 10.0
    intake_sweep_s: float = Field(
        default=1.0,
        description="How often the intake worker looks for webhooks stored but not taken in when nothing "
        "woke it (after a crash, or stored by another replica).",
    )
    webhook_account_cache_s: float = Field(
        default=2.0,
        description="How long webhooks reuse an account (its secret) read from the database: a changed "
        "secret or a disabled account takes effect within this.",
    )
    intake_linger_s: float = Field(
        default=0.02,
        description="How long the intake worker waits after being woken, so deliveries arriving together "
        "are taken in as one batch (one transaction) rather than one by one.",
    )
    intake_batch: int = Field(
        default=500, description="Most webhooks taken in (mapped and published) in one transaction."
    )
    push_every_s: float = Field(default=0.25, description="How often owed stock levels and tracking go out.")
    full_push_hour: int = Field(
        default=3,
        ge=0,
        le=23,
        description="Hour (seller's time zone) when every listing is pushed again and drift reported.",
    )
    seller_time_zone: str = Field(
        default="Asia/Kolkata", description="The seller's time zone, for the nightly push."
    )
    push_retry_max_s: float = Field(default=300.0, description="Longest wait between two tries of a push.")
    poll_every_s: float = Field(
        default=60.0, description="How often each store is asked for orders changed since the last poll."
    )
    poll_overlap_s: float = Field(
        default=120.0,
        description="How far before the cursor each poll starts (clock skew, same-second changes).",
    )
    poll_first_lookback_s: float = Field(
        default=3600.0,
        description="How far back an account's first poll looks (not the store's whole history).",
    )
    notice_wait_s: int = Field(
        default=10,
        ge=0,
        le=20,
        description="How long one read of a marketplace's notification queue (Amazon's ORDER_CHANGE in SQS) "
        "waits for its first notice (SQS long polling, at most 20 s).",
    )
    orders_url: str = Field(
        default="http://localhost:8001", description="The orders service, for cancellations."
    )
    orders_api_key: str = secret(
        "dev-channels-key-local",
        "channels' key to orders' API (an ops key named channels): cancels orders their store cancelled.",
    )
    shipping_url: str = Field(
        default="http://localhost:8004",
        description="The shipping service, for marketplace AWBs and what the marketplace reports.",
    )
    shipping_api_key: str = secret(
        "dev-channels-key-local",
        "channels' key to shipping's API (an ops key named channels): records the AWB of a marketplace's "
        "label and what the marketplace reports of the parcels it carries.",
    )
