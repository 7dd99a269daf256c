"""Settings of the inventory service (environment variables)."""

from __future__ import annotations

from chassis.settings import ServiceSettings


class InventorySettings(ServiceSettings):
    """Inventory: port 8003."""

    http_port: int = 8003
