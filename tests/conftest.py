"""Shared fixtures: the real servers, a tap on every topic, a producer, and the running stack."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from chassis.kafka import ensure_topics, topic_plan
from contracts import Envelope, Event
from deploy.local.stack import ANY_HOUR, Stack
from tests import infra


@pytest.fixture(scope="session")
def servers() -> Iterator[infra.Servers]:
    """The real broker and database server; service processes inherit them through the env."""
    found, containers = infra.resolve()
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = found.kafka
    os.environ["DATABASE_URL"] = found.database_url
    asyncio.run(ensure_topics(found.kafka))
    yield found
    for container in containers:  # pragma: no cover - testcontainers only
        container.stop()  # type: ignore[attr-defined]


@dataclass
class Tap:
    """Every record published on Dabba's topics since the session started, for assertions."""

    records: list[ConsumerRecord[bytes, bytes]] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def find(self, topic: str, where: Callable[[ConsumerRecord[bytes, bytes]], bool]) -> list[Any]:
        """Records on a topic that match."""
        return [r for r in self.records if r.topic == topic and where(r)]

    async def wait_for(
        self,
        topic: str,
        where: Callable[[ConsumerRecord[bytes, bytes]], bool],
        *,
        count: int = 1,
        timeout: float = 60,
    ) -> list[Any]:
        """Wait until at least ``count`` matching records arrived; fail naming what was awaited."""

        async def enough() -> list[Any]:
            async with self.changed:
                while len(found := self.find(topic, where)) < count:
                    await self.changed.wait()
                return found

        try:
            return await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            have = len(self.find(topic, where))
            raise AssertionError(f"waited {timeout}s for {count} record(s) on {topic}, saw {have}") from None


def body_has(**fields: Any) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    """A record predicate: the JSON value contains these top-level field values."""
    import json

    def match(record: ConsumerRecord[bytes, bytes]) -> bool:
        try:
            value = json.loads(record.value or b"")
        except ValueError:
            return False
        return all(value.get(k) == v for k, v in fields.items())

    return match


def ce_id(record: ConsumerRecord[bytes, bytes]) -> str:
    """The CloudEvents id of a record."""
    return dict(record.headers)["ce_id"].decode()


@pytest.fixture(scope="session")
async def tap(servers: infra.Servers) -> AsyncIterator[Tap]:
    """Read every contract topic and DLQ from its current end, in the background."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers.kafka, enable_auto_commit=False)
    await consumer.start()
    partitions = [
        TopicPartition(topic, p)
        for topic in topic_plan()
        for p in (consumer.partitions_for_topic(topic) or await _partitions(consumer, topic))
    ]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    collected = Tap()

    async def pump() -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=100)
            if batch:
                async with collected.changed:
                    for records in batch.values():
                        collected.records.extend(records)
                    collected.changed.notify_all()

    task = asyncio.create_task(pump())
    yield collected
    task.cancel()
    await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


@pytest.fixture(scope="session")
async def producer(servers: infra.Servers) -> AsyncIterator[AIOKafkaProducer]:
    """An idempotent producer for publishing test input."""
    p = AIOKafkaProducer(bootstrap_servers=servers.kafka, enable_idempotence=True)
    await p.start()
    yield p
    await p.stop()


async def publish_event(
    producer: AIOKafkaProducer,
    event: Event,
    *,
    source: str = "tests",
    traceparent: str | None = None,
    key: str | None = None,
) -> Envelope:
    """Publish a contract event with its CloudEvents headers, as a Dabba service would.

    ``key`` overrides the partition key, to put an event on the same partition as another one."""
    envelope = Envelope.for_event(event, source=source, traceparent=traceparent)
    await producer.send_and_wait(
        event.TOPIC,
        event.model_dump_json().encode(),
        key=(key or event.partition_key()).encode(),
        headers=envelope.to_headers(),
    )
    return envelope


@pytest.fixture(scope="session")
def stack(servers: infra.Servers) -> Iterator[Stack]:
    """Every service and the sandbox as real processes, for end-to-end and crash tests; the same at
    any hour of the day in India, whatever the environment says about quiet hours."""
    running = Stack(env=dict(ANY_HOUR))
    running.stop_all()
    running.start_all()
    yield running
    running.stop_all()
