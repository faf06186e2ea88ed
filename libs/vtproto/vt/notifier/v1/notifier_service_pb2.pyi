import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vt.common.v1 import common_pb2 as _common_pb2
from vt.notifier.v1 import events_pb2 as _events_pb2
from vt.notifier.v1 import receivers_pb2 as _receivers_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeliveryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATE_UNSPECIFIED: _ClassVar[DeliveryState]
    DELIVERY_STATE_PENDING: _ClassVar[DeliveryState]
    DELIVERY_STATE_DELIVERED: _ClassVar[DeliveryState]
    DELIVERY_STATE_FAILED: _ClassVar[DeliveryState]

class MelderContactOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MELDER_CONTACT_OUTCOME_UNSPECIFIED: _ClassVar[MelderContactOutcome]
    MELDER_CONTACT_OUTCOME_CONTACTED: _ClassVar[MelderContactOutcome]
    MELDER_CONTACT_OUTCOME_NOT_REACHED: _ClassVar[MelderContactOutcome]
DELIVERY_STATE_UNSPECIFIED: DeliveryState
DELIVERY_STATE_PENDING: DeliveryState
DELIVERY_STATE_DELIVERED: DeliveryState
DELIVERY_STATE_FAILED: DeliveryState
MELDER_CONTACT_OUTCOME_UNSPECIFIED: MelderContactOutcome
MELDER_CONTACT_OUTCOME_CONTACTED: MelderContactOutcome
MELDER_CONTACT_OUTCOME_NOT_REACHED: MelderContactOutcome

class ListDeliveriesRequest(_message.Message):
    __slots__ = ("state", "case_id", "page_token", "page_size")
    STATE_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    state: DeliveryState
    case_id: str
    page_token: str
    page_size: int
    def __init__(self, state: _Optional[_Union[DeliveryState, str]] = ..., case_id: _Optional[str] = ..., page_token: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class DeliverySummary(_message.Message):
    __slots__ = ("idempotency_key", "kind", "case_id", "state", "due_date", "updated_at", "attempts", "overdue", "waiting_for_melder_contact")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    WAITING_FOR_MELDER_CONTACT_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    kind: _events_pb2.DeliveryKind
    case_id: str
    state: DeliveryState
    due_date: _common_pb2.Date
    updated_at: _timestamp_pb2.Timestamp
    attempts: int
    overdue: bool
    waiting_for_melder_contact: bool
    def __init__(self, idempotency_key: _Optional[str] = ..., kind: _Optional[_Union[_events_pb2.DeliveryKind, str]] = ..., case_id: _Optional[str] = ..., state: _Optional[_Union[DeliveryState, str]] = ..., due_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ..., overdue: _Optional[bool] = ..., waiting_for_melder_contact: _Optional[bool] = ...) -> None: ...

class ListDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries", "next_page_token")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[DeliverySummary]
    next_page_token: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[DeliverySummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PostponeLetterRequest(_message.Message):
    __slots__ = ("case_id", "reason", "weeks")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    reason: str
    weeks: int
    def __init__(self, case_id: _Optional[str] = ..., reason: _Optional[str] = ..., weeks: _Optional[int] = ...) -> None: ...

class PostponeLetterResponse(_message.Message):
    __slots__ = ("latest_due", "postponements")
    LATEST_DUE_FIELD_NUMBER: _ClassVar[int]
    POSTPONEMENTS_FIELD_NUMBER: _ClassVar[int]
    latest_due: _common_pb2.Date
    postponements: int
    def __init__(self, latest_due: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., postponements: _Optional[int] = ...) -> None: ...

class ListInboxRequest(_message.Message):
    __slots__ = ("since", "page_token", "page_size", "unacknowledged_only", "case_id")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    UNACKNOWLEDGED_ONLY_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    page_token: str
    page_size: int
    unacknowledged_only: bool
    case_id: str
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_token: _Optional[str] = ..., page_size: _Optional[int] = ..., unacknowledged_only: _Optional[bool] = ..., case_id: _Optional[str] = ...) -> None: ...

class ListInboxResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[_receivers_pb2.InboxItem]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[_receivers_pb2.InboxItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AcknowledgeInboxRequest(_message.Message):
    __slots__ = ("idempotency_keys",)
    IDEMPOTENCY_KEYS_FIELD_NUMBER: _ClassVar[int]
    idempotency_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, idempotency_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class AcknowledgeInboxResponse(_message.Message):
    __slots__ = ("acknowledged",)
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    acknowledged: int
    def __init__(self, acknowledged: _Optional[int] = ...) -> None: ...

class ConfirmMelderContactedRequest(_message.Message):
    __slots__ = ("case_id", "outcome", "contacted_at")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CONTACTED_AT_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    outcome: MelderContactOutcome
    contacted_at: _timestamp_pb2.Timestamp
    def __init__(self, case_id: _Optional[str] = ..., outcome: _Optional[_Union[MelderContactOutcome, str]] = ..., contacted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConfirmMelderContactedResponse(_message.Message):
    __slots__ = ("outcome", "contacted_at", "letter_released")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CONTACTED_AT_FIELD_NUMBER: _ClassVar[int]
    LETTER_RELEASED_FIELD_NUMBER: _ClassVar[int]
    outcome: MelderContactOutcome
    contacted_at: _timestamp_pb2.Timestamp
    letter_released: bool
    def __init__(self, outcome: _Optional[_Union[MelderContactOutcome, str]] = ..., contacted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., letter_released: _Optional[bool] = ...) -> None: ...
