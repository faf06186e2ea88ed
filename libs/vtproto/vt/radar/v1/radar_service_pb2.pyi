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
