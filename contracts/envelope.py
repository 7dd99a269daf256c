"""CloudEvents 1.0 binary content mode on Kafka headers: the one mapping every service uses.

Headers carry the envelope (``ce_*``, ``content-type``, ``traceparent``); the value is the JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import uuid_utils

from contracts._base import Event, utcnow

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"

H_SPECVERSION = "ce_specversion"
H_ID = "ce_id"
H_TYPE = "ce_type"
H_SOURCE = "ce_source"
H_TIME = "ce_time"
H_SUBJECT = "ce_subject"
H_CONTENT_TYPE = "content-type"
H_TRACEPARENT = "traceparent"
H_TRACESTATE = "tracestate"


def new_event_id() -> str:
    """A fresh UUIDv7 (time-ordered) as text."""
    return str(uuid_utils.uuid7())


@dataclass(frozen=True, slots=True)
class Envelope:
    """The CloudEvents attributes of one Kafka record."""

    id: str
    type: str
    source: str
    time: datetime
    subject: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_event(
        cls,
        event: Event,
        *,
        source: str,
        traceparent: str | None = None,
        tracestate: str | None = None,
    ) -> Envelope:
        """A fresh envelope for publishing ``event`` from the service named ``source``."""
        return cls(
            id=new_event_id(),
            type=event.ce_type(),
            source=source,
            time=utcnow(),
            subject=event.subject(),
            traceparent=traceparent,
            tracestate=tracestate,
        )

    def to_headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers in binary content mode."""
        headers = [
            (H_SPECVERSION, SPECVERSION.encode()),
            (H_ID, self.id.encode()),
            (H_TYPE, self.type.encode()),
            (H_SOURCE, self.source.encode()),
            (H_TIME, self.time.astimezone(UTC).isoformat().encode()),
            (H_CONTENT_TYPE, CONTENT_TYPE.encode()),
        ]
        if self.subject is not None:
            headers.append((H_SUBJECT, self.subject.encode()))
        if self.traceparent:
            headers.append((H_TRACEPARENT, self.traceparent.encode()))
        if self.tracestate:
            headers.append((H_TRACESTATE, self.tracestate.encode()))
        headers.extend((k, v.encode()) for k, v in self.extra.items())
        return headers

    @classmethod
    def from_headers(cls, headers: Iterable[tuple[str, bytes]]) -> Envelope:
        """Read the envelope back; raises ValueError naming the first missing attribute."""
        values = {k: v.decode("utf-8", "replace") for k, v in headers}
        for required in (H_ID, H_TYPE, H_SOURCE):
            if not values.get(required):
                raise ValueError(f"missing CloudEvents header {required!r}")
        raw_time = values.get(H_TIME)
        time = datetime.fromisoformat(raw_time) if raw_time else datetime.now(UTC)
        known = {
            H_SPECVERSION,
            H_ID,
            H_TYPE,
            H_SOURCE,
            H_TIME,
            H_SUBJECT,
            H_CONTENT_TYPE,
            H_TRACEPARENT,
            H_TRACESTATE,
        }
        return cls(
            id=values[H_ID],
            type=values[H_TYPE],
            source=values[H_SOURCE],
            time=time,
            subject=values.get(H_SUBJECT),
            traceparent=values.get(H_TRACEPARENT),
            tracestate=values.get(H_TRACESTATE),
            extra={k: v for k, v in values.items() if k not in known},
        )


def header(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    """One header's value as text, or None."""
    for key, value in headers:
        if key == name:
            return value.decode("utf-8", "replace")
    return None
