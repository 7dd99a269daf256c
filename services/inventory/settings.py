"""Settings of the inventory service (environment variables)."""

from __future__ import annotations

from chassis.settings import ServiceSettings


class InventorySettings(ServiceSettings):
    """Inventory: port 8003."""

    http_port: int = 8003
    # Safety net behind orders' own payment timeout: an unconfirmed reservation older than this
    # is released by the sweep (see docs/adr/0020-inventory-reservation-lifecycle.md).
    reservation_ttl_minutes: float = 24 * 60
    expiry_sweep_seconds: float = 60
    expiry_sweep_batch: int = 200
