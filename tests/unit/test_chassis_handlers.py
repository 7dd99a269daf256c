"""Consumer handlers are declared at module level on a `Handlers` registry, like APIRouter routes,
and a service includes them with what they depend on."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest

from chassis.consumer import HandlerContext, Transaction
from chassis.handlers import Handlers
from chassis.service import Service
from chassis.settings import ServiceSettings
from contracts import OrderCancelled, OrderPlaced, StockChanged

SERVICES = sorted(p.parent.name for p in Path("services").glob("*/handlers.py"))


async def placed(ctx: HandlerContext, event: OrderPlaced) -> None:
    return None


async def hook(tx: Transaction) -> None:
    return None


def test_a_topic_has_one_handler() -> None:
    handlers: Handlers[None] = Handlers()
    handlers.on(OrderPlaced)(placed)
    with pytest.raises(ValueError, match=r"orders\.placed\.v1 is already handled"):
        handlers.on(OrderPlaced)(placed)


def test_one_function_may_handle_several_topics() -> None:
    handlers: Handlers[None] = Handlers()

    @handlers.on(OrderPlaced, OrderCancelled)
    async def either(ctx: HandlerContext, event: OrderPlaced | OrderCancelled) -> None:
        return None

    assert {t: s.handler for t, s in handlers.subscriptions.items()} == {
        OrderPlaced.TOPIC: either,
        OrderCancelled.TOPIC: either,
    }
    assert handlers.subscriptions[OrderCancelled.TOPIC].model is OrderCancelled


def test_each_service_built_keeps_its_own_deps() -> None:
    handlers: Handlers[str] = Handlers()
    handlers.on(OrderPlaced)(placed)
    handlers.before_commit(hook)
    one = Service("one", settings=ServiceSettings(database_url="postgresql://unused"))
    two = Service("two", settings=ServiceSettings(database_url="postgresql://unused"))
    one.include_handlers(handlers, "first")
    two.include_handlers(handlers, "second")
    assert one._subscriptions[OrderPlaced.TOPIC].deps == "first"
    assert two._subscriptions[OrderPlaced.TOPIC].deps == "second"
    assert one._before_commit == [hook]
    assert handlers.subscriptions[OrderPlaced.TOPIC].deps is None  # the registry itself is untouched

    ctx: Any = HandlerContext(tx=None, incoming=None, log=None, deps="second")  # type: ignore[arg-type]
    assert handlers.deps(ctx) == "second"


def test_a_service_cannot_include_a_topic_twice() -> None:
    first: Handlers[None] = Handlers()
    first.on(StockChanged)(placed)  # type: ignore[arg-type]
    second: Handlers[None] = Handlers()
    second.on(StockChanged)(placed)  # type: ignore[arg-type]
    service = Service("one", settings=ServiceSettings(database_url="postgresql://unused"))
    service.include_handlers(first, None)
    with pytest.raises(ValueError, match=r"one already handles inventory\.stock_changed\.v1"):
        service.include_handlers(second, None)


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_declares_its_handlers_at_module_level(name: str) -> None:
    module = importlib.import_module(f"services.{name}.handlers")
    registry = module.subscriptions
    assert isinstance(registry, Handlers)
    assert registry.subscriptions, f"services/{name}/handlers.py handles no topic"
    assert not hasattr(module, "register"), "handlers are declared at module level, not inside register()"
    for sub in registry.subscriptions.values():
        assert inspect.getmodule(sub.handler) is module, f"{sub.handler} is not declared in handlers.py"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_consumes_exactly_what_its_handlers_declare(name: str) -> None:
    app = importlib.import_module(f"services.{name}.app")
    settings_module = importlib.import_module(f"services.{name}.settings")
    settings_class = next(
        v
        for k, v in vars(settings_module).items()
        if k.endswith("Settings")
        and isinstance(v, type)
        and issubclass(v, ServiceSettings)
        and v.__module__ == settings_module.__name__
    )
    service = app.build(settings_class(database_url="postgresql://unused"))
    declared = importlib.import_module(f"services.{name}.handlers").subscriptions.subscriptions
    assert set(service.topics) == set(declared)


FOLLOWERS = {"invoicing", "channels", "console"}
"""Services no order's next step waits for (ADR 543). The console's actions wait for their own
events instead (ADR 545)."""


@pytest.mark.parametrize("name", SERVICES)
def test_only_a_service_no_order_waits_for_lets_the_broker_gather_its_records(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follower's records wait up to its fetch wait at the broker. On an order's path (orders,
    routing, inventory, shipping, notifications) that wait would be added to every hop; in
    returns, to what a person reads right after acting."""
    for env in ("CONSUMER_FETCH_MIN_BYTES", "CONSUMER_FETCH_MAX_WAIT_MS"):
        monkeypatch.delenv(env, raising=False)
    service = importlib.import_module(f"services.{name}.app").build()
    min_bytes, max_wait_ms = service.fetch_bounds
    if name in FOLLOWERS:
        assert service.follower
        assert (min_bytes, max_wait_ms) == (
            service.settings.follower_fetch_min_bytes,
            service.settings.follower_fetch_max_wait_ms,
        )
        assert min_bytes > 1, "the broker gathers records rather than answering at the first"
    else:
        assert not service.follower
        assert min_bytes == 1, "a record on an order's path is handed over as soon as it is written"


async def test_a_nudged_job_runs_at_once_and_once_more_if_nudged_while_it_runs() -> None:
    service = Service("one", settings=ServiceSettings(database_url="postgresql://unused"))
    runs: list[int] = []
    release = asyncio.Event()
    ran = asyncio.Queue[int]()

    @service.every(3600, name="work")  # its tick never comes within the test
    async def work(_service: Service) -> None:
        runs.append(len(runs))
        await ran.put(len(runs))
        await release.wait()

    loop = asyncio.create_task(service._run_every("work", 3600, work))
    try:
        service.nudge("work")
        async with asyncio.timeout(5):
            assert await ran.get() == 1
        service.nudge("work")  # while it runs: coalesced into one more run
        service.nudge("work")
        release.set()
        async with asyncio.timeout(5):
            assert await ran.get() == 2
        for _ in range(20):  # let a third run start, were the nudges counted rather than coalesced
            await asyncio.sleep(0)
        assert runs == [0, 1], "two nudges during a run make one more run, not two"
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
