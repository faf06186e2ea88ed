import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vt.common.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeliverCallbackRequest(_message.Message):
    __slots__ = ("idempotency_key", "tenant_id", "case_id", "due_date", "received_at", "acute", "melder", "agreements")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ACUTE_FIELD_NUMBER: _ClassVar[int]
    MELDER_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    tenant_id: str
    case_id: str
    due_date: _common_pb2.Date
    received_at: _timestamp_pb2.Timestamp
    acute: bool
    melder: _common_pb2.EncryptedField
    agreements: _common_pb2.EncryptedField
    def __init__(self, idempotency_key: _Optional[str] = ..., tenant_id: _Optional[str] = ..., case_id: _Optional[str] = ..., due_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., acute: _Optional[bool] = ..., melder: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., agreements: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("idempotency_key", "recipient_id", "body")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    recipient_id: str
    body: _common_pb2.EncryptedField
    def __init__(self, idempotency_key: _Optional[str] = ..., recipient_id: _Optional[str] = ..., body: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ...) -> None: ...

class NotifyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
