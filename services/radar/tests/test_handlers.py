"""radar's record handling without a broker: real keys, real envelopes."""

from __future__ import annotations

import datetime as dt

import pytest
from radar.adapters import proto
from radar.domain.model import PersonHistory
from radar.handlers import Radar
from simulators.rvdk import build_signal, random_bsn
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2
from vt.verwijsindex.v1 import events_pb2 as verwijsindex_events
from vtkit import topics
from vtkit.envelope import new_event_id
from vtkit.kafka import PermanentError
from vtkit.keystore import KeyStore
from vttest.radar import melding_received, published, radar_input


@pytest.fixture()
def radar(keys: KeyStore) -> Radar:
    return Radar(keys.seal_opener("radar"), keys.pseudonymizer(), encoding=proto)


def test_melding_gives_assessment_due_and_person_signals_keyed_by_pseudonym(keys: KeyStore, radar: Radar) -> None:
    bsn = random_bsn()
    event_id = new_event_id()
    received = dt.datetime(2025, 12, 22, 9, 0, tzinfo=dt.UTC)
    msg = melding_received(keys, "utrecht", [bsn, random_bsn()], event_id=event_id, received_at=received)
    result = radar.on_intake(*radar_input(msg, "utrecht", event_id))
    due, *signals = result.outputs
    assert (due.topic, due.key, due.tenant) == (topics.NATIONAL_ASSESSMENTS, msg.contact_id, "utrecht")
    assert isinstance(published(due), events_pb2.AssessmentDue)
    due_message = published(due)
    assert (due_message.due_date.year, due_message.due_date.month, due_message.due_date.day) == (2025, 12, 31)
    assert due_message.melder == msg.melder and due_message.melder_may_be_named
    pseudonym = keys.pseudonymizer().pseudonym(f"bsn:{bsn}".encode())
    assert signals[0].topic == topics.NATIONAL_RADAR_PERSON and signals[0].key == pseudonym
    assert published(signals[0]).melding.person_id == msg.persons[0].person_id
    assert signals[0].key != signals[1].key
    assert result.case is not None and result.case.persons[msg.persons[0].person_id] == pseudonym
    # a redelivery yields the very same event ids
    again = radar.on_intake(*radar_input(msg, "utrecht", event_id))
    assert [o.event_id for o in again.outputs] == [o.event_id for o in result.outputs]
    # Read again once the case has a history (a restart or a broker loss replays the melding): the same outputs, and
    # the case record is left as it is, so a melding that joined the episode stays covered by its decision.
    case = result.case
    case.episode_members.append("a-joined-melding")
    replayed = radar.on_intake(*radar_input(msg, "utrecht", event_id), case)
    assert [o.event_id for o in replayed.outputs] == [o.event_id for o in result.outputs] and replayed.case is None


def test_same_bsn_sealed_twice_gives_the_same_pseudonym(keys: KeyStore, radar: Radar) -> None:
    bsn = random_bsn()
    a = build_signal(keys, bsn, "CRIMINAL_CASE", "Breda")
    b = build_signal(keys, bsn, "CRIMINAL_CASE", "Breda")
    assert a.child.ciphertext != b.child.ciphertext
    [out_a], [out_b] = radar.on_rvdk(*radar_input(a)), radar.on_rvdk(*radar_input(b))
    assert out_a.key == out_b.key and published(out_a).rvdk.rvdk_office == "Breda"


def test_other_intake_events_are_ignored() -> None:
    assert radar_input(intake_events.AdviesRegistered(tenant_id="utrecht"), "utrecht")[0] is None


def test_unopenable_identity_is_a_permanent_error(keys: KeyStore, radar: Radar) -> None:
    event_id = new_event_id()
    msg = melding_received(keys, "utrecht", [random_bsn()], event_id=event_id)
    msg.persons[0].sealed_identity.ciphertext = b"tampered"
    with pytest.raises(PermanentError, match="cannot be opened"):
        radar.on_intake(*radar_input(msg, "utrecht", event_id))


def test_tenant_mismatch_between_envelope_and_event_is_refused(keys: KeyStore, radar: Radar) -> None:
    event_id = new_event_id()
    msg = melding_received(keys, "utrecht", [random_bsn()], event_id=event_id)
    with pytest.raises(PermanentError, match="differs"):
        radar.on_intake(*radar_input(msg, "zeeland", event_id))


