"""structlog JSON logs bound to service, order, event and trace, with personal data masked.

Phone numbers, emails and address lines never reach a log line in clear text.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

_PHONE = re.compile(r"(?<![\w-])(\+?91[\s-]?)?([6-9]\d)\d{6}(\d{2})(?![\w-])")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_REDACTED_KEYS = frozenset(
    {"name", "customer_name", "line1", "line2", "landmark", "address", "add", "new_address"}
)
"""Fields whose whole value is personal (a name, an address line): replaced outright."""


def mask_phone(value: str) -> str:
    """+919812345678 → +9198******78: enough to tell numbers apart, not enough to call."""
    return _PHONE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}******{m.group(3)}", value)


def mask_text(value: str) -> str:
    """Mask every phone number and email address inside free text."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", mask_phone(value))


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

_MAYBE_PERSONAL = re.compile(r"\d{8}|@")


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
        mask_personal_data,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
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
