"""Durable storage of contacts and their outbox (SQLite, WAL, synchronous=FULL).

A contact, its idempotency key and its outbox rows are written in ONE transaction, so an
acknowledged contact is never without its events and a crash never leaves half a contact.
One writing connection guarded by a lock: SQLite serialises writers anyway, and every COMMIT (its fsync) runs in a
worker thread (asyncio.to_thread), never on the event loop. A second connection serves the reads a request makes
before its save, on the loop (WAL: a reader never waits for the writer).

Group commit: the contacts of concurrent requests (`save_in_group`) are committed together, one BEGIN IMMEDIATE ...
COMMIT (one WAL fsync) per batch of waiting saves, each save in its own savepoint so one that fails rolls back
only itself; the batch's statements run on the loop and its COMMIT in a worker thread (`_write_group`); each request
is answered once its batch's COMMIT returned (vtkit.groupcommit.Coalescer; docs/architecture.md, "Durability: every
fact on disk at its producer first").
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import pathlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from vtkit import tracing
from vtkit.audit import CommittedWith, write_committed
from vtkit.crypto import Ciphertext
from vtkit.envelope import Envelope
from vtkit.groupcommit import Coalescer, durable_sqlite, sqlite_bookkeeping, sqlite_savepoint, sqlite_transaction
from vtkit.keys import DossierKeyWrite, KeyDestroyed
from vtkit.outbox import OutboxRecord
from vtkit.outbox_store import QUARANTINE_SCHEMA, OutboxBookkeeping

from intake.domain.errors import ConflictError, ContactNotFound
from intake.domain.model import ContactKind

SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    contact_id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    kind INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    linked_contact_id TEXT NOT NULL DEFAULT '',
    same_day INTEGER NOT NULL DEFAULT 0,
    professional_to_be_informed INTEGER NOT NULL DEFAULT 0,
    -- set on an advies once it was converted into a melding (it can be converted once)
    converted_to TEXT NOT NULL DEFAULT '',
    -- the request as stored, encrypted under the dossier's key (a melding) or the tenant key (an advies)
    payload_key_id TEXT NOT NULL,
    payload_nonce BLOB NOT NULL,
    payload BLOB NOT NULL,
    -- the household dossier the contact belongs to ('' for an advies never converted); see services/intake/README.md, "Dossiers"
    dossier_id TEXT NOT NULL DEFAULT '',
    -- set when the dossier was destroyed: the payload is blanked, only ids and times remain
    destroyed_at TEXT,
    -- 0 between blanking the rows and destroying the key (a crash there is finished by the sweep)
    key_destroyed INTEGER NOT NULL DEFAULT 0,
    -- the person ids of a melding: a JSON list in the order of its directbetrokkenen, empty for an advies,
    -- the ids of its MeldingReceived PersonRefs, answered again on a retry and by GetContact. NULL: stored
    -- before they were kept (backfill_person_ids reads them from the MeldingReceived in the outbox)
    person_ids TEXT
);
-- The household index: a keyed hash (the region's own key) of each directbetrokkene -> the dossier of their
-- household, so a later melding about the household joins its dossier (docs/architecture.md, Case lifecycle).
-- Rows of a destroyed dossier are deleted with it.
CREATE TABLE IF NOT EXISTS household_index (
    person_key TEXT PRIMARY KEY,
    dossier_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    idempotency_key TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts(contact_id)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    record_key TEXT NOT NULL,
    value BLOB NOT NULL,
    -- the envelope is fixed at insert time: a re-publish after a crash reuses the same ce_id
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    event_source TEXT NOT NULL,
    event_time TEXT NOT NULL,
    event_tenant TEXT NOT NULL,
    sent_at TEXT,
    -- the W3C trace context the row was written in ('' when tracing was off): the relay sends the record in that
    -- trace (vtkit.tracing); ids only
    trace_context TEXT NOT NULL DEFAULT ''
);
-- The household dossiers' data keys, wrapped under the master key as a key file holds them, each committed with the
-- contact that first uses it; published to the key store the other services read before any event under it is
-- sent (intake.dossier_keys; services/intake/README.md, "Dossiers, destruction and retention").
CREATE TABLE IF NOT EXISTS dossier_keys (
    dossier_id TEXT PRIMARY KEY,
    -- NULL once destroyed (crypto-shredding, Wmo 5.3.5); secure_delete zeroes the bytes it held in the file
    record TEXT,
    -- UTC, fixed width (utc_text): the 20-year retention runs from the dossier's last change (Wmo 5.3.4)
    last_change TEXT NOT NULL,
    destroyed_at TEXT,
    published INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS dossier_keys_unpublished ON dossier_keys(dossier_id) WHERE published = 0;
CREATE INDEX IF NOT EXISTS dossier_keys_live ON dossier_keys(last_change) WHERE record IS NOT NULL;
-- One-time steps done on this file (the import of dossier keys kept as files before they were kept here).
CREATE TABLE IF NOT EXISTS steps_done (step TEXT PRIMARY KEY);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(seq) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_record_key ON outbox(record_key);
"""
# Rows the relay still has to send (a quarantined row is never sent: vtkit.outbox).
UNSENT = "sent_at IS NULL AND seq NOT IN (SELECT seq FROM outbox_quarantine)"
# Columns added after the first release: added to an existing file on open.
MIGRATIONS = {"dossier_id": "ALTER TABLE contacts ADD COLUMN dossier_id TEXT NOT NULL DEFAULT ''",
              "destroyed_at": "ALTER TABLE contacts ADD COLUMN destroyed_at TEXT",
              "key_destroyed": "ALTER TABLE contacts ADD COLUMN key_destroyed INTEGER NOT NULL DEFAULT 0",
              "person_ids": "ALTER TABLE contacts ADD COLUMN person_ids TEXT"}
