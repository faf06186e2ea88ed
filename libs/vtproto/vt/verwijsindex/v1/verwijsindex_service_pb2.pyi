import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vt.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Sector(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SECTOR_UNSPECIFIED: _ClassVar[Sector]
    SECTOR_YOUTH_CARE: _ClassVar[Sector]
    SECTOR_YOUTH_HEALTH_CARE: _ClassVar[Sector]
    SECTOR_HEALTH_CARE: _ClassVar[Sector]
    SECTOR_EDUCATION: _ClassVar[Sector]
    SECTOR_SOCIAL_SUPPORT: _ClassVar[Sector]
    SECTOR_WORK_AND_INCOME: _ClassVar[Sector]
    SECTOR_POLICE_AND_JUSTICE: _ClassVar[Sector]

class WithdrawReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WITHDRAW_REASON_UNSPECIFIED: _ClassVar[WithdrawReason]
    WITHDRAW_REASON_WRONG: _ClassVar[WithdrawReason]
    WITHDRAW_REASON_RISK_GONE: _ClassVar[WithdrawReason]
SECTOR_UNSPECIFIED: Sector
SECTOR_YOUTH_CARE: Sector
SECTOR_YOUTH_HEALTH_CARE: Sector
SECTOR_HEALTH_CARE: Sector
SECTOR_EDUCATION: Sector
SECTOR_SOCIAL_SUPPORT: Sector
SECTOR_WORK_AND_INCOME: Sector
SECTOR_POLICE_AND_JUSTICE: Sector
WITHDRAW_REASON_UNSPECIFIED: WithdrawReason
WITHDRAW_REASON_WRONG: WithdrawReason
WITHDRAW_REASON_RISK_GONE: WithdrawReason

class Registrant(_message.Message):
    __slots__ = ("registrant_id", "name", "organisation", "phone", "email", "sector", "coordinator")
    REGISTRANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SECTOR_FIELD_NUMBER: _ClassVar[int]
    COORDINATOR_FIELD_NUMBER: _ClassVar[int]
    registrant_id: str
    name: str
    organisation: str
    phone: str
    email: str
    sector: Sector
    coordinator: str
    def __init__(self, registrant_id: _Optional[str] = ..., name: _Optional[str] = ..., organisation: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., sector: _Optional[_Union[Sector, str]] = ..., coordinator: _Optional[str] = ...) -> None: ...

class RegisterSignalRequest(_message.Message):
    __slots__ = ("youth_bsn", "youth_date_of_birth", "risk_code", "planned_removal", "registrant")
    YOUTH_BSN_FIELD_NUMBER: _ClassVar[int]
    YOUTH_DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    RISK_CODE_FIELD_NUMBER: _ClassVar[int]
    PLANNED_REMOVAL_FIELD_NUMBER: _ClassVar[int]
    REGISTRANT_FIELD_NUMBER: _ClassVar[int]
    youth_bsn: str
    youth_date_of_birth: _common_pb2.Date
    risk_code: int
    planned_removal: _common_pb2.Date
    registrant: Registrant
    def __init__(self, youth_bsn: _Optional[str] = ..., youth_date_of_birth: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., risk_code: _Optional[int] = ..., planned_removal: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., registrant: _Optional[_Union[Registrant, _Mapping]] = ...) -> None: ...

class RegisterSignalResponse(_message.Message):
    __slots__ = ("signal_id", "planned_removal")
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    PLANNED_REMOVAL_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    planned_removal: _common_pb2.Date
    def __init__(self, signal_id: _Optional[str] = ..., planned_removal: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class WithdrawSignalRequest(_message.Message):
    __slots__ = ("signal_id", "reason")
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    reason: WithdrawReason
    def __init__(self, signal_id: _Optional[str] = ..., reason: _Optional[_Union[WithdrawReason, str]] = ...) -> None: ...

class WithdrawSignalResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMySignalsRequest(_message.Message):
    __slots__ = ("page_token", "page_size")
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    page_token: str
    page_size: int
    def __init__(self, page_token: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class SignalSummary(_message.Message):
    __slots__ = ("signal_id", "registered_at", "planned_removal")
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    PLANNED_REMOVAL_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    registered_at: _timestamp_pb2.Timestamp
    planned_removal: _common_pb2.Date
    def __init__(self, signal_id: _Optional[str] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., planned_removal: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class ListMySignalsResponse(_message.Message):
    __slots__ = ("signals", "next_page_token")
    SIGNALS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    signals: _containers.RepeatedCompositeFieldContainer[SignalSummary]
    next_page_token: str
    def __init__(self, signals: _Optional[_Iterable[_Union[SignalSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListLogbookRequest(_message.Message):
    __slots__ = ("signal_id", "youth_pseudonym", "registrant_id", "limit", "page_token", "page_size")
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    YOUTH_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    REGISTRANT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    youth_pseudonym: str
    registrant_id: str
    limit: int
    page_token: str
    page_size: int
    def __init__(self, signal_id: _Optional[str] = ..., youth_pseudonym: _Optional[str] = ..., registrant_id: _Optional[str] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class LogbookEntry(_message.Message):
    __slots__ = ("at", "action", "actor", "signal_id", "youth_pseudonym", "registrant_id", "detail")
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    YOUTH_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    REGISTRANT_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    action: str
    actor: str
    signal_id: str
    youth_pseudonym: str
    registrant_id: str
    detail: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., action: _Optional[str] = ..., actor: _Optional[str] = ..., signal_id: _Optional[str] = ..., youth_pseudonym: _Optional[str] = ..., registrant_id: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class ListLogbookResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LogbookEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[LogbookEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
