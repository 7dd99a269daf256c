"""Shipping keeps the courier data bookings read in memory: never longer than its TTL, and never past
the commit of an upload made through the same process (nor a read that overlapped the upload)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from chassis.geo import Zone
from services.shipping import reference
from services.shipping.domain.allocation import RateCard

TTL = 60.0


def card(courier: str, first_slab_paise: int) -> RateCard:
    return RateCard(courier, Zone.REST_OF_INDIA, 500, first_slab_paise, 500, 4000, 3000, 150, 4)


class Database:
    """The committed rate cards, and how often they were read."""

    def __init__(self, cards: list[RateCard]) -> None:
        self.committed = cards
        self.reads = 0
        self.during_read: Any = None


class Conn:
    """Just enough of an asyncpg connection for the rate card functions, with a transaction whose
    writes only the commit makes visible."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.uncommitted: list[RateCard] | None = None

    def is_in_transaction(self) -> bool:
        return self.uncommitted is not None

    def begin(self) -> None:
        self.uncommitted = list(self.db.committed)

    def commit(self) -> None:
        assert self.uncommitted is not None
        self.db.committed, self.uncommitted = self.uncommitted, None

    async def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        assert "FROM rate_cards" in query
        self.db.reads += 1
        rows = [{**dataclasses.asdict(c), "zone": c.zone.value} for c in self.db.committed]
        if self.db.during_read is not None:
            await self.db.during_read()
        return rows

    async def execute(self, query: str, *args: Any) -> str:
        assert query.startswith("DELETE FROM rate_cards") and self.uncommitted is not None
        self.uncommitted = [c for c in self.uncommitted if c.courier not in args[0]]
        return "DELETE"

    async def executemany(self, query: str, rows: list[tuple[Any, ...]]) -> None:
        assert self.uncommitted is not None
        self.uncommitted += [card(r[0], r[3]) for r in rows]


def price(cards: dict[tuple[str, Zone], RateCard], courier: str) -> int:
    return cards[(courier, Zone.REST_OF_INDIA)].first_slab_paise


async def test_bookings_read_the_rate_cards_once_per_ttl() -> None:
    cache, db = reference.ReferenceCache(), Database([card("delhivery", 4800)])
    reader = Conn(db)
    for _ in range(5):
        assert price(await cache.rate_cards(reader, ttl_s=TTL), "delhivery") == 4800
    assert db.reads == 1
    uncached = reference.ReferenceCache()
    for _ in range(2):
        await uncached.rate_cards(reader, ttl_s=0)
    assert db.reads == 3, "a TTL of 0 reads them for every booking"


async def test_an_upload_is_used_by_the_first_booking_after_its_commit() -> None:
    cache, db = reference.ReferenceCache(), Database([card("delhivery", 4800)])
    reader, writer = Conn(db), Conn(db)
    await cache.rate_cards(reader, ttl_s=TTL)

    writer.begin()
    await reference.replace_rate_cards(writer, [card("delhivery", 100)], source="upload")
    # Until the upload commits, the database itself still answers with the old cards.
    assert price(await cache.rate_cards(reader, ttl_s=TTL), "delhivery") == 4800
    writer.commit()

    assert price(await cache.rate_cards(reader, ttl_s=TTL), "delhivery") == 100
    assert price(await cache.rate_cards(reader, ttl_s=TTL), "delhivery") == 100
    assert db.reads == 2


async def test_a_read_that_overlapped_an_upload_is_not_kept() -> None:
    cache, db = reference.ReferenceCache(), Database([card("delhivery", 4800)])
    reader, writer = Conn(db), Conn(db)

    async def upload_and_commit_meanwhile() -> None:
        db.during_read = None
        writer.begin()
        await reference.replace_rate_cards(writer, [card("delhivery", 100)], source="upload")
        await asyncio.sleep(0)
        writer.commit()

    db.during_read = upload_and_commit_meanwhile
    assert price(await cache.rate_cards(reader, ttl_s=TTL), "delhivery") == 4800, "read before the commit"
    assert price(await cache.rate_cards(reader, ttl_s=TTL), "delhivery") == 100
    assert db.reads == 2
