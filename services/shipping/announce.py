"""Telling routing what couriers serve after a serviceability load (ADR 0311, 0410): the union of
destinations on v1, and each courier's pickup and delivery pincodes on v2, in the load's transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chassis.db import Conn
from contracts import Event
from services.shipping import reference

Emit = Callable[[Conn, Event], Awaitable[object]]


async def serviceability_loaded(conn: Conn, emit: Emit) -> None:
    """After a load: the union of destinations (v1), and every courier not yet announced (v2)."""
    await emit(conn, await reference.served_pincodes(conn))
    await unannounced_couriers(conn, emit)


async def unannounced_couriers(conn: Conn, emit: Emit) -> list[str]:
    """Each courier whose latest load routing has not heard of on v2, one event per courier (a
    courier's lists stay under Kafka's record limit; all couriers together would not). At start this
    announces data loaded before v2 existed, so routing learns pickup without a reload."""
    couriers = await reference.unannounced_couriers(conn)
    for courier in couriers:
        event = await reference.courier_serviceability(conn, courier)
        await emit(conn, event)
        await reference.mark_announced(conn, courier, event.loaded_at)
    return couriers
