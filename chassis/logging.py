"""structlog JSON logs bound to service, order, event and trace, with personal data masked.

Phone numbers (any Indian format), emails, names and address lines never reach a log line in clear
text: not in fields, not in exception texts and tracebacks (formatted first, then masked), not in the
values pydantic quotes in its errors. `describe_error` says what failed by field and kind only.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from opentelemetry import trace
from pydantic import ValidationError

# A mobile number as people write it: 9812345678, +91 98123 45678, 091-9812-345678, 098123 45678.
_PHONE = re.compile(r"(?<![\w+-])((?:\+91|0091|91|0)[\s-]?)?([6-9]\d)((?:[\s-]?\d){6})[\s-]?(\d{2})(?![\w-])")
# pydantic quotes the refused input in its error text: `input_value={'name': 'Asha Verma', …}`.
_QUOTED_INPUT = re.compile(r"input_value=.*?(?=, input_type=|\]$)", re.S | re.M)
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_REDACTED_KEYS = frozenset(
    {"name", "customer_name", "line1", "line2", "landmark", "address", "add", "new_address"}
)
"""Fields whose whole value is personal (a name, an address line): replaced outright."""


def mask_phone(value: str) -> str:
    """+919812345678 → +9198******78: enough to tell numbers apart, not enough to call."""
    return _PHONE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}******{m.group(4)}", value)


def mask_text(value: str) -> str:
    """Mask every phone number and email address inside free text, and drop the input values a
    pydantic error quotes (a name, an address)."""
    unquoted = _QUOTED_INPUT.sub("input_value=***", value)
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", mask_phone(unquoted))


def mask_vpa(vpa: str) -> str:
    """asha.verma@okicici → as***@okicici: the bank's handle stays, the person's name goes."""
    name, at, handle = vpa.rpartition("@")
    if not at:
        return "***"
    return f"{name[:2]}***@{handle}"


def describe_error(exc: BaseException) -> str:
    """What failed, for a log line or a DLQ header: a validation error as its fields and problem
    kinds (`lines.0.sku: string_too_short`), never the values; anything else as its type and masked
    text."""
    if isinstance(exc, ValidationError):
        problems = [
            f"{'.'.join(str(part) for part in e['loc']) or '(whole)'}: {e['type']}" for e in exc.errors()
        ]
        return f"{exc.title}: " + "; ".join(problems[:20]) + ("; …" if len(problems) > 20 else "")
    return f"{type(exc).__name__}: {mask_text(str(exc))}"


_PERSONAL_KEYS = _REDACTED_KEYS | {"phone", "email", "vpa", "upi_id", "account_number", "city"}
"""Fields of an event whose values are a person's: scrubbed from error texts about that event."""


def personal_values(raw: bytes | None) -> frozenset[str]:
    """Every personal value an event's JSON carries (names, address lines, phones, emails), at any
    depth. Only computed when an event fails, to scrub them from what the error says."""
    try:
        document = json.loads(raw or b"")
    except ValueError:
        return frozenset()
    found: set[str] = set()
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((key, v) for v in value)
        elif isinstance(value, str) and key in _PERSONAL_KEYS and len(value.strip()) >= 3:
            found.add(value.strip())
    return frozenset(found)


def scrub(text: str, values: frozenset[str]) -> str:
    """An error text without any of `values`, nor any single word of a name or an address line
    (an exception may quote "Asha" alone), then masked as any free text is. A handler's exception is
    free text: `ValueError(f"no route for {name}")` must not carry the name to a log or a DLQ header."""
    words = {w for v in values for w in re.split(r"[\s,]+", v) if len(w) >= 3 and not w.isdigit()}
    for secret in sorted(values | words, key=len, reverse=True):
        text = re.sub(re.escape(secret), "***", text, flags=re.IGNORECASE)
    return mask_text(text)


_SAFE_KEYS = frozenset(
    {
        "event_id",
        "topic",
        "timestamp",
        "level",
        "service",
        "trace_id",
        "span_id",
        "order_id",
        "order_ids",
        "trace_ids",
        "subject",
        "type",
        "sku",
        "awb",
        "shipment_id",
        "warehouse_code",
        "channel",
        "status",
    }
)
"""Fields that never hold personal data: skipped, because masking every log line costs CPU."""

_MAYBE_PERSONAL = re.compile(r"(?:\d[\s-]?){5}|@|input_value")


def _mask_value(key: str, value: Any) -> Any:
    if key in _REDACTED_KEYS and value is not None:
        return "***"
    if isinstance(value, str):
        return mask_text(value) if _MAYBE_PERSONAL.search(value) else value
    if isinstance(value, Mapping):
        return {k: _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(key, v) for v in value]
    return value


def mask_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask phones, emails, names and address lines in every field."""
    for key, value in event_dict.items():
        if key not in _SAFE_KEYS:
            event_dict[key] = _mask_value(key, value)
    return event_dict


def add_trace_ids(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the current OpenTelemetry trace and span ids, when there is a span."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict.setdefault("trace_id", format(ctx.trace_id, "032x"))
        event_dict.setdefault("span_id", format(ctx.span_id, "016x"))
    return event_dict


def configure_logging(*, service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Route structlog and the standard library through one JSON renderer on stdout."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
    ]
    # The traceback becomes text before masking, so what an exception quotes is masked too.
    masked: list[Any] = [structlog.processors.format_exc_info, mask_personal_data]
    structlog.configure(
        processors=[*shared, *masked, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *masked, renderer],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "faststream", "uvicorn.access", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; bind order_id/event_id on it or through structlog.contextvars."""
    return structlog.get_logger(name)
