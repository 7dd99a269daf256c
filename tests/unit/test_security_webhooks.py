"""Every webhook verifies what it is sent; Razorpay events are read no further than they prove; a
token compare never fails on odd text (issue 15, item 7)."""

from __future__ import annotations

import importlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute

from chassis.auth import Role, by_signature, require, route_auth, route_verifier
from chassis.http import api_routes
from chassis.service import Service
from chassis.signatures import same_secret
from contracts import PaymentMethod, PaymentStatus
from contracts.values import Payment
from deploy.local.stack import SERVICES
from services.notifications import webhooks as notifications_webhooks
from services.orders.domain import razorpay

UNSIGNED = b'{"event": "payment.captured", "object": "whatsapp_business_account", "entry": []}'
PATH_VALUES = {"account": "demo", "token": "ORD-1.9999999999.0123456789abcdef0123456789abcdef"}


class _Conn:
    """A database that answers reads (channels looks the account up before verifying) and counts
    every write: a webhook that is not verified must write nothing."""

    def __init__(self, platform: str, writes: list[str]) -> None:
        self.platform, self.writes = platform, writes

    async def fetchrow(self, _sql: str, *_args: Any) -> dict[str, Any]:
        return {
            "account": "demo",
            "platform": self.platform,
            "base_url": "http://store.invalid",
            "webhook_secret": "a-secret-the-test-does-not-use",
            "api_key": "k",
            "api_secret": "s",
            "location_id": None,
            "stock_buffer": 0,
        }

    async def _write(self, sql: str, *_args: Any) -> None:
        self.writes.append(sql)

    execute = fetch = fetchval = _write

    def transaction(self) -> Any:
        raise AssertionError("an unverified webhook opened a transaction")


class _Pool:
    def __init__(self, platform: str, writes: list[str]) -> None:
        self._conn = _Conn(platform, writes)

    def acquire(self) -> Any:
        conn = self._conn

        class _Acquired:
            async def __aenter__(self) -> _Conn:
                return conn

            async def __aexit__(self, *_: object) -> None:
                return None

        return _Acquired()


def _webhook_routes(app: FastAPI) -> list[APIRoute]:
    return [r for r in api_routes(app.routes) if (route_auth(r.dependant) or ("",))[0] == "signature"]


async def _unverified(service: Service) -> list[str]:
    """Each webhook route of a service that does not refuse an unsigned delivery with 401 or 403."""
    app = service.http_app()
    app.state.service = service
    found = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for route in _webhook_routes(app):
            path = re.sub(r"{(\w+)}", lambda m: PATH_VALUES.get(m.group(1), "x"), route.path)
            platform = path.split("/")[2] if path.startswith("/webhooks/") else ""
            writes: list[str] = []
            service._pool = _Pool(platform, writes)  # type: ignore[assignment]
            for method in sorted(route.methods):
                if method == "GET":
                    params = {"hub.mode": "subscribe", "hub.verify_token": "guessed", "hub.challenge": "1"}
                    r = await client.get(path, params=params)
                else:
                    r = await client.request(
                        method, path, content=UNSIGNED, headers={"Content-Type": "application/json"}
                    )
                if r.status_code not in (401, 403) or writes:
                    found.append(f"{method} {route.path}: {r.status_code}, {len(writes)} writes")
    return found


async def _anything(_request: Request) -> None:
    """A verifier that lets everything through: what a webhook that forgets to verify looks like."""


WEBHOOK_PATH = re.compile(r"^/webhooks/|/by-link/")
"""Where providers and customers call in without an API key: every such route is a webhook."""


def _undeclared(app: FastAPI) -> list[str]:
    """Routes whose path says webhook but that do not declare by_signature with its verifier, and
    the reverse."""
    found = []
    for route in api_routes(app.routes):
        declared = (route_auth(route.dependant) or ("",))[0] == "signature"
        if bool(WEBHOOK_PATH.search(route.path)) != declared:
            found.append(f"{route.path}: {'declares' if declared else 'does not declare'} by_signature")
        elif declared and route_verifier(route.dependant) is None:
            found.append(f"{route.path}: declares by_signature without a verifier")
    return found


@pytest.mark.parametrize("name", SERVICES)
def test_every_route_a_provider_calls_declares_its_signature_and_only_those_do(name: str) -> None:
    module = importlib.import_module(f"services.{name}.app")
    settings_type = type(module.build().settings)
    service = module.build(settings_type(dabba_mode="development"))

    assert _undeclared(service.http_app()) == []


