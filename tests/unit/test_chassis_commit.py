"""Applied batches commit only their own partitions (ADR 531), at most once per interval and before
a rebalance (ADR 540)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaTimeoutError
from faststream.message import AckStatus

from chassis.kafka import OffsetCommitter, batch_offsets, in_publish_order

PLACED_3 = TopicPartition("orders.placed.v1", 3)
RESERVED_0 = TopicPartition("inventory.reserved.v1", 0)


@dataclass
class Rec:
    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    value: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class SpyConsumer(AIOKafkaConsumer):  # type: ignore[misc]
    def __init__(self, held: set[TopicPartition] | None = None) -> None:  # no connection
        self.commits: list[Any] = []
        self.held = {PLACED_3, RESERVED_0} if held is None else held
        self.failures: list[Exception] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.held)

    async def commit(self, offsets: Any = None) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.commits.append(offsets)


@dataclass
class Message:
    raw_message: tuple[Rec, ...]
    consumer: Any
    committed: AckStatus | None = None


BATCH = (Rec("orders.placed.v1", 3, 41), Rec("orders.placed.v1", 3, 40), Rec("inventory.reserved.v1", 0, 7))


def test_each_partition_of_the_batch_commits_the_offset_after_its_last_record() -> None:
    assert batch_offsets(BATCH) == {PLACED_3: 42, RESERVED_0: 8}


async def test_with_no_interval_an_applied_batch_commits_only_its_partitions_once() -> None:
    spy = SpyConsumer()
    committer = OffsetCommitter(0)
    message = Message(BATCH, spy)
    await committer.applied(message)
    assert spy.commits == [{PLACED_3: 42, RESERVED_0: 8}], "no commit of every held partition"
    assert message.committed is AckStatus.ACKED, "faststream's ack then commits nothing more"
    await committer.applied(message)
    assert len(spy.commits) == 1


async def test_batches_within_the_interval_are_one_commit_of_the_highest_offsets() -> None:
    spy = SpyConsumer()
    committer = OffsetCommitter(3600)  # the timer never fires in this test: flush is explicit
    for batch in (BATCH, (Rec("orders.placed.v1", 3, 42),), (Rec("orders.placed.v1", 3, 43),)):
        await committer.applied(Message(batch, spy))
    assert spy.commits == [], "nothing is committed before the interval is up"
    await committer.flush()
    assert spy.commits == [{PLACED_3: 44, RESERVED_0: 8}]
    await committer.flush()
    assert len(spy.commits) == 1, "nothing new, no request"


async def test_the_commit_is_sent_when_the_interval_is_up() -> None:
    committed = asyncio.Event()

    class Signalling(SpyConsumer):
        async def commit(self, offsets: Any = None) -> None:
            await super().commit(offsets)
            committed.set()

    spy = Signalling()
    committer = OffsetCommitter(0.01)
    await committer.applied(Message(BATCH, spy))
    async with asyncio.timeout(5):
        await committed.wait()
    assert spy.commits == [{PLACED_3: 42, RESERVED_0: 8}]


async def test_a_rebalance_commits_what_was_applied_before_the_partitions_move() -> None:
    spy = SpyConsumer()
    committer = OffsetCommitter(3600)
    await committer.applied(Message(BATCH, spy))
    await committer.on_partitions_revoked({PLACED_3, RESERVED_0})
    assert spy.commits == [{PLACED_3: 42, RESERVED_0: 8}]


async def test_partitions_no_longer_held_are_not_committed() -> None:
    spy = SpyConsumer(held={RESERVED_0})
    committer = OffsetCommitter(3600)
    await committer.applied(Message(BATCH, spy))
    await committer.flush()
    assert spy.commits == [{RESERVED_0: 8}]


async def test_a_commit_refused_by_a_rebalance_is_dropped_and_an_outage_is_tried_again() -> None:
    spy = SpyConsumer()
    committer = OffsetCommitter(3600)
    await committer.applied(Message(BATCH, spy))
    spy.failures = [CommitFailedError("rebalanced")]
    await committer.flush()
    await committer.flush()
    assert spy.commits == [], "the partitions' next reader replays them; nothing to retry"

    await committer.applied(Message((Rec("orders.placed.v1", 3, 50),), spy))
    spy.failures = [KafkaTimeoutError()]
    await committer.flush()
    assert spy.commits == []
    await committer.flush()
    assert spy.commits == [{PLACED_3: 51}], "an outage's offsets are kept for the next try"


async def test_an_older_offset_never_moves_a_committed_partition_back() -> None:
    spy = SpyConsumer()
    committer = OffsetCommitter(3600)
    await committer.applied(Message((Rec("orders.placed.v1", 3, 50),), spy))
    await committer.flush()
    await committer.applied(Message((Rec("orders.placed.v1", 3, 20),), spy))  # a replay
    await committer.flush()
    assert spy.commits == [{PLACED_3: 51}]


@pytest.mark.parametrize("interval", [0, 3600])
async def test_the_in_memory_test_broker_is_left_to_faststream(interval: float) -> None:
    class Fake:
        async def commit(self) -> None:
            raise AssertionError("not called")

    message = Message(BATCH, Fake())
    await OffsetCommitter(interval).applied(message)
    assert message.committed is None


@dataclass(frozen=True)
class Published:
    """A consumed record's topic, offset and publish time."""

    topic: str
    offset: int
    timestamp: int


def test_a_batch_is_applied_in_publish_order_across_topics_and_in_offset_order_within_a_partition() -> None:
    """aiokafka hands a batch over partition by partition: an order's cancellation on one topic could
    be applied before its placement on another. Merged by publish time, it is not; a partition's own
    order never changes, even where its timestamps go backwards (another replica's clock)."""
    placed = [Published("orders.placed.v1", 7, 1_000), Published("orders.placed.v1", 8, 1_300)]
    cancelled = [Published("orders.cancelled.v1", 3, 1_100)]
    skewed = [
        Published("inventory.stock_changed.v1", 1, 1_200),
        Published("inventory.stock_changed.v1", 2, 900),
    ]

    merged = in_publish_order([cancelled, placed, skewed])

    assert [(r.topic.split(".")[1], r.offset) for r in merged] == [
        ("placed", 7),
        ("cancelled", 3),
        ("stock_changed", 1),
        ("stock_changed", 2),
        ("placed", 8),
    ]
