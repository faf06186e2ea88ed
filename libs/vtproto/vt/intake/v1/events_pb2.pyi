import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vt.common.v1 import common_pb2 as _common_pb2
from vt.intake.v1 import intake_service_pb2 as _intake_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MeldingOrigin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MELDING_ORIGIN_UNSPECIFIED: _ClassVar[MeldingOrigin]
    MELDING_ORIGIN_DIRECT: _ClassVar[MeldingOrigin]
    MELDING_ORIGIN_CONVERTED_ADVIES: _ClassVar[MeldingOrigin]
    MELDING_ORIGIN_AMBTSHALVE: _ClassVar[MeldingOrigin]

class DestructionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DESTRUCTION_REASON_UNSPECIFIED: _ClassVar[DestructionReason]
    DESTRUCTION_REASON_REQUEST: _ClassVar[DestructionReason]
    DESTRUCTION_REASON_RETENTION: _ClassVar[DestructionReason]
MELDING_ORIGIN_UNSPECIFIED: MeldingOrigin
MELDING_ORIGIN_DIRECT: MeldingOrigin
MELDING_ORIGIN_CONVERTED_ADVIES: MeldingOrigin
MELDING_ORIGIN_AMBTSHALVE: MeldingOrigin
DESTRUCTION_REASON_UNSPECIFIED: DestructionReason
DESTRUCTION_REASON_REQUEST: DestructionReason
DESTRUCTION_REASON_RETENTION: DestructionReason

class AdviesRegistered(_message.Message):
    __slots__ = ("tenant_id", "contact_id", "reference", "received_at", "asker_type", "outcome", "previous_advies_id", "asker", "content")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ASKER_TYPE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ADVIES_ID_FIELD_NUMBER: _ClassVar[int]
    ASKER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    contact_id: str
    reference: str
    received_at: _timestamp_pb2.Timestamp
    asker_type: _common_pb2.MelderType
    outcome: _intake_service_pb2.AdviesOutcome
    previous_advies_id: str
    asker: _common_pb2.EncryptedField
    content: _common_pb2.EncryptedField
    def __init__(self, tenant_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., reference: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., asker_type: _Optional[_Union[_common_pb2.MelderType, str]] = ..., outcome: _Optional[_Union[_intake_service_pb2.AdviesOutcome, str]] = ..., previous_advies_id: _Optional[str] = ..., asker: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., content: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ...) -> None: ...

class MeldingReceived(_message.Message):
    __slots__ = ("tenant_id", "contact_id", "reference", "received_at", "origin", "linked_advies_id", "melder_type", "situation", "nature", "acute", "melder_may_be_named", "persons", "melder", "content", "dossier_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    LINKED_ADVIES_ID_FIELD_NUMBER: _ClassVar[int]
    MELDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    SITUATION_FIELD_NUMBER: _ClassVar[int]
    NATURE_FIELD_NUMBER: _ClassVar[int]
    ACUTE_FIELD_NUMBER: _ClassVar[int]
    MELDER_MAY_BE_NAMED_FIELD_NUMBER: _ClassVar[int]
    PERSONS_FIELD_NUMBER: _ClassVar[int]
    MELDER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    DOSSIER_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    contact_id: str
    reference: str
    received_at: _timestamp_pb2.Timestamp
    origin: MeldingOrigin
    linked_advies_id: str
    melder_type: _common_pb2.MelderType
    situation: _intake_service_pb2.Situation
    nature: _containers.RepeatedScalarFieldContainer[_common_pb2.ConcernNature]
    acute: bool
    melder_may_be_named: bool
    persons: _containers.RepeatedCompositeFieldContainer[_common_pb2.PersonRef]
    melder: _common_pb2.EncryptedField
    content: _common_pb2.EncryptedField
    dossier_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., reference: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., origin: _Optional[_Union[MeldingOrigin, str]] = ..., linked_advies_id: _Optional[str] = ..., melder_type: _Optional[_Union[_common_pb2.MelderType, str]] = ..., situation: _Optional[_Union[_intake_service_pb2.Situation, str]] = ..., nature: _Optional[_Iterable[_Union[_common_pb2.ConcernNature, str]]] = ..., acute: _Optional[bool] = ..., melder_may_be_named: _Optional[bool] = ..., persons: _Optional[_Iterable[_Union[_common_pb2.PersonRef, _Mapping]]] = ..., melder: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., content: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., dossier_id: _Optional[str] = ...) -> None: ...

class AdviesConverted(_message.Message):
    __slots__ = ("tenant_id", "advies_id", "melding_id", "converted_at", "criteria")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ADVIES_ID_FIELD_NUMBER: _ClassVar[int]
    MELDING_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERTED_AT_FIELD_NUMBER: _ClassVar[int]
    CRITERIA_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    advies_id: str
    melding_id: str
    converted_at: _timestamp_pb2.Timestamp
    criteria: _common_pb2.EncryptedField
    def __init__(self, tenant_id: _Optional[str] = ..., advies_id: _Optional[str] = ..., melding_id: _Optional[str] = ..., converted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., criteria: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ...) -> None: ...

class AmbtshalveMeldingMade(_message.Message):
    __slots__ = ("tenant_id", "melding_id", "mdo_date", "mdo_participant_count", "professional_to_be_informed", "conditions", "mdo_participants")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    MELDING_ID_FIELD_NUMBER: _ClassVar[int]
    MDO_DATE_FIELD_NUMBER: _ClassVar[int]
    MDO_PARTICIPANT_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROFESSIONAL_TO_BE_INFORMED_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    MDO_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    melding_id: str
    mdo_date: _common_pb2.Date
    mdo_participant_count: int
    professional_to_be_informed: bool
    conditions: _intake_service_pb2.AmbtshalveConditions
    mdo_participants: _common_pb2.EncryptedField
    def __init__(self, tenant_id: _Optional[str] = ..., melding_id: _Optional[str] = ..., mdo_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., mdo_participant_count: _Optional[int] = ..., professional_to_be_informed: _Optional[bool] = ..., conditions: _Optional[_Union[_intake_service_pb2.AmbtshalveConditions, _Mapping]] = ..., mdo_participants: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ...) -> None: ...

class DossierDestroyed(_message.Message):
    __slots__ = ("tenant_id", "dossier_id", "contact_ids", "destroyed_at", "reason")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DOSSIER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_IDS_FIELD_NUMBER: _ClassVar[int]
    DESTROYED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    dossier_id: str
    contact_ids: _containers.RepeatedScalarFieldContainer[str]
    destroyed_at: _timestamp_pb2.Timestamp
    reason: DestructionReason
    def __init__(self, tenant_id: _Optional[str] = ..., dossier_id: _Optional[str] = ..., contact_ids: _Optional[_Iterable[str]] = ..., destroyed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[_Union[DestructionReason, str]] = ...) -> None: ...

class EmergencyAccess(_message.Message):
    __slots__ = ("tenant_id", "contact_id", "by_tenant_id", "by_user", "at", "reason")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    BY_TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    BY_USER_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    contact_id: str
    by_tenant_id: str
    by_user: str
    at: _timestamp_pb2.Timestamp
    reason: _common_pb2.EncryptedField
    def __init__(self, tenant_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., by_tenant_id: _Optional[str] = ..., by_user: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ...) -> None: ...
