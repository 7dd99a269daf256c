"""Settings every service shares, read from environment variables (pydantic-settings).

A service subclasses ServiceSettings for its own knobs; names are the env var names, lower-cased.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Connection, HTTP, logging, tracing and consumer settings of one service process."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    kafka_bootstrap_servers: str = "localhost:9092"
    database_url: str = Field(
        default="postgresql://postgres@localhost:5432/postgres",
        description="Server URL; each service uses its own database dabba_<service> on it.",
    )
    http_host: str = "0.0.0.0"
    http_port: int = 0
    sandbox_url: str = "http://localhost:8010"
    api_keys: str = Field(
        default="",
        repr=False,
        description="Who may call the HTTP API: `name:role:key` entries separated by commas "
        "(roles: admin, ops, warehouse, viewer, channel). Empty refuses every call but health.",
    )
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    otel_exporter_otlp_endpoint: str = "http://localhost:4318"

    db_pool_min: int = 2
    db_pool_max: int = 10
    consumer_max_records: int = 500
    consumer_concurrency: int = Field(
        default=1,
        ge=1,
        le=12,
        description="Consumers in the group per process; >1 overlaps provider calls across partitions.",
    )
    consumer_batch_timeout_ms: int = 20
    consumer_fetch_min_bytes: int = Field(
        default=32 * 1024,
        description="The broker holds a fetch until this much is ready or the wait below passes: "
        "bigger batches per transaction under load, at most consumer_fetch_max_wait_ms more latency.",
    )
    consumer_fetch_max_wait_ms: int = 50
    consumer_max_attempts: int = Field(
        default=3, ge=1, description="Tries before a message is dead-lettered."
    )
    consumer_retry_backoff_ms: int = 200
    outbox_batch_size: int = 1000
    outbox_poll_interval_ms: int = Field(
        default=1000, description="Fallback poll when no NOTIFY arrives (e.g. a lost connection)."
    )
