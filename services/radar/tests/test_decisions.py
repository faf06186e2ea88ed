"""The decision of the veiligheidsbeoordeling: validation, what follows for the notifier, the event radar
publishes for it (RecordDecision) and the onderzoek deadline it starts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from radar.adapters import proto
from radar.domain.cases import CaseRecord, Decision
from radar.domain.decisions import (
    DecisionInput,
    HouseholdNotice,
    InvalidDecision,
    Judgement,
    MelderFeedback,
    RvdkGround,
    RvdkReason,
    consequences,
    validate,
)
from radar.handlers import DecisionConflict, Radar
from simulators.rvdk import random_bsn
from vt.common.v1 import common_pb2
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.crypto import Ciphertext
from vtkit.envelope import new_event_id
from vtkit.keystore import KeyStore
from vttest.radar import melding_received, published, radar_input

AMS = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)


REASON = RvdkReason(RvdkGround.VOLUNTARY_HELP_INSUFFICIENT, "Ouders weigeren hulp; het kind is niet veilig thuis.")
RECEIVER = "wijkteam:utrecht-noord"


def choice(decision: Decision = Decision.ONDERZOEK, **changes: object) -> DecisionInput:
    """A complete decision: an RvdK request with its reason, an overdracht with its receiver's id."""
    base = DecisionInput("case-1", Judgement.STRUCTURAL_UNSAFETY, decision, "", "VT Utrecht, team Noord", "afspraken",
                         rvdk_reason=REASON if decision is Decision.RVDK_REQUEST else None,
                         overdracht_receiver_id=RECEIVER if decision is Decision.OVERDRACHT else "")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture()
def radar(keys: KeyStore) -> Radar:
    return Radar(keys.seal_opener("radar"), keys.pseudonymizer(), tenant_cipher=keys.tenant_cipher, encoding=proto)


@pytest.mark.parametrize(("bad", "field"), [
    (choice(case_id=" "), "case_id"),
    (dataclasses.replace(choice(), judgement=Judgement.UNSPECIFIED), "judgement"),
    (choice(Decision.UNSPECIFIED), "decision"),
    (choice(Decision.OVERDRACHT), "overdracht_to"),
    (choice(Decision.NO_FURTHER_STEPS, overdracht_to="lokaal team"), "overdracht_to"),
    (choice(responsible_for_safety="  "), "responsible_for_safety"),
    (choice(agreements="x" * 20_001), "agreements"),
    (dataclasses.replace(choice(), melder_feedback=MelderFeedback(melder_can_do="x" * 4_001)),
     "melder_feedback.melder_can_do"),
    (dataclasses.replace(choice(), household=HouseholdNotice(agreements="x" * 4_001)), "household.agreements"),
    (dataclasses.replace(choice(), household=HouseholdNotice(contact_person="x" * 201)), "household.contact_person"),
    # An RvdK request without its reason, or with half of one; a reason on another decision.
    (choice(Decision.RVDK_REQUEST, rvdk_reason=None), "rvdk_reason"),
    (choice(Decision.RVDK_REQUEST, rvdk_reason=RvdkReason(RvdkGround.UNSPECIFIED, " ")), "rvdk_reason"),
    (choice(Decision.RVDK_REQUEST, rvdk_reason=RvdkReason(RvdkGround.UNSPECIFIED, "uitleg")), "rvdk_reason.ground"),
    (choice(Decision.RVDK_REQUEST, rvdk_reason=RvdkReason(RvdkGround.URGENT, "  ")), "rvdk_reason.explanation"),
    (choice(Decision.RVDK_REQUEST, rvdk_reason=RvdkReason(RvdkGround.URGENT, "x" * 4_001)), "rvdk_reason.explanation"),
    (choice(Decision.ONDERZOEK, rvdk_reason=REASON), "rvdk_reason"),
    # An overdracht without the receiving party's id, a malformed or reserved one; a receiver on another decision.
    (choice(Decision.OVERDRACHT, overdracht_to="wijkteam Noord", overdracht_receiver_id=" "), "overdracht_receiver_id"),
    (choice(Decision.OVERDRACHT, overdracht_to="wijkteam Noord", overdracht_receiver_id="wijkteam noord"),
     "overdracht_receiver_id"),
    (choice(Decision.OVERDRACHT, overdracht_to="gemeente", overdracht_receiver_id="municipality:GM0344"),
     "overdracht_receiver_id"),
    (choice(Decision.NO_FURTHER_STEPS, overdracht_receiver_id=RECEIVER), "overdracht_receiver_id"),
])
def test_incomplete_decisions_name_the_field(bad: DecisionInput, field: str) -> None:
    with pytest.raises(InvalidDecision) as err:
        validate(bad)
    assert err.value.field == field and str(err.value).startswith(field)


