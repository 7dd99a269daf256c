"""Group commit (chassis.batching): concurrent callers share one write, each gets its own answer,
and nobody is told "stored" for a write that failed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from chassis.batching import Batcher


class Store:
    """A write that records each batch it was given and answers with the item doubled."""

    def __init__(self, *, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on

    async def write(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        await asyncio.sleep(0)  # a real write yields to the loop while the database works
        if self.fail_on is not None and self.fail_on in items:
            raise OSError("database went away")
        return [i * 2 for i in items]


async def test_concurrent_callers_share_one_write_and_each_gets_its_own_answer() -> None:
    store = Store()
    batcher: Batcher[int, int] = Batcher(store.write)

    answers = await asyncio.gather(*(batcher.submit(i) for i in range(100)))

    assert answers == [i * 2 for i in range(100)]
    assert store.batches == [list(range(100))]


async def test_items_arriving_during_a_write_go_together_in_the_next_one() -> None:
    store = Store()
    batcher: Batcher[int, int] = Batcher(store.write)
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.sleep(0)  # the first write has started
    later = await asyncio.gather(*(batcher.submit(i) for i in range(1, 6)))

    assert await first == 0 and later == [2, 4, 6, 8, 10]
    assert store.batches == [[0], [1, 2, 3, 4, 5]]


async def test_a_batch_never_exceeds_its_limit() -> None:
    store = Store()
    batcher: Batcher[int, int] = Batcher(store.write, max_batch=40)

    await asyncio.gather(*(batcher.submit(i) for i in range(100)))

    assert [len(b) for b in store.batches] == [40, 40, 20]


async def test_every_caller_of_a_failed_write_is_told_and_the_next_batch_still_goes() -> None:
    store = Store(fail_on=3)
    batcher: Batcher[int, int] = Batcher(store.write, max_batch=5)

    results = await asyncio.gather(*(batcher.submit(i) for i in range(10)), return_exceptions=True)

    assert all(isinstance(r, OSError) for r in results[:5])
    assert results[5:] == [10, 12, 14, 16, 18]


async def test_a_write_that_answers_for_fewer_items_than_it_was_given_fails_them_all() -> None:
    async def short(items: Sequence[int]) -> list[int]:
        return list(items)[:-1]

    batcher: Batcher[int, int] = Batcher(short)
    with pytest.raises(RuntimeError, match="got 2 answers"):
        await asyncio.gather(*(batcher.submit(i) for i in range(3)))
