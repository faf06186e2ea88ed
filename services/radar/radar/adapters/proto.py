"""The only place where protobuf messages and radar's domain objects meet: the records radar reads become
radar.inputs events, radar.outputs events become the records it publishes, and the gRPC requests and responses."""

from __future__ import annotations

import base64
import datetime as dt

from google.protobuf import message as pb_message
from google.protobuf.timestamp_pb2 import Timestamp
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2 as radar_events
from vt.radar.v1 import radar_service_pb2
from vt.rvdk.v1 import events_pb2 as rvdk_events
from vt.verwijsindex.v1 import events_pb2 as verwijsindex_events
from vtkit import calendar
from vtkit.crypto import Ciphertext, Sealed
from vtkit.envelope import Envelope, encode, envelope_for
from vtkit.kafka import PermanentError
from vtkit.outbox import OutboxRecord

from radar import inputs, outputs
from radar.domain.cases import CaseRecord, DeadlineKind, Decision, OverdueDeadline
from radar.domain.decisions import DecisionInput, HouseholdNotice, Judgement, MelderFeedback, RvdkGround, RvdkReason
from radar.domain.lifecycle import Figure, Norms
from radar.domain.model import (
    AssessmentInputOut,
    CaseClosedFact,
    CaseDestroyedFact,
    EpisodeJoinOut,
    InvolvementView,
    MatchOut,
    MeldingFact,
    MonitoringAlertOut,
    RegisterEntryOut,
    RvdkFact,
    Trigger,
    VerwijsindexMatchFact,
)

_DECISIONS = {
    radar_events.DECISION_ONDERZOEK: Decision.ONDERZOEK,
    radar_events.DECISION_VOORWAARDEN_EN_VERVOLG: Decision.VOORWAARDEN_EN_VERVOLG,
    radar_events.DECISION_OVERDRACHT: Decision.OVERDRACHT,
    radar_events.DECISION_NO_FURTHER_STEPS: Decision.NO_FURTHER_STEPS,
    radar_events.DECISION_REGIONAL_MAATWERK: Decision.REGIONAL_MAATWERK,
    radar_events.DECISION_RVDK_REQUEST: Decision.RVDK_REQUEST,
}
_DECISIONS_BACK = {v: k for k, v in _DECISIONS.items()}
_JUDGEMENTS = {
    radar_events.SAFETY_JUDGEMENT_SAFE: Judgement.SAFE,
    radar_events.SAFETY_JUDGEMENT_ACUTE_UNSAFETY: Judgement.ACUTE_UNSAFETY,
    radar_events.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY: Judgement.STRUCTURAL_UNSAFETY,
}
_JUDGEMENTS_BACK = {v: k for k, v in _JUDGEMENTS.items()}
_KINDS = {DeadlineKind.ASSESSMENT: radar_events.DEADLINE_KIND_ASSESSMENT,
          DeadlineKind.ONDERZOEK: radar_events.DEADLINE_KIND_ONDERZOEK}
_KINDS_BACK = {v: k for k, v in _KINDS.items()}
_TRIGGERS = {
    Trigger.MELDING_SAME_ORGANISATION: radar_events.MONITORING_TRIGGER_MELDING_SAME_ORGANISATION,
    Trigger.MELDING_OTHER_ORGANISATION: radar_events.MONITORING_TRIGGER_MELDING_OTHER_ORGANISATION,
    Trigger.RVDK: radar_events.MONITORING_TRIGGER_RVDK,
    Trigger.VERWIJSINDEX_MATCH: radar_events.MONITORING_TRIGGER_VERWIJSINDEX_MATCH,
}


# ---- scalars ---------------------------------------------------------------------------------------------------

def to_datetime(ts: Timestamp) -> dt.datetime:
    try:
        return ts.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):  # outside the Timestamp range (found by the fuzz run): never usable
        raise PermanentError(f"invalid timestamp {ts.seconds}s {ts.nanos}ns") from None


def timestamp(moment: dt.datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment.astimezone(dt.UTC))
    return ts


def encrypted_field(c: Ciphertext) -> common_pb2.EncryptedField:
    return common_pb2.EncryptedField(key_id=c.key_id, nonce=c.nonce, ciphertext=c.ciphertext)


