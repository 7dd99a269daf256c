"""A consumed batch commits the offsets of its own partitions only (ADR 531)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.message import AckStatus

from chassis.kafka import batch_offsets, commit_batch


@dataclass
class Rec:
    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    value: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class SpyConsumer(AIOKafkaConsumer):  # type: ignore[misc]
    def __init__(self) -> None:  # no connection: only commit is called
        self.commits: list[Any] = []

    async def commit(self, offsets: Any = None) -> None:
        self.commits.append(offsets)


@dataclass
class Message:
    raw_message: tuple[Rec, ...]
    consumer: Any
    committed: AckStatus | None = None


BATCH = (Rec("orders.placed.v1", 3, 41), Rec("orders.placed.v1", 3, 40), Rec("inventory.reserved.v1", 0, 7))


def test_each_partition_of_the_batch_commits_the_offset_after_its_last_record() -> None:
    assert batch_offsets(BATCH) == {
        TopicPartition("orders.placed.v1", 3): 42,
        TopicPartition("inventory.reserved.v1", 0): 8,
    }


async def test_an_applied_batch_commits_only_its_partitions_once_and_is_marked_acknowledged() -> None:
    spy = SpyConsumer()
    message = Message(BATCH, spy)
    await commit_batch(message)
    assert spy.commits == [batch_offsets(BATCH)], (
        "no commit of every held partition (commit() with no offsets)"
    )
    assert message.committed is AckStatus.ACKED, "faststream's ack then commits nothing more"
    await commit_batch(message)
    assert len(spy.commits) == 1


async def test_the_in_memory_test_broker_is_left_to_faststream() -> None:
    class Fake:
        async def commit(self) -> None:
            raise AssertionError("not called")

    message = Message(BATCH, Fake())
    await commit_batch(message)
    assert message.committed is None
