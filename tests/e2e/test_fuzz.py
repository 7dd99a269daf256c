"""Fuzz every service's HTTP API from its own OpenAPI (schemathesis) against the running stack: no
answer is a 5xx, input the schema rules out is refused with a 4xx, and nothing is half-written.

Each operation gets DABBA_FUZZ_EXAMPLES examples per mode (valid and invalid input; default 6), then
DABBA_FUZZ_SCENARIOS stateful scenarios (default 5) follow the OpenAPI links, so an object created is
read and acted on. Reference data other tests rely on (warehouses, rules, SKU sizes, blocklists) is
put back as it was afterwards. The number of calls made is printed per service."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful import run_state_machine_as_test

from chassis.db import database_name, with_database
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from tests.helpers import db_fetch, url

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("DABBA_FUZZ_EXAMPLES") or 6)
SCENARIOS = int(os.environ.get("DABBA_FUZZ_SCENARIOS") or 5)
# A deeper run by hand (DABBA_FUZZ_EXAMPLES=100) needs longer than the suite's 300 s per test.
DEEP_ENOUGH = pytest.mark.timeout(max(300, 60 * EXAMPLES + 30 * SCENARIOS))
SERVICES = ("orders", "routing", "inventory", "shipping", "notifications", "returns", "channels")
READ_ONLY = {"notifications"}  # creates nothing over HTTP, so it has no links to follow
CHECKS = [not_a_server_error]
FAST = settings(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk
)

# Reference data the rest of the suite relies on, put back as it was after fuzzing.
REFERENCE = {
    "orders": ("risk_blocklist",),
    "routing": ("warehouses", "routing_rules"),
    "inventory": ("items",),
    "shipping": ("sku_dimensions", "serviceability", "rate_cards", "pickup_locations"),
    "returns": ("return_skus", "return_categories"),  # what refers to a category first
    "channels": ("sku_mappings", "channel_accounts"),
}

# What a lost or partial write would leave behind, per service: each query must find nothing.
HALF_WRITTEN = {
    "orders": """
        SELECT o.order_id FROM orders o
         WHERE NOT EXISTS (SELECT 1 FROM order_timeline t WHERE t.order_id = o.order_id)
            OR (o.status <> 'REJECTED'
                AND (o.customer IS NULL OR o.lines IS NULL OR jsonb_array_length(o.lines) = 0
                     OR o.payment IS NULL OR o.shipping_address IS NULL OR o.total_paise IS NULL))""",
    "routing": """
        SELECT r.id FROM routing_rules r
         WHERE NOT EXISTS (SELECT 1 FROM warehouses w WHERE w.code = r.warehouse_code)""",
    "inventory": """
        SELECT s.sku, s.warehouse_code FROM stock s
          LEFT JOIN (SELECT sku, warehouse_code,
                            sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
                       FROM stock_movements GROUP BY sku, warehouse_code) m USING (sku, warehouse_code)
         WHERE s.on_hand <> coalesce(m.on_hand, 0) OR s.reserved <> coalesce(m.reserved, 0)""",
    "shipping": """
        SELECT m.manifest_id FROM manifests m
         WHERE NOT EXISTS (SELECT 1 FROM shipments s WHERE s.manifest_id = m.manifest_id)
        UNION ALL
        SELECT s.shipment_id FROM shipments s WHERE s.status = 'MANIFESTED' AND s.manifest_id IS NULL""",
    "returns": """
        SELECT r.return_id FROM returns r
         WHERE NOT EXISTS (SELECT 1 FROM return_history h WHERE h.return_id = r.return_id)""",
}


class Findings:
    """Every call made and every failed check, gathered rather than raised so one run shows all."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.failures: dict[str, str] = {}

    def record(self, case: schemathesis.Case, response: Any) -> None:
        self.calls[case.operation.label] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = f"{case.operation.label}: {failure.title}"
                self.failures.setdefault(
                    key,
                    f"{key} — {case.method} {case.formatted_path} → {response.status_code}: "
                    f"{response.text[:200]}",
                )


def _fuzz(service: str, operation: Any, mode: GenerationMode, findings: Findings) -> None:
    @settings(FAST, max_examples=EXAMPLES)
    @given(case=operation.as_strategy(generation_mode=mode))
    def hit(case: schemathesis.Case) -> None:
        findings.record(case, case.call(base_url=url(service, ""), headers=dev_headers(), timeout=30))

    try:
        hit()
    except Unsatisfiable:
        # An operation without parameters has no wrong input to make.
        assert mode is GenerationMode.NEGATIVE, f"no valid input for {operation.label}"


