"""Event handling: turns AssessmentDue, AssessmentCompleted, RegisterMatch, SignalMatch and YouthRelocated events into
scheduled deliveries; AssessmentInput, MonitoringAlert, DeadlineOverdue and OnderzoekCompleted into region inbox
items (notifier.inbox); and keeps per case what intake recorded (MeldingReceived) for the letter.

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
from vt.intake.v1 import events_pb2 as intake_events
from vt.notifier.v1 import receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vt.verwijsindex.v1 import events_pb2 as vi_events
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as vi_service
from vtkit import topics
from vtkit.calendar import local_date
from vtkit.crypto import DecryptionError, TenantCipher
from vtkit.envelope import Envelope, Event
from vtkit.kafka import KafkaSettings, PermanentError, Verify, consume
from vtkit.keystore import KeyStore
from vtkit.tenants import all_tenants

from notifier.adapters import proto
from notifier.domain import Delivery, DeliveryKind, delivery_key
from notifier.domain.causes import InvalidCause
from notifier.domain.deadlines import callback_due_date
from notifier.domain.inbox import Deadline, changes_between
from notifier.domain.letter import letter_due_date
from notifier.inbox import Inbox
from notifier.letters import opened, sealed
from notifier.scheduler import Clock, utc_now
from notifier.store import Store

log = logging.getLogger("notifier.consumer")


# The tenant_id of verwijsindex match notices: national, not listed to any region.
VERWIJSINDEX = "verwijsindex"


def source_topics() -> list[str]:
    return [topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_VERWIJSINDEX, *(topics.register(t) for t in all_tenants()),
            *(topics.intake(t) for t in all_tenants())]


def _flag(msg: radar_events.AssessmentCompleted, name: str) -> bool:
    """A decision flag radar may not set yet (older events, older schema): absent means False."""
    return bool(getattr(msg, name, False))


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
            if isinstance(event.message, radar_events.AssessmentDue):
                self.on_assessment_due(event.envelope, event.message)
            elif isinstance(event.message, radar_events.RegisterMatch):
                self.on_register_match(event.envelope, event.message)
            elif isinstance(event.message, radar_events.AssessmentCompleted):
                self.on_assessment_completed(event.envelope, event.message)
            elif isinstance(event.message, radar_events.AssessmentInput):
                self.on_assessment_input(event.envelope, event.message)
            elif isinstance(event.message, radar_events.MonitoringAlert):
                self.on_monitoring_alert(event.envelope, event.message)
            elif isinstance(event.message, radar_events.DeadlineOverdue):
                self.on_deadline_overdue(event.envelope, event.message)
            elif isinstance(event.message, radar_events.EpisodeJoined):
                self.on_episode_joined(event.message)
            elif isinstance(event.message, radar_events.OnderzoekCompleted):
                self.on_onderzoek_completed(event.envelope, event.message)
            elif isinstance(event.message, intake_events.MeldingReceived):
                self.on_melding_received(event.envelope, event.message, record.topic if record else None)
            elif isinstance(event.message, intake_events.DossierDestroyed):
                self.on_dossier_destroyed(event.message, record.topic if record else None)
            elif isinstance(event.message, intake_events.EmergencyAccess):
                self.on_emergency_access(event.envelope, event.message, record.topic if record else None)
            elif isinstance(event.message, intake_events.AmbtshalveMeldingMade):
                self.on_ambtshalve(event.envelope, event.message)
            elif isinstance(event.message, vi_events.SignalMatch):
                self.on_signal_match(event.envelope, event.message)
            elif isinstance(event.message, vi_events.YouthRelocated):
                self.on_youth_relocated(event.envelope, event.message)
            # Other types on these topics (RegisterEntry, ...) are not ours to act on.
        except InvalidCause as exc:
            raise PermanentError(str(exc)) from exc

    def on_assessment_due(self, envelope: Envelope, msg: radar_events.AssessmentDue) -> None:
        facts = proto.assessment_due_facts(msg)
        due_date, disagrees = callback_due_date(facts.received_at, facts.due_date)
        if disagrees:
            log.warning("due date differs from 5 working days after receipt; keeping radar's",
                        extra={"case_id": facts.case_id, "tenant": facts.tenant_id, "due_date": due_date})
        key = delivery_key(envelope.id, DeliveryKind.MELDER_CALLBACK)
        now = self.clock()
        # deliver_after = now: the regional worker needs the callback task and its due date at once.
        self._schedule(Delivery(key=key, kind=DeliveryKind.MELDER_CALLBACK, tenant_id=facts.tenant_id,
                                case_id=facts.case_id, cause_event_id=envelope.id, due_date=due_date, created_at=now,
                                deliver_after=now, body=proto.callback_body(msg, key, due_date)))

    def on_register_match(self, envelope: Envelope, msg: radar_events.RegisterMatch) -> None:
        facts = proto.register_match_facts(msg)
        if facts.addressed_to not in all_tenants():
            raise InvalidCause(f"RegisterMatch addressed to unknown tenant {facts.addressed_to!r}")
        key = delivery_key(envelope.id, DeliveryKind.REGISTER_MATCH_NOTICE)
        now = self.clock()
        self.inbox.schedule(Delivery(key=key, kind=DeliveryKind.REGISTER_MATCH_NOTICE, tenant_id=facts.addressed_to,
                                     case_id=facts.case_id, cause_event_id=envelope.id, due_date=None, created_at=now,
                                     deliver_after=now, body=proto.register_match_body(msg, key)), now)

    # -- region inbox (notifier.domain.inbox) ----------------------------------------------------

    def on_assessment_input(self, envelope: Envelope, msg: radar_events.AssessmentInput) -> None:
        """An item when a person's assessment input is first known and each time it gains something (another
        VT organisation, an RvdK signal, a joining melding); a repeat that adds nothing is not an item."""
        tenant = self._own_tenant(msg.tenant_id, msg.case_id, "AssessmentInput")
        previous = self.store.last_input(tenant, msg.case_id, msg.person_id)
        before = proto.input_view(radar_events.AssessmentInput.FromString(previous)) if previous else None
        changes = changes_between(before, proto.input_view(msg))
        if before is not None and not changes:
            return
        self.store.put_input(tenant, msg.case_id, msg.person_id, msg.SerializeToString())
        item = proto.assessment_input_item(msg, changes, first=before is None)
        self.inbox.item(DeliveryKind.INBOX_ASSESSMENT_INPUT, envelope.id, tenant, msg.case_id, item,
                    proto.to_datetime(msg.collected_at, msg.HasField("collected_at")))

    def on_monitoring_alert(self, envelope: Envelope, msg: radar_events.MonitoringAlert) -> None:
        tenant = self._own_tenant(msg.tenant_id, msg.case_id, "MonitoringAlert")
        item = proto.monitoring_alert_item(msg)
        self.inbox.item(DeliveryKind.INBOX_MONITORING_ALERT, envelope.id, tenant, msg.case_id, item,
                    proto.to_datetime(msg.detected_at, msg.HasField("detected_at")))

    def on_deadline_overdue(self, envelope: Envelope, msg: radar_events.DeadlineOverdue) -> None:
        """Once per case and deadline, whatever event id radar gave it (keyed on the deadline, not the event)."""
        tenant = self._own_tenant(msg.tenant_id, msg.case_id, "DeadlineOverdue")
        detected = proto.to_datetime(msg.detected_at, msg.HasField("detected_at")) or self.clock()
        self.inbox.overdue(tenant, msg.case_id, proto.radar_deadline(msg.kind),
                           proto.to_datetime(msg.due_at, msg.HasField("due_at")), detected)

    def on_onderzoek_completed(self, envelope: Envelope, msg: radar_events.OnderzoekCompleted) -> None:
        """The onderzoek's outcome ends its 10-week deadline: if the region was told it was overdue, it is told
        that it was met after all. Its follow-up is a decision like the first: an RvdK request, an overdracht or
        the professional of an ambtshalve melding get their notices."""
        tenant = self._own_tenant(msg.tenant_id, msg.case_id, "OnderzoekCompleted")
        at = proto.to_datetime(msg.completed_at, msg.HasField("completed_at")) or self.clock()
        self.inbox.resolve_overdue(tenant, msg.case_id, Deadline.ONDERZOEK, at)
        self._decision_notices(envelope.id, proto.follow_up_decision(msg), self.clock())

    def _own_tenant(self, tenant: str, case_id: str, what: str) -> str:
        if not tenant or not case_id:
            raise InvalidCause(f"{what} without tenant_id or case_id")
        if tenant not in all_tenants():
            raise InvalidCause(f"{what} of unknown tenant {tenant!r}")
        return tenant

    def on_episode_joined(self, msg: radar_events.EpisodeJoined) -> None:
        """The melding's household is informed by its episode's letter: no letter deadline of its own."""
        tenant = self._own_tenant(msg.tenant_id, msg.case_id, "EpisodeJoined")
        if not msg.episode_case_id:
            raise InvalidCause("EpisodeJoined without episode_case_id")
        self.store.put_episode_member(tenant, msg.case_id, msg.episode_case_id)

    def on_melding_received(self, envelope: Envelope, msg: intake_events.MeldingReceived, topic: str | None) -> None:
        """Kept encrypted, as received, for the household letter; the letter's due date follows receipt."""
        if not msg.tenant_id or not msg.contact_id or not msg.HasField("received_at"):
            raise InvalidCause("MeldingReceived without tenant_id, contact_id or received_at")
        if topic is not None and topic != topics.intake(msg.tenant_id):
            raise InvalidCause(f"MeldingReceived of {msg.tenant_id!r} on {topic}")
        received_at = proto.to_datetime(msg.received_at, True)
        assert received_at is not None
        if self.store.put_case(msg.tenant_id, msg.contact_id, envelope.id, received_at, msg.SerializeToString()):
            self._move_letter_due(msg.tenant_id, msg.contact_id)
            log.info("case recorded", extra={"case_id": msg.contact_id, "tenant": msg.tenant_id})

    def on_emergency_access(self, envelope: Envelope, msg: intake_events.EmergencyAccess, topic: str | None) -> None:
        """Another region read one of this region's contacts by break-glass: its inbox (privacy officer) hears it."""
        if not msg.tenant_id or not msg.contact_id or not msg.by_tenant_id:
            raise InvalidCause("EmergencyAccess without tenant_id, contact_id or by_tenant_id")
        if topic is not None and topic != topics.intake(msg.tenant_id):
            raise InvalidCause(f"EmergencyAccess of {msg.tenant_id!r} on {topic}")
        self.inbox.emergency_access(envelope.id, msg)

    def on_dossier_destroyed(self, msg: intake_events.DossierDestroyed, topic: str | None) -> None:
        """The household's dossier was destroyed (Wmo 5.3.5 request or 5.3.4 retention): its fields no longer
        open, and nothing is sent about it any more: its cases are dropped and open deliveries cancelled."""
        if not msg.tenant_id or not msg.dossier_id:
            raise InvalidCause("DossierDestroyed without tenant_id or dossier_id")
        if topic is not None and topic != topics.intake(msg.tenant_id):
            raise InvalidCause(f"DossierDestroyed of {msg.tenant_id!r} on {topic}")
        why = intake_events.DestructionReason.Name(msg.reason).removeprefix("DESTRUCTION_REASON_").lower()
        cancelled = self.store.destroy_cases(msg.tenant_id, [*msg.contact_ids, msg.dossier_id], self.clock(),
                                             f"dossier destroyed ({why})")
        log.info("dossier destroyed", extra={"dossier_id": msg.dossier_id, "tenant": msg.tenant_id,
                                             "cancelled": cancelled})

    def _move_letter_due(self, tenant_id: str, case_id: str) -> dt.date | None:
        case = self.store.get_case(tenant_id, case_id)
        if case is None:
            return None
        weeks = sum(p.weeks for p in self.store.postponements(tenant_id, case_id))
        due = letter_due_date(local_date(case.received_at), weeks)
        self.store.set_letter_due(tenant_id, case_id, due)
        return due

    def on_assessment_completed(self, envelope: Envelope, msg: radar_events.AssessmentCompleted) -> None:
        """The callback content to the region, then (only after it was delivered and the region confirmed the
        conversation with the melder, ConfirmMelderContacted) the household letter;
        an RvdK request also goes to the RvdK and the municipality when the decision says so."""
        if not msg.tenant_id or not msg.case_id:
            raise InvalidCause("AssessmentCompleted without tenant_id or case_id")
        if msg.tenant_id not in all_tenants():
            raise InvalidCause(f"AssessmentCompleted of unknown tenant {msg.tenant_id!r}")
        now = self.clock()
        self.inbox.resolve_overdue(msg.tenant_id, msg.case_id, Deadline.ASSESSMENT,
                              proto.to_datetime(msg.decided_at, msg.HasField("decided_at")) or now)
        case = self.store.get_case(msg.tenant_id, msg.case_id)
        callback_key = delivery_key(envelope.id, DeliveryKind.MELDER_CALLBACK)
        callback = receivers_pb2.DeliverCallbackRequest(idempotency_key=callback_key, tenant_id=msg.tenant_id,
                                                        case_id=msg.case_id)
        if msg.HasField("agreements"):
            callback.agreements.CopyFrom(msg.agreements)  # passed through, never opened here
        if msg.HasField("melder_feedback"):  # the callback's four contents, also passed through unopened
            callback.feedback.CopyFrom(msg.melder_feedback)
            callback.feedback_event_id = envelope.id
        if case is not None:
            callback.received_at.FromDatetime(case.received_at)
        self._schedule(Delivery(key=callback_key, kind=DeliveryKind.MELDER_CALLBACK, tenant_id=msg.tenant_id,
                                case_id=msg.case_id, cause_event_id=envelope.id, due_date=None, created_at=now,
                                deliver_after=now, body=callback.SerializeToString()))
        if msg.episode_case_id:
            # A melding that joined its household's episode: its melder is called back, but the household letter
            # and any notice are the episode's decision's (one per household episode).
            return
        # Every melding's household is informed (docs/domain.md section 4), so the letter does not wait for
        # radar's household_letter_required flag, which older events lack.
        letter_key = delivery_key(envelope.id, DeliveryKind.HOUSEHOLD_LETTER)
        weeks = sum(p.weeks for p in self.store.postponements(msg.tenant_id, msg.case_id))
        due = letter_due_date(local_date(case.received_at), weeks) if case else None
        self._schedule(Delivery(key=letter_key, kind=DeliveryKind.HOUSEHOLD_LETTER, tenant_id=msg.tenant_id,
                                case_id=msg.case_id, cause_event_id=envelope.id, due_date=due, created_at=now,
                                deliver_after=now, body=msg.SerializeToString(), after_key=callback_key))
        self._decision_notices(envelope.id, msg, now)

    def _decision_notices(self, event_id: str, decided: radar_events.AssessmentCompleted, now: dt.datetime) -> None:
        """The notices that follow a decision (docs/architecture.md "Outgoing notices"), scheduled with the decision
        as it arrived (still encrypted) and built when sent (notifier.notices): the RvdK request and, once the RvdK
        has it, the municipality notice; the hand-over to an overdracht's receiving party; and, for an ambtshalve
        melding, the decision to its professional (docs/domain.md sections 1, 2 and 4)."""
        body = decided.SerializeToString()

        def schedule(kind: DeliveryKind, part: str, after: str | None = None) -> str:
            key = delivery_key(f"{event_id}/{part}", kind)
            self._schedule(Delivery(key=key, kind=kind, tenant_id=decided.tenant_id, case_id=decided.case_id,
                                    cause_event_id=event_id, due_date=None, created_at=now, deliver_after=now,
                                    body=body, after_key=after))
            return key

        if _flag(decided, "rvdk_request") or decided.decision == radar_events.DECISION_RVDK_REQUEST:
            rvdk = schedule(DeliveryKind.RVDK_REQUEST_NOTICE, "rvdk")
            # The municipality hears of the request once it was made (delivered to the RvdK), whatever older events
            # say in municipality_notice: the law asks it with every RvdK request.
            schedule(DeliveryKind.MUNICIPALITY_NOTICE, "municipality", after=rvdk)
        if decided.decision == radar_events.DECISION_OVERDRACHT:
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
        if case is None:
            return False
        return intake_events.MeldingReceived.FromString(case.melding).origin == intake_events.MELDING_ORIGIN_AMBTSHALVE

    def on_ambtshalve(self, envelope: Envelope, msg: intake_events.AmbtshalveMeldingMade) -> None:
        """VT made a melding ambtshalve after an MDO: the professional is told, when intake says so, that the
        melding was made, on which conditions, and what happens now (notifier.notices builds it when sent; the
        endpoint resolves `professional:<tenant>:<melding_id>` with the region)."""
        if not msg.professional_to_be_informed:
            return
        if not msg.tenant_id or not msg.melding_id:
            raise InvalidCause("AmbtshalveMeldingMade without tenant_id or melding_id")
        kind, now = DeliveryKind.AMBTSHALVE_NOTICE, self.clock()
        key = delivery_key(envelope.id, kind)
        self._schedule(Delivery(key=key, kind=kind, tenant_id=msg.tenant_id, case_id=msg.melding_id,
                                cause_event_id=envelope.id, due_date=None, created_at=now, deliver_after=now,
                                body=msg.SerializeToString()))

    def on_signal_match(self, envelope: Envelope, msg: vi_events.SignalMatch) -> None:
        """A notice to every registrant with only the other registrants' contact details, and one with
        all of them to the municipality's regievoerder. The contacts are opened here and the notice is
        encrypted again at once under the verwijsindex field key (bound to the delivery's key and
        recipient), so SQLite holds it encrypted."""
        if not msg.match_id or not msg.registrants:
            raise InvalidCause("SignalMatch without match_id or registrants")
        cipher, contacts = self._open_contacts(envelope, msg.registrants)
        recipients = [(c.registrant_id, [o for o in contacts if o.registrant_id != c.registrant_id]) for c in contacts]
        if msg.municipality_code:
            recipients.append((f"regievoerder:{msg.municipality_code}", contacts))
        kind, now = DeliveryKind.VERWIJSINDEX_MATCH_NOTICE, self.clock()
        for recipient, others in recipients:
            key = delivery_key(f"{envelope.id}/{recipient}", kind)
            notice = receivers_pb2.ProfessionalNotice(match_id=msg.match_id, match_kind=vi_events.MatchKind.Name(msg.kind),
                                                      different_youths=msg.different_youths, others=others)
            request = receivers_pb2.NotifyRequest(
                idempotency_key=key, recipient_id=recipient, subject="verwijsindex_match",
                body=sealed(cipher, notice.SerializeToString(), key, f"notice/{recipient}"))
            self._schedule(Delivery(key=key, kind=kind, tenant_id=VERWIJSINDEX, case_id=msg.match_id,
                                    cause_event_id=envelope.id, due_date=None, created_at=now, deliver_after=now,
                                    body=request.SerializeToString()))

    def _open_contacts(self, envelope: Envelope, registrants: Sequence[vi_events.RegistrantContact]
                       ) -> tuple[TenantCipher, list[receivers_pb2.NoticeContact]]:
        """The registrants' contacts of a verwijsindex event, opened (event id = the record's ce_id)."""
        if self.keys is None:
            raise InvalidCause("no key store: cannot open verwijsindex contacts")
        cipher = self.keys.field_cipher(VERWIJSINDEX)
        contacts: list[receivers_pb2.NoticeContact] = []
        for registrant in registrants:
            try:
                plain = opened(cipher, registrant.contact, envelope.id, f"registrant_contact/{registrant.registrant_id}")
            except DecryptionError as exc:
                raise InvalidCause(f"contact of registrant {registrant.registrant_id} does not decrypt") from exc
            r = vi_service.Registrant.FromString(plain)
            contacts.append(receivers_pb2.NoticeContact(registrant_id=registrant.registrant_id, name=r.name,
                                                        organisation=r.organisation, phone=r.phone, email=r.email,
                                                        coordinator=r.coordinator))
        return cipher, contacts

    def on_youth_relocated(self, envelope: Envelope, msg: vi_events.YouthRelocated) -> None:
        """A youth with active signals moved municipality: a notice to every registrant (with the other
        registrants' contacts) and to the new municipality's regievoerder (with all of them), saying only
        which municipality the youth moved from and to. Never the risk code, a BSN, the pseudonym or an
        address. Encrypted per recipient like the match notices; key = sha256(ce_id/recipient:kind)."""
        if not msg.notice_id or not msg.to_municipality_code or not msg.registrants:
            raise InvalidCause("YouthRelocated without notice_id, to_municipality_code or registrants")
        cipher, contacts = self._open_contacts(envelope, msg.registrants)
        recipients = [(c.registrant_id, [o for o in contacts if o.registrant_id != c.registrant_id]) for c in contacts]
        recipients.append((msg.regievoerder_id or f"regievoerder:{msg.to_municipality_code}", contacts))
        kind, now = DeliveryKind.VERWIJSINDEX_RELOCATION_NOTICE, self.clock()
        for recipient, others in recipients:
            key = delivery_key(f"{envelope.id}/{recipient}", kind)
            notice = receivers_pb2.ProfessionalNotice(match_id=msg.notice_id, others=others,
                                                      from_municipality_code=msg.from_municipality_code,
                                                      to_municipality_code=msg.to_municipality_code)
            request = receivers_pb2.NotifyRequest(
                idempotency_key=key, recipient_id=recipient, subject="verwijsindex_relocation",
                body=sealed(cipher, notice.SerializeToString(), key, f"notice/{recipient}"))
            self._schedule(Delivery(key=key, kind=kind, tenant_id=VERWIJSINDEX, case_id=msg.notice_id,
                                    cause_event_id=envelope.id, due_date=None, created_at=now, deliver_after=now,
                                    body=request.SerializeToString()))

    def _schedule(self, delivery: Delivery) -> None:
        fields = {"idempotency_key": delivery.key, "kind": delivery.kind.value, "tenant": delivery.tenant_id,
                  "case_id": delivery.case_id, "cause_event_id": delivery.cause_event_id}
        if self.store.add(delivery):
            log.info("delivery scheduled", extra={**fields, "due_date": delivery.due_date})
            self.on_scheduled()
        else:
            log.info("duplicate event ignored", extra=fields)


async def run_consumer(settings: KafkaSettings, group_id: str, handler: EventHandler, producer: AIOKafkaProducer,
                       stop: asyncio.Event, source: Sequence[str] | None = None, verify: Verify | None = None) -> None:
    """`verify`: the intake topics' records act only when their region signed them (vtkit.signing)."""
    await consume(settings, list(source or source_topics()), group_id, handler, producer, stop,
                  batch_scope=handler.store.group, verify=verify)
