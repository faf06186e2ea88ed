"""The SQLite side of vtkit.outbox: the tables every outbox database shares (the quarantine, the cluster it
last published to), the bookkeeping methods every store gets from them, and SqliteOutbox, an outbox in a file
of its own for a service whose facts cannot share a transaction with it (radar's decisions)."""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import json
import pathlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from vtkit import tracing
from vtkit.groupcommit import durable_sqlite, sqlite_bookkeeping, sqlite_transaction
from vtkit.outbox import RECOVERY_REQUESTED, OutboxRecord

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


def last_cluster(db: sqlite3.Connection) -> str:
    row = db.execute("SELECT cluster_id FROM outbox_broker").fetchone()
    return str(row[0]) if row else ""


def cluster_noted_at(db: sqlite3.Connection) -> dt.datetime | None:
    """When the relay noted the cluster it publishes to (at the first publish, or when it found the broker replaced)."""
    row = db.execute("SELECT seen_at FROM outbox_broker").fetchone()
    return dt.datetime.fromisoformat(row[0]) if row else None


def note_cluster(db: sqlite3.Connection, cluster_id: str) -> None:
    db.execute("INSERT OR REPLACE INTO outbox_broker (only_row, cluster_id, seen_at) VALUES (1, ?, ?)",
               (cluster_id, dt.datetime.now(dt.UTC).isoformat()))


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

    def broker_cluster_noted_at(self) -> dt.datetime | None:
        with self._outbox_db() as db:
            return cluster_noted_at(db)


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
        self._db = durable_sqlite(self.path, threads=True)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(self.SCHEMA + QUARANTINE_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, records: Sequence[OutboxRecord]) -> None:
        """Durable when this returns (one transaction, one fsync). The records keep the trace context they are added
        in (their headers), which the relay continues (vtkit.tracing)."""
        now = dt.datetime.now(dt.UTC).isoformat()
        with self._lock, sqlite_transaction(self._db):
            self._db.executemany(
                "INSERT OR IGNORE INTO outbox (event_id, topic, record_key, value, headers, tenant, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.event_id, r.topic, r.key, r.value,
                  json.dumps([[k, v.decode()] for k, v in tracing.headers_with_context(r.headers)]), r.tenant, now)
                 for r in records])

    def unsent(self, limit: int = 100) -> list[StoredRow]:
        with self._lock:
            rows = self._db.execute("SELECT seq, topic, record_key, value, headers, event_id, tenant FROM outbox"
                                    f" WHERE {self.UNSENT} ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [StoredRow(r[0], OutboxRecord(r[1], r[2], r[3], [(k, v.encode()) for k, v in json.loads(r[4])], r[5], r[6]))
                for r in rows]

    def mark_sent(self, seqs: Sequence[int]) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        # Without an fsync of its own: lost in a power cut, the rows are sent again under the same event ids.
        with self._lock, sqlite_bookkeeping(self._db):
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
