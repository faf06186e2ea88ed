"""Where protobuf messages and domain objects meet (the consumed events are read in adapters/events.py).

A delivery's body is the receiver request serialized at scheduling time, built here from the use case's content
(notifier.domain.callback, notifier.domain.verwijsindex): the melder's EncryptedField is copied from the event into
it unchanged and sent byte for byte, never opened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from google.protobuf import timestamp_pb2
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.notifier.v1 import events_pb2, notifier_service_pb2, receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as vi_service
from vtkit.calendar import end_of_day
from vtkit.crypto import Ciphertext, DecryptionError, TenantCipher

from notifier.domain import Delivery, DeliveryKind, DeliveryState
from notifier.domain.callback import Callback
from notifier.domain.causes import (
    AssessmentInputFacts,
    EmergencyAccessFacts,
    InvalidCause,
    MonitoringAlertFacts,
    RegisterMatchFacts,
    SealedContact,
)
from notifier.domain.inbox import Change, Deadline
from notifier.domain.verwijsindex import NoticeContact, ProfessionalNotice
from notifier.store import InboxRow, MelderContact

# -- scalar helpers -----------------------------------------------------------------------------


def to_date(value: common_pb2.Date) -> dt.date | None:
    if not value.year:
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise InvalidCause(f"invalid date {value.year}-{value.month}-{value.day}") from None


def from_date(value: dt.date | None) -> common_pb2.Date | None:
    return common_pb2.Date(year=value.year, month=value.month, day=value.day) if value else None


def to_datetime(value: timestamp_pb2.Timestamp, present: bool) -> dt.datetime | None:
    if not present:
        return None
    try:
        return value.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):  # outside the Timestamp range: the consumer crashed on it (fuzz run)
        raise InvalidCause(f"invalid timestamp {value.seconds}s {value.nanos}ns") from None


def from_datetime(value: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def opened(cipher: TenantCipher, field: common_pb2.EncryptedField, event_id: str, name: str) -> bytes:
    return cipher.decrypt(Ciphertext(field.key_id, field.nonce, field.ciphertext), event_id=event_id, field=name)


def sealed(cipher: TenantCipher, plaintext: bytes, event_id: str, name: str) -> common_pb2.EncryptedField:
    c = cipher.encrypt(plaintext, event_id=event_id, field=name)
    return common_pb2.EncryptedField(key_id=c.key_id, nonce=c.nonce, ciphertext=c.ciphertext)


def kind_to_proto(kind: DeliveryKind) -> int:
    return int(events_pb2.DeliveryKind.Value(f"DELIVERY_KIND_{kind.value}"))


_STATE_TO_PROTO = {
    DeliveryState.PENDING: notifier_service_pb2.DELIVERY_STATE_PENDING,
    # In flight is an internal detail: to the outside it is still pending.
    DeliveryState.IN_FLIGHT: notifier_service_pb2.DELIVERY_STATE_PENDING,
    DeliveryState.DELIVERED: notifier_service_pb2.DELIVERY_STATE_DELIVERED,
    DeliveryState.FAILED: notifier_service_pb2.DELIVERY_STATE_FAILED,
}


def states_from_proto(state: int) -> set[DeliveryState]:
    """The domain states a ListDeliveries state filter selects (empty = all)."""
    if state == notifier_service_pb2.DELIVERY_STATE_UNSPECIFIED:
        return set()
    return {d for d, p in _STATE_TO_PROTO.items() if p == state}


# -- delivery bodies (stored in the delivery row, sent as they are) -------------------------------


def callback_body(callback: Callback) -> bytes:
    request = receivers_pb2.DeliverCallbackRequest(
        idempotency_key=callback.key, tenant_id=callback.tenant_id, case_id=callback.case_id,
        due_date=from_date(callback.due_date), received_at=from_datetime(callback.received_at), acute=callback.acute,
        feedback_event_id=callback.feedback_event_id)
    for name, part in (("melder", callback.melder), ("agreements", callback.agreements),
                       ("feedback", callback.feedback)):
        if part is not None:  # passed through, never opened here
            getattr(request, name).CopyFrom(common_pb2.EncryptedField.FromString(part))
    return request.SerializeToString()


def register_match_body(match: RegisterMatchFacts, key: str) -> bytes:
    request = receivers_pb2.DeliverRegisterMatchRequest(idempotency_key=key, tenant_id=match.addressed_to,
                                                        case_id=match.case_id, person_id=match.person_id)
    if match.other is not None:
        request.other.CopyFrom(common_pb2.Involvement.FromString(match.other))
    return request.SerializeToString()


def opened_contacts(cipher: TenantCipher, event_id: str, registrants: Sequence[SealedContact]) -> list[NoticeContact]:
    """The registrants' contacts of a verwijsindex event, opened (event id = the record's ce_id)."""
    contacts: list[NoticeContact] = []
    for registrant in registrants:
        try:
            plain = opened(cipher, common_pb2.EncryptedField.FromString(registrant.contact), event_id,
                           f"registrant_contact/{registrant.registrant_id}")
        except DecryptionError as exc:
            raise InvalidCause(f"contact of registrant {registrant.registrant_id} does not decrypt") from exc
        r = vi_service.Registrant.FromString(plain)
        contacts.append(NoticeContact(registrant_id=registrant.registrant_id, name=r.name, organisation=r.organisation,
                                      phone=r.phone, email=r.email, coordinator=r.coordinator))
    return contacts


def notify_body(cipher: TenantCipher, key: str, recipient: str, subject: str, notice: ProfessionalNotice) -> bytes:
    """A verwijsindex notice to one recipient, encrypted under the verwijsindex field key (bound to the delivery's
    key and the recipient), so SQLite holds it encrypted."""
    plain = receivers_pb2.ProfessionalNotice(
        match_id=notice.match_id, match_kind=notice.match_kind, different_youths=notice.different_youths,
        others=[receivers_pb2.NoticeContact(registrant_id=c.registrant_id, name=c.name, organisation=c.organisation,
                                            phone=c.phone, email=c.email, coordinator=c.coordinator)
                for c in notice.others],
        from_municipality_code=notice.from_municipality_code, to_municipality_code=notice.to_municipality_code)
    request = receivers_pb2.NotifyRequest(idempotency_key=key, recipient_id=recipient, subject=subject,
                                          body=sealed(cipher, plain.SerializeToString(), key, f"notice/{recipient}"))
    return request.SerializeToString()


# -- stored events ------------------------------------------------------------------------------


def melding_acute(melding: bytes) -> bool:
    """Whether a stored MeldingReceived was flagged for same-day handling."""
    return intake_events.MeldingReceived.FromString(melding).acute


def melding_ambtshalve(melding: bytes) -> bool:
    """Whether a stored MeldingReceived is a melding VT made ambtshalve."""
    return intake_events.MeldingReceived.FromString(melding).origin == intake_events.MELDING_ORIGIN_AMBTSHALVE


# -- region inbox -------------------------------------------------------------------------------

def inbox_change(change: Change) -> receivers_pb2.InboxChange:
    out = receivers_pb2.InboxChange(source=receivers_pb2.InboxSource.Value(f"INBOX_SOURCE_{change.source.value}"),  # type: ignore[arg-type]
                                    at=from_datetime(change.at), case_id=change.case_id, rvdk_kind=change.rvdk_kind,
                                    rvdk_office=change.rvdk_office, match_kind=change.match_kind)
    if change.organisation:
        out.organisation.tenant_id = change.organisation
        if change.at is not None:
            out.organisation.since.FromDatetime(change.at)
    return out


def assessment_input_item(facts: AssessmentInputFacts, changes: list[Change], first: bool) -> receivers_pb2.InboxItem:
    """Built from the input as it arrived: its involvements are told to the region as they are."""
    msg = radar_events.AssessmentInput.FromString(facts.as_received)
    detail = receivers_pb2.AssessmentInputItem(
        first=first, changes=[inbox_change(c) for c in changes],
        other_organisations=[common_pb2.Involvement(tenant_id=o.tenant_id, since=o.since)
                             for o in msg.other_organisations],
        earlier_case_ids=msg.earlier_case_ids, joins_case_id=msg.joins_case_id,
        joined_by_case_ids=msg.joined_by_case_ids, rvdk_signals=len(msg.rvdk), repeat_melding=msg.repeat_melding)
    return receivers_pb2.InboxItem(kind=receivers_pb2.INBOX_ITEM_KIND_ASSESSMENT_INPUT, person_ids=[msg.person_id],
                                   occurred_at=msg.collected_at if msg.HasField("collected_at") else None,
                                   assessment_input=detail)


def monitoring_alert_item(alert: MonitoringAlertFacts) -> receivers_pb2.InboxItem:
    return receivers_pb2.InboxItem(kind=receivers_pb2.INBOX_ITEM_KIND_MONITORING_ALERT, person_ids=[alert.person_id],
                                   occurred_at=from_datetime(alert.detected_at),
                                   monitoring_alert=receivers_pb2.MonitoringAlertItem(signal=inbox_change(alert.signal)))


def deadline_item(deadline: Deadline, due_at: dt.datetime | None, occurred_at: dt.datetime,
                  resolved: bool = False) -> receivers_pb2.InboxItem:
    detail = receivers_pb2.DeadlineOverdueItem(
        deadline=receivers_pb2.InboxDeadline.Value(f"INBOX_DEADLINE_{deadline.value}"),  # type: ignore[arg-type]
        due_at=from_datetime(due_at), resolved=resolved,
                                               resolved_at=from_datetime(occurred_at) if resolved else None)
    return receivers_pb2.InboxItem(kind=receivers_pb2.INBOX_ITEM_KIND_DEADLINE_OVERDUE,
                                   occurred_at=from_datetime(occurred_at), deadline_overdue=detail)


def letter_not_sent_item(person_id: str, reason: str, at: dt.datetime) -> receivers_pb2.InboxItem:
    return receivers_pb2.InboxItem(kind=receivers_pb2.INBOX_ITEM_KIND_LETTER_NOT_SENT, person_ids=[person_id],
                                   occurred_at=from_datetime(at),
                                   letter_not_sent=receivers_pb2.LetterNotSentItem(reason=reason))


def emergency_access_item(access: EmergencyAccessFacts, event_id: str) -> receivers_pb2.InboxItem:
    """For the region's privacy officer: who read which contact by break-glass, and why (still sealed)."""
    return receivers_pb2.InboxItem(
        kind=receivers_pb2.INBOX_ITEM_KIND_EMERGENCY_ACCESS,
        # Both set even when the event lacks them (empty), as when the event's own fields were copied.
        occurred_at=from_datetime(access.at) or timestamp_pb2.Timestamp(),
        emergency_access=receivers_pb2.EmergencyAccessItem(
            by_tenant_id=access.by_tenant_id, by_user=access.by_user,
            reason=common_pb2.EncryptedField.FromString(access.reason), reason_event_id=event_id))