def date(day: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


def ciphertext(field: common_pb2.EncryptedField) -> Ciphertext:
    return Ciphertext(field.key_id, field.nonce, field.ciphertext)


def sealed(identifier: common_pb2.SealedIdentifier) -> Sealed:
    return Sealed(identifier.recipient, identifier.ephemeral_public_key, identifier.nonce, identifier.ciphertext)


# ---- inputs: the events radar reads (radar.inputs) ---------------------------------------------------------------

def _optional_datetime(message: pb_message.Message, name: str) -> dt.datetime | None:
    return to_datetime(getattr(message, name)) if message.HasField(name) else None


def _optional_ciphertext(message: pb_message.Message, name: str) -> Ciphertext | None:
    return ciphertext(getattr(message, name)) if message.HasField(name) else None


def read_intake(message: pb_message.Message) -> inputs.MeldingReceived | inputs.DossierDestroyed | None:
    """None: adviezen and other intake events carry no household data for radar."""
    if isinstance(message, intake_events.MeldingReceived):
        return melding_received(message)
    if isinstance(message, intake_events.DossierDestroyed):
        return inputs.DossierDestroyed(message.tenant_id, tuple(message.contact_ids))
    return None


def melding_received(melding: intake_events.MeldingReceived) -> inputs.MeldingReceived:
    if not melding.contact_id or not melding.tenant_id or not melding.HasField("received_at"):
        raise PermanentError("MeldingReceived without contact_id, tenant_id or received_at")
    persons = tuple(inputs.SealedPerson(p.person_id, sealed(p.sealed_identity) if p.HasField("sealed_identity") else None)
                    for p in melding.persons)
    return inputs.MeldingReceived(
        melding.tenant_id, melding.contact_id, to_datetime(melding.received_at), melding.acute, persons,
        dossier_id=melding.dossier_id, melder_type=int(melding.melder_type),
        melder_may_be_named=melding.melder_may_be_named, melder=_optional_ciphertext(melding, "melder"))


def read_rvdk(message: pb_message.Message) -> inputs.RvdkSignal:
    if not isinstance(message, rvdk_events.RvdkSignal):
        raise PermanentError(f"unexpected {message.DESCRIPTOR.full_name} on the RvdK topic")
    if not message.signal_id or not message.HasField("child"):
        raise PermanentError("RvdkSignal without signal_id or child")
    return inputs.RvdkSignal(sealed(message.child), RvdkFact(message.signal_id, int(message.kind),
                                                             to_datetime(message.observed_at), message.rvdk_office))


def read_verwijsindex(message: pb_message.Message) -> inputs.SignalMatch | None:
    """None: other verwijsindex events (SignalRegistered, YouthRelocated) are not radar's."""
    if not isinstance(message, verwijsindex_events.SignalMatch):
        return None
    if not message.match_id or not message.youth_pseudonym or not message.HasField("matched_at"):
        raise PermanentError("SignalMatch without match_id, youth_pseudonym or matched_at")
    return inputs.SignalMatch(message.youth_pseudonym, VerwijsindexMatchFact(
        message.match_id, int(message.kind), to_datetime(message.matched_at)))


def read_person_signal(message: pb_message.Message) -> inputs.PersonSignal:
    if not isinstance(message, radar_events.PersonSignal) or not message.pseudonym:
        raise PermanentError("not a PersonSignal with a pseudonym")
    fact = signal_fact(message)
    if fact is None:
        raise PermanentError(f"PersonSignal without a known signal ({message.WhichOneof('signal')})")
    return inputs.PersonSignal(message.pseudonym, fact)


# What radar acts on in vt.national.assessments.v1. The rest of radar's own event types there (AssessmentDue,
# AssessmentInput, MonitoringAlert, ...: about half of the topic's records) it passes over by the ce_type header,
# without verifying or decoding them (docs/architecture.md, "Case lifecycle"). A record of any other type, or
# without one, is decoded as before, so garbage is still dead-lettered.
ASSESSMENT_INPUT_TYPES = frozenset(m.DESCRIPTOR.full_name for m in (
    radar_events.AssessmentCompleted, radar_events.DeadlineOverdue, radar_events.EpisodeJoined,
    radar_events.OnderzoekStarted, radar_events.OnderzoekCompleted, radar_events.MonitoringChanged,
    radar_events.CaseDestroyed))
PASSED_OVER_TYPES = frozenset(m.full_name for m in radar_events.DESCRIPTOR.message_types_by_name.values()
                              ) - ASSESSMENT_INPUT_TYPES


def read_assessments(message: pb_message.Message) -> inputs.AssessmentEvent | inputs.CaseDestroyed | None:
    """None: radar's own AssessmentDue / AssessmentInput / MonitoringAlert, nothing to do."""
    if isinstance(message, radar_events.AssessmentCompleted):
        if not message.case_id or not message.tenant_id or not message.HasField("decided_at"):
            raise PermanentError("AssessmentCompleted without case_id, tenant_id or decided_at")
        return inputs.AssessmentCompleted(message.tenant_id, to_datetime(message.decided_at), decision_of(message),
                                          message.episode_case_id, _optional_ciphertext(message, "agreements"),
                                          _optional_ciphertext(message, "melder_feedback"))
    if isinstance(message, radar_events.DeadlineOverdue):
        return inputs.DeadlineOverdue(message.case_id, deadline_kind(message.kind))
    if isinstance(message, radar_events.EpisodeJoined):
        return inputs.EpisodeJoined(message.tenant_id, message.episode_case_id, message.case_id,
                                    _optional_datetime(message, "due_at"), _optional_datetime(message, "joined_at"))
    if isinstance(message, radar_events.OnderzoekStarted):
        return inputs.OnderzoekStarted(message.tenant_id, message.case_id, to_datetime(message.started_at))
    if isinstance(message, radar_events.OnderzoekCompleted):
        return inputs.OnderzoekCompleted(message.tenant_id, message.case_id, to_datetime(message.completed_at),
                                         outcome_of(message), _optional_datetime(message, "monitor_until"))
    if isinstance(message, radar_events.MonitoringChanged):
        return inputs.MonitoringChanged(message.tenant_id, message.case_id, to_datetime(message.monitor_until))
    if isinstance(message, radar_events.CaseDestroyed):
        if not message.case_id or not message.tenant_id:
            raise PermanentError("CaseDestroyed without case_id or tenant_id")
        return inputs.CaseDestroyed(message.tenant_id, message.case_id)
    return None


def decision(value: int) -> Decision:
    return _DECISIONS.get(value, Decision.UNSPECIFIED)  # type: ignore[call-overload]


def judgement(value: int) -> Judgement:
    return _JUDGEMENTS.get(value, Judgement.UNSPECIFIED)  # type: ignore[call-overload]


def deadline_kind(value: int) -> DeadlineKind | None:
    return _KINDS_BACK.get(value)  # type: ignore[call-overload]


_GROUNDS = {
    common_pb2.RVDK_REQUEST_GROUND_DEVELOPMENT_SERIOUSLY_THREATENED: RvdkGround.DEVELOPMENT_SERIOUSLY_THREATENED,
    common_pb2.RVDK_REQUEST_GROUND_VOLUNTARY_HELP_INSUFFICIENT: RvdkGround.VOLUNTARY_HELP_INSUFFICIENT,
    common_pb2.RVDK_REQUEST_GROUND_URGENT: RvdkGround.URGENT,
    common_pb2.RVDK_REQUEST_GROUND_CUSTODY_OR_ACCESS: RvdkGround.CUSTODY_OR_ACCESS,
}
_GROUNDS_BACK = {v: k for k, v in _GROUNDS.items()}


def rvdk_reason(request: radar_service_pb2.RecordDecisionRequest | radar_service_pb2.RecordOnderzoekOutcomeRequest
                ) -> RvdkReason | None:
    if not request.HasField("rvdk_reason"):
        return None
    return RvdkReason(_GROUNDS.get(request.rvdk_reason.ground, RvdkGround.UNSPECIFIED),  # type: ignore[call-overload]
                      request.rvdk_reason.explanation)


def rvdk_reason_bytes(reason: RvdkReason) -> bytes:
    """The plaintext radar encrypts into AssessmentCompleted / OnderzoekCompleted.rvdk_reason."""
    return common_pb2.RvdkRequestReason(ground=_GROUNDS_BACK.get(reason.ground, common_pb2.RVDK_REQUEST_GROUND_UNSPECIFIED),
                                        explanation=reason.explanation.strip()).SerializeToString()


def decision_request(request: radar_service_pb2.RecordDecisionRequest) -> DecisionInput:
    feedback = request.melder_feedback
    return DecisionInput(request.case_id, judgement(request.judgement), decision(request.decision),
                         request.overdracht_to, request.responsible_for_safety, request.agreements,
                         MelderFeedback(feedback.safety_judgement, feedback.shared_information, feedback.melder_can_do,
                                        feedback.agreements),
                         HouseholdNotice(request.household.agreements, request.household.contact_person),
                         rvdk_reason=rvdk_reason(request), overdracht_receiver_id=request.overdracht_receiver_id)


def melder_feedback_bytes(feedback: MelderFeedback) -> bytes:
    """Serialized vt.common.v1.MelderFeedback: encrypted whole, opened only by the region's case system."""
    return common_pb2.MelderFeedback(**vars(feedback)).SerializeToString()


def household_bytes(notice: HouseholdNotice) -> bytes:
    """Serialized vt.common.v1.HouseholdNotice: encrypted whole, opened by the notifier to render the letter."""
    return common_pb2.HouseholdNotice(**vars(notice)).SerializeToString()


def decision_of(completed: radar_events.AssessmentCompleted) -> DecisionInput:
    """The decision an AssessmentCompleted carries (without the encrypted agreements and RvdK reason)."""
    return DecisionInput(completed.case_id, judgement(completed.judgement), decision(completed.decision),
                         completed.overdracht_to, completed.responsible_for_safety, "",
                         overdracht_receiver_id=completed.overdracht_receiver_id)


def outcome_of(completed: radar_events.OnderzoekCompleted) -> DecisionInput:
    return DecisionInput(completed.case_id, judgement(completed.judgement), decision(completed.follow_up),
                        completed.overdracht_to, completed.responsible_for_safety, "",
                        overdracht_receiver_id=completed.overdracht_receiver_id)


def signal_fact(signal: radar_events.PersonSignal
                ) -> MeldingFact | RvdkFact | CaseClosedFact | VerwijsindexMatchFact | CaseDestroyedFact | None:
    """The domain fact a person signal carries; None for a kind this version does not know."""
    which = signal.WhichOneof("signal")
    if which == "melding":
        m = signal.melding
        return MeldingFact(m.tenant_id, m.case_id, m.person_id, to_datetime(m.received_at),
                           to_datetime(m.due_at) if m.HasField("due_at") else None)
    if which == "rvdk":
        r = signal.rvdk
        return RvdkFact(r.signal_id, int(r.kind), to_datetime(r.observed_at), r.rvdk_office)
    if which == "case_closed":
        c = signal.case_closed
        until = to_datetime(c.monitor_until) if c.HasField("monitor_until") else None
        return CaseClosedFact(c.tenant_id, c.case_id, c.person_id, to_datetime(c.closed_at), until,
                              onderzoek_open=c.onderzoek_running)
    if which == "verwijsindex_match":
        v = signal.verwijsindex_match
        return VerwijsindexMatchFact(v.match_id, int(v.kind), to_datetime(v.matched_at))
    if which == "case_destroyed":
        return CaseDestroyedFact(signal.case_destroyed.tenant_id, signal.case_destroyed.case_id)
    return None


# ---- outputs: the events radar publishes (radar.outputs) -------------------------------------------------------

def record(out: outputs.Out) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The value and headers of the Kafka record `out` is published as."""
    message = message_of(out.event)
    return encode(message, envelope_of(out, message))


def outbox_record(out: outputs.Out) -> OutboxRecord:
    value, headers = record(out)
    return OutboxRecord(out.topic, out.key.encode(), value, headers, out.event_id, out.tenant)


def envelope_of(out: outputs.Out, message: pb_message.Message | None = None) -> Envelope:
    return envelope_for(message or message_of(out.event), source=outputs.SOURCE, tenant=out.tenant,
                        event_id=out.event_id, time=out.at)


def message_of(event: outputs.Event) -> pb_message.Message:
    if isinstance(event, outputs.AssessmentDue):
        return assessment_due(event)
    if isinstance(event, outputs.PersonSignal):
        return person_signal(event)
    if isinstance(event, outputs.RegisterEntry):
        return register_entry(event.pseudonym, event.entry)
    if isinstance(event, outputs.RegisterMatch):
        return register_match(event.match_id, event.match)
    if isinstance(event, AssessmentInputOut):
        return assessment_input(event)
    if isinstance(event, MonitoringAlertOut):
        return monitoring_alert(event)
    if isinstance(event, outputs.EpisodeJoined):
        return episode_joined(event.join, event.joined_at)
    if isinstance(event, outputs.DeadlineOverdue):
        return deadline_overdue(event)
    if isinstance(event, outputs.AssessmentCompleted):
        return assessment_completed(event)
    if isinstance(event, outputs.OnderzoekStarted):
        return radar_events.OnderzoekStarted(tenant_id=event.tenant_id, case_id=event.case_id,
                                             started_at=timestamp(event.started_at), within_norm=event.within_norm)
    if isinstance(event, outputs.OnderzoekCompleted):
        return onderzoek_completed(event)
    if isinstance(event, outputs.CaseDestroyed):
        return radar_events.CaseDestroyed(tenant_id=event.tenant_id, case_id=event.case_id)
    return monitoring_changed(event)


def assessment_due(event: outputs.AssessmentDue) -> radar_events.AssessmentDue:
    due = radar_events.AssessmentDue(
        tenant_id=event.tenant_id, case_id=event.case_id, received_at=timestamp(event.received_at),
        acute=event.acute, due_date=date(event.deadline.due_date), due_at=timestamp(event.deadline.due_at),
        melder_type=event.melder_type, melder_may_be_named=event.melder_may_be_named)  # type: ignore[arg-type]
    if event.melder is not None:
        due.melder.CopyFrom(encrypted_field(event.melder))
    return due


def person_signal(signal: outputs.PersonSignal) -> radar_events.PersonSignal:
    pseudonym, fact = signal.pseudonym, signal.fact
    if isinstance(fact, MeldingFact):
        return melding_signal(pseudonym, fact)
    if isinstance(fact, RvdkFact):
        return radar_events.PersonSignal(pseudonym=pseudonym, rvdk=rvdk_info(fact))
    if isinstance(fact, VerwijsindexMatchFact):
        # Only the match id, kind and moment: the registrants' (encrypted) contacts stay with the notifier.
        return radar_events.PersonSignal(pseudonym=pseudonym, verwijsindex_match=verwijsindex_match_info(fact))
    if isinstance(fact, CaseClosedFact):
        return case_closed_signal(pseudonym, fact, signal.decision)
    return radar_events.PersonSignal(pseudonym=pseudonym, case_destroyed=radar_events.CaseDestroyed(
        tenant_id=fact.tenant_id, case_id=fact.case_id))


def melding_signal(pseudonym: str, fact: MeldingFact) -> radar_events.PersonSignal:
    signal = radar_events.PersonSignal(pseudonym=pseudonym, melding=radar_events.MeldingSignal(
        tenant_id=fact.tenant_id, case_id=fact.case_id, person_id=fact.person_id,
        received_at=timestamp(fact.received_at)))
    if fact.due_at is not None:
        signal.melding.due_at.CopyFrom(timestamp(fact.due_at))
    return signal


def case_closed_signal(pseudonym: str, fact: CaseClosedFact, chosen: Decision) -> radar_events.PersonSignal:
    closed = radar_events.CaseClosed(tenant_id=fact.tenant_id, case_id=fact.case_id, person_id=fact.person_id,
                                     closed_at=timestamp(fact.closed_at),
                                     decision=_DECISIONS_BACK.get(chosen, radar_events.DECISION_UNSPECIFIED))
    if fact.monitor_until is not None:
        closed.monitor_until.CopyFrom(timestamp(fact.monitor_until))
    closed.onderzoek_running = fact.onderzoek_open
    return radar_events.PersonSignal(pseudonym=pseudonym, case_closed=closed)


def involvement(view: InvolvementView) -> common_pb2.Involvement:
    return common_pb2.Involvement(tenant_id=view.tenant_id, since=timestamp(view.since), case_ids=list(view.case_ids))


def register_entry(pseudonym: str, entry: RegisterEntryOut) -> radar_events.RegisterEntry:
    return radar_events.RegisterEntry(tenant_id=entry.tenant_id, pseudonym=pseudonym, case_id=entry.case_id,
                                      person_id=entry.person_id, since=timestamp(entry.since))


def register_match(match_id: str, match: MatchOut) -> radar_events.RegisterMatch:
    return radar_events.RegisterMatch(
        match_id=match_id, addressed_to=match.addressed_to, own_case_id=match.own_case_id,
        own_person_id=match.own_person_id, own=involvement(match.own), other=involvement(match.other),
        matched_at=timestamp(match.matched_at))


def rvdk_info(fact: RvdkFact) -> radar_events.RvdkInfo:
    return radar_events.RvdkInfo(signal_id=fact.signal_id, kind=fact.kind,  # type: ignore[arg-type]
                                 observed_at=timestamp(fact.observed_at), rvdk_office=fact.office)


def verwijsindex_match_info(fact: VerwijsindexMatchFact) -> radar_events.VerwijsindexMatchInfo:
    return radar_events.VerwijsindexMatchInfo(match_id=fact.match_id, kind=fact.kind,  # type: ignore[arg-type]
                                              matched_at=timestamp(fact.matched_at))


def assessment_input(data: AssessmentInputOut) -> radar_events.AssessmentInput:
    return radar_events.AssessmentInput(
        tenant_id=data.tenant_id, case_id=data.case_id, person_id=data.person_id,
        earlier_case_ids=list(data.earlier_case_ids),
        other_organisations=[involvement(v) for v in data.other_organisations],
        rvdk=[rvdk_info(r) for r in data.rvdk], collected_at=timestamp(data.collected_at),
        repeat_melding=data.repeat_melding, repeat_of_case_id=data.repeat_of_case_id,
        joins_case_id=data.joins_case_id, joined_by_case_ids=list(data.joined_by_case_ids),
        verwijsindex_matches=[verwijsindex_match_info(m) for m in data.verwijsindex_matches])


def monitoring_alert(alert: MonitoringAlertOut) -> radar_events.MonitoringAlert:
    msg = radar_events.MonitoringAlert(tenant_id=alert.tenant_id, case_id=alert.case_id, person_id=alert.person_id,
                                       trigger=_TRIGGERS[alert.trigger], detected_at=timestamp(alert.detected_at))
    if alert.other is not None:
        msg.other.CopyFrom(involvement(alert.other))
    if alert.rvdk is not None:
        msg.rvdk.CopyFrom(rvdk_info(alert.rvdk))
    if alert.verwijsindex_match is not None:
        msg.verwijsindex_match.CopyFrom(verwijsindex_match_info(alert.verwijsindex_match))
    return msg


def episode_joined(join: EpisodeJoinOut, at: dt.datetime) -> radar_events.EpisodeJoined:
    msg = radar_events.EpisodeJoined(tenant_id=join.tenant_id, episode_case_id=join.episode_case_id,
                                     case_id=join.case_id, joined_at=timestamp(at))
    if join.due_at is not None:
        msg.due_at.CopyFrom(timestamp(join.due_at))
    return msg


def deadline_overdue(event: outputs.DeadlineOverdue) -> radar_events.DeadlineOverdue:
    return radar_events.DeadlineOverdue(tenant_id=event.tenant_id, case_id=event.case_id, kind=_KINDS[event.kind],
                                        due_at=timestamp(event.due_at), detected_at=timestamp(event.detected_at))


def _encrypted_fields(msg: pb_message.Message, **fields: Ciphertext | None) -> None:
    for name, value in fields.items():
        if value is not None:
            getattr(msg, name).CopyFrom(encrypted_field(value))


def assessment_completed(event: outputs.AssessmentCompleted) -> radar_events.AssessmentCompleted:
    msg = radar_events.AssessmentCompleted(
        tenant_id=event.tenant_id, case_id=event.case_id,
        judgement=_JUDGEMENTS_BACK.get(event.judgement, radar_events.SAFETY_JUDGEMENT_UNSPECIFIED),
        decision=_DECISIONS_BACK.get(event.decision, radar_events.DECISION_UNSPECIFIED),
        overdracht_to=event.overdracht_to, responsible_for_safety=event.responsible_for_safety,
        decided_at=timestamp(event.decided_at), melder_callback_required=event.melder_callback_required,
        household_letter_required=event.household_letter_required, rvdk_request=event.rvdk_request,
        municipality_notice=event.municipality_notice, overdracht_receiver_id=event.overdracht_receiver_id,
        episode_case_ids=list(event.episode_case_ids), episode_case_id=event.episode_case_id)
    _encrypted_fields(msg, agreements=event.agreements, rvdk_reason=event.rvdk_reason,
                      melder_feedback=event.melder_feedback, household=event.household)
    if event.onderzoek_due is not None:
        msg.onderzoek_due_date.CopyFrom(date(event.onderzoek_due.due_date))
        msg.onderzoek_due_at.CopyFrom(timestamp(event.onderzoek_due.due_at))
    return msg


def onderzoek_completed(event: outputs.OnderzoekCompleted) -> radar_events.OnderzoekCompleted:
    outcome = event.outcome
    msg = radar_events.OnderzoekCompleted(
        tenant_id=event.tenant_id, case_id=outcome.case_id, judgement=_JUDGEMENTS_BACK[outcome.judgement],
        follow_up=_DECISIONS_BACK[outcome.decision], overdracht_to=outcome.overdracht_to,
        responsible_for_safety=outcome.responsible_for_safety, completed_at=timestamp(event.completed_at),
        within_norm=event.within_norm, overdracht_receiver_id=outcome.overdracht_receiver_id.strip())
    _encrypted_fields(msg, rvdk_reason=event.rvdk_reason, agreements=event.agreements)
    if event.monitor_until is not None:
        msg.monitor_until.CopyFrom(timestamp(event.monitor_until))
    return msg


def monitoring_changed(event: outputs.MonitoringChanged) -> radar_events.MonitoringChanged:
    return radar_events.MonitoringChanged(
        tenant_id=event.tenant_id, case_id=event.case_id, monitor_until=timestamp(event.monitor_until),
        changed_at=timestamp(event.changed_at), reason=encrypted_field(event.reason),
        change=radar_events.MONITORING_CHANGE_ENDED if event.ended else radar_events.MONITORING_CHANGE_EXTENDED)


# ---- table values (JSON) ---------------------------------------------------------------------------------------

def due_text(due: outputs.AssessmentDue) -> str:
    """The AssessmentDue as radar published it, kept in its case record (CaseRecord.due) for GetAssessment."""
    return base64.b64encode(assessment_due(due).SerializeToString()).decode()


def due_from_text(text: str) -> radar_events.AssessmentDue:
    return radar_events.AssessmentDue.FromString(base64.b64decode(text))


# ---- gRPC requests and responses -------------------------------------------------------------------------------

def decision_response(event_id: str, decided_at: dt.datetime,
                      onderzoek_due_at: dt.datetime | None) -> radar_service_pb2.RecordDecisionResponse:
    reply = radar_service_pb2.RecordDecisionResponse(event_id=event_id, decided_at=timestamp(decided_at))
    if onderzoek_due_at is not None:
        reply.onderzoek_due_date.CopyFrom(date(calendar.local_date(onderzoek_due_at)))
    return reply


def overdue_deadline(i: OverdueDeadline) -> radar_service_pb2.OverdueDeadline:
    return radar_service_pb2.OverdueDeadline(case_id=i.case_id, kind=_KINDS[i.kind],
                                             due_date=date(calendar.local_date(i.due_at)), due_at=timestamp(i.due_at))


def overdue_from(message: radar_service_pb2.OverdueDeadline) -> OverdueDeadline:
    """Another radar worker's deadline (radar.workers): written by overdue_deadline, so its kind is known."""
    kind = deadline_kind(message.kind)
    assert kind is not None, message.kind
    return OverdueDeadline(message.case_id, kind, to_datetime(message.due_at))


def overdue_response(items: list[OverdueDeadline], next_page_token: str = "") -> radar_service_pb2.ListOverdueResponse:
    return radar_service_pb2.ListOverdueResponse(next_page_token=next_page_token,
                                                 overdue=[overdue_deadline(i) for i in items])


def assessment_response(record: CaseRecord, collected: list[AssessmentInputOut]
                        ) -> radar_service_pb2.GetAssessmentResponse:
    """The AssessmentDue radar published, due when the case is due: a household episode at the earliest deadline
    of its meldingen (EpisodeJoined moves CaseRecord.due_at)."""
    due = due_from_text(record.due) if record.due else None
    if due is not None and record.due_at is not None and due.due_at != timestamp(record.due_at):
        due.due_at.CopyFrom(timestamp(record.due_at))
        due.due_date.CopyFrom(date(calendar.local_date(record.due_at)))
    return radar_service_pb2.GetAssessmentResponse(due=due, inputs=[assessment_input(i) for i in collected])


def lookup_response(views: list[InvolvementView]) -> radar_service_pb2.LookupInvolvementResponse:
    return radar_service_pb2.LookupInvolvementResponse(involvements=[involvement(v) for v in views])


def outcome_request(request: radar_service_pb2.RecordOnderzoekOutcomeRequest) -> DecisionInput:
    return DecisionInput(request.case_id, judgement(request.judgement), decision(request.follow_up),
                        request.overdracht_to, request.responsible_for_safety, request.agreements,
                        rvdk_reason=rvdk_reason(request), overdracht_receiver_id=request.overdracht_receiver_id)


def started_response(at: dt.datetime, within_norm: bool, due_at: dt.datetime | None
                     ) -> radar_service_pb2.RecordOnderzoekStartedResponse:
    reply = radar_service_pb2.RecordOnderzoekStartedResponse(started_at=timestamp(at), within_norm=within_norm)
    if due_at is not None:
        reply.onderzoek_due_date.CopyFrom(date(calendar.local_date(due_at)))
    return reply


def outcome_response(event_id: str, at: dt.datetime, within_norm: bool, monitor_until: dt.datetime | None
                     ) -> radar_service_pb2.RecordOnderzoekOutcomeResponse:
    reply = radar_service_pb2.RecordOnderzoekOutcomeResponse(event_id=event_id, completed_at=timestamp(at),
                                                             within_norm=within_norm)
    if monitor_until is not None:
        reply.monitor_until.CopyFrom(timestamp(monitor_until))
    return reply


def to_date(value: common_pb2.Date) -> dt.date | None:
    if not value.year:
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        return None


def _figure(f: Figure) -> radar_service_pb2.NormFigure:
    return radar_service_pb2.NormFigure(total=f.total, on_time=f.on_time, share=round(f.share, 4), norm=f.norm,
                                        meets_norm=f.meets_norm)


def norms_from(message: radar_service_pb2.GetNormsResponse) -> Norms:
    """Another radar worker's figures (radar.workers); share and meets_norm follow from the counts."""
    def figure(f: radar_service_pb2.NormFigure) -> Figure:
        return Figure(f.total, f.on_time, f.norm)

    return Norms(figure(message.assessments), figure(message.onderzoeken), message.open_assessments,
                 message.overdue_assessments, message.open_onderzoeken, message.overdue_onderzoeken)


def norms_response(n: Norms) -> radar_service_pb2.GetNormsResponse:
    return radar_service_pb2.GetNormsResponse(
        assessments=_figure(n.assessments), onderzoeken=_figure(n.onderzoeken), open_assessments=n.open_assessments,
        overdue_assessments=n.overdue_assessments, open_onderzoeken=n.open_onderzoeken,
        overdue_onderzoeken=n.overdue_onderzoeken)
