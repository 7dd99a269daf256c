"""Replay dead letters: `python -m chassis.dlq replay <service> [--limit N] [--dry-run]`.

Each record in dlq.<service> goes back to the topic it came from, with its original headers, so the
service applies it again (its inbox still skips anything it had applied). The replay group's offset
moves past exactly the records replayed: with --limit N the rest stay for the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from chassis.settings import ServiceSettings
from contracts.topics import SERVICES, dlq_topic

DLQ_HEADERS = (
    "dlq_original_topic",
    "dlq_original_partition",
    "dlq_original_offset",
    "dlq_error",
    "dlq_service",
)


def original_headers(headers: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The record's headers without what the dead-lettering added."""
    return [(k, v) for k, v in headers if k not in DLQ_HEADERS]


async def replay(service: str, *, bootstrap: str, limit: int | None, dry_run: bool) -> int:
    """Republish dead letters of one service; returns how many."""
    consumer = AIOKafkaConsumer(
        dlq_topic(service),
        bootstrap_servers=bootstrap,
        group_id=f"dlq-replay-{service}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await consumer.start()
    await producer.start()
    done = 0
    try:
        while limit is None or done < limit:
            batch = await consumer.getmany(timeout_ms=2000, max_records=100)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                break
            replayed: dict[TopicPartition, int] = {}
            for record in records[: None if limit is None else limit - done]:
                headers = dict((k, v.decode()) for k, v in record.headers)
                target = headers.get("dlq_original_topic", "?")
                print(
                    f"{'would replay' if dry_run else 'replaying'} {target} "
                    f"p{headers.get('dlq_original_partition')}@{headers.get('dlq_original_offset')}: "
                    f"{headers.get('dlq_error', '')[:120]}"
                )
                if not dry_run:
                    await producer.send_and_wait(
                        target, record.value, key=record.key, headers=original_headers(list(record.headers))
                    )
                done += 1
                replayed[TopicPartition(record.topic, record.partition)] = record.offset
            if replayed and not dry_run:  # past what was replayed, not past everything fetched
                await consumer.commit({tp: OffsetAndMetadata(o + 1, "") for tp, o in replayed.items()})
    finally:
        await producer.stop()
        await consumer.stop()
    return done


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["replay"])
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    count = asyncio.run(
        replay(
            args.service,
            bootstrap=ServiceSettings().kafka_bootstrap_servers,
            limit=args.limit,
            dry_run=args.dry_run,
        )
    )
    print(f"dlq: {count} record(s) {'found' if args.dry_run else 'replayed'} from {dlq_topic(args.service)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
