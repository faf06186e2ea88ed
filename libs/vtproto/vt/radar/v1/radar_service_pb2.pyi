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
    __slots__ = ("case_id", "judgement", "decision", "overdracht_to", "responsible_for_safety", "agreements")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    OVERDRACHT_TO_FIELD_NUMBER: _ClassVar[int]
    RESPONSIBLE_FOR_SAFETY_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    judgement: _events_pb2.SafetyJudgement
    decision: _events_pb2.Decision
    overdracht_to: str
    responsible_for_safety: str
    agreements: str
    def __init__(self, case_id: _Optional[str] = ..., judgement: _Optional[_Union[_events_pb2.SafetyJudgement, str]] = ..., decision: _Optional[_Union[_events_pb2.Decision, str]] = ..., overdracht_to: _Optional[str] = ..., responsible_for_safety: _Optional[str] = ..., agreements: _Optional[str] = ...) -> None: ...

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
    __slots__ = ()
    def __init__(self) -> None: ...

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
    __slots__ = ("overdue",)
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    overdue: _containers.RepeatedCompositeFieldContainer[OverdueDeadline]
    def __init__(self, overdue: _Optional[_Iterable[_Union[OverdueDeadline, _Mapping]]] = ...) -> None: ...