def test_the_rule_is_in_the_message() -> None:
    with pytest.raises(InvalidDecision, match="^rvdk_reason: required for an RvdK request"):
        validate(choice(Decision.RVDK_REQUEST, rvdk_reason=None))
    with pytest.raises(InvalidDecision, match="^overdracht_receiver_id: required for an overdracht"):
        validate(choice(Decision.OVERDRACHT, overdracht_to="wijkteam Noord", overdracht_receiver_id=""))


def test_complete_decisions_are_valid() -> None:
    for decision in Decision:
        if decision is not Decision.UNSPECIFIED:
            validate(choice(decision, overdracht_to="lokaal team" if decision is Decision.OVERDRACHT else ""))


def test_consequences_for_the_notifier() -> None:
    for decision in (Decision.ONDERZOEK, Decision.OVERDRACHT, Decision.NO_FURTHER_STEPS, Decision.RVDK_REQUEST):
        then = consequences(decision, NOW)
        assert then.melder_callback_required and then.household_letter_required
        assert then.rvdk_request == then.municipality_notice == (decision is Decision.RVDK_REQUEST)
        assert (then.onderzoek is not None) == (decision is Decision.ONDERZOEK)
    onderzoek = consequences(Decision.ONDERZOEK, NOW).onderzoek
    assert onderzoek is not None and onderzoek.due_date == dt.date(2026, 5, 12)


def test_record_decision_publishes_assessment_completed_with_encrypted_agreements(keys: KeyStore, radar: Radar) -> None:
    event_id = new_event_id()
    melding = melding_received(keys, "utrecht", [random_bsn()], event_id=event_id)
    record = radar.on_intake(*radar_input(melding, "utrecht", event_id)).case
    assert record is not None
    chosen = choice(Decision.RVDK_REQUEST, case_id=melding.contact_id, agreements="Moeder belt dagelijks de school")
    result = radar.record_decision("utrecht", record, chosen, NOW)
    assert result.output is not None and result.onderzoek_due_at is None
    out = result.output
    assert (out.topic, out.key, out.tenant, out.event_id) == (
        topics.NATIONAL_ASSESSMENTS, melding.contact_id, "utrecht", result.event_id)
    msg = published(out)
    assert isinstance(msg, events_pb2.AssessmentCompleted)
    assert msg.decision == events_pb2.DECISION_RVDK_REQUEST and msg.rvdk_request and msg.municipality_notice
    assert msg.melder_callback_required and msg.household_letter_required
    assert msg.judgement == events_pb2.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY
    assert b"Moeder" not in msg.SerializeToString()
    plain = keys.tenant_cipher("utrecht").decrypt(
        Ciphertext(msg.agreements.key_id, msg.agreements.nonce, msg.agreements.ciphertext),
        event_id=result.event_id, field="agreements")
    assert plain.decode() == "Moeder belt dagelijks de school"
    # Legacy agreements only: they are the melder's (the callback), and the household text is absent.
    assert not msg.HasField("household") and msg.HasField("melder_feedback")
    # The reason travels encrypted under the same key, bound to this event and its own field.
    assert b"Ouders weigeren" not in msg.SerializeToString() and msg.overdracht_receiver_id == ""
    reason = common_pb2.RvdkRequestReason.FromString(keys.tenant_cipher("utrecht").decrypt(
        Ciphertext(msg.rvdk_reason.key_id, msg.rvdk_reason.nonce, msg.rvdk_reason.ciphertext),
        event_id=result.event_id, field="rvdk_reason"))
    assert reason.ground == common_pb2.RVDK_REQUEST_GROUND_VOLUNTARY_HELP_INSUFFICIENT
    assert reason.explanation == REASON.explanation
    # a retry yields the same event id (consumers dedupe)
    assert radar.record_decision("utrecht", record, chosen, NOW + dt.timedelta(seconds=5)).event_id == result.event_id

    # the agent reads the event back and closes the case; the same decision again answers the recorded one
    _, closed = radar.on_assessment(*radar_input(msg, "utrecht", result.event_id, source="radar"), record)
    assert closed is not None and closed.closed and closed.decision is Decision.RVDK_REQUEST
    again = radar.record_decision("utrecht", closed, chosen, NOW + dt.timedelta(days=1))
    assert again.output is None and again.event_id == result.event_id and again.decided_at == NOW
    with pytest.raises(DecisionConflict):
        radar.record_decision("utrecht", closed, dataclasses.replace(chosen, decision=Decision.NO_FURTHER_STEPS,
                                                                  rvdk_reason=None), NOW)


