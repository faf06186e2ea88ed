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

class MatchKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MATCH_KIND_UNSPECIFIED: _ClassVar[MatchKind]
    MATCH_KIND_CLIENT: _ClassVar[MatchKind]
    MATCH_KIND_FAMILY: _ClassVar[MatchKind]
    MATCH_KIND_ARCHIVED: _ClassVar[MatchKind]
MATCH_KIND_UNSPECIFIED: MatchKind
MATCH_KIND_CLIENT: MatchKind
MATCH_KIND_FAMILY: MatchKind
MATCH_KIND_ARCHIVED: MatchKind

class SignalRegistered(_message.Message):
    __slots__ = ("signal_id", "youth_pseudonym", "registrant_id", "registered_at", "planned_removal")
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    YOUTH_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    REGISTRANT_ID_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    PLANNED_REMOVAL_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    youth_pseudonym: str
    registrant_id: str
    registered_at: _timestamp_pb2.Timestamp
    planned_removal: _common_pb2.Date
    def __init__(self, signal_id: _Optional[str] = ..., youth_pseudonym: _Optional[str] = ..., registrant_id: _Optional[str] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., planned_removal: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class RegistrantContact(_message.Message):
    __slots__ = ("registrant_id", "contact")
    REGISTRANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    registrant_id: str
    contact: _common_pb2.EncryptedField
    def __init__(self, registrant_id: _Optional[str] = ..., contact: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ...) -> None: ...

class SignalMatch(_message.Message):
    __slots__ = ("match_id", "kind", "youth_pseudonym", "registrants", "different_youths", "municipality_code", "matched_at", "regievoerder_id")
    MATCH_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    YOUTH_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    REGISTRANTS_FIELD_NUMBER: _ClassVar[int]
    DIFFERENT_YOUTHS_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_AT_FIELD_NUMBER: _ClassVar[int]
    REGIEVOERDER_ID_FIELD_NUMBER: _ClassVar[int]
    match_id: str
    kind: MatchKind
    youth_pseudonym: str
    registrants: _containers.RepeatedCompositeFieldContainer[RegistrantContact]
    different_youths: bool
    municipality_code: str
    matched_at: _timestamp_pb2.Timestamp
    regievoerder_id: str
    def __init__(self, match_id: _Optional[str] = ..., kind: _Optional[_Union[MatchKind, str]] = ..., youth_pseudonym: _Optional[str] = ..., registrants: _Optional[_Iterable[_Union[RegistrantContact, _Mapping]]] = ..., different_youths: _Optional[bool] = ..., municipality_code: _Optional[str] = ..., matched_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., regievoerder_id: _Optional[str] = ...) -> None: ...

class HouseholdFacts(_message.Message):
    __slots__ = ("person_ref", "youth", "home_address", "institution_address", "parents", "municipality_code", "date_of_death", "observed_at")
    PERSON_REF_FIELD_NUMBER: _ClassVar[int]
    YOUTH_FIELD_NUMBER: _ClassVar[int]
    HOME_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PARENTS_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_DEATH_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    person_ref: str
    youth: _common_pb2.SealedIdentifier
    home_address: _common_pb2.SealedIdentifier
    institution_address: bool
    parents: _containers.RepeatedCompositeFieldContainer[_common_pb2.SealedIdentifier]
    municipality_code: str
    date_of_death: _common_pb2.Date
    observed_at: _timestamp_pb2.Timestamp
    def __init__(self, person_ref: _Optional[str] = ..., youth: _Optional[_Union[_common_pb2.SealedIdentifier, _Mapping]] = ..., home_address: _Optional[_Union[_common_pb2.SealedIdentifier, _Mapping]] = ..., institution_address: _Optional[bool] = ..., parents: _Optional[_Iterable[_Union[_common_pb2.SealedIdentifier, _Mapping]]] = ..., municipality_code: _Optional[str] = ..., date_of_death: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class YouthRelocated(_message.Message):
    __slots__ = ("notice_id", "youth_pseudonym", "from_municipality_code", "to_municipality_code", "registrants", "regievoerder_id", "relocated_at")
    NOTICE_ID_FIELD_NUMBER: _ClassVar[int]
    YOUTH_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    FROM_MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    TO_MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    REGISTRANTS_FIELD_NUMBER: _ClassVar[int]
    REGIEVOERDER_ID_FIELD_NUMBER: _ClassVar[int]
    RELOCATED_AT_FIELD_NUMBER: _ClassVar[int]
    notice_id: str
    youth_pseudonym: str
    from_municipality_code: str
    to_municipality_code: str
    registrants: _containers.RepeatedCompositeFieldContainer[RegistrantContact]
    regievoerder_id: str
    relocated_at: _timestamp_pb2.Timestamp
    def __init__(self, notice_id: _Optional[str] = ..., youth_pseudonym: _Optional[str] = ..., from_municipality_code: _Optional[str] = ..., to_municipality_code: _Optional[str] = ..., registrants: _Optional[_Iterable[_Union[RegistrantContact, _Mapping]]] = ..., regievoerder_id: _Optional[str] = ..., relocated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
