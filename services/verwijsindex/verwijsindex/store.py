"""SQLite storage: signals, the outbox, matches already notified, and the logbook.

One file in VT_DATA_DIR, WAL with synchronous=FULL: a registration is acknowledged only
after it and its outbox rows are on disk in one transaction (docs/architecture.md, Durability).
The BSN is never stored: a youth is its keyed pseudonym. Contact details are encrypted
at rest under the verwijsindex field key, bound to the signal id.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import pathlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from vtkit.crypto import Ciphertext, TenantCipher
from vtkit.groupcommit import sqlite_bookkeeping, sqlite_transaction
from vtkit.outbox import OutboxRecord
from vtkit.outbox_store import QUARANTINE_SCHEMA, OutboxBookkeeping

from verwijsindex.domain.model import Contact, HouseholdFacts, Sector, Signal, SignalStatus

# Rows the relay still has to send (a quarantined row is never sent: vtkit.outbox).
UNSENT = "sent_at IS NULL AND seq NOT IN (SELECT seq FROM outbox_quarantine)"
SCHEMA = """
CREATE TABLE IF NOT EXISTS signals (
  signal_id TEXT PRIMARY KEY,
  youth_pseudonym TEXT NOT NULL,
  registrant_id TEXT NOT NULL,
  registered_at TEXT NOT NULL,
  planned_removal TEXT NOT NULL,
  age_limit_date TEXT NOT NULL,
  status TEXT NOT NULL,
  contact_key_id TEXT NOT NULL,
  contact_nonce BLOB NOT NULL,
  contact_ciphertext BLOB NOT NULL,
  archived_on TEXT,
  archive_until TEXT,
  archive_notice_sent INTEGER NOT NULL DEFAULT 0
);
-- One active signal per registrant and youth: a second registration returns the first.
CREATE UNIQUE INDEX IF NOT EXISTS signals_one_active
  ON signals (registrant_id, youth_pseudonym) WHERE status = 'active';
CREATE INDEX IF NOT EXISTS signals_youth ON signals (youth_pseudonym);
CREATE INDEX IF NOT EXISTS signals_status ON signals (status);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  headers TEXT NOT NULL,
  created_at TEXT NOT NULL,
  sent_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