def _explore(service: str, schema: Any, findings: Findings) -> None:
    """Stateful scenarios along the OpenAPI links: create something, then read and act on it."""
    base = schema.as_state_machine()

    class Scenario(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": url(service, ""), "headers": dev_headers(), "timeout": 30}

        def validate_response(self, response: Any, case: schemathesis.Case, *_: Any, **__: Any) -> None:
            findings.record(case, response)

    run_state_machine_as_test(
        Scenario, settings=settings(FAST, max_examples=SCENARIOS, stateful_step_count=6)
    )


async def _tables(service: str) -> asyncpg.Connection:
    return await asyncpg.connect(with_database(os.environ["DATABASE_URL"], database_name(service)))


async def _snapshot(service: str) -> None:
    conn = await _tables(service)
    try:
        for table in REFERENCE.get(service, ()):
            await conn.execute(f"DROP TABLE IF EXISTS fuzz_kept_{table}")
            await conn.execute(f"CREATE TABLE fuzz_kept_{table} AS TABLE {table}")
    finally:
        await conn.close()


async def _restore(service: str) -> list[str]:
    """Put reference tables back as they were; the tables that the fuzzing had changed."""
    changed = []
    conn = await _tables(service)
    try:
        for table in REFERENCE.get(service, ()):
            kept = f"fuzz_kept_{table}"
            differs = await conn.fetchval(
                f"""SELECT EXISTS ((TABLE {table} EXCEPT TABLE {kept})
                                   UNION ALL (TABLE {kept} EXCEPT TABLE {table}))"""
            )
            if differs:
                changed.append(table)
                key = await conn.fetchval(
                    """SELECT string_agg(a.attname, ', ' ORDER BY a.attnum)
                         FROM pg_index i
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                        WHERE i.indrelid = $1::regclass AND i.indisprimary""",
                    table,
                )
                columns = await conn.fetchval(
                    """SELECT string_agg(attname, ', ' ORDER BY attnum) FROM pg_attribute
                        WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped""",
                    table,
                )
                again = ", ".join(f"EXCLUDED.{c.strip()}" for c in columns.split(","))
                async with conn.transaction():
                    await conn.execute(
                        f"""INSERT INTO {table} TABLE {kept}
                            ON CONFLICT ({key}) DO UPDATE SET ({columns}) = ROW({again})"""
                    )
                    await conn.execute(f"DELETE FROM {table} WHERE ({key}) NOT IN (SELECT {key} FROM {kept})")
            await conn.execute(f"DROP TABLE {kept}")
    finally:
        await conn.close()
    return changed


@contextmanager
def _reference_kept(service: str) -> Iterator[None]:
    asyncio.run(_snapshot(service))
    try:
        yield
    finally:
        changed = asyncio.run(_restore(service))
        if changed:
            print(f"\nfuzz: {service} reference data put back: {', '.join(changed)}")


@DEEP_ENOUGH
@pytest.mark.parametrize("service", SERVICES)
def test_fuzzing_an_api_finds_no_server_error_and_nothing_half_written(stack: Stack, service: str) -> None:
    schema = schemathesis.openapi.from_url(url(service, "/openapi.json"), headers=dev_headers())
    operations = [result.ok() for result in schema.get_all_operations()]
    links = [
        name
        for path_item in schema.raw_schema["paths"].values()
        for operation in path_item.values()
        for response in operation.get("responses", {}).values()
        for name in response.get("links", {})
    ]
    assert links or service in READ_ONLY, f"{service} declares no links from what it creates"
    findings = Findings()
    with _reference_kept(service):
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(service, operation, mode, findings)
        if service not in READ_ONLY:
            _explore(service, schema, findings)
    print(
        f"\nfuzz {service}: {sum(findings.calls.values())} calls over {len(findings.calls)} operations "
        f"({EXAMPLES} examples per mode, {SCENARIOS} scenarios)"
    )
    assert not findings.failures, "\n".join(list(findings.failures.values())[:15])
    assert {op.label for op in operations} <= set(findings.calls)
    if service in HALF_WRITTEN:
        half = asyncio.run(db_fetch(service, HALF_WRITTEN[service]))
        assert half == [], f"half-written in {service}: {[tuple(r) for r in half][:10]}"
