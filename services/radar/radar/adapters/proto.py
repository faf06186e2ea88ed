"""The only place where protobuf messages and radar's domain objects meet."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from google.protobuf.timestamp_pb2 import Timestamp
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2 as radar_events
from vt.radar.v1 import radar_service_pb2
from vt.rvdk.v1 import events_pb2 as rvdk_events
from vt.verwijsindex.v1 import events_pb2 as verwijsindex_events
from vtkit import calendar
from vtkit.crypto import Ciphertext, Sealed
from vtkit.kafka import PermanentError

from radar.domain.cases import CaseRecord, DeadlineKind, Decision, OverdueDeadline
from radar.domain.deadlines import Deadline
from radar.domain.decisions import (
    Consequences,
    DecisionInput,
    HouseholdNotice,
    Judgement,
    MelderFeedback,
    RvdkGround,
    RvdkReason,
)
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

MeldingReceived = intake_events.MeldingReceived
DossierDestroyed = intake_events.DossierDestroyed
RvdkSignal = rvdk_events.RvdkSignal
PersonSignal = radar_events.PersonSignal
AssessmentCompleted = radar_events.AssessmentCompleted
DeadlineOverdue = radar_events.DeadlineOverdue
EpisodeJoined = radar_events.EpisodeJoined
OnderzoekStarted = radar_events.OnderzoekStarted
OnderzoekCompleted = radar_events.OnderzoekCompleted
MonitoringChanged = radar_events.MonitoringChanged
SignalMatch = verwijsindex_events.SignalMatch

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


def sealed(identifier: common_pb2.SealedIdentifier) -> Sealed:
    return Sealed(identifier.recipient, identifier.ephemeral_public_key, identifier.nonce, identifier.ciphertext)


# ---- inputs ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SealedPerson:
    person_id: str
    identity: Sealed | None  # None: no identifier to match on


def persons_of(melding: intake_events.MeldingReceived) -> list[SealedPerson]:
    return [SealedPerson(p.person_id, sealed(p.sealed_identity) if p.HasField("sealed_identity") else None)
            for p in melding.persons]


def assessment_due(melding: intake_events.MeldingReceived, deadline: Deadline) -> radar_events.AssessmentDue:
    due = radar_events.AssessmentDue(
        tenant_id=melding.tenant_id, case_id=melding.contact_id, received_at=melding.received_at,
        acute=melding.acute, due_date=date(deadline.due_date), due_at=timestamp(deadline.due_at),
        melder_type=melding.melder_type, melder_may_be_named=melding.melder_may_be_named)
    if melding.HasField("melder"):
        due.melder.CopyFrom(melding.melder)
    return due


def melding_signal(pseudonym: str, fact: MeldingFact) -> radar_events.PersonSignal:
    signal = radar_events.PersonSignal(pseudonym=pseudonym, melding=radar_events.MeldingSignal(
        tenant_id=fact.tenant_id, case_id=fact.case_id, person_id=fact.person_id,
        received_at=timestamp(fact.received_at)))
    if fact.due_at is not None:
        signal.melding.due_at.CopyFrom(timestamp(fact.due_at))
    return signal


def rvdk_info(signal: rvdk_events.RvdkSignal) -> radar_events.RvdkInfo:
    return radar_events.RvdkInfo(signal_id=signal.signal_id, kind=signal.kind, observed_at=signal.observed_at,
                                 rvdk_office=signal.rvdk_office)


def rvdk_signal(pseudonym: str, signal: rvdk_events.RvdkSignal) -> radar_events.PersonSignal:
    return radar_events.PersonSignal(pseudonym=pseudonym, rvdk=rvdk_info(signal))


def verwijsindex_match_signal(pseudonym: str, match: verwijsindex_events.SignalMatch) -> radar_events.PersonSignal:
    """Only the match id, kind and moment: the registrants' (encrypted) contacts stay with the notifier."""
    return radar_events.PersonSignal(pseudonym=pseudonym, verwijsindex_match=radar_events.VerwijsindexMatchInfo(
        match_id=match.match_id, kind=match.kind, matched_at=match.matched_at))


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


