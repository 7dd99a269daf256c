"""How the local stack is reached: DESIGN.md's ports shifted by DABBA_PORT_OFFSET, and dev API keys.

An offset lets a second stack (another checkout, a second test run) share the machine. The keys
are for this machine only (make run, tests, bench); a deployment sets its own API_KEYS.
"""

from __future__ import annotations

import os

OFFSET = int(os.environ.get("DABBA_PORT_OFFSET") or 0)

KAFKA_PORT = 9092 + OFFSET
PG_PORT = int(os.environ.get("DABBA_PG_PORT") or 5432 + OFFSET)

PORTS = {
    name: port + OFFSET
    for name, port in {
        "sandbox": 8010,
        "orders": 8001,
        "routing": 8002,
        "inventory": 8003,
        "shipping": 8004,
        "notifications": 8005,
        "returns": 8006,
        "console": 8000,
        "channels": 8007,
        "invoicing": 8008,
    }.items()
}

REPLICA_PORT_STEP = 20
"""Replica n of a service (DABBA_REPLICAS, deploy/local/stack.py) listens 20 × (n − 1) above the
first: orders on 8001, 8021, 8041, 8061. Every replica stays inside its stack's hundred of ports,
so stacks on offsets 100 apart never meet, and the sandbox (one process, 8010) is never in the way."""
MAX_REPLICAS = 4


def replica_name(service: str, replica: int) -> str:
    """The local process name of one replica: ``orders`` for the first, ``orders-2`` for the second."""
    return service if replica == 1 else f"{service}-{replica}"


def service_of(name: str) -> str:
    """The service a local process belongs to (``orders-2`` → ``orders``)."""
    service, _, replica = name.rpartition("-")
    return service if service in PORTS and replica.isdigit() else name


def replica_of(name: str) -> int:
    """Which replica a local process is (1 for ``orders``, 2 for ``orders-2``)."""
    return 1 if service_of(name) == name else int(name.rpartition("-")[2])


def port_of(name: str) -> int:
    """The HTTP port of a local process, replicas included."""
    return PORTS[service_of(name)] + REPLICA_PORT_STEP * (replica_of(name) - 1)


LOCAL_KAFKA = f"localhost:{KAFKA_PORT}"
LOCAL_DATABASE = f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres"

# One key per role, named after it: `X-API-Key: dev-ops-key-local` acts as "ops".
DEV_KEYS = {role: f"dev-{role}-key-local" for role in ("admin", "ops", "warehouse", "viewer", "channel")}
# The console's own key per role (ADR 80): each service knows it as `console`, the console as its role.
CONSOLE_KEYS = {role: f"dev-console-{role}-local" for role in ("admin", "ops", "warehouse", "viewer")}
# Services that act through another's API with their own key: channels cancels orders (as ops).
SERVICE_KEYS = {"channels": ("ops", "dev-channels-key-local")}
DEV_API_KEYS = ",".join(
    [f"{role}:{role}:{key}" for role, key in DEV_KEYS.items()]
    + [f"{name}:{role}:{key}" for name, (role, key) in SERVICE_KEYS.items()]
    + [f"console:{role}:{key}" for role, key in CONSOLE_KEYS.items()]
)
# The console's demo operators: user name, role; each signs in with the password dev-<name>-local.
DEV_OPERATORS = {"admin": "admin", "asha": "ops", "ravi": "warehouse", "vikram": "viewer"}


def console_env() -> dict[str, str]:
    """The console's local settings: its keys, the demo operators, cookies over plain http."""
    return {
        "CONSOLE_API_KEYS": ",".join(f"{role}:{key}" for role, key in CONSOLE_KEYS.items()),
        "CONSOLE_OPERATORS": ",".join(f"{n}:{r}:dev-{n}-local" for n, r in DEV_OPERATORS.items()),
        "COOKIE_SECURE": "false",
    }


def service_urls() -> dict[str, str]:
    """Env vars naming every local process's base URL (SANDBOX_URL, ORDERS_URL, …)."""
    return {f"{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in PORTS.items()}


def export_defaults() -> None:
    """Point this process (and what it starts) at the local stack unless the env names others."""
    os.environ.setdefault("KAFKA_BOOTSTRAP_SERVERS", LOCAL_KAFKA)
    os.environ.setdefault("DATABASE_URL", LOCAL_DATABASE)
    os.environ.setdefault("DABBA_MODE", "development")
    os.environ.setdefault("API_KEYS", DEV_API_KEYS)
    for key, value in service_urls().items():
        os.environ.setdefault(key, value)


def dev_headers(role: str = "admin") -> dict[str, str]:
    """HTTP headers that authenticate as a role with the local dev keys."""
    return {"X-API-Key": DEV_KEYS[role]}
