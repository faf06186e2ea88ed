"""Group commit: concurrent writers of one durable file share its fsync.

A caller `await`s `GroupCommit.submit(item)`. While no write is running, its item is written at once (in a worker
thread, never on the event loop); items that arrive while a write is running wait, and the next write takes all of
them in one batch: one transaction or one `write`, one fsync for the whole batch. Every caller is answered only after
the batch holding ITS item is durable, with its own result or its own error. One writer at a time, so the order of
the batches is the order the items arrived in.

Used by the access log (vtkit.audit: one append and fsync per batch of records): docs/architecture.md, "The access
log". `Coalescer` is the same mechanism for a batch that is itself awaited: intake's store (one SQLite COMMIT per
batch of contacts, each in its own savepoint; its statements on the loop, its COMMIT in a worker thread:
docs/architecture.md, "Durability: every fact on disk at its producer first") and one remote call for several
deliveries (the notifier's DeliverBatch, docs/architecture.md "Outgoing notices"). `sqlite_savepoint` is the
savepoint half, shared with the notifier's grouped transaction; `durable_sqlite` opens every file of facts.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import pathlib
import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalescer(Generic[Item, Result]):
    """Coalesces the items of concurrent `submit` calls into batches for `run_batch`, one batch at a time (at most
    `max_batch` items each), which returns one outcome per item (a result, or an exception that fails that item only).
    An exception raised by `run_batch` itself fails every item of the batch.

    Bound to the event loop it is first used on while a batch is pending; between batches it may move to another
    (tests run one `asyncio.run` after another)."""

    def __init__(self, run_batch: Callable[[Sequence[Item]], Awaitable[Sequence[Result | BaseException]]],
                 max_batch: int | None = None):
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._runner: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """Items queued for the next batch (while one is running)."""
        return len(self._waiting)

    async def submit(self, item: Item) -> Result:
        """The item's outcome, once the batch that holds it is done."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._runner is None:
            # In a context of its own: the runner serves every caller, not the one that happened to start it (its
            # trace span, its acting user); what an item needs of its caller's context travels in the item.
            self._runner = asyncio.create_task(self._run_until_empty(), context=contextvars.Context())
        # A cancelled caller does not stop the batch (as with asyncio.to_thread): its item may still be done.
        return await done

    async def _run_until_empty(self) -> None:
        try:
            while self._waiting:
                cut = len(self._waiting) if self._max_batch is None else self._max_batch
                batch, self._waiting = self._waiting[:cut], self._waiting[cut:]
                await self._run(batch)
        except asyncio.CancelledError:  # the loop is shutting down: the items still waiting are not run
            for _, done in self._waiting:
                done.cancel()
            self._waiting = []
            raise
        finally:
            self._runner = None

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            outcomes = await self._run_batch([item for item, _ in batch])
        except asyncio.CancelledError:  # the loop is shutting down: nobody of this batch is answered
            for _, done in batch:
                done.cancel()
            raise
        except Exception as exc:  # the batch as a whole failed
            outcomes = [exc] * len(batch)
        for (_, done), outcome in zip(batch, outcomes, strict=True):
            if done.done():
                continue
            if isinstance(outcome, BaseException):
                done.set_exception(outcome)
            else:
                done.set_result(outcome)


class GroupCommit(Coalescer[Item, Result]):
    """A `Coalescer` whose batch is a synchronous write (`write_batch`), run in a worker thread, never on the event
    loop: an exception raised by `write_batch` itself fails every item of the batch (nothing of it was made
    durable)."""

    def __init__(self, write_batch: Callable[[Sequence[Item]], Sequence[Result | BaseException]]):
        async def in_a_thread(items: Sequence[Item]) -> Sequence[Result | BaseException]:
            return await asyncio.to_thread(write_batch, items)

        super().__init__(in_a_thread)


def durable_sqlite(path: str | os.PathLike[str], *, threads: bool = False) -> sqlite3.Connection:
    """A connection to a file of facts: WAL with synchronous=FULL (a COMMIT returns once it is on disk), foreign keys
    on, autocommit mode (each write is an explicit `sqlite_transaction`). Statement journals and sorts stay in memory
    (temp_store=MEMORY): in a file each write transaction with savepoints created, wrote and unlinked a temporary file
    in /var/tmp, about one per melding in intake, which nothing needs after a crash. `threads`: used from more than
    one thread, one at a time (the caller holds a lock)."""
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=not threads)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "temp_store=MEMORY"):
        db.execute(f"PRAGMA {pragma}")
    return db


@contextlib.contextmanager
def sqlite_savepoint(db: sqlite3.Connection, name: str = "item") -> Iterator[sqlite3.Connection]:
    """One write inside an open transaction: when it raises, only its own changes are rolled back and the
    transaction goes on (the others of the batch are committed with it)."""
    db.execute(f"SAVEPOINT {name}")
    try:
        yield db
    except BaseException:
        db.execute(f"ROLLBACK TO {name}")
        db.execute(f"RELEASE {name}")
        raise
    db.execute(f"RELEASE {name}")


@contextlib.contextmanager
def sqlite_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT (durable when it returns, with synchronous=FULL), ROLLBACK when it raises.
    The connection must be in autocommit mode (isolation_level=None)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@contextlib.contextmanager
def sqlite_bookkeeping(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`sqlite_transaction` for bookkeeping whose loss in a power cut only makes work be done again (which outbox rows
    were sent: they are sent again under the same event ids; which dossier keys were published: they are written
    again): committed without an fsync of its own (synchronous=NORMAL, which in WAL mode keeps the file consistent and
    makes the commit durable with the next synced commit or checkpoint), then the connection's setting again. Not for
    facts: an acknowledged contact is committed with synchronous=FULL."""
    before = db.execute("PRAGMA synchronous").fetchone()[0]
    db.execute("PRAGMA synchronous=NORMAL")
    try:
        with sqlite_transaction(db):
            yield db
    finally:
        db.execute(f"PRAGMA synchronous={int(before)}")