def case_closed_signal(pseudonym: str, fact: CaseClosedFact, chosen: Decision) -> radar_events.PersonSignal:
    closed = radar_events.CaseClosed(tenant_id=fact.tenant_id, case_id=fact.case_id, person_id=fact.person_id,
                                     closed_at=timestamp(fact.closed_at),
                                     decision=_DECISIONS_BACK.get(chosen, radar_events.DECISION_UNSPECIFIED))
    if fact.monitor_until is not None:
        closed.monitor_until.CopyFrom(timestamp(fact.monitor_until))
    closed.onderzoek_running = fact.onderzoek_open
    return radar_events.PersonSignal(pseudonym=pseudonym, case_closed=closed)


def case_destroyed_signal(pseudonym: str, fact: CaseDestroyedFact) -> radar_events.PersonSignal:
    return radar_events.PersonSignal(pseudonym=pseudonym, case_destroyed=radar_events.CaseDestroyed(
        tenant_id=fact.tenant_id, case_id=fact.case_id))


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


# ---- outputs ---------------------------------------------------------------------------------------------------

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


def rvdk_info_of(fact: RvdkFact) -> radar_events.RvdkInfo:
    return radar_events.RvdkInfo(signal_id=fact.signal_id, kind=fact.kind,  # type: ignore[arg-type]
                                 observed_at=timestamp(fact.observed_at), rvdk_office=fact.office)


def assessment_input(data: AssessmentInputOut) -> radar_events.AssessmentInput:
    return radar_events.AssessmentInput(
        tenant_id=data.tenant_id, case_id=data.case_id, person_id=data.person_id,
        earlier_case_ids=list(data.earlier_case_ids),
        other_organisations=[involvement(v) for v in data.other_organisations],
        rvdk=[rvdk_info_of(r) for r in data.rvdk], collected_at=timestamp(data.collected_at),
        repeat_melding=data.repeat_melding, repeat_of_case_id=data.repeat_of_case_id,
        joins_case_id=data.joins_case_id, joined_by_case_ids=list(data.joined_by_case_ids),
        verwijsindex_matches=[radar_events.VerwijsindexMatchInfo(match_id=m.match_id, kind=m.kind,  # type: ignore[arg-type]
                                                                 matched_at=timestamp(m.matched_at))
                              for m in data.verwijsindex_matches])


def monitoring_alert(alert: MonitoringAlertOut) -> radar_events.MonitoringAlert:
    msg = radar_events.MonitoringAlert(tenant_id=alert.tenant_id, case_id=alert.case_id, person_id=alert.person_id,
                                       trigger=_TRIGGERS[alert.trigger], detected_at=timestamp(alert.detected_at))
    if alert.other is not None:
        msg.other.CopyFrom(involvement(alert.other))
    if alert.rvdk is not None:
        msg.rvdk.CopyFrom(rvdk_info_of(alert.rvdk))
    if alert.verwijsindex_match is not None:
        v = alert.verwijsindex_match
        msg.verwijsindex_match.CopyFrom(radar_events.VerwijsindexMatchInfo(
            match_id=v.match_id, kind=v.kind, matched_at=timestamp(v.matched_at)))  # type: ignore[arg-type]
    return msg


def deadline_overdue(record: CaseRecord, now: dt.datetime,
                     kind: DeadlineKind = DeadlineKind.ASSESSMENT) -> radar_events.DeadlineOverdue:
    due_at = record.due_at if kind is DeadlineKind.ASSESSMENT else record.onderzoek_due_at
    assert due_at is not None
    return radar_events.DeadlineOverdue(tenant_id=record.tenant_id, case_id=record.case_id, kind=_KINDS[kind],
                                        due_at=timestamp(due_at), detected_at=timestamp(now))


