import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vt.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeliveryKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_KIND_UNSPECIFIED: _ClassVar[DeliveryKind]
    DELIVERY_KIND_MELDER_CALLBACK: _ClassVar[DeliveryKind]
    DELIVERY_KIND_HOUSEHOLD_LETTER: _ClassVar[DeliveryKind]
    DELIVERY_KIND_REGISTER_MATCH_NOTICE: _ClassVar[DeliveryKind]
    DELIVERY_KIND_VERWIJSINDEX_MATCH_NOTICE: _ClassVar[DeliveryKind]
    DELIVERY_KIND_AMBTSHALVE_NOTICE: _ClassVar[DeliveryKind]
    DELIVERY_KIND_RVDK_REQUEST_NOTICE: _ClassVar[DeliveryKind]
    DELIVERY_KIND_VERWIJSINDEX_RELOCATION_NOTICE: _ClassVar[DeliveryKind]
    DELIVERY_KIND_INBOX_ASSESSMENT_INPUT: _ClassVar[DeliveryKind]
    DELIVERY_KIND_INBOX_MONITORING_ALERT: _ClassVar[DeliveryKind]
    DELIVERY_KIND_INBOX_DEADLINE_OVERDUE: _ClassVar[DeliveryKind]
    DELIVERY_KIND_INBOX_ESCALATION: _ClassVar[DeliveryKind]
    DELIVERY_KIND_INBOX_LETTER_NOT_SENT: _ClassVar[DeliveryKind]
    DELIVERY_KIND_INBOX_EMERGENCY_ACCESS: _ClassVar[DeliveryKind]
    DELIVERY_KIND_MUNICIPALITY_NOTICE: _ClassVar[DeliveryKind]
    DELIVERY_KIND_OVERDRACHT_NOTICE: _ClassVar[DeliveryKind]
    DELIVERY_KIND_AMBTSHALVE_DECISION_NOTICE: _ClassVar[DeliveryKind]
DELIVERY_KIND_UNSPECIFIED: DeliveryKind
DELIVERY_KIND_MELDER_CALLBACK: DeliveryKind
DELIVERY_KIND_HOUSEHOLD_LETTER: DeliveryKind
DELIVERY_KIND_REGISTER_MATCH_NOTICE: DeliveryKind
DELIVERY_KIND_VERWIJSINDEX_MATCH_NOTICE: DeliveryKind
DELIVERY_KIND_AMBTSHALVE_NOTICE: DeliveryKind
DELIVERY_KIND_RVDK_REQUEST_NOTICE: DeliveryKind
DELIVERY_KIND_VERWIJSINDEX_RELOCATION_NOTICE: DeliveryKind
DELIVERY_KIND_INBOX_ASSESSMENT_INPUT: DeliveryKind
DELIVERY_KIND_INBOX_MONITORING_ALERT: DeliveryKind
DELIVERY_KIND_INBOX_DEADLINE_OVERDUE: DeliveryKind
DELIVERY_KIND_INBOX_ESCALATION: DeliveryKind
DELIVERY_KIND_INBOX_LETTER_NOT_SENT: DeliveryKind
DELIVERY_KIND_INBOX_EMERGENCY_ACCESS: DeliveryKind
DELIVERY_KIND_MUNICIPALITY_NOTICE: DeliveryKind
DELIVERY_KIND_OVERDRACHT_NOTICE: DeliveryKind
DELIVERY_KIND_AMBTSHALVE_DECISION_NOTICE: DeliveryKind

class DeliveryRequested(_message.Message):
    __slots__ = ("idempotency_key", "kind", "tenant_id", "case_id", "due_date", "due_at", "cause_event_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    CAUSE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    kind: DeliveryKind
    tenant_id: str
    case_id: str
    due_date: _common_pb2.Date
    due_at: _timestamp_pb2.Timestamp
    cause_event_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., kind: _Optional[_Union[DeliveryKind, str]] = ..., tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., due_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cause_event_id: _Optional[str] = ...) -> None: ...

class DeliveryDelivered(_message.Message):
    __slots__ = ("idempotency_key", "kind", "tenant_id", "case_id", "delivered_at", "attempts")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    kind: DeliveryKind
    tenant_id: str
    case_id: str
    delivered_at: _timestamp_pb2.Timestamp
    attempts: int
    def __init__(self, idempotency_key: _Optional[str] = ..., kind: _Optional[_Union[DeliveryKind, str]] = ..., tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ...) -> None: ...

class DeliveryFailed(_message.Message):
    __slots__ = ("idempotency_key", "kind", "tenant_id", "case_id", "failed_at", "attempts", "reason", "permanent")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    FAILED_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    kind: DeliveryKind
    tenant_id: str
    case_id: str
    failed_at: _timestamp_pb2.Timestamp
    attempts: int
    reason: str
    permanent: bool
    def __init__(self, idempotency_key: _Optional[str] = ..., kind: _Optional[_Union[DeliveryKind, str]] = ..., tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., failed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ..., reason: _Optional[str] = ..., permanent: _Optional[bool] = ...) -> None: ...

class DeliveryOverdue(_message.Message):
    __slots__ = ("idempotency_key", "kind", "tenant_id", "case_id", "due_date", "detected_at", "postponements")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    DETECTED_AT_FIELD_NUMBER: _ClassVar[int]
    POSTPONEMENTS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    kind: DeliveryKind
    tenant_id: str
    case_id: str
    due_date: _common_pb2.Date
    detected_at: _timestamp_pb2.Timestamp
    postponements: int
    def __init__(self, idempotency_key: _Optional[str] = ..., kind: _Optional[_Union[DeliveryKind, str]] = ..., tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., due_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., detected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., postponements: _Optional[int] = ...) -> None: ...
