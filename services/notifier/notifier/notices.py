"""Builds the outgoing notices of a decision at send time (docs/architecture.md "Outgoing notices"), like the
household letter (notifier.letters): the delivery row keeps the cause as it arrived (AssessmentCompleted, an
onderzoek outcome in its shape, or AmbtshalveMeldingMade: every personal field still encrypted); here, just before
the Notify call, the case's MeldingReceived and the decision's encrypted fields are opened with the region's key and
the notice is made for its one receiver:

- the RvdK request (RvdkRequest: the children, the reason, the requesting region) is sealed to the RvdK
  (vtkit.crypto.seal, recipient "rvdk"): nobody else, the notifier included, can open what was sent;
- the municipality notice, the hand-over and the ambtshalve notices are encrypted under the notifier's field key
  (KeyStore.field_cipher("notifier"); event id = the call's idempotency key, field "notice/<recipient_id>"), as the
  verwijsindex notices are under the verwijsindex's.

Nothing opened is logged or stored.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from google.protobuf.message import DecodeError
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.notifier.v1 import receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vtkit.crypto import TenantCipher, seal
from vtkit.keystore import KeyStore
from vtkit.tenants import get_tenant

from notifier.adapters.proto import opened, sealed
from notifier.domain import Delivery, DeliveryKind
from notifier.domain.letter import VT_PHONE, AddressBook, NoAddressBook, Person, letter_key
from notifier.domain.notices import (
    AMBTSHALVE_MELDING_CONSEQUENCES,
    CONDITION_TEXT,
    JUDGEMENT_TEXT,
    RVDK_RECIPIENT,
    NoticeUndeliverable,
    by_municipality,
    children,
    decision_consequences,
    decision_text,
    handed_over_text,
    municipality_recipient,
    municipality_text,
    professional_recipient,
)
from notifier.letters import LetterNotReady, persons
from notifier.store import Store
from notifier.store_rows import CaseRecord

log = logging.getLogger("notifier.notices")

# The notifier's own field key: what municipalities, receiving parties and professionals open.
NOTICE_KEY_OWNER = "notifier"


def notice_field(recipient_id: str) -> str:
    return f"notice/{recipient_id}"


def _date(day: dt.date | None) -> common_pb2.Date | None:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day) if day else None


def _person(person: Person, with_role: bool = False) -> receivers_pb2.NoticePerson:
    out = receivers_pb2.NoticePerson(bsn=person.bsn, name=person.name, role=person.role.lower() if with_role else "")
    if person.date_of_birth is not None:
        out.date_of_birth.CopyFrom(_date(person.date_of_birth))
    return out


def _sender(tenant_id: str) -> receivers_pb2.NoticeSender:
    region = get_tenant(tenant_id)
    return receivers_pb2.NoticeSender(tenant_id=tenant_id, name=region.name, phone=VT_PHONE, contact=region.letter_contact)


class NoticeBuilder:
    """NotifyRequests for the notice kinds (NOTICE_KINDS); one per receiver, each with its own idempotency key when a
    delivery has several (a municipality per child's municipality: `letter_key(delivery key, code)`)."""

    def __init__(self, store: Store, keys: KeyStore, addresses: AddressBook | None = None):
        self.store = store
        self.keys = keys
        self.addresses = addresses or NoAddressBook()

    def requests(self, delivery: Delivery, today: dt.date) -> list[receivers_pb2.NotifyRequest]:
        legacy = _legacy(delivery)
        if legacy is not None:
            return [legacy]
        case = self.store.get_case(delivery.tenant_id, delivery.case_id)
        if case is None:
            raise LetterNotReady(f"no MeldingReceived known for case {delivery.case_id}")
        cipher = self.keys.tenant_cipher(delivery.tenant_id)
        if delivery.kind is DeliveryKind.AMBTSHALVE_NOTICE:
            return [self._ambtshalve_melding(delivery, case, cipher)]
        completed = radar_events.AssessmentCompleted.FromString(delivery.body)
        if delivery.kind is DeliveryKind.RVDK_REQUEST_NOTICE:
            return [self._rvdk(delivery, case, completed, cipher, today)]
        if delivery.kind is DeliveryKind.MUNICIPALITY_NOTICE:
            return self._municipalities(delivery, case, completed, cipher, today)
        if delivery.kind is DeliveryKind.OVERDRACHT_NOTICE:
            return [self._handover(delivery, case, completed, cipher)]
        if delivery.kind is DeliveryKind.AMBTSHALVE_DECISION_NOTICE:
            return [self._ambtshalve_decision(delivery, case, completed, cipher)]
        raise NoticeUndeliverable(f"no notice for {delivery.kind.value}")

    # -- the four notices --------------------------------------------------------------------------------------

    def _rvdk(self, delivery: Delivery, case: CaseRecord, completed: radar_events.AssessmentCompleted,
              cipher: TenantCipher, today: dt.date) -> receivers_pb2.NotifyRequest:
        melding = intake_events.MeldingReceived.FromString(case.melding)
        kids = children(persons(case, melding, cipher), today)
        if not kids:
            raise NoticeUndeliverable("the melding names no child: an RvdK request is about a child")
        body = receivers_pb2.RvdkRequest(region=_sender(delivery.tenant_id), reference=melding.reference or case.case_id,
                                         case_id=case.case_id, children=[_person(k) for k in kids],
                                         responsible_for_safety=completed.responsible_for_safety)
        if completed.HasField("decided_at"):
            body.decided_at.CopyFrom(completed.decided_at)
        if completed.HasField("rvdk_reason"):
            body.reason.ParseFromString(opened(cipher, completed.rvdk_reason, delivery.cause_event_id, "rvdk_reason"))
        envelope = seal(body.SerializeToString(), RVDK_RECIPIENT, self.keys.seal_public(RVDK_RECIPIENT))
        return receivers_pb2.NotifyRequest(
            idempotency_key=delivery.key, recipient_id=RVDK_RECIPIENT, subject="rvdk_request",
            sealed_body=common_pb2.SealedIdentifier(recipient=envelope.recipient,
                                                    ephemeral_public_key=envelope.ephemeral_public_key,
                                                    nonce=envelope.nonce, ciphertext=envelope.ciphertext))

    def _municipalities(self, delivery: Delivery, case: CaseRecord, completed: radar_events.AssessmentCompleted,
                        cipher: TenantCipher, today: dt.date) -> list[receivers_pb2.NotifyRequest]:
        melding = intake_events.MeldingReceived.FromString(case.melding)
        kids = children(persons(case, melding, cipher), today)
        places, unknown = by_municipality(kids, self.addresses)
        if not places:
            raise NoticeUndeliverable("the BRP places no child of the RvdK request in a municipality")
        for child in unknown:
            log.warning("a child of an RvdK request is in no municipality of the BRP; its municipality is not told",
                        extra={"tenant": delivery.tenant_id, "case_id": delivery.case_id, "person_id": child.person_id})
        sender = _sender(delivery.tenant_id)
        requested = completed.decided_at if completed.HasField("decided_at") else None
        requested_on = requested.ToDatetime(dt.UTC).date() if requested is not None else today
        out = []
        for code, living_there in sorted(places.items()):
            recipient = municipality_recipient(code)
            key = letter_key(delivery.key, recipient)
            body = receivers_pb2.MunicipalityNotice(
                region=sender, reference=melding.reference or case.case_id, municipality_code=code,
                children=[_person(k) for k in living_there],
                text=municipality_text(sender.name, sender.phone, requested_on, living_there))
            if requested is not None:
                body.requested_at.CopyFrom(requested)
            out.append(self._notify(key, recipient, "municipality_notice", body.SerializeToString()))
        return out

    def _handover(self, delivery: Delivery, case: CaseRecord, completed: radar_events.AssessmentCompleted,
                  cipher: TenantCipher) -> receivers_pb2.NotifyRequest:
        if not completed.overdracht_receiver_id:
            raise NoticeUndeliverable("the overdracht names no receiving party")
        melding = intake_events.MeldingReceived.FromString(case.melding)
        household = persons(case, melding, cipher)
        agreements = ""
        if completed.HasField("agreements"):
            agreements = opened(cipher, completed.agreements, delivery.cause_event_id, "agreements").decode()
        body = receivers_pb2.HandoverNotice(
            region=_sender(delivery.tenant_id), reference=melding.reference or case.case_id, case_id=case.case_id,
            receiver_id=completed.overdracht_receiver_id, receiver_name=completed.overdracht_to,
            persons=[_person(p, with_role=True) for p in household],
            handed_over=handed_over_text(completed.overdracht_to, completed.responsible_for_safety),
            judgement=JUDGEMENT_TEXT.get(radar_events.SafetyJudgement.Name(completed.judgement), ""),
            responsible_for_safety=completed.responsible_for_safety, agreements=agreements)
        if completed.HasField("decided_at"):
            body.decided_at.CopyFrom(completed.decided_at)
        return self._notify(delivery.key, completed.overdracht_receiver_id, "overdracht", body.SerializeToString())

    def _ambtshalve_melding(self, delivery: Delivery, case: CaseRecord,
                            cipher: TenantCipher) -> receivers_pb2.NotifyRequest:
        made = intake_events.AmbtshalveMeldingMade.FromString(delivery.body)
        body = self._ambtshalve_body(delivery, case, cipher, receivers_pb2.AMBTSHALVE_STAGE_MELDING)
        body.mdo_date.CopyFrom(made.mdo_date)
        body.conditions.extend(text for name, text in CONDITION_TEXT.items() if getattr(made.conditions, name, False))
        body.consequences.extend(AMBTSHALVE_MELDING_CONSEQUENCES)
        body.at.FromDatetime(case.received_at)
        return self._notify(delivery.key, professional_recipient(delivery.tenant_id, case.case_id),
                            "ambtshalve_melding", body.SerializeToString())

    def _ambtshalve_decision(self, delivery: Delivery, case: CaseRecord, completed: radar_events.AssessmentCompleted,
                             cipher: TenantCipher) -> receivers_pb2.NotifyRequest:
        decision = radar_events.Decision.Name(completed.decision)
        body = self._ambtshalve_body(delivery, case, cipher, receivers_pb2.AMBTSHALVE_STAGE_DECISION)
        body.decision = decision
        body.decision_text = decision_text(decision, completed.overdracht_to)
        body.judgement = JUDGEMENT_TEXT.get(radar_events.SafetyJudgement.Name(completed.judgement), "")
        body.responsible_for_safety = completed.responsible_for_safety
        body.consequences.extend(decision_consequences(decision, completed.overdracht_to))
        if completed.HasField("decided_at"):
            body.at.CopyFrom(completed.decided_at)
        return self._notify(delivery.key, professional_recipient(delivery.tenant_id, case.case_id),
                            "ambtshalve_decision", body.SerializeToString())

    def _ambtshalve_body(self, delivery: Delivery, case: CaseRecord, cipher: TenantCipher,
                         stage: int) -> receivers_pb2.AmbtshalveNotice:
        """The professional as the melding names them (the melder of an ambtshalve melding)."""
        melding = intake_events.MeldingReceived.FromString(case.melding)
        professional: dict[str, object] = {}
        if melding.HasField("melder"):
            value = json.loads(opened(cipher, melding.melder, case.event_id, "melder"))
            professional = value if isinstance(value, dict) else {}
        return receivers_pb2.AmbtshalveNotice(
            region=_sender(delivery.tenant_id), reference=melding.reference or case.case_id, case_id=case.case_id,
            stage=stage,  # type: ignore[arg-type]
            professional_name=str(professional.get("name", "")),
            professional_organisation=str(professional.get("organisation", "")))

    def _notify(self, key: str, recipient: str, subject: str, plain: bytes) -> receivers_pb2.NotifyRequest:
        cipher = self.keys.field_cipher(NOTICE_KEY_OWNER)
        return receivers_pb2.NotifyRequest(idempotency_key=key, recipient_id=recipient, subject=subject,
                                           body=sealed(cipher, plain, key, notice_field(recipient)))


def _legacy(delivery: Delivery) -> receivers_pb2.NotifyRequest | None:
    """A delivery scheduled before the notices had content kept its whole NotifyRequest as the body (with the
    delivery's key): it is sent as it was."""
    if delivery.kind not in (DeliveryKind.RVDK_REQUEST_NOTICE, DeliveryKind.AMBTSHALVE_NOTICE):
        return None
    try:
        request = receivers_pb2.NotifyRequest.FromString(delivery.body)
    except DecodeError:
        return None
    return request if request.idempotency_key == delivery.key else None