OUTBOX_MIGRATIONS = {"trace_context": "ALTER TABLE outbox ADD COLUMN trace_context TEXT NOT NULL DEFAULT ''"}
# Created after the migrations (they may name new columns).
INDEXES = """
CREATE INDEX IF NOT EXISTS contacts_dossier ON contacts(dossier_id) WHERE dossier_id != '';
CREATE INDEX IF NOT EXISTS contacts_without_person_ids ON contacts(contact_id) WHERE person_ids IS NULL;
"""
ADVIES_KINDS = (int(ContactKind.ADVIES), int(ContactKind.VERVOLGADVIES))


def utc_text(moment: dt.datetime) -> str:
    """A moment as fixed-width UTC text: such texts sort as the moments do (SQL comparisons and indexes)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware moment")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ContactRecord:
    contact_id: str
    reference: str
    kind: ContactKind
    received_at: dt.datetime
    payload: Ciphertext
    linked_contact_id: str = ""
    same_day: bool = False
    professional_to_be_informed: bool = False
    converted_to: str = ""
    dossier_id: str = ""
    destroyed: bool = False
    # A melding's person ids, one per directbetrokkene in request order (vt.common.v1.PersonRef.person_id).
    person_ids: tuple[str, ...] = ()
    # Not a column: the household index entries (keyed hashes of its persons) `save` writes for a melding's dossier.
    household_keys: tuple[str, ...] = field(default=(), compare=False)
    # Not a column: the dossier's key (new, or a later change) `save` commits with the contact.
    dossier_key: DossierKeyWrite | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class OutboxEntry:
    topic: str
    key: str
    value: bytes
    envelope: Envelope
    trace_context: str = ""  # as stored (vtkit.tracing.carrier); set by the store, not by the handlers


@dataclass(frozen=True)
class _Save:
    """One request's new contact as `save` takes it, with the trace context of that request (read where the request
    runs: the group's writer thread runs in none)."""
    contact: ContactRecord
    outbox: Sequence[OutboxEntry]
    idempotency_key: str
    method: str
    converts_advies: str
    trace_context: str
    access: CommittedWith | None = None  # the request's access record, written right after the commit


Saved = tuple[str, ContactRecord]


@dataclass(frozen=True)
class PendingEvent:
    seq: int
    entry: OutboxEntry

    def record(self) -> OutboxRecord:
        """The Kafka record exactly as committed (value and envelope fixed at insert time)."""
        e = self.entry
        return OutboxRecord(e.topic, e.key.encode(), e.value, e.envelope.headers() + tracing.carrier_headers(e.trace_context),
                            e.envelope.id, e.envelope.tenant)