def assessment_completed(tenant: str, chosen: DecisionInput, decided_at: dt.datetime, then: Consequences,
                         agreements: Ciphertext | None, rvdk: Ciphertext | None = None
                         ) -> radar_events.AssessmentCompleted:
    msg = radar_events.AssessmentCompleted(
        tenant_id=tenant, case_id=chosen.case_id, judgement=_JUDGEMENTS_BACK[chosen.judgement],
        decision=_DECISIONS_BACK[chosen.decision], overdracht_to=chosen.overdracht_to.strip(),
        responsible_for_safety=chosen.responsible_for_safety.strip(), decided_at=timestamp(decided_at),
        melder_callback_required=then.melder_callback_required, household_letter_required=then.household_letter_required,
        rvdk_request=then.rvdk_request, municipality_notice=then.municipality_notice,
        overdracht_receiver_id=chosen.overdracht_receiver_id.strip())
    if agreements is not None:
        msg.agreements.CopyFrom(common_pb2.EncryptedField(key_id=agreements.key_id, nonce=agreements.nonce,
                                                          ciphertext=agreements.ciphertext))
    if rvdk is not None:
        msg.rvdk_reason.CopyFrom(encrypted_field(rvdk))
    if then.onderzoek is not None:
        msg.onderzoek_due_date.CopyFrom(date(then.onderzoek.due_date))
        msg.onderzoek_due_at.CopyFrom(timestamp(then.onderzoek.due_at))
    return msg


def decision_response(event_id: str, decided_at: dt.datetime,
                      onderzoek_due_at: dt.datetime | None) -> radar_service_pb2.RecordDecisionResponse:
    reply = radar_service_pb2.RecordDecisionResponse(event_id=event_id, decided_at=timestamp(decided_at))
    if onderzoek_due_at is not None:
        reply.onderzoek_due_date.CopyFrom(date(calendar.local_date(onderzoek_due_at)))
    return reply


def overdue_response(items: list[OverdueDeadline], next_page_token: str = "") -> radar_service_pb2.ListOverdueResponse:
    return radar_service_pb2.ListOverdueResponse(next_page_token=next_page_token, overdue=[
        radar_service_pb2.OverdueDeadline(case_id=i.case_id, kind=_KINDS[i.kind],
                                          due_date=date(calendar.local_date(i.due_at)), due_at=timestamp(i.due_at))
        for i in items])


# ---- table values (JSON) ---------------------------------------------------------------------------------------

def due_to_text(due: radar_events.AssessmentDue) -> str:
    return base64.b64encode(due.SerializeToString()).decode()


def due_from_text(text: str) -> radar_events.AssessmentDue:
    return radar_events.AssessmentDue.FromString(base64.b64decode(text))


# ---- gRPC responses --------------------------------------------------------------------------------------------

def assessment_response(due_text: str, inputs: list[AssessmentInputOut]) -> radar_service_pb2.GetAssessmentResponse:
    return radar_service_pb2.GetAssessmentResponse(due=due_from_text(due_text) if due_text else None,
                                                   inputs=[assessment_input(i) for i in inputs])


def lookup_response(views: list[InvolvementView]) -> radar_service_pb2.LookupInvolvementResponse:
    return radar_service_pb2.LookupInvolvementResponse(involvements=[involvement(v) for v in views])


# -- the onderzoek and monitoring ---------------------------------------------------------------------------


def outcome_request(request: radar_service_pb2.RecordOnderzoekOutcomeRequest) -> DecisionInput:
    return DecisionInput(request.case_id, judgement(request.judgement), decision(request.follow_up),
                        request.overdracht_to, request.responsible_for_safety, request.agreements,
                        rvdk_reason=rvdk_reason(request), overdracht_receiver_id=request.overdracht_receiver_id)


def outcome_of(completed: radar_events.OnderzoekCompleted) -> DecisionInput:
    return DecisionInput(completed.case_id, judgement(completed.judgement), decision(completed.follow_up),
                        completed.overdracht_to, completed.responsible_for_safety, "",
                        overdracht_receiver_id=completed.overdracht_receiver_id)


