"""Attempts that finish close together settle in one transaction.

A commit is an fsync (WAL, synchronous=FULL: docs/architecture.md, "Durability"), and one commit per settled
attempt was a large part of the notifier's CPU per melding. So every finished attempt puts its result here and
waits; one writer, on the event loop's next turn, writes everything then waiting through `Store.each_apart`: one
commit for all of them, each result in a savepoint of its own, so a result whose write fails is undone alone and
the others are committed.

An attempt goes on (its audit record, its log line, waking the outbox relay) only once the commit holding its
result is done, so its Delivery* outbox row is durable before the relay can publish it. A crash before that commit
leaves the row in flight, exactly as a crash before a settle of its own did: the lease expires and the same
idempotency key is sent again, which the receiver dedupes on (services/notifier/README.md, "Delivery guarantee").
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Generic, TypeVar

from notifier.store import Store

Result = TypeVar("Result")
Written = TypeVar("Written")


class SettleQueue(Generic[Result, Written]):
    def __init__(self, store: Store, write: Callable[[Result], Written]) -> None:
        self.store = store
        self.write = write  # one result's writes; runs inside the writer's transaction
        self._waiting: list[tuple[Result, asyncio.Future[Written]]] = []
        self._writer_due = False

    async def settle(self, result: Result) -> Written:
        """What `write` answered for `result`, once it is committed (or what it raised: then nothing of it is)."""
        future: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        self._waiting.append((result, future))
        if not self._writer_due:
            self._writer_due = True
            self._write_soon()
        return await future

    def _write_soon(self) -> None:
        # The next turn of the loop: attempts whose calls were answered in this one are waiting by then.
        asyncio.get_running_loop().call_soon(self._write_waiting)

    def _write_waiting(self) -> None:
        if self.store.in_group:
            # The consumer's batch transaction is open (it awaits a dead-letter send): written into it, the results
            # would be durable only at its commit, and the relay could publish their rows before. After it, then.
            self.store.after_group(self._write_soon)
            return
        self._writer_due = False
        batch, self._waiting = self._waiting, []
        for (_, future), outcome in zip(batch, self._write_all([result for result, _ in batch]), strict=True):
            _hand_over(future, outcome)

    def _write_all(self, results: list[Result]) -> list[Written | Exception]:
        if not results:
            return []
        try:
            return self.store.each_apart([functools.partial(self.write, result) for result in results])
        except Exception as exc:  # the transaction itself failed (its commit): none of them is written
            return [exc] * len(results)


def _hand_over(future: asyncio.Future[Written], outcome: Written | Exception) -> None:
    if future.done():  # the attempt was cancelled (shutdown) while it waited; its result is written all the same
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