def with_acknowledgement(item: receivers_pb2.InboxItem, acute: bool, before: dt.datetime) -> bytes:
    item.acute = acute
    item.acknowledge_before.FromDatetime(before)
    return item.SerializeToString()


def inbox_item(delivery: Delivery) -> receivers_pb2.InboxItem:
    """The item as the region sees it (pushed and listed); a register match is told in the same shape."""
    if delivery.kind is DeliveryKind.INBOX_ESCALATION:
        return receivers_pb2.InboxItem.FromString(delivery.body)  # the escalated item, its own key kept
    if delivery.kind is DeliveryKind.REGISTER_MATCH_NOTICE:
        match = receivers_pb2.DeliverRegisterMatchRequest.FromString(delivery.body)
        item = receivers_pb2.InboxItem(kind=receivers_pb2.INBOX_ITEM_KIND_REGISTER_MATCH, person_ids=[match.person_id],
                                       occurred_at=match.other.since if match.other.HasField("since") else None,
                                       register_match=receivers_pb2.RegisterMatchItem(other=match.other))
    else:
        item = receivers_pb2.InboxItem.FromString(delivery.body)
    item.idempotency_key, item.tenant_id, item.case_id = delivery.key, delivery.tenant_id, delivery.case_id
    return item


def listed_item(row: InboxRow) -> receivers_pb2.InboxItem:
    """An item as ListInbox shows it: with its acknowledgement deadline and when it was acknowledged."""
    item = inbox_item(row.delivery)
    item.acknowledge_before.FromDatetime(row.acknowledge_before)
    if row.acknowledged_at is not None:
        item.acknowledged_at.FromDatetime(row.acknowledged_at)
    return item


