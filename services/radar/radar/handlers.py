"""Radar's use cases, on domain objects: an event radar read (radar.inputs, with its envelope) in, the events to
publish (radar.outputs.Out) and new table values out. radar.adapters.proto translates from and to protobuf; the
faust agents (radar.app) and RadarService (radar.grpc_api) call these. Raises PermanentError for input that can
never be processed (it goes to the dead-letter topic)."""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

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
from vtkit.envelope import Envelope
from vtkit.errors import FailedPrecondition
from vtkit.kafka import PermanentError

from radar import inputs, outputs
from radar.domain.cases import (
    DEFAULT_MONITORING_DAYS,
    CaseRecord,
    DeadlineKind,
    Decision,
    joined_meldingen,
    monitoring_until,
)
from radar.domain.deadlines import assessment_deadline
from radar.domain.decisions import (
    DecisionInput,
    HouseholdNotice,
    Judgement,
    MelderFeedback,
    RvdkReason,
    consequences,
    validate,
)
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
from radar.outputs import SOURCE, Out

log = logging.getLogger(__name__)


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


class Encoding(Protocol):
    """The byte forms the use cases keep or encrypt, which are protobuf's: radar.adapters.proto (the module) is it."""

    def due_text(self, due: outputs.AssessmentDue, /) -> str:
        """The AssessmentDue as published, kept in the case record (CaseRecord.due) for GetAssessment."""

    def melder_feedback_bytes(self, feedback: MelderFeedback, /) -> bytes: ...

    def household_bytes(self, notice: HouseholdNotice, /) -> bytes: ...

    def rvdk_reason_bytes(self, reason: RvdkReason, /) -> bytes: ...


