"""The Kafka side of a service: a faststream broker (idempotent, acks=all), DLQ, topic setup.

Topics are created here with explicit partition counts, replication factor and min ISR (settings,
docs/scaling.md), never by broker auto-create.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaTimeoutError, TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import AckStatus

from chassis.consumer import Record
from chassis.logging import get_logger, mask_text
from contracts.registry import all_topics
from contracts.topics import DEFAULT_PARTITIONS, SERVICES, dlq_topic

log = get_logger(__name__)


def make_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    """A broker whose producer is idempotent with acks=all, and which never auto-creates topics.

    Its handlers get their decoded body and nothing injected (`apply_types=False`): FastDepends
    resolves a `Context` annotation such as `KafkaMessage` with a synchronous function, which it
    runs in a worker thread, once per batch (ADR 542). The chassis's decoder makes the body the
    message itself."""
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        allow_auto_create_topics=False,
        logger=None,
        apply_types=False,
    )


def without_idle_sleep(subscriber: Any) -> None:
    """Hand a batch subscriber's records over as soon as they are fetched.

    faststream 0.7's batch subscriber sleeps `batch_timeout_ms` after every empty `getmany`, on top
    of getmany's own wait, so a record that arrives during that sleep waits for it: up to 20 ms at
    each hop of an order, on an idle system. `getmany` already returns at the first record, so its
    timeout alone paces an idle loop (ADR 460)."""
    if not isinstance(subscriber, BatchSubscriber):
        raise TypeError(f"not a faststream batch subscriber: {type(subscriber).__name__}")

    async def get_msg(consumer: Any) -> tuple[Any, ...]:
        batches = await consumer.getmany(
            timeout_ms=subscriber.batch_timeout_ms, max_records=subscriber.max_records
        )
        return in_publish_order(batches.values())

    subscriber.get_msg = get_msg  # type: ignore[method-assign]


class Stamped(Protocol):
    """A consumed record's publish time (ms; the producer's CreateTime, or the broker's)."""

    timestamp: int


S = TypeVar("S", bound=Stamped)


def in_publish_order(partitions: Iterable[Sequence[S]]) -> tuple[S, ...]:
    """A batch's records, each partition's in its own order, merged by when they were published.

    aiokafka hands a batch over partition by partition. One batch may hold an order's
    `orders.placed` and its `orders.cancelled`, which are on different topics. Applied partition by
    partition, the cancellation could come first, and find no order to cancel. Merged by record
    timestamp, they are applied in the order they were published, as they would be one batch
    each. Within a partition nothing moves, whatever its timestamps say."""
    return tuple(heapq.merge(*partitions, key=lambda record: record.timestamp))


def batch_offsets(records: Sequence[Record]) -> dict[TopicPartition, int]:
    """The offsets to commit once a batch is applied: per partition it has records in, the one
    after its last record. Partitions without records in the batch are left as last committed."""
    offsets: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
    return offsets


class OffsetCommitter(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commits one consumer's applied batches to Kafka: at most once per `interval_s`, and at once
    before its partitions are taken away or it stops (ADR 540).

    Each batch commits only its own partitions, at the offset after each one's last record (ADR
    531). A commit after every batch was one OffsetCommit request per batch, which at a steady rate
    is per event, at every hop of an order. Waiting is safe because the inbox, not the offset, is
    what makes consumption exactly-once: a crash replays what applied since the last commit (at most
    `interval_s` of it), and the inbox drops each replayed event. `interval_s=0` commits after every
    batch. The committer is also the subscription's rebalance listener, so a partition moving to
    another replica is committed first and the new owner replays nothing that was applied here."""

    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._consumer: AIOKafkaConsumer | None = None
        self._pending: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests = 0
        """OffsetCommit requests sent (the tests read it)."""

    async def applied(self, message: Any) -> None:
        """Note an applied batch's offsets, mark it acknowledged so faststream commits nothing more,
        and commit now (interval 0) or when the interval is up."""
        consumer = getattr(message, "consumer", None)
        if message.committed is not None or not isinstance(consumer, AIOKafkaConsumer):
            return  # already settled, or faststream's in-memory test broker
        self._consumer = consumer
        for tp, offset in batch_offsets(message.raw_message).items():
            self._pending[tp] = max(self._pending.get(tp, 0), offset)
        message.committed = AckStatus.ACKED
        if self._interval_s <= 0:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval_s, self._flush_later)

    def _flush_later(self) -> None:
        self._timer = None
        task = asyncio.create_task(self.flush(), name="kafka-offset-commit")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Commit what is pending for the partitions still held. A commit the broker cannot take
        now (an outage) is kept and tried again after the interval; one refused because the
        partitions moved (a rebalance) is dropped: their new owner replays, its inbox dedupes."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        consumer, pending, self._pending = self._consumer, self._pending, {}
        if consumer is None or not pending:
            return
        try:
            held = consumer.assignment()
        except Exception:  # a stopped consumer holds nothing
            held = set()
        offsets = {
            tp: offset
            for tp, offset in pending.items()
            if tp in held and offset > self._committed.get(tp, -1)
        }
        if not offsets:
            return
        self.requests += 1
        try:
            await consumer.commit(offsets)
        except Exception as exc:
            if not (isinstance(exc, KafkaTimeoutError) or getattr(exc, "retriable", False)):
                log.info("offsets not committed; the partitions' next reader replays them", error=repr(exc))
                return
            for tp, offset in offsets.items():
                self._pending[tp] = max(self._pending.get(tp, 0), offset)
            if self._timer is None and self._interval_s > 0:
                self._timer = asyncio.get_running_loop().call_later(self._interval_s, self._flush_later)
            log.warning("offset commit failed, trying again", error=repr(exc))
            return
        for tp, offset in offsets.items():
            self._committed[tp] = max(self._committed.get(tp, -1), offset)

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Before a rebalance hands partitions to another member: commit what was applied."""
        await self.flush()
        for tp in revoked:
            self._committed.pop(tp, None)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Log what this member now holds (after each rebalance; a replica holding nothing does no
        work). The consumer starts each new partition at its committed offset."""
        log.info("partitions assigned", partitions=len(assigned), topics=len({tp.topic for tp in assigned}))


async def publish_raw(
    broker: KafkaBroker, topic: str, value: bytes, key: bytes | None, headers: dict[str, str]
) -> Any:
    """Hand one record to the producer; the returned future resolves on the broker's ack."""
    return await broker.publish(value, topic, key=key, headers=headers, no_confirm=True)


