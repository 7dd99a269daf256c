"""Rebuild the console's read model from the topics, from offset 0 (ADR 81).

`python -m services.console rebuild` (with the console stopped) reads every topic the console
folds up to its current end, folds it with the same pure function the live consumer uses, and swaps
the read model and the inbox for the result in one transaction; the console then carries on from
its committed offsets, and the inbox skips what the rebuild already applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from chassis import db
from chassis.consumer import Poison, event_id_of, read_envelope
from chassis.logging import get_logger
from contracts import Event, StockChanged, TicketUpdated
from services.console import store
from services.console.domain import inbox
from services.console.domain.stock import latest
from services.console.domain.view import FOLDED, OrderView, TimelineEntry, apply, timeline_entry
from services.console.settings import ConsoleSettings

log = get_logger(__name__)


@dataclass
class Rebuilt:
    """The read model folded from the topics, and the events it applied (event id, topic)."""

    views: dict[str, OrderView] = field(default_factory=dict)
    timeline: list[TimelineEntry] = field(default_factory=list)
    applied: list[tuple[str, str]] = field(default_factory=list)
    stock: list[StockChanged] = field(default_factory=list)
    tickets: list[inbox.TicketLine] = field(default_factory=list)


async def fold_topics(bootstrap_servers: str) -> Rebuilt:
    """Fold every record now on the console's topics, oldest first."""
    read: tuple[type[Event], ...] = (*FOLDED, StockChanged, TicketUpdated)
    models = {model.TOPIC: model for model in read}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    records = []
    try:
        # Without a subscription aiokafka keeps no metadata of these topics until asked for it all.
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, p)
            for topic in models
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        todo = {tp for tp in partitions if ends[tp] > 0}
        while todo:
            for tp, batch in (await consumer.getmany(*todo, timeout_ms=1000)).items():
                records += [r for r in batch if r.offset < ends[tp]]
                if batch and batch[-1].offset >= ends[tp] - 1:
                    todo.discard(tp)
    finally:
        await consumer.stop()
    records.sort(key=lambda r: (r.timestamp, r.topic, r.partition, r.offset))
    rebuilt = Rebuilt()
    seen: set[str] = set()
    for record in records:
        try:
            envelope = read_envelope(record)
            event = models[record.topic].model_validate_json(record.value or b"")
        except (Poison, ValidationError):
            continue  # the live consumer dead-lettered it too
        event_id = event_id_of(record, envelope)
        if event_id in seen:
            continue  # a duplicate on the topic, as the inbox would skip it
        seen.add(event_id)
        rebuilt.applied.append((event_id, record.topic))
        if isinstance(event, StockChanged):
            rebuilt.stock.append(event)
            continue
        if isinstance(event, TicketUpdated):
            rebuilt.tickets.append(inbox.line_of(event, event_id))
            if (entry := inbox.timeline_entry(event, event_id)) is not None:
                rebuilt.timeline.append(entry)
            continue
        order_id = getattr(event, "order_id", None)
        if not order_id:
            continue
        rebuilt.views[order_id] = apply(rebuilt.views.get(order_id), event)
        if (entry := timeline_entry(event, event_id)) is not None:
            rebuilt.timeline.append(entry)
    rebuilt.stock = list(latest(rebuilt.stock).values())
    return rebuilt


async def rebuild_command() -> int:
    """The CLI: fold the topics and replace the read model with the result."""
    settings = ConsoleSettings()
    rebuilt = await fold_topics(settings.kafka_bootstrap_servers)
    pool = await db.open_database(
        server_url=settings.database_url,
        service="console",
        migrations_dir=Path(__file__).parent / "migrations",
        min_size=1,
        max_size=2,
        password=settings.database_password,
        provision_with=settings.database_admin_url(),
    )
    try:
        async with pool.acquire() as conn, conn.transaction():
            await store.replace_all(
                conn,
                list(rebuilt.views.values()),
                rebuilt.timeline,
                rebuilt.applied,
                rebuilt.stock,
                rebuilt.tickets,
            )
    finally:
        await pool.close()
    print(
        f"console: read model rebuilt from the topics: {len(rebuilt.views)} orders, "
        f"{len(rebuilt.stock)} SKUs' stock, {len(rebuilt.tickets)} ticket lines, "
        f"{len(rebuilt.applied)} events"
    )
    return 0
