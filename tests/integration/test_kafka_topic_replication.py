"""Topic setup on the real broker: replication factor and min ISR come from settings, and a topic the
broker refuses is an error naming it, not a silent success (docs/scaling.md)."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from chassis.kafka import TopicSetupError, ensure_topics
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration

TOPIC_CONFIG = 1
"""DescribeConfigs' config_source for a value set on the topic itself (not a broker default)."""


async def topic_setting(bootstrap: str, topic: str, name: str) -> tuple[str, int]:
    """A topic's value of one config and where it comes from."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [answer] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {name: None})]
        )
        [(_code, _message, _type, _topic, entries)] = answer.resources
        [(_name, value, _read_only, source, *_rest)] = entries
        return value, source
    finally:
        await admin.close()


async def test_new_topics_carry_the_min_isr_the_settings_name(servers: infra.Servers) -> None:
    topic = unique("isr-probe").lower()
    created = await ensure_topics(servers.kafka, {topic: 2}, replication_factor=1, min_insync_replicas=1)
    assert created == [topic]
    assert await topic_setting(servers.kafka, topic, "min.insync.replicas") == ("1", TOPIC_CONFIG)


async def test_more_replicas_than_brokers_is_refused_by_name(servers: infra.Servers) -> None:
    topic = unique("rf-probe").lower()
    with pytest.raises(TopicSetupError) as refused:
        await ensure_topics(servers.kafka, {topic: 2}, replication_factor=2, min_insync_replicas=2)
    message = str(refused.value)
    assert topic in message
    assert "KAFKA_REPLICATION_FACTOR" in message
    assert "replication factor of 2" in message  # the broker's own reason: one broker registered
