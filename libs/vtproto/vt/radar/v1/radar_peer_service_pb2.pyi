from vt.common.v1 import common_pb2 as _common_pb2
from vt.radar.v1 import radar_service_pb2 as _radar_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListOwnOverdueRequest(_message.Message):
    __slots__ = ("tenant_id", "after", "limit", "joined_case_ids")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    JOINED_CASE_IDS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    after: _radar_service_pb2.OverdueDeadline
    limit: int
    joined_case_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tenant_id: _Optional[str] = ..., after: _Optional[_Union[_radar_service_pb2.OverdueDeadline, _Mapping]] = ..., limit: _Optional[int] = ..., joined_case_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListOwnOverdueResponse(_message.Message):
    __slots__ = ("overdue", "more", "joined_case_ids")
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    JOINED_CASE_IDS_FIELD_NUMBER: _ClassVar[int]
    overdue: _containers.RepeatedCompositeFieldContainer[_radar_service_pb2.OverdueDeadline]
    more: bool
    joined_case_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, overdue: _Optional[_Iterable[_Union[_radar_service_pb2.OverdueDeadline, _Mapping]]] = ..., more: _Optional[bool] = ..., joined_case_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetOwnNormsRequest(_message.Message):
    __slots__ = ("tenant_id", "to")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    to: _common_pb2.Date
    def __init__(self, tenant_id: _Optional[str] = ..., to: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., **kwargs) -> None: ...

class GetOwnNormsResponse(_message.Message):
    __slots__ = ("norms",)
    NORMS_FIELD_NUMBER: _ClassVar[int]
    norms: _radar_service_pb2.GetNormsResponse
    def __init__(self, norms: _Optional[_Union[_radar_service_pb2.GetNormsResponse, _Mapping]] = ...) -> None: ...
