import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PersonRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERSON_ROLE_UNSPECIFIED: _ClassVar[PersonRole]
    PERSON_ROLE_VICTIM: _ClassVar[PersonRole]
    PERSON_ROLE_SUSPECT: _ClassVar[PersonRole]
    PERSON_ROLE_CHILD: _ClassVar[PersonRole]
    PERSON_ROLE_HOUSEHOLD_MEMBER: _ClassVar[PersonRole]
    PERSON_ROLE_WITNESS: _ClassVar[PersonRole]

class MelderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MELDER_TYPE_UNSPECIFIED: _ClassVar[MelderType]
    MELDER_TYPE_PROFESSIONAL: _ClassVar[MelderType]
    MELDER_TYPE_BYSTANDER: _ClassVar[MelderType]

class ConcernNature(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONCERN_NATURE_UNSPECIFIED: _ClassVar[ConcernNature]
    CONCERN_NATURE_CHILD_ABUSE: _ClassVar[ConcernNature]
    CONCERN_NATURE_PARTNER_VIOLENCE: _ClassVar[ConcernNature]
    CONCERN_NATURE_VIOLENCE_AGAINST_PARENTS: _ClassVar[ConcernNature]
    CONCERN_NATURE_ELDER_ABUSE: _ClassVar[ConcernNature]
    CONCERN_NATURE_OTHER: _ClassVar[ConcernNature]

class RvdkRequestGround(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RVDK_REQUEST_GROUND_UNSPECIFIED: _ClassVar[RvdkRequestGround]
    RVDK_REQUEST_GROUND_DEVELOPMENT_SERIOUSLY_THREATENED: _ClassVar[RvdkRequestGround]
    RVDK_REQUEST_GROUND_VOLUNTARY_HELP_INSUFFICIENT: _ClassVar[RvdkRequestGround]
    RVDK_REQUEST_GROUND_URGENT: _ClassVar[RvdkRequestGround]
    RVDK_REQUEST_GROUND_CUSTODY_OR_ACCESS: _ClassVar[RvdkRequestGround]
PERSON_ROLE_UNSPECIFIED: PersonRole
PERSON_ROLE_VICTIM: PersonRole
PERSON_ROLE_SUSPECT: PersonRole
PERSON_ROLE_CHILD: PersonRole
PERSON_ROLE_HOUSEHOLD_MEMBER: PersonRole
PERSON_ROLE_WITNESS: PersonRole
MELDER_TYPE_UNSPECIFIED: MelderType
MELDER_TYPE_PROFESSIONAL: MelderType
MELDER_TYPE_BYSTANDER: MelderType
CONCERN_NATURE_UNSPECIFIED: ConcernNature
CONCERN_NATURE_CHILD_ABUSE: ConcernNature
CONCERN_NATURE_PARTNER_VIOLENCE: ConcernNature
CONCERN_NATURE_VIOLENCE_AGAINST_PARENTS: ConcernNature
CONCERN_NATURE_ELDER_ABUSE: ConcernNature
CONCERN_NATURE_OTHER: ConcernNature
RVDK_REQUEST_GROUND_UNSPECIFIED: RvdkRequestGround
RVDK_REQUEST_GROUND_DEVELOPMENT_SERIOUSLY_THREATENED: RvdkRequestGround
RVDK_REQUEST_GROUND_VOLUNTARY_HELP_INSUFFICIENT: RvdkRequestGround
RVDK_REQUEST_GROUND_URGENT: RvdkRequestGround
RVDK_REQUEST_GROUND_CUSTODY_OR_ACCESS: RvdkRequestGround

class EncryptedField(_message.Message):
    __slots__ = ("key_id", "nonce", "ciphertext")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    CIPHERTEXT_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    nonce: bytes
    ciphertext: bytes
    def __init__(self, key_id: _Optional[str] = ..., nonce: _Optional[bytes] = ..., ciphertext: _Optional[bytes] = ...) -> None: ...

class SealedIdentifier(_message.Message):
    __slots__ = ("recipient", "ephemeral_public_key", "nonce", "ciphertext")
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    EPHEMERAL_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    CIPHERTEXT_FIELD_NUMBER: _ClassVar[int]
    recipient: str
    ephemeral_public_key: bytes
    nonce: bytes
    ciphertext: bytes
    def __init__(self, recipient: _Optional[str] = ..., ephemeral_public_key: _Optional[bytes] = ..., nonce: _Optional[bytes] = ..., ciphertext: _Optional[bytes] = ...) -> None: ...

class PersonRef(_message.Message):
    __slots__ = ("person_id", "role", "sealed_identity", "details")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SEALED_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    role: PersonRole
    sealed_identity: SealedIdentifier
    details: EncryptedField
    def __init__(self, person_id: _Optional[str] = ..., role: _Optional[_Union[PersonRole, str]] = ..., sealed_identity: _Optional[_Union[SealedIdentifier, _Mapping]] = ..., details: _Optional[_Union[EncryptedField, _Mapping]] = ...) -> None: ...

class Involvement(_message.Message):
    __slots__ = ("tenant_id", "since", "case_ids")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    CASE_IDS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    since: _timestamp_pb2.Timestamp
    case_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tenant_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., case_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Date(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...

class MelderFeedback(_message.Message):
    __slots__ = ("safety_judgement", "shared_information", "melder_can_do", "agreements")
    SAFETY_JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    SHARED_INFORMATION_FIELD_NUMBER: _ClassVar[int]
    MELDER_CAN_DO_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    safety_judgement: str
    shared_information: str
    melder_can_do: str
    agreements: str
    def __init__(self, safety_judgement: _Optional[str] = ..., shared_information: _Optional[str] = ..., melder_can_do: _Optional[str] = ..., agreements: _Optional[str] = ...) -> None: ...

class HouseholdNotice(_message.Message):
    __slots__ = ("agreements", "contact_person")
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    CONTACT_PERSON_FIELD_NUMBER: _ClassVar[int]
    agreements: str
    contact_person: str
    def __init__(self, agreements: _Optional[str] = ..., contact_person: _Optional[str] = ...) -> None: ...

class RvdkRequestReason(_message.Message):
    __slots__ = ("ground", "explanation")
    GROUND_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    ground: RvdkRequestGround
    explanation: str
    def __init__(self, ground: _Optional[_Union[RvdkRequestGround, str]] = ..., explanation: _Optional[str] = ...) -> None: ...
