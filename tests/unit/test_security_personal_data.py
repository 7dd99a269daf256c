"""Personal data stays out of logs, dead-letter headers and answers (issue 15, item 6)."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog

from chassis import consumer as consumer_module
from chassis.consumer import Consumer, Record, Subscription
from chassis.kafka import dead_letter_headers
from chassis.logging import configure_logging, describe_error, get_logger, mask_phone
from contracts import ChannelOrder
from services.returns import api as returns_api
from services.returns.records import ReturnView
from tests.helpers import channel_order

NAME = "Meenakshi Raghunathan"
PHONE = "98123 45678"
STREET = "14 Gulmohar Marg"


@dataclass
class _Record:
    topic: str
    value: bytes
    partition: int = 0
    offset: int = 41
    key: bytes | None = b"shopify:SHP-1"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class _Conn:
    """Enough of a connection for the consumer's inbox claim; a bad event never writes more."""

    async def fetch(self, _sql: str, ids: list[str], _topics: list[str]) -> list[dict[str, str]]:
        return [{"event_id": i} for i in ids]

    async def fetchval(self, _sql: str) -> int:
        return 1

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield


class _Pool(_Conn):
    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[_Conn]:
        yield _Conn()


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], str]]:
    """Logs as a service writes them (JSON on stdout, masked), read back as text."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    configure_logging(service="orders", level="INFO", fmt="json")
    monkeypatch.setattr(consumer_module, "log", get_logger("chassis.consumer"))  # not a cached logger
    yield stdout.getvalue
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:], root.level = handlers, level


async def dead_letter_of(order: dict[str, Any], handler: Any) -> dict[str, str]:
    """Consume one channel order through the real consumer (one attempt) and return the headers of
    the dead letter it became."""
    dead: list[dict[str, str]] = []

    async def dead_letter(record: Record, error: str) -> None:
        dead.append(dead_letter_headers(record, error, "orders"))

    consumer = Consumer(
        service="orders",
        pool=_Pool(),  # type: ignore[arg-type]
        subscriptions={ChannelOrder.TOPIC: Subscription(ChannelOrder, handler)},
        dead_letter=dead_letter,
        max_attempts=1,
        retry_backoff_s=0,
    )
    await consumer.apply_batch([_Record(topic=ChannelOrder.TOPIC, value=json.dumps(order).encode())])
    [headers] = dead
    return headers


async def test_a_name_in_a_bad_event_never_appears_in_logs_or_dlq_headers(
    json_logs: Callable[[], str],
) -> None:
    bad = channel_order(
        "SHP-1",
        "TEA-ASSAM-250",
        customer={"name": NAME, "phone": PHONE, "email": "meenakshi@example.com"},
        shipping_address={"line1": STREET, "city": "Jaipur", "state": "Rajasthan"},  # no pincode
        lines=[{"sku": "TEA-ASSAM-250", "quantity": "lots", "unit_price_paise": 34900}],
    )

    async def handler(_ctx: Any, _event: ChannelOrder) -> None:
        raise AssertionError("an invalid event is never handled")

    headers = await dead_letter_of(bad, handler)
    logs = json_logs()
    assert "event dead-lettered" in logs
    for secret in (NAME, "Meenakshi", PHONE, "45678", STREET, "meenakshi@"):
        assert secret not in headers["dlq_error"]
        assert secret not in logs
    assert "shipping_address.pincode: missing" in headers["dlq_error"]
    assert "lines.0.quantity: int_parsing" in headers["dlq_error"]


async def test_a_name_a_handler_quotes_in_its_exception_never_appears_in_logs_or_dlq_headers(
    json_logs: Callable[[], str],
) -> None:
    """A valid event whose handler fails with free text about the customer: the text is scrubbed of
    that event's names, address lines, phone and email, whole or a word at a time."""
    good = channel_order(
        "SHP-2",
        "TEA-ASSAM-250",
        customer={"name": NAME, "phone": PHONE, "email": "meenakshi@example.com"},
        shipping_address={"line1": STREET, "city": "Jaipur", "state": "Rajasthan", "pincode": "302001"},
    )

    async def handler(_ctx: Any, event: ChannelOrder) -> None:
        first = event.customer.name.split()[0].upper()
        raise ValueError(f"cannot deliver to {event.customer.name} ({first}) at {STREET.lower()}, {PHONE}")

    headers = await dead_letter_of(good, handler)
    logs = json_logs()
    assert "event failed" in logs and "event dead-lettered" in logs
    for secret in ("Meenakshi", "MEENAKSHI", "Raghunathan", "gulmohar", PHONE, "45678"):
        assert secret not in headers["dlq_error"]
        assert secret not in logs
    assert headers["dlq_error"].startswith("ValueError: cannot deliver to ***")


def test_tracebacks_and_exception_texts_are_masked_in_logs(json_logs: Callable[[], str]) -> None:
    try:
        ChannelOrder.model_validate({"customer": {"name": NAME}, "note": f"call +91 {PHONE}"})
    except ValueError as exc:
        get_logger("orders.intake").exception("intake failed")
        logging.getLogger("some.library").exception("library failed")
        get_logger("orders.intake").warning("intake failed", error=str(exc))

    logs = json_logs()
    assert logs.count("Traceback") == 2
    assert NAME not in logs and PHONE not in logs and "45678" not in logs
    assert "input_value=***" in logs


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("98123 45678", "98******78"),
        ("+91 98123 45678", "+91 98******78"),
        ("+91-98123-45678", "+91-98******78"),
        ("098123 45678", "098******78"),
        ("09812345678", "098******78"),
    ],
)
def test_a_phone_number_is_masked_however_it_is_written(written: str, masked: str) -> None:
    assert mask_phone(f"ring {written} after 6") == f"ring {masked} after 6"


def test_a_validation_error_is_described_by_fields_and_kinds_only() -> None:
    with pytest.raises(ValueError) as refused:
        ChannelOrder.model_validate({"customer": {"name": NAME, "phone": PHONE}})
    described = describe_error(refused.value)
    assert described.startswith("ChannelOrder: ")
    assert "customer.phone" in described or "channel: missing" in described
    assert NAME not in described and PHONE not in described


def _return_to(refund_to: dict[str, Any]) -> ReturnView:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    return ReturnView(
        return_id="RET-1", order_id="ORD-1", status="APPROVED", resolution="refund", lines=(),
        kind="return", pickup_mode="drop_off", warehouse_code=None, shipment_id=None, pickup_awb=None,
        refund_to=refund_to, photo_urls=(), requested_by="customer", received_at=None, qc_at=None,
        closed_at=None, created_at=at, updated_at=at,
    )  # fmt: skip


def test_answers_show_upi_ids_and_bank_accounts_masked() -> None:
    upi = returns_api._shown(_return_to({"kind": "upi", "vpa": "meenakshi.r@okicici"}))
    bank = returns_api._shown(
        _return_to(
            {
                "kind": "bank_account",
                "name": NAME,
                "ifsc": "HDFC0001234",
                "account_number": "50100123456789",
            }
        )
    )

    assert upi.refund_to == {"kind": "upi", "vpa": "me***@okicici"}
    assert bank.refund_to is not None and bank.refund_to["account_number"] == "XXXX6789"
    assert "50100123456789" not in json.dumps(bank.refund_to)
