"""Event handling: turns AssessmentDue, AssessmentCompleted, RegisterMatch, SignalMatch and YouthRelocated events into
scheduled deliveries; AssessmentInput, MonitoringAlert, DeadlineOverdue and OnderzoekCompleted into region inbox
items (notifier.inbox); and keeps per case what intake recorded (MeldingReceived) for the letter.

The record arrives decoded (vtkit.kafka); adapters/events.py reads its facts (notifier.domain.causes), the use
cases below act on them, and adapters/proto.py encodes what they schedule into the delivery rows.

Idempotent by construction: the delivery key is derived from the event id, and the store inserts
a key only once, so a redelivered event (at-least-once Kafka) schedules nothing new.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from vtkit import topics
from vtkit.calendar import local_date
from vtkit.envelope import Envelope, Event
from vtkit.group_cluster import GroupCluster
from vtkit.kafka import KafkaSettings, PermanentError, Verify, consume
from vtkit.keystore import KeyStore
from vtkit.tenants import all_tenants

from notifier.adapters import events, proto
from notifier.domain import Delivery, DeliveryKind, delivery_key
from notifier.domain.callback import Callback
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
    RegisterMatchFacts,
    SealedContact,
    SignalMatchFacts,
    YouthRelocatedFacts,
)
from notifier.domain.deadlines import callback_due_date
from notifier.domain.inbox import Deadline, changes_between
from notifier.domain.letter import letter_due_date
from notifier.domain.verwijsindex import VERWIJSINDEX, NoticeContact, ProfessionalNotice, recipients
from notifier.inbox import Inbox
from notifier.scheduler import Clock, utc_now
from notifier.store import Store

log = logging.getLogger("notifier.consumer")

def source_topics() -> list[str]:
    return [topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_VERWIJSINDEX, *(topics.register(t) for t in all_tenants()),
            *(topics.intake(t) for t in all_tenants())]


class EventHandler:
    def __init__(self, store: Store, on_scheduled: Callable[[], None] = lambda: None, clock: Clock = utc_now,
                 keys: KeyStore | None = None):
        self.store = store
        self.on_scheduled = on_scheduled
        self.clock = clock
        self.keys = keys
        self.inbox = Inbox(store, clock, on_scheduled)

    async def __call__(self, event: Event, record: ConsumerRecord | None = None) -> None:
        try:
            region = topics.tenant_of(record.topic) if record is not None else ""
            if region and event.envelope.tenant and event.envelope.tenant != region:
                # A region writes only its own topics: a record naming another region there is not acted on
                # (docs/architecture.md, "Who wrote a record"); the handlers check the body's tenant likewise.
                raise InvalidCause(f"envelope tenant {event.envelope.tenant!r} on {record.topic if record else ''}")
            self.handle(event.envelope, events.facts_of(event.message), record.topic if record else None)
        except InvalidCause as exc:
            raise PermanentError(str(exc)) from exc

    def handle(self, envelope: Envelope, facts: Facts | None, topic: str | None) -> None:
        """The use case of an event's facts; `topic`: the record's, None when not read from Kafka."""
        match facts:
            case AssessmentDueFacts():
                self.on_assessment_due(envelope, facts)
            case RegisterMatchFacts():
                self.on_register_match(envelope, facts)
            case AssessmentCompletedFacts():
                self.on_assessment_completed(envelope, facts)
            case AssessmentInputFacts():
                self.on_assessment_input(envelope, facts)
            case MonitoringAlertFacts():
                self.on_monitoring_alert(envelope, facts)
            case DeadlineOverdueFacts():
                self.on_deadline_overdue(facts)
            case EpisodeJoinedFacts():
                self.on_episode_joined(facts)
            case OnderzoekCompletedFacts():
                self.on_onderzoek_completed(envelope, facts)
            case MeldingReceivedFacts():
                self.on_melding_received(envelope, facts, topic)
            case DossierDestroyedFacts():
                self.on_dossier_destroyed(facts, topic)
            case EmergencyAccessFacts():
                self.on_emergency_access(envelope, facts, topic)
            case AmbtshalveMeldingFacts():
                self.on_ambtshalve(envelope, facts)
            case SignalMatchFacts():
                self.on_signal_match(envelope, facts)
            case YouthRelocatedFacts():
                self.on_youth_relocated(envelope, facts)
            # None: other types on these topics (RegisterEntry, ...) are not ours to act on.

    def on_assessment_due(self, envelope: Envelope, facts: AssessmentDueFacts) -> None:
        due_date, disagrees = callback_due_date(facts.received_at, facts.due_date)
        if disagrees:
            log.warning("due date differs from 5 working days after receipt; keeping radar's",
                        extra={"case_id": facts.case_id, "tenant": facts.tenant_id, "due_date": due_date})
        key = delivery_key(envelope.id, DeliveryKind.MELDER_CALLBACK)
        now = self.clock()
        callback = Callback(key=key, tenant_id=facts.tenant_id, case_id=facts.case_id, due_date=due_date,
                            received_at=facts.received_at, acute=facts.acute, melder=facts.melder)
        # deliver_after = now: the regional worker needs the callback task and its due date at once.
        self._schedule(Delivery(key=key, kind=DeliveryKind.MELDER_CALLBACK, tenant_id=facts.tenant_id,
                                case_id=facts.case_id, cause_event_id=envelope.id, due_date=due_date, created_at=now,
                                deliver_after=now, body=proto.callback_body(callback)))

    def on_register_match(self, envelope: Envelope, facts: RegisterMatchFacts) -> None:
        if facts.addressed_to not in all_tenants():
            raise InvalidCause(f"RegisterMatch addressed to unknown tenant {facts.addressed_to!r}")
        key = delivery_key(envelope.id, DeliveryKind.REGISTER_MATCH_NOTICE)
        now = self.clock()
        self.inbox.schedule(Delivery(key=key, kind=DeliveryKind.REGISTER_MATCH_NOTICE, tenant_id=facts.addressed_to,
                                     case_id=facts.case_id, cause_event_id=envelope.id, due_date=None, created_at=now,
                                     deliver_after=now, body=proto.register_match_body(facts, key)), now)

    # -- region inbox (notifier.domain.inbox) ----------------------------------------------------

    def on_assessment_input(self, envelope: Envelope, facts: AssessmentInputFacts) -> None:
        """An item when a person's assessment input is first known and each time it gains something (another
        VT organisation, an RvdK signal, a joining melding); a repeat that adds nothing is not an item."""
        tenant = self._own_tenant(facts.tenant_id, facts.case_id, "AssessmentInput")
        previous = self.store.last_input(tenant, facts.case_id, facts.person_id)
        before = events.stored_input_view(previous) if previous else None
        changes = changes_between(before, facts.view)
        if before is not None and not changes:
            return
        self.store.put_input(tenant, facts.case_id, facts.person_id, facts.as_received)
        self.inbox.assessment_input(envelope.id, facts, changes, first=before is None)

    def on_monitoring_alert(self, envelope: Envelope, facts: MonitoringAlertFacts) -> None:
        self._own_tenant(facts.tenant_id, facts.case_id, "MonitoringAlert")
        self.inbox.monitoring_alert(envelope.id, facts)

    def on_deadline_overdue(self, facts: DeadlineOverdueFacts) -> None:
        """Once per case and deadline, whatever event id radar gave it (keyed on the deadline, not the event)."""
        tenant = self._own_tenant(facts.tenant_id, facts.case_id, "DeadlineOverdue")
        self.inbox.overdue(tenant, facts.case_id, facts.deadline, facts.due_at, facts.detected_at or self.clock())

    def on_onderzoek_completed(self, envelope: Envelope, facts: OnderzoekCompletedFacts) -> None:
        """The onderzoek's outcome ends its 10-week deadline: if the region was told it was overdue, it is told
        that it was met after all. Its follow-up is a decision like the first: an RvdK request, an overdracht or
        the professional of an ambtshalve melding get their notices."""
        tenant = self._own_tenant(facts.tenant_id, facts.case_id, "OnderzoekCompleted")
        self.inbox.resolve_overdue(tenant, facts.case_id, Deadline.ONDERZOEK, facts.completed_at or self.clock())
        self._decision_notices(envelope.id, facts.follow_up, self.clock())

    def _own_tenant(self, tenant: str, case_id: str, what: str) -> str:
        if not tenant or not case_id:
            raise InvalidCause(f"{what} without tenant_id or case_id")
        if tenant not in all_tenants():
            raise InvalidCause(f"{what} of unknown tenant {tenant!r}")
        return tenant

    def on_episode_joined(self, facts: EpisodeJoinedFacts) -> None:
        """The melding's household is informed by its episode's letter: no letter deadline of its own."""
        tenant = self._own_tenant(facts.tenant_id, facts.case_id, "EpisodeJoined")
        if not facts.episode_case_id:
            raise InvalidCause("EpisodeJoined without episode_case_id")
        self.store.put_episode_member(tenant, facts.case_id, facts.episode_case_id)

    def on_melding_received(self, envelope: Envelope, facts: MeldingReceivedFacts, topic: str | None) -> None:
        """Kept encrypted, as received, for the household letter; the letter's due date follows receipt."""
        if not facts.tenant_id or not facts.contact_id or facts.received_at is None:
            raise InvalidCause("MeldingReceived without tenant_id, contact_id or received_at")
        if topic is not None and topic != topics.intake(facts.tenant_id):
            raise InvalidCause(f"MeldingReceived of {facts.tenant_id!r} on {topic}")
        if self.store.put_case(facts.tenant_id, facts.contact_id, envelope.id, facts.received_at, facts.as_received):
            self._move_letter_due(facts.tenant_id, facts.contact_id)
            log.debug("case recorded", extra={"case_id": facts.contact_id, "tenant": facts.tenant_id})

    def on_emergency_access(self, envelope: Envelope, facts: EmergencyAccessFacts, topic: str | None) -> None:
        """Another region read one of this region's contacts by break-glass: its inbox (privacy officer) hears it."""
        if not facts.tenant_id or not facts.contact_id or not facts.by_tenant_id:
            raise InvalidCause("EmergencyAccess without tenant_id, contact_id or by_tenant_id")
        if topic is not None and topic != topics.intake(facts.tenant_id):
            raise InvalidCause(f"EmergencyAccess of {facts.tenant_id!r} on {topic}")
        self.inbox.emergency_access(envelope.id, facts)

    def on_dossier_destroyed(self, facts: DossierDestroyedFacts, topic: str | None) -> None:
        """The household's dossier was destroyed (Wmo 5.3.5 request or 5.3.4 retention): its fields no longer
        open, and nothing is sent about it any more: its cases are dropped and open deliveries cancelled."""
        if not facts.tenant_id or not facts.dossier_id:
            raise InvalidCause("DossierDestroyed without tenant_id or dossier_id")
        if topic is not None and topic != topics.intake(facts.tenant_id):
            raise InvalidCause(f"DossierDestroyed of {facts.tenant_id!r} on {topic}")
        cancelled = self.store.destroy_cases(facts.tenant_id, [*facts.contact_ids, facts.dossier_id], self.clock(),
                                             f"dossier destroyed ({facts.reason})")
        log.info("dossier destroyed", extra={"dossier_id": facts.dossier_id, "tenant": facts.tenant_id,
                                             "cancelled": cancelled})

    def _move_letter_due(self, tenant_id: str, case_id: str) -> dt.date | None:
        case = self.store.get_case(tenant_id, case_id)
        if case is None:
            return None
        weeks = sum(p.weeks for p in self.store.postponements(tenant_id, case_id))
        due = letter_due_date(local_date(case.received_at), weeks)
        self.store.set_letter_due(tenant_id, case_id, due)
        return due

    def on_assessment_completed(self, envelope: Envelope, facts: AssessmentCompletedFacts) -> None:
        """The callback content to the region, then (only after it was delivered and the region confirmed the
        conversation with the melder, ConfirmMelderContacted) the household letter;
        an RvdK request also goes to the RvdK and the municipality when the decision says so."""
        if not facts.tenant_id or not facts.case_id:
            raise InvalidCause("AssessmentCompleted without tenant_id or case_id")
        if facts.tenant_id not in all_tenants():
            raise InvalidCause(f"AssessmentCompleted of unknown tenant {facts.tenant_id!r}")
        now = self.clock()
        self.inbox.resolve_overdue(facts.tenant_id, facts.case_id, Deadline.ASSESSMENT, facts.decided_at or now)
        case = self.store.get_case(facts.tenant_id, facts.case_id)
        callback_key = delivery_key(envelope.id, DeliveryKind.MELDER_CALLBACK)
        # The decision's content for the melder, passed through unopened; the feedback is bound to this event.
        callback = Callback(key=callback_key, tenant_id=facts.tenant_id, case_id=facts.case_id,
                            received_at=case.received_at if case is not None else None, agreements=facts.agreements,
                            feedback=facts.melder_feedback,
                            feedback_event_id=envelope.id if facts.melder_feedback is not None else "")
        self._schedule(Delivery(key=callback_key, kind=DeliveryKind.MELDER_CALLBACK, tenant_id=facts.tenant_id,
                                case_id=facts.case_id, cause_event_id=envelope.id, due_date=None, created_at=now,
                                deliver_after=now, body=proto.callback_body(callback)))
        if facts.episode_case_id:
            # A melding that joined its household's episode: its melder is called back, but the household letter
            # and any notice are the episode's decision's (one per household episode).
            return
        # Every melding's household is informed (docs/domain.md section 4), so the letter does not wait for
        # radar's household_letter_required flag, which older events lack.
        letter_key = delivery_key(envelope.id, DeliveryKind.HOUSEHOLD_LETTER)
        weeks = sum(p.weeks for p in self.store.postponements(facts.tenant_id, facts.case_id))
        due = letter_due_date(local_date(case.received_at), weeks) if case else None
        self._schedule(Delivery(key=letter_key, kind=DeliveryKind.HOUSEHOLD_LETTER, tenant_id=facts.tenant_id,
                                case_id=facts.case_id, cause_event_id=envelope.id, due_date=due, created_at=now,
                                deliver_after=now, body=facts.decision.as_received, after_key=callback_key))
        self._decision_notices(envelope.id, facts.decision, now)

    def _decision_notices(self, event_id: str, decided: Decision, now: dt.datetime) -> None:
        """The notices that follow a decision (docs/architecture.md "Outgoing notices"), scheduled with the decision
        as it arrived (still encrypted) and built when sent (notifier.notices): the RvdK request and, once the RvdK
        has it, the municipality notice; the hand-over to an overdracht's receiving party; and, for an ambtshalve
        melding, the decision to its professional (docs/domain.md sections 1, 2 and 4)."""

        def schedule(kind: DeliveryKind, part: str, after: str | None = None) -> str:
            key = delivery_key(f"{event_id}/{part}", kind)
            self._schedule(Delivery(key=key, kind=kind, tenant_id=decided.tenant_id, case_id=decided.case_id,
                                    cause_event_id=event_id, due_date=None, created_at=now, deliver_after=now,
                                    body=decided.as_received, after_key=after))
            return key

        if decided.rvdk_request:
            rvdk = schedule(DeliveryKind.RVDK_REQUEST_NOTICE, "rvdk")
            # The municipality hears of the request once it was made (delivered to the RvdK), whatever older events
            # say in municipality_notice: the law asks it with every RvdK request.
            schedule(DeliveryKind.MUNICIPALITY_NOTICE, "municipality", after=rvdk)
        if decided.overdracht:
            if decided.overdracht_receiver_id:
                schedule(DeliveryKind.OVERDRACHT_NOTICE, "overdracht")
            else:  # an event from before the receiver was required: the region hands over itself
                log.warning("overdracht without a receiving party's id: no hand-over notice",
                            extra={"case_id": decided.case_id, "tenant": decided.tenant_id})
        if self._ambtshalve(decided.tenant_id, decided.case_id):
            schedule(DeliveryKind.AMBTSHALVE_DECISION_NOTICE, "ambtshalve")

    def _ambtshalve(self, tenant_id: str, case_id: str) -> bool:
        """Whether the case is a melding VT made ambtshalve (its MeldingReceived, which precedes any decision on
        it: radar decides nothing about a melding it has not received)."""
        case = self.store.get_case(tenant_id, case_id)
        return case is not None and proto.melding_ambtshalve(case.melding)

    def on_ambtshalve(self, envelope: Envelope, facts: AmbtshalveMeldingFacts) -> None:
        """VT made a melding ambtshalve after an MDO: the professional is told, when intake says so, that the
        melding was made, on which conditions, and what happens now (notifier.notices builds it when sent; the
        endpoint resolves `professional:<tenant>:<melding_id>` with the region)."""
        if not facts.professional_to_be_informed:
            return
        if not facts.tenant_id or not facts.melding_id:
            raise InvalidCause("AmbtshalveMeldingMade without tenant_id or melding_id")
        kind, now = DeliveryKind.AMBTSHALVE_NOTICE, self.clock()
        key = delivery_key(envelope.id, kind)
        self._schedule(Delivery(key=key, kind=kind, tenant_id=facts.tenant_id, case_id=facts.melding_id,
                                cause_event_id=envelope.id, due_date=None, created_at=now, deliver_after=now,
                                body=facts.as_received))

    def on_signal_match(self, envelope: Envelope, facts: SignalMatchFacts) -> None:
        """A notice to every registrant with only the other registrants' contact details, and one with
        all of them to the municipality's regievoerder."""
        if not facts.match_id or not facts.registrants:
            raise InvalidCause("SignalMatch without match_id or registrants")
        regievoerder = f"regievoerder:{facts.municipality_code}" if facts.municipality_code else ""
        self._verwijsindex_notices(
            envelope, DeliveryKind.VERWIJSINDEX_MATCH_NOTICE, "verwijsindex_match", facts.registrants, regievoerder,
            lambda others: ProfessionalNotice(match_id=facts.match_id, match_kind=facts.match_kind,
                                              different_youths=facts.different_youths, others=others))

    def on_youth_relocated(self, envelope: Envelope, facts: YouthRelocatedFacts) -> None:
        """A youth with active signals moved municipality: a notice to every registrant (with the other
        registrants' contacts) and to the new municipality's regievoerder (with all of them), saying only
        which municipality the youth moved from and to. Encrypted per recipient like the match notices;
        key = sha256(ce_id/recipient:kind)."""
        if not facts.notice_id or not facts.to_municipality_code or not facts.registrants:
            raise InvalidCause("YouthRelocated without notice_id, to_municipality_code or registrants")
        self._verwijsindex_notices(
            envelope, DeliveryKind.VERWIJSINDEX_RELOCATION_NOTICE, "verwijsindex_relocation", facts.registrants,
            facts.regievoerder_id or f"regievoerder:{facts.to_municipality_code}",
            lambda others: ProfessionalNotice(match_id=facts.notice_id, others=others,
                                              from_municipality_code=facts.from_municipality_code,
                                              to_municipality_code=facts.to_municipality_code))

    def _verwijsindex_notices(self, envelope: Envelope, kind: DeliveryKind, subject: str,
                              registrants: Sequence[SealedContact], regievoerder: str,
                              notice: Callable[[tuple[NoticeContact, ...]], ProfessionalNotice]) -> None:
        """One delivery per recipient (notifier.domain.verwijsindex.recipients). The registrants' contacts are
        opened here (event id = the record's ce_id) and each notice is encrypted again at once under the
        verwijsindex field key (bound to the delivery's key and recipient), so SQLite holds it encrypted."""
        if self.keys is None:
            raise InvalidCause("no key store: cannot open verwijsindex contacts")
        cipher = self.keys.field_cipher(VERWIJSINDEX)
        contacts = proto.opened_contacts(cipher, envelope.id, registrants)
        now = self.clock()
        for recipient, others in recipients(contacts, regievoerder):
            key = delivery_key(f"{envelope.id}/{recipient}", kind)
            content = notice(others)
            self._schedule(Delivery(key=key, kind=kind, tenant_id=VERWIJSINDEX, case_id=content.match_id,
                                    cause_event_id=envelope.id, due_date=None, created_at=now, deliver_after=now,
                                    body=proto.notify_body(cipher, key, recipient, subject, content)))

    def _schedule(self, delivery: Delivery) -> None:
        fields = {"idempotency_key": delivery.key, "kind": delivery.kind.value, "tenant": delivery.tenant_id,
                  "case_id": delivery.case_id, "cause_event_id": delivery.cause_event_id}
        if self.store.add(delivery):
            log.debug("delivery scheduled", extra={**fields, "due_date": delivery.due_date})
            self.on_scheduled()
        else:
            log.debug("duplicate event ignored", extra=fields)


async def run_consumer(settings: KafkaSettings, group_id: str, handler: EventHandler, producer: AIOKafkaProducer,
                       stop: asyncio.Event, source: Sequence[str] | None = None, verify: Verify | None = None,
                       group_cluster: GroupCluster | None = None) -> None:
    """`verify`: the intake topics' records act only when their region signed them (vtkit.signing);
    `group_cluster`: a replaced broker is read from its start (vtkit.group_cluster)."""
    await consume(settings, list(source or source_topics()), group_id, handler, producer, stop,
                  batch_scope=handler.store.group, verify=verify, group_cluster=group_cluster,
                  passes_over=events.PASSED_OVER_TYPES)
