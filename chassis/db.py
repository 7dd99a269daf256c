"""PostgreSQL for one service: its own role and database, a pool, numbered migrations.

Each service logs in as its own role `dabba_<service>`, which owns its database and nothing else:
PUBLIC may not connect to a service's database, so no service reads another's tables (ADR 0110).
`provision` creates or updates the role and its database with an administrator's connection.
Migrations are plain SQL files NNN_name.sql, applied once each, in order, under an advisory lock.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from chassis.logging import get_logger

Conn = asyncpg.Connection | PoolConnectionProxy
"""A connection, whether opened alone or borrowed from the pool."""
Queryable = Conn | asyncpg.Pool
"""Anything a single read can run on: a connection, or the pool itself."""

CHASSIS_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_MIGRATION_LOCK = 7_211_001
_PROVISION_LOCK = 7_211_002

log = get_logger(__name__)


# asyncpg prepares every statement once per connection. After five executions PostgreSQL may keep a
# generic plan, and one made while a service's tables were still empty is a sequential scan kept for
# the connection's life: with 5,000 orders `reservations` was read 16 million rows (the bench got
# slower with every order). A generic plan also cannot see a `LIMIT $n` or a `$1 IS NULL OR …`
# filter, which the console's pages, the sweeps and the dispatcher use. So a connection plans each
# execution, except inside a consumer's transaction: its keyed lookups and upserts keep generic plans
# (the inbox claim sets `plan_cache_mode = auto` for the transaction, ADR 547), since planning them
# each time cost PostgreSQL as much time as running them.
SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
STATEMENT_LIFETIME_S = 60
"""How long a pool connection keeps a prepared statement, and so a consumer's generic plan, before
preparing it again: a plan made while a table was small lasts at most this long (ADR 547)."""


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset when a connection comes back: nothing beyond what asyncpg always does first
    (roll back a transaction left open, drop its listeners).

    asyncpg's default reset sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    on every release: a round trip per borrowed connection, 7 per order across the services (ADR 450).
    Pool connections hold none of that state: session advisory locks, LISTEN and session SETs are only
    taken on connections opened alone (migrations, provisioning, the outbox relay's listener), and
    every setting a pool connection needs is a startup setting (SERVER_SETTINGS), which RESET ALL
    would not change anyway."""
    del conn


async def register_json_codec(conn: Conn) -> None:
    """Let a connection read and write json/jsonb as Python values (dicts, lists, numbers, text).

    Registered on every pool, so stores hand typed records up and nothing above them parses JSON.
    """
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def row_fields(record: type[Any], row: asyncpg.Record, **converted: Any) -> dict[str, Any]:
    """The fields of a dataclass record read from a row: each one the column of the same name, or
    the value in ``converted`` (an enum, a contract model, a column the query may not have)."""
    return {
        f.name: converted[f.name] if f.name in converted else row[f.name] for f in dataclasses.fields(record)
    }


def database_name(service: str) -> str:
    """The database a service owns: dabba_<service>."""
    return f"dabba_{service}"


def role_name(service: str) -> str:
    """The PostgreSQL role a service logs in as: dabba_<service>, like its database."""
    return f"dabba_{service}"


def service_url(server_url: str, service: str, password: str) -> str:
    """The server URL as the service's own role, pointing at its own database."""
    parts = urlsplit(server_url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(role_name(service), safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{database_name(service)}", parts.query, parts.fragment))


async def _statement(conn: asyncpg.Connection, template: str, *names: str) -> None:
    """Run a utility statement (CREATE ROLE…) whose identifiers and literals PostgreSQL's own
    format() quotes: they take no bind parameters."""
    await conn.execute(
        await conn.fetchval(
            f"SELECT format('{template}', {', '.join(f'${i + 1}::text' for i in range(len(names)))})", *names
        )
    )


async def provision(admin_url: str, service: str, password: str) -> None:
    """Create or update a service's role (login, this password, no other powers) and make it the
    owner of the service's database, which no one else may connect to. Idempotent; safe when
    several processes race (an advisory lock); it also hands over tables an earlier version
    created as the administrator."""
    role, database = role_name(service), database_name(service)
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _PROVISION_LOCK)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            await _statement(
                conn,
                f"{verb} ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                "NOBYPASSRLS PASSWORD %L",
                role,
                password,
            )
            if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
                await _statement(conn, "ALTER DATABASE %I OWNER TO %I", database, role)
            else:
                await _statement(conn, "CREATE DATABASE %I OWNER %I", database, role)
                log.info("database created", database=database, owner=role)
            await _statement(conn, "REVOKE ALL ON DATABASE %I FROM PUBLIC", database)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _PROVISION_LOCK)
    finally:
        await conn.close()
    conn = await asyncpg.connect(with_database(admin_url, database))
    try:
        await _hand_over(conn, role)
    finally:
        await conn.close()


