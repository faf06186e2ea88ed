import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vt.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
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
    __slots__ = ("idempotency_key", "recipient_id", "body", "subject")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    recipient_id: str
    body: _common_pb2.EncryptedField
    subject: str
    def __init__(self, idempotency_key: _Optional[str] = ..., recipient_id: _Optional[str] = ..., body: _Optional[_Union[_common_pb2.EncryptedField, _Mapping]] = ..., subject: _Optional[str] = ...) -> None: ...

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
