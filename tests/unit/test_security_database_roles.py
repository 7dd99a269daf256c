"""Each service's own PostgreSQL role: its login URL, and its password refused in production while
it is the development value (issue 15, ADR 0110). The roles themselves are tried on a real server
in tests/integration/test_database_roles.py."""

from __future__ import annotations

from chassis import databases, db
from services.orders.settings import OrdersSettings


def test_a_service_logs_in_as_its_own_role_on_its_own_database_whoever_the_url_names() -> None:
    url = db.service_url(
        "postgresql://postgres:admin@db:5432/postgres?sslmode=require", "orders", "p@ss/word"
    )
    assert url == "postgresql://dabba_orders:p%40ss%2Fword@db:5432/dabba_orders?sslmode=require"
    assert (
        db.service_url("postgresql://db/postgres", "returns", "x")
        == "postgresql://dabba_returns:x@db/dabba_returns"
    )


def test_only_development_mode_provisions_and_only_with_an_administrators_user() -> None:
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    assert OrdersSettings(dabba_mode="development", database_url=admin).database_admin_url() == admin
    assert (
        OrdersSettings(dabba_mode="development", database_url="postgresql://db/postgres").database_admin_url()
        is None
    )
    assert OrdersSettings(dabba_mode="production", database_url=admin).database_admin_url() is None


def test_provisioning_refuses_development_passwords_outside_development_mode() -> None:
    names = {f"{s.upper()}_DATABASE_PASSWORD" for s in databases.SERVICES}
    assert {p.split(" ", 1)[0] for p in databases.problems(databases.DatabasesSettings())} == names
    chosen = {f"{s}_database_password": f"pg-{s}-7f3a9c" for s in databases.SERVICES}
    assert databases.problems(databases.DatabasesSettings(**chosen)) == []
    assert databases.problems(databases.DatabasesSettings(dabba_mode="development")) == []
