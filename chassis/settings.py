"""Settings every service shares, read from environment variables (pydantic-settings).

A service subclasses ServiceSettings for its own knobs; names are the env var names, lower-cased.
Secrets and provider URLs are declared with `secret()`, `account()` and `provider_url()`: their
defaults are for local development only, and a process outside development mode refuses to start
while any of them is missing, development-valued or pointing at the sandbox (docs/adr/0065).
"""

from __future__ import annotations

import re
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topics import DEFAULT_PARTITIONS

Mode = Literal["development", "production"]

DEVELOPMENT_VALUE = re.compile(r"^dev-[a-z0-9-]+-local$")
"""Local development secrets and keys follow `dev-<name>-local` (DESIGN.md), so any is recognisable."""

EXIT_UNSAFE_SETTINGS = 78
"""The exit status of a process that refuses its settings (sysexits' EX_CONFIG)."""

_KIND = "dabba_kind"


def secret(dev_value: str, description: str) -> Any:
    """A secret (webhook secret, API token, password): never logged, its default for development only."""
    assert DEVELOPMENT_VALUE.match(dev_value), f"{dev_value!r} does not follow dev-<name>-local"
    return Field(default=dev_value, repr=False, description=description, json_schema_extra={_KIND: "secret"})


def account(dev_value: str, description: str) -> Any:
    """A provider account identifier (key id, phone number id, login): its default names the sandbox's."""
    return Field(default=dev_value, description=description, json_schema_extra={_KIND: "account"})


def provider_url(description: str) -> Any:
    """A provider's base URL; empty falls back to the sandbox, which only development mode accepts."""
    return Field(default="", description=description, json_schema_extra={_KIND: "provider_url"})


