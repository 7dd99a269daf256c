"""Settings of the routing service (environment variables)."""

from __future__ import annotations

from chassis.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    """Routing: port 8002."""

    http_port: int = 8002
