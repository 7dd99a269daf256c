"""Each service logs in as its own least-privileged PostgreSQL role, on its own database, and
cannot reach another service's tables (issue 15, ADR 0110). Real PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from chassis import db
from tests import infra

pytestmark = pytest.mark.integration

PASSWORD = "dev-database-local"


async def _open(servers: infra.Servers, service: str) -> asyncpg.Pool:
    return await db.open_database(
        server_url=servers.database_url,
        service=service,
        migrations_dir=None,
        min_size=1,
        max_size=2,
        password=PASSWORD,
        provision_with=servers.database_url,
    )


async def test_a_services_role_cannot_read_or_write_another_services_tables(servers: infra.Servers) -> None:
    orders, returns = await _open(servers, "roles_orders"), await _open(servers, "roles_returns")
    try:
        await returns.execute("CREATE TABLE IF NOT EXISTS bank_details (account_number text)")
        await returns.execute("INSERT INTO bank_details VALUES ('50100123456789')")
        as_orders_on_returns = db.with_database(
            db.service_url(servers.database_url, "roles_orders", PASSWORD), db.database_name("roles_returns")
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for database"):
            await asyncpg.connect(as_orders_on_returns)
        assert await orders.fetchval("SELECT current_user") == "dabba_roles_orders"
        powers = await orders.fetchrow(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls"
            " FROM pg_roles WHERE rolname = current_user"
        )
        assert tuple(powers) == (False, False, False, False)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await orders.execute('CREATE DATABASE "dabba_roles_stolen"')
    finally:
        await orders.close()
        await returns.close()


async def test_tables_an_earlier_version_made_as_the_administrator_are_handed_to_the_role(
    servers: infra.Servers,
) -> None:
    service = "roles_legacy"
    await db.ensure_database(servers.database_url, db.database_name(service))
    admin = await asyncpg.connect(db.with_database(servers.database_url, db.database_name(service)))
    try:
        await admin.execute(
            "CREATE TABLE IF NOT EXISTS notes (id bigserial PRIMARY KEY, body text);"
            "CREATE OR REPLACE FUNCTION notes_count() RETURNS bigint"
            " LANGUAGE sql AS 'SELECT count(*) FROM notes'"
        )
    finally:
        await admin.close()

    pool = await _open(servers, service)
    try:
        await pool.execute("INSERT INTO notes (body) VALUES ('kept')")
        assert await pool.fetchval("SELECT notes_count()") >= 1
        owners = await pool.fetch(
            """SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class
                WHERE relnamespace = 'public'::regnamespace"""
        )
        assert [o["owner"] for o in owners] == ["dabba_roles_legacy"]
    finally:
        await pool.close()
