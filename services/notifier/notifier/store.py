"""Durable state of the notifier: deliveries and the outbox of events about them, in SQLite.

All schedules live here and nowhere else, so a restart (or a SIGKILL) forgets nothing. WAL with
synchronous=FULL: a committed row survives a power cut. Each state change and the outbox row that
announces it are written in one transaction, so an event about a delivery is never lost between
the change and its publication (the relay publishes the outbox at least once, with a stable ce_id).

Times are stored as Unix seconds (REAL) so due rows are found with a plain comparison.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import sqlite3
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from notifier.domain import Delivery, DeliveryKind, DeliveryState, Verdict

OPEN_STATES = (DeliveryState.PENDING.value, DeliveryState.IN_FLIGHT.value)

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    key             TEXT PRIMARY KEY,   -- idempotency key: sha256(cause ce_id:kind)
    kind            TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    case_id         TEXT NOT NULL,
    cause_event_id  TEXT NOT NULL,
    due_date        TEXT,               -- ISO date, Europe/Amsterdam calendar day
    body            BLOB NOT NULL,      -- receiver request, encoded by adapters.proto
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL,
    deliver_after   REAL NOT NULL,      -- not sent before this moment
    next_attempt_at REAL NOT NULL,      -- retry time, or the in-flight lease expiry
    updated_at      REAL NOT NULL,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_case ON deliveries (tenant_id, case_id);
CREATE TABLE IF NOT EXISTS outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL UNIQUE,  -- ce_id of the published event, fixed before publishing
    event        TEXT NOT NULL,         -- requested | delivered | failed
    delivery_key TEXT NOT NULL REFERENCES deliveries (key),
    created_at   REAL NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    permanent    INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    event_id: str
    event: str
    delivery: Delivery
    created_at: dt.datetime
    reason: str
    permanent: bool


def _ts(moment: dt.datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.timestamp()


def _dt(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


def _row_to_delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        key=row["key"], kind=DeliveryKind(row["kind"]), tenant_id=row["tenant_id"], case_id=row["case_id"],
        cause_event_id=row["cause_event_id"],
        due_date=dt.date.fromisoformat(row["due_date"]) if row["due_date"] else None,
        created_at=_dt(row["created_at"]) or dt.datetime.now(dt.UTC), deliver_after=_dt(row["deliver_after"]) or
        dt.datetime.now(dt.UTC), body=bytes(row["body"]), state=DeliveryState(row["state"]), attempts=row["attempts"],
        next_attempt_at=_dt(row["next_attempt_at"]), updated_at=_dt(row["updated_at"]), last_error=row["last_error"])


class Store:
    def __init__(self, path: str | pathlib.Path):
        pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode; every write uses an explicit BEGIN IMMEDIATE ... COMMIT.
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _outbox(self, db: sqlite3.Connection, event: str, key: str, now: dt.datetime, reason: str = "",
                permanent: bool = False) -> None:
        db.execute("INSERT INTO outbox (event_id, event, delivery_key, created_at, reason, permanent) VALUES (?,?,?,?,?,?)",
                   (str(uuid.uuid4()), event, key, _ts(now), reason, int(permanent)))

    # -- scheduling ---------------------------------------------------------------------------

    def add(self, delivery: Delivery) -> bool:
        """Schedule a delivery; False (and nothing written) when its key is already known."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO deliveries (key, kind, tenant_id, case_id, cause_event_id, due_date, body, state,"
                " attempts, created_at, deliver_after, next_attempt_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (delivery.key, delivery.kind.value, delivery.tenant_id, delivery.case_id, delivery.cause_event_id,
                 delivery.due_date.isoformat() if delivery.due_date else None, delivery.body, delivery.state.value,
                 delivery.attempts, _ts(delivery.created_at), _ts(delivery.deliver_after), _ts(delivery.deliver_after),
                 _ts(delivery.created_at)))
            if cur.rowcount == 0:
                return False
            self._outbox(db, "requested", delivery.key, delivery.created_at)
            return True

    def due(self, now: dt.datetime, tenants: Collection[str], limit: int = 50) -> list[Delivery]:
        """Open deliveries whose attempt time has come (including in-flight rows whose lease expired)."""
        if not tenants:
            return []
        marks = ",".join("?" * len(tenants))
        rows = self.db.execute(
            f"SELECT * FROM deliveries WHERE state IN (?,?) AND next_attempt_at <= ? AND deliver_after <= ?"
            f" AND tenant_id IN ({marks}) ORDER BY next_attempt_at LIMIT ?",
            (*OPEN_STATES, _ts(now), _ts(now), *tenants, limit)).fetchall()
        return [_row_to_delivery(r) for r in rows]

    def claim(self, delivery: Delivery, now: dt.datetime, lease: dt.timedelta) -> Delivery | None:
        """Mark in flight before the remote call; None when someone else changed it meanwhile."""
        claimed = delivery.claimed(now, lease)
        with self._tx() as db:
            cur = db.execute(
                "UPDATE deliveries SET state=?, attempts=?, next_attempt_at=?, updated_at=? "
                "WHERE key=? AND attempts=? AND state IN (?,?)",
                (claimed.state.value, claimed.attempts, _ts(claimed.next_attempt_at or now), _ts(now), delivery.key,
                 delivery.attempts, *OPEN_STATES))
        return claimed if cur.rowcount == 1 else None

    def settle(self, claimed: Delivery, verdict: Verdict, now: dt.datetime) -> bool:
        """Record the result of an attempt and the event announcing it, atomically."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE deliveries SET state=?, next_attempt_at=?, updated_at=?, last_error=? "
                "WHERE key=? AND attempts=? AND state=?",
                (verdict.state.value, _ts(verdict.next_attempt_at or now), _ts(now), verdict.reason[:1000], claimed.key,
                 claimed.attempts, DeliveryState.IN_FLIGHT.value))
            if cur.rowcount != 1:
                return False
            if verdict.state is DeliveryState.DELIVERED:
                self._outbox(db, "delivered", claimed.key, now)
            elif verdict.state is DeliveryState.FAILED:
                self._outbox(db, "failed", claimed.key, now, verdict.reason, verdict.permanent)
            return True

    # -- queries ------------------------------------------------------------------------------

    def get(self, key: str) -> Delivery | None:
        row = self.db.execute("SELECT * FROM deliveries WHERE key=?", (key,)).fetchone()
        return _row_to_delivery(row) if row else None

    def list_for_tenant(self, tenant_id: str, states: Collection[DeliveryState] = (), case_id: str = "",
                        limit: int = 1000) -> list[Delivery]:
        sql, args = "SELECT * FROM deliveries WHERE tenant_id=?", [tenant_id]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += [s.value for s in states]
        if case_id:
            sql += " AND case_id=?"
            args.append(case_id)
        sql += " ORDER BY created_at LIMIT ?"
        return [_row_to_delivery(r) for r in self.db.execute(sql, (*args, limit)).fetchall()]

    def open_tenants(self) -> set[str]:
        rows = self.db.execute(f"SELECT DISTINCT tenant_id FROM deliveries WHERE state IN ({','.join('?' * 2)})",
                               OPEN_STATES).fetchall()
        return {r[0] for r in rows}

    # -- outbox -------------------------------------------------------------------------------

    def outbox_batch(self, limit: int = 100) -> list[OutboxEntry]:
        rows = self.db.execute(
            "SELECT o.seq, o.event_id, o.event, o.created_at AS o_created_at, o.reason AS o_reason, o.permanent, d.* "
            "FROM outbox o JOIN deliveries d ON d.key = o.delivery_key ORDER BY o.seq LIMIT ?", (limit,)).fetchall()
        return [OutboxEntry(seq=r["seq"], event_id=r["event_id"], event=r["event"], delivery=_row_to_delivery(r),
                            created_at=_dt(r["o_created_at"]) or dt.datetime.now(dt.UTC), reason=r["o_reason"],
                            permanent=bool(r["permanent"])) for r in rows]

    def outbox_done(self, seq: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM outbox WHERE seq=?", (seq,))
