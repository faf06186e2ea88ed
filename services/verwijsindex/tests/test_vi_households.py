"""Household facts from the BRP: family match, institution addresses, the regievoerder,
relocation, death, and the adapter that opens the simulator's sealed facts."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest
from simulators import brp
from verwijsindex.adapters import proto
from verwijsindex.adapters.brp import InvalidFacts, facts_from_proto
from verwijsindex.domain.model import Contact, HouseholdFacts, Registration, Sector
from verwijsindex.domain.rules import RuleViolation
from verwijsindex.handlers import Verwijsindex
from verwijsindex.store import Store
from vt.verwijsindex.v1 import events_pb2
from vtkit.crypto import seal
from vtkit.envelope import decode
from vtkit.keystore import KeyStore

A, B, C = "111222333", "123456782", "100000009"  # youths
MOTHER, FATHER = "999998778", "999999990"
T0 = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


@pytest.fixture()
def app(tmp_path: pathlib.Path, keys: KeyStore) -> Verwijsindex:
    cipher = keys.field_cipher("verwijsindex")
    return Verwijsindex(Store(tmp_path / "vi.sqlite3", cipher), keys.pseudonymizer(), cipher, clock=lambda: T0)


def reg(bsn: str, name: str) -> Registration:
    return Registration(bsn, dt.date(2012, 4, 1), None, Contact(name, "Org", "0612345678", "", Sector.EDUCATION))


def facts(keys: KeyStore, bsn: str, address: str = "3511 AB 12", municipality: str = "GM0344",
          parents: tuple[str, ...] = (), institution: bool = False, died: dt.date | None = None,
          minute: int = 0) -> HouseholdFacts:
    message = brp.build_facts(keys, bsn, address, municipality, parents=parents, institution=institution,
                              date_of_death=died, observed_at=T0 + dt.timedelta(minutes=minute))
    return facts_from_proto(message, keys.seal_opener("verwijsindex"), keys.pseudonymizer())


def published(app: Verwijsindex, name: str) -> list[tuple[str, object]]:
    found = [decode(row.value, row.headers) for row in app.store.unsent()]
    return [(e.envelope.id, e.message) for e in found if e.message.DESCRIPTOR.name == name]  # type: ignore[attr-defined]


def family(app: Verwijsindex) -> list[events_pb2.SignalMatch]:
    return [m for _, m in published(app, "SignalMatch") if m.kind == events_pb2.MATCH_KIND_FAMILY]  # type: ignore[attr-defined]


def test_adapter_opens_sealed_facts_into_pseudonyms_only(keys: KeyStore) -> None:
    opened = facts(keys, A, address="3511ab 12", parents=(MOTHER,))
    p = keys.pseudonymizer()
    assert opened.youth_pseudonym == p.pseudonym(b"bsn:" + A.encode())
    assert opened.address_pseudonym == p.pseudonym(b"addr:3511AB12")
    assert opened.parent_pseudonyms == {p.pseudonym(b"bsn:" + MOTHER.encode())}
    assert opened.municipality_code == "GM0344" and opened.date_of_death is None


def test_adapter_refuses_facts_it_cannot_use(keys: KeyStore) -> None:
    opener, p = keys.seal_opener("verwijsindex"), keys.pseudonymizer()
    to_radar = brp.build_facts(keys, A, "3511 AB 12", "GM0344")
    sealed = seal(b"bsn:" + A.encode(), "radar", keys.seal_public("radar"))
    to_radar.youth.recipient, to_radar.youth.ephemeral_public_key = sealed.recipient, sealed.ephemeral_public_key
    to_radar.youth.nonce, to_radar.youth.ciphertext = sealed.nonce, sealed.ciphertext
    no_municipality = brp.build_facts(keys, A, "3511 AB 12", "")
    no_time = brp.build_facts(keys, A, "3511 AB 12", "GM0344")
    no_time.ClearField("observed_at")
    for bad in (to_radar, no_municipality, no_time):
        with pytest.raises(InvalidFacts):
            facts_from_proto(bad, opener, p)


def test_shared_parent_makes_a_family_match_for_different_youths(app: Verwijsindex, keys: KeyStore) -> None:
    app.apply_household_facts(facts(keys, A, address="3511 AB 12", parents=(MOTHER, FATHER)))
    app.apply_household_facts(facts(keys, B, address="9711 CD 3", parents=(MOTHER,)))
    app.register("school", reg(A, "Anna"))
    app.register("gp", reg(B, "Bert"))
    (match,) = family(app)
    assert match.different_youths and sorted(r.registrant_id for r in match.registrants) == ["gp", "school"]
    assert match.municipality_code == "GM0344" and match.regievoerder_id == "regievoerder:GM0344"
    app.register("gp", reg(B, "Bert"))  # the same again: no second notice
    app.apply_household_facts(facts(keys, A, address="3511 AB 12", parents=(MOTHER, FATHER), minute=1))
    assert len(family(app)) == 1
    notices = [e for e in app.store.logbook() if e.action == "match_notice"]
    assert {e.registrant_id for e in notices} == {"school", "gp", "regievoerder:GM0344"}


def test_facts_arriving_after_the_signals_complete_the_family_match(app: Verwijsindex, keys: KeyStore) -> None:
    app.register("school", reg(A, "Anna"))
    app.register("gp", reg(B, "Bert"))
    assert family(app) == []
    app.apply_household_facts(facts(keys, A, address="3511 AB 12"))
    result = app.apply_household_facts(facts(keys, B, address="3511ab12"))
    assert result.family_match and len(family(app)) == 1


def test_an_institution_address_makes_no_family_match(app: Verwijsindex, keys: KeyStore) -> None:
    app.apply_household_facts(facts(keys, A, address="1000 AA 1", institution=True))
    app.apply_household_facts(facts(keys, B, address="1000 AA 1", institution=True))
    app.register("school", reg(A, "Anna"))
    app.register("gp", reg(B, "Bert"))
    assert family(app) == []


def test_a_move_notifies_the_registrants_and_the_new_regievoerder(app: Verwijsindex, keys: KeyStore) -> None:
    app.apply_household_facts(facts(keys, A, municipality="GM0344"))
    app.register("school", reg(A, "Anna"))
    app.register("gp", reg(A, "Bert"))
    result = app.apply_household_facts(facts(keys, A, address="1011 AB 1", municipality="GM0363", minute=1))
    assert result.relocated
    ((event_id, notice),) = published(app, "YouthRelocated")
    assert (notice.from_municipality_code, notice.to_municipality_code) == ("GM0344", "GM0363")  # type: ignore[attr-defined]
    assert notice.regievoerder_id == "regievoerder:GM0363"  # type: ignore[attr-defined]
    names = {r.registrant_id: proto.open_contact(r.contact, r.registrant_id, event_id, keys.field_cipher("verwijsindex")).name
             for r in notice.registrants}  # type: ignore[attr-defined]
    assert names == {"school": "Anna", "gp": "Bert"}
    # An older record arriving late changes nothing and does not move the youth back.
    assert app.apply_household_facts(facts(keys, A, municipality="GM0344")).stale
    assert len(published(app, "YouthRelocated")) == 1


def test_death_ends_the_signals_without_archiving_and_refuses_new_ones(app: Verwijsindex, keys: KeyStore) -> None:
    first = app.register("school", reg(A, "Anna")).signal
    app.register("gp", reg(A, "Bert"))
    other = app.register("school", reg(C, "Anna")).signal
    result = app.apply_household_facts(facts(keys, A, died=dt.date(2026, 11, 20)))
    assert result.ended == 2
    assert app.store.get_signal(first.signal_id) is None  # gone, not in the archive
    assert [s.signal_id for s in app.list_mine("school")] == [other.signal_id]
    assert [e.action for e in app.store.logbook(first.signal_id)] == ["registered", "ended"]
    with pytest.raises(RuleViolation):
        app.register("police", reg(A, "Cor"))


def test_logbook_query_is_recorded_and_filters(app: Verwijsindex, keys: KeyStore) -> None:
    signal = app.register("school", reg(A, "Anna")).signal
    app.register("school", reg(B, "Anna"))
    entries = app.logbook("national:inspector", signal_id=signal.signal_id)
    assert [e.action for e in entries] == ["registered"] and entries[0].detail == "sector=education"
    last = app.store.logbook()[-1]
    assert (last.action, last.actor, last.signal_id) == ("logbook_query", "national:inspector", signal.signal_id)
    assert len(app.logbook("national:inspector", limit=2)) == 2