def onderzoek_completed(tenant: str, outcome: DecisionInput, at: dt.datetime, within_norm: bool,
                        monitor_until: dt.datetime | None, agreements: Ciphertext | None,
                        rvdk: Ciphertext | None = None) -> radar_events.OnderzoekCompleted:
    msg = radar_events.OnderzoekCompleted(
        tenant_id=tenant, case_id=outcome.case_id, judgement=_JUDGEMENTS_BACK[outcome.judgement],
        follow_up=_DECISIONS_BACK[outcome.decision], overdracht_to=outcome.overdracht_to,
        responsible_for_safety=outcome.responsible_for_safety, completed_at=timestamp(at), within_norm=within_norm,
        overdracht_receiver_id=outcome.overdracht_receiver_id.strip())
    if rvdk is not None:
        msg.rvdk_reason.CopyFrom(encrypted_field(rvdk))
    if monitor_until is not None:
        msg.monitor_until.CopyFrom(timestamp(monitor_until))
    if agreements is not None:
        msg.agreements.CopyFrom(encrypted_field(agreements))
    return msg


def monitoring_changed(tenant: str, case_id: str, ended: bool, until: dt.datetime, at: dt.datetime,
                       reason: Ciphertext) -> radar_events.MonitoringChanged:
    return radar_events.MonitoringChanged(
        tenant_id=tenant, case_id=case_id, monitor_until=timestamp(until), changed_at=timestamp(at),
        change=radar_events.MONITORING_CHANGE_ENDED if ended else radar_events.MONITORING_CHANGE_EXTENDED,
        reason=encrypted_field(reason))


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


def norms_response(n: Norms) -> radar_service_pb2.GetNormsResponse:
    return radar_service_pb2.GetNormsResponse(
        assessments=_figure(n.assessments), onderzoeken=_figure(n.onderzoeken), open_assessments=n.open_assessments,
        overdue_assessments=n.overdue_assessments, open_onderzoeken=n.open_onderzoeken,
        overdue_onderzoeken=n.overdue_onderzoeken)


# -- the household episode ------------------------------------------------------------------------------------


def episode_joined(join: EpisodeJoinOut, at: dt.datetime) -> radar_events.EpisodeJoined:
    msg = radar_events.EpisodeJoined(tenant_id=join.tenant_id, episode_case_id=join.episode_case_id,
                                     case_id=join.case_id, joined_at=timestamp(at))
    if join.due_at is not None:
        msg.due_at.CopyFrom(timestamp(join.due_at))
    return msg


def with_due_at(due_text: str, due_at: dt.datetime) -> str:
    """The stored AssessmentDue of an episode whose deadline moved to an earlier melding's."""
    if not due_text:
        return due_text
    due = due_from_text(due_text)
    due.due_at.CopyFrom(timestamp(due_at))
    due.due_date.CopyFrom(date(calendar.local_date(due_at)))
    return due_to_text(due)


def member_completed(lead: radar_events.AssessmentCompleted, case_id: str) -> radar_events.AssessmentCompleted:
    """The episode's decision for one melding that joined it: its melder is called back; the household letter,
    an RvdK request and the onderzoek are the episode's, not repeated."""
    return radar_events.AssessmentCompleted(
        tenant_id=lead.tenant_id, case_id=case_id, judgement=lead.judgement, decision=lead.decision,
        overdracht_to=lead.overdracht_to, responsible_for_safety=lead.responsible_for_safety,
        decided_at=lead.decided_at, melder_callback_required=True, household_letter_required=False,
        episode_case_id=lead.case_id)


def ciphertext(field: common_pb2.EncryptedField) -> Ciphertext:
    return Ciphertext(field.key_id, field.nonce, field.ciphertext)


def joined_onderzoek(episode: CaseRecord, case_id: str, at: dt.datetime) -> radar_events.AssessmentCompleted:
    """A melding that joined its household's running onderzoek is decided with it: no onderzoek of its own, its
    melder called back, no household letter of its own."""
    return radar_events.AssessmentCompleted(
        tenant_id=episode.tenant_id, case_id=case_id,
        judgement=_JUDGEMENTS_BACK.get(Judgement(episode.judgement or "unspecified"),
                                       radar_events.SAFETY_JUDGEMENT_UNSPECIFIED),
        decision=radar_events.DECISION_ONDERZOEK, responsible_for_safety=episode.responsible_for_safety,
        decided_at=timestamp(at), melder_callback_required=True, household_letter_required=False,
        episode_case_id=episode.case_id)
