import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vt.common.v1 import common_pb2 as _common_pb2
from vt.rvdk.v1 import events_pb2 as _events_pb2
from vt.verwijsindex.v1 import events_pb2 as _events_pb2_1
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SafetyJudgement(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SAFETY_JUDGEMENT_UNSPECIFIED: _ClassVar[SafetyJudgement]
    SAFETY_JUDGEMENT_SAFE: _ClassVar[SafetyJudgement]
    SAFETY_JUDGEMENT_ACUTE_UNSAFETY: _ClassVar[SafetyJudgement]
    SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY: _ClassVar[SafetyJudgement]

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_ONDERZOEK: _ClassVar[Decision]
    DECISION_VOORWAARDEN_EN_VERVOLG: _ClassVar[Decision]
    DECISION_OVERDRACHT: _ClassVar[Decision]
    DECISION_NO_FURTHER_STEPS: _ClassVar[Decision]
    DECISION_REGIONAL_MAATWERK: _ClassVar[Decision]
    DECISION_RVDK_REQUEST: _ClassVar[Decision]

class DeadlineKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEADLINE_KIND_UNSPECIFIED: _ClassVar[DeadlineKind]
    DEADLINE_KIND_ASSESSMENT: _ClassVar[DeadlineKind]
    DEADLINE_KIND_ONDERZOEK: _ClassVar[DeadlineKind]

class MonitoringTrigger(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MONITORING_TRIGGER_UNSPECIFIED: _ClassVar[MonitoringTrigger]
    MONITORING_TRIGGER_MELDING_SAME_ORGANISATION: _ClassVar[MonitoringTrigger]
    MONITORING_TRIGGER_MELDING_OTHER_ORGANISATION: _ClassVar[MonitoringTrigger]
    MONITORING_TRIGGER_RVDK: _ClassVar[MonitoringTrigger]
    MONITORING_TRIGGER_VERWIJSINDEX_MATCH: _ClassVar[MonitoringTrigger]

class MonitoringChange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MONITORING_CHANGE_UNSPECIFIED: _ClassVar[MonitoringChange]
    MONITORING_CHANGE_ENDED: _ClassVar[MonitoringChange]
    MONITORING_CHANGE_EXTENDED: _ClassVar[MonitoringChange]
SAFETY_JUDGEMENT_UNSPECIFIED: SafetyJudgement
SAFETY_JUDGEMENT_SAFE: SafetyJudgement
SAFETY_JUDGEMENT_ACUTE_UNSAFETY: SafetyJudgement
SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY: SafetyJudgement
DECISION_UNSPECIFIED: Decision
DECISION_ONDERZOEK: Decision
DECISION_VOORWAARDEN_EN_VERVOLG: Decision
DECISION_OVERDRACHT: Decision
DECISION_NO_FURTHER_STEPS: Decision
DECISION_REGIONAL_MAATWERK: Decision
DECISION_RVDK_REQUEST: Decision
DEADLINE_KIND_UNSPECIFIED: DeadlineKind
DEADLINE_KIND_ASSESSMENT: DeadlineKind
DEADLINE_KIND_ONDERZOEK: DeadlineKind
MONITORING_TRIGGER_UNSPECIFIED: MonitoringTrigger
MONITORING_TRIGGER_MELDING_SAME_ORGANISATION: MonitoringTrigger
MONITORING_TRIGGER_MELDING_OTHER_ORGANISATION: MonitoringTrigger
MONITORING_TRIGGER_RVDK: MonitoringTrigger
MONITORING_TRIGGER_VERWIJSINDEX_MATCH: MonitoringTrigger
MONITORING_CHANGE_UNSPECIFIED: MonitoringChange
MONITORING_CHANGE_ENDED: MonitoringChange
MONITORING_CHANGE_EXTENDED: MonitoringChange

class PersonSignal(_message.Message):
    __slots__ = ("pseudonym", "melding", "rvdk", "case_closed", "verwijsindex_match", "case_destroyed")
    PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    MELDING_FIELD_NUMBER: _ClassVar[int]
    RVDK_FIELD_NUMBER: _ClassVar[int]
    CASE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    VERWIJSINDEX_MATCH_FIELD_NUMBER: _ClassVar[int]
    CASE_DESTROYED_FIELD_NUMBER: _ClassVar[int]
    pseudonym: str
    melding: MeldingSignal
    rvdk: RvdkInfo
    case_closed: CaseClosed
    verwijsindex_match: VerwijsindexMatchInfo
    case_destroyed: CaseDestroyed
    def __init__(self, pseudonym: _Optional[str] = ..., melding: _Optional[_Union[MeldingSignal, _Mapping]] = ..., rvdk: _Optional[_Union[RvdkInfo, _Mapping]] = ..., case_closed: _Optional[_Union[CaseClosed, _Mapping]] = ..., verwijsindex_match: _Optional[_Union[VerwijsindexMatchInfo, _Mapping]] = ..., case_destroyed: _Optional[_Union[CaseDestroyed, _Mapping]] = ...) -> None: ...

class CaseDestroyed(_message.Message):
    __slots__ = ("tenant_id", "case_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    case_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ...) -> None: ...

class VerwijsindexMatchInfo(_message.Message):
    __slots__ = ("match_id", "kind", "matched_at")
    MATCH_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MATCHED_AT_FIELD_NUMBER: _ClassVar[int]
    match_id: str
    kind: _events_pb2_1.MatchKind
    matched_at: _timestamp_pb2.Timestamp
    def __init__(self, match_id: _Optional[str] = ..., kind: _Optional[_Union[_events_pb2_1.MatchKind, str]] = ..., matched_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CaseClosed(_message.Message):
    __slots__ = ("tenant_id", "case_id", "person_id", "closed_at", "decision", "monitor_until", "onderzoek_running")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    MONITOR_UNTIL_FIELD_NUMBER: _ClassVar[int]
    ONDERZOEK_RUNNING_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    case_id: str
    person_id: str
    closed_at: _timestamp_pb2.Timestamp
    decision: Decision
    monitor_until: _timestamp_pb2.Timestamp
    onderzoek_running: bool
    def __init__(self, tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., person_id: _Optional[str] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decision: _Optional[_Union[Decision, str]] = ..., monitor_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., onderzoek_running: _Optional[bool] = ...) -> None: ...

class MeldingSignal(_message.Message):
    __slots__ = ("tenant_id", "case_id", "person_id", "received_at", "due_at")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    case_id: str
    person_id: str
    received_at: _timestamp_pb2.Timestamp
    due_at: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., person_id: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RvdkInfo(_message.Message):
    __slots__ = ("signal_id", "kind", "observed_at", "rvdk_office")
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    RVDK_OFFICE_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    kind: _events_pb2.RvdkSignalKind
    observed_at: _timestamp_pb2.Timestamp
    rvdk_office: str
    def __init__(self, signal_id: _Optional[str] = ..., kind: _Optional[_Union[_events_pb2.RvdkSignalKind, str]] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rvdk_office: _Optional[str] = ...) -> None: ...

class RegisterEntry(_message.Message):
    __slots__ = ("tenant_id", "pseudonym", "case_id", "person_id", "since")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    pseudonym: str
    case_id: str
    person_id: str
    since: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., pseudonym: _Optional[str] = ..., case_id: _Optional[str] = ..., person_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RegisterMatch(_message.Message):
    __slots__ = ("match_id", "addressed_to", "own_case_id", "own_person_id", "own", "other", "matched_at")
    MATCH_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESSED_TO_FIELD_NUMBER: _ClassVar[int]
    OWN_CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OWN_PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    OWN_FIELD_NUMBER: _ClassVar[int]
    OTHER_FIELD_NUMBER: _ClassVar[int]
    MATCHED_AT_FIELD_NUMBER: _ClassVar[int]
    match_id: str
    addressed_to: str
    own_case_id: str
    own_person_id: str
    own: _common_pb2.Involvement
    other: _common_pb2.Involvement
    matched_at: _timestamp_pb2.Timestamp
    def __init__(self, match_id: _Optional[str] = ..., addressed_to: _Optional[str] = ..., own_case_id: _Optional[str] = ..., own_person_id: _Optional[str] = ..., own: _Optional[_Union[_common_pb2.Involvement, _Mapping]] = ..., other: _Optional[_Union[_common_pb2.Involvement, _Mapping]] = ..., matched_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AssessmentDue(_message.Message):
    __slots__ = ("tenant_id", "case_id", "received_at", "acute", "due_date", "due_at", "melder", "melder_type", "melder_may_be_named")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ACUTE_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    MELDER_FIELD_NUMBER: _ClassVar[int]
    MELDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    MELDER_MAY_BE_NAMED_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    case_id: str
    received_at: _timestamp_pb2.Timestamp
    acute: bool
    due_date: _common_pb2.Date
    due_at: _timestamp_pb2.Timestamp
    melder: _common_pb2.EncryptedField
    melder_type: _common_pb2.MelderType
    melder_may_be_named: bool
    def __init__(self, tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., acute: _Optional[bool] = ..., due_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., melder: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., melder_type: _Optional[_Union[_common_pb2.MelderType, str]] = ..., melder_may_be_named: _Optional[bool] = ...) -> None: ...

class AssessmentInput(_message.Message):
    __slots__ = ("tenant_id", "case_id", "person_id", "earlier_case_ids", "other_organisations", "rvdk", "collected_at", "repeat_melding", "repeat_of_case_id", "joins_case_id", "joined_by_case_ids", "verwijsindex_matches")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    EARLIER_CASE_IDS_FIELD_NUMBER: _ClassVar[int]
    OTHER_ORGANISATIONS_FIELD_NUMBER: _ClassVar[int]
    RVDK_FIELD_NUMBER: _ClassVar[int]
    COLLECTED_AT_FIELD_NUMBER: _ClassVar[int]
    REPEAT_MELDING_FIELD_NUMBER: _ClassVar[int]
    REPEAT_OF_CASE_ID_FIELD_NUMBER: _ClassVar[int]
    JOINS_CASE_ID_FIELD_NUMBER: _ClassVar[int]
    JOINED_BY_CASE_IDS_FIELD_NUMBER: _ClassVar[int]
    VERWIJSINDEX_MATCHES_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    case_id: str
    person_id: str
    earlier_case_ids: _containers.RepeatedScalarFieldContainer[str]
    other_organisations: _containers.RepeatedCompositeFieldContainer[_common_pb2.Involvement]
    rvdk: _containers.RepeatedCompositeFieldContainer[RvdkInfo]
    collected_at: _timestamp_pb2.Timestamp
    repeat_melding: bool
    repeat_of_case_id: str
    joins_case_id: str
    joined_by_case_ids: _containers.RepeatedScalarFieldContainer[str]
    verwijsindex_matches: _containers.RepeatedCompositeFieldContainer[VerwijsindexMatchInfo]
    def __init__(self, tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., person_id: _Optional[str] = ..., earlier_case_ids: _Optional[_Iterable[str]] = ..., other_organisations: _Optional[_Iterable[_Union[_common_pb2.Involvement, _Mapping]]] = ..., rvdk: _Optional[_Iterable[_Union[RvdkInfo, _Mapping]]] = ..., collected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., repeat_melding: _Optional[bool] = ..., repeat_of_case_id: _Optional[str] = ..., joins_case_id: _Optional[str] = ..., joined_by_case_ids: _Optional[_Iterable[str]] = ..., verwijsindex_matches: _Optional[_Iterable[_Union[VerwijsindexMatchInfo, _Mapping]]] = ...) -> None: ...

class AssessmentCompleted(_message.Message):
    __slots__ = ("tenant_id", "case_id", "judgement", "decision", "overdracht_to", "responsible_for_safety", "decided_at", "agreements", "melder_callback_required", "household_letter_required", "rvdk_request", "municipality_notice", "onderzoek_due_date", "onderzoek_due_at", "episode_case_ids", "episode_case_id", "melder_feedback", "household", "rvdk_reason", "overdracht_receiver_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    OVERDRACHT_TO_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_FOR_SAFETY_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    MELDER_CALLBACK_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_LETTER_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    RVDK_REQUEST_FIELD_NUMBER: _ClassVar[int]
    MUNICIPALITY_NOTICE_FIELD_NUMBER: _ClassVar[int]
    ONDERZOEK_DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    ONDERZOEK_DUE_AT_FIELD_NUMBER: _ClassVar[int]
    EPISODE_CASE_IDS_FIELD_NUMBER: _ClassVar[int]
    EPISODE_CASE_ID_FIELD_NUMBER: _ClassVar[int]
    MELDER_FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_FIELD_NUMBER: _ClassVar[int]
    RVDK_REASON_FIELD_NUMBER: _ClassVar[int]
    OVERDRACHT_RECEIVER_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    case_id: str
    judgement: SafetyJudgement
    decision: Decision
    overdracht_to: str
    responsible_for_safety: str
    decided_at: _timestamp_pb2.Timestamp
    agreements: _common_pb2.EncryptedField
    melder_callback_required: bool
    household_letter_required: bool
    rvdk_request: bool
    municipality_notice: bool
    onderzoek_due_date: _common_pb2.Date
    onderzoek_due_at: _timestamp_pb2.Timestamp
    episode_case_ids: _containers.RepeatedScalarFieldContainer[str]
    episode_case_id: str
    melder_feedback: _common_pb2.EncryptedField
    household: _common_pb2.EncryptedField
    rvdk_reason: _common_pb2.EncryptedField
    overdracht_receiver_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., judgement: _Optional[_Union[SafetyJudgement, str]] = ..., decision: _Optional[_Union[Decision, str]] = ..., overdracht_to: _Optional[str] = ..., responsible_for_safety: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., agreements: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., melder_callback_required: _Optional[bool] = ..., household_letter_required: _Optional[bool] = ..., rvdk_request: _Optional[bool] = ..., municipality_notice: _Optional[bool] = ..., onderzoek_due_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., onderzoek_due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., episode_case_ids: _Optional[_Iterable[str]] = ..., episode_case_id: _Optional[str] = ..., melder_feedback: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., household: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., rvdk_reason: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., overdracht_receiver_id: _Optional[str] = ...) -> None: ...

class EpisodeJoined(_message.Message):
    __slots__ = ("tenant_id", "episode_case_id", "case_id", "due_at", "joined_at")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    EPISODE_CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    JOINED_AT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    episode_case_id: str
    case_id: str
    due_at: _timestamp_pb2.Timestamp
    joined_at: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., episode_case_id: _Optional[str] = ..., case_id: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., joined_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DeadlineOverdue(_message.Message):
    __slots__ = ("tenant_id", "case_id", "kind", "due_at", "detected_at")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    DETECTED_AT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    case_id: str
    kind: DeadlineKind
    due_at: _timestamp_pb2.Timestamp
    detected_at: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., kind: _Optional[_Union[DeadlineKind, str]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MonitoringAlert(_message.Message):
    __slots__ = ("tenant_id", "case_id", "person_id", "trigger", "other", "rvdk", "detected_at", "verwijsindex_match")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    OTHER_FIELD_NUMBER: _ClassVar[int]
    RVDK_FIELD_NUMBER: _ClassVar[int]
    DETECTED_AT_FIELD_NUMBER: _ClassVar[int]
    VERWIJSINDEX_MATCH_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    case_id: str
    person_id: str
    trigger: MonitoringTrigger
    other: _common_pb2.Involvement
    rvdk: RvdkInfo
    detected_at: _timestamp_pb2.Timestamp
    verwijsindex_match: VerwijsindexMatchInfo
    def __init__(self, tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., person_id: _Optional[str] = ..., trigger: _Optional[_Union[MonitoringTrigger, str]] = ..., other: _Optional[_Union[_common_pb2.Involvement, _Mapping]] = ..., rvdk: _Optional[_Union[RvdkInfo, _Mapping]] = ..., detected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., verwijsindex_match: _Optional[_Union[VerwijsindexMatchInfo, _Mapping]] = ...) -> None: ...

class OnderzoekStarted(_message.Message):
    __slots__ = ("tenant_id", "case_id", "started_at", "within_norm")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    WITHIN_NORM_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    case_id: str
    started_at: _timestamp_pb2.Timestamp
    within_norm: bool
    def __init__(self, tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., within_norm: _Optional[bool] = ...) -> None: ...

class OnderzoekCompleted(_message.Message):
    __slots__ = ("tenant_id", "case_id", "judgement", "follow_up", "overdracht_to", "responsible_for_safety", "completed_at", "within_norm", "monitor_until", "agreements", "rvdk_reason", "overdracht_receiver_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_UP_FIELD_NUMBER: _ClassVar[int]
    OVERDRACHT_TO_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_FOR_SAFETY_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    WITHIN_NORM_FIELD_NUMBER: _ClassVar[int]
    MONITOR_UNTIL_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    RVDK_REASON_FIELD_NUMBER: _ClassVar[int]
    OVERDRACHT_RECEIVER_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    case_id: str
    judgement: SafetyJudgement
    follow_up: Decision
    overdracht_to: str
    responsible_for_safety: str
    completed_at: _timestamp_pb2.Timestamp
    within_norm: bool
    monitor_until: _timestamp_pb2.Timestamp
    agreements: _common_pb2.EncryptedField
    rvdk_reason: _common_pb2.EncryptedField
    overdracht_receiver_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., judgement: _Optional[_Union[SafetyJudgement, str]] = ..., follow_up: _Optional[_Union[Decision, str]] = ..., overdracht_to: _Optional[str] = ..., responsible_for_safety: _Optional[str] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., within_norm: _Optional[bool] = ..., monitor_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., agreements: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., rvdk_reason: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., overdracht_receiver_id: _Optional[str] = ...) -> None: ...

class MonitoringChanged(_message.Message):
    __slots__ = ("tenant_id", "case_id", "change", "monitor_until", "changed_at", "reason")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    MONITOR_UNTIL_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    case_id: str
    change: MonitoringChange
    monitor_until: _timestamp_pb2.Timestamp
    changed_at: _timestamp_pb2.Timestamp
    reason: _common_pb2.EncryptedField
    def __init__(self, tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., change: _Optional[_Union[MonitoringChange, str]] = ..., monitor_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ...) -> None: ...