class Radar:
    def __init__(self, opener: SealOpener, pseudonymizer: Pseudonymizer,
                 monitoring_days: int = DEFAULT_MONITORING_DAYS,
                 tenant_cipher: Callable[[str], TenantCipher] | None = None,
                 case_cipher: Callable[[str, str], TenantCipher] | None = None, *, encoding: Encoding,
                 tenant_reader: Callable[[str], TenantCipher] | None = None):
        self._opener = opener
        self._pseudonymizer = pseudonymizer
        self.monitoring_days = monitoring_days
        self._tenant_cipher = tenant_cipher
        # Opens what intake wrapped under a tenant's keys (vtkit KeyStore.tenant_reader: no key lookup per call).
        self._tenant_reader = tenant_reader or tenant_cipher
        # (tenant, case id) -> the case's dossier cipher (vtkit KeyStore.case_cipher): the agreements about a
        # household are shredded with its dossier. Without it, the tenant key.
        self._case_cipher = case_cipher
        self._encoding = encoding

    def pseudonym_of(self, sealed: Any, *, tenant: str = "", event_id: str = "", field: str = "") -> str:
        """Opens a sealed identifier; one intake wrapped under a dossier key also needs that key (tenant,
        event id and field bind it). KeyShredded: the dossier was destroyed; KeyMissing: a key radar should have."""
        try:
            opened = self._opener.open(sealed)
            cipher = self._tenant_reader(tenant) if tenant and self._tenant_reader is not None else None
            return self._pseudonymizer.pseudonym(unwrap_opened(opened, cipher, event_id=event_id, field=field))
        except KeyUnavailable:
            raise
        except DecryptionError as exc:
            raise PermanentError(f"sealed identifier cannot be opened: {exc}") from None

    # ---- vt.<tenant>.intake.v1 ---------------------------------------------------------------------------------

    def on_intake(self, melding: inputs.MeldingReceived, envelope: Envelope,
                  previous: CaseRecord | None = None) -> IntakeResult:
        if envelope.tenant and envelope.tenant != melding.tenant_id:
            raise PermanentError(f"envelope tenant {envelope.tenant!r} differs from tenant_id {melding.tenant_id!r}")
        ce_id, at = envelope.id, envelope.time
        # Open every identity first: a record that cannot be opened entirely produces nothing.
        persons = []
        for person in melding.persons:
            if person.identity is None:
                log.warning("person without sealed identity is not matched",
                            extra={"case_id": melding.contact_id, "person_id": person.person_id})
                continue
            try:
                persons.append((person.person_id, self.pseudonym_of(
                    person.identity, tenant=melding.tenant_id, event_id=ce_id, field=f"identity:{person.person_id}")))
            except KeyShredded:
                # The household's dossier was destroyed (a replay of history): nothing of it is used again.
                log.info("melding of a destroyed dossier skipped", extra={"case_id": melding.contact_id})
                return IntakeResult()
            except KeyMissing as exc:
                # Not a destroyed dossier: a key this radar should have and has not. Skipping it would lose an
                # acknowledged melding; the dead letter keeps it for a re-drive once the key is there.
                log.error("melding needs a key radar does not have; dead-lettered, not skipped",
                          extra={"case_id": melding.contact_id, "tenant": melding.tenant_id})
                raise PermanentError(f"KeyMissing: {exc}") from None

        deadline = assessment_deadline(melding.received_at, melding.acute)
        due = outputs.AssessmentDue(melding.tenant_id, melding.contact_id, melding.received_at, melding.acute, deadline,
                                    melding.melder_type, melding.melder_may_be_named, melding.melder)
        outs = [Out(topics.NATIONAL_ASSESSMENTS, melding.contact_id, due, derived_event_id(ce_id, "assessment-due"),
                    melding.tenant_id, at)]
        for index, (person_id, pseudonym) in enumerate(persons):
            fact = MeldingFact(melding.tenant_id, melding.contact_id, person_id, melding.received_at, deadline.due_at)
            outs.append(Out(topics.NATIONAL_RADAR_PERSON, pseudonym, outputs.PersonSignal(pseudonym, fact),
                            derived_event_id(ce_id, "person-signal", str(index), person_id), melding.tenant_id, at))
        if previous is not None and previous.tenant_id == melding.tenant_id and previous.due_at is not None:
            # The same melding read again (a restart or a broker loss replays it): its outputs go out again under the
            # same ids, but the case keeps what happened to it since (its episode's members, its decision, the
            # onderzoek). Rebuilt from the melding, a joined melding was no longer covered by its episode's decision.
            return IntakeResult(outs, None)
        case = CaseRecord(melding.tenant_id, melding.contact_id, deadline.due_at, dict(persons), self._encoding.due_text(due),
                          dossier_id=melding.dossier_id)
        if previous is not None and previous.tenant_id == melding.tenant_id and previous.closed_at is not None:
            # The decision arrived before the melding itself: close the case for its persons now.
            case.close(previous.closed_at, previous.decision, self.monitoring_days, previous.decision_fingerprint,
                       previous.decision_event_id)
            case.onderzoek_overdue_reported = previous.onderzoek_overdue_reported
            outs += self._closed_signals(case, derived_event_id(ce_id, "case-closed"), at)
        return IntakeResult(outs, case)

    def on_dossier_destroyed(self, destroyed: inputs.DossierDestroyed, envelope: Envelope) -> list[Out]:
        """A region destroyed a household's dossier (crypto-shredded in intake): radar forgets its cases too. Its
        meldingen live in other partitions than the DossierDestroyed record (keyed by the dossier id), so each
        contact gets a CaseDestroyed keyed by its own id, and the case is dropped where it lives
        (`on_case_destroyed`)."""
        if not destroyed.tenant_id or (envelope.tenant and envelope.tenant != destroyed.tenant_id):
            raise PermanentError("DossierDestroyed without tenant_id, or of another tenant than its envelope")
        return [Out(topics.NATIONAL_ASSESSMENTS, contact_id, outputs.CaseDestroyed(destroyed.tenant_id, contact_id),
                    derived_event_id(envelope.id, "case-destroyed", contact_id), destroyed.tenant_id, envelope.time)
                for contact_id in destroyed.contact_ids]

    def on_case_destroyed(self, destroyed: inputs.CaseDestroyed, envelope: Envelope,
                          case: CaseRecord | None) -> tuple[list[Out], bool]:
        """A PersonSignal(case_destroyed) per person of the case, so every person history drops it, and whether to
        delete the case record (its pending deadlines go with it). Nothing for an advies of the dossier (radar
        never had it) or another region's case id."""
        if envelope.source != SOURCE:
            raise PermanentError(f"CaseDestroyed from {envelope.source!r}: only radar writes it")
        if case is None or case.tenant_id != destroyed.tenant_id:
            return [], False
        fact = CaseDestroyedFact(case.tenant_id, case.case_id)
        return [Out(topics.NATIONAL_RADAR_PERSON, pseudonym, outputs.PersonSignal(pseudonym, fact),
                    derived_event_id(envelope.id, "case-destroyed", case.case_id, person_id), case.tenant_id,
                    envelope.time)
                for person_id, pseudonym in case.persons.items()], True

    # ---- vt.national.assessments.v1 (decisions, and radar's own overdue reports) -------------------------------

    def on_assessment(self, event: inputs.AssessmentEvent, envelope: Envelope, record: CaseRecord | None,
                      case: Callable[[str], CaseRecord | None] = lambda case_id: None
                      ) -> tuple[list[Out], CaseRecord | None]:
        """Returns records to publish and the new case record (None: unchanged). `case` reads another case."""
        record = copy.deepcopy(record)
        if isinstance(event, inputs.EpisodeJoined):
            return self._on_episode_joined(event, envelope, record, case)
        if isinstance(event, inputs.AssessmentCompleted):
            return self._on_decision(event, envelope, record, case)
        if isinstance(event, (inputs.OnderzoekStarted, inputs.OnderzoekCompleted, inputs.MonitoringChanged)):
            return self._on_lifecycle(event, envelope, record)
        if envelope.source == SOURCE and record is not None:  # DeadlineOverdue: reported once; the scan skips it now
            if event.kind is DeadlineKind.ASSESSMENT and not record.overdue_reported:
                record.overdue_reported = True
                return [], record
            if event.kind is DeadlineKind.ONDERZOEK and not record.onderzoek_overdue_reported:
                record.onderzoek_overdue_reported = True
                return [], record
        return [], None

    def _on_decision(self, decided: inputs.AssessmentCompleted, envelope: Envelope, record: CaseRecord | None,
                     case: Callable[[str], CaseRecord | None]) -> tuple[list[Out], CaseRecord | None]:
        if record is not None and record.tenant_id != decided.tenant_id:
            raise PermanentError(f"AssessmentCompleted of {decided.tenant_id!r} for a case of another tenant")
        record = record or CaseRecord(decided.tenant_id, decided.case_id)
        if record.closed:
            if record.decision_event_id == envelope.id:
                # The same decision read again (after a broker loss radar's outbox publishes it again): what it
                # derived may have gone with the lost broker, so it is emitted again under the same ids.
                return (self._closed_signals(record, envelope.id, envelope.time)
                        + self._episode_decided(decided, envelope, record, case)), None
            return [], None  # another decision is known already
        chosen = decided.decision
        record.close(decided.decided_at, chosen.decision, self.monitoring_days, chosen.fingerprint(), envelope.id,
                     decided.episode_case_id)
        record.judgement = chosen.judgement.value
        record.responsible_for_safety = chosen.responsible_for_safety
        outs = self._closed_signals(record, envelope.id, envelope.time)
        return outs + self._episode_decided(decided, envelope, record, case), record

    def _on_episode_joined(self, joined: inputs.EpisodeJoined, envelope: Envelope, record: CaseRecord | None,
                           case: Callable[[str], CaseRecord | None]) -> tuple[list[Out], CaseRecord | None]:
        """A melding joined this open assessment (radar's person agent found the shared directbetrokkene): the
        episode is due at the earliest deadline of its meldingen. A melding decided on its own before it
        could join stays its own."""
        if envelope.source != SOURCE:
            raise PermanentError(f"EpisodeJoined not written by radar ({envelope.source!r})")
        if record is None or record.tenant_id != joined.tenant_id:
            raise PermanentError("EpisodeJoined for a case radar does not know in that region")
        member = case(joined.case_id)
        if member is not None and (member.closed or member.tenant_id != record.tenant_id):
            return [], None
        before = record.due_at
        if not record.join(joined.case_id, joined.due_at):
            return [], None
        if record.closed:
            # A running onderzoek: the episode is decided already, so the joining melding is decided with it now
            # (the id its own decision would have: one decision either way; its melder is called back).
            completed = outputs.AssessmentCompleted(
                record.tenant_id, joined.case_id, Judgement(record.judgement or "unspecified"), Decision.ONDERZOEK,
                joined.joined_at or envelope.time, record.responsible_for_safety, household_letter_required=False,
                episode_case_id=record.case_id)
            return [Out(topics.NATIONAL_ASSESSMENTS, joined.case_id, completed, _decision_id(record.tenant_id, joined.case_id),
                        record.tenant_id, envelope.time)], record
        if record.due_at is not None and record.due_at != before:
            record.overdue_reported = False  # an earlier deadline is reported on its own
        return [], record

    def _episode_decided(self, decided: inputs.AssessmentCompleted, envelope: Envelope, record: CaseRecord,
                         case: Callable[[str], CaseRecord | None]) -> list[Out]:
        """The decision on an episode covers every melding that joined it: one AssessmentCompleted per joined
        melding (its melder is called back, with the agreements under that melding's own dossier key)."""
        chosen = decided.decision
        outs = []
        for member_id in record.episode_members:
            member = case(member_id)
            # The id RecordDecision gives that melding's decision: whichever of the two reaches the topic first is its
            # one decision everywhere (consumers dedupe on it), so a melding decided on its own while its
            # EpisodeJoined was in flight is never decided twice.
            event_id = _decision_id(record.tenant_id, member_id)
            if member is not None and member.closed and member.decision_event_id != event_id:
                continue  # decided otherwise; one closed by this decision gets the same event again (replay)
            # The melder of each joined melding is told what the episode's melder is told, under that melding's
            # own dossier key; the household text stays with the episode's letter.
            passed_on: dict[str, Ciphertext | None] = {}
            for name, sealed in (("agreements", decided.agreements), ("melder_feedback", decided.melder_feedback)):
                if sealed is None:
                    continue
                try:
                    plain = self._agreements_cipher(record.tenant_id, record.dossier).decrypt(
                        sealed, event_id=envelope.id, field=name)
                    passed_on[name] = self._agreements_cipher(record.tenant_id, member.dossier if member else member_id
                                                              ).encrypt(plain, event_id=event_id, field=name)
                except (DecryptionError, DecisionConflict):  # a destroyed dossier: the callback goes without
                    log.warning("episode callback text not passed on", extra={"case_id": member_id, "field": name})
            # Its melder is called back; the household letter, an RvdK request and the onderzoek are the episode's.
            completed = outputs.AssessmentCompleted(
                decided.tenant_id, member_id, chosen.judgement, chosen.decision, decided.decided_at,
                chosen.responsible_for_safety, overdracht_to=chosen.overdracht_to, household_letter_required=False,
                episode_case_id=decided.case_id, agreements=passed_on.get("agreements"),
                melder_feedback=passed_on.get("melder_feedback"))
            outs.append(Out(topics.NATIONAL_ASSESSMENTS, member_id, completed, event_id, record.tenant_id,
                            envelope.time))
        return outs

    def _on_lifecycle(self, step: inputs.Lifecycle, envelope: Envelope,
                      record: CaseRecord | None) -> tuple[list[Out], CaseRecord | None]:
        """A step after the decision, applied to the case (radar's own RPCs wrote it: from radar only). A step
        that arrives again, or for a case radar does not know as decided, changes nothing."""
        if envelope.source != SOURCE:
            raise PermanentError(f"{envelope.type} not written by radar ({envelope.source!r})")
        if record is None or not record.closed or record.tenant_id != step.tenant_id:
            raise PermanentError(f"{envelope.type} for a case radar has no decision of")
        if isinstance(step, inputs.OnderzoekStarted):
            if record.onderzoek_started_at is None:
                record.onderzoek_started_at = step.started_at
                return [], record
            return [], None
        if isinstance(step, inputs.OnderzoekCompleted):
            if record.onderzoek_completed_at is not None:
                return [], None
            record.onderzoek_completed_at = step.completed_at
            record.onderzoek_follow_up = step.outcome.decision
            record.outcome_fingerprint, record.outcome_event_id = step.outcome.fingerprint(), envelope.id
            if step.monitor_until is not None:
                record.monitor_until = step.monitor_until
            # Told to the household's history either way: the onderzoek no longer takes joining meldingen.
        else:  # MonitoringChanged: the household's history learns the new end
            if record.monitor_until == step.monitor_until:
                return [], None
            record.monitor_until = step.monitor_until
        return self._closed_signals(record, envelope.id, envelope.time), record

    def _closed_signals(self, record: CaseRecord, ce_id: str, at: dt.datetime) -> list[Out]:
        assert record.closed_at is not None
        outs = []
        # After an onderzoek's outcome, the household's history knows the case by its follow-up.
        decision = record.onderzoek_follow_up if record.onderzoek_completed_at else record.decision
        for person_id, pseudonym in record.persons.items():
            fact = CaseClosedFact(record.tenant_id, record.case_id, person_id, record.closed_at, record.monitor_until,
                                  onderzoek_open=record.onderzoek_open)
            outs.append(Out(topics.NATIONAL_RADAR_PERSON, pseudonym, outputs.PersonSignal(pseudonym, fact, decision),
                            derived_event_id(ce_id, "case-closed", person_id), record.tenant_id, at))
        return outs

    @staticmethod
    def overdue(records: list[CaseRecord], now: dt.datetime) -> list[Out]:
        """DeadlineOverdue for every undecided case past its deadline and every onderzoek past its 10 weeks.
        The event id depends on the case and kind only, so repeated scans (before the report is recorded)
        are duplicates downstream."""
        outs = []
        joined = joined_meldingen(records)
        for r in records:
            for kind, due_at in ((DeadlineKind.ASSESSMENT, r.due_at if r.is_overdue(now) and r.case_id not in joined
                                  else None),
                                 (DeadlineKind.ONDERZOEK, r.onderzoek_due_at if r.is_onderzoek_overdue(now) else None)):
                if due_at is not None:
                    report = outputs.DeadlineOverdue(r.tenant_id, r.case_id, kind, due_at, now)
                    outs.append(Out(topics.NATIONAL_ASSESSMENTS, r.case_id, report,
                                    derived_event_id(r.case_id, "deadline-overdue", kind.value), r.tenant_id, now))
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
        event_id = _decision_id(tenant, chosen.case_id)
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

        def sealed(plain: bytes, name: str) -> Ciphertext:
            return cipher.encrypt(plain, event_id=event_id, field=name)

        # What the melder is told and what the household is told travel apart, each sealed whole: the letter is
        # rendered from `household` only (docs/architecture.md, "What leaves Veilig Thuis").
        feedback = chosen.told_to_melder()
        completed = outputs.AssessmentCompleted(
            tenant, chosen.case_id, chosen.judgement, chosen.decision, now, chosen.responsible_for_safety.strip(),
            overdracht_to=chosen.overdracht_to.strip(), overdracht_receiver_id=chosen.overdracht_receiver_id.strip(),
            melder_callback_required=then.melder_callback_required,
            household_letter_required=then.household_letter_required, rvdk_request=then.rvdk_request,
            municipality_notice=then.municipality_notice, onderzoek_due=then.onderzoek,
            agreements=sealed(chosen.agreements.encode(), "agreements") if chosen.agreements else None,
            rvdk_reason=self._rvdk_reason(tenant, record.dossier, chosen, event_id),
            melder_feedback=sealed(self._encoding.melder_feedback_bytes(feedback), "melder_feedback") if feedback else None,
            household=sealed(self._encoding.household_bytes(chosen.household), "household") if chosen.household else None,
            episode_case_ids=tuple(record.episode_members))
        return DecisionResult(Out(topics.NATIONAL_ASSESSMENTS, chosen.case_id, completed, event_id, tenant, now),
                              event_id, now, then.onderzoek.due_at if then.onderzoek else None)

    # ---- RadarService: the onderzoek and monitoring ------------------------------------------------------------

    def record_onderzoek_started(self, tenant: str, record: CaseRecord, now: dt.datetime) -> LifecycleResult:
        check_start(record)
        assert record.closed_at is not None
        event_id = derived_event_id(f"{tenant}|{record.case_id}", "onderzoek-started")
        if record.onderzoek_started_at is not None:
            return LifecycleResult(None, event_id, record.onderzoek_started_at,
                                   started_within_norm(record.closed_at, record.onderzoek_started_at))
        within = started_within_norm(record.closed_at, now)
        started = outputs.OnderzoekStarted(tenant, record.case_id, now, within)
        return LifecycleResult(Out(topics.NATIONAL_ASSESSMENTS, record.case_id, started, event_id, tenant, now),
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
        completed = outputs.OnderzoekCompleted(tenant, outcome, now, within, until, agreements,
                                               self._rvdk_reason(tenant, record.dossier, outcome, event_id))
        return LifecycleResult(Out(topics.NATIONAL_ASSESSMENTS, record.case_id, completed, event_id, tenant, now),
                               event_id, now, within, until)

    def change_monitoring(self, tenant: str, record: CaseRecord, until: dt.datetime | None, reason: str,
                          now: dt.datetime) -> LifecycleResult:
        """End monitoring now (`until` None) or extend it to `until` (validated by extension_until)."""
        validate_reason(reason)
        check_monitored(record, now)
        new_end = now if until is None else until
        event_id = derived_event_id(f"{tenant}|{record.case_id}", "monitoring", new_end.isoformat())
        sealed = self._agreements_cipher(tenant, record.dossier).encrypt(reason.encode(), event_id=event_id,
                                                                         field="reason")
        changed = outputs.MonitoringChanged(tenant, record.case_id, until is None, new_end, now, sealed)
        return LifecycleResult(Out(topics.NATIONAL_ASSESSMENTS, record.case_id, changed, event_id, tenant, now),
                               event_id, now, monitor_until=new_end)

    def _rvdk_reason(self, tenant: str, dossier_id: str, chosen: DecisionInput, event_id: str) -> Ciphertext | None:
        """The reason of an RvdK request, encrypted like the agreements (the household's dossier key, bound to the
        event and field "rvdk_reason"): case content never on Kafka in clear (docs/architecture.md "Outgoing
        notices")."""
        if chosen.rvdk_reason is None or chosen.decision is not Decision.RVDK_REQUEST:
            return None
        return self._agreements_cipher(tenant, dossier_id).encrypt(
            self._encoding.rvdk_reason_bytes(chosen.rvdk_reason), event_id=event_id, field="rvdk_reason")

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

    def on_rvdk(self, signal: inputs.RvdkSignal, envelope: Envelope) -> list[Out]:
        pseudonym = self.pseudonym_of(signal.child)
        return [Out(topics.NATIONAL_RADAR_PERSON, pseudonym, outputs.PersonSignal(pseudonym, signal.fact),
                    derived_event_id(envelope.id, "person-signal"), "", envelope.time)]

    # ---- vt.national.verwijsindex.v1 ---------------------------------------------------------------------------

    def on_verwijsindex(self, match: inputs.SignalMatch, envelope: Envelope, key: bytes | None = None) -> list[Out]:
        """A SignalMatch is re-keyed onto its youth as a person signal: the verwijsindex derives
        youth_pseudonym with the same key from the same "bsn:<bsn>" as radar, so it is radar's person key.
        Only the match id, kind and moment go on: the registrants' (encrypted) contacts stay with the notifier."""
        if key is not None and key != match.youth_pseudonym.encode():
            raise PermanentError("record key is not the youth pseudonym of the SignalMatch")
        signal = outputs.PersonSignal(match.youth_pseudonym, match.fact)
        return [Out(topics.NATIONAL_RADAR_PERSON, match.youth_pseudonym, signal,
                    derived_event_id(envelope.id, "person-signal"), "", envelope.time)]

    # ---- vt.national.radar-person.v1 ---------------------------------------------------------------------------

    def on_person_signal(self, signal: inputs.PersonSignal, envelope: Envelope,
                         history: PersonHistory) -> tuple[list[Out], Outcome]:
        fact, ce_id, at = signal.fact, envelope.id, envelope.time
        if isinstance(fact, MeldingFact):
            outcome = apply_melding(history, fact, ce_id, at)
        elif isinstance(fact, RvdkFact):
            outcome = apply_rvdk(history, fact, ce_id, at)
        elif isinstance(fact, CaseClosedFact):
            outcome = apply_case_closed(history, fact, ce_id)
        elif isinstance(fact, VerwijsindexMatchFact):
            outcome = apply_verwijsindex_match(history, fact, ce_id, at)
        else:
            outcome = apply_case_destroyed(history, fact, ce_id)
        return self.outputs_of(signal.pseudonym, ce_id, at, outcome), outcome

    @staticmethod
    def outputs_of(pseudonym: str, ce_id: str, at: dt.datetime, outcome: Outcome) -> list[Out]:
        outs: list[Out] = []
        for entry in outcome.register_entries:
            outs.append(Out(topics.register(entry.tenant_id), pseudonym, outputs.RegisterEntry(pseudonym, entry),
                            derived_event_id(ce_id, "register-entry", entry.case_id), entry.tenant_id, at))
        for match in outcome.matches:
            match_id = derived_event_id(ce_id, "match", match.match_key)
            outs.append(Out(topics.register(match.addressed_to), pseudonym, outputs.RegisterMatch(match_id, match),
                            derived_event_id(ce_id, "register-match", match.addressed_to), match.addressed_to, at))
        for data in outcome.inputs:
            outs.append(Out(topics.NATIONAL_ASSESSMENTS, data.case_id, data,
                            derived_event_id(ce_id, "assessment-input", data.case_id, data.person_id), data.tenant_id, at))
        for alert in outcome.alerts:
            outs.append(Out(topics.NATIONAL_ASSESSMENTS, alert.case_id, alert,
                            derived_event_id(ce_id, "monitoring-alert", alert.case_id, alert.person_id), alert.tenant_id,
                            at))
        for join in outcome.joins:  # keyed by the episode's case: its agent records the member
            outs.append(Out(topics.NATIONAL_ASSESSMENTS, join.episode_case_id, outputs.EpisodeJoined(join, at),
                            derived_event_id(f"{join.tenant_id}|{join.case_id}", "episode-joined", join.episode_case_id),
                            join.tenant_id, at))
        return outs


def _decision_id(tenant: str, case_id: str) -> str:
    """The event id of a case's decision: RecordDecision's, and the episode's decision for a melding that joined it
    (one decision either way)."""
    return derived_event_id(f"{tenant}|{case_id}", "assessment-completed")
