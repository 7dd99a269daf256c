"""Create every Dabba topic with explicit partition counts: `python -m chassis.topics`.

Idempotent: existing topics are left as they are. New ones get KAFKA_TOPIC_PARTITIONS partitions
(4 unless set; DLQs one), KAFKA_REPLICATION_FACTOR copies and
KAFKA_MIN_INSYNC_REPLICAS (both 1 by default, for one broker; docs/scaling.md).
"""

from __future__ import annotations

import asyncio
import sys

from chassis.kafka import ensure_topics, topic_plan
from chassis.settings import ServiceSettings


def main() -> int:
    """Create missing topics and print what was done."""
    settings = ServiceSettings()
    created = asyncio.run(
        ensure_topics(
            settings.kafka_bootstrap_servers,
            partitions=settings.kafka_topic_partitions,
            replication_factor=settings.kafka_replication_factor,
            min_insync_replicas=settings.kafka_min_insync_replicas,
        )
    )
    total = len(topic_plan(settings.kafka_topic_partitions))
    print(f"topics: {len(created)} created, {total - len(created)} already there ({total} in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
