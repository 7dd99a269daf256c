"""What this process's dispatcher is sending right now, and which sends it recorded lately (ADR 0515).

Meta's status webhook for a message can arrive while the dispatcher that sent it is still recording
the round: its transaction holds the message rows until its commit, and a commit that writes outbox
rows queues behind every other NOTIFYing commit of the PostgreSQL server. A webhook served by the
same process waits for that round here, holding no connection, instead of on the row lock in
PostgreSQL (where ten such waits took the whole pool). And a "sent" status for a send this process
recorded cannot change anything (its delivery is ``sent`` or further), so it needs no statement.

Only an optimisation: a webhook that finds nothing here (another replica sent the message, the
process restarted, the round outlived the wait) takes the path through the database as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Iterable

ROUND_WAIT_S = 5.0
"""Longest a webhook waits for this process's round to finish recording before going to the
database anyway (a provider call can take its whole timeout)."""

REMEMBERED = 50_000
"""How many recorded sends (provider message ids) are remembered, newest first."""


class Sending:
    """One per process, shared by the dispatcher and the webhooks."""

    def __init__(self, *, remembered: int = REMEMBERED) -> None:
        self._rounds: dict[str, asyncio.Event] = {}
        self._recorded: OrderedDict[str, None] = OrderedDict()
        self._remembered = remembered

    def started(self, message_ids: Iterable[str]) -> asyncio.Event:
        """A round is about to call the providers for these messages; the event is set when it is over."""
        over = asyncio.Event()
        for message_id in message_ids:
            self._rounds[message_id] = over
        return over

    def finished(self, message_ids: Iterable[str], over: asyncio.Event, recorded: Iterable[str]) -> None:
        """The round is over (recorded or not); ``recorded`` are the provider message ids of the
        sends it committed."""
        for message_id in message_ids:
            if self._rounds.get(message_id) is over:
                del self._rounds[message_id]
        for provider_message_id in recorded:
            self._recorded[provider_message_id] = None
        while len(self._recorded) > self._remembered:
            self._recorded.popitem(last=False)
        over.set()

    def in_flight(self, message_id: str) -> bool:
        """Whether a round of this process is sending or recording this message now."""
        return message_id in self._rounds

    async def settled(self, message_ids: Iterable[str], *, wait_s: float = ROUND_WAIT_S) -> None:
        """Wait (at most ``wait_s``) until no round of this process is sending these messages."""
        rounds = {self._rounds[m] for m in message_ids if m in self._rounds}
        if not rounds:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in rounds)), wait_s)

    def recorded(self, provider_message_id: str) -> bool:
        """Whether this process committed the send the provider knows under this id (lately)."""
        return provider_message_id in self._recorded
