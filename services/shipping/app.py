"""Wiring of the shipping service: settings, couriers, migrations, handlers, routes and sweeps."""

from __future__ import annotations

import csv
from pathlib import Path

from chassis.logging import get_logger
from chassis.service import Service
from services.shipping import (
    announce,
    api,
    capacity,
    catalogue,
    handlers,
    reference,
    stations,
    sweeps,
    webhooks,
)
from services.shipping.couriers.registry import build_adapters
from services.shipping.settings import ShippingSettings

log = get_logger(__name__)


def build(settings: ShippingSettings | None = None) -> Service:
    """The shipping service, ready to run."""
    settings = settings or ShippingSettings()
    service = Service("shipping", settings=settings, migrations=Path(__file__).parent / "migrations")
    adapters = build_adapters(service, settings)
    service.include_handlers(handlers.subscriptions, handlers.Deps(settings, adapters))
    sweeps.register(service, settings, adapters)
    service.on_start(lambda s: load_reference_data(s, settings))
    service.include_router(api.router)
    service.include_router(api.booking_router(adapters))
    service.include_router(stations.router)
    service.include_router(capacity.router)
    service.include_router(stations.pickup_router(adapters))
    service.include_router(webhooks.build_router(adapters, max_attempts=settings.ndr_max_attempts))
    return service


async def load_reference_data(service: Service, settings: ShippingSettings) -> None:
    """Serviceability, rate cards and pickup addresses from data_dir for couriers with none yet;
    what an operator uploaded later is never overwritten by a restart."""
    folder = settings.data_dir
    couriers = settings.courier_names
    async with service.pool.acquire() as conn, conn.transaction():
        # Replicas start together: one loads, the others then see its rows.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('shipping.reference_data'))")
        path = folder / "serviceability.csv"
        if path.exists():
            have = await reference.couriers_with_data(conn, "serviceability")
            served, problems = catalogue.parse_serviceability(path.read_text(), couriers=couriers)
            if problems:
                raise ValueError(f"{path}: {problems[:5]}")
            if missing := [r for r in served if r.courier not in have]:
                await reference.replace_serviceability(conn, missing, source=path.name)
                await announce.serviceability_loaded(conn, service.emit)
                log.info("serviceability loaded", rows=len(missing), source=path.name)
        # Data loaded before v2 existed reaches routing on the first start after the upgrade.
        if told := await announce.unannounced_couriers(conn, service.emit):
            log.info("serviceability announced", couriers=told)
        path = folder / "rate_cards.csv"
        if path.exists():
            have = await reference.couriers_with_data(conn, "rate_cards")
            cards, problems = catalogue.parse_rate_cards(path.read_text(), couriers=couriers)
            if problems:
                raise ValueError(f"{path}: {problems[:5]}")
            if unpriced := [c for c in cards if c.courier not in have]:
                await reference.replace_rate_cards(conn, unpriced, source=path.name)
                log.info("rate cards loaded", rows=len(unpriced), source=path.name)
        path = folder / "pickup_locations.csv"
        if path.exists() and not await reference.has_pickup_locations(conn):
            with path.open() as f:
                for location in csv.DictReader(f):
                    await reference.upsert_pickup_location(conn, location)
