"""Use cases against the real SQLite store and real keys, with a settable clock."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest
from verwijsindex.adapters import proto
from verwijsindex.domain.model import Contact, Registration, Sector, WithdrawReason
from verwijsindex.handlers import NotActive, NotFound, Verwijsindex
from verwijsindex.store import Store
from vt.verwijsindex.v1 import events_pb2
from vtkit.envelope import decode
from vtkit.keystore import KeyStore

BSN = "111222333"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def app(tmp_path: pathlib.Path, keys: KeyStore, clock: Clock) -> Verwijsindex:
    cipher = keys.field_cipher("verwijsindex")
    return Verwijsindex(Store(tmp_path / "vi.sqlite3", cipher), keys.pseudonymizer(), cipher, clock=clock)


def reg(bsn: str = BSN, name: str = "Anna", dob: dt.date = dt.date(2012, 4, 1)) -> Registration:
    return Registration(bsn, dob, None, Contact(name, "Org", "0612345678", "a@example.nl", Sector.YOUTH_CARE))


def events(app: Verwijsindex) -> list[object]:
    return [decode(row.value, row.headers) for row in app.store.unsent()]


def matches(app: Verwijsindex) -> list[events_pb2.SignalMatch]:
    return [e.message for e in events(app) if e.message.DESCRIPTOR.name == "SignalMatch"]  # type: ignore[attr-defined]


def test_register_stores_a_pseudonym_and_publishes_signal_registered(app: Verwijsindex, tmp_path: pathlib.Path) -> None:
    result = app.register("utrecht", reg())
    assert result.created
    (event,) = events(app)
    assert event.message.signal_id == result.signal.signal_id  # type: ignore[attr-defined]
    assert event.message.registrant_id == "utrecht"  # type: ignore[attr-defined]
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("vi.sqlite3*"))
    assert BSN.encode() not in raw and b"Anna" not in raw and b"0612345678" not in raw


def test_same_registrant_same_youth_is_one_signal(app: Verwijsindex) -> None:
    first = app.register("utrecht", reg())
    again = app.register("utrecht", reg(bsn="1112.22.333"))
    assert not again.created and again.signal.signal_id == first.signal.signal_id
    assert len(events(app)) == 1


def test_client_match_once_and_again_for_a_newcomer(app: Verwijsindex, keys: KeyStore) -> None:
    app.register("utrecht", reg(name="Anna"))
    app.register("drenthe", reg(name="Bert"))
    app.register("drenthe", reg(name="Bert"))  # duplicate: no second notice
    (event,) = [e for e in events(app) if e.message.DESCRIPTOR.name == "SignalMatch"]  # type: ignore[attr-defined]
    match, event_id = event.message, event.envelope.id  # type: ignore[attr-defined]
    assert match.kind == events_pb2.MATCH_KIND_CLIENT
    assert sorted(r.registrant_id for r in match.registrants) == ["drenthe", "utrecht"]
    names = {r.registrant_id: proto.open_contact(r.contact, r.registrant_id, event_id, keys.field_cipher("verwijsindex")).name
             for r in match.registrants}
    assert names == {"utrecht": "Anna", "drenthe": "Bert"}
    app.register("friesland", reg(name="Cor"))
    assert [len(m.registrants) for m in matches(app)] == [2, 3]
    log = [e.action for e in app.store.logbook()]
    assert log.count("registered") == 3 and log.count("match_notice") == 5


def test_withdraw_wrong_deletes_and_risk_gone_archives(app: Verwijsindex) -> None:
    wrong = app.register("utrecht", reg()).signal
    gone = app.register("utrecht", reg(bsn="123456782")).signal
    with pytest.raises(NotFound):
        app.withdraw("drenthe", wrong.signal_id, WithdrawReason.WRONG)
    with pytest.raises(NotFound):
        app.withdraw("utrecht", "no-such-id", WithdrawReason.WRONG)
    app.withdraw("utrecht", wrong.signal_id, WithdrawReason.WRONG)
    app.withdraw("utrecht", gone.signal_id, WithdrawReason.RISK_GONE)
    assert app.store.get_signal(wrong.signal_id) is None
    archived = app.store.get_signal(gone.signal_id)
    assert archived is not None and archived.archive_until == dt.date(2031, 11, 22)
    with pytest.raises(NotActive):
        app.withdraw("utrecht", gone.signal_id, WithdrawReason.RISK_GONE)
    assert app.list_mine("utrecht") == []
    assert [e.action for e in app.store.logbook(wrong.signal_id)] == ["registered", "withdrawn"]


def test_list_mine_shows_only_own_active_signals(app: Verwijsindex) -> None:
    mine = app.register("utrecht", reg()).signal
    app.register("drenthe", reg())
    assert [s.signal_id for s in app.list_mine("utrecht")] == [mine.signal_id]


def test_expiry_archives_then_purges_and_survives_restart(app: Verwijsindex, clock: Clock, tmp_path: pathlib.Path,
                                                           keys: KeyStore) -> None:
    by_date = app.register("utrecht", reg()).signal
    by_age = app.register("utrecht", reg(bsn="123456782", dob=dt.date(2004, 1, 10))).signal  # 23 on 2027-01-10
    assert app.expire_due() == 0
    clock.now = dt.datetime(2027, 1, 10, 8, 0, tzinfo=dt.UTC)
    # A new process sees the same deadlines: they live in SQLite, not in timers.
    cipher = keys.field_cipher("verwijsindex")
    restarted = Verwijsindex(Store(tmp_path / "vi.sqlite3", cipher), keys.pseudonymizer(), cipher, clock=clock)
    assert restarted.expire_due() == 1
    assert restarted.store.get_signal(by_age.signal_id).status.value == "archived"  # type: ignore[union-attr]
    clock.now = dt.datetime(2028, 11, 22, 8, 0, tzinfo=dt.UTC)
    assert restarted.expire_due() == 1
    assert restarted.store.get_signal(by_date.signal_id).status.value == "archived"  # type: ignore[union-attr]
    clock.now = dt.datetime(2032, 1, 10, 8, 0, tzinfo=dt.UTC)
    assert restarted.expire_due() == 1  # by_age archived on 2027-01-10, kept 5 years
    assert restarted.store.get_signal(by_age.signal_id) is None
    assert "expired" in [e.action for e in restarted.store.logbook(by_date.signal_id)]


def test_archived_signal_notifies_a_new_registrant_once(app: Verwijsindex) -> None:
    old = app.register("utrecht", reg()).signal
    app.withdraw("utrecht", old.signal_id, WithdrawReason.RISK_GONE)
    app.register("drenthe", reg())
    app.register("friesland", reg())
    kinds = [m.kind for m in matches(app)]
    # drenthe: the archived notice; friesland: a client match with drenthe, no second archived notice.
    assert kinds == [events_pb2.MATCH_KIND_ARCHIVED, events_pb2.MATCH_KIND_CLIENT]
    archived = matches(app)[0]
    assert sorted(r.registrant_id for r in archived.registrants) == ["drenthe", "utrecht"]


def test_a_database_of_before_forgets_the_risk_codes_it_kept(tmp_path: pathlib.Path, keys: KeyStore) -> None:
    """Signals stored before kept a risk code (and the logbook "risk_code=N"): opening the store drops both."""
    import sqlite3

    path = tmp_path / "old.sqlite3"
    cipher = keys.field_cipher("verwijsindex")
    app = Verwijsindex(Store(path, cipher), keys.pseudonymizer(), cipher)
    signal = app.register("utrecht", reg()).signal
    app.store.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("ALTER TABLE signals ADD COLUMN risk_code INTEGER NOT NULL DEFAULT 7")
    db.execute("UPDATE logbook SET detail = 'risk_code=7' WHERE action = 'registered'")
    db.close()
    store = Store(path, cipher)
    try:
        assert "risk_code" not in {r["name"] for r in store._db.execute("PRAGMA table_info(signals)")}
        assert [(e.action, e.detail) for e in store.logbook(signal.signal_id)] == [("registered", "")]
        assert store.get_signal(signal.signal_id) == signal
    finally:
        store.close()
    assert b"risk_code=7" not in b"".join(p.read_bytes() for p in tmp_path.glob("old.sqlite3*"))
