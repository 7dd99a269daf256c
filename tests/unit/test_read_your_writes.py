"""An owner's answer names the events it wrote; the console waits for them before its next page (ADR 545)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from chassis import outbox
from chassis.auth import HEADER, parse_keys
from chassis.batching import Batcher
from chassis.http import EVENTS_HEADER, EVENTS_NAMED, create_http_app, written_events
from chassis.refusal import Refusal
from services.console.owners import Operator, Owners


class _Conn:
    """Takes the outbox INSERT a handler makes, as a transaction would."""

    async def execute(self, *_args: Any) -> str:
        return "INSERT 0 1"


def _row(topic: str, event_id: str) -> outbox.OutboxRow:
    return (topic, "order-1", {"ce_id": event_id}, b"{}")


async def _ready() -> dict[str, bool]:
    return {}


def _owner() -> FastAPI:
    app = create_http_app(title="t", version="0", lifespan=None, readiness=_ready, api_keys=parse_keys(""))  # type: ignore[arg-type]
    router = APIRouter()

    @router.post("/confirm")
    async def confirm() -> dict[str, str]:
        await outbox.write_rows(
            _Conn(), [_row("orders.confirmed.v1", "e-1"), _row("orders.status_changed.v1", "e-2")]
        )
        return {"status": "CONFIRMED"}

    @router.post("/refuse")
    async def refuse() -> dict[str, str]:
        await outbox.write_rows(_Conn(), [_row("orders.confirmed.v1", "e-3")])
        raise Refusal("order_id", "already shipped", status=409)

    @router.post("/bulk")
    async def bulk() -> dict[str, str]:
        await outbox.write_rows(_Conn(), [_row("orders.confirmed.v1", f"e-{i}") for i in range(1000)])
        return {"status": "CONFIRMED"}

    @router.get("/quiet")
    async def quiet() -> dict[str, str]:
        return {}

    app.include_router(router)
    return app


async def _post(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """Call the owner as a service with an API key would (the routes here are open to anyone)."""
    headers = {HEADER: "a-key"} if headers is None else headers
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_owner()), base_url="http://t") as client:
        return await client.post(path, headers=headers) if path != "/quiet" else await client.get(path)


async def test_a_successful_answer_names_the_events_its_request_wrote_in_order() -> None:
    response = await _post("/confirm")
    assert response.status_code == 200
    assert written_events(response.headers[EVENTS_HEADER]) == [
        ("orders.confirmed.v1", "e-1"),
        ("orders.status_changed.v1", "e-2"),
    ]


async def test_a_refusal_names_nothing_and_a_request_that_wrote_nothing_has_no_header() -> None:
    assert EVENTS_HEADER not in (await _post("/refuse")).headers
    assert EVENTS_HEADER not in (await _post("/quiet")).headers


async def test_a_caller_without_an_api_key_a_provider_or_a_customer_is_not_told_our_event_ids() -> None:
    response = await _post("/confirm", headers={})
    assert response.status_code == 200
    assert EVENTS_HEADER not in response.headers


async def test_a_bulk_action_names_its_first_events_only() -> None:
    named = written_events((await _post("/bulk")).headers[EVENTS_HEADER])
    assert len(named) == EVENTS_NAMED
    assert named[0] == ("orders.confirmed.v1", "e-0")


def test_writes_outside_a_request_are_not_noted() -> None:
    with outbox.noting_written() as written:
        pass
    assert written == []
    assert written_events("orders.confirmed.v1=e-1, junk, =e-2,topic=, x=y") == [
        ("orders.confirmed.v1", "e-1"),
        ("x", "y"),
    ]


async def test_the_console_returns_from_an_action_only_once_its_read_model_has_the_events() -> None:
    order: list[str] = []

    async def settle(written: list[tuple[str, str]]) -> None:
        order.append(f"settled {[event_id for _, event_id in written]}")

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=_owner()), base_url="http://t")
    owners = Owners({"orders": client}, {"ops": "key"}, settle)
    operator = Operator(name="asha", role="ops", csrf="c")
    outcome = await owners.call("orders", "POST", "/confirm", operator=operator)
    order.append("answered")
    assert outcome.ok
    assert order == ["settled ['e-1', 'e-2']", "answered"]

    refused = await owners.call("orders", "POST", "/refuse", operator=operator)
    assert refused.status == 409
    assert order == ["settled ['e-1', 'e-2']", "answered"], "nothing to wait for after a refusal"
    await client.aclose()


async def test_a_group_commit_writes_for_every_caller_and_names_none_of_them() -> None:
    """A Batcher's writer serves many requests: its events are not the first caller's to name."""

    async def write(items: Sequence[str]) -> list[bool]:
        await outbox.write_rows(_Conn(), [_row("channel.orders.v1", item) for item in items])
        return [True for _ in items]

    batcher: Batcher[str, bool] = Batcher(write)
    with outbox.noting_written() as written:
        assert await batcher.submit("e-1")
    assert written == []
