"""DLQ replay against the real broker: it replays exactly what it says, and a limited run leaves the
rest for the next one (none skipped, none twice)."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from chassis.dlq import replay
from chassis.kafka import ensure_topics
from contracts.topics import dlq_topic
from tests import infra
from tests.helpers import unique, wait_until

pytestmark = pytest.mark.integration


async def republished(bootstrap: str, topic: str, at_least: int) -> list[bytes]:
    """Every value on the target topic, once at least `at_least` are there."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        seen: list[bytes] = []

        async def enough() -> list[bytes] | None:
            batch = await consumer.getmany(partition, timeout_ms=200)
            seen.extend(r.value or b"" for r in batch.get(partition, []))
            return seen if len(seen) >= at_least else None

        return await wait_until(enough, what=f"{at_least} replayed records on {topic}", every=0)
    finally:
        await consumer.stop()


async def test_a_limited_replay_leaves_the_rest_for_the_next_run(servers: infra.Servers) -> None:
    service = unique("replaytest").lower().replace("-", "_")
    target = f"replay-target-{service}"
    await ensure_topics(servers.kafka, {dlq_topic(service): 1, target: 1})
    producer = AIOKafkaProducer(bootstrap_servers=servers.kafka)
    await producer.start()
    try:
        for i in range(5):
            headers = [
                ("dlq_original_topic", target.encode()),
                ("dlq_error", b"boom"),
                ("ce_id", f"{i}".encode()),
            ]
            await producer.send_and_wait(dlq_topic(service), f"letter-{i}".encode(), headers=headers)
    finally:
        await producer.stop()

    assert await replay(service, bootstrap=servers.kafka, limit=2, dry_run=False) == 2
    assert await republished(servers.kafka, target, 2) == [b"letter-0", b"letter-1"]
    assert await replay(service, bootstrap=servers.kafka, limit=None, dry_run=False) == 3
    values = await republished(servers.kafka, target, 5)
    assert values == [f"letter-{i}".encode() for i in range(5)], "none skipped, none replayed twice"
    assert await replay(service, bootstrap=servers.kafka, limit=None, dry_run=False) == 0
