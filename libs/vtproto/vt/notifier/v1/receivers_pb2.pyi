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

class InboxItemKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INBOX_ITEM_KIND_UNSPECIFIED: _ClassVar[InboxItemKind]
    INBOX_ITEM_KIND_ASSESSMENT_INPUT: _ClassVar[InboxItemKind]
    INBOX_ITEM_KIND_MONITORING_ALERT: _ClassVar[InboxItemKind]
    INBOX_ITEM_KIND_DEADLINE_OVERDUE: _ClassVar[InboxItemKind]
    INBOX_ITEM_KIND_REGISTER_MATCH: _ClassVar[InboxItemKind]
    INBOX_ITEM_KIND_LETTER_NOT_SENT: _ClassVar[InboxItemKind]
    INBOX_ITEM_KIND_EMERGENCY_ACCESS: _ClassVar[InboxItemKind]

class InboxSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INBOX_SOURCE_UNSPECIFIED: _ClassVar[InboxSource]
    INBOX_SOURCE_MELDING_SAME_ORGANISATION: _ClassVar[InboxSource]
    INBOX_SOURCE_OTHER_VT_ORGANISATION: _ClassVar[InboxSource]
    INBOX_SOURCE_RVDK: _ClassVar[InboxSource]
    INBOX_SOURCE_VERWIJSINDEX: _ClassVar[InboxSource]

class InboxDeadline(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INBOX_DEADLINE_UNSPECIFIED: _ClassVar[InboxDeadline]
    INBOX_DEADLINE_ASSESSMENT: _ClassVar[InboxDeadline]
    INBOX_DEADLINE_ONDERZOEK: _ClassVar[InboxDeadline]
    INBOX_DEADLINE_HOUSEHOLD_LETTER: _ClassVar[InboxDeadline]

class AmbtshalveStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AMBTSHALVE_STAGE_UNSPECIFIED: _ClassVar[AmbtshalveStage]
    AMBTSHALVE_STAGE_MELDING: _ClassVar[AmbtshalveStage]
    AMBTSHALVE_STAGE_DECISION: _ClassVar[AmbtshalveStage]
INBOX_ITEM_KIND_UNSPECIFIED: InboxItemKind
INBOX_ITEM_KIND_ASSESSMENT_INPUT: InboxItemKind
INBOX_ITEM_KIND_MONITORING_ALERT: InboxItemKind
INBOX_ITEM_KIND_DEADLINE_OVERDUE: InboxItemKind
INBOX_ITEM_KIND_REGISTER_MATCH: InboxItemKind
INBOX_ITEM_KIND_LETTER_NOT_SENT: InboxItemKind
INBOX_ITEM_KIND_EMERGENCY_ACCESS: InboxItemKind
INBOX_SOURCE_UNSPECIFIED: InboxSource
INBOX_SOURCE_MELDING_SAME_ORGANISATION: InboxSource
INBOX_SOURCE_OTHER_VT_ORGANISATION: InboxSource
INBOX_SOURCE_RVDK: InboxSource
INBOX_SOURCE_VERWIJSINDEX: InboxSource
INBOX_DEADLINE_UNSPECIFIED: InboxDeadline
INBOX_DEADLINE_ASSESSMENT: InboxDeadline
INBOX_DEADLINE_ONDERZOEK: InboxDeadline
INBOX_DEADLINE_HOUSEHOLD_LETTER: InboxDeadline
AMBTSHALVE_STAGE_UNSPECIFIED: AmbtshalveStage
AMBTSHALVE_STAGE_MELDING: AmbtshalveStage
AMBTSHALVE_STAGE_DECISION: AmbtshalveStage

class DeliverBatchRequest(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[BatchedDelivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[BatchedDelivery, _Mapping]]] = ...) -> None: ...