def dead_letter_headers(record: Record, error: str, service: str) -> dict[str, str]:
    """The original record's headers plus where it came from and why it failed (masked: the error
    names fields and problems, never a customer's data)."""
    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
    headers.update(
        {
            "dlq_original_topic": record.topic,
            "dlq_original_partition": str(record.partition),
            "dlq_original_offset": str(record.offset),
            "dlq_error": mask_text(error)[:2000],
            "dlq_service": service,
        }
    )
    return headers


async def send_to_dlq(broker: KafkaBroker, service: str, record: Record, error: str) -> None:
    """Publish a record that cannot be applied to dlq.<service> and wait for the ack."""
    await broker.publish(
        record.value or b"",
        dlq_topic(service),
        key=record.key,
        headers=dead_letter_headers(record, error, service),
    )


def topic_plan(partitions: int = DEFAULT_PARTITIONS) -> dict[str, int]:
    """Every topic Dabba uses, with its partition count: the contract topics and one DLQ per service."""
    plan = dict.fromkeys(all_topics(), partitions)
    plan.update({dlq_topic(s): 1 for s in SERVICES})
    return plan


class TopicSetupError(Exception):
    """The broker refused to create a topic as planned (say, more replicas than brokers): a setting
    to correct, not an outage to wait out."""


def topic_refusals(topic_errors: list[tuple[str, int, str | None]]) -> list[str]:
    """The refusals in a CreateTopics answer, as "topic: why"; a topic that already exists (another
    process created it a moment ago) is no refusal."""
    return [
        f"{topic}: {message or f'error code {code}'}"
        for topic, code, message in topic_errors
        if code not in (0, TopicAlreadyExistsError.errno)
    ]


async def ensure_topics(
    bootstrap_servers: str,
    plan: dict[str, int] | None = None,
    *,
    attempts: int | None = 30,
    partitions: int = DEFAULT_PARTITIONS,
    replication_factor: int = 1,
    min_insync_replicas: int = 1,
) -> list[str]:
    """Create missing topics (idempotent); returns the names it created.

    Each is created with ``partitions`` partitions (KAFKA_TOPIC_PARTITIONS; DLQs one) and
    ``replication_factor`` copies and ``min.insync.replicas`` set on the topic
    (KAFKA_REPLICATION_FACTOR, KAFKA_MIN_INSYNC_REPLICAS); topics that exist are left as they are.
    A refusal raises TopicSetupError naming each topic and the broker's reason. While the broker
    cannot be reached it tries again, waiting longer each time (at most 5 s), up to `attempts`
    times; `attempts=None` waits as long as it takes (a service starting before its broker, ADR 170)."""
    plan = plan or topic_plan(partitions)
    configs = {"min.insync.replicas": str(min_insync_replicas)}
    attempt = 0
    while True:
        attempt += 1
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(t, n, replication_factor, topic_configs=configs)
                for t, n in plan.items()
                if t not in existing
            ]
            if missing:
                answer = await admin.create_topics(missing)
                if refusals := topic_refusals(answer.topic_errors):
                    raise TopicSetupError(
                        f"Kafka refused {len(refusals)} topic(s) with replication factor "
                        f"{replication_factor} (KAFKA_REPLICATION_FACTOR) and min.insync.replicas "
                        f"{min_insync_replicas} (KAFKA_MIN_INSYNC_REPLICAS): " + "; ".join(refusals)
                    )
            return [t.name for t in missing]
        except TopicSetupError:
            raise
        except Exception as exc:
            if attempts is not None and attempt >= attempts:
                raise
            log.info("waiting for kafka", error=repr(exc), attempt=attempt)
            await asyncio.sleep(min(5.0, 0.5 * 2 ** min(attempt - 1, 4)))
        finally:
            await admin.close()
