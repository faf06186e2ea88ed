"""The consumed events, translated into the facts the use cases act on (notifier.domain.causes): the one place
notifier.consumer's events are read. What the notifier passes on unread is kept as it arrived (serialized), so it
reaches its receiver byte for byte.

A timestamp or a date that cannot be a datetime, or an enum value this notifier does not know, raises InvalidCause
(the record is dead-lettered); the use cases check the rest (a missing tenant, an unknown region)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from google.protobuf.message import Message
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2 as radar_events
from vt.rvdk.v1 import events_pb2 as rvdk_events
from vt.verwijsindex.v1 import events_pb2 as vi_events

from notifier.adapters.proto import to_date, to_datetime
from notifier.domain.causes import (
    AmbtshalveMeldingFacts,
    AssessmentCompletedFacts,
    AssessmentDueFacts,
    AssessmentInputFacts,
    DeadlineOverdueFacts,
    Decision,
    DossierDestroyedFacts,
    EmergencyAccessFacts,
    EpisodeJoinedFacts,
    Facts,
    InvalidCause,
    MeldingReceivedFacts,
    MonitoringAlertFacts,
    OnderzoekCompletedFacts,
    Opaque,
    RegisterMatchFacts,
    SealedContact,
    SignalMatchFacts,
    YouthRelocatedFacts,
)
from notifier.domain.inbox import Change, Deadline, InputView, MatchView, RvdkView, Source

_RVDK_KIND = rvdk_events.RvdkSignalKind
_TRIGGER_SOURCE = {
    radar_events.MONITORING_TRIGGER_MELDING_SAME_ORGANISATION: Source.MELDING_SAME_ORGANISATION,
    radar_events.MONITORING_TRIGGER_MELDING_OTHER_ORGANISATION: Source.OTHER_VT_ORGANISATION,
    radar_events.MONITORING_TRIGGER_RVDK: Source.RVDK,
    radar_events.MONITORING_TRIGGER_VERWIJSINDEX_MATCH: Source.VERWIJSINDEX,
}
_DEADLINES = {radar_events.DEADLINE_KIND_ASSESSMENT: Deadline.ASSESSMENT,
              radar_events.DEADLINE_KIND_ONDERZOEK: Deadline.ONDERZOEK}


def _stamp(msg: Any, name: str) -> dt.datetime | None:
    return to_datetime(getattr(msg, name), msg.HasField(name))


def _name(enum: Any, value: int) -> str:
    """An enum value's name. A value this notifier does not know (a newer producer) cannot be told on: the record
    is dead-lettered (and can be re-driven after an upgrade) instead of stopping the consumer."""
    try:
        return str(enum.Name(value))
    except ValueError:
        raise InvalidCause(f"unknown {enum.DESCRIPTOR.name} {value}") from None


def _opaque(msg: Any, name: str) -> Opaque | None:
    """A part passed on unread: as it arrived, or None when the event does not have it."""
    return getattr(msg, name).SerializeToString() if msg.HasField(name) else None


def assessment_due(msg: radar_events.AssessmentDue) -> AssessmentDueFacts:
    if not msg.tenant_id or not msg.case_id:
        raise InvalidCause("AssessmentDue without tenant_id or case_id")
    return AssessmentDueFacts(tenant_id=msg.tenant_id, case_id=msg.case_id, received_at=_stamp(msg, "received_at"),
                              acute=msg.acute, due_date=to_date(msg.due_date), melder=_opaque(msg, "melder"))


def register_match(msg: radar_events.RegisterMatch) -> RegisterMatchFacts:
    if not msg.addressed_to or not msg.own_case_id:
        raise InvalidCause("RegisterMatch without addressed_to or own_case_id")
    return RegisterMatchFacts(match_id=msg.match_id, addressed_to=msg.addressed_to, case_id=msg.own_case_id,
                              person_id=msg.own_person_id, other_tenant_id=msg.other.tenant_id,
                              other=_opaque(msg, "other"))


def _decision(msg: radar_events.AssessmentCompleted) -> Decision:
    rvdk_request = bool(getattr(msg, "rvdk_request", False))  # absent in older schemas: False
    return Decision(tenant_id=msg.tenant_id, case_id=msg.case_id,
                    rvdk_request=rvdk_request or msg.decision == radar_events.DECISION_RVDK_REQUEST,
                    overdracht=msg.decision == radar_events.DECISION_OVERDRACHT,
                    overdracht_receiver_id=msg.overdracht_receiver_id, as_received=msg.SerializeToString())


def assessment_completed(msg: radar_events.AssessmentCompleted) -> AssessmentCompletedFacts:
    return AssessmentCompletedFacts(tenant_id=msg.tenant_id, case_id=msg.case_id, decided_at=_stamp(msg, "decided_at"),
                                    agreements=_opaque(msg, "agreements"),
                                    melder_feedback=_opaque(msg, "melder_feedback"),
                                    episode_case_id=msg.episode_case_id, decision=_decision(msg))


def follow_up_decision(outcome: radar_events.OnderzoekCompleted) -> radar_events.AssessmentCompleted:
    """The onderzoek's outcome in the shape of a decision, for the notices that follow it (notifier.notices). Its
    encrypted fields stay as they are: they open with the outcome's event id, the delivery's cause."""
    decided = radar_events.AssessmentCompleted(
        tenant_id=outcome.tenant_id, case_id=outcome.case_id, judgement=outcome.judgement, decision=outcome.follow_up,
        overdracht_to=outcome.overdracht_to, responsible_for_safety=outcome.responsible_for_safety,
        overdracht_receiver_id=outcome.overdracht_receiver_id,
        rvdk_request=outcome.follow_up == radar_events.DECISION_RVDK_REQUEST)
    if outcome.HasField("completed_at"):
        decided.decided_at.CopyFrom(outcome.completed_at)
    if outcome.HasField("agreements"):
        decided.agreements.CopyFrom(outcome.agreements)
    if outcome.HasField("rvdk_reason"):
        decided.rvdk_reason.CopyFrom(outcome.rvdk_reason)
    return decided


def onderzoek_completed(msg: radar_events.OnderzoekCompleted) -> OnderzoekCompletedFacts:
    return OnderzoekCompletedFacts(tenant_id=msg.tenant_id, case_id=msg.case_id,
                                   completed_at=_stamp(msg, "completed_at"),
                                   follow_up=_decision(follow_up_decision(msg)))


def input_view(msg: radar_events.AssessmentInput) -> InputView:
    return InputView(
        other_organisations=tuple((o.tenant_id, _stamp(o, "since")) for o in msg.other_organisations),
        rvdk=tuple(RvdkView(r.signal_id, _name(_RVDK_KIND, r.kind), r.rvdk_office, _stamp(r, "observed_at"))
                   for r in msg.rvdk),
        earlier_case_ids=tuple(msg.earlier_case_ids), joined_by_case_ids=tuple(msg.joined_by_case_ids),
        joins_case_id=msg.joins_case_id,
        verwijsindex_matches=tuple(MatchView(m.match_id, _name(vi_events.MatchKind, m.kind), _stamp(m, "matched_at"))
                                   for m in msg.verwijsindex_matches))


def stored_input_view(data: bytes) -> InputView:
    """The view of an input kept as it arrived (AssessmentInputFacts.as_received)."""
    return input_view(radar_events.AssessmentInput.FromString(data))


def assessment_input(msg: radar_events.AssessmentInput) -> AssessmentInputFacts:
    return AssessmentInputFacts(tenant_id=msg.tenant_id, case_id=msg.case_id, person_id=msg.person_id,
                                collected_at=_stamp(msg, "collected_at"), view=input_view(msg),
                                as_received=msg.SerializeToString())


def monitoring_alert(msg: radar_events.MonitoringAlert) -> MonitoringAlertFacts:
    source = _TRIGGER_SOURCE.get(msg.trigger)
    if source is None:
        raise InvalidCause(f"MonitoringAlert with trigger {msg.trigger}")
    at = _stamp(msg, "detected_at")
    signal = Change(source, at)
    if source is Source.OTHER_VT_ORGANISATION:
        signal = Change(source, _stamp(msg.other, "since") or at, organisation=msg.other.tenant_id)
    elif source is Source.RVDK:
        signal = Change(source, _stamp(msg.rvdk, "observed_at") or at, rvdk_kind=_name(_RVDK_KIND, msg.rvdk.kind),
                        rvdk_office=msg.rvdk.rvdk_office)
    elif source is Source.VERWIJSINDEX:
        signal = Change(source, at, match_kind=_name(vi_events.MatchKind, msg.verwijsindex_match.kind))
    return MonitoringAlertFacts(tenant_id=msg.tenant_id, case_id=msg.case_id, person_id=msg.person_id,
                                detected_at=at, signal=signal)


def deadline_overdue(msg: radar_events.DeadlineOverdue) -> DeadlineOverdueFacts:
    detected_at = _stamp(msg, "detected_at")
    deadline = _DEADLINES.get(msg.kind)
    if deadline is None:
        raise InvalidCause(f"DeadlineOverdue of kind {msg.kind}")
    return DeadlineOverdueFacts(tenant_id=msg.tenant_id, case_id=msg.case_id, deadline=deadline,
                                due_at=_stamp(msg, "due_at"), detected_at=detected_at)


def episode_joined(msg: radar_events.EpisodeJoined) -> EpisodeJoinedFacts:
    return EpisodeJoinedFacts(tenant_id=msg.tenant_id, case_id=msg.case_id, episode_case_id=msg.episode_case_id)


def melding_received(msg: intake_events.MeldingReceived) -> MeldingReceivedFacts:
    return MeldingReceivedFacts(tenant_id=msg.tenant_id, contact_id=msg.contact_id,
                                received_at=_stamp(msg, "received_at"), as_received=msg.SerializeToString())


def emergency_access(msg: intake_events.EmergencyAccess) -> EmergencyAccessFacts:
    return EmergencyAccessFacts(tenant_id=msg.tenant_id, contact_id=msg.contact_id, by_tenant_id=msg.by_tenant_id,
                                by_user=msg.by_user, at=_stamp(msg, "at"), reason=msg.reason.SerializeToString())


def dossier_destroyed(msg: intake_events.DossierDestroyed) -> DossierDestroyedFacts:
    reason = _name(intake_events.DestructionReason, msg.reason).removeprefix("DESTRUCTION_REASON_").lower()
    return DossierDestroyedFacts(tenant_id=msg.tenant_id, dossier_id=msg.dossier_id,
                                 contact_ids=tuple(msg.contact_ids), reason=reason)


def ambtshalve_melding(msg: intake_events.AmbtshalveMeldingMade) -> AmbtshalveMeldingFacts:
    return AmbtshalveMeldingFacts(tenant_id=msg.tenant_id, melding_id=msg.melding_id,
                                  professional_to_be_informed=msg.professional_to_be_informed,
                                  as_received=msg.SerializeToString())


def _registrants(msg: vi_events.SignalMatch | vi_events.YouthRelocated) -> tuple[SealedContact, ...]:
    return tuple(SealedContact(r.registrant_id, r.contact.SerializeToString()) for r in msg.registrants)


def signal_match(msg: vi_events.SignalMatch) -> SignalMatchFacts:
    return SignalMatchFacts(match_id=msg.match_id, match_kind=_name(vi_events.MatchKind, msg.kind),
                            different_youths=msg.different_youths, municipality_code=msg.municipality_code,
                            registrants=_registrants(msg))


def youth_relocated(msg: vi_events.YouthRelocated) -> YouthRelocatedFacts:
    return YouthRelocatedFacts(notice_id=msg.notice_id, from_municipality_code=msg.from_municipality_code,
                               to_municipality_code=msg.to_municipality_code, regievoerder_id=msg.regievoerder_id,
                               registrants=_registrants(msg))


_TRANSLATIONS: dict[type[Message], Callable[[Any], Facts]] = {
    radar_events.AssessmentDue: assessment_due,
    radar_events.RegisterMatch: register_match,
    radar_events.AssessmentCompleted: assessment_completed,
    radar_events.AssessmentInput: assessment_input,
    radar_events.MonitoringAlert: monitoring_alert,
    radar_events.DeadlineOverdue: deadline_overdue,
    radar_events.EpisodeJoined: episode_joined,
    radar_events.OnderzoekCompleted: onderzoek_completed,
    intake_events.MeldingReceived: melding_received,
    intake_events.DossierDestroyed: dossier_destroyed,
    intake_events.EmergencyAccess: emergency_access,
    intake_events.AmbtshalveMeldingMade: ambtshalve_melding,
    vi_events.SignalMatch: signal_match,
    vi_events.YouthRelocated: youth_relocated,
}


# The types on the notifier's topics it never acts on (RegisterEntry, CaseClosed, ...), by ce_type: the consumer
# passes them over before it verifies or decodes them (vtkit.kafka.consume). About one record per melding.
PASSED_OVER_TYPES = frozenset(
    m.full_name for package in (radar_events, intake_events, vi_events)
    for m in package.DESCRIPTOR.message_types_by_name.values()) - {t.DESCRIPTOR.full_name for t in _TRANSLATIONS}


def facts_of(message: Message) -> Facts | None:
    """The facts of a consumed event; None for the other types on these topics (RegisterEntry, ...): not ours."""
    translate = _TRANSLATIONS.get(type(message))
    return translate(message) if translate is not None else None
