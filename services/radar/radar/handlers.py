"""What radar does with each input record, independent of faust: decoded event in,
records to publish (and new table values) out. Raises PermanentError for input
that can never be processed (it goes to the dead-letter topic)."""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import message as pb_message
from vt.radar.v1 import events_pb2 as radar_events
from vtkit import topics
from vtkit.crypto import (
    Ciphertext,
    DecryptionError,
    KeyMissing,
    KeyShredded,
    KeyUnavailable,
    Pseudonymizer,
    SealOpener,
    TenantCipher,
    unwrap_opened,
)
from vtkit.envelope import Envelope, Event, encode, envelope_for
from vtkit.errors import FailedPrecondition
from vtkit.kafka import PermanentError
from vtkit.outbox import OutboxRecord

from radar.adapters import proto
from radar.domain.cases import (
    DEFAULT_MONITORING_DAYS,
    CaseRecord,
    DeadlineKind,
    Decision,
    joined_meldingen,
    monitoring_until,
)
from radar.domain.deadlines import assessment_deadline
from radar.domain.decisions import DecisionInput, consequences, validate
from radar.domain.history import (
    apply_case_closed,
    apply_case_destroyed,
    apply_melding,
    apply_rvdk,
    apply_verwijsindex_match,
)
from radar.domain.ids import derived_event_id
from radar.domain.lifecycle import (
    check_monitored,
    check_outcome,
    check_start,
    finished_within_norm,
    started_within_norm,
    validate_outcome,
    validate_reason,
)
from radar.domain.model import (
    CaseClosedFact,
    CaseDestroyedFact,
    MeldingFact,
    Outcome,
    PersonHistory,
    RvdkFact,
    VerwijsindexMatchFact,
)

SOURCE = "radar"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Out:
    topic: str
    key: str
    message: pb_message.Message
    envelope: Envelope

    def record(self) -> OutboxRecord:
        value, headers = encode(self.message, self.envelope)
        return OutboxRecord(self.topic, self.key.encode(), value, headers, self.envelope.id, self.envelope.tenant)


@dataclass
class IntakeResult:
    outputs: list[Out] = field(default_factory=list)
    case: CaseRecord | None = None


class DecisionConflict(FailedPrecondition):
    """The case was decided already, differently (FAILED_PRECONDITION; the message is the rule)."""

    def __init__(self, message: str):
        super().__init__(rule=message)


@dataclass(frozen=True)
class DecisionResult:
    output: Out | None  # None: the same decision was recorded before, nothing to publish
    event_id: str
    decided_at: dt.datetime
    onderzoek_due_at: dt.datetime | None


@dataclass(frozen=True)
class LifecycleResult:
    """A step after the decision: the event to publish (None: recorded before, a retry) and what to answer."""
    output: Out | None
    event_id: str
    at: dt.datetime
    within_norm: bool = False
    monitor_until: dt.datetime | None = None


def _out(topic: str, key: str, message: pb_message.Message, tenant: str, event_id: str, at: dt.datetime) -> Out:
    return Out(topic, key, message, envelope_for(message, source=SOURCE, tenant=tenant, event_id=event_id, time=at))