def test_person_signal_outputs_carry_derived_ids_and_addressees(keys: KeyStore, radar: Radar) -> None:
    bsn = random_bsn()
    history = PersonHistory()
    outputs = []
    for tenant in ("utrecht", "zeeland"):
        event_id = new_event_id()
        msg = melding_received(keys, tenant, [bsn], event_id=event_id)
        signal = radar.on_intake(*radar_input(msg, tenant, event_id)).outputs[1]
        sig_event = radar_input(published(signal), tenant, signal.event_id)
        outputs, outcome = radar.on_person_signal(*sig_event, history)
        history = outcome.history
    matches = [o for o in outputs if isinstance(published(o), events_pb2.RegisterMatch)]
    assert {(o.topic, o.tenant) for o in matches} == {
        (topics.register("utrecht"), "utrecht"), (topics.register("zeeland"), "zeeland")}
    assert len({o.event_id for o in outputs}) == len(outputs)
    again, outcome = radar.on_person_signal(*sig_event, history)
    # Read again (a broker loss may have taken the outputs): the open cases' inputs and the same match copies go out
    # again under the same event ids, so a consumer that had them dedupes.
    assert outcome.duplicate and {o.event_id for o in again} <= {o.event_id for o in outputs}
    assert [(o.event_id, published(o)) for o in again if isinstance(published(o), events_pb2.RegisterMatch)] == [
        (o.event_id, published(o)) for o in matches]


def completed(tenant: str, case_id: str, decision: int = events_pb2.DECISION_VOORWAARDEN_EN_VERVOLG,
              decided_at: dt.datetime | None = None) -> events_pb2.AssessmentCompleted:
    msg = events_pb2.AssessmentCompleted(tenant_id=tenant, case_id=case_id, decision=decision)  # type: ignore[arg-type]
    msg.decided_at.FromDatetime(decided_at or dt.datetime(2026, 3, 5, 12, 0, tzinfo=dt.UTC))
    return msg


def test_decision_closes_the_case_for_each_person_and_starts_monitoring(keys: KeyStore, radar: Radar) -> None:
    event_id = new_event_id()
    msg = melding_received(keys, "utrecht", [random_bsn(), random_bsn()], event_id=event_id)
    record = radar.on_intake(*radar_input(msg, "utrecht", event_id)).case
    decision = radar_input(completed("utrecht", msg.contact_id), "utrecht")
    outputs, closed = radar.on_assessment(*decision, record)
    assert closed is not None and closed.closed and closed.monitor_until is not None
    assert [published(o).WhichOneof("signal") for o in outputs] == ["case_closed", "case_closed"]
    assert {o.key for o in outputs} == set(closed.persons.values())
    assert published(outputs[0]).case_closed.monitor_until.ToDatetime(dt.UTC) == closed.monitor_until
    # another decision event for the decided case changes nothing; another tenant's decision is refused
    assert radar.on_assessment(*radar_input(completed("utrecht", msg.contact_id), "utrecht"), closed) == ([], None)
    # the same decision event read again (a broker loss took what it derived): the same outputs, the case unchanged
    again, unchanged = radar.on_assessment(*decision, closed)
    assert unchanged is None and [(o.event_id, o.key) for o in again] == [(o.event_id, o.key) for o in outputs]
    with pytest.raises(PermanentError):
        radar.on_assessment(*radar_input(completed("zeeland", msg.contact_id), "zeeland"), record)


def test_decision_before_the_melding_closes_the_case_when_the_melding_arrives(keys: KeyStore, radar: Radar) -> None:
    event_id = new_event_id()
    msg = melding_received(keys, "utrecht", [random_bsn()], event_id=event_id)
    outputs, early = radar.on_assessment(*radar_input(completed("utrecht", msg.contact_id, events_pb2.DECISION_OVERDRACHT),
                                                  "utrecht"), None)
    assert outputs == [] and early is not None and not early.belongs_to("utrecht")  # no melding yet
    result = radar.on_intake(*radar_input(msg, "utrecht", event_id), early)
    kinds = [published(o).WhichOneof("signal") for o in result.outputs if o.topic == topics.NATIONAL_RADAR_PERSON]
    assert kinds == ["melding", "case_closed"]
    assert result.case is not None and result.case.closed and result.case.monitor_until is None