async def _hand_over(conn: asyncpg.Connection, role: str) -> None:
    """Give the role the public schema and every object in it (not an extension's own)."""
    await _statement(conn, "ALTER SCHEMA public OWNER TO %I", role)
    await conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
    not_extension = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
    # Tables first: a sequence a column owns follows its table, and may not be altered alone.
    for kinds in ("'r', 'p', 'v', 'm', 'f'", "'S'"):
        for name in await conn.fetch(
            f"""SELECT c.oid::regclass::text AS name FROM pg_class c
                 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ({kinds})
                   AND pg_get_userbyid(c.relowner) <> $1 AND {not_extension.format(oid="c.oid")}""",
            role,
        ):
            await _statement(conn, "ALTER TABLE %s OWNER TO %I", name["name"], role)
    for routine in await conn.fetch(
        f"""SELECT p.oid::regprocedure::text AS name FROM pg_proc p
             WHERE p.pronamespace = 'public'::regnamespace AND pg_get_userbyid(p.proowner) <> $1
               AND {not_extension.format(oid="p.oid")}""",
        role,
    ):
        await _statement(conn, "ALTER ROUTINE %s OWNER TO %I", routine["name"], role)


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


async def ensure_database(server_url: str, database: str) -> None:
    """Create the database if it does not exist (safe when two processes race)."""
    conn = await asyncpg.connect(server_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{database}"')
                log.info("database created", database=database)
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await conn.close()


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered SQL file of one component (the chassis or a service)."""

    component: str
    version: int
    name: str
    sql: str


def load_migrations(component: str, folder: Path) -> list[Migration]:
    """Read NNN_name.sql files in order; a badly named or duplicated number is an error."""
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"{path}: migration files are named NNN_snake_name.sql")
        found.append(Migration(component, int(match.group(1)), path.stem, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"{folder}: two migrations share a number")
    return found


async def migrate(conn: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    """Apply what is not yet applied, each in its own transaction; returns the names applied."""
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   component  text NOT NULL,
                   version    int  NOT NULL,
                   name       text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now(),
                   PRIMARY KEY (component, version))"""
        )
        done = {
            (r["component"], r["version"])
            for r in await conn.fetch("SELECT component, version FROM schema_migrations")
        }
        applied: list[str] = []
        for m in migrations:
            if (m.component, m.version) in done:
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)",
                    m.component,
                    m.version,
                    m.name,
                )
            applied.append(f"{m.component}/{m.name}")
        if applied:
            log.info("migrations applied", applied=applied)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)


async def open_database(
    *,
    server_url: str,
    service: str,
    migrations_dir: Path | None,
    min_size: int,
    max_size: int,
    password: str | None = None,
    provision_with: str | None = None,
) -> asyncpg.Pool:
    """Migrate the service database and return a pool on it, logged in as the service's role with
    `password`. `provision_with` (an administrator's URL) first creates or updates the role and
    database. Without a password the pool uses server_url's own login (tests of the chassis)."""
    database = database_name(service)
    if password is None:
        await ensure_database(server_url, database)
        url = with_database(server_url, database)
    else:
        if provision_with is not None:
            await provision(provision_with, service, password)
        url = service_url(server_url, service, password)
    migrations = load_migrations("chassis", CHASSIS_MIGRATIONS)
    if migrations_dir is not None:
        migrations += load_migrations(service, migrations_dir)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, migrations)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        server_settings=SERVER_SETTINGS,
        max_cached_statement_lifetime=STATEMENT_LIFETIME_S,
        init=register_json_codec,
        reset=keep_session,
    )
    assert pool is not None
    return pool