class BatchedDelivery(_message.Message):
    __slots__ = ("callback", "register_match", "inbox_item")
    CALLBACK_FIELD_NUMBER: _ClassVar[int]
    REGISTER_MATCH_FIELD_NUMBER: _ClassVar[int]
    INBOX_ITEM_FIELD_NUMBER: _ClassVar[int]
    callback: DeliverCallbackRequest
    register_match: DeliverRegisterMatchRequest
    inbox_item: DeliverInboxItemRequest
    def __init__(self, callback: _Optional[_Union[DeliverCallbackRequest, _Mapping]] = ..., register_match: _Optional[_Union[DeliverRegisterMatchRequest, _Mapping]] = ..., inbox_item: _Optional[_Union[DeliverInboxItemRequest, _Mapping]] = ...) -> None: ...

class DeliverBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[DeliveryResult]
    def __init__(self, results: _Optional[_Iterable[_Union[DeliveryResult, _Mapping]]] = ...) -> None: ...

class DeliveryResult(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class DeliverCallbackRequest(_message.Message):
    __slots__ = ("idempotency_key", "tenant_id", "case_id", "due_date", "received_at", "acute", "melder", "agreements", "feedback", "feedback_event_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ACUTE_FIELD_NUMBER: _ClassVar[int]
    MELDER_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    tenant_id: str
    case_id: str
    due_date: _common_pb2.Date
    received_at: _timestamp_pb2.Timestamp
    acute: bool
    melder: _common_pb2.EncryptedField
    agreements: _common_pb2.EncryptedField
    feedback: _common_pb2.EncryptedField
    feedback_event_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., due_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., acute: _Optional[bool] = ..., melder: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., agreements: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., feedback: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., feedback_event_id: _Optional[str] = ...) -> None: ...

class DeliverCallbackResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeliverRegisterMatchRequest(_message.Message):
    __slots__ = ("idempotency_key", "tenant_id", "case_id", "person_id", "other")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    OTHER_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    tenant_id: str
    case_id: str
    person_id: str
    other: _common_pb2.Involvement
    def __init__(self, idempotency_key: _Optional[str] = ..., tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., person_id: _Optional[str] = ..., other: _Optional[_Union[_common_pb2.Involvement, _Mapping]] = ...) -> None: ...

class DeliverRegisterMatchResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class InboxChange(_message.Message):
    __slots__ = ("source", "at", "organisation", "case_id", "rvdk_kind", "rvdk_office", "match_kind")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    RVDK_KIND_FIELD_NUMBER: _ClassVar[int]
    RVDK_OFFICE_FIELD_NUMBER: _ClassVar[int]
    MATCH_KIND_FIELD_NUMBER: _ClassVar[int]
    source: InboxSource
    at: _timestamp_pb2.Timestamp
    organisation: _common_pb2.Involvement
    case_id: str
    rvdk_kind: str
    rvdk_office: str
    match_kind: str
    def __init__(self, source: _Optional[_Union[InboxSource, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., organisation: _Optional[_Union[_common_pb2.Involvement, _Mapping]] = ..., case_id: _Optional[str] = ..., rvdk_kind: _Optional[str] = ..., rvdk_office: _Optional[str] = ..., match_kind: _Optional[str] = ...) -> None: ...

class AssessmentInputItem(_message.Message):
    __slots__ = ("first", "changes", "other_organisations", "earlier_case_ids", "joins_case_id", "joined_by_case_ids", "rvdk_signals", "repeat_melding")
    FIRST_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    OTHER_ORGANISATIONS_FIELD_NUMBER: _ClassVar[int]
    EARLIER_CASE_IDS_FIELD_NUMBER: _ClassVar[int]
    JOINS_CASE_ID_FIELD_NUMBER: _ClassVar[int]
    JOINED_BY_CASE_IDS_FIELD_NUMBER: _ClassVar[int]
    RVDK_SIGNALS_FIELD_NUMBER: _ClassVar[int]
    REPEAT_MELDING_FIELD_NUMBER: _ClassVar[int]
    first: bool
    changes: _containers.RepeatedCompositeFieldContainer[InboxChange]
    other_organisations: _containers.RepeatedCompositeFieldContainer[_common_pb2.Involvement]
    earlier_case_ids: _containers.RepeatedScalarFieldContainer[str]
    joins_case_id: str
    joined_by_case_ids: _containers.RepeatedScalarFieldContainer[str]
    rvdk_signals: int
    repeat_melding: bool
    def __init__(self, first: _Optional[bool] = ..., changes: _Optional[_Iterable[_Union[InboxChange, _Mapping]]] = ..., other_organisations: _Optional[_Iterable[_Union[_common_pb2.Involvement, _Mapping]]] = ..., earlier_case_ids: _Optional[_Iterable[str]] = ..., joins_case_id: _Optional[str] = ..., joined_by_case_ids: _Optional[_Iterable[str]] = ..., rvdk_signals: _Optional[int] = ..., repeat_melding: _Optional[bool] = ...) -> None: ...

class MonitoringAlertItem(_message.Message):
    __slots__ = ("signal",)
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    signal: InboxChange
    def __init__(self, signal: _Optional[_Union[InboxChange, _Mapping]] = ...) -> None: ...

class DeadlineOverdueItem(_message.Message):
    __slots__ = ("deadline", "due_at", "resolved", "resolved_at")
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    deadline: InboxDeadline
    due_at: _timestamp_pb2.Timestamp
    resolved: bool
    resolved_at: _timestamp_pb2.Timestamp
    def __init__(self, deadline: _Optional[_Union[InboxDeadline, str]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved: _Optional[bool] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RegisterMatchItem(_message.Message):
    __slots__ = ("other",)
    OTHER_FIELD_NUMBER: _ClassVar[int]
    other: _common_pb2.Involvement
    def __init__(self, other: _Optional[_Union[_common_pb2.Involvement, _Mapping]] = ...) -> None: ...

class EmergencyAccessItem(_message.Message):
    __slots__ = ("by_tenant_id", "by_user", "reason", "reason_event_id")
    BY_TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    BY_USER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REASON_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    by_tenant_id: str
    by_user: str
    reason: _common_pb2.EncryptedField
    reason_event_id: str
    def __init__(self, by_tenant_id: _Optional[str] = ..., by_user: _Optional[str] = ..., reason: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., reason_event_id: _Optional[str] = ...) -> None: ...

class LetterNotSentItem(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class InboxItem(_message.Message):
    __slots__ = ("idempotency_key", "tenant_id", "case_id", "kind", "person_ids", "occurred_at", "acute", "acknowledge_before", "escalated", "acknowledged_at", "assessment_input", "monitoring_alert", "deadline_overdue", "register_match", "letter_not_sent", "emergency_access")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PERSON_IDS_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACUTE_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_INPUT_FIELD_NUMBER: _ClassVar[int]
    MONITORING_ALERT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_OVERDUE_FIELD_NUMBER: _ClassVar[int]
    REGISTER_MATCH_FIELD_NUMBER: _ClassVar[int]
    LETTER_NOT_SENT_FIELD_NUMBER: _ClassVar[int]
    EMERGENCY_ACCESS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    tenant_id: str
    case_id: str
    kind: InboxItemKind
    person_ids: _containers.RepeatedScalarFieldContainer[str]
    occurred_at: _timestamp_pb2.Timestamp
    acute: bool
    acknowledge_before: _timestamp_pb2.Timestamp
    escalated: bool
    acknowledged_at: _timestamp_pb2.Timestamp
    assessment_input: AssessmentInputItem
    monitoring_alert: MonitoringAlertItem
    deadline_overdue: DeadlineOverdueItem
    register_match: RegisterMatchItem
    letter_not_sent: LetterNotSentItem
    emergency_access: EmergencyAccessItem
    def __init__(self, idempotency_key: _Optional[str] = ..., tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., kind: _Optional[_Union[InboxItemKind, str]] = ..., person_ids: _Optional[_Iterable[str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., acute: _Optional[bool] = ..., acknowledge_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., escalated: _Optional[bool] = ..., acknowledged_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assessment_input: _Optional[_Union[AssessmentInputItem, _Mapping]] = ..., monitoring_alert: _Optional[_Union[MonitoringAlertItem, _Mapping]] = ..., deadline_overdue: _Optional[_Union[DeadlineOverdueItem, _Mapping]] = ..., register_match: _Optional[_Union[RegisterMatchItem, _Mapping]] = ..., letter_not_sent: _Optional[_Union[LetterNotSentItem, _Mapping]] = ..., emergency_access: _Optional[_Union[EmergencyAccessItem, _Mapping]] = ...) -> None: ...

class DeliverInboxItemRequest(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: InboxItem
    def __init__(self, item: _Optional[_Union[InboxItem, _Mapping]] = ...) -> None: ...

class DeliverInboxItemResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SendLetterRequest(_message.Message):
    __slots__ = ("idempotency_key", "tenant_id", "case_id", "pdf", "addressee")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PDF_FIELD_NUMBER: _ClassVar[int]
    ADDRESSEE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    tenant_id: str
    case_id: str
    pdf: _common_pb2.EncryptedField
    addressee: _common_pb2.EncryptedField
    def __init__(self, idempotency_key: _Optional[str] = ..., tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., pdf: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., addressee: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ...) -> None: ...

class SendLetterResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NotifyRequest(_message.Message):
    __slots__ = ("idempotency_key", "recipient_id", "body", "subject", "sealed_body")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SEALED_BODY_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    recipient_id: str
    body: _common_pb2.EncryptedField
    subject: str
    sealed_body: _common_pb2.SealedIdentifier
    def __init__(self, idempotency_key: _Optional[str] = ..., recipient_id: _Optional[str] = ..., body: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., subject: _Optional[str] = ..., sealed_body: _Optional[_Union[_common_pb2.SealedIdentifier, _Mapping]] = ...) -> None: ...

class NoticeSender(_message.Message):
    __slots__ = ("tenant_id", "name", "phone", "contact")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    name: str
    phone: str
    contact: str
    def __init__(self, tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., phone: _Optional[str] = ..., contact: _Optional[str] = ...) -> None: ...

class NoticePerson(_message.Message):
    __slots__ = ("bsn", "name", "date_of_birth", "role")
    BSN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    bsn: str
    name: str
    date_of_birth: _common_pb2.Date
    role: str
    def __init__(self, bsn: _Optional[str] = ..., name: _Optional[str] = ..., date_of_birth: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., role: _Optional[str] = ...) -> None: ...

class RvdkRequest(_message.Message):
    __slots__ = ("region", "reference", "case_id", "decided_at", "children", "reason", "responsible_for_safety")
    REGION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_FOR_SAFETY_FIELD_NUMBER: _ClassVar[int]
    region: NoticeSender
    reference: str
    case_id: str
    decided_at: _timestamp_pb2.Timestamp
    children: _containers.RepeatedCompositeFieldContainer[NoticePerson]
    reason: _common_pb2.RvdkRequestReason
    responsible_for_safety: str
    def __init__(self, region: _Optional[_Union[NoticeSender, _Mapping]] = ..., reference: _Optional[str] = ..., case_id: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., children: _Optional[_Iterable[_Union[NoticePerson, _Mapping]]] = ..., reason: _Optional[_Union[_common_pb2.RvdkRequestReason, _Mapping]] = ..., responsible_for_safety: _Optional[str] = ...) -> None: ...

class MunicipalityNotice(_message.Message):
    __slots__ = ("region", "reference", "municipality_code", "requested_at", "children", "text")
    REGION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    region: NoticeSender
    reference: str
    municipality_code: str
    requested_at: _timestamp_pb2.Timestamp
    children: _containers.RepeatedCompositeFieldContainer[NoticePerson]
    text: str
    def __init__(self, region: _Optional[_Union[NoticeSender, _Mapping]] = ..., reference: _Optional[str] = ..., municipality_code: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., children: _Optional[_Iterable[_Union[NoticePerson, _Mapping]]] = ..., text: _Optional[str] = ...) -> None: ...

class HandoverNotice(_message.Message):
    __slots__ = ("region", "reference", "case_id", "receiver_id", "receiver_name", "decided_at", "persons", "handed_over", "judgement", "responsible_for_safety", "agreements")
    REGION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_NAME_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    PERSONS_FIELD_NUMBER: _ClassVar[int]
    HANDED_OVER_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_FOR_SAFETY_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    region: NoticeSender
    reference: str
    case_id: str
    receiver_id: str
    receiver_name: str
    decided_at: _timestamp_pb2.Timestamp
    persons: _containers.RepeatedCompositeFieldContainer[NoticePerson]
    handed_over: str
    judgement: str
    responsible_for_safety: str
    agreements: str
    def __init__(self, region: _Optional[_Union[NoticeSender, _Mapping]] = ..., reference: _Optional[str] = ..., case_id: _Optional[str] = ..., receiver_id: _Optional[str] = ..., receiver_name: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., persons: _Optional[_Iterable[_Union[NoticePerson, _Mapping]]] = ..., handed_over: _Optional[str] = ..., judgement: _Optional[str] = ..., responsible_for_safety: _Optional[str] = ..., agreements: _Optional[str] = ...) -> None: ...

class AmbtshalveNotice(_message.Message):
    __slots__ = ("region", "reference", "case_id", "stage", "professional_name", "professional_organisation", "mdo_date", "conditions", "decision", "decision_text", "judgement", "responsible_for_safety", "consequences", "at")
    REGION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PROFESSIONAL_NAME_FIELD_NUMBER: _ClassVar[int]
    PROFESSIONAL_ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    MDO_DATE_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    DECISION_TEXT_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_FOR_SAFETY_FIELD_NUMBER: _ClassVar[int]
    CONSEQUENCES_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    region: NoticeSender
    reference: str
    case_id: str
    stage: AmbtshalveStage
    professional_name: str
    professional_organisation: str
    mdo_date: _common_pb2.Date
    conditions: _containers.RepeatedScalarFieldContainer[str]
    decision: str
    decision_text: str
    judgement: str
    responsible_for_safety: str
    consequences: _containers.RepeatedScalarFieldContainer[str]
    at: _timestamp_pb2.Timestamp
    def __init__(self, region: _Optional[_Union[NoticeSender, _Mapping]] = ..., reference: _Optional[str] = ..., case_id: _Optional[str] = ..., stage: _Optional[_Union[AmbtshalveStage, str]] = ..., professional_name: _Optional[str] = ..., professional_organisation: _Optional[str] = ..., mdo_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., conditions: _Optional[_Iterable[str]] = ..., decision: _Optional[str] = ..., decision_text: _Optional[str] = ..., judgement: _Optional[str] = ..., responsible_for_safety: _Optional[str] = ..., consequences: _Optional[_Iterable[str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ProfessionalNotice(_message.Message):
    __slots__ = ("match_id", "match_kind", "different_youths", "others", "from_municipality_code", "to_municipality_code")
    MATCH_ID_FIELD_NUMBER: _ClassVar[int]
    MATCH_KIND_FIELD_NUMBER: _ClassVar[int]
    DIFFERENT_YOUTHS_FIELD_NUMBER: _ClassVar[int]
    OTHERS_FIELD_NUMBER: _ClassVar[int]
    FROM_MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    TO_MUNICIPALITY_CODE_FIELD_NUMBER: _ClassVar[int]
    match_id: str
    match_kind: str
    different_youths: bool
    others: _containers.RepeatedCompositeFieldContainer[NoticeContact]
    from_municipality_code: str
    to_municipality_code: str
    def __init__(self, match_id: _Optional[str] = ..., match_kind: _Optional[str] = ..., different_youths: _Optional[bool] = ..., others: _Optional[_Iterable[_Union[NoticeContact, _Mapping]]] = ..., from_municipality_code: _Optional[str] = ..., to_municipality_code: _Optional[str] = ...) -> None: ...

class NoticeContact(_message.Message):
    __slots__ = ("registrant_id", "name", "organisation", "phone", "email", "coordinator")
    REGISTRANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    COORDINATOR_FIELD_NUMBER: _ClassVar[int]
    registrant_id: str
    name: str
    organisation: str
    phone: str
    email: str
    coordinator: str
    def __init__(self, registrant_id: _Optional[str] = ..., name: _Optional[str] = ..., organisation: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., coordinator: _Optional[str] = ...) -> None: ...

class NotifyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
