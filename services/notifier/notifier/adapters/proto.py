"""The only place where protobuf messages and domain objects meet.

A delivery's body is the receiver request serialized at scheduling time: the melder's
EncryptedField is copied from the event into it unchanged and sent byte for byte, never opened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from google.protobuf import timestamp_pb2
from vt.common.v1 import common_pb2
from vt.notifier.v1 import events_pb2, notifier_service_pb2, receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vtkit.calendar import end_of_day

from notifier.domain import Delivery, DeliveryKind, DeliveryState
from notifier.domain.causes import AssessmentDueFacts, InvalidCause, RegisterMatchFacts

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


def delivery_summary(d: Delivery, today: dt.date) -> notifier_service_pb2.DeliverySummary:
    return notifier_service_pb2.DeliverySummary(
        idempotency_key=d.key, kind=kind_to_proto(d.kind), case_id=d.case_id, state=_STATE_TO_PROTO[d.state],  # type: ignore[arg-type]
        due_date=from_date(d.due_date), updated_at=from_datetime(d.updated_at), attempts=d.attempts,
        overdue=d.overdue(today))


def list_response(deliveries: Collection[Delivery], today: dt.date) -> notifier_service_pb2.ListDeliveriesResponse:
    return notifier_service_pb2.ListDeliveriesResponse(deliveries=[delivery_summary(d, today) for d in deliveries])
