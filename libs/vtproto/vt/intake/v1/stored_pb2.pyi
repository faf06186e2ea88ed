from vt.intake.v1 import intake_service_pb2 as _intake_service_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StoredMelding(_message.Message):
    __slots__ = ("melding", "conversion_criteria", "ambtshalve_conditions", "mdo")
    MELDING_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_CRITERIA_FIELD_NUMBER: _ClassVar[int]
    AMBTSHALVE_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    MDO_FIELD_NUMBER: _ClassVar[int]
    melding: _intake_service_pb2.Melding
    conversion_criteria: _intake_service_pb2.ConversionCriteria
    ambtshalve_conditions: _intake_service_pb2.AmbtshalveConditions
    mdo: _intake_service_pb2.MultidisciplinaryConsultation
    def __init__(self, melding: _Optional[_Union[_intake_service_pb2.Melding, _Mapping]] = ..., conversion_criteria: _Optional[_Union[_intake_service_pb2.ConversionCriteria, _Mapping]] = ..., ambtshalve_conditions: _Optional[_Union[_intake_service_pb2.AmbtshalveConditions, _Mapping]] = ..., mdo: _Optional[_Union[_intake_service_pb2.MultidisciplinaryConsultation, _Mapping]] = ...) -> None: ...
