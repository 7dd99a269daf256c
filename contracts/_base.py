"""The base every Dabba event model shares: topic, CloudEvents type and partition key in one place.

Consumers ignore unknown fields (extra="ignore"): producers may add optional fields in a major.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a timezone offset, e.g. 2026-11-26T10:15:00+05:30")
    return value


def _to_utc(value: datetime) -> datetime:
    return _require_aware(value).astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]
"""A timezone-aware time, kept in the offset it was given (e.g. a channel's +05:30)."""

UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]
"""A timezone-aware time, normalised to UTC."""


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def flag(description: str) -> Any:
    """A yes/no field added to an event after it was published: false by default and left out of
    the JSON while false, so every event that does not need it reads exactly as before (the schema
    stays compatible for consumers that do not know it)."""
    return Field(default=False, description=description, exclude_if=lambda value: not value)


class Model(BaseModel):
    """A value inside an event; tolerant of fields added by newer producers."""

    model_config = ConfigDict(extra="ignore", frozen=True, use_enum_values=False)


class Event(Model):
    """One event type at one major version, published on exactly one topic.

    Subclasses set TOPIC (``<domain>.<event>.v<major>``); the CloudEvents type is derived from it.
    KEY_FIELD names the field whose value is the Kafka key and the CloudEvents subject.
    """

    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str] = "order_id"

    @classmethod
    def ce_type(cls) -> str:
        """The CloudEvents ``type``: ``dabba.<topic>``."""
        return f"dabba.{cls.TOPIC}"

    def partition_key(self) -> str:
        """The Kafka key; one key's events stay in order within the topic."""
        return str(getattr(self, self.KEY_FIELD))

    def subject(self) -> str:
        """The CloudEvents ``subject``: the order id or SKU this event is about."""
        return self.partition_key()
