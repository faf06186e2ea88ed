import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vt.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RvdkSignalKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RVDK_SIGNAL_KIND_UNSPECIFIED: _ClassVar[RvdkSignalKind]
    RVDK_SIGNAL_KIND_INVESTIGATION_OPEN: _ClassVar[RvdkSignalKind]
    RVDK_SIGNAL_KIND_CHILD_PROTECTION_MEASURE: _ClassVar[RvdkSignalKind]
    RVDK_SIGNAL_KIND_CUSTODY_AND_ACCESS: _ClassVar[RvdkSignalKind]
    RVDK_SIGNAL_KIND_CRIMINAL_CASE: _ClassVar[RvdkSignalKind]
RVDK_SIGNAL_KIND_UNSPECIFIED: RvdkSignalKind
RVDK_SIGNAL_KIND_INVESTIGATION_OPEN: RvdkSignalKind
RVDK_SIGNAL_KIND_CHILD_PROTECTION_MEASURE: RvdkSignalKind
RVDK_SIGNAL_KIND_CUSTODY_AND_ACCESS: RvdkSignalKind
RVDK_SIGNAL_KIND_CRIMINAL_CASE: RvdkSignalKind

class RvdkSignal(_message.Message):
    __slots__ = ("signal_id", "child", "kind", "observed_at", "rvdk_office")
    SIGNAL_ID_FIELD_NUMBER: _ClassVar[int]
    CHILD_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    RVDK_OFFICE_FIELD_NUMBER: _ClassVar[int]
    signal_id: str
    child: _common_pb2.SealedIdentifier
    kind: RvdkSignalKind
    observed_at: _timestamp_pb2.Timestamp
    rvdk_office: str
    def __init__(self, signal_id: _Optional[str] = ..., child: _Optional[_Union[_common_pb2.SealedIdentifier, _Mapping]] = ..., kind: _Optional[_Union[RvdkSignalKind, str]] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rvdk_office: _Optional[str] = ...) -> None: ...