def inbox_request(delivery: Delivery) -> receivers_pb2.DeliverInboxItemRequest:
    return receivers_pb2.DeliverInboxItemRequest(item=inbox_item(delivery))


# -- outgoing calls -----------------------------------------------------------------------------


def callback_request(delivery: Delivery) -> receivers_pb2.DeliverCallbackRequest:
    request = receivers_pb2.DeliverCallbackRequest.FromString(delivery.body)
    # The row's columns are authoritative for routing and dedupe; the body carries the rest.
    request.idempotency_key, request.tenant_id, request.case_id = delivery.key, delivery.tenant_id, delivery.case_id
    return request


def register_match_request(delivery: Delivery) -> receivers_pb2.DeliverRegisterMatchRequest:
    request = receivers_pb2.DeliverRegisterMatchRequest.FromString(delivery.body)
    request.idempotency_key, request.tenant_id, request.case_id = delivery.key, delivery.tenant_id, delivery.case_id
    return request


def notify_request(delivery: Delivery) -> receivers_pb2.NotifyRequest:
    request = receivers_pb2.NotifyRequest.FromString(delivery.body)
    request.idempotency_key = delivery.key
    return request


# -- outgoing events ----------------------------------------------------------------------------


def delivery_requested(d: Delivery) -> events_pb2.DeliveryRequested:
    return events_pb2.DeliveryRequested(idempotency_key=d.key, kind=kind_to_proto(d.kind), tenant_id=d.tenant_id,  # type: ignore[arg-type]
                                        case_id=d.case_id, due_date=from_date(d.due_date), cause_event_id=d.cause_event_id,
                                        due_at=from_datetime(end_of_day(d.due_date)) if d.due_date else None)


