"""The outbox relay every service uses: committed rows go to Kafka in order, at least once, and a row that
can never be sent is quarantined instead of blocking the rows behind it.

A service writes its facts and their outbox rows in one transaction (docs/architecture.md, Durability);
the relay reads unsent rows in batches, sends every record of a batch at once (one producer keeps the
order per partition), waits for the broker's acknowledgements, then marks the batch sent in one
transaction. A broker outage delays rows and is retried with back-off, for ever. A crash between the
acknowledgement and the mark re-sends rows with their stored event ids: consumers dedupe on them.

A poison row (larger than any consumer accepts, refused by the broker as too large or invalid, or one
the service cannot turn into a record) is moved to the quarantine with its reason: counted on
/metrics (vt_outbox_quarantined), logged, listed by `vt-ops quarantine`, and the health service
`vt.outbox` answers NOT_SERVING (degraded) while it is not empty. One such row once stalled every
later melding of a region, acute ones included, while health said SERVING.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import pathlib
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    InvalidMessageError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from vtkit import metrics
from vtkit.envelope import MAX_VALUE_BYTES
from vtkit.kafka import KafkaSettings, cluster_id, ensure_topics, make_producer

log = logging.getLogger("vtkit.outbox")
FINAL_DRAIN_SECONDS = 2.0
HEALTH_NAME = "vt.outbox"  # NOT_SERVING while rows are quarantined: the service runs, degraded

# What the broker or the client answers for a record that will never be accepted, however often it is sent.
REFUSED_FOR_GOOD = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError, CorruptRecordException,
                    InvalidMessageError)

# Every outbox keeps its quarantine and the cluster it last published to in the same shape, in its own
# database (`vt-ops quarantine` reads it).
QUARANTINE_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_quarantine (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    value_bytes INTEGER NOT NULL,
    reason TEXT NOT NULL,
    quarantined_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_broker (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    cluster_id TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class OutboxRecord:
    """One Kafka record of an outbox row (a row may yield several, e.g. a failed delivery and its dead letter)."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    event_id: str
    tenant: str = ""  # the metrics label


class PoisonRow(Exception):
    """A row that can never become an acceptable record (any exception from a service's `records(row)` counts
    as one too: the row's content fails the same way every time)."""


class Row(Protocol):
    @property
    def seq(self) -> int: ...


R = TypeVar("R", bound=Row)


class OutboxStore(Protocol[R]):
    """What a service's store offers the relay."""

    def unsent(self, limit: int) -> Sequence[R]: ...

    def mark_sent(self, seqs: Sequence[int]) -> None: ...

    def quarantine(self, row: R, record: OutboxRecord | None, reason: str) -> None: ...

    def unsent_count(self) -> int: ...

    def quarantined_count(self) -> int: ...

    def broker_cluster(self) -> str: ...

    def note_broker_cluster(self, cluster_id: str) -> None: ...

    def requeue_sent(self) -> int:
        """Mark every row the store still holds as unsent again (the broker lost them); returns how many."""
        ...


def last_cluster(db: sqlite3.Connection) -> str:
    row = db.execute("SELECT cluster_id FROM outbox_broker").fetchone()
    return str(row[0]) if row else ""


def note_cluster(db: sqlite3.Connection, cluster_id: str) -> None:
    db.execute("INSERT OR REPLACE INTO outbox_broker (only_row, cluster_id, seen_at) VALUES (1, ?, ?)",
               (cluster_id, dt.datetime.now(dt.UTC).isoformat()))


RECOVERY_REQUESTED = "recovery requested by an operator"


def request_recovery(db: sqlite3.Connection) -> bool:
    """`vt-ops recover`: the relay of this outbox will see a cluster id that is not the broker's, as after a
    broker loss, and publish every row again (within its broker check interval, or when the service starts).
    False when the outbox never published (nothing to recover)."""
    return db.execute("UPDATE outbox_broker SET cluster_id = ?, seen_at = ?",
                      (RECOVERY_REQUESTED, dt.datetime.now(dt.UTC).isoformat())).rowcount > 0