-- Matches already notified, so a match is notified once per registrant set.
CREATE TABLE IF NOT EXISTS matches (
  match_id TEXT PRIMARY KEY,
  youth_pseudonym TEXT NOT NULL,
  registrant_set TEXT NOT NULL,
  matched_at TEXT NOT NULL,
  UNIQUE (youth_pseudonym, registrant_set)
);
-- BRP household facts per youth, on pseudonyms only (docs/domain.md section 6: family match, regievoerder).
CREATE TABLE IF NOT EXISTS household_facts (
  youth_pseudonym TEXT PRIMARY KEY,
  address_pseudonym TEXT NOT NULL,
  institution_address INTEGER NOT NULL,
  municipality_code TEXT NOT NULL,
  date_of_death TEXT,
  observed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS household_address ON household_facts (address_pseudonym);
CREATE TABLE IF NOT EXISTS household_parents (
  youth_pseudonym TEXT NOT NULL,
  parent_pseudonym TEXT NOT NULL,
  PRIMARY KEY (youth_pseudonym, parent_pseudonym)
);
CREATE INDEX IF NOT EXISTS household_parent ON household_parents (parent_pseudonym);
-- Who registered, removed, expired or received a match, and when (docs/domain.md section 6).
CREATE TABLE IF NOT EXISTS logbook (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  signal_id TEXT,
  youth_pseudonym TEXT,
  registrant_id TEXT,
  detail TEXT NOT NULL DEFAULT ''
);
"""

_CONTACT_FIELD = "signal_contact_at_rest"


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    event_id: str
    topic: str
    key: str
    value: bytes
    headers: list[tuple[str, bytes]]

    def record(self) -> OutboxRecord:
        return OutboxRecord(self.topic, self.key.encode(), self.value, self.headers, self.event_id)


@dataclass(frozen=True)
class LogEntry:
    at: dt.datetime
    action: str
    actor: str
    signal_id: str | None
    youth_pseudonym: str | None
    registrant_id: str | None
    detail: str
    seq: int = 0  # the logbook's own order: what ListLogbook pages by


def _iso(value: dt.date | dt.datetime) -> str:
    return value.isoformat()


class Store(OutboxBookkeeping):
    def __init__(self, path: str | pathlib.Path, cipher: TenantCipher):
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE) in `transaction()`.
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._db.executescript(QUARANTINE_SCHEMA)
        self._forget_reasons()
        self._cipher = cipher

    def _forget_reasons(self) -> None:
        """A database of before kept each signal's risk code, and the logbook's registrations named it ("risk_code=5").
        A signal holds no reason (docs/architecture.md, "Keys and certificates"): drop the column and the logbook's
        copies, once."""
        columns = {r["name"] for r in self._db.execute("PRAGMA table_info(signals)")}
        if "risk_code" not in columns:
            return
        with self.transaction():
            self._db.execute("ALTER TABLE signals DROP COLUMN risk_code")
            self._db.execute("UPDATE logbook SET detail = '' WHERE action = 'registered' AND detail LIKE 'risk_code=%'")
        self._db.execute("VACUUM")  # the dropped values leave the file's free pages too

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with sqlite_transaction(self._db):
            yield

    # -- signals -------------------------------------------------------------------------

    def _seal_contact(self, signal_id: str, contact: Contact) -> Ciphertext:
        plain = json.dumps({"name": contact.name, "organisation": contact.organisation, "phone": contact.phone,
                            "email": contact.email, "sector": contact.sector.value if contact.sector else None,
                            "coordinator": contact.coordinator}).encode()
        return self._cipher.encrypt(plain, event_id=signal_id, field=_CONTACT_FIELD)

    def _open_contact(self, row: sqlite3.Row) -> Contact:
        sealed = Ciphertext(row["contact_key_id"], row["contact_nonce"], row["contact_ciphertext"])
        data = json.loads(self._cipher.decrypt(sealed, event_id=row["signal_id"], field=_CONTACT_FIELD))
        return Contact(name=data["name"], organisation=data["organisation"], phone=data["phone"], email=data["email"],
                       sector=Sector(data["sector"]) if data["sector"] else None, coordinator=data["coordinator"])

    def _signal(self, row: sqlite3.Row) -> Signal:
        return Signal(
            signal_id=row["signal_id"], youth_pseudonym=row["youth_pseudonym"], registrant_id=row["registrant_id"],
            registered_at=dt.datetime.fromisoformat(row["registered_at"]),
            planned_removal=dt.date.fromisoformat(row["planned_removal"]),
            age_limit_date=dt.date.fromisoformat(row["age_limit_date"]), status=SignalStatus(row["status"]),
            contact=self._open_contact(row),
            archived_on=dt.date.fromisoformat(row["archived_on"]) if row["archived_on"] else None,
            archive_until=dt.date.fromisoformat(row["archive_until"]) if row["archive_until"] else None,
            archive_notice_sent=bool(row["archive_notice_sent"]))

    def _signals(self, sql: str, args: Sequence[object]) -> list[Signal]:
        return [self._signal(r) for r in self._db.execute(sql, args).fetchall()]

    def insert_signal(self, signal: Signal) -> None:
        sealed = self._seal_contact(signal.signal_id, signal.contact)
        self._db.execute(
            "INSERT INTO signals (signal_id, youth_pseudonym, registrant_id, registered_at, planned_removal, age_limit_date,"
            " status, contact_key_id, contact_nonce, contact_ciphertext) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (signal.signal_id, signal.youth_pseudonym, signal.registrant_id, _iso(signal.registered_at),
             _iso(signal.planned_removal), _iso(signal.age_limit_date), signal.status.value,
             sealed.key_id, sealed.nonce, sealed.ciphertext))

    def get_signal(self, signal_id: str) -> Signal | None:
        found = self._signals("SELECT * FROM signals WHERE signal_id = ?", (signal_id,))
        return found[0] if found else None

    def active_signal(self, registrant_id: str, youth_pseudonym: str) -> Signal | None:
        found = self._signals("SELECT * FROM signals WHERE registrant_id = ? AND youth_pseudonym = ? AND status = 'active'",
                              (registrant_id, youth_pseudonym))
        return found[0] if found else None

    def signals_on_youth(self, youth_pseudonym: str) -> list[Signal]:
        return self._signals("SELECT * FROM signals WHERE youth_pseudonym = ? ORDER BY registered_at", (youth_pseudonym,))

    def active_signals_of(self, registrant_id: str) -> list[Signal]:
        return self._signals("SELECT * FROM signals WHERE registrant_id = ? AND status = 'active' ORDER BY registered_at",
                             (registrant_id,))

    def active_signals_page(self, registrant_id: str, after: tuple[str, str] | None, limit: int) -> list[Signal]:
        """Active signals in (registered_at, signal_id) order after that row key: both fixed for a signal, the id
        unique, so paging never skips or repeats one (vtkit.paging). registered_at is compared as stored (ISO text,
        which is how active_signals_of orders as well)."""
        sql, args = "SELECT * FROM signals WHERE registrant_id = ? AND status = 'active'", [registrant_id]
        if after is not None:
            sql += " AND (registered_at, signal_id) > (?, ?)"
            args += [after[0], after[1]]
        return self._signals(sql + " ORDER BY registered_at, signal_id LIMIT ?", (*args, limit))

    def due_for_expiry(self, today: dt.date) -> list[Signal]:
        # ISO dates compare correctly as text.
        return self._signals("SELECT * FROM signals WHERE status = 'active' AND (planned_removal <= ? OR age_limit_date <= ?)",
                             (_iso(today), _iso(today)))

    def archive_past_retention(self, today: dt.date) -> list[Signal]:
        return self._signals("SELECT * FROM signals WHERE status = 'archived' AND archive_until <= ?", (_iso(today),))

    def archive_signal(self, signal_id: str, on: dt.date, until: dt.date) -> None:
        self._db.execute("UPDATE signals SET status = 'archived', archived_on = ?, archive_until = ? WHERE signal_id = ?",
                         (_iso(on), _iso(until), signal_id))

    def delete_signal(self, signal_id: str) -> None:
        self._db.execute("DELETE FROM signals WHERE signal_id = ?", (signal_id,))

    def mark_archive_notice_sent(self, signal_ids: Sequence[str]) -> None:
        self._db.executemany("UPDATE signals SET archive_notice_sent = 1 WHERE signal_id = ?", [(i,) for i in signal_ids])

    # -- household facts ------------------------------------------------------------------

    def household_facts(self, youth_pseudonym: str) -> HouseholdFacts | None:
        row = self._db.execute("SELECT * FROM household_facts WHERE youth_pseudonym = ?", (youth_pseudonym,)).fetchone()
        if row is None:
            return None
        parents = frozenset(r[0] for r in self._db.execute(
            "SELECT parent_pseudonym FROM household_parents WHERE youth_pseudonym = ?", (youth_pseudonym,)))
        return HouseholdFacts(
            youth_pseudonym=youth_pseudonym, address_pseudonym=row["address_pseudonym"],
            institution_address=bool(row["institution_address"]), parent_pseudonyms=parents,
            municipality_code=row["municipality_code"],
            date_of_death=dt.date.fromisoformat(row["date_of_death"]) if row["date_of_death"] else None,
            observed_at=dt.datetime.fromisoformat(row["observed_at"]))

    def put_household_facts(self, facts: HouseholdFacts) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO household_facts VALUES (?,?,?,?,?,?)",
            (facts.youth_pseudonym, facts.address_pseudonym, int(facts.institution_address), facts.municipality_code,
             _iso(facts.date_of_death) if facts.date_of_death else None, _iso(facts.observed_at)))
        self._db.execute("DELETE FROM household_parents WHERE youth_pseudonym = ?", (facts.youth_pseudonym,))
        self._db.executemany("INSERT INTO household_parents VALUES (?,?)",
                             [(facts.youth_pseudonym, p) for p in sorted(facts.parent_pseudonyms)])

    def household_candidates(self, facts: HouseholdFacts) -> list[HouseholdFacts]:
        """Youths at the same address or with a parent in common (the domain decides which count)."""
        rows = self._db.execute(
            "SELECT youth_pseudonym FROM household_facts WHERE address_pseudonym = ? AND youth_pseudonym != ?"
            " UNION SELECT youth_pseudonym FROM household_parents WHERE youth_pseudonym != ? AND parent_pseudonym IN"
            " (SELECT parent_pseudonym FROM household_parents WHERE youth_pseudonym = ?)",
            (facts.address_pseudonym, facts.youth_pseudonym, facts.youth_pseudonym, facts.youth_pseudonym)).fetchall()
        found = [self.household_facts(r[0]) for r in rows]
        return [f for f in found if f is not None]

    # -- matches, outbox, logbook --------------------------------------------------------

    def record_match(self, match_id: str, youth_pseudonym: str, registrant_set: str, at: dt.datetime) -> bool:
        """False when this registrant set was already notified for this youth."""
        cursor = self._db.execute("INSERT OR IGNORE INTO matches VALUES (?,?,?,?)",
                                  (match_id, youth_pseudonym, registrant_set, _iso(at)))
        return cursor.rowcount == 1

    def add_outbox(self, event_id: str, topic: str, key: str, value: bytes, headers: Sequence[tuple[str, bytes]],
                   at: dt.datetime) -> None:
        encoded = json.dumps([[k, v.decode()] for k, v in headers])
        self._db.execute("INSERT INTO outbox (event_id, topic, key, value, headers, created_at) VALUES (?,?,?,?,?,?)",
                         (event_id, topic, key, value, encoded, _iso(at)))

    def unsent(self, limit: int = 100) -> list[OutboxRow]:
        rows = self._db.execute(f"SELECT * FROM outbox WHERE {UNSENT} ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [OutboxRow(r["seq"], r["event_id"], r["topic"], r["key"], r["value"],
                          [(k, v.encode()) for k, v in json.loads(r["headers"])]) for r in rows]

    def mark_sent(self, seqs: Sequence[int]) -> None:
        at = _iso(dt.datetime.now(dt.UTC))
        # Without an fsync of its own: lost in a power cut, the rows are sent again under the same event ids.
        with sqlite_bookkeeping(self._db):
            self._db.executemany("UPDATE outbox SET sent_at = ? WHERE seq = ?", [(at, seq) for seq in seqs])

    def unsent_count(self) -> int:
        return int(self._db.execute(f"SELECT COUNT(*) FROM outbox WHERE {UNSENT}").fetchone()[0])

    def _outbox_db(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return contextlib.nullcontext(self._db)  # one connection, on the event loop

    def requeue_sent(self) -> int:
        return int(self._db.execute("UPDATE outbox SET sent_at = NULL WHERE sent_at IS NOT NULL").rowcount)

    def log(self, at: dt.datetime, action: str, actor: str, *, signal_id: str | None = None,
            youth_pseudonym: str | None = None, registrant_id: str | None = None, detail: str = "") -> None:
        self._db.execute("INSERT INTO logbook (at, action, actor, signal_id, youth_pseudonym, registrant_id, detail)"
                         " VALUES (?,?,?,?,?,?,?)", (_iso(at), action, actor, signal_id, youth_pseudonym, registrant_id, detail))

    def logbook(self, signal_id: str | None = None, *, youth_pseudonym: str | None = None,
                registrant_id: str | None = None, limit: int | None = None,
                after_seq: int | None = None) -> list[LogEntry]:
        """Entries oldest first; with `limit`, the newest `limit` of them; with `after_seq`, the oldest `limit` after
        that sequence number (a page: the sequence only grows, so paging never skips or repeats an entry)."""
        where: list[str] = []
        args: list[object] = []
        if after_seq is not None:
            where.append("seq > ?")
            args.append(after_seq)
        for column, value in (("signal_id", signal_id), ("youth_pseudonym", youth_pseudonym),
                              ("registrant_id", registrant_id)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        order = "ASC" if after_seq is not None else "DESC"
        sql = "SELECT * FROM logbook" + (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY seq {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self._db.execute(sql, args).fetchall()
        if after_seq is None:
            rows = rows[::-1]
        return [LogEntry(dt.datetime.fromisoformat(r["at"]), r["action"], r["actor"], r["signal_id"], r["youth_pseudonym"],
                         r["registrant_id"], r["detail"], r["seq"]) for r in rows]
