"""Group commit: many concurrent callers, one batched write. Each caller awaits its own answer while
one task writes everything queued since the last write in a single statement (one commit, one fsync).

A webhook route that must store a delivery durably before it answers 200 pays one commit per
request on its own; behind a ``Batcher`` a hundred concurrent requests share one.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from chassis import outbox

T = TypeVar("T")
R = TypeVar("R")

WriteBatch = Callable[[Sequence[T]], Awaitable[Sequence[R]]]
"""Write these items together; return one answer per item, in the same order."""


class Batcher(Generic[T, R]):
    """Queue items from concurrent callers and write them in batches of at most ``max_batch``.

    ``submit`` returns once the batch holding the item is written (or raises what the write raised),
    so a caller that answers after ``submit`` answers only for what is durable. At most one write is
    in flight: items arriving meanwhile wait and go together in the next one."""

    def __init__(self, write: WriteBatch[T, R], *, max_batch: int = 500) -> None:
        self._write = write
        self._max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Queue one item and wait until the batch holding it is written; its answer."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._writer is None or self._writer.done():
            # The writer serves every caller, so it runs outside the first one's context: the
            # events it writes are no one request's to name (ADR 545).
            context = contextvars.copy_context()
            context.run(outbox.noting_nothing)
            self._writer = asyncio.create_task(self._drain(), name="batcher", context=context)
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            try:
                answers = await self._write([item for item, _ in batch])
                if len(answers) != len(batch):
                    raise RuntimeError(f"a batch of {len(batch)} got {len(answers)} answers")
            except BaseException as exc:  # every waiting caller learns the write failed
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)