def test_a_webhook_route_declared_with_a_key_or_nothing_is_caught_by_its_path() -> None:
    app = FastAPI()

    @app.post("/webhooks/forgetful")
    async def forgetful() -> None:
        return None

    @app.post("/webhooks/keyed", dependencies=[require(Role.OPS)])
    async def keyed() -> None:
        return None

    @app.post("/orders/signed", dependencies=[by_signature("anyone", _anything)])
    async def signed() -> None:
        return None

    async def marked_only() -> None:
        return None

    # What a declaration was before it carried its verifier: a marker the route could ignore.
    marked_only.__dabba_auth__ = ("signature", "anyone")  # type: ignore[attr-defined]

    @app.post("/webhooks/marked", dependencies=[Depends(marked_only)])
    async def marked() -> None:
        return None

    assert _undeclared(app) == [
        "/webhooks/forgetful: does not declare by_signature",
        "/webhooks/keyed: does not declare by_signature",
        "/orders/signed: declares by_signature",
        "/webhooks/marked: declares by_signature without a verifier",
    ]


@pytest.mark.parametrize("name", SERVICES)
async def test_every_webhook_of_every_service_refuses_an_unsigned_delivery(name: str) -> None:
    module = importlib.import_module(f"services.{name}.app")
    settings_type = type(module.build().settings)
    service = module.build(settings_type(dabba_mode="development"))

    assert await _unverified(service) == []


async def test_a_route_marked_as_a_webhook_that_does_not_verify_is_caught() -> None:
    from services.orders.app import build

    service = build()
    router = APIRouter()

    @router.post("/webhooks/trusting", dependencies=[by_signature("anyone", _anything)])
    async def trusting(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    service.include_router(router)

    assert await _unverified(service) == ["POST /webhooks/trusting: 200, 0 writes"]


async def test_the_whatsapp_verify_token_is_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[str, str | None]] = []

    def spy(expected: str, presented: str | None) -> bool:
        compared.append((expected, presented))
        return same_secret(expected, presented)

    monkeypatch.setattr(notifications_webhooks, "same_secret", spy)
    service = importlib.import_module("services.notifications.app").build()
    app = service.http_app()
    app.state.service = service
    token = service.settings.whatsapp_verify_token
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        ok = await client.get(
            "/webhooks/whatsapp",
            params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "42"},
        )
        odd = await client.get(
            "/webhooks/whatsapp",
            params={"hub.mode": "subscribe", "hub.verify_token": "टोकन", "hub.challenge": "42"},
        )

    assert (ok.status_code, ok.text) == (200, "42")
    assert odd.status_code == 403
    assert compared == [(token, token), (token, "टोकन")]


@pytest.mark.parametrize("presented", ["टोकन", "tok\udcff", "", None, "token"])
def test_comparing_a_token_with_any_text_is_a_mismatch_never_an_error(presented: str | None) -> None:
    assert same_secret("token-of-ours", presented) is False
    assert same_secret("token-of-ours", "token-of-ours") is True


def _webhook(event: str, payment_id: str, **entity: Any) -> dict[str, Any]:
    payment = {"id": payment_id, "amount": 69800, "currency": "INR", "notes": {"order_id": "ORD-1"}, **entity}
    return {"entity": "event", "event": event, "payload": {"payment": {"entity": payment}}}


def _paid(status: PaymentStatus, payment_id: str | None) -> Payment:
    return Payment(
        method=PaymentMethod.UPI,
        status=status,
        gateway="razorpay",
        gateway_payment_id=payment_id,
        amount_paise=69800,
    )


def test_a_payment_in_another_currency_moves_nothing() -> None:
    pending = _paid(PaymentStatus.PENDING, None)
    for currency in ("USD", None):
        event = razorpay.read_webhook(_webhook("payment.captured", "pay_2", currency=currency))
        assert event is not None
        assert (
            razorpay.not_acted_on(event, pending) == f"the amount is in {currency or 'no currency'}, not INR"
        )
    event = razorpay.read_webhook(_webhook("payment.captured", "pay_2"))
    assert event is not None and razorpay.not_acted_on(event, pending) is None


