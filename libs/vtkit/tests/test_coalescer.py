"""vtkit.groupcommit.Coalescer: the items of concurrent callers go in batches, one batch at a time, at most
`max_batch` each, in the order they came; each caller gets its own item's outcome. The first batch is held open by the
test (an asyncio.Event), so which items wait together is decided by the test, not by timing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from vtkit.groupcommit import Coalescer
from vttest import eventually


async def test_items_that_come_while_a_batch_runs_go_in_batches_of_at_most_max_batch() -> None:
    batches: list[list[int]] = []
    release = asyncio.Event()

    async def run(items: Sequence[int]) -> list[int | BaseException]:
        batches.append(list(items))
        await release.wait()
        return [ValueError(f"odd {i}") if i == 3 else i * 10 for i in items]

    coalescer: Coalescer[int, int] = Coalescer(run, max_batch=2)
    callers = [asyncio.create_task(coalescer.submit(0))]
    await eventually(lambda: batches, "the first item going at once, alone", interval=0.01)
    callers += [asyncio.create_task(coalescer.submit(i)) for i in range(1, 6)]
    await eventually(lambda: coalescer.waiting == 5, "the others waiting", interval=0.01)
    release.set()
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert batches == [[0], [1, 2], [3, 4], [5]]
    assert [o if isinstance(o, int) else str(o) for o in outcomes] == [0, 10, 20, "odd 3", 40, 50]


async def test_a_batch_that_fails_as_a_whole_fails_each_of_its_items_and_the_next_batch_runs() -> None:
    async def run(items: Sequence[str]) -> list[str | BaseException]:
        if "down" in items:
            raise ConnectionError("receiver down")
        return [item.upper() for item in items]

    coalescer: Coalescer[str, str] = Coalescer(run)
    with pytest.raises(ConnectionError):
        await coalescer.submit("down")
    assert await coalescer.submit("up") == "UP"
