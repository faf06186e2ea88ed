import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vt.common.v1 import common_pb2 as _common_pb2
from vt.radar.v1 import events_pb2 as _events_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LookupInvolvementRequest(_message.Message):
    __slots__ = ("case_id", "person_id")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    person_id: str
    def __init__(self, case_id: _Optional[str] = ..., person_id: _Optional[str] = ...) -> None: ...

class LookupInvolvementResponse(_message.Message):
    __slots__ = ("involvements",)
    INVOLVEMENTS_FIELD_NUMBER: _ClassVar[int]
    involvements: _containers.RepeatedCompositeFieldContainer[_common_pb2.Involvement]
    def __init__(self, involvements: _Optional[_Iterable[_Union[_common_pb2.Involvement, _Mapping]]] = ...) -> None: ...

class GetAssessmentRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class GetAssessmentResponse(_message.Message):
    __slots__ = ("due", "inputs")
    DUE_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    due: _events_pb2.AssessmentDue
    inputs: _containers.RepeatedCompositeFieldContainer[_events_pb2.AssessmentInput]
    def __init__(self, due: _Optional[_Union[_events_pb2.AssessmentDue, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[_events_pb2.AssessmentInput, _Mapping]]] = ...) -> None: ...

class RecordDecisionRequest(_message.Message):
    __slots__ = ("case_id", "judgement", "decision", "overdracht_to", "responsible_for_safety", "agreements", "melder_feedback", "household", "rvdk_reason", "overdracht_receiver_id")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    OVERDRACHT_TO_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_FOR_SAFETY_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    MELDER_FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_FIELD_NUMBER: _ClassVar[int]
    RVDK_REASON_FIELD_NUMBER: _ClassVar[int]
    OVERDRACHT_RECEIVER_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    judgement: _events_pb2.SafetyJudgement
    decision: _events_pb2.Decision
    overdracht_to: str
    responsible_for_safety: str
    agreements: str
    melder_feedback: _common_pb2.MelderFeedback
    household: _common_pb2.HouseholdNotice
    rvdk_reason: _common_pb2.RvdkRequestReason
    overdracht_receiver_id: str
    def __init__(self, case_id: _Optional[str] = ..., judgement: _Optional[_Union[_events_pb2.SafetyJudgement, str]] = ..., decision: _Optional[_Union[_events_pb2.Decision, str]] = ..., overdracht_to: _Optional[str] = ..., responsible_for_safety: _Optional[str] = ..., agreements: _Optional[str] = ..., melder_feedback: _Optional[_Union[_common_pb2.MelderFeedback, _Mapping]] = ..., household: _Optional[_Union[_common_pb2.HouseholdNotice, _Mapping]] = ..., rvdk_reason: _Optional[_Union[_common_pb2.RvdkRequestReason, _Mapping]] = ..., overdracht_receiver_id: _Optional[str] = ...) -> None: ...

