"""The only place where protobuf messages and domain objects meet.

A delivery's body is the receiver request serialized at scheduling time: the melder's
EncryptedField is copied from the event into it unchanged and sent byte for byte, never opened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from google.protobuf import timestamp_pb2
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.notifier.v1 import events_pb2, notifier_service_pb2, receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vt.rvdk.v1 import events_pb2 as rvdk_events
from vt.verwijsindex.v1 import events_pb2 as vi_events
from vtkit.calendar import end_of_day

from notifier.domain import Delivery, DeliveryKind, DeliveryState
from notifier.domain.causes import AssessmentDueFacts, InvalidCause, RegisterMatchFacts
from notifier.domain.inbox import Change, Deadline, InputView, MatchView, RvdkView, Source
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


# -- incoming events ----------------------------------------------------------------------------


def assessment_due_facts(msg: radar_events.AssessmentDue) -> AssessmentDueFacts:
    if not msg.tenant_id or not msg.case_id:
        raise InvalidCause("AssessmentDue without tenant_id or case_id")
    return AssessmentDueFacts(tenant_id=msg.tenant_id, case_id=msg.case_id,
                              received_at=to_datetime(msg.received_at, msg.HasField("received_at")),
                              acute=msg.acute, due_date=to_date(msg.due_date))


def callback_body(msg: radar_events.AssessmentDue, key: str, due_date: dt.date | None) -> bytes:
    request = receivers_pb2.DeliverCallbackRequest(idempotency_key=key, tenant_id=msg.tenant_id, case_id=msg.case_id,
                                                   due_date=from_date(due_date), acute=msg.acute)
    if msg.HasField("received_at"):
        request.received_at.CopyFrom(msg.received_at)
    if msg.HasField("melder"):
        request.melder.CopyFrom(msg.melder)
    return request.SerializeToString()


def register_match_facts(msg: radar_events.RegisterMatch) -> RegisterMatchFacts:
    if not msg.addressed_to or not msg.own_case_id:
        raise InvalidCause("RegisterMatch without addressed_to or own_case_id")
    return RegisterMatchFacts(match_id=msg.match_id, addressed_to=msg.addressed_to, case_id=msg.own_case_id,
                              person_id=msg.own_person_id, other_tenant_id=msg.other.tenant_id)


def register_match_body(msg: radar_events.RegisterMatch, key: str) -> bytes:
    request = receivers_pb2.DeliverRegisterMatchRequest(idempotency_key=key, tenant_id=msg.addressed_to,
                                                        case_id=msg.own_case_id, person_id=msg.own_person_id)
    if msg.HasField("other"):
        request.other.CopyFrom(msg.other)
    return request.SerializeToString()


def melding_acute(melding: bytes) -> bool:
    """Whether a stored MeldingReceived was flagged for same-day handling."""
    return intake_events.MeldingReceived.FromString(melding).acute


# -- region inbox -------------------------------------------------------------------------------

_RVDK_KIND = rvdk_events.RvdkSignalKind
_TRIGGER_SOURCE = {
    radar_events.MONITORING_TRIGGER_MELDING_SAME_ORGANISATION: Source.MELDING_SAME_ORGANISATION,
    radar_events.MONITORING_TRIGGER_MELDING_OTHER_ORGANISATION: Source.OTHER_VT_ORGANISATION,
    radar_events.MONITORING_TRIGGER_RVDK: Source.RVDK,
    radar_events.MONITORING_TRIGGER_VERWIJSINDEX_MATCH: Source.VERWIJSINDEX,
}
_DEADLINES = {radar_events.DEADLINE_KIND_ASSESSMENT: Deadline.ASSESSMENT,
              radar_events.DEADLINE_KIND_ONDERZOEK: Deadline.ONDERZOEK}


def _stamp(msg: object, name: str) -> dt.datetime | None:
    return to_datetime(getattr(msg, name), msg.HasField(name))  # type: ignore[attr-defined]


def input_view(msg: radar_events.AssessmentInput) -> InputView:
    return InputView(
        other_organisations=tuple((o.tenant_id, _stamp(o, "since")) for o in msg.other_organisations),
        rvdk=tuple(RvdkView(r.signal_id, _RVDK_KIND.Name(r.kind), r.rvdk_office, _stamp(r, "observed_at"))
                   for r in msg.rvdk),
        earlier_case_ids=tuple(msg.earlier_case_ids), joined_by_case_ids=tuple(msg.joined_by_case_ids),
        joins_case_id=msg.joins_case_id,
        verwijsindex_matches=tuple(MatchView(m.match_id, vi_events.MatchKind.Name(m.kind), _stamp(m, "matched_at"))
                                   for m in msg.verwijsindex_matches))


def inbox_change(change: Change) -> receivers_pb2.InboxChange:
    out = receivers_pb2.InboxChange(source=receivers_pb2.InboxSource.Value(f"INBOX_SOURCE_{change.source.value}"),  # type: ignore[arg-type]
                                    at=from_datetime(change.at), case_id=change.case_id, rvdk_kind=change.rvdk_kind,
                                    rvdk_office=change.rvdk_office, match_kind=change.match_kind)
    if change.organisation:
        out.organisation.tenant_id = change.organisation
        if change.at is not None:
            out.organisation.since.FromDatetime(change.at)
    return out


def assessment_input_item(msg: radar_events.AssessmentInput, changes: list[Change], first: bool
                          ) -> receivers_pb2.InboxItem:
    detail = receivers_pb2.AssessmentInputItem(
        first=first, changes=[inbox_change(c) for c in changes],
        other_organisations=[common_pb2.Involvement(tenant_id=o.tenant_id, since=o.since)
                             for o in msg.other_organisations],
        earlier_case_ids=msg.earlier_case_ids, joins_case_id=msg.joins_case_id,
        joined_by_case_ids=msg.joined_by_case_ids, rvdk_signals=len(msg.rvdk), repeat_melding=msg.repeat_melding)
    return receivers_pb2.InboxItem(kind=receivers_pb2.INBOX_ITEM_KIND_ASSESSMENT_INPUT, person_ids=[msg.person_id],
                                   occurred_at=msg.collected_at if msg.HasField("collected_at") else None,
                                   assessment_input=detail)


def monitoring_alert_item(msg: radar_events.MonitoringAlert) -> receivers_pb2.InboxItem:
    source = _TRIGGER_SOURCE.get(msg.trigger)
    if source is None:
        raise InvalidCause(f"MonitoringAlert with trigger {msg.trigger}")
    at = _stamp(msg, "detected_at")
    change = Change(source, at)
    if source is Source.OTHER_VT_ORGANISATION:
        change = Change(source, _stamp(msg.other, "since") or at, organisation=msg.other.tenant_id)
    elif source is Source.RVDK:
        change = Change(source, _stamp(msg.rvdk, "observed_at") or at, rvdk_kind=_RVDK_KIND.Name(msg.rvdk.kind),
                        rvdk_office=msg.rvdk.rvdk_office)
    elif source is Source.VERWIJSINDEX:
        change = Change(source, at, match_kind=vi_events.MatchKind.Name(msg.verwijsindex_match.kind))
    signal = inbox_change(change)
    return receivers_pb2.InboxItem(kind=receivers_pb2.INBOX_ITEM_KIND_MONITORING_ALERT, person_ids=[msg.person_id],
                                   occurred_at=from_datetime(at),
                                   monitoring_alert=receivers_pb2.MonitoringAlertItem(signal=signal))


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


def emergency_access_item(msg: intake_events.EmergencyAccess, event_id: str) -> receivers_pb2.InboxItem:
    """For the region's privacy officer: who read which contact by break-glass, and why (still sealed)."""
    return receivers_pb2.InboxItem(
        kind=receivers_pb2.INBOX_ITEM_KIND_EMERGENCY_ACCESS, occurred_at=msg.at,
        emergency_access=receivers_pb2.EmergencyAccessItem(by_tenant_id=msg.by_tenant_id, by_user=msg.by_user,
                                                           reason=msg.reason, reason_event_id=event_id))


def radar_deadline(kind: int) -> Deadline:
    deadline = _DEADLINES.get(kind)  # type: ignore[call-overload]
    if deadline is None:
        raise InvalidCause(f"DeadlineOverdue of kind {kind}")
    return deadline


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
