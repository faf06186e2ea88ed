"""One contract for every outbox store the relay (vtkit.outbox.OutboxRelay) serves: intake's contact store, the
verwijsindex's store, the notifier's store and vtkit's own SqliteOutbox (radar's decisions, the RvdK feed). The
abstract suite states what the relay relies on; each subclass only says how its store is opened and how a service
puts rows in it (the pattern of eventsourcing's tests/persistence.py and libs/vtkit/tests/test_data_key_stores.py).
"""

from __future__ import annotations

import abc
import datetime as dt
import pathlib
import uuid
from typing import Any

import pytest
from intake.store import ContactStore, OutboxEntry
from notifier.domain import Delivery, DeliveryKind
from notifier.store import Store as NotifierStore
from verwijsindex.store import Store as VerwijsindexStore
from vtkit.envelope import Envelope
from vtkit.keystore import KeyStore
from vtkit.outbox import OutboxRecord
from vtkit.outbox_store import SqliteOutbox

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class OutboxStoreContract(abc.ABC):
    """What every store must do for the relay. Subclasses: `open` and `add` (returns the new rows' event ids)."""

    @abc.abstractmethod
    def open(self, path: pathlib.Path, keys: KeyStore) -> Any: ...

    @abc.abstractmethod
    def add(self, store: Any, count: int) -> list[str]: ...

    @abc.abstractmethod
    def event_id(self, row: Any) -> str: ...

    @pytest.fixture()
    def store(self, tmp_path: pathlib.Path, keys: KeyStore) -> Any:
        store = self.open(tmp_path / "outbox.sqlite3", keys)
        yield store
        store.close()

    def ids(self, rows: Any) -> list[str]:
        return [self.event_id(row) for row in rows]

    def test_rows_are_unsent_in_the_order_they_were_added(self, store: Any) -> None:
        added = self.add(store, 5)
        assert self.ids(store.unsent(100)) == added and store.unsent_count() == 5
        assert self.ids(store.unsent(2)) == added[:2]  # a batch at a time

    def test_marked_rows_are_sent(self, store: Any) -> None:
        added = self.add(store, 3)
        store.mark_sent([row.seq for row in store.unsent(2)])
        assert self.ids(store.unsent(100)) == added[2:] and store.unsent_count() == 1

    def test_a_quarantined_row_is_never_sent_and_the_rows_behind_it_go_on(self, store: Any) -> None:
        added = self.add(store, 3)
        poison = store.unsent(100)[1]
        store.quarantine(poison, None, "too large")
        assert self.ids(store.unsent(100)) == [added[0], added[2]]
        assert store.quarantined_count() == 1 and store.unsent_count() == 2

    def test_requeue_after_a_broker_loss_makes_sent_rows_unsent_again_but_not_the_quarantined(self, store: Any) -> None:
        added = self.add(store, 3)
        rows = store.unsent(100)
        store.quarantine(rows[2], None, "too large")
        store.mark_sent([rows[0].seq, rows[1].seq])
        assert store.unsent_count() == 0
        assert store.requeue_sent() == 2
        assert self.ids(store.unsent(100)) == added[:2]

    def test_the_broker_cluster_is_remembered_with_when_it_was_noted(self, store: Any) -> None:
        assert store.broker_cluster() == "" and store.broker_cluster_noted_at() is None
        before = dt.datetime.now(dt.UTC)
        store.note_broker_cluster("cluster-a")
        noted = store.broker_cluster_noted_at()
        assert store.broker_cluster() == "cluster-a" and noted is not None and noted >= before

    def test_rows_survive_reopening(self, tmp_path: pathlib.Path, keys: KeyStore) -> None:
        store = self.open(tmp_path / "durable.sqlite3", keys)
        added = self.add(store, 2)
        store.note_broker_cluster("cluster-a")
        store.close()
        again = self.open(tmp_path / "durable.sqlite3", keys)
        try:
            assert self.ids(again.unsent(100)) == added and again.broker_cluster() == "cluster-a"
        finally:
            again.close()


class TestIntakeContactStore(OutboxStoreContract):
    def open(self, path: pathlib.Path, keys: KeyStore) -> Any:
        return ContactStore(path)

    def add(self, store: Any, count: int) -> list[str]:
        ids = [str(uuid.uuid4()) for _ in range(count)]
        store.queue([OutboxEntry("vt.utrecht.intake.v1", f"case-{i}", b"value",
                                 Envelope(i, "vt.intake.v1.MeldingReceived", "intake-utrecht", NOW, "utrecht"))
                     for i in ids])
        return ids

    def event_id(self, row: Any) -> str:
        return str(row.entry.envelope.id)


class TestVerwijsindexStore(OutboxStoreContract):
    def open(self, path: pathlib.Path, keys: KeyStore) -> Any:
        return VerwijsindexStore(path, keys.field_cipher("verwijsindex"))

    def add(self, store: Any, count: int) -> list[str]:
        ids = [str(uuid.uuid4()) for _ in range(count)]
        with store.transaction():
            for i in ids:
                store.add_outbox(i, "vt.national.verwijsindex.v1", f"youth-{i}", b"value", [("ce_id", i.encode())], NOW)
        return ids

    def event_id(self, row: Any) -> str:
        return str(row.event_id)


class TestNotifierStore(OutboxStoreContract):
    def open(self, path: pathlib.Path, keys: KeyStore) -> Any:
        return NotifierStore(path)

    def add(self, store: Any, count: int) -> list[str]:
        before = {row.event_id for row in store.unsent(10_000)}
        for _ in range(count):  # scheduling a delivery writes its DeliveryRequested row
            store.add(Delivery(key=uuid.uuid4().hex, kind=DeliveryKind.MELDER_CALLBACK, tenant_id="utrecht",
                               case_id="c1", cause_event_id="e1", due_date=dt.date(2026, 3, 9), created_at=NOW,
                               deliver_after=NOW, body=b"\x00body"))
        return [row.event_id for row in store.unsent(10_000) if row.event_id not in before]

    def event_id(self, row: Any) -> str:
        return str(row.event_id)


class TestSqliteOutbox(OutboxStoreContract):
    def open(self, path: pathlib.Path, keys: KeyStore) -> Any:
        return SqliteOutbox(path)

    def add(self, store: Any, count: int) -> list[str]:
        ids = [str(uuid.uuid4()) for _ in range(count)]
        store.add([OutboxRecord("vt.national.assessments.v1", b"case", b"value", [("ce_id", i.encode())], i)
                   for i in ids])
        return ids

    def event_id(self, row: Any) -> str:
        return str(row.record.event_id)