class RecordDecisionResponse(_message.Message):
    __slots__ = ("event_id", "decided_at", "onderzoek_due_date")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    ONDERZOEK_DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    decided_at: _timestamp_pb2.Timestamp
    onderzoek_due_date: _common_pb2.Date
    def __init__(self, event_id: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., onderzoek_due_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class ListOverdueRequest(_message.Message):
    __slots__ = ("page_token", "page_size")
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    page_token: str
    page_size: int
    def __init__(self, page_token: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class OverdueDeadline(_message.Message):
    __slots__ = ("case_id", "kind", "due_date", "due_at")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    kind: _events_pb2.DeadlineKind
    due_date: _common_pb2.Date
    due_at: _timestamp_pb2.Timestamp
    def __init__(self, case_id: _Optional[str] = ..., kind: _Optional[_Union[_events_pb2.DeadlineKind, str]] = ..., due_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListOverdueResponse(_message.Message):
    __slots__ = ("overdue", "next_page_token")
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    overdue: _containers.RepeatedCompositeFieldContainer[OverdueDeadline]
    next_page_token: str
    def __init__(self, overdue: _Optional[_Iterable[_Union[OverdueDeadline, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RecordOnderzoekStartedRequest(_message.Message):
    __slots__ = ("case_id",)
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    def __init__(self, case_id: _Optional[str] = ...) -> None: ...

class RecordOnderzoekStartedResponse(_message.Message):
    __slots__ = ("started_at", "within_norm", "onderzoek_due_date")
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    WITHIN_NORM_FIELD_NUMBER: _ClassVar[int]
    ONDERZOEK_DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    started_at: _timestamp_pb2.Timestamp
    within_norm: bool
    onderzoek_due_date: _common_pb2.Date
    def __init__(self, started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., within_norm: _Optional[bool] = ..., onderzoek_due_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class RecordOnderzoekOutcomeRequest(_message.Message):
    __slots__ = ("case_id", "judgement", "follow_up", "overdracht_to", "responsible_for_safety", "agreements", "rvdk_reason", "overdracht_receiver_id")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_UP_FIELD_NUMBER: _ClassVar[int]
    OVERDRACHT_TO_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_FOR_SAFETY_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    RVDK_REASON_FIELD_NUMBER: _ClassVar[int]
    OVERDRACHT_RECEIVER_ID_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    judgement: _events_pb2.SafetyJudgement
    follow_up: _events_pb2.Decision
    overdracht_to: str
    responsible_for_safety: str
    agreements: str
    rvdk_reason: _common_pb2.RvdkRequestReason
    overdracht_receiver_id: str
    def __init__(self, case_id: _Optional[str] = ..., judgement: _Optional[_Union[_events_pb2.SafetyJudgement, str]] = ..., follow_up: _Optional[_Union[_events_pb2.Decision, str]] = ..., overdracht_to: _Optional[str] = ..., responsible_for_safety: _Optional[str] = ..., agreements: _Optional[str] = ..., rvdk_reason: _Optional[_Union[_common_pb2.RvdkRequestReason, _Mapping]] = ..., overdracht_receiver_id: _Optional[str] = ...) -> None: ...

class RecordOnderzoekOutcomeResponse(_message.Message):
    __slots__ = ("event_id", "completed_at", "within_norm", "monitor_until")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    WITHIN_NORM_FIELD_NUMBER: _ClassVar[int]
    MONITOR_UNTIL_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    completed_at: _timestamp_pb2.Timestamp
    within_norm: bool
    monitor_until: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., within_norm: _Optional[bool] = ..., monitor_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EndMonitoringRequest(_message.Message):
    __slots__ = ("case_id", "reason")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    reason: str
    def __init__(self, case_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class EndMonitoringResponse(_message.Message):
    __slots__ = ("ended_at",)
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    ended_at: _timestamp_pb2.Timestamp
    def __init__(self, ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExtendMonitoringRequest(_message.Message):
    __slots__ = ("case_id", "until", "reason")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    until: _common_pb2.Date
    reason: str
    def __init__(self, case_id: _Optional[str] = ..., until: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ExtendMonitoringResponse(_message.Message):
    __slots__ = ("monitor_until",)
    MONITOR_UNTIL_FIELD_NUMBER: _ClassVar[int]
    monitor_until: _timestamp_pb2.Timestamp
    def __init__(self, monitor_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetNormsRequest(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: _common_pb2.Date
    def __init__(self, to: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., **kwargs) -> None: ...

class NormFigure(_message.Message):
    __slots__ = ("total", "on_time", "share", "norm", "meets_norm")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    NORM_FIELD_NUMBER: _ClassVar[int]
    MEETS_NORM_FIELD_NUMBER: _ClassVar[int]
    total: int
    on_time: int
    share: float
    norm: float
    meets_norm: bool
    def __init__(self, total: _Optional[int] = ..., on_time: _Optional[int] = ..., share: _Optional[float] = ..., norm: _Optional[float] = ..., meets_norm: _Optional[bool] = ...) -> None: ...

class GetNormsResponse(_message.Message):
    __slots__ = ("assessments", "onderzoeken", "open_assessments", "overdue_assessments", "open_onderzoeken", "overdue_onderzoeken")
    ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    ONDERZOEKEN_FIELD_NUMBER: _ClassVar[int]
    OPEN_ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONDERZOEKEN_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_ONDERZOEKEN_FIELD_NUMBER: _ClassVar[int]
    assessments: NormFigure
    onderzoeken: NormFigure
    open_assessments: int
    overdue_assessments: int
    open_onderzoeken: int
    overdue_onderzoeken: int
    def __init__(self, assessments: _Optional[_Union[NormFigure, _Mapping]] = ..., onderzoeken: _Optional[_Union[NormFigure, _Mapping]] = ..., open_assessments: _Optional[int] = ..., overdue_assessments: _Optional[int] = ..., open_onderzoeken: _Optional[int] = ..., overdue_onderzoeken: _Optional[int] = ...) -> None: ...
