"""Periodic jobs of the notifications service: the dispatcher's pass over queued messages, and the
checks that alert operators about dead-letter topics growing (and the housekeeping of
provider statuses that never matched a message of ours). Overdue refunds are returns' to time: it
owns the refund SLA and says so on returns.updated.v1, which the handlers pass on (ADR 0230).

Alert ids derive from what was seen (topic and end offset), so two replicas or a rerun after a crash
queue the same alert once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from chassis.consumer import Transaction
from chassis.logging import get_logger
from chassis.service import Service
from contracts.topics import dlq_topics
from services.notifications import handlers, inbound, store
from services.notifications.dispatcher import Dispatcher
from services.notifications.domain.policy import alert
from services.notifications.settings import NotificationsSettings

log = get_logger(__name__)


async def dlq_sizes(bootstrap_servers: str) -> dict[str, int]:
    """Messages ever written to each dead-letter topic (the sum of its partitions' end offsets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        # partitions_for_topic only reads the client's cluster metadata, which a consumer without a
        # subscription never fetches (topics() returns a copy); as tests/conftest.py does.
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, p)
            for topic in dlq_topics()
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        ends = await consumer.end_offsets(partitions) if partitions else {}
    finally:
        await consumer.stop()
    sizes = dict.fromkeys(dlq_topics(), 0)
    for tp, end in ends.items():
        sizes[tp.topic] += end
    return sizes


def register(service: Service, settings: NotificationsSettings, dispatcher: Dispatcher) -> None:
    """Every periodic job of the service, on ``service``."""

    @service.every(settings.dispatch_interval_s, name="dispatch")
    async def dispatch(_service: Service) -> None:
        await dispatcher.run_once()

    @service.after_commit
    def nudge_dispatcher(tx: Transaction) -> None:
        if tx.shared.get(handlers.DUE_NOW):
            service.nudge("dispatch")

    @service.every(settings.watch_interval_s, name="watch-dlq")
    async def watch_dlq(service: Service) -> None:
        sizes = await dlq_sizes(settings.kafka_bootstrap_servers)
        async with service.pool.acquire() as conn, conn.transaction():
            seen = await store.dlq_watermarks(conn)
            for topic, total in sizes.items():
                if total <= seen.get(topic, 0):
                    continue
                grew = alert(
                    "dlq_growing",
                    key=f"{topic}:{total}",
                    topic=topic,
                    count=total - seen.get(topic, 0),
                    total=total,
                )
                await store.queue(
                    conn, message=grew, cause_event_id=f"watch:{topic}", send_at=datetime.now(UTC)
                )
                await store.save_dlq_watermark(conn, topic=topic, end_offset=total)

    @service.every(settings.parked_status_interval_s, name="apply-parked-statuses")
    async def apply_parked_statuses(service: Service) -> None:
        if moved := await inbound.apply_parked(service):
            log.info("parked statuses applied to sends recorded since", statuses=moved)

    @service.every(settings.watch_interval_s, name="forget-early-statuses")
    async def forget_early_statuses(service: Service) -> None:
        async with service.pool.acquire() as conn:
            await store.forget_early_statuses(conn, older_than_s=24 * 3600)
