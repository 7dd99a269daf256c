"""Where the tests find a real Kafka broker and a real PostgreSQL server.

In order: the servers named by KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL; testcontainers when a Docker
engine answers; else the project's own local servers (deploy/local, started here if needed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from deploy.local.ports import LOCAL_DATABASE, LOCAL_KAFKA

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Servers:
    """Connection strings of the broker and the database server the suite runs against."""

    kafka: str
    database_url: str
    origin: str


def _docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _testcontainers() -> tuple[Servers, list[object]]:  # pragma: no cover - needs a Docker engine
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    postgres = PostgresContainer("postgres:17", driver=None)
    kafka.start()
    postgres.start()
    return (
        Servers(kafka.get_bootstrap_server(), postgres.get_connection_url(), "testcontainers"),
        [kafka, postgres],
    )


def resolve() -> tuple[Servers, list[object]]:
    """The servers to use, and any containers to stop afterwards."""
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    database = os.environ.get("DATABASE_URL")
    if kafka and database:
        return Servers(kafka, database, "environment"), []
    if not kafka and not database and _docker_engine_answers():
        return _testcontainers()
    subprocess.run(["bash", str(ROOT / "deploy/local/up.sh")], check=True)
    return Servers(kafka or LOCAL_KAFKA, database or LOCAL_DATABASE, "deploy/local"), []
