"""A destroyed dossier (Wmo 5.3.5 request or 20-year retention) leaves nothing of its case in radar."""

from __future__ import annotations

import datetime as dt

import pytest
from radar.adapters import proto
from radar.domain.history import apply_case_closed, apply_case_destroyed, apply_melding, involvement_of
from radar.domain.model import CaseClosedFact, CaseDestroyedFact, MeldingFact, PersonHistory
from radar.handlers import Radar
from simulators.rvdk import random_bsn
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.envelope import new_event_id
from vtkit.kafka import PermanentError
from vtkit.keystore import KeyStore
from vttest.radar import melding_received, published, radar_input

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def history_with_two_regions() -> PersonHistory:
    history = apply_melding(PersonHistory(), MeldingFact("utrecht", "case-u", "p1", T0), "e1", T0).history
    history = apply_melding(history, MeldingFact("twente", "case-t", "p9", T0), "e2", T0).history
    closed = CaseClosedFact("utrecht", "case-u", "p1", T0, T0 + dt.timedelta(days=300))
    return apply_case_closed(history, closed, "e3").history


def test_the_person_history_forgets_a_destroyed_case_and_keeps_the_others() -> None:
    history = history_with_two_regions()
    assert "case-u" in history.monitored and "case-u" in history.closed_case_ids
    after = apply_case_destroyed(history, CaseDestroyedFact("utrecht", "case-u"), "e4").history
    assert "utrecht" not in after.involvements  # no case left: no longer involved
    assert "case-u" not in after.monitored and "case-u" not in after.closed_case_ids
    assert "case-u" not in after.open_cases
    assert [v.tenant_id for v in involvement_of(after, "twente") or []] == ["twente"]
    assert after.involvements["twente"].cases == {"case-t": "p9"}
    # the same signal read again changes nothing
    assert apply_case_destroyed(after, CaseDestroyedFact("utrecht", "case-u"), "e4").duplicate


def test_a_later_melding_of_another_region_no_longer_matches_on_the_destroyed_case() -> None:
    history = apply_melding(PersonHistory(), MeldingFact("utrecht", "case-u", "p1", T0), "e1", T0).history
    history = apply_case_destroyed(history, CaseDestroyedFact("utrecht", "case-u"), "e2").history
    outcome = apply_melding(history, MeldingFact("twente", "case-t", "p9", T0), "e3", T0)
    assert outcome.matches == []


@pytest.fixture()
def radar(keys: KeyStore) -> Radar:
    return Radar(keys.seal_opener("radar"), keys.pseudonymizer(), encoding=proto)


def test_dossier_destroyed_sends_each_contact_to_its_own_partition(keys: KeyStore, radar: Radar) -> None:
    """The DossierDestroyed record is keyed by the dossier id; the dossier's other meldingen live in other partitions of
    radar's case table, where only a record keyed by their own id may write (a delete from here went to the wrong
    changelog partition, and the case came back when the table was rebuilt from its changelog)."""
    destroyed = intake_events.DossierDestroyed(tenant_id="utrecht", dossier_id="case-1",
                                               contact_ids=["case-1", "case-2-a-hermelding", "an-advies"])
    outputs = radar.on_dossier_destroyed(*radar_input(destroyed, "utrecht"))
    assert [(o.topic, o.key) for o in outputs] == [(topics.NATIONAL_ASSESSMENTS, c) for c in destroyed.contact_ids]
    assert all(isinstance(published(o), events_pb2.CaseDestroyed) and published(o).case_id == o.key
               and published(o).tenant_id == "utrecht" for o in outputs)
    assert [o.event_id for o in radar.on_dossier_destroyed(*radar_input(destroyed, "utrecht"))] != [
        o.event_id for o in outputs]  # another DossierDestroyed event: other ids (the same one read again: the same)
    with pytest.raises(PermanentError):
        radar.on_dossier_destroyed(*radar_input(destroyed, "twente"))  # envelope and event disagree


def test_case_destroyed_signals_every_person_of_the_case_and_drops_it(keys: KeyStore, radar: Radar) -> None:
    msg = melding_received(keys, "utrecht", [random_bsn(), random_bsn()], event_id=new_event_id(), received_at=T0)
    case = radar.on_intake(*radar_input(msg, "utrecht")).case
    assert case is not None
    destroyed = events_pb2.CaseDestroyed(tenant_id="utrecht", case_id=msg.contact_id)
    outputs, drop = radar.on_case_destroyed(*radar_input(destroyed, "utrecht", source="radar"), case)
    assert drop
    assert {o.key for o in outputs} == set(case.persons.values())
    assert all(o.topic == topics.NATIONAL_RADAR_PERSON and isinstance(published(o), events_pb2.PersonSignal)
               and published(o).case_destroyed.case_id == msg.contact_id for o in outputs)
    assert radar.on_case_destroyed(*radar_input(destroyed, "utrecht", source="radar"), None) == ([], False)  # an advies


def test_a_region_cannot_destroy_another_regions_case(keys: KeyStore, radar: Radar) -> None:
    msg = melding_received(keys, "utrecht", [random_bsn()], event_id=new_event_id(), received_at=T0)
    case = radar.on_intake(*radar_input(msg, "utrecht")).case
    destroyed = events_pb2.CaseDestroyed(tenant_id="twente", case_id=msg.contact_id)
    assert radar.on_case_destroyed(*radar_input(destroyed, "twente", source="radar"), case) == ([], False)
    with pytest.raises(PermanentError):  # only radar writes it
        radar.on_case_destroyed(*radar_input(destroyed, "twente", source="intake/twente"), case)
