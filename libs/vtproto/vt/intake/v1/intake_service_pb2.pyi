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

class AdviesOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADVIES_OUTCOME_UNSPECIFIED: _ClassVar[AdviesOutcome]
    ADVIES_OUTCOME_END_OF_CONTACT: _ClassVar[AdviesOutcome]
    ADVIES_OUTCOME_ADVICE_AND_SUPPORT: _ClassVar[AdviesOutcome]
    ADVIES_OUTCOME_MELDING: _ClassVar[AdviesOutcome]

class DisclosureGround(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISCLOSURE_GROUND_UNSPECIFIED: _ClassVar[DisclosureGround]
    DISCLOSURE_GROUND_ENDANGERS_INVOLVED: _ClassVar[DisclosureGround]
    DISCLOSURE_GROUND_ENDANGERS_MELDER: _ClassVar[DisclosureGround]
    DISCLOSURE_GROUND_HARMS_TRUST: _ClassVar[DisclosureGround]

class Situation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SITUATION_UNSPECIFIED: _ClassVar[Situation]
    SITUATION_CAN_HELP_MYSELF: _ClassVar[Situation]
    SITUATION_VT_TAKES_OVER: _ClassVar[Situation]

class ContactKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTACT_KIND_UNSPECIFIED: _ClassVar[ContactKind]
    CONTACT_KIND_ADVIES: _ClassVar[ContactKind]
    CONTACT_KIND_VERVOLGADVIES: _ClassVar[ContactKind]
    CONTACT_KIND_MELDING: _ClassVar[ContactKind]
    CONTACT_KIND_CONVERTED_MELDING: _ClassVar[ContactKind]
    CONTACT_KIND_AMBTSHALVE_MELDING: _ClassVar[ContactKind]
ADVIES_OUTCOME_UNSPECIFIED: AdviesOutcome
ADVIES_OUTCOME_END_OF_CONTACT: AdviesOutcome
ADVIES_OUTCOME_ADVICE_AND_SUPPORT: AdviesOutcome
ADVIES_OUTCOME_MELDING: AdviesOutcome
DISCLOSURE_GROUND_UNSPECIFIED: DisclosureGround
DISCLOSURE_GROUND_ENDANGERS_INVOLVED: DisclosureGround
DISCLOSURE_GROUND_ENDANGERS_MELDER: DisclosureGround
DISCLOSURE_GROUND_HARMS_TRUST: DisclosureGround
SITUATION_UNSPECIFIED: Situation
SITUATION_CAN_HELP_MYSELF: Situation
SITUATION_VT_TAKES_OVER: Situation
CONTACT_KIND_UNSPECIFIED: ContactKind
CONTACT_KIND_ADVIES: ContactKind
CONTACT_KIND_VERVOLGADVIES: ContactKind
CONTACT_KIND_MELDING: ContactKind
CONTACT_KIND_CONVERTED_MELDING: ContactKind
CONTACT_KIND_AMBTSHALVE_MELDING: ContactKind

class Professional(_message.Message):
    __slots__ = ("name", "role", "organisation", "phone", "email")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: str
    organisation: str
    phone: str
    email: str
    def __init__(self, name: _Optional[str] = ..., role: _Optional[str] = ..., organisation: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class Asker(_message.Message):
    __slots__ = ("type", "identity", "consent_to_keep_details")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    CONSENT_TO_KEEP_DETAILS_FIELD_NUMBER: _ClassVar[int]
    type: _common_pb2.MelderType
    identity: Professional
    consent_to_keep_details: bool
    def __init__(self, type: _Optional[_Union[_common_pb2.MelderType, str]] = ..., identity: _Optional[_Union[Professional, _Mapping]] = ..., consent_to_keep_details: _Optional[bool] = ...) -> None: ...

class AfwegingskaderAnswers(_message.Message):
    __slots__ = ("suspicion", "acute_or_structural_unsafety", "can_offer_help", "help_accepted", "help_leads_to_safety")
    SUSPICION_FIELD_NUMBER: _ClassVar[int]
    ACUTE_OR_STRUCTURAL_UNSAFETY_FIELD_NUMBER: _ClassVar[int]
    CAN_OFFER_HELP_FIELD_NUMBER: _ClassVar[int]
    HELP_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    HELP_LEADS_TO_SAFETY_FIELD_NUMBER: _ClassVar[int]
    suspicion: bool
    acute_or_structural_unsafety: bool
    can_offer_help: bool
    help_accepted: bool
    help_leads_to_safety: bool
    def __init__(self, suspicion: _Optional[bool] = ..., acute_or_structural_unsafety: _Optional[bool] = ..., can_offer_help: _Optional[bool] = ..., help_accepted: _Optional[bool] = ..., help_leads_to_safety: _Optional[bool] = ...) -> None: ...

class Directbetrokkene(_message.Message):
    __slots__ = ("role", "bsn", "surname", "first_names", "date_of_birth", "postcode", "house_number")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    BSN_FIELD_NUMBER: _ClassVar[int]
    SURNAME_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAMES_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    POSTCODE_FIELD_NUMBER: _ClassVar[int]
    HOUSE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    role: _common_pb2.PersonRole
    bsn: str
    surname: str
    first_names: str
    date_of_birth: _common_pb2.Date
    postcode: str
    house_number: str
    def __init__(self, role: _Optional[_Union[_common_pb2.PersonRole, str]] = ..., bsn: _Optional[str] = ..., surname: _Optional[str] = ..., first_names: _Optional[str] = ..., date_of_birth: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., postcode: _Optional[str] = ..., house_number: _Optional[str] = ...) -> None: ...

class RegisterAdviesRequest(_message.Message):
    __slots__ = ("idempotency_key", "asker", "question", "meldcode_steps_taken", "afwegingskader", "outcome", "support_agreed", "follow_up_at", "directbetrokkenen")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ASKER_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    MELDCODE_STEPS_TAKEN_FIELD_NUMBER: _ClassVar[int]
    AFWEGINGSKADER_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_AGREED_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_UP_AT_FIELD_NUMBER: _ClassVar[int]
    DIRECTBETROKKENEN_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    asker: Asker
    question: str
    meldcode_steps_taken: _containers.RepeatedScalarFieldContainer[str]
    afwegingskader: AfwegingskaderAnswers
    outcome: AdviesOutcome
    support_agreed: _containers.RepeatedScalarFieldContainer[str]
    follow_up_at: _timestamp_pb2.Timestamp
    directbetrokkenen: _containers.RepeatedCompositeFieldContainer[Directbetrokkene]
    def __init__(self, idempotency_key: _Optional[str] = ..., asker: _Optional[_Union[Asker, _Mapping]] = ..., question: _Optional[str] = ..., meldcode_steps_taken: _Optional[_Iterable[str]] = ..., afwegingskader: _Optional[_Union[AfwegingskaderAnswers, _Mapping]] = ..., outcome: _Optional[_Union[AdviesOutcome, str]] = ..., support_agreed: _Optional[_Iterable[str]] = ..., follow_up_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., directbetrokkenen: _Optional[_Iterable[_Union[Directbetrokkene, _Mapping]]] = ...) -> None: ...

class RegisterAdviesResponse(_message.Message):
    __slots__ = ("contact_id", "reference")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    reference: str
    def __init__(self, contact_id: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class RegisterVervolgadviesRequest(_message.Message):
    __slots__ = ("idempotency_key", "previous_advies_id", "advies")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ADVIES_ID_FIELD_NUMBER: _ClassVar[int]
    ADVIES_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    previous_advies_id: str
    advies: RegisterAdviesRequest
    def __init__(self, idempotency_key: _Optional[str] = ..., previous_advies_id: _Optional[str] = ..., advies: _Optional[_Union[RegisterAdviesRequest, _Mapping]] = ...) -> None: ...

class RegisterVervolgadviesResponse(_message.Message):
    __slots__ = ("contact_id", "reference")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    reference: str
    def __init__(self, contact_id: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class Disclosure(_message.Message):
    __slots__ = ("bystander_consents", "withhold_ground")
    BYSTANDER_CONSENTS_FIELD_NUMBER: _ClassVar[int]
    WITHHOLD_GROUND_FIELD_NUMBER: _ClassVar[int]
    bystander_consents: bool
    withhold_ground: DisclosureGround
    def __init__(self, bystander_consents: _Optional[bool] = ..., withhold_ground: _Optional[_Union[DisclosureGround, str]] = ...) -> None: ...

class Melding(_message.Message):
    __slots__ = ("melder_type", "melder", "disclosure", "situation", "directbetrokkenen", "household_label", "nature", "acute", "afwegingskader", "narrative")
    MELDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    MELDER_FIELD_NUMBER: _ClassVar[int]
    DISCLOSURE_FIELD_NUMBER: _ClassVar[int]
    SITUATION_FIELD_NUMBER: _ClassVar[int]
    DIRECTBETROKKENEN_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_LABEL_FIELD_NUMBER: _ClassVar[int]
    NATURE_FIELD_NUMBER: _ClassVar[int]
    ACUTE_FIELD_NUMBER: _ClassVar[int]
    AFWEGINGSKADER_FIELD_NUMBER: _ClassVar[int]
    NARRATIVE_FIELD_NUMBER: _ClassVar[int]
    melder_type: _common_pb2.MelderType
    melder: Professional
    disclosure: Disclosure
    situation: Situation
    directbetrokkenen: _containers.RepeatedCompositeFieldContainer[Directbetrokkene]
    household_label: str
    nature: _containers.RepeatedScalarFieldContainer[_common_pb2.ConcernNature]
    acute: bool
    afwegingskader: AfwegingskaderAnswers
    narrative: str
    def __init__(self, melder_type: _Optional[_Union[_common_pb2.MelderType, str]] = ..., melder: _Optional[_Union[Professional, _Mapping]] = ..., disclosure: _Optional[_Union[Disclosure, _Mapping]] = ..., situation: _Optional[_Union[Situation, str]] = ..., directbetrokkenen: _Optional[_Iterable[_Union[Directbetrokkene, _Mapping]]] = ..., household_label: _Optional[str] = ..., nature: _Optional[_Iterable[_Union[_common_pb2.ConcernNature, str]]] = ..., acute: _Optional[bool] = ..., afwegingskader: _Optional[_Union[AfwegingskaderAnswers, _Mapping]] = ..., narrative: _Optional[str] = ...) -> None: ...

class SubmitMeldingRequest(_message.Message):
    __slots__ = ("idempotency_key", "melding")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    MELDING_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    melding: Melding
    def __init__(self, idempotency_key: _Optional[str] = ..., melding: _Optional[_Union[Melding, _Mapping]] = ...) -> None: ...

class SubmitMeldingResponse(_message.Message):
    __slots__ = ("contact_id", "reference", "same_day", "person_ids")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    SAME_DAY_FIELD_NUMBER: _ClassVar[int]
    PERSON_IDS_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    reference: str
    same_day: bool
    person_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, contact_id: _Optional[str] = ..., reference: _Optional[str] = ..., same_day: _Optional[bool] = ..., person_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ConversionCriteria(_message.Message):
    __slots__ = ("nature_and_severity", "asker_inability")
    NATURE_AND_SEVERITY_FIELD_NUMBER: _ClassVar[int]
    ASKER_INABILITY_FIELD_NUMBER: _ClassVar[int]
    nature_and_severity: str
    asker_inability: str
    def __init__(self, nature_and_severity: _Optional[str] = ..., asker_inability: _Optional[str] = ...) -> None: ...

class ConvertAdviesRequest(_message.Message):
    __slots__ = ("idempotency_key", "advies_id", "criteria", "melding")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ADVIES_ID_FIELD_NUMBER: _ClassVar[int]
    CRITERIA_FIELD_NUMBER: _ClassVar[int]
    MELDING_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    advies_id: str
    criteria: ConversionCriteria
    melding: Melding
    def __init__(self, idempotency_key: _Optional[str] = ..., advies_id: _Optional[str] = ..., criteria: _Optional[_Union[ConversionCriteria, _Mapping]] = ..., melding: _Optional[_Union[Melding, _Mapping]] = ...) -> None: ...

class ConvertAdviesResponse(_message.Message):
    __slots__ = ("contact_id", "reference", "person_ids")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    PERSON_IDS_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    reference: str
    person_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, contact_id: _Optional[str] = ..., reference: _Optional[str] = ..., person_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class MultidisciplinaryConsultation(_message.Message):
    __slots__ = ("date", "participants")
    DATE_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    date: _common_pb2.Date
    participants: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., participants: _Optional[_Iterable[str]] = ...) -> None: ...

class AmbtshalveConditions(_message.Message):
    __slots__ = ("high_acute_risk", "professional_cannot_increase_safety", "no_agreement_on_melding", "vt_has_personal_data")
    HIGH_ACUTE_RISK_FIELD_NUMBER: _ClassVar[int]
    PROFESSIONAL_CANNOT_INCREASE_SAFETY_FIELD_NUMBER: _ClassVar[int]
    NO_AGREEMENT_ON_MELDING_FIELD_NUMBER: _ClassVar[int]
    VT_HAS_PERSONAL_DATA_FIELD_NUMBER: _ClassVar[int]
    high_acute_risk: bool
    professional_cannot_increase_safety: bool
    no_agreement_on_melding: bool
    vt_has_personal_data: bool
    def __init__(self, high_acute_risk: _Optional[bool] = ..., professional_cannot_increase_safety: _Optional[bool] = ..., no_agreement_on_melding: _Optional[bool] = ..., vt_has_personal_data: _Optional[bool] = ...) -> None: ...

class SubmitAmbtshalveMeldingRequest(_message.Message):
    __slots__ = ("idempotency_key", "conditions", "mdo", "melding")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    MDO_FIELD_NUMBER: _ClassVar[int]
    MELDING_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    conditions: AmbtshalveConditions
    mdo: MultidisciplinaryConsultation
    melding: Melding
    def __init__(self, idempotency_key: _Optional[str] = ..., conditions: _Optional[_Union[AmbtshalveConditions, _Mapping]] = ..., mdo: _Optional[_Union[MultidisciplinaryConsultation, _Mapping]] = ..., melding: _Optional[_Union[Melding, _Mapping]] = ...) -> None: ...

class SubmitAmbtshalveMeldingResponse(_message.Message):
    __slots__ = ("contact_id", "reference", "professional_to_be_informed", "person_ids")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    PROFESSIONAL_TO_BE_INFORMED_FIELD_NUMBER: _ClassVar[int]
    PERSON_IDS_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    reference: str
    professional_to_be_informed: bool
    person_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, contact_id: _Optional[str] = ..., reference: _Optional[str] = ..., professional_to_be_informed: _Optional[bool] = ..., person_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetContactRequest(_message.Message):
    __slots__ = ("contact_id", "purpose", "emergency_reason")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    EMERGENCY_REASON_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    purpose: str
    emergency_reason: str
    def __init__(self, contact_id: _Optional[str] = ..., purpose: _Optional[str] = ..., emergency_reason: _Optional[str] = ...) -> None: ...

class GetContactResponse(_message.Message):
    __slots__ = ("contact_id", "reference", "kind", "received_at", "linked_contact_id", "advies", "melding", "same_day", "person_ids", "conversion_criteria", "ambtshalve_conditions", "mdo")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    LINKED_CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    ADVIES_FIELD_NUMBER: _ClassVar[int]
    MELDING_FIELD_NUMBER: _ClassVar[int]
    SAME_DAY_FIELD_NUMBER: _ClassVar[int]
    PERSON_IDS_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_CRITERIA_FIELD_NUMBER: _ClassVar[int]
    AMBTSHALVE_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    MDO_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    reference: str
    kind: ContactKind
    received_at: _timestamp_pb2.Timestamp
    linked_contact_id: str
    advies: RegisterAdviesRequest
    melding: Melding
    same_day: bool
    person_ids: _containers.RepeatedScalarFieldContainer[str]
    conversion_criteria: ConversionCriteria
    ambtshalve_conditions: AmbtshalveConditions
    mdo: MultidisciplinaryConsultation
    def __init__(self, contact_id: _Optional[str] = ..., reference: _Optional[str] = ..., kind: _Optional[_Union[ContactKind, str]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., linked_contact_id: _Optional[str] = ..., advies: _Optional[_Union[RegisterAdviesRequest, _Mapping]] = ..., melding: _Optional[_Union[Melding, _Mapping]] = ..., same_day: _Optional[bool] = ..., person_ids: _Optional[_Iterable[str]] = ..., conversion_criteria: _Optional[_Union[ConversionCriteria, _Mapping]] = ..., ambtshalve_conditions: _Optional[_Union[AmbtshalveConditions, _Mapping]] = ..., mdo: _Optional[_Union[MultidisciplinaryConsultation, _Mapping]] = ...) -> None: ...

class DestroyDossierRequest(_message.Message):
    __slots__ = ("contact_id", "request_reference")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    request_reference: str
    def __init__(self, contact_id: _Optional[str] = ..., request_reference: _Optional[str] = ...) -> None: ...

class DestroyDossierResponse(_message.Message):
    __slots__ = ("dossier_id", "contact_ids", "destroyed_at")
    DOSSIER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_IDS_FIELD_NUMBER: _ClassVar[int]
    DESTROYED_AT_FIELD_NUMBER: _ClassVar[int]
    dossier_id: str
    contact_ids: _containers.RepeatedScalarFieldContainer[str]
    destroyed_at: _timestamp_pb2.Timestamp
    def __init__(self, dossier_id: _Optional[str] = ..., contact_ids: _Optional[_Iterable[str]] = ..., destroyed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