def test_what_the_melder_and_the_household_are_told_are_sealed_apart(keys: KeyStore, radar: Radar) -> None:
    event_id = new_event_id()
    melding = melding_received(keys, "utrecht", [random_bsn()], event_id=event_id)
    record = radar.on_intake(*radar_input(melding, "utrecht", event_id)).case
    assert record is not None
    feedback = MelderFeedback("Structureel onveilig", "Wij doen onderzoek", "Let op het verzuim", "Wij bellen u terug")
    chosen = dataclasses.replace(choice(case_id=melding.contact_id, agreements=""), melder_feedback=feedback,
                                 household=HouseholdNotice("U komt dinsdag op gesprek", "Marleen Bakker"))
    result = radar.record_decision("utrecht", record, chosen, NOW)
    assert result.output is not None
    msg = published(result.output)
    assert isinstance(msg, events_pb2.AssessmentCompleted) and not msg.HasField("agreements")
    assert b"verzuim" not in msg.SerializeToString() and b"dinsdag" not in msg.SerializeToString()
    cipher = keys.tenant_cipher("utrecht")

    def opened(field: str) -> bytes:
        sealed = getattr(msg, field)
        return cipher.decrypt(Ciphertext(sealed.key_id, sealed.nonce, sealed.ciphertext), event_id=result.event_id,
                              field=field)
    told = common_pb2.MelderFeedback.FromString(opened("melder_feedback"))
    assert (told.safety_judgement, told.shared_information, told.melder_can_do, told.agreements) == (
        "Structureel onveilig", "Wij doen onderzoek", "Let op het verzuim", "Wij bellen u terug")
    household = common_pb2.HouseholdNotice.FromString(opened("household"))
    assert (household.agreements, household.contact_person) == ("U komt dinsdag op gesprek", "Marleen Bakker")


def test_onderzoek_deadline_is_state_and_reported_overdue_once(keys: KeyStore, radar: Radar) -> None:
    event_id = new_event_id()
    melding = melding_received(keys, "utrecht", [random_bsn()], event_id=event_id, received_at=NOW)
    record = radar.on_intake(*radar_input(melding, "utrecht", event_id)).case
    assert record is not None
    result = radar.record_decision("utrecht", record, choice(case_id=melding.contact_id), NOW)
    assert result.output is not None and result.onderzoek_due_at == dt.datetime(2026, 5, 12, 23, 59, 59, tzinfo=AMS)
    assert published(result.output).onderzoek_due_date.day == 12
    _, decided = radar.on_assessment(*radar_input(published(result.output), "utrecht", result.event_id), record)
    assert decided is not None and decided.onderzoek_due_at == result.onderzoek_due_at
    assert CaseRecord.from_dict(decided.to_dict()) == decided

    assert radar.overdue([decided], dt.datetime(2026, 5, 12, 21, 0, tzinfo=dt.UTC)) == []
    [report] = radar.overdue([decided], dt.datetime(2026, 5, 13, 8, 0, tzinfo=dt.UTC))
    assert published(report).kind == events_pb2.DEADLINE_KIND_ONDERZOEK and report.key == melding.contact_id
    assert published(report).due_at.ToDatetime(dt.UTC) == result.onderzoek_due_at
    [listed] = decided.overdue_deadlines(dt.datetime(2026, 5, 13, 8, 0, tzinfo=dt.UTC))
    assert listed.kind.value == "onderzoek"
    # radar's own report read back marks the onderzoek; an assessment report does not
    _, marked = radar.on_assessment(*radar_input(published(report), "utrecht", report.event_id, source="radar"), decided)
    assert marked is not None and marked.onderzoek_overdue_reported and not marked.overdue_reported
    assert radar.overdue([marked], dt.datetime(2026, 6, 1, tzinfo=dt.UTC)) == []
    # still listed: the deadline has passed, whether reported or not
    assert marked.overdue_deadlines(dt.datetime(2026, 6, 1, tzinfo=dt.UTC)) == [listed]