def test_overdue_scan_reports_each_undecided_case_once(keys: KeyStore, radar: Radar) -> None:
    event_id = new_event_id()
    received = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # due 9 March
    msg = melding_received(keys, "utrecht", [random_bsn()], event_id=event_id, received_at=received)
    record = radar.on_intake(*radar_input(msg, "utrecht", event_id)).case
    assert record is not None
    assert radar.overdue([record], dt.datetime(2026, 3, 9, 20, 0, tzinfo=dt.UTC)) == []
    [first] = radar.overdue([record], dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC))
    [again] = radar.overdue([record], dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC))
    assert first.event_id == again.event_id and first.key == msg.contact_id
    assert published(first).kind == events_pb2.DEADLINE_KIND_ASSESSMENT
    # radar's own report, read back from the topic, marks the case
    own = radar_input(published(first), "utrecht", first.event_id, source="radar")
    _, marked = radar.on_assessment(*own, record)
    assert marked is not None and marked.overdue_reported
    assert radar.overdue([marked], dt.datetime(2026, 3, 11, 9, 0, tzinfo=dt.UTC)) == []
    # a decided case is never overdue
    _, decided = radar.on_assessment(*radar_input(completed("utrecht", msg.contact_id), "utrecht"), record)
    assert decided is not None and radar.overdue([decided], dt.datetime(2026, 4, 1, tzinfo=dt.UTC)) == []


def signal_match(pseudonym: str, match_id: str = "match-1") -> verwijsindex_events.SignalMatch:
    msg = verwijsindex_events.SignalMatch(match_id=match_id, kind=verwijsindex_events.MATCH_KIND_CLIENT,
                                          youth_pseudonym=pseudonym, municipality_code="GM0344",
                                          registrants=[verwijsindex_events.RegistrantContact(registrant_id="r1")])
    msg.matched_at.FromDatetime(dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.UTC))
    return msg


def test_verwijsindex_match_alerts_the_monitoring_region(keys: KeyStore, radar: Radar) -> None:
    bsn = random_bsn()
    event_id = new_event_id()
    msg = melding_received(keys, "utrecht", [bsn], event_id=event_id)
    result = radar.on_intake(*radar_input(msg, "utrecht", event_id))
    person = result.outputs[1]
    history = radar.on_person_signal(*radar_input(published(person), "utrecht", person.event_id), PersonHistory())[1].history
    closing, _ = radar.on_assessment(*radar_input(completed("utrecht", msg.contact_id), "utrecht"), result.case)
    history = radar.on_person_signal(*radar_input(published(closing[0]), "utrecht", closing[0].event_id), history)[1].history

    # the verwijsindex keys its match by the same pseudonym radar uses for the person
    pseudonym = keys.pseudonymizer().pseudonym(b"bsn:" + bsn.encode())
    match_event = radar_input(signal_match(pseudonym))
    [signal] = radar.on_verwijsindex(*match_event, pseudonym.encode())
    assert (signal.topic, signal.key) == (topics.NATIONAL_RADAR_PERSON, pseudonym)
    info = published(signal).verwijsindex_match
    assert (info.match_id, info.kind) == ("match-1", verwijsindex_events.MATCH_KIND_CLIENT)
    assert b"r1" not in published(signal).SerializeToString()  # no registrant data
    assert [o.event_id for o in radar.on_verwijsindex(*match_event)] == [signal.event_id]  # deterministic

    outputs, outcome = radar.on_person_signal(*radar_input(published(signal), "", signal.event_id), history)
    [alert] = outputs
    assert (alert.topic, alert.key, alert.tenant) == (topics.NATIONAL_ASSESSMENTS, msg.contact_id, "utrecht")
    assert published(alert).trigger == events_pb2.MONITORING_TRIGGER_VERWIJSINDEX_MATCH
    assert published(alert).person_id == msg.persons[0].person_id
    assert published(alert).verwijsindex_match.match_id == "match-1"
    again, dup = radar.on_person_signal(*radar_input(published(signal), "", signal.event_id), outcome.history)
    assert dup.duplicate and [(o.event_id, published(o)) for o in again] == [(alert.event_id, published(alert))]


def test_other_verwijsindex_events_are_ignored_and_a_bad_match_is_permanent(radar: Radar) -> None:
    registered = verwijsindex_events.SignalRegistered(signal_id="s1", youth_pseudonym="abc")
    assert radar_input(registered)[0] is None
    with pytest.raises(PermanentError, match="key"):
        radar.on_verwijsindex(*radar_input(signal_match("abc")), b"other")
    with pytest.raises(PermanentError, match="without"):
        radar_input(verwijsindex_events.SignalMatch(match_id="m", youth_pseudonym="abc"))