class Radar:
    def __init__(self, opener: SealOpener, pseudonymizer: Pseudonymizer,
                 monitoring_days: int = DEFAULT_MONITORING_DAYS,
                 tenant_cipher: Callable[[str], TenantCipher] | None = None,
                 case_cipher: Callable[[str, str], TenantCipher] | None = None):
        self._opener = opener
        self._pseudonymizer = pseudonymizer
        self.monitoring_days = monitoring_days
        self._tenant_cipher = tenant_cipher
        # (tenant, case id) -> the case's dossier cipher (vtkit KeyStore.case_cipher): the agreements about a
        # household are shredded with its dossier. Without it, the tenant key.
        self._case_cipher = case_cipher

    def pseudonym_of(self, sealed: Any, *, tenant: str = "", event_id: str = "", field: str = "") -> str:
        """Opens a sealed identifier; one intake wrapped under a dossier key also needs that key (tenant,
        event id and field bind it). KeyShredded: the dossier was destroyed; KeyMissing: a key radar should have."""
        try:
            opened = self._opener.open(sealed)
            cipher = self._tenant_cipher(tenant) if tenant and self._tenant_cipher is not None else None
            return self._pseudonymizer.pseudonym(unwrap_opened(opened, cipher, event_id=event_id, field=field))
        except KeyUnavailable:
            raise
        except DecryptionError as exc:
            raise PermanentError(f"sealed identifier cannot be opened: {exc}") from None

    # ---- vt.<tenant>.intake.v1 ---------------------------------------------------------------------------------

    def on_intake(self, event: Event, previous: CaseRecord | None = None) -> IntakeResult:
        msg = event.message
        if not isinstance(msg, proto.MeldingReceived):
            return IntakeResult()  # adviezen and other intake events carry no household data for radar
        if not msg.contact_id or not msg.tenant_id or not msg.HasField("received_at"):
            raise PermanentError("MeldingReceived without contact_id, tenant_id or received_at")
        if event.envelope.tenant and event.envelope.tenant != msg.tenant_id:
            raise PermanentError(f"envelope tenant {event.envelope.tenant!r} differs from tenant_id {msg.tenant_id!r}")
        ce_id, at = event.envelope.id, event.envelope.time
        received_at = proto.to_datetime(msg.received_at)
        # Open every identity first: a record that cannot be opened entirely produces nothing.
        persons = []
        for person in proto.persons_of(msg):
            if person.identity is None:
                log.warning("person without sealed identity is not matched",
                            extra={"case_id": msg.contact_id, "person_id": person.person_id})
                continue
            try:
                persons.append((person.person_id, self.pseudonym_of(
                    person.identity, tenant=msg.tenant_id, event_id=ce_id, field=f"identity:{person.person_id}")))
            except KeyShredded:
                # The household's dossier was destroyed (a replay of history): nothing of it is used again.
                log.info("melding of a destroyed dossier skipped", extra={"case_id": msg.contact_id})
                return IntakeResult()
            except KeyMissing as exc:
                # Not a destroyed dossier: a key this radar should have and has not. Skipping it would lose an
                # acknowledged melding; the dead letter keeps it for a re-drive once the key is there.
                log.error("melding needs a key radar does not have; dead-lettered, not skipped",
                          extra={"case_id": msg.contact_id, "tenant": msg.tenant_id})
                raise PermanentError(f"KeyMissing: {exc}") from None

        deadline = assessment_deadline(received_at, msg.acute)
        due = proto.assessment_due(msg, deadline)
        outputs = [_out(topics.NATIONAL_ASSESSMENTS, msg.contact_id, due, msg.tenant_id,
                        derived_event_id(ce_id, "assessment-due"), at)]
        for index, (person_id, pseudonym) in enumerate(persons):
            fact = MeldingFact(msg.tenant_id, msg.contact_id, person_id, received_at, deadline.due_at)
            outputs.append(_out(topics.NATIONAL_RADAR_PERSON, pseudonym, proto.melding_signal(pseudonym, fact),
                                msg.tenant_id, derived_event_id(ce_id, "person-signal", str(index), person_id), at))
        case = CaseRecord(msg.tenant_id, msg.contact_id, deadline.due_at, dict(persons), proto.due_to_text(due),
                          dossier_id=msg.dossier_id)
        if previous is not None and previous.tenant_id == msg.tenant_id:
            case.overdue_reported = previous.overdue_reported
        if previous is not None and previous.tenant_id == msg.tenant_id and previous.closed_at is not None:
            # The decision arrived before the melding itself: close the case for its persons now.
            case.close(previous.closed_at, previous.decision, self.monitoring_days, previous.decision_fingerprint,
                       previous.decision_event_id)
            case.onderzoek_overdue_reported = previous.onderzoek_overdue_reported
            outputs += self._closed_signals(case, derived_event_id(ce_id, "case-closed"), at)
        return IntakeResult(outputs, case)

    def on_dossier_destroyed(self, event: Event, cases: list[CaseRecord | None]) -> tuple[list[Out], list[str]]:
        """A region destroyed a household's dossier (crypto-shredded in intake): radar forgets its cases too.
        Returns a PersonSignal(case_destroyed) per person of each case, so every person history drops the
        case, and the ids of the case records to delete (their pending deadlines go with them)."""
        msg = event.message
        if not msg.tenant_id or (event.envelope.tenant and event.envelope.tenant != msg.tenant_id):
            raise PermanentError("DossierDestroyed without tenant_id, or of another tenant than its envelope")
        ce_id, at = event.envelope.id, event.envelope.time
        outputs, dropped = [], []
        for case in cases:
            if case is None or case.tenant_id != msg.tenant_id:
                continue  # an advies of the dossier (radar never had it), or another region's case id
            fact = CaseDestroyedFact(case.tenant_id, case.case_id)
            for person_id, pseudonym in case.persons.items():
                outputs.append(_out(topics.NATIONAL_RADAR_PERSON, pseudonym, proto.case_destroyed_signal(pseudonym, fact),
                                    case.tenant_id, derived_event_id(ce_id, "case-destroyed", case.case_id, person_id), at))
            dropped.append(case.case_id)
        return outputs, dropped

    # ---- vt.national.assessments.v1 (decisions, and radar's own overdue reports) -------------------------------

    def on_assessment(self, event: Event, record: CaseRecord | None,
                      case: Callable[[str], CaseRecord | None] = lambda case_id: None
                      ) -> tuple[list[Out], CaseRecord | None]:
        """Returns records to publish and the new case record (None: unchanged). `case` reads another case."""
        msg = event.message
        record = copy.deepcopy(record)
        if isinstance(msg, proto.EpisodeJoined):
            return self._on_episode_joined(event, record, case)
        if isinstance(msg, proto.AssessmentCompleted):
            if not msg.case_id or not msg.tenant_id or not msg.HasField("decided_at"):
                raise PermanentError("AssessmentCompleted without case_id, tenant_id or decided_at")
            if record is not None and record.tenant_id != msg.tenant_id:
                raise PermanentError(f"AssessmentCompleted of {msg.tenant_id!r} for a case of another tenant")
            record = record or CaseRecord(msg.tenant_id, msg.case_id)
            if record.closed:
                if record.decision_event_id == event.envelope.id:
                    # The same decision read again (after a broker loss radar's outbox publishes it again): what it
                    # derived may have gone with the lost broker, so it is emitted again under the same ids.
                    return (self._closed_signals(record, event.envelope.id, event.envelope.time)
                            + self._episode_decided(event, record, case)), None
                return [], None  # another decision is known already
            record.close(proto.to_datetime(msg.decided_at), proto.decision(msg.decision), self.monitoring_days,
                         proto.decision_of(msg).fingerprint(), event.envelope.id, msg.episode_case_id)
            record.judgement = proto.judgement(msg.judgement).value
            record.responsible_for_safety = msg.responsible_for_safety
            outs = self._closed_signals(record, event.envelope.id, event.envelope.time)
            return outs + self._episode_decided(event, record, case), record
        if isinstance(msg, (proto.OnderzoekStarted, proto.OnderzoekCompleted, proto.MonitoringChanged)):
            return self._on_lifecycle(event, record)
        if isinstance(msg, proto.DeadlineOverdue) and event.envelope.source == SOURCE and record is not None:
            # Reported once; the scan skips it from now on.
            kind = proto.deadline_kind(msg.kind)
            if kind is DeadlineKind.ASSESSMENT and not record.overdue_reported:
                record.overdue_reported = True
                return [], record
            if kind is DeadlineKind.ONDERZOEK and not record.onderzoek_overdue_reported:
                record.onderzoek_overdue_reported = True
                return [], record
        return [], None  # AssessmentDue / AssessmentInput / ...: radar's own output, nothing to do

    def _on_episode_joined(self, event: Event, record: CaseRecord | None,
                           case: Callable[[str], CaseRecord | None]) -> tuple[list[Out], CaseRecord | None]:
        """A melding joined this open assessment (radar's person agent found the shared directbetrokkene): the
        episode is due at the earliest deadline of its meldingen. A melding decided on its own before it
        could join stays its own."""
        msg = event.message
        if event.envelope.source != SOURCE:
            raise PermanentError(f"EpisodeJoined not written by radar ({event.envelope.source!r})")
        if record is None or record.tenant_id != msg.tenant_id:
            raise PermanentError("EpisodeJoined for a case radar does not know in that region")
        member = case(msg.case_id)
        if member is not None and (member.closed or member.tenant_id != record.tenant_id):
            return [], None
        before = record.due_at
        if not record.join(msg.case_id, proto.to_datetime(msg.due_at) if msg.HasField("due_at") else None):
            return [], None
        if record.closed:
            # A running onderzoek: the episode is decided already, so the joining melding is decided with it now
            # (the id its own decision would have: one decision either way; its melder is called back).
            joined_at = proto.to_datetime(msg.joined_at) if msg.HasField("joined_at") else event.envelope.time
            completed = proto.joined_onderzoek(record, msg.case_id, joined_at)
            return [_out(topics.NATIONAL_ASSESSMENTS, msg.case_id, completed, record.tenant_id,
                         derived_event_id(f"{record.tenant_id}|{msg.case_id}", "assessment-completed"),
                         event.envelope.time)], record
        if record.due_at is not None and record.due_at != before:
            record.due = proto.with_due_at(record.due, record.due_at)
            record.overdue_reported = False  # an earlier deadline is reported on its own
        return [], record

    def _episode_decided(self, event: Event, record: CaseRecord,
                         case: Callable[[str], CaseRecord | None]) -> list[Out]:
        """The decision on an episode covers every melding that joined it: one AssessmentCompleted per joined
        melding (its melder is called back, with the agreements under that melding's own dossier key)."""
        msg = event.message
        outs = []
        for member_id in record.episode_members:
            member = case(member_id)
            # The id RecordDecision gives that melding's decision: whichever of the two reaches the topic first is its
            # one decision everywhere (consumers dedupe on it), so a melding decided on its own while its
            # EpisodeJoined was in flight is never decided twice.
            event_id = derived_event_id(f"{record.tenant_id}|{member_id}", "assessment-completed")
            if member is not None and member.closed and member.decision_event_id != event_id:
                continue  # decided otherwise; one closed by this decision gets the same event again (replay)
            completed = proto.member_completed(msg, member_id)
            # The melder of each joined melding is told what the episode's melder is told, under that melding's
            # own dossier key; the household text stays with the episode's letter.
            for name in ("agreements", "melder_feedback"):
                if not msg.HasField(name):
                    continue
                try:
                    plain = self._agreements_cipher(record.tenant_id, record.dossier).decrypt(
                        proto.ciphertext(getattr(msg, name)), event_id=event.envelope.id, field=name)
                    sealed = self._agreements_cipher(record.tenant_id, member.dossier if member else member_id).encrypt(
                        plain, event_id=event_id, field=name)
                except (DecryptionError, DecisionConflict):  # a destroyed dossier: the callback goes without
                    log.warning("episode callback text not passed on", extra={"case_id": member_id, "field": name})
                    continue
                getattr(completed, name).CopyFrom(proto.encrypted_field(sealed))
            outs.append(_out(topics.NATIONAL_ASSESSMENTS, member_id, completed, record.tenant_id, event_id,
                             event.envelope.time))
        return outs

    def _on_lifecycle(self, event: Event, record: CaseRecord | None) -> tuple[list[Out], CaseRecord | None]:
        """A step after the decision, applied to the case (radar's own RPCs wrote it: from radar only). A step
        that arrives again, or for a case radar does not know as decided, changes nothing."""
        msg = event.message
        if event.envelope.source != SOURCE:
            raise PermanentError(f"{event.envelope.type} not written by radar ({event.envelope.source!r})")
        if record is None or not record.closed or record.tenant_id != msg.tenant_id:
            raise PermanentError(f"{event.envelope.type} for a case radar has no decision of")
        if isinstance(msg, proto.OnderzoekStarted):
            if record.onderzoek_started_at is None:
                record.onderzoek_started_at = proto.to_datetime(msg.started_at)
                return [], record
            return [], None
        if isinstance(msg, proto.OnderzoekCompleted):
            if record.onderzoek_completed_at is not None:
                return [], None
            record.onderzoek_completed_at = proto.to_datetime(msg.completed_at)
            record.onderzoek_follow_up = proto.decision(msg.follow_up)
            record.outcome_fingerprint, record.outcome_event_id = proto.outcome_of(msg).fingerprint(), event.envelope.id
            if msg.HasField("monitor_until"):
                record.monitor_until = proto.to_datetime(msg.monitor_until)
            # Told to the household's history either way: the onderzoek no longer takes joining meldingen.
        else:  # MonitoringChanged: the household's history learns the new end
            until = proto.to_datetime(msg.monitor_until)
            if record.monitor_until == until:
                return [], None
            record.monitor_until = until
        return self._closed_signals(record, event.envelope.id, event.envelope.time), record

    def _closed_signals(self, record: CaseRecord, ce_id: str, at: dt.datetime) -> list[Out]:
        assert record.closed_at is not None
        outs = []
        # After an onderzoek's outcome, the household's history knows the case by its follow-up.
        decision = record.onderzoek_follow_up if record.onderzoek_completed_at else record.decision
        for person_id, pseudonym in record.persons.items():
            fact = CaseClosedFact(record.tenant_id, record.case_id, person_id, record.closed_at, record.monitor_until,
                                  onderzoek_open=record.onderzoek_open)
            outs.append(_out(topics.NATIONAL_RADAR_PERSON, pseudonym,
                             proto.case_closed_signal(pseudonym, fact, decision), record.tenant_id,
                             derived_event_id(ce_id, "case-closed", person_id), at))
        return outs

    @staticmethod
    def overdue(records: list[CaseRecord], now: dt.datetime) -> list[Out]:
        """DeadlineOverdue for every undecided case past its deadline and every onderzoek past its 10 weeks.
        The event id depends on the case and kind only, so repeated scans (before the report is recorded)
        are duplicates downstream."""
        outs = []
        joined = joined_meldingen(records)
        for r in records:
            for kind, due in ((DeadlineKind.ASSESSMENT, r.is_overdue(now) and r.case_id not in joined),
                              (DeadlineKind.ONDERZOEK, r.is_onderzoek_overdue(now))):
                if due:
                    outs.append(_out(topics.NATIONAL_ASSESSMENTS, r.case_id, proto.deadline_overdue(r, now, kind),
                                     r.tenant_id, derived_event_id(r.case_id, "deadline-overdue", kind.value), now))
        return outs

    # ---- RadarService.RecordDecision ---------------------------------------------------------------------------

    @staticmethod
    def validate(chosen: DecisionInput) -> None:
        validate(chosen)

    def record_decision(self, tenant: str, record: CaseRecord, chosen: DecisionInput, now: dt.datetime,
                        episode: str = "") -> DecisionResult:
        """The AssessmentCompleted for a decision on one of `tenant`'s cases (validated by the caller).
        Its ce_id depends on tenant and case only: a retried call publishes the same event (consumers
        dedupe), a case decided before answers the recorded decision or raises DecisionConflict."""
        validate(chosen)
        event_id = derived_event_id(f"{tenant}|{chosen.case_id}", "assessment-completed")
        if episode and not record.closed:
            raise DecisionConflict(f"case_id: this melding joined the veiligheidsbeoordeling of case {episode} (its "
                                   f"household episode): record the decision on {episode}, it covers this melding")
        if record.closed:
            assert record.closed_at is not None
            if record.decision_fingerprint != chosen.fingerprint():
                raise DecisionConflict(f"case {chosen.case_id} was decided already ({record.decision.value})")
            return DecisionResult(None, record.decision_event_id or event_id, record.closed_at,
                                  record.onderzoek_due_at)
        then = consequences(chosen.decision, now)
        cipher = self._agreements_cipher(tenant, record.dossier)
        agreements = None
        if chosen.agreements:
            agreements = cipher.encrypt(chosen.agreements.encode(), event_id=event_id, field="agreements")
        msg = proto.assessment_completed(tenant, chosen, now, then, agreements,
                                         self._rvdk_reason(tenant, record.dossier, chosen, event_id))
        # What the melder is told and what the household is told travel apart, each sealed whole: the letter is
        # rendered from `household` only (docs/architecture.md, "What leaves Veilig Thuis").
        if feedback := chosen.told_to_melder():
            msg.melder_feedback.CopyFrom(proto.encrypted_field(cipher.encrypt(
                proto.melder_feedback_bytes(feedback), event_id=event_id, field="melder_feedback")))
        if chosen.household:
            msg.household.CopyFrom(proto.encrypted_field(cipher.encrypt(
                proto.household_bytes(chosen.household), event_id=event_id, field="household")))
        msg.episode_case_ids.extend(record.episode_members)
        return DecisionResult(_out(topics.NATIONAL_ASSESSMENTS, chosen.case_id, msg, tenant, event_id, now), event_id,
                              now, then.onderzoek.due_at if then.onderzoek else None)

    # ---- RadarService: the onderzoek and monitoring ------------------------------------------------------------

    def record_onderzoek_started(self, tenant: str, record: CaseRecord, now: dt.datetime) -> LifecycleResult:
        check_start(record)
        assert record.closed_at is not None
        event_id = derived_event_id(f"{tenant}|{record.case_id}", "onderzoek-started")
        if record.onderzoek_started_at is not None:
            return LifecycleResult(None, event_id, record.onderzoek_started_at,
                                   started_within_norm(record.closed_at, record.onderzoek_started_at))
        within = started_within_norm(record.closed_at, now)
        msg = proto.OnderzoekStarted(tenant_id=tenant, case_id=record.case_id, started_at=proto.timestamp(now),
                                     within_norm=within)
        return LifecycleResult(_out(topics.NATIONAL_ASSESSMENTS, record.case_id, msg, tenant, event_id, now),
                               event_id, now, within)

    def record_onderzoek_outcome(self, tenant: str, record: CaseRecord, outcome: DecisionInput,
                                 now: dt.datetime) -> LifecycleResult:
        validate_outcome(outcome)
        event_id = derived_event_id(f"{tenant}|{record.case_id}", "onderzoek-completed")
        if check_outcome(record, outcome):
            assert record.onderzoek_completed_at is not None
            return LifecycleResult(None, record.outcome_event_id or event_id, record.onderzoek_completed_at,
                                   finished_within_norm(record, record.onderzoek_completed_at), record.monitor_until)
        within = finished_within_norm(record, now)
        until = monitoring_until(outcome.decision, now, self.monitoring_days)
        agreements = None
        if outcome.agreements:
            agreements = self._agreements_cipher(tenant, record.dossier).encrypt(
                outcome.agreements.encode(), event_id=event_id, field="agreements")
        msg = proto.onderzoek_completed(tenant, outcome, now, within, until, agreements,
                                        self._rvdk_reason(tenant, record.dossier, outcome, event_id))
        return LifecycleResult(_out(topics.NATIONAL_ASSESSMENTS, record.case_id, msg, tenant, event_id, now),
                               event_id, now, within, until)

    def change_monitoring(self, tenant: str, record: CaseRecord, until: dt.datetime | None, reason: str,
                          now: dt.datetime) -> LifecycleResult:
        """End monitoring now (`until` None) or extend it to `until` (validated by extension_until)."""
        validate_reason(reason)
        check_monitored(record, now)
        ended = until is None
        new_end = now if until is None else until
        event_id = derived_event_id(f"{tenant}|{record.case_id}", "monitoring", new_end.isoformat())
        sealed = self._agreements_cipher(tenant, record.dossier).encrypt(reason.encode(), event_id=event_id,
                                                                         field="reason")
        msg = proto.monitoring_changed(tenant, record.case_id, ended, new_end, now, sealed)
        return LifecycleResult(_out(topics.NATIONAL_ASSESSMENTS, record.case_id, msg, tenant, event_id, now),
                               event_id, now, monitor_until=new_end)

    def _rvdk_reason(self, tenant: str, dossier_id: str, chosen: DecisionInput, event_id: str) -> Ciphertext | None:
        """The reason of an RvdK request, encrypted like the agreements (the household's dossier key, bound to the
        event and field "rvdk_reason"): case content never on Kafka in clear (docs/architecture.md "Outgoing
        notices")."""
        if chosen.rvdk_reason is None or chosen.decision is not Decision.RVDK_REQUEST:
            return None
        return self._agreements_cipher(tenant, dossier_id).encrypt(
            proto.rvdk_reason_bytes(chosen.rvdk_reason), event_id=event_id, field="rvdk_reason")

    def _agreements_cipher(self, tenant: str, dossier_id: str) -> TenantCipher:
        """The cipher of new data about a household (its dossier's key: shredded with the dossier)."""
        if self._case_cipher is not None:
            try:
                return self._case_cipher(tenant, dossier_id)
            except KeyError as exc:  # vtkit.keys.KeyDestroyed: the household's dossier was destroyed
                raise DecisionConflict(f"the dossier {dossier_id} was destroyed") from exc
        if self._tenant_cipher is None:
            raise RuntimeError("radar was built without tenant ciphers")
        return self._tenant_cipher(tenant)

    # ---- vt.national.rvdk.v1 -----------------------------------------------------------------------------------

    def on_rvdk(self, event: Event) -> list[Out]:
        msg = event.message
        if not isinstance(msg, proto.RvdkSignal):
            raise PermanentError(f"unexpected {event.envelope.type} on the RvdK topic")
        if not msg.signal_id or not msg.HasField("child"):
            raise PermanentError("RvdkSignal without signal_id or child")
        pseudonym = self.pseudonym_of(proto.sealed(msg.child))
        signal = proto.rvdk_signal(pseudonym, msg)
        return [_out(topics.NATIONAL_RADAR_PERSON, pseudonym, signal, "",
                     derived_event_id(event.envelope.id, "person-signal"), event.envelope.time)]

    # ---- vt.national.verwijsindex.v1 ---------------------------------------------------------------------------

    def on_verwijsindex(self, event: Event, key: bytes | None = None) -> list[Out]:
        """A SignalMatch is re-keyed onto its youth as a person signal: the verwijsindex derives
        youth_pseudonym with the same key from the same "bsn:<bsn>" as radar, so it is radar's person key.
        Other verwijsindex events (SignalRegistered, YouthRelocated) are ignored."""
        msg = event.message
        if not isinstance(msg, proto.SignalMatch):
            return []
        if not msg.match_id or not msg.youth_pseudonym or not msg.HasField("matched_at"):
            raise PermanentError("SignalMatch without match_id, youth_pseudonym or matched_at")
        if key is not None and key != msg.youth_pseudonym.encode():
            raise PermanentError("record key is not the youth pseudonym of the SignalMatch")
        signal = proto.verwijsindex_match_signal(msg.youth_pseudonym, msg)
        return [_out(topics.NATIONAL_RADAR_PERSON, msg.youth_pseudonym, signal, "",
                     derived_event_id(event.envelope.id, "person-signal"), event.envelope.time)]

    # ---- vt.national.radar-person.v1 ---------------------------------------------------------------------------

    def on_person_signal(self, event: Event, history: PersonHistory) -> tuple[list[Out], Outcome]:
        msg = event.message
        if not isinstance(msg, radar_events.PersonSignal) or not msg.pseudonym:
            raise PermanentError("not a PersonSignal with a pseudonym")
        fact = proto.signal_fact(msg)
        ce_id, at = event.envelope.id, event.envelope.time
        if isinstance(fact, MeldingFact):
            outcome = apply_melding(history, fact, ce_id, at)
        elif isinstance(fact, RvdkFact):
            outcome = apply_rvdk(history, fact, ce_id, at)
        elif isinstance(fact, CaseClosedFact):
            outcome = apply_case_closed(history, fact, ce_id)
        elif isinstance(fact, VerwijsindexMatchFact):
            outcome = apply_verwijsindex_match(history, fact, ce_id, at)
        elif isinstance(fact, CaseDestroyedFact):
            outcome = apply_case_destroyed(history, fact, ce_id)
        else:
            raise PermanentError(f"PersonSignal without a known signal ({msg.WhichOneof('signal')})")
        return self.outputs_of(msg.pseudonym, ce_id, at, outcome), outcome

    @staticmethod
    def outputs_of(pseudonym: str, ce_id: str, at: dt.datetime, outcome: Outcome) -> list[Out]:
        outs: list[Out] = []
        for entry in outcome.register_entries:
            outs.append(_out(topics.register(entry.tenant_id), pseudonym, proto.register_entry(pseudonym, entry),
                             entry.tenant_id, derived_event_id(ce_id, "register-entry", entry.case_id), at))
        for match in outcome.matches:
            match_id = derived_event_id(ce_id, "match", match.match_key)
            outs.append(_out(topics.register(match.addressed_to), pseudonym, proto.register_match(match_id, match),
                             match.addressed_to, derived_event_id(ce_id, "register-match", match.addressed_to), at))
        for data in outcome.inputs:
            outs.append(_out(topics.NATIONAL_ASSESSMENTS, data.case_id, proto.assessment_input(data), data.tenant_id,
                             derived_event_id(ce_id, "assessment-input", data.case_id, data.person_id), at))
        for alert in outcome.alerts:
            outs.append(_out(topics.NATIONAL_ASSESSMENTS, alert.case_id, proto.monitoring_alert(alert), alert.tenant_id,
                             derived_event_id(ce_id, "monitoring-alert", alert.case_id, alert.person_id), at))
        for join in outcome.joins:  # keyed by the episode's case: its agent records the member
            outs.append(_out(topics.NATIONAL_ASSESSMENTS, join.episode_case_id, proto.episode_joined(join, at),
                             join.tenant_id, derived_event_id(f"{join.tenant_id}|{join.case_id}", "episode-joined",
                                                              join.episode_case_id), at))
        return outs
