"""A consumer's batch loop (chassis.kafka.without_idle_sleep): records are handed over as soon as
they are fetched, never after a sleep following an empty poll (ADR 460)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber import usecase

from chassis.kafka import without_idle_sleep


@dataclass(frozen=True)
class Rec:
    """A fetched record: what it is, and when it was published."""

    name: str
    timestamp: int


class Consumer:
    """aiokafka's getmany as the subscriber calls it: each call answers the next prepared batch."""

    def __init__(self, *answers: dict[str, list[Rec]]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[int, int]] = []

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[str, list[Rec]]:
        self.calls.append((timeout_ms, max_records))
        return self.answers.pop(0)


def batch_subscriber() -> Any:
    broker = KafkaBroker("localhost:9092")
    return broker.subscriber("orders.placed.v1", batch=True, batch_timeout_ms=500, max_records=100)


async def test_an_empty_poll_is_followed_at_once_by_the_next_and_records_come_in_publish_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_sleep(_seconds: float) -> None:
        raise AssertionError("the batch loop slept after an empty poll: a record would wait for it")

    monkeypatch.setattr(usecase.anyio, "sleep", no_sleep)
    subscriber = batch_subscriber()
    without_idle_sleep(subscriber)
    consumer = Consumer({}, {"p0": [Rec("a", 1), Rec("b", 3)], "p1": [Rec("c", 2)]})

    assert await subscriber.get_msg(consumer) == ()
    assert [r.name for r in await subscriber.get_msg(consumer)] == ["a", "c", "b"]
    assert consumer.calls == [(500, 100), (500, 100)], "getmany's own wait paces the idle loop"


def test_only_a_batch_subscriber_is_changed() -> None:
    broker = KafkaBroker("localhost:9092")
    with pytest.raises(TypeError, match="not a faststream batch subscriber"):
        without_idle_sleep(broker.subscriber("orders.placed.v1"))
