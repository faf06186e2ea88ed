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
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TypeVar

from vtkit import tracing
from vtkit.groupcommit import durable_sqlite, sqlite_bookkeeping, sqlite_savepoint, sqlite_transaction
from vtkit.outbox_store import QUARANTINE_SCHEMA, OutboxBookkeeping

from notifier.domain import Delivery, DeliveryKind, DeliveryState, Verdict
from notifier.domain.delivery import CASE_KINDS
from notifier.domain.inbox import INBOX_KINDS
from notifier.store_rows import (
    INBOX_ROWS,
    CaseRecord,
    InboxRow,
    MelderContact,
    OutboxEntry,
    Postponement,
    case_of,
    delivery_of,
    from_ts,
    inbox_row_of,
    marks,
    to_ts,
)
from notifier.store_schema import MIGRATIONS, SCHEMA

# Published Delivery* events are kept this long, so a broker that lost its history gets them again.
OUTBOX_KEEP_DAYS = 30
OPEN_STATES = (DeliveryState.PENDING.value, DeliveryState.IN_FLIGHT.value)
T = TypeVar("T")


class Store(OutboxBookkeeping):
    def __init__(self, path: str | pathlib.Path):
        self.db = durable_sqlite(path)
        self._grouped = False
        self._after_group: list[Callable[[], None]] = []
        self.commits = 0  # transactions committed (each one fsync): what the batched writes save is counted here
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        self.db.executescript(QUARANTINE_SCHEMA)
        columns = {r[1] for r in self.db.execute("PRAGMA table_info(deliveries)")}
        for column, ddl in MIGRATIONS.items():
            if column not in columns:
                self.db.execute(ddl)
        if "sent_at" not in {r[1] for r in self.db.execute("PRAGMA table_info(outbox)")}:
            self.db.execute("ALTER TABLE outbox ADD COLUMN sent_at REAL")
        self.db.execute("CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (seq) WHERE sent_at IS NULL")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _tx(self, *, bookkeeping: bool = False) -> Iterator[sqlite3.Connection]:
        """bookkeeping: a write whose loss in a power cut only makes work be done again (vtkit.groupcommit
        .sqlite_bookkeeping), committed without an fsync of its own."""
        if self._grouped:  # inside group(): a savepoint, made durable by the group's commit
            with sqlite_savepoint(self.db, "tx"):
                yield self.db
            return
        with (sqlite_bookkeeping if bookkeeping else sqlite_transaction)(self.db):
            yield self.db
        self.commits += 1

    @contextmanager
    def group(self) -> Iterator[None]:
        """One transaction, so one fsync, around all writes inside (the consumer wraps a fetched batch in it and
        commits the Kafka offsets only after it): a commit per record was most of the notifier's time.
        Writes of other tasks that run while the group is open (only possible when the consumer awaits a
        dead-letter send) join it; a rollback then undoes them too and they are redone after the restart
        (at least once, idempotency keys unchanged). The scheduler's settles wait for it to end instead
        (`after_group`, notifier.settle_queue), so their outbox rows are durable before the relay sees them."""
        if self._grouped:
            yield
            return
        try:
            with sqlite_transaction(self.db):
                self._grouped = True
                try:
                    yield
                finally:
                    self._grouped = False
            self.commits += 1
        finally:
            self._run_after_group()

    @property
    def in_group(self) -> bool:
        """A group is open: what is written now becomes durable only when that group commits."""
        return self._grouped

    def after_group(self, callback: Callable[[], None]) -> None:
        """Call `callback` once no group is open: at once, or when the open one ends (committed or rolled back)."""
        if not self._grouped:
            callback()
            return
        self._after_group.append(callback)

    def _run_after_group(self) -> None:
        callbacks, self._after_group = self._after_group, []
        for callback in callbacks:
            callback()

    def each_apart(self, writes: Sequence[Callable[[], T]]) -> list[T | Exception]:
        """The writes in one group (one commit, one fsync), each in a savepoint of its own: a write that raises
        is undone alone and its exception stands in its place in the answer, the others are committed."""
        with self.group():
            return [self._apart(write) for write in writes]

    def _apart(self, write: Callable[[], T]) -> T | Exception:
        try:
            with self._tx():
                return write()
        except Exception as exc:  # this write's alone: its caller decides, the group goes on
            return exc

    def _outbox(self, db: sqlite3.Connection, event: str, key: str, now: dt.datetime, reason: str = "",
                permanent: bool = False) -> None:
        db.execute("INSERT INTO outbox (event_id, event, delivery_key, created_at, reason, permanent) VALUES (?,?,?,?,?,?)",
                   (str(uuid.uuid4()), event, key, to_ts(now), reason, int(permanent)))

    # -- scheduling ---------------------------------------------------------------------------

    def add(self, delivery: Delivery) -> bool:
        """Schedule a delivery; False (and nothing written) when its key is already known or its case was
        destroyed (a late or redelivered cause event must not revive a shredded dossier)."""
        with self._tx() as db:
            return self._insert(db, delivery)

    def _insert(self, db: sqlite3.Connection, delivery: Delivery) -> bool:
        if self._destroyed(db, delivery.tenant_id, delivery.case_id):
            return False
        cur = db.execute(
            "INSERT OR IGNORE INTO deliveries (key, kind, tenant_id, case_id, cause_event_id, due_date, body, state,"
            " attempts, created_at, deliver_after, next_attempt_at, updated_at, after_key, trace_context)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (delivery.key, delivery.kind.value, delivery.tenant_id, delivery.case_id, delivery.cause_event_id,
             delivery.due_date.isoformat() if delivery.due_date else None, delivery.body, delivery.state.value,
             delivery.attempts, to_ts(delivery.created_at), to_ts(delivery.deliver_after), to_ts(delivery.deliver_after),
             to_ts(delivery.created_at), delivery.after_key, tracing.carrier()))
        if cur.rowcount == 0:
            return False
        self._outbox(db, "requested", delivery.key, delivery.created_at)
        return True

    def due(self, now: dt.datetime, tenants: Collection[str], limit: int = 50,
            any_tenant_kinds: Collection[DeliveryKind] = (), escalation_tenants: Collection[str] = ()) -> list[Delivery]:
        """Open deliveries whose attempt time has come (including in-flight rows whose lease expired)
        and whose predecessor (after_key) was delivered; a letter also needs its case; an inbox item waits
        for the older open items of its case (in order per case; a failed one does not hold the rest).
        Routed: kinds in `any_tenant_kinds` for every tenant, escalations for `escalation_tenants` (a team-lead
        address), the other kinds for `tenants` only."""
        if not tenants and not any_tenant_kinds and not escalation_tenants:
            return []
        national = [k.value for k in any_tenant_kinds]
        escalation = DeliveryKind.INBOX_ESCALATION.value
        inbox = [k.value for k in INBOX_KINDS]
        route = (f"(kind NOT IN ({marks(national)}) AND kind != ? AND tenant_id IN ({marks(tenants)}))"
                 f" OR kind IN ({marks(national)}) OR (kind = ? AND tenant_id IN ({marks(escalation_tenants)}))")
        rows = self.db.execute(
            f"SELECT * FROM deliveries d WHERE state IN (?,?) AND next_attempt_at <= ? AND deliver_after <= ?"
            f" AND ({route}) AND (after_key IS NULL OR after_key IN"
            f" (SELECT key FROM deliveries WHERE state = ?))"
            # A letter, and a notice built from the case (notifier.notices), waits (without using attempts) until its
            # case's MeldingReceived has arrived; a letter also until the region confirmed the conversation with the
            # melder (ConfirmMelderContacted).
            f" AND (kind NOT IN ({marks(CASE_KINDS)}) OR EXISTS (SELECT 1 FROM cases c WHERE c.tenant_id = d.tenant_id"
            f" AND c.case_id = d.case_id))"
            f" AND (kind != ? OR EXISTS (SELECT 1 FROM melder_contacts m"
            f" WHERE m.tenant_id = d.tenant_id AND m.case_id = d.case_id))"
            f" AND (kind NOT IN ({marks(inbox)}) OR NOT EXISTS (SELECT 1 FROM deliveries p WHERE"
            f" p.tenant_id = d.tenant_id AND p.case_id = d.case_id AND p.rowid < d.rowid AND p.state IN (?,?)"
            f" AND p.kind IN ({marks(inbox)})))"
            f" ORDER BY next_attempt_at LIMIT ?",
            (*OPEN_STATES, to_ts(now), to_ts(now), *national, escalation, *tenants, *national, escalation,
             *escalation_tenants, DeliveryState.DELIVERED.value, *(k.value for k in CASE_KINDS),
             DeliveryKind.HOUSEHOLD_LETTER.value, *inbox,
             *OPEN_STATES, *inbox, limit)).fetchall()
        return [delivery_of(r) for r in rows]

    def trace_context(self, key: str) -> str:
        """The trace context the delivery was scheduled in ('' when none): its attempts continue that trace."""
        row = self.db.execute("SELECT trace_context FROM deliveries WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else ""

    def claim(self, delivery: Delivery, now: dt.datetime, lease: dt.timedelta) -> Delivery | None:
        """Mark in flight before the remote call; None when someone else changed it meanwhile."""
        claimed = delivery.claimed(now, lease)
        with self._tx() as db:
            cur = db.execute(
                "UPDATE deliveries SET state=?, attempts=?, next_attempt_at=?, updated_at=? "
                "WHERE key=? AND attempts=? AND state IN (?,?)",
                (claimed.state.value, claimed.attempts, to_ts(claimed.next_attempt_at or now), to_ts(now), delivery.key,
                 delivery.attempts, *OPEN_STATES))
        return claimed if cur.rowcount == 1 else None

    def settle(self, claimed: Delivery, verdict: Verdict, now: dt.datetime) -> bool:
        """Record the result of an attempt and the event announcing it, atomically."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE deliveries SET state=?, next_attempt_at=?, updated_at=?, last_error=? "
                "WHERE key=? AND attempts=? AND state=?",
                (verdict.state.value, to_ts(verdict.next_attempt_at or now), to_ts(now), verdict.reason[:1000], claimed.key,
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
        return delivery_of(row) if row else None

    def list_for_tenant(self, tenant_id: str, states: Collection[DeliveryState] = (), case_id: str = "",
                        limit: int = 1000) -> list[Delivery]:
        return [d for _, d in self.deliveries_page(tenant_id, states, case_id, None, limit)]

    def deliveries_page(self, tenant_id: str, states: Collection[DeliveryState], case_id: str,
                        after: tuple[float, str] | None, limit: int) -> list[tuple[tuple[float, str], Delivery]]:
        """Deliveries in (created_at, key) order after the row key `after`, each with its row key: both columns are
        fixed for a delivery and the key is unique, so paging by it never skips or repeats one (vtkit.paging). The
        key is the stored value itself, not a datetime made from it, so the comparison is exact."""
        sql, args = "SELECT * FROM deliveries WHERE tenant_id=?", list[object]([tenant_id])
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += [s.value for s in states]
        if case_id:
            sql += " AND case_id=?"
            args.append(case_id)
        if after is not None:
            sql += " AND (created_at, key) > (?, ?)"
            args += [after[0], after[1]]
        sql += " ORDER BY created_at, key LIMIT ?"
        return [((float(r["created_at"]), r["key"]), delivery_of(r))
                for r in self.db.execute(sql, (*args, limit)).fetchall()]

    def open_tenants(self, except_kinds: Collection[DeliveryKind] = ()) -> set[str]:
        kinds = [k.value for k in except_kinds]
        rows = self.db.execute(f"SELECT DISTINCT tenant_id FROM deliveries WHERE state IN ({','.join('?' * 2)})"
                               f" AND kind NOT IN ({','.join('?' * len(kinds))})", (*OPEN_STATES, *kinds)).fetchall()
        return {r[0] for r in rows}

    def failed(self, key: str = "") -> list[Delivery]:
        sql, args = "SELECT * FROM deliveries WHERE state=?", [DeliveryState.FAILED.value]
        if key:
            sql += " AND key=?"
            args.append(key)
        return [delivery_of(r) for r in self.db.execute(sql + " ORDER BY updated_at", args).fetchall()]

    def redrive(self, keys: Collection[str], now: dt.datetime) -> int:
        """Failed deliveries back to pending with a fresh attempt budget (same idempotency key), so a
        running scheduler sends them on its next scan. Returns how many were reset."""
        count = 0
        with self._tx() as db:
            for key in keys:
                cur = db.execute("UPDATE deliveries SET state=?, attempts=0, next_attempt_at=?, updated_at=?,"
                                 " last_error='' WHERE key=? AND state=?",
                                 (DeliveryState.PENDING.value, to_ts(now), to_ts(now), key, DeliveryState.FAILED.value))
                count += cur.rowcount
        return count

    # -- overdue ------------------------------------------------------------------------------

    def newly_overdue(self, today: dt.date) -> list[Delivery]:
        """Open deliveries past their due date that have not been reported overdue for that date."""
        rows = self.db.execute(
            "SELECT * FROM deliveries WHERE state IN (?,?) AND due_date IS NOT NULL AND due_date < ?"
            " AND (overdue_for IS NULL OR overdue_for != due_date)", (*OPEN_STATES, today.isoformat())).fetchall()
        return [delivery_of(r) for r in rows]

    def mark_overdue(self, delivery: Delivery, now: dt.datetime) -> bool:
        with self._tx() as db:
            cur = db.execute("UPDATE deliveries SET overdue_for=due_date WHERE key=? AND due_date=?"
                             " AND (overdue_for IS NULL OR overdue_for != due_date)",
                             (delivery.key, delivery.due_date.isoformat() if delivery.due_date else None))
            if cur.rowcount != 1:
                return False
            self._outbox(db, "overdue", delivery.key, now)
            return True

    # -- cases and household letters ---------------------------------------------------------

    def put_case(self, tenant_id: str, case_id: str, event_id: str, received_at: dt.datetime, melding: bytes) -> bool:
        """Keep what intake recorded for a case; the first MeldingReceived wins (redeliveries)."""
        with self._tx() as db:
            if self._destroyed(db, tenant_id, case_id):
                return False
            cur = db.execute("INSERT OR IGNORE INTO cases (tenant_id, case_id, event_id, received_at, melding)"
                             " VALUES (?,?,?,?,?)", (tenant_id, case_id, event_id, to_ts(received_at), melding))
            return cur.rowcount == 1

    @staticmethod
    def _destroyed(db: sqlite3.Connection, tenant_id: str, case_id: str) -> bool:
        return db.execute("SELECT 1 FROM destroyed_cases WHERE tenant_id=? AND case_id=?",
                          (tenant_id, case_id)).fetchone() is not None

    def destroy_cases(self, tenant_id: str, case_ids: Collection[str], now: dt.datetime, reason: str) -> int:
        """A dossier was destroyed: forget its cases (the stored MeldingReceived), cancel every open delivery
        of them (state failed, permanent, with `reason`, announced like any failure) and refuse them from now
        on. The number of deliveries cancelled; repeating it changes nothing."""
        ids = list(case_ids)
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        with self._tx() as db:
            db.executemany("INSERT OR IGNORE INTO destroyed_cases (tenant_id, case_id, destroyed_at) VALUES (?,?,?)",
                           [(tenant_id, c, to_ts(now)) for c in ids])
            for table in ("cases", "assessment_inputs", "inbox"):  # nothing of the dossier stays listed
                db.execute(f"DELETE FROM {table} WHERE tenant_id=? AND case_id IN ({marks})", (tenant_id, *ids))
            open_keys = [r[0] for r in db.execute(
                f"SELECT key FROM deliveries WHERE tenant_id=? AND case_id IN ({marks}) AND state IN (?,?)",
                (tenant_id, *ids, *OPEN_STATES))]
            for key in open_keys:
                db.execute("UPDATE deliveries SET state=?, updated_at=?, last_error=? WHERE key=?",
                           (DeliveryState.FAILED.value, to_ts(now), reason, key))
                self._outbox(db, "failed", key, now, reason, permanent=True)
            return len(open_keys)

    def get_case(self, tenant_id: str, case_id: str) -> CaseRecord | None:
        row = self.db.execute("SELECT * FROM cases WHERE tenant_id=? AND case_id=?", (tenant_id, case_id)).fetchone()
        return None if row is None else case_of(row)

    def put_episode_member(self, tenant_id: str, case_id: str, episode_case_id: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO episode_members (tenant_id, case_id, episode_case_id) VALUES (?,?,?)",
                       (tenant_id, case_id, episode_case_id))

    def undecided_letter_cases(self, received_before: dt.datetime) -> list[tuple[CaseRecord, int]]:
        """Cases received before the moment, without a household letter (no decision yet), not informed through
        their episode and not yet reported late: each with its postponed weeks."""
        rows = self.db.execute(
            "SELECT c.*, (SELECT COALESCE(SUM(weeks), 0) FROM postponements p WHERE p.tenant_id = c.tenant_id"
            " AND p.case_id = c.case_id) AS weeks FROM cases c WHERE c.received_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.tenant_id = c.tenant_id AND d.case_id = c.case_id"
            " AND d.kind = ?) AND NOT EXISTS (SELECT 1 FROM episode_members e WHERE e.tenant_id = c.tenant_id"
            " AND e.case_id = c.case_id) AND NOT EXISTS (SELECT 1 FROM undecided_letters_late u"
            " WHERE u.tenant_id = c.tenant_id AND u.case_id = c.case_id)",
            (to_ts(received_before), DeliveryKind.HOUSEHOLD_LETTER.value)).fetchall()
        return [(case_of(r), int(r["weeks"])) for r in rows]

    def mark_undecided_letter_late(self, tenant_id: str, case_id: str, now: dt.datetime) -> None:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO undecided_letters_late (tenant_id, case_id, reported_at) VALUES (?,?,?)",
                       (tenant_id, case_id, to_ts(now)))

    def knows_case(self, tenant_id: str, case_id: str) -> bool:
        """The case's MeldingReceived or any delivery about it is known here."""
        return self.db.execute("SELECT EXISTS (SELECT 1 FROM cases WHERE tenant_id=? AND case_id=?) OR EXISTS"
                               " (SELECT 1 FROM deliveries WHERE tenant_id=? AND case_id=?)",
                               (tenant_id, case_id, tenant_id, case_id)).fetchone()[0] == 1

    def confirm_melder_contact(self, tenant_id: str, case_id: str, outcome: str, contacted_at: dt.datetime,
                               now: dt.datetime) -> MelderContact:
        """Records the region's confirmation once; a repeat returns the first."""
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO melder_contacts (tenant_id, case_id, outcome, contacted_at, recorded_at)"
                       " VALUES (?,?,?,?,?)", (tenant_id, case_id, outcome, to_ts(contacted_at), to_ts(now)))
        found = self.melder_contact(tenant_id, case_id)
        assert found is not None
        return found

    def melder_contact(self, tenant_id: str, case_id: str) -> MelderContact | None:
        row = self.db.execute("SELECT outcome, contacted_at, recorded_at FROM melder_contacts WHERE tenant_id=?"
                              " AND case_id=?", (tenant_id, case_id)).fetchone()
        if row is None:
            return None
        return MelderContact(row["outcome"], from_ts(row["contacted_at"]) or dt.datetime.now(dt.UTC),
                             from_ts(row["recorded_at"]) or dt.datetime.now(dt.UTC))

    def letter_for_case(self, tenant_id: str, case_id: str) -> Delivery | None:
        row = self.db.execute("SELECT * FROM deliveries WHERE tenant_id=? AND case_id=? AND kind=? ORDER BY created_at"
                              " LIMIT 1", (tenant_id, case_id, DeliveryKind.HOUSEHOLD_LETTER.value)).fetchone()
        return delivery_of(row) if row else None

    def set_letter_due(self, tenant_id: str, case_id: str, due_date: dt.date) -> int:
        """The letter's latest due date follows the case's receipt (4 weeks) and its postponements."""
        with self._tx() as db:
            return db.execute("UPDATE deliveries SET due_date=? WHERE tenant_id=? AND case_id=? AND kind=?",
                              (due_date.isoformat(), tenant_id, case_id, DeliveryKind.HOUSEHOLD_LETTER.value)).rowcount

    def postponements(self, tenant_id: str, case_id: str) -> list[Postponement]:
        rows = self.db.execute("SELECT * FROM postponements WHERE tenant_id=? AND case_id=? ORDER BY seq",
                               (tenant_id, case_id)).fetchall()
        return [Postponement(weeks=r["weeks"], reason=r["reason"], recorded_at=from_ts(r["recorded_at"]) or
                             dt.datetime.now(dt.UTC), due_before=dt.date.fromisoformat(r["due_before"]),
                             due_after=dt.date.fromisoformat(r["due_after"])) for r in rows]

    def postpone(self, tenant_id: str, case_id: str, weeks: int, reason: str, now: dt.datetime, due_before: dt.date,
                 new_due: dt.date, hold_until: dt.datetime) -> int:
        """Record one postponement and move the case's letter (when decided already) to its new due date and hold
        it until `hold_until`; returns the count so far."""
        with self._tx() as db:
            db.execute("INSERT INTO postponements (tenant_id, case_id, weeks, reason, recorded_at, due_before,"
                       " due_after) VALUES (?,?,?,?,?,?,?)", (tenant_id, case_id, weeks, reason, to_ts(now),
                                                            due_before.isoformat(), new_due.isoformat()))
            db.execute("UPDATE deliveries SET due_date=?, deliver_after=MAX(deliver_after, ?), updated_at=?"
                       " WHERE tenant_id=? AND case_id=? AND kind=? AND state IN (?,?)",
                       (new_due.isoformat(), to_ts(hold_until), to_ts(now), tenant_id, case_id,
                        DeliveryKind.HOUSEHOLD_LETTER.value, *OPEN_STATES))
            return int(db.execute("SELECT COUNT(*) FROM postponements WHERE tenant_id=? AND case_id=?",
                                  (tenant_id, case_id)).fetchone()[0])

    # -- region inbox ---------------------------------------------------------------------------

    def add_inbox(self, delivery: Delivery, occurred_at: dt.datetime, acknowledge_before: dt.datetime) -> bool:
        """Schedule an inbox item's push and keep it for ListInbox, in one transaction."""
        with self._tx() as db:
            if not self._insert(db, delivery):
                return False
            db.execute("INSERT INTO inbox (key, tenant_id, case_id, occurred_at, acknowledge_before) VALUES (?,?,?,?,?)",
                       (delivery.key, delivery.tenant_id, delivery.case_id, to_ts(occurred_at), to_ts(acknowledge_before)))
            return True

    def inbox_page(self, tenant_id: str, after_seq: int = 0, limit: int = 100, since: dt.datetime | None = None,
                   unacknowledged_only: bool = False, case_id: str = "") -> list[InboxRow]:
        sql = f"{INBOX_ROWS} WHERE i.tenant_id = ? AND i.seq > ?"
        args: list[object] = [tenant_id, after_seq]
        if since is not None:
            sql += " AND i.occurred_at >= ?"
            args.append(to_ts(since))
        if unacknowledged_only:
            sql += " AND i.acknowledged_at IS NULL"
        if case_id:
            sql += " AND i.case_id = ?"
            args.append(case_id)
        return [inbox_row_of(r) for r in self.db.execute(sql + " ORDER BY i.seq LIMIT ?", (*args, limit)).fetchall()]

    def acknowledge(self, tenant_id: str, keys: Collection[str], now: dt.datetime) -> tuple[list[InboxRow], list[str]]:
        """Mark the region's items acknowledged (the first time counts), all or nothing. Returns the rows
        acknowledged now and the keys that name no item of this region (unknown, or another region's: not told
        apart); when there are such keys nothing is written."""
        wanted = list(dict.fromkeys(keys))
        with self._tx() as db:
            rows = {r["key"]: r for r in db.execute(
                f"{INBOX_ROWS} WHERE i.tenant_id = ? AND i.key IN ({marks(wanted)})", (tenant_id, *wanted))}
            unknown = [k for k in wanted if k not in rows]
            if unknown:
                return [], unknown
            fresh = [rows[k] for k in wanted if rows[k]["acknowledged_at"] is None]
            db.executemany("UPDATE inbox SET acknowledged_at = ? WHERE key = ?", [(to_ts(now), r["key"]) for r in fresh])
            return [inbox_row_of(r) for r in fresh], []

    def unacknowledged_late(self, now: dt.datetime, limit: int = 100) -> list[InboxRow]:
        """Items past their acknowledgement deadline, not acknowledged and not yet escalated."""
        rows = self.db.execute(
            f"{INBOX_ROWS} WHERE i.acknowledged_at IS NULL AND i.escalated_at IS NULL AND i.acknowledge_before < ?"
            " ORDER BY i.seq LIMIT ?", (to_ts(now), limit)).fetchall()
        return [inbox_row_of(r) for r in rows]

    def escalate(self, item: InboxRow, escalation: Delivery, now: dt.datetime) -> bool:
        """Mark the item escalated and schedule the escalation, once."""
        with self._tx() as db:
            cur = db.execute("UPDATE inbox SET escalated_at = ? WHERE seq = ? AND escalated_at IS NULL"
                             " AND acknowledged_at IS NULL", (to_ts(now), item.seq))
            if cur.rowcount != 1:
                return False
            self._insert(db, escalation)
            return True

    def inbox_figures(self, now: dt.datetime) -> dict[str, tuple[int, int]]:
        """Per region: (items not acknowledged, of which past their acknowledgement deadline)."""
        rows = self.db.execute("SELECT tenant_id, COUNT(*), SUM(acknowledge_before < ?) FROM inbox"
                               " WHERE acknowledged_at IS NULL GROUP BY tenant_id", (to_ts(now),)).fetchall()
        return {r[0]: (int(r[1]), int(r[2] or 0)) for r in rows}

    def households_informed_late(self, today: dt.date) -> dict[str, int]:
        """Per region: households not informed by their letter's due date, now: open household letters past it, and
        undecided cases reported late that still have no letter."""
        rows = self.db.execute(
            "SELECT tenant_id, COUNT(*) FROM deliveries WHERE kind = ? AND state IN (?,?) AND due_date < ?"
            " GROUP BY tenant_id UNION ALL SELECT u.tenant_id, COUNT(*) FROM undecided_letters_late u"
            " WHERE EXISTS (SELECT 1 FROM cases c WHERE c.tenant_id = u.tenant_id AND c.case_id = u.case_id)"
            " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.tenant_id = u.tenant_id AND d.case_id = u.case_id"
            " AND d.kind = ?) GROUP BY u.tenant_id",
            (DeliveryKind.HOUSEHOLD_LETTER.value, *OPEN_STATES, today.isoformat(),
             DeliveryKind.HOUSEHOLD_LETTER.value)).fetchall()
        out: dict[str, int] = {}
        for tenant, count in rows:
            out[tenant] = out.get(tenant, 0) + int(count)
        return out

    def last_input(self, tenant_id: str, case_id: str, person_id: str) -> bytes | None:
        row = self.db.execute("SELECT input FROM assessment_inputs WHERE tenant_id=? AND case_id=? AND person_id=?",
                              (tenant_id, case_id, person_id)).fetchone()
        return bytes(row[0]) if row else None

    def put_input(self, tenant_id: str, case_id: str, person_id: str, data: bytes) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO assessment_inputs (tenant_id, case_id, person_id, input) VALUES (?,?,?,?)",
                       (tenant_id, case_id, person_id, data))

    # -- outbox -------------------------------------------------------------------------------

    def unsent(self, limit: int = 100) -> list[OutboxEntry]:
        rows = self.db.execute(
            "SELECT o.seq, o.event_id, o.event, o.created_at AS o_created_at, o.reason AS o_reason, o.permanent, d.* "
            "FROM outbox o JOIN deliveries d ON d.key = o.delivery_key"
            " WHERE o.sent_at IS NULL AND o.seq NOT IN (SELECT seq FROM outbox_quarantine) ORDER BY o.seq LIMIT ?",
            (limit,)).fetchall()
        return [OutboxEntry(seq=r["seq"], event_id=r["event_id"], event=r["event"], delivery=delivery_of(r),
                            created_at=from_ts(r["o_created_at"]) or dt.datetime.now(dt.UTC), reason=r["o_reason"],
                            permanent=bool(r["permanent"])) for r in rows]

    def unsent_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND seq NOT IN"
                                   " (SELECT seq FROM outbox_quarantine)").fetchone()[0])

    def _outbox_db(self) -> AbstractContextManager[sqlite3.Connection]:
        return nullcontext(self.db)  # one connection, on the event loop

    def requeue_sent(self) -> int:
        """The broker lost its history: every Delivery* event still kept is published again, with its event id
        (consumers dedupe), so the national picture of deliveries comes back (docs/architecture.md, Broker loss)."""
        with self._tx() as db:
            return int(db.execute("UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL").rowcount)

    def mark_sent(self, seqs: Collection[int]) -> None:
        """The broker acknowledged these rows: kept, marked sent, for a broker that loses them; those sent more than
        OUTBOX_KEEP_DAYS ago go (a broker keeps its topics at least that long, docs/architecture.md). Lost in a
        power cut, the rows are sent again under the same event ids, which every consumer dedupes."""
        now = dt.datetime.now(dt.UTC)
        with self._tx(bookkeeping=True) as db:
            db.executemany("UPDATE outbox SET sent_at=? WHERE seq=?", [(to_ts(now), seq) for seq in seqs])
            db.execute("DELETE FROM outbox WHERE sent_at < ? AND seq NOT IN (SELECT seq FROM outbox_quarantine)",
                       (to_ts(now - dt.timedelta(days=OUTBOX_KEEP_DAYS)),))
