"""A service started while PostgreSQL and Kafka are down waits for them, however long it takes,
answering /readyz with 503 meanwhile, and comes up by itself once they are back (ADR 170).

The servers "are down" through proxies in front of the real ones that refuse every connection
until restored; the service is a real process (routing) started with the proxies' addresses.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from deploy.local.ports import dev_headers
from deploy.local.stack import ROOT, Stack
from tests import infra
from tests.helpers import wait_until
from tests.proxy import CuttableProxy

pytestmark = pytest.mark.integration


async def _down(host: str, port: int) -> CuttableProxy:
    """A proxy to a real server that refuses every connection until restored."""
    proxy = CuttableProxy(host, port)
    await proxy.start()
    await proxy.cut()
    return proxy


@pytest.fixture
async def database(servers: infra.Servers) -> AsyncIterator[CuttableProxy]:
    target = urlsplit(servers.database_url)
    proxy = await _down(target.hostname or "127.0.0.1", target.port or 5432)
    yield proxy
    await proxy.cut()


@pytest.fixture
async def kafka(servers: infra.Servers) -> AsyncIterator[CuttableProxy]:
    host, _, port = servers.kafka.split(",")[0].rpartition(":")
    proxy = await _down(host or "127.0.0.1", int(port))
    yield proxy
    await proxy.cut()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def routing(
    servers: infra.Servers, database: CuttableProxy, kafka: CuttableProxy, tmp_path: Path
) -> AsyncIterator[tuple[str, Path]]:
    """The routing service, started now, pointed at the two proxies (both down); its base URL and log."""
    target = urlsplit(servers.database_url)
    env = Stack(run_dir=tmp_path).environment("routing")
    env |= {
        "HTTP_PORT": str(port := _free_port()),
        "DATABASE_URL": servers.database_url.replace(
            f"{target.hostname}:{target.port}", f"127.0.0.1:{database.port}"
        ),
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{kafka.port}",
        "LOG_FORMAT": "json",
    }
    log = tmp_path / "routing.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.routing", cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        yield f"http://127.0.0.1:{port}", log
    finally:
        # Waited for on the event loop, which also runs the proxies: the service's graceful stop
        # still talks to the database through them.
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 60)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    # uvicorn re-raises SIGTERM once its graceful stop is done: stopped, not killed.
    assert proc.returncode in (0, -signal.SIGTERM), log.read_text(errors="replace")[-3000:]
    assert "service stopped" in log.read_text(errors="replace")


def _waiting(metrics: str, dependency: str) -> bool:
    """Whether the service says (dabba_service_waiting) it waits for this dependency now."""
    line = re.search(rf'dabba_service_waiting\{{[^}}]*dependency="{dependency}"[^}}]*\}} (\S+)', metrics)
    return line is not None and float(line.group(1)) == 1.0


async def test_a_service_started_before_postgresql_and_kafka_waits_and_then_comes_up(
    routing: tuple[str, Path], database: CuttableProxy, kafka: CuttableProxy
) -> None:
    base, log = routing
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:

        async def answers(path: str) -> httpx.Response | None:
            try:
                return await client.get(path, headers=dev_headers())
            except httpx.TransportError:
                return None

        async def metrics_say_waiting(dependency: str) -> bool | None:
            r = await answers("/metrics")
            return True if r is not None and _waiting(r.text, dependency) else None

        # Both servers down: it serves /readyz (503) and refuses other routes with the one error body.
        await wait_until(
            lambda: metrics_say_waiting("database"), what="waiting for the database", timeout=120
        )
        ready = await answers("/readyz")
        assert ready is not None and ready.status_code == 503
        assert ready.json()["checks"]["database"] is False
        refused = await answers("/warehouses")
        assert refused is not None and refused.status_code == 503
        assert refused.json()["problems"][0]["field"] == "service"
        await wait_until(
            lambda: _true_if(_tries_logged(log, "database") >= 3),
            what="three tries for the database: it keeps waiting",
            timeout=120,
        )

        # The database is back, the broker not yet: it migrates, then waits for Kafka, still not ready.
        await database.restore()
        await wait_until(lambda: metrics_say_waiting("kafka"), what="waiting for kafka", timeout=180)
        ready = await answers("/readyz")
        assert ready is not None and ready.status_code == 503
        assert ready.json()["checks"]["database"] is True
        assert ready.json()["checks"]["kafka"] is False

        # The broker is back: ready, and the routes answer.
        await kafka.restore()

        async def is_ready() -> httpx.Response | None:
            r = await answers("/readyz")
            return r if r is not None and r.status_code == 200 else None

        await wait_until(is_ready, what="/readyz 200 once both are back", timeout=180)
        served = await answers("/warehouses")
        assert served is not None and served.status_code == 200, served and served.text
        assert not _waiting((await client.get("/metrics")).text, "kafka")
        assert "could not start" not in log.read_text(errors="replace")


async def _true_if(condition: bool) -> bool | None:
    return True if condition else None


def _tries_logged(log: Path, dependency: str) -> int:
    """How often the service logged that it waits for this dependency."""
    return len(re.findall(rf"waiting for {dependency}", log.read_text(errors="replace")))