def delivery_delivered(d: Delivery, at: dt.datetime) -> events_pb2.DeliveryDelivered:
    return events_pb2.DeliveryDelivered(idempotency_key=d.key, kind=kind_to_proto(d.kind), tenant_id=d.tenant_id,  # type: ignore[arg-type]
                                        case_id=d.case_id, delivered_at=from_datetime(at), attempts=d.attempts)


def delivery_failed(d: Delivery, at: dt.datetime, reason: str, permanent: bool) -> events_pb2.DeliveryFailed:
    return events_pb2.DeliveryFailed(idempotency_key=d.key, kind=kind_to_proto(d.kind), tenant_id=d.tenant_id,  # type: ignore[arg-type]
                                     case_id=d.case_id, failed_at=from_datetime(at), attempts=d.attempts, reason=reason,
                                     permanent=permanent)


def delivery_overdue(d: Delivery, at: dt.datetime, postponements: int) -> events_pb2.DeliveryOverdue:
    return events_pb2.DeliveryOverdue(idempotency_key=d.key, kind=kind_to_proto(d.kind), tenant_id=d.tenant_id,  # type: ignore[arg-type]
                                      case_id=d.case_id, due_date=from_date(d.due_date), detected_at=from_datetime(at),
                                      postponements=postponements)


def delivery_summary(d: Delivery, today: dt.date, waiting: bool = False) -> notifier_service_pb2.DeliverySummary:
    return notifier_service_pb2.DeliverySummary(
        idempotency_key=d.key, kind=kind_to_proto(d.kind), case_id=d.case_id, state=_STATE_TO_PROTO[d.state],  # type: ignore[arg-type]
        due_date=from_date(d.due_date), updated_at=from_datetime(d.updated_at), attempts=d.attempts,
        overdue=d.overdue(today), waiting_for_melder_contact=waiting)


def list_response(deliveries: Collection[Delivery], today: dt.date, waiting: Collection[str] = (),
                  next_page_token: str = "") -> notifier_service_pb2.ListDeliveriesResponse:
    """`waiting`: keys of the household letters that wait for ConfirmMelderContacted."""
    return notifier_service_pb2.ListDeliveriesResponse(
        deliveries=[delivery_summary(d, today, d.key in waiting) for d in deliveries], next_page_token=next_page_token)


_CONTACT_OUTCOMES = {notifier_service_pb2.MELDER_CONTACT_OUTCOME_CONTACTED: "contacted",
                     notifier_service_pb2.MELDER_CONTACT_OUTCOME_NOT_REACHED: "not_reached"}
_CONTACT_OUTCOMES_BACK = {v: k for k, v in _CONTACT_OUTCOMES.items()}


def contact_outcome(value: int) -> str | None:
    """ConfirmMelderContactedRequest.outcome as the store keeps it; None when unset or unknown."""
    return _CONTACT_OUTCOMES.get(value)  # type: ignore[call-overload]


def contact_response(contact: MelderContact, released: bool) -> notifier_service_pb2.ConfirmMelderContactedResponse:
    return notifier_service_pb2.ConfirmMelderContactedResponse(
        outcome=_CONTACT_OUTCOMES_BACK[contact.outcome], contacted_at=from_datetime(contact.contacted_at),  # type: ignore[arg-type]
        letter_released=released)
