"""Create or update every service's PostgreSQL role and database, as an administrator, once:
`python -m chassis.databases`. Idempotent; rerun it to set new passwords (rotation).

DATABASE_URL is an administrator's URL here; `<SERVICE>_DATABASE_PASSWORD` is each role's password,
the same value that service is given as DATABASE_PASSWORD. docker-compose runs this before any
service starts; in development mode (make run, the tests) each service does it for itself (ADR 0110).
"""

from __future__ import annotations

import asyncio
import sys

from pydantic import create_model

from chassis.db import provision, role_name
from chassis.settings import EXIT_UNSAFE_SETTINGS, ServiceSettings, secret

SERVICES = (
    "orders",
    "routing",
    "inventory",
    "shipping",
    "notifications",
    "returns",
    "console",
    "channels",
    "invoicing",
)
"""Every service with a database of its own."""

DatabasesSettings: type[ServiceSettings] = create_model(  # type: ignore[call-overload]
    "DatabasesSettings",
    __base__=ServiceSettings,
    __doc__="The administrator's DATABASE_URL and every service role's password.",
    **{
        f"{name}_database_password": (
            str,
            secret("dev-database-local", f"The password of {role_name(name)}, {name}'s own role."),
        )
        for name in SERVICES
    },
)


def problems(settings: ServiceSettings) -> list[str]:
    """What keeps this run from provisioning outside development mode: a role password missing or
    still its development value (API keys are no concern of a one-shot)."""
    if settings.dabba_mode == "development":
        return []
    ours = {f"{name.upper()}_DATABASE_PASSWORD" for name in SERVICES}
    return [p for p in settings.unsafe_for_production() if p.split(" ", 1)[0] in ours]


async def provision_all(settings: ServiceSettings) -> None:
    """Create or update each service's role and database."""
    for name in SERVICES:
        await provision(settings.database_url, name, getattr(settings, f"{name}_database_password"))


def main() -> int:
    """Provision every role and database, or refuse naming each development or missing password."""
    settings = DatabasesSettings()
    if refused := problems(settings):
        print("databases: refusing to set development passwords outside development mode:", file=sys.stderr)
        print("".join(f"  - {p}\n" for p in refused), end="", file=sys.stderr)
        return EXIT_UNSAFE_SETTINGS
    asyncio.run(provision_all(settings))
    print(f"databases: {len(SERVICES)} roles and databases ready ({', '.join(map(role_name, SERVICES))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