def quarantine_row(db: sqlite3.Connection, seq: int, record: OutboxRecord | None, reason: str) -> None:
    """Insert into `outbox_quarantine` (call inside the transaction that takes the row out of the outbox)."""
    db.execute("INSERT OR REPLACE INTO outbox_quarantine (seq, event_id, topic, value_bytes, reason, quarantined_at)"
               " VALUES (?, ?, ?, ?, ?, ?)",
               (seq, record.event_id if record else "", record.topic if record else "",
                len(record.value) if record else 0, reason[:1000], dt.datetime.now(dt.UTC).isoformat()))


def quarantined(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """The quarantine of one outbox database, oldest first (no values: only what identifies the row)."""
    cursor = db.execute("SELECT seq, event_id, topic, value_bytes, reason, quarantined_at FROM outbox_quarantine"
                        " ORDER BY seq")
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class OutboxBookkeeping(abc.ABC):
    """The quarantine and broker-cluster half of OutboxStore, the same for every store: it needs only the
    store's connection, given by `_outbox_db()` (under the store's lock where it has one)."""

    @abc.abstractmethod
    def _outbox_db(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """The store's connection, however the store shares it."""

    def quarantine(self, row: Any, record: OutboxRecord | None, reason: str) -> None:
        """Set a row that can never be sent aside; it stays in the outbox, unsent, for inspection."""
        with self._outbox_db() as db:
            quarantine_row(db, row.seq, record, reason)

    def quarantined_count(self) -> int:
        with self._outbox_db() as db:
            return int(db.execute("SELECT COUNT(*) FROM outbox_quarantine").fetchone()[0])

    def broker_cluster(self) -> str:
        with self._outbox_db() as db:
            return last_cluster(db)

    def note_broker_cluster(self, cluster_id: str) -> None:
        with self._outbox_db() as db:
            note_cluster(db, cluster_id)


class ProducerSource(Protocol):
    async def get(self) -> AIOKafkaProducer: ...

    async def declare_topics(self) -> None:
        """Create the declared topics on a broker that has none (after a broker loss), before publishing:
        tansu creates a topic a client merely asks about, and several clients asking at once race there."""
        ...

    async def failed(self) -> None: ...

    async def close(self) -> None: ...


class SharedProducer:
    """The service's producer, started and stopped by the service."""

    def __init__(self, producer: AIOKafkaProducer, kafka: KafkaSettings):
        self.producer = producer
        self.kafka = kafka

    async def get(self) -> AIOKafkaProducer:
        return self.producer

    async def declare_topics(self) -> None:
        await ensure_topics(self.kafka)

    async def failed(self) -> None:
        pass

    async def close(self) -> None:
        pass


class OwnProducer:
    """A producer of the relay's own, replaced after every failure: aiokafka may keep a stale connection
    state, and a broker that came back empty (the embedded one keeps topics in memory) has no topics."""

    def __init__(self, kafka: KafkaSettings, connect_timeout: float = 15.0):
        self.kafka = kafka
        self.connect_timeout = connect_timeout
        self._producer: AIOKafkaProducer | None = None

    async def declare_topics(self) -> None:
        # Bounded: against an unreachable broker the admin client may wait a long time.
        await asyncio.wait_for(ensure_topics(self.kafka), self.connect_timeout)

    async def get(self) -> AIOKafkaProducer:
        if self._producer is None:
            await self.declare_topics()
            producer = make_producer(self.kafka)
            try:
                await asyncio.wait_for(producer.start(), self.connect_timeout)
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def failed(self) -> None:
        await self.close()

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception:  # a producer that lost its broker may fail to flush; rows stay unsent
                log.warning("producer did not stop cleanly", exc_info=True)


class OutboxRelay(Generic[R]):
    def __init__(self, service: str, store: OutboxStore[R], records: Callable[[R], list[OutboxRecord]],
                 producer: ProducerSource, *, tenant: str = "", batch_size: int = 100, poll_interval: float = 0.5,
                 max_backoff: float = 10.0, threaded: bool = True,
                 after_drain: Callable[[AIOKafkaProducer], Awaitable[None]] | None = None,
                 on_quarantine: Callable[[int], Awaitable[None]] | None = None, broker_check_seconds: float = 5.0):
        self.service = service
        self.tenant = tenant  # metrics label of the backlog and the quarantine
        self.store = store
        self.records = records
        self.producer = producer
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.threaded = threaded  # store calls in a worker thread, so an fsync never blocks the event loop
        self.after_drain = after_drain  # e.g. copy the access log to the audit topic on the same producer
        self.on_quarantine = on_quarantine  # told the quarantine's size (health: degraded)
        self.broker_check_seconds = broker_check_seconds
        self._broker_checked = -math.inf  # monotonic time of the last cluster id check
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit so the new rows go out now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._report_quarantine()
            while not stop.is_set():
                self._wake.clear()  # before draining, so a commit during the drain is not missed
                await self._retry_until_done(self.publish_pending, stop)
                await self._sleep_or_wake(stop)
            # What was committed while stopping (a request in its grace period), if the broker answers at once.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.publish_pending(), FINAL_DRAIN_SECONDS)
        finally:
            await self.producer.close()

    async def publish_pending(self) -> int:
        """Send unsent rows until none are left; returns how many were marked sent."""
        # Counted before touching the broker, so an outage shows as a growing backlog on /metrics.
        await self._count_backlog()
        sent = 0
        await self._check_broker(await self.producer.get())
        while rows := await self._store(self.store.unsent, self.batch_size):
            producer = await self.producer.get()
            done, failure = await self._send_batch(producer, rows)
            await self._store(self.store.mark_sent, done)
            sent += len(done)
            if failure is not None:
                raise failure
            log.info("published outbox", extra={"service": self.service, "count": len(done), "last_seq": rows[-1].seq})
            await self._count_backlog()
        if self.after_drain is not None:
            await self.after_drain(await self.producer.get())
        return sent

    async def _check_broker(self, producer: AIOKafkaProducer) -> None:
        """A broker whose cluster id changed lost what we published (the embedded broker keeps it in memory
        only, and a restart is a new cluster): queue every row again, with its event id, without an operator."""
        if time.monotonic() - self._broker_checked < self.broker_check_seconds:
            return
        current = await cluster_id(producer)
        self._broker_checked = time.monotonic()
        previous = await self._store(self.store.broker_cluster)
        if current == previous:
            return
        if previous:
            await self.producer.declare_topics()
        requeued = await self._store(self.store.requeue_sent) if previous else 0
        await self._store(self.store.note_broker_cluster, current)
        if previous:
            metrics.BROKER_RECOVERIES.labels(self.service, self.tenant).inc()
            why = ("recovery requested by an operator" if previous == RECOVERY_REQUESTED
                   else "the broker lost its history (new cluster id)")
            log.warning(f"{why}: publishing the outbox again",
                        extra={"service": self.service, "tenant": self.tenant, "previous_cluster": previous,
                               "cluster": current, "rows": requeued})

    async def _send_batch(self, producer: AIOKafkaProducer, rows: Sequence[R]) -> tuple[list[int], Exception | None]:
        """Queue every record, then wait for all acknowledgements; poison rows are quarantined on the way.
        Returns the rows acknowledged and the first other failure (broker trouble: the rest is sent again)."""
        queued: list[tuple[R, list[OutboxRecord], list[asyncio.Future[Any]]]] = []
        failure: Exception | None = None
        for row in rows:
            records: list[OutboxRecord] = []
            futures: list[asyncio.Future[Any]] = []
            try:
                records = self.records(row)
            except Exception as exc:  # the row's content, not the broker: it will fail the same way every time
                await self._quarantine(row, None, exc)
                continue
            try:
                for record in records:
                    futures.append(await self._send(producer, record))
            except (PoisonRow, *REFUSED_FOR_GOOD) as exc:
                await asyncio.gather(*futures, return_exceptions=True)
                await self._quarantine(row, records[0] if records else None, exc)
                continue
            except Exception as exc:
                await asyncio.gather(*futures, return_exceptions=True)
                failure = exc
                break
            queued.append((row, records, futures))
        outcomes = await asyncio.gather(*(asyncio.gather(*futures, return_exceptions=True) for _, _, futures in queued))
        done: list[int] = []
        for (row, records, _), results in zip(queued, outcomes, strict=True):
            errors = [r for r in results if isinstance(r, BaseException)]
            refused = [e for e in errors if isinstance(e, REFUSED_FOR_GOOD)]
            if refused:
                await self._quarantine(row, records[0], refused[0])
            elif errors:
                failure = failure or (errors[0] if isinstance(errors[0], Exception) else RuntimeError(str(errors[0])))
            else:
                done.append(row.seq)
                for record in records:
                    metrics.EVENTS_PUBLISHED.labels(record.topic, record.tenant).inc()
        return done, failure

    async def _send(self, producer: AIOKafkaProducer, record: OutboxRecord) -> asyncio.Future[Any]:
        if len(record.value) > MAX_VALUE_BYTES:
            # Every consumer refuses such a record (vtkit.envelope.decode): sending it helps no one.
            raise PoisonRow(f"value of {len(record.value)} bytes exceeds the limit of {MAX_VALUE_BYTES} bytes")
        future: asyncio.Future[Any] = await producer.send(record.topic, record.value, key=record.key,
                                                          headers=record.headers)
        return future

    async def _quarantine(self, row: R, record: OutboxRecord | None, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        await self._store(self.store.quarantine, row, record, reason)
        log.error("outbox row quarantined: it can never be sent; the rows behind it go on",
                  extra={"service": self.service, "tenant": self.tenant, "seq": row.seq,
                         "event_id": record.event_id if record else "", "reason": reason[:300]})
        await self._report_quarantine()

    async def _report_quarantine(self) -> None:
        count = await self._store(self.store.quarantined_count)
        metrics.OUTBOX_QUARANTINED.labels(self.service, self.tenant).set(count)
        if self.on_quarantine is not None:
            await self.on_quarantine(count)

    async def _count_backlog(self) -> None:
        metrics.OUTBOX_BACKLOG.labels(self.service, self.tenant).set(await self._store(self.store.unsent_count))

    async def _store(self, call: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(call, *args) if self.threaded else call(*args)

    async def _retry_until_done(self, step: Callable[[], Awaitable[Any]], stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                await step()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("publishing the outbox failed; retrying",
                            extra={"service": self.service, "error": f"{type(exc).__name__}: {exc}", "retry_in_s": backoff})
                await self.producer.failed()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _sleep_or_wake(self, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stopping, woken}, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            woken.cancel()


@dataclass(frozen=True)
class StoredRow:
    seq: int
    record: OutboxRecord


class SqliteOutbox(OutboxBookkeeping):
    """An outbox in a SQLite file of its own, for a service whose facts live where no outbox table can join
    them (radar's tables are faust's): a fact is on disk here (WAL, synchronous=FULL) before the service
    answers, and the relay takes it to Kafka. Safe to call from worker threads (one connection, a lock)."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,  -- a fact added twice (a retried call) is one row
        topic TEXT NOT NULL,
        record_key BLOB,
        value BLOB NOT NULL,
        headers TEXT NOT NULL,          -- JSON [[name, value], ...]; header values are UTF-8 (vtkit.envelope)
        tenant TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
    """
    UNSENT = "sent_at IS NULL AND seq NOT IN (SELECT seq FROM outbox_quarantine)"

    def __init__(self, path: str | pathlib.Path):
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(self.SCHEMA + QUARANTINE_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, records: Sequence[OutboxRecord]) -> None:
        """Durable when this returns (one transaction, one fsync)."""
        now = dt.datetime.now(dt.UTC).isoformat()
        with self._lock, self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO outbox (event_id, topic, record_key, value, headers, tenant, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.event_id, r.topic, r.key, r.value, json.dumps([[k, v.decode()] for k, v in r.headers]), r.tenant,
                  now) for r in records])

    def unsent(self, limit: int = 100) -> list[StoredRow]:
        with self._lock:
            rows = self._db.execute("SELECT seq, topic, record_key, value, headers, event_id, tenant FROM outbox"
                                    f" WHERE {self.UNSENT} ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [StoredRow(r[0], OutboxRecord(r[1], r[2], r[3], [(k, v.encode()) for k, v in json.loads(r[4])], r[5], r[6]))
                for r in rows]

    def mark_sent(self, seqs: Sequence[int]) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        with self._lock, self._transaction():
            self._db.executemany("UPDATE outbox SET sent_at = ? WHERE seq = ?", [(now, seq) for seq in seqs])

    def unsent_count(self) -> int:
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM outbox WHERE {self.UNSENT}").fetchone()[0])

    @contextlib.contextmanager
    def _outbox_db(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def requeue_sent(self) -> int:
        with self._lock:
            return int(self._db.execute("UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL").rowcount)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