class UnsafeSettings(Exception):
    """This process is not in development mode and some settings are development or missing."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class ServiceSettings(BaseSettings):
    """Connection, HTTP, logging, tracing and consumer settings of one service process."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    dabba_mode: Mode = Field(
        default="production",
        description="`development` accepts the documented development secrets and the sandbox; make run, "
        "make up, the tests and the bench set it. Anything else refuses to start on them.",
    )
    kafka_bootstrap_servers: str = "localhost:9092"
    kafka_topic_partitions: int = Field(
        default=DEFAULT_PARTITIONS,
        ge=1,
        description="Partitions of each topic Dabba creates (DLQs have one). It caps a service's busy "
        "consumers (replicas × CONSUMER_CONCURRENCY), and every fetch names every partition a "
        "consumer holds, so more cost CPU at every hop even when idle. 4 on one machine; choose "
        "more before go-live for a cluster: topics that exist keep theirs (ADR 541, docs/scaling.md).",
    )
    kafka_replication_factor: int = Field(
        default=1,
        ge=1,
        description="Copies of each partition of a topic Dabba creates: 1 on a single broker; 3 on a "
        "cluster of three or more brokers, so one can be lost (docs/scaling.md). Topics that exist "
        "keep theirs.",
    )
    kafka_min_insync_replicas: int = Field(
        default=1,
        ge=1,
        description="min.insync.replicas set on each topic Dabba creates: with acks=all a write is "
        "acknowledged only once this many copies have it (2 with a replication factor of 3). At most "
        "KAFKA_REPLICATION_FACTOR.",
    )
    database_url: str = Field(
        default="postgresql://postgres@localhost:5432/postgres",
        description="The PostgreSQL server. The service logs in as its own role dabba_<service> with "
        "DATABASE_PASSWORD, on its own database dabba_<service>. In development mode a user named "
        "here is taken as an administrator's, to create that role and database; elsewhere "
        "`python -m chassis.databases` creates them once (docs/adr/0110).",
    )
    database_password: str = secret(
        "dev-database-local", "The password of this service's own PostgreSQL role (dabba_<service>)."
    )
    http_host: str = "0.0.0.0"
    http_port: int = 0
    http_max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="The largest request body (bytes) any route accepts; larger answers 413 before "
        "anything reads it, webhooks included.",
    )
    http_max_upload_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="The largest body of a file upload (CSV imports, routes marked chassis.http.upload).",
    )
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
    consumer_batch_timeout_ms: int = Field(
        default=500,
        ge=1,
        description="How long an idle consumer waits for a record before it looks again; a record "
        "that arrives is handed over at once, so this sets only how often an idle loop wakes (ADR 460).",
    )
    consumer_fetch_min_bytes: int = Field(
        default=1,
        ge=1,
        description="The broker answers a fetch as soon as this much is ready: 1 hands over the first "
        "record at once (latency); under load records pile up while a batch is applied, so batches "
        "still grow. Larger values hold each record up to consumer_fetch_max_wait_ms (ADR 300).",
    )
    consumer_fetch_max_wait_ms: int = Field(
        default=500,
        ge=1,
        description="How long the broker holds a fetch while nothing is ready: every fetch names each "
        "partition of every subscribed topic, so a short wait costs CPU in the service and in Kafka "
        "all the time, even idle (50 ms cost half a core for the local stack, ADR 300).",
    )
    follower_fetch_max_wait_ms: int = Field(
        default=250,
        ge=1,
        description="A follower's fetch wait (invoicing and channels: services no order's next "
        "step, and no operator's next screen, waits for). The broker gathers its records for this "
        "long, so at a steady rate it applies a batch every this many ms, not one per event (ADR 543).",
    )
    follower_fetch_min_bytes: int = Field(
        default=1024 * 1024,
        ge=1,
        description="A follower's fetch is answered early once this much is ready: a backlog is "
        "taken at once, and at a steady rate the wait above governs (ADR 543).",
    )
    consumer_commit_interval_ms: int = Field(
        default=1000,
        ge=0,
        description="How often a consumer commits its applied batches' offsets to Kafka (and before a "
        "rebalance or a stop); 0 commits after every batch. The inbox dedupes what a crash replays, "
        "at most this much of it; each commit is a Kafka request, per event at a steady rate (ADR 540).",
    )
    consumer_max_attempts: int = Field(
        default=3, ge=1, description="Tries before a message is dead-lettered."
    )
    consumer_retry_backoff_ms: int = 200
    outbox_batch_size: int = 1000
    outbox_poll_interval_ms: int = Field(
        default=1000, description="Fallback poll when no NOTIFY arrives (e.g. a lost connection)."
    )

    @model_validator(mode="after")
    def _replicas_fit(self) -> Self:
        if self.kafka_min_insync_replicas > self.kafka_replication_factor:
            raise ValueError(
                f"KAFKA_MIN_INSYNC_REPLICAS ({self.kafka_min_insync_replicas}) is more than "
                f"KAFKA_REPLICATION_FACTOR ({self.kafka_replication_factor}): no write could ever be "
                "acknowledged"
            )
        return self

    @model_validator(mode="after")
    def _development_defaults(self) -> Self:
        # An empty secret (compose passes each through as `${NAME:-}`) keeps its development value
        # in development mode; elsewhere it stays empty and refuse_unsafe names it.
        if self.dabba_mode == "development":
            for name, info in type(self).model_fields.items():
                if _kind(info) in ("secret", "account") and not getattr(self, name):
                    setattr(self, name, info.default)
        return self

    def unsafe_for_production(self) -> list[str]:
        """Each setting that keeps this process from running outside development mode, by env var name."""
        problems: list[str] = []
        sandbox = self.sandbox_url.rstrip("/")
        for name, info in type(self).model_fields.items():
            kind, value, env = _kind(info), getattr(self, name), name.upper()
            if kind in ("secret", "account"):
                if not value:
                    problems.append(f"{env} is not set")
                elif value == info.default or DEVELOPMENT_VALUE.match(str(value)):
                    problems.append(f"{env} has its development value")
            elif kind == "provider_url" and (not value or (sandbox and str(value).startswith(sandbox))):
                problems.append(f"{env} is not set, so it would use the sandbox at {self.sandbox_url}")
        problems.extend(_api_key_problems(self.api_keys))
        return problems

    def database_admin_url(self) -> str | None:
        """An administrator's URL to create this service's role and database with at start: in
        development mode, DATABASE_URL when it names a user; otherwise none (they exist already)."""
        if self.dabba_mode == "development" and urlsplit(self.database_url).username:
            return self.database_url
        return None

    def refuse_unsafe(self) -> None:
        """Raise UnsafeSettings, naming every problem, unless in development mode or all is set."""
        if self.dabba_mode == "development":
            return
        problems = self.unsafe_for_production()
        if problems:
            raise UnsafeSettings(problems)


def _kind(info: FieldInfo) -> object:
    extra = info.json_schema_extra
    return extra.get(_KIND) if isinstance(extra, dict) else None


def _api_key_problems(spec: str) -> list[str]:
    entries = [e.strip() for e in spec.split(",") if e.strip()]
    if not entries:
        return ["API_KEYS is not set"]
    return [
        f"API_KEYS entry {entry.split(':', 1)[0]!r} uses a development key"
        for entry in entries
        if DEVELOPMENT_VALUE.match(entry.split(":", 2)[-1])
    ]


class RazorpayWebhookSettings(ServiceSettings):
    """The settings of a service Razorpay calls (orders: payments; returns: refunds and payouts),
    declared once: the webhook secret and how far an event's created_at may stray (chassis.razorpay)."""

    razorpay_webhook_secret: str = secret(
        "dev-razorpay-webhook-secret-local", "Razorpay's webhook secret: checks X-Razorpay-Signature."
    )
    razorpay_webhook_skew_seconds: float = Field(
        default=300,
        ge=0,
        le=3600,
        description="How far a Razorpay event's created_at may be ahead of this clock, or beyond Razorpay's "
        "24 hours of retries, and still be applied.",
    )