class ContactStore(OutboxBookkeeping):
    def __init__(self, path: str | pathlib.Path, on_group_committed: Callable[[int], None] = lambda size: None):
        self.path = pathlib.Path(path)
        # Called in the writer thread after each group's COMMIT with the number of saves it held (tests count
        # commits with it); the group's requests are answered after it returns.
        self._on_group_committed = on_group_committed
        self._group: Coalescer[_Save, Saved] = Coalescer(self._write_group)
        # Called (in the relay's thread) after `unsent` read rows to send and before they are sent: publishes the
        # dossier keys committed with them (intake.dossier_keys.DatabaseDossierKeys.publish).
        self.before_sending: Callable[[], object] = lambda: None
        self._db = durable_sqlite(self.path, threads=True)
        self._lock = threading.Lock()
        with self._lock:
            # A destroyed dossier key (and a blanked payload) is overwritten with zeros in the file, not only freed.
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.executescript(SCHEMA)
            self._db.executescript(QUARANTINE_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(contacts)")}
            for column, ddl in MIGRATIONS.items():
                if column not in columns:
                    self._db.execute(ddl)
            outbox_columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
            for column, ddl in OUTBOX_MIGRATIONS.items():
                if column not in outbox_columns:
                    self._db.execute(ddl)
            self._db.executescript(INDEXES)
        # The reads a request makes before its save (its idempotency key, the household's dossier and its key) go
        # through a connection of their own: in WAL mode a reader never waits for a writer, so they need not wait for
        # a commit's fsync (which holds `_lock`), and the handler makes them on the event loop without a worker-thread
        # hop. A read sees what was committed; two requests with one key in one group are settled by the save
        # (`_save_alone`).
        self._reader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._read_lock = threading.Lock()

    def close(self) -> None:
        with self._read_lock:
            self._reader.close()
        with self._lock:
            self._db.close()

    @property
    def waiting_saves(self) -> int:
        """Saves of `save_in_group` queued behind the group being committed (they go in the next one)."""
        return self._group.waiting

    # -- contacts ---------------------------------------------------------------------------

    def find_by_idempotency_key(self, key: str) -> tuple[str, ContactRecord] | None:
        """(method, contact) of a request already handled under `key`, else None."""
        with self._read_lock:
            return self._find_by_key(self._reader, key)

    def _find_by_key(self, db: sqlite3.Connection, key: str) -> tuple[str, ContactRecord] | None:
        row = db.execute("SELECT method, contact_id FROM idempotency WHERE idempotency_key = ?", (key,)).fetchone()
        if row is None:
            return None
        contact = self._get(db, row[1])
        assert contact is not None, "idempotency row without its contact (foreign key)"
        return row[0], contact

    def get(self, contact_id: str) -> ContactRecord | None:
        with self._read_lock:
            return self._get(self._reader, contact_id)

    @staticmethod
    def _get(db: sqlite3.Connection, contact_id: str) -> ContactRecord | None:
        row = db.execute(
            "SELECT contact_id, reference, kind, received_at, linked_contact_id, same_day, professional_to_be_informed,"
            " converted_to, payload_key_id, payload_nonce, payload, dossier_id, destroyed_at, person_ids FROM contacts"
            " WHERE contact_id = ?",
            (contact_id,)).fetchone()
        if row is None:
            return None
        return ContactRecord(contact_id=row[0], reference=row[1], kind=ContactKind(row[2]),
                             received_at=dt.datetime.fromisoformat(row[3]), linked_contact_id=row[4],
                             same_day=bool(row[5]), professional_to_be_informed=bool(row[6]), converted_to=row[7],
                             payload=Ciphertext(row[8], row[9], row[10]), dossier_id=row[11],
                             destroyed=row[12] is not None, person_ids=tuple(json.loads(row[13] or "[]")))

    def save(self, contact: ContactRecord, outbox: Sequence[OutboxEntry], idempotency_key: str, method: str,
             converts_advies: str = "") -> Saved:
        """Store a new contact with its events, atomically, now (blocking; a group of one). If `idempotency_key`
        was used meanwhile (a concurrent retry), nothing is written and the first (method, contact) is returned."""
        [outcome] = self._save_group([_Save(contact, outbox, idempotency_key, method, converts_advies,
                                            tracing.carrier())])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def save_in_group(self, contact: ContactRecord, outbox: Sequence[OutboxEntry], idempotency_key: str,
                            method: str, converts_advies: str = "", access: CommittedWith | None = None) -> Saved:
        """`save`, committed together with the saves of other requests waiting at the same time: one COMMIT (one
        fsync) for all of them, in a worker thread. Returns once that COMMIT returned: the contact is durable, and so
        is `access` (the access record of this contact's creation, made here in the request's context) unless the key
        named an earlier contact (`access.written` stays False: the caller records that answer)."""
        if access is not None:
            access.prepare({"contact_id": contact.contact_id})
        return await self._group.submit(_Save(contact, outbox, idempotency_key, method, converts_advies,
                                              tracing.carrier(), access))

    async def _write_group(self, saves: Sequence[_Save]) -> list[Saved | BaseException]:
        """The group's statements on the event loop, its COMMIT (the fsync) and access records in a worker thread.

        Why not all of it in the thread: its dozens of statements each let go of the GIL and take it back, and with
        requests arriving on the loop meanwhile many of them cost a thread switch: a fifth of intake's switches per
        melding at the closed loop's share of one intake (docs/measurements.md, "Intake's group commit: statements on
        the loop"). Nothing is visible to another connection or acknowledged before the COMMIT returned. When another
        thread holds the writer (the relay marking rows sent, a destruction), the loop does not wait for it: the whole
        group is written in a worker thread, as before."""
        if not self._lock.acquire(blocking=False):
            return await asyncio.to_thread(self._save_group, saves)
        try:
            self._db.execute("BEGIN IMMEDIATE")
            outcomes = [self._save_alone(save) for save in saves]  # each save's own failure is its outcome
        except BaseException:
            try:
                self._roll_back()
            finally:
                self._lock.release()
            raise
        return await asyncio.to_thread(self._commit_group, saves, outcomes)

    def _roll_back(self) -> None:
        if self._db.in_transaction:  # a failed BEGIN or COMMIT may have left none open
            self._db.execute("ROLLBACK")

    def _commit_group(self, saves: Sequence[_Save], outcomes: list[Saved | BaseException]) -> list[Saved | BaseException]:
        """COMMIT the open transaction of `_write_group` and let go of the writer (taken on the loop), then the access
        records. In a worker thread."""
        try:
            try:
                self._db.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise
        finally:
            self._lock.release()
        return self._committed(saves, outcomes)

    def _save_group(self, saves: Sequence[_Save]) -> list[Saved | BaseException]:
        """One transaction for the group, a savepoint per save: a save that fails (an advies already converted, a
        broken constraint) is rolled back alone and answered with its error; the others are committed. Then the
        access records of the contacts created, in the same worker-thread batch (vtkit.audit.CommittedWith)."""
        with self._lock, sqlite_transaction(self._db):
            outcomes = [self._save_alone(save) for save in saves]
        return self._committed(saves, outcomes)

    def _committed(self, saves: Sequence[_Save], outcomes: list[Saved | BaseException]) -> list[Saved | BaseException]:
        self._on_group_committed(len(saves))
        write_committed([save.access for save, outcome in zip(saves, outcomes, strict=True)
                         if save.access is not None and not isinstance(outcome, BaseException)
                         and outcome[1].contact_id == save.contact.contact_id])
        return outcomes

    def _save_alone(self, save: _Save) -> Saved | BaseException:
        try:
            with sqlite_savepoint(self._db, "contact"):
                return self._insert_new(save)
        except Exception as exc:
            return exc

    def _insert_new(self, save: _Save) -> Saved:
        contact = save.contact
        # A retry with the key (also one earlier in this group) gets the first contact; nothing is written.
        earlier = self._find_by_key(self._db, save.idempotency_key)
        if earlier is not None:
            return earlier
        if save.converts_advies:
            self._mark_converted(save.converts_advies, contact.contact_id, contact.dossier_id or contact.contact_id)
        self._insert_contact(contact)
        if contact.dossier_key is not None:
            self._write_dossier_key(contact.dossier_key)
        if contact.dossier_id:  # the first dossier of a person stays theirs (a concurrent one keeps its own)
            self._db.executemany("INSERT OR IGNORE INTO household_index (person_key, dossier_id) VALUES (?, ?)",
                                 [(k, contact.dossier_id) for k in contact.household_keys])
        self._db.execute("INSERT INTO idempotency (idempotency_key, method, contact_id) VALUES (?, ?, ?)",
                         (save.idempotency_key, save.method, contact.contact_id))
        self._insert_outbox(save.outbox, save.trace_context)
        return save.method, contact

    def _mark_converted(self, advies_id: str, melding_id: str, dossier_id: str) -> None:
        row = self._db.execute("SELECT kind, converted_to FROM contacts WHERE contact_id = ?", (advies_id,)).fetchone()
        if row is None or not ContactKind(row[0]).is_advies:
            raise ContactNotFound("advies_id", f"no advies {advies_id!r} in this region")
        if row[1]:
            raise ConflictError("advies_id", f"this advies was already converted into melding {row[1]}")
        self._db.execute("UPDATE contacts SET converted_to = ? WHERE contact_id = ?", (melding_id, advies_id))
        # The advies and the advies it follows up / its vervolgadviezen join the melding's (household's) dossier: a
        # destruction request for the household blanks them too (their fields stay under the tenant key).
        self._db.execute(
            "WITH RECURSIVE chain(id) AS (SELECT ? UNION"
            " SELECT c.contact_id FROM contacts c JOIN chain ON c.linked_contact_id = chain.id"
            f"  WHERE c.kind IN {ADVIES_KINDS} UNION"
            " SELECT c.linked_contact_id FROM contacts c JOIN chain ON c.contact_id = chain.id"
            f"  WHERE c.kind IN {ADVIES_KINDS} AND c.linked_contact_id != '')"
            " UPDATE contacts SET dossier_id = ? WHERE contact_id IN (SELECT id FROM chain) AND dossier_id = ''",
            (advies_id, dossier_id))

    def _insert_contact(self, c: ContactRecord) -> None:
        self._db.execute(
            "INSERT INTO contacts (contact_id, reference, kind, received_at, linked_contact_id, same_day,"
            " professional_to_be_informed, converted_to, payload_key_id, payload_nonce, payload, dossier_id,"
            " person_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (c.contact_id, c.reference, int(c.kind), c.received_at.isoformat(), c.linked_contact_id, int(c.same_day),
             int(c.professional_to_be_informed), c.converted_to, c.payload.key_id, c.payload.nonce, c.payload.ciphertext,
             c.dossier_id, json.dumps(list(c.person_ids))))

    def backfill_person_ids(self, event_type: str, person_ids: Callable[[bytes], list[str]]) -> int:
        """Contacts stored before person ids were kept get them from their first event of `event_type`
        (MeldingReceived) still in the outbox; `person_ids(value)` reads them. A contact without one (an
        advies, or a melding whose event was blanked with its dossier) gets '[]'. How many were filled."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.contact_id, (SELECT o.value FROM outbox o WHERE o.record_key = c.contact_id"
                "  AND o.event_type = ? AND length(o.value) > 0 ORDER BY o.seq LIMIT 1)"
                " FROM contacts c WHERE c.person_ids IS NULL", (event_type,)).fetchall()
            if not rows:
                return 0
            filled = [(json.dumps(person_ids(value) if value else []), contact_id) for contact_id, value in rows]
            with sqlite_transaction(self._db):
                self._db.executemany("UPDATE contacts SET person_ids = ? WHERE contact_id = ?", filled)
            return sum(1 for ids, _ in filled if ids != "[]")

    # -- dossiers -----------------------------------------------------------------------------

    def household_dossier(self, person_keys: Sequence[str]) -> str | None:
        """The dossier of the household one of these persons belongs to (not destroyed), the oldest if several."""
        if not person_keys:
            return None
        marks = ",".join("?" * len(person_keys))
        with self._read_lock:
            row = self._reader.execute(
                f"SELECT h.dossier_id FROM household_index h JOIN contacts c ON c.contact_id = h.dossier_id"
                f" WHERE h.person_key IN ({marks}) AND c.destroyed_at IS NULL ORDER BY c.received_at LIMIT 1",
                tuple(person_keys)).fetchone()
        return row[0] if row else None

    def destroy_dossier(self, dossier_id: str, event: Callable[[list[str]], OutboxEntry],
                        now: dt.datetime) -> list[str] | None:
        """Blank every contact of the dossier and queue `event(contact_ids)` (DossierDestroyed), atomically.
        Unsent events of these contacts are dropped (they would only carry shredded ciphertexts) and the
        values of sent ones blanked. None when the dossier has no contacts here; the contact ids otherwise
        (also when it was destroyed before: the request is then only repeated, nothing is queued)."""
        with self._lock, sqlite_transaction(self._db):
            rows = self._db.execute("SELECT contact_id, destroyed_at FROM contacts WHERE dossier_id = ?"
                                    " ORDER BY received_at", (dossier_id,)).fetchall()
            ids = [r[0] for r in rows]
            if rows and any(r[1] is None for r in rows):
                marks = ",".join("?" * len(ids))
                self._db.execute("UPDATE contacts SET payload = x'', payload_nonce = x'', destroyed_at = ?"
                                 f" WHERE contact_id IN ({marks})", (now.isoformat(), *ids))
                self._db.execute(f"DELETE FROM outbox WHERE sent_at IS NULL AND record_key IN ({marks})", ids)
                self._db.execute(f"UPDATE outbox SET value = x'' WHERE record_key IN ({marks})", ids)
                self._insert_outbox([event(ids)])
            self._destroy_dossier_key(dossier_id, now)  # shredded with the blanking, in the same commit
            self._db.execute("DELETE FROM household_index WHERE dossier_id = ?", (dossier_id,))
        return ids or None

    # -- dossier keys (intake.dossier_keys) ----------------------------------------------------

    def _write_dossier_key(self, write: DossierKeyWrite) -> None:
        """A new key, or a later change of the dossier; KeyDestroyed (this save alone rolls back) when the dossier
        was destroyed meanwhile: nothing is stored under a shredded key."""
        if write.record is not None:
            inserted = self._db.execute("INSERT INTO dossier_keys (dossier_id, record, last_change) VALUES (?, ?, ?)"
                                        " ON CONFLICT(dossier_id) DO NOTHING",
                                        (write.dossier_id, write.record, utc_text(write.last_change))).rowcount
            if not inserted:
                row = self._db.execute("SELECT record FROM dossier_keys WHERE dossier_id = ?",
                                       (write.dossier_id,)).fetchone()
                if row[0] is not None and row[0] != write.record:  # never data under a key that is not the one kept
                    raise RuntimeError(f"dossier {write.dossier_id} got another key meanwhile")
        updated = self._db.execute("UPDATE dossier_keys SET last_change = max(last_change, ?)"
                                   " WHERE dossier_id = ? AND record IS NOT NULL",
                                   (utc_text(write.last_change), write.dossier_id)).rowcount
        if not updated:
            raise KeyDestroyed(write.dossier_id)

    def write_dossier_key(self, write: DossierKeyWrite) -> None:
        """`_write_dossier_key` in a transaction of its own (a key made outside a contact's save)."""
        with self._lock, sqlite_transaction(self._db):
            self._write_dossier_key(write)

    def dossier_key(self, dossier_id: str) -> tuple[str | None] | None:
        """(wrapped record, None once destroyed) of the dossier's key; None when this file has none."""
        with self._read_lock:
            row = self._reader.execute("SELECT record FROM dossier_keys WHERE dossier_id = ?", (dossier_id,)).fetchone()
        return None if row is None else (row[0],)

    def destroy_dossier_key(self, dossier_id: str, now: dt.datetime) -> bool:
        """Forget the dossier's key; False when there was no live one."""
        with self._lock, sqlite_transaction(self._db):
            return self._destroy_dossier_key(dossier_id, now)

    def _destroy_dossier_key(self, dossier_id: str, now: dt.datetime) -> bool:
        return bool(self._db.execute("UPDATE dossier_keys SET record = NULL, destroyed_at = ?"
                                     " WHERE dossier_id = ? AND record IS NOT NULL",
                                     (utc_text(now), dossier_id)).rowcount)

    def expired_dossier_keys(self, before: dt.datetime) -> list[str]:
        """Dossiers with a live key whose last change is before `before` (an index range, not a scan)."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT dossier_id FROM dossier_keys WHERE record IS NOT NULL"
                                                   " AND last_change < ? ORDER BY last_change", (utc_text(before),))]

    def live_dossier_keys(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT dossier_id FROM dossier_keys WHERE record IS NOT NULL")]

    def unpublished_dossier_keys(self, limit: int = 500) -> list[tuple[str, str]]:
        """(dossier id, wrapped record) of live keys not yet published to the shared key store."""
        with self._lock:
            return self._db.execute("SELECT dossier_id, record FROM dossier_keys WHERE published = 0"
                                    " AND record IS NOT NULL LIMIT ?", (limit,)).fetchall()

    def mark_dossier_keys_published(self, dossier_ids: Sequence[str]) -> None:
        # Lost in a power cut, the keys are only published again (the files are fsynced already): no fsync here.
        with self._lock, sqlite_bookkeeping(self._db):
            self._db.executemany("UPDATE dossier_keys SET published = 1 WHERE dossier_id = ?",
                                 [(d,) for d in dossier_ids])

    def import_dossier_keys(self, step: str, rows: Callable[[], Iterator[tuple[str, str, dt.datetime]]]) -> int:
        """Once per file (`step`): (dossier id, wrapped record, last change) of keys kept elsewhere before,
        as published ones. How many were imported (0 when the step was done before)."""
        with self._lock:
            if self._db.execute("SELECT 1 FROM steps_done WHERE step = ?", (step,)).fetchone():
                return 0
        imported = [(d, record, utc_text(when)) for d, record, when in rows()]
        with self._lock, sqlite_transaction(self._db):
            self._db.executemany("INSERT INTO dossier_keys (dossier_id, record, last_change, published)"
                                 " VALUES (?, ?, ?, 1) ON CONFLICT(dossier_id) DO NOTHING", imported)
            self._db.execute("INSERT INTO steps_done (step) VALUES (?)", (step,))
        return len(imported)

    def mark_key_destroyed(self, dossier_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE contacts SET key_destroyed = 1 WHERE dossier_id = ?", (dossier_id,))

    def dossiers_awaiting_key_destruction(self) -> list[str]:
        """Dossiers blanked here whose key destruction was not confirmed (a crash in between)."""
        with self._lock:
            return [r[0] for r in self._db.execute(
                "SELECT DISTINCT dossier_id FROM contacts WHERE destroyed_at IS NOT NULL AND key_destroyed = 0"
                " AND dossier_id != ''")]

    def queue(self, outbox: Sequence[OutboxEntry]) -> None:
        """Events that belong to no new contact (a break-glass read), durable before the caller answers."""
        with self._lock, sqlite_transaction(self._db):
            self._insert_outbox(outbox)

    def _insert_outbox(self, outbox: Sequence[OutboxEntry], trace_context: str | None = None) -> None:
        # The trace the rows are written in (the request's span, when tracing is on): the relay continues it.
        if trace_context is None:
            trace_context = tracing.carrier()
        self._db.executemany(
            "INSERT INTO outbox (topic, record_key, value, event_id, event_type, event_source, event_time,"
            " event_tenant, trace_context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(e.topic, e.key, e.value, e.envelope.id, e.envelope.type, e.envelope.source,
              e.envelope.time.isoformat(), e.envelope.tenant, trace_context) for e in outbox])

    # -- outbox -----------------------------------------------------------------------------

    def unsent(self, limit: int = 100) -> list[PendingEvent]:
        """Unsent outbox rows in insertion order (the order contacts were acknowledged). Before they are returned
        (to be sent), the dossier keys committed with them are published (`before_sending`)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, record_key, value, event_id, event_type, event_source, event_time, event_tenant,"
                f" trace_context FROM outbox WHERE {UNSENT} ORDER BY seq LIMIT ?", (limit,)).fetchall()
        if rows:
            self.before_sending()
        return [PendingEvent(r[0], OutboxEntry(r[1], r[2], r[3], Envelope(id=r[4], type=r[5], source=r[6],
                                                                          time=dt.datetime.fromisoformat(r[7]),
                                                                          tenant=r[8]), r[9]))
                for r in rows]

    def mark_sent(self, seqs: Sequence[int]) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        # One transaction for the batch, without an fsync of its own: lost in a power cut, the rows are sent again under
        # the same event ids, which every consumer dedupes (at-least-once).
        with self._lock, sqlite_bookkeeping(self._db):
            self._db.executemany("UPDATE outbox SET sent_at = ? WHERE seq = ?", [(now, s) for s in seqs])

    def mark_unsent(self, sent_since: dt.datetime) -> int:
        """Queue rows published at or after `sent_since` again (after a broker lost them); the relay
        re-publishes them with their original event ids, which consumers dedupe."""
        with self._lock:
            # A blanked row (its dossier was destroyed) is not published again.
            cursor = self._db.execute("UPDATE outbox SET sent_at = NULL WHERE sent_at >= ? AND length(value) > 0",
                                      (sent_since.isoformat(),))
            return int(cursor.rowcount)

    def unsent_count(self) -> int:
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM outbox WHERE {UNSENT}").fetchone()[0])

    @contextlib.contextmanager
    def _outbox_db(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def requeue_sent(self) -> int:
        return self.mark_unsent(dt.datetime.min.replace(tzinfo=dt.UTC))