def test_a_late_failure_of_an_earlier_attempt_does_not_undo_an_authorized_payment() -> None:
    authorized = _paid(PaymentStatus.AUTHORIZED, "pay_2")
    earlier = razorpay.read_webhook(_webhook("payment.failed", "pay_1", error_description="declined"))
    same = razorpay.read_webhook(_webhook("payment.failed", "pay_2", error_description="expired"))
    assert earlier is not None and same is not None

    assert razorpay.not_acted_on(earlier, authorized) == "it is an earlier attempt; pay_2 is authorized"
    assert razorpay.not_acted_on(same, authorized) is None  # the authorized attempt itself may still fail
    assert razorpay.not_acted_on(earlier, _paid(PaymentStatus.PENDING, None)) is None


NOW = datetime(2026, 12, 6, 18, 29, 59, tzinfo=UTC)
SKEW = timedelta(minutes=5)


def _created(at: datetime, event: str = "payment.captured", payment_id: str = "pay_2") -> dict[str, Any]:
    return {**_webhook(event, payment_id), "created_at": int(at.timestamp())}


def test_a_delivery_is_known_by_what_razorpay_signed_not_how_it_was_written() -> None:
    body = _created(NOW)
    rewritten = json.loads(json.dumps(body, indent=2, sort_keys=True))

    assert razorpay.delivery_key(body) == razorpay.delivery_key(rewritten)
    assert razorpay.delivery_key(body) == f"payment.captured:payment=pay_2@{int(NOW.timestamp())}"
    others = {
        razorpay.delivery_key(_created(NOW + timedelta(seconds=1))),
        razorpay.delivery_key(_created(NOW, payment_id="pay_3")),
        razorpay.delivery_key(_created(NOW, event="payment.failed")),
    }
    assert razorpay.delivery_key(body) not in others and len(others) == 3


@pytest.mark.parametrize("created_at", [None, "1567674606", 1.5, True, 0, -1, 10**20])
def test_an_event_without_a_readable_creation_time_is_refused_naming_created_at(created_at: Any) -> None:
    body = {**_webhook("payment.captured", "pay_2"), "created_at": created_at}
    with pytest.raises(razorpay.UnreadableWebhook) as refused:
        razorpay.delivery_key(body)
    assert refused.value.field == "created_at"


@pytest.mark.parametrize(
    ("age", "refused"),
    [
        (timedelta(hours=24, minutes=5), False),  # Razorpay's last retry, a little late
        (timedelta(hours=24, minutes=5, seconds=1), True),  # no retry is that late: a replay
        (timedelta(days=30), True),
        (-SKEW, False),  # our clock a little behind Razorpay's
        (-SKEW - timedelta(seconds=1), True),  # from the future: Razorpay retries it later
    ],
)
def test_an_event_is_applied_only_within_razorpays_retry_period(age: timedelta, refused: bool) -> None:
    problem = razorpay.too_old_or_early(NOW - age, now=NOW, skew=SKEW)
    assert (problem is not None) is refused


@pytest.mark.parametrize(
    ("created_at", "problem"),
    [
        (None, "must be the event's creation time in Unix seconds"),
        (timedelta(days=2), "older than Razorpay retries a delivery"),
        (timedelta(hours=-1), "ahead of this service's clock"),
    ],
)
async def test_returns_refuses_a_signed_refund_event_outside_razorpays_retry_period_writing_nothing(
    created_at: timedelta | None, problem: str
) -> None:
    """A genuine signed refund.processed seen once (a log, a proxy) and sent again days later moves
    nothing in returns either: 422 naming created_at, before any read or write (ADR 221)."""
    from services.returns.app import build

    service = build()
    app = service.http_app()
    app.state.service = service
    writes: list[str] = []
    service._pool = _Pool("", writes)  # type: ignore[assignment]
    body = _webhook("refund.processed", "pay_2")
    if created_at is not None:
        body["created_at"] = int((datetime.now(UTC) - created_at).timestamp())
    raw = json.dumps(body).encode()
    signature = razorpay.sign(service.settings.razorpay_webhook_secret, raw)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.post(
            "/webhooks/razorpay",
            content=raw,
            headers={"Content-Type": "application/json", "X-Razorpay-Signature": signature},
        )
    assert r.status_code == 422, r.text
    [found] = r.json()["problems"]
    assert found["field"] == "created_at" and problem in found["problem"]
    assert writes == []
