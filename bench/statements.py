"""SQL statements per order, from PostgreSQL's pg_stat_statements, when the server loads it.

The local server loads it when started with `DABBA_PG_STATEMENTS=1` (`make bench` does). A count of
statements is the same on a busy machine and a quiet one, so it compares two commits where CPU
seconds cannot. The counters are server-wide: anything else running against the same server
during the run (another bench, a test) is counted too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from chassis.db import with_database

TOP = 8


@dataclass(frozen=True, slots=True)
class Statements:
    """Statement calls, execution and planning time per database over a run, and the costliest
    statements. Planning time is 0 unless the server tracks it (`pg_stat_statements.track_planning`)."""

    calls: dict[str, int]
    exec_ms: dict[str, float]
    plan_ms: dict[str, float]
    top: list[dict[str, Any]]

    def per_order(self, n: int) -> dict[str, Any]:
        """The JSON of a run of n orders."""
        return {
            "total": sum(self.calls.values()) / n,
            "by_database": {db: c / n for db, c in sorted(self.calls.items(), key=lambda kv: -kv[1])},
            "exec_ms_by_database": {
                db: ms / n for db, ms in sorted(self.exec_ms.items(), key=lambda kv: -kv[1])
            },
            "plan_ms_by_database": {
                db: ms / n for db, ms in sorted(self.plan_ms.items(), key=lambda kv: -kv[1])
            },
            "top_by_time": self.top,
        }


async def _connect(database_url: str) -> asyncpg.Connection | None:
    """A connection to the server's `postgres` database with the extension in place; None when the
    server does not load pg_stat_statements."""
    conn = await asyncpg.connect(with_database(database_url, "postgres"))
    libraries = await conn.fetchval("SELECT current_setting('shared_preload_libraries')")
    if "pg_stat_statements" not in (libraries or ""):
        await conn.close()
        return None
    await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return conn


async def reset(database_url: str) -> bool:
    """Zero the counters; False when the server does not keep them."""
    conn = await _connect(database_url)
    if conn is None:
        return False
    try:
        await conn.execute("SELECT pg_stat_statements_reset()")
        return True
    finally:
        await conn.close()


async def read(database_url: str, n: int) -> Statements | None:
    """The counters since the last reset, the `postgres` database (the bench's own reads) left out."""
    conn = await _connect(database_url)
    if conn is None:
        return None
    try:
        rows = await conn.fetch(
            """SELECT d.datname, s.calls, s.total_exec_time, s.total_plan_time, s.query
                 FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                WHERE d.datname <> 'postgres'"""
        )
    finally:
        await conn.close()
    calls: dict[str, int] = {}
    exec_ms: dict[str, float] = {}
    plan_ms: dict[str, float] = {}
    for r in rows:
        db = r["datname"].removeprefix("dabba_")
        calls[db] = calls.get(db, 0) + r["calls"]
        exec_ms[db] = exec_ms.get(db, 0.0) + r["total_exec_time"]
        plan_ms[db] = plan_ms.get(db, 0.0) + r["total_plan_time"]
    costliest = sorted(rows, key=lambda r: -r["total_exec_time"])[:TOP]
    top = [
        {
            "database": r["datname"].removeprefix("dabba_"),
            "calls_per_order": r["calls"] / n,
            "ms_per_call": r["total_exec_time"] / max(r["calls"], 1),
            "query": " ".join(r["query"].split())[:200],
        }
        for r in costliest
    ]
    return Statements(calls=calls, exec_ms=exec_ms, plan_ms=plan_ms, top=top)
