"""The only place that translates between protobuf (gRPC requests, Kafka events) and the domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import IntEnum
from typing import Any, TypeVar

from google.protobuf import message as pb_message
from google.protobuf import timestamp_pb2
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2, stored_pb2
from vt.intake.v1 import intake_service_pb2 as pb
from vtkit.crypto import Ciphertext, Sealed

from intake.domain.errors import ValidationError
from intake.domain.model import (
    Advies,
    AdviesOutcome,
    Afwegingskader,
    AmbtshalveConditions,
    Asker,
    ConcernNature,
    ConversionCriteria,
    Directbetrokkene,
    Disclosure,
    DisclosureGround,
    Identity,
    Justification,
    MelderType,
    Melding,
    MeldingOrigin,
    MultidisciplinaryConsultation,
    PersonRole,
    Situation,
)
from intake.protection import PersonalDataProtector, person_field
from intake.store import ContactRecord

E = TypeVar("E", bound=IntEnum)

# -- requests -> domain ---------------------------------------------------------------------


def _enum(kind: type[E], value: int, path: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise ValidationError(path, f"unknown value {value}") from None


def _date(value: common_pb2.Date, path: str) -> dt.date | None:
    if (value.year, value.month, value.day) == (0, 0, 0):
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise ValidationError(path, "is not a valid calendar date") from None


def _identity(value: pb.Professional) -> Identity | None:
    identity = Identity(name=value.name, role=value.role, organisation=value.organisation, phone=value.phone,
                        email=value.email)
    return None if identity.is_empty else identity


def _afwegingskader(value: pb.AfwegingskaderAnswers) -> Afwegingskader:
    return Afwegingskader(suspicion=value.suspicion, acute_or_structural_unsafety=value.acute_or_structural_unsafety,
                          can_offer_help=value.can_offer_help, help_accepted=value.help_accepted,
                          help_leads_to_safety=value.help_leads_to_safety)


def _directbetrokkene(value: pb.Directbetrokkene, path: str) -> Directbetrokkene:
    return Directbetrokkene(role=_enum(PersonRole, value.role, f"{path}.role"), bsn=value.bsn.strip(),
                            surname=value.surname, first_names=value.first_names,
                            date_of_birth=_date(value.date_of_birth, f"{path}.date_of_birth"),
                            postcode=value.postcode, house_number=value.house_number)


def _refused_household_data(value: pb.Directbetrokkene) -> Directbetrokkene:
    """Household data sent with an advies is only carried to be refused as a whole (rule
    "directbetrokkenen"), so its details are not checked one by one."""
    return Directbetrokkene(role=PersonRole.UNSPECIFIED, bsn=value.bsn)


def _datetime(value: timestamp_pb2.Timestamp, path: str) -> dt.datetime:
    """Seconds or nanos outside the Timestamp range make protobuf raise ValueError (found by the fuzz run)."""
    try:
        return value.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        raise ValidationError(path, "is not a valid timestamp") from None


def advies_from_proto(value: pb.RegisterAdviesRequest) -> Advies:
    follow_up = _datetime(value.follow_up_at, "follow_up_at") if value.HasField("follow_up_at") else None
    return Advies(
        asker=Asker(type=_enum(MelderType, value.asker.type, "asker.type"),
                    identity=_identity(value.asker.identity) if value.asker.HasField("identity") else None,
                    consent_to_keep_details=value.asker.consent_to_keep_details),
        question=value.question, meldcode_steps_taken=tuple(value.meldcode_steps_taken),
        afwegingskader=_afwegingskader(value.afwegingskader),
        outcome=_enum(AdviesOutcome, value.outcome, "outcome"), support_agreed=tuple(value.support_agreed),
        follow_up_at=follow_up,
        directbetrokkenen=tuple(_refused_household_data(p) for p in value.directbetrokkenen))


def melding_from_proto(value: pb.Melding) -> Melding:
    return Melding(
        melder_type=_enum(MelderType, value.melder_type, "melder_type"),
        melder=_identity(value.melder) if value.HasField("melder") else None,
        situation=_enum(Situation, value.situation, "situation"),
        directbetrokkenen=tuple(_directbetrokkene(p, f"directbetrokkenen[{i}]")
                                for i, p in enumerate(value.directbetrokkenen)),
        nature=tuple(_enum(ConcernNature, n, f"nature[{i}]") for i, n in enumerate(value.nature)),
        disclosure=Disclosure(bystander_consents=value.disclosure.bystander_consents,
                              withhold_ground=_enum(DisclosureGround, value.disclosure.withhold_ground,
                                                    "disclosure.withhold_ground")),
        household_label=value.household_label, acute=value.acute,
        afwegingskader=_afwegingskader(value.afwegingskader), narrative=value.narrative)


def conversion_criteria_from_proto(value: pb.ConversionCriteria) -> ConversionCriteria:
    return ConversionCriteria(nature_and_severity=value.nature_and_severity, asker_inability=value.asker_inability)


def ambtshalve_from_proto(value: pb.SubmitAmbtshalveMeldingRequest) -> tuple[AmbtshalveConditions,
                                                                                MultidisciplinaryConsultation]:
    c = value.conditions
    conditions = AmbtshalveConditions(high_acute_risk=c.high_acute_risk,
                                      professional_cannot_increase_safety=c.professional_cannot_increase_safety,
                                      no_agreement_on_melding=c.no_agreement_on_melding,
                                      vt_has_personal_data=c.vt_has_personal_data)
    mdo = MultidisciplinaryConsultation(date=_date(value.mdo.date, "mdo.date"), participants=tuple(value.mdo.participants))
    return conditions, mdo


# -- domain -> stored payload (the request as kept) -----------------------------------------


def _n(value: IntEnum) -> Any:
    """A domain enum as the protobuf enum number (domain values equal the contract's numbers)."""
    return int(value)


def _pb_date(value: dt.date | None) -> common_pb2.Date | None:
    return common_pb2.Date(year=value.year, month=value.month, day=value.day) if value else None


def _pb_identity(value: Identity | None) -> pb.Professional | None:
    if value is None:
        return None
    return pb.Professional(name=value.name, role=value.role, organisation=value.organisation, phone=value.phone,
                           email=value.email)


def _pb_afwegingskader(value: Afwegingskader) -> pb.AfwegingskaderAnswers:
    return pb.AfwegingskaderAnswers(**value.as_json())


def _timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def advies_payload(advies: Advies) -> bytes:
    message = pb.RegisterAdviesRequest(
        asker=pb.Asker(type=_n(advies.asker.type), identity=_pb_identity(advies.asker.identity),
                       consent_to_keep_details=advies.asker.consent_to_keep_details),
        question=advies.question, meldcode_steps_taken=list(advies.meldcode_steps_taken),
        afwegingskader=_pb_afwegingskader(advies.afwegingskader), outcome=_n(advies.outcome),
        support_agreed=list(advies.support_agreed))
    if advies.follow_up_at:
        message.follow_up_at.CopyFrom(_timestamp(advies.follow_up_at))
    return message.SerializeToString()


def _pb_criteria(value: ConversionCriteria) -> pb.ConversionCriteria:
    return pb.ConversionCriteria(**value.as_json())


def _pb_conditions(value: AmbtshalveConditions) -> pb.AmbtshalveConditions:
    return pb.AmbtshalveConditions(high_acute_risk=value.high_acute_risk,
                                   professional_cannot_increase_safety=value.professional_cannot_increase_safety,
                                   no_agreement_on_melding=value.no_agreement_on_melding,
                                   vt_has_personal_data=value.vt_has_personal_data)


def _pb_mdo(value: MultidisciplinaryConsultation) -> pb.MultidisciplinaryConsultation:
    return pb.MultidisciplinaryConsultation(date=_pb_date(value.date), participants=list(value.participants))


def melding_payload(melding: Melding, justification: Justification = Justification()) -> bytes:
    """A melding contact as stored (vt.intake.v1.StoredMelding): the melding and its legal justification."""
    stored = stored_pb2.StoredMelding(melding=_pb_melding(melding))
    if justification.conversion_criteria is not None:
        stored.conversion_criteria.CopyFrom(_pb_criteria(justification.conversion_criteria))
    if justification.ambtshalve_conditions is not None:
        stored.ambtshalve_conditions.CopyFrom(_pb_conditions(justification.ambtshalve_conditions))
    if justification.mdo is not None:
        stored.mdo.CopyFrom(_pb_mdo(justification.mdo))
    return stored.SerializeToString()


def stored_melding(payload: bytes) -> stored_pb2.StoredMelding:
    """A stored melding contact; a row stored before the justification was kept (a bare Melding, whose field
    numbers StoredMelding reserves) reads as a StoredMelding without a justification."""
    stored = stored_pb2.StoredMelding.FromString(payload)
    if not stored.HasField("melding"):
        stored = stored_pb2.StoredMelding(melding=pb.Melding.FromString(payload))
    return stored


def _pb_melding(melding: Melding) -> pb.Melding:
    persons = [pb.Directbetrokkene(role=_n(p.role), bsn=p.bsn, surname=p.surname, first_names=p.first_names,
                                   date_of_birth=_pb_date(p.date_of_birth), postcode=p.postcode,
                                   house_number=p.house_number) for p in melding.directbetrokkenen]
    return pb.Melding(
        melder_type=_n(melding.melder_type), melder=_pb_identity(melding.melder),
        disclosure=pb.Disclosure(bystander_consents=melding.disclosure.bystander_consents,
                                 withhold_ground=_n(melding.disclosure.withhold_ground)),
        situation=_n(melding.situation), directbetrokkenen=persons, household_label=melding.household_label,
        nature=[_n(n) for n in melding.nature], acute=melding.acute,
        afwegingskader=_pb_afwegingskader(melding.afwegingskader), narrative=melding.narrative)


# -- responses ------------------------------------------------------------------------------


def contact_response(record: ContactRecord, payload: bytes) -> pb.GetContactResponse:
    response = pb.GetContactResponse(contact_id=record.contact_id, reference=record.reference, kind=_n(record.kind),
                                     received_at=_timestamp(record.received_at),
                                     linked_contact_id=record.linked_contact_id, same_day=record.same_day,
                                     person_ids=list(record.person_ids))
    if record.kind.is_advies:
        response.advies.ParseFromString(payload)
        return response
    stored = stored_melding(payload)
    response.melding.CopyFrom(stored.melding)
    for name in ("conversion_criteria", "ambtshalve_conditions", "mdo"):  # the justification, when kept
        if stored.HasField(name):
            getattr(response, name).CopyFrom(getattr(stored, name))
    return response


def receipt_response(method: str, record: ContactRecord) -> Any:
    """The response of `method` for a stored contact; a retried request gets exactly this again (the
    person ids too: they are stored with the contact)."""
    if method == "RegisterAdvies":
        return pb.RegisterAdviesResponse(contact_id=record.contact_id, reference=record.reference)
    if method == "RegisterVervolgadvies":
        return pb.RegisterVervolgadviesResponse(contact_id=record.contact_id, reference=record.reference)
    if method == "SubmitMelding":
        return pb.SubmitMeldingResponse(contact_id=record.contact_id, reference=record.reference,
                                        same_day=record.same_day, person_ids=list(record.person_ids))
    if method == "ConvertAdvies":
        return pb.ConvertAdviesResponse(contact_id=record.contact_id, reference=record.reference,
                                        person_ids=list(record.person_ids))
    if method == "SubmitAmbtshalveMelding":
        return pb.SubmitAmbtshalveMeldingResponse(contact_id=record.contact_id, reference=record.reference,
                                                  professional_to_be_informed=record.professional_to_be_informed,
                                                  person_ids=list(record.person_ids))
    raise ValueError(f"unknown method {method}")


# -- domain -> events -----------------------------------------------------------------------


def _encrypted(value: Ciphertext) -> common_pb2.EncryptedField:
    return common_pb2.EncryptedField(key_id=value.key_id, nonce=value.nonce, ciphertext=value.ciphertext)


def _sealed(value: Sealed) -> common_pb2.SealedIdentifier:
    return common_pb2.SealedIdentifier(recipient=value.recipient, ephemeral_public_key=value.ephemeral_public_key,
                                       nonce=value.nonce, ciphertext=value.ciphertext)


_ORIGINS = {MeldingOrigin.DIRECT: events_pb2.MELDING_ORIGIN_DIRECT,
            MeldingOrigin.CONVERTED_ADVIES: events_pb2.MELDING_ORIGIN_CONVERTED_ADVIES,
            MeldingOrigin.AMBTSHALVE: events_pb2.MELDING_ORIGIN_AMBTSHALVE}


def _person_refs(persons: Sequence[Directbetrokkene], person_ids: Sequence[str], event_id: str,
                 protector: PersonalDataProtector) -> list[common_pb2.PersonRef]:
    """One PersonRef per directbetrokkene, in request order, under the person id the contact stores for it."""
    pairs = list(zip(persons, person_ids, strict=True))  # one id per person, never recomputed
    sealed = protector.seal_for_matching([(person_id, person.identity_bytes()) for person, person_id in pairs],
                                         event_id=event_id)
    return [common_pb2.PersonRef(person_id=person_id, role=_n(person.role), sealed_identity=_sealed(identity),
                                 details=_encrypted(protector.encrypt_json(person.as_json(), event_id=event_id,
                                                                           field=person_field(person_id))))
            for (person, person_id), identity in zip(pairs, sealed, strict=True)]


def melding_received(*, tenant: str, event_id: str, record: ContactRecord, origin: MeldingOrigin, melding: Melding,
                     protector: PersonalDataProtector) -> events_pb2.MeldingReceived:
    melder = melding.melder.as_json() if melding.melder else {}
    return events_pb2.MeldingReceived(
        tenant_id=tenant, contact_id=record.contact_id, reference=record.reference,
        received_at=_timestamp(record.received_at), origin=_ORIGINS[origin],
        linked_advies_id=record.linked_contact_id, melder_type=_n(melding.melder_type),
        situation=_n(melding.situation), nature=[_n(n) for n in melding.nature], acute=melding.acute,
        melder_may_be_named=melding.melder_may_be_named,
        persons=_person_refs(melding.directbetrokkenen, record.person_ids, event_id, protector),
        melder=_encrypted(protector.encrypt_json(melder, event_id=event_id, field="melder")),
        content=_encrypted(protector.encrypt_json(melding.content_json(), event_id=event_id, field="content")),
        dossier_id=record.dossier_id)


def person_ids_of_melding_received(value: bytes) -> list[str]:
    """The person ids of a stored MeldingReceived (outbox value), in order; [] when it does not parse."""
    try:
        return [p.person_id for p in events_pb2.MeldingReceived.FromString(value).persons]
    except pb_message.DecodeError:
        return []


MELDING_RECEIVED_TYPE = events_pb2.MeldingReceived.DESCRIPTOR.full_name


def advies_registered(*, tenant: str, event_id: str, record: ContactRecord, advies: Advies,
                      protector: PersonalDataProtector) -> events_pb2.AdviesRegistered:
    event = events_pb2.AdviesRegistered(
        tenant_id=tenant, contact_id=record.contact_id, reference=record.reference,
        received_at=_timestamp(record.received_at), asker_type=_n(advies.asker.type), outcome=_n(advies.outcome),
        previous_advies_id=record.linked_contact_id,
        content=_encrypted(protector.encrypt_json(advies.content_json(), event_id=event_id, field="content")))
    if advies.asker.identity is not None:  # an anonymous bystander (or one without consent) has none
        event.asker.CopyFrom(_encrypted(protector.encrypt_json(advies.asker.identity.as_json(), event_id=event_id,
                                                               field="asker")))
    return event


def advies_converted(*, tenant: str, event_id: str, advies_id: str, record: ContactRecord,
                     criteria: ConversionCriteria, protector: PersonalDataProtector) -> events_pb2.AdviesConverted:
    """`protector`: the melding's dossier's, so the criteria (free text) are shredded with the dossier."""
    return events_pb2.AdviesConverted(
        tenant_id=tenant, advies_id=advies_id, melding_id=record.contact_id,
        converted_at=_timestamp(record.received_at),
        criteria=_encrypted(protector.encrypt_json(criteria.as_json(), event_id=event_id, field="criteria")))


def ambtshalve_melding_made(*, tenant: str, event_id: str, record: ContactRecord, conditions: AmbtshalveConditions,
                            mdo: MultidisciplinaryConsultation,
                            protector: PersonalDataProtector) -> events_pb2.AmbtshalveMeldingMade:
    """The conditions in clear (booleans); the MDO's participants (may be names) under the dossier's key."""
    return events_pb2.AmbtshalveMeldingMade(
        tenant_id=tenant, melding_id=record.contact_id, mdo_date=_pb_date(mdo.date),
        mdo_participant_count=mdo.participant_count,
        professional_to_be_informed=record.professional_to_be_informed, conditions=_pb_conditions(conditions),
        mdo_participants=_encrypted(protector.encrypt_json(list(mdo.participants), event_id=event_id,
                                                           field="mdo_participants")))


def dossier_destroyed(*, tenant: str, dossier_id: str, contact_ids: Sequence[str], destroyed_at: dt.datetime,
                      reason: int) -> events_pb2.DossierDestroyed:
    return events_pb2.DossierDestroyed(tenant_id=tenant, dossier_id=dossier_id, contact_ids=list(contact_ids),
                                       destroyed_at=_timestamp(destroyed_at), reason=reason)  # type: ignore[arg-type]


def emergency_access(*, tenant: str, contact_id: str, by_tenant: str, by_user: str, at: dt.datetime, reason: str,
                     event_id: str, protector: PersonalDataProtector) -> events_pb2.EmergencyAccess:
    return events_pb2.EmergencyAccess(
        tenant_id=tenant, contact_id=contact_id, by_tenant_id=by_tenant, by_user=by_user, at=_timestamp(at),
        reason=_encrypted(protector.encrypt_bytes(reason.encode(), event_id=event_id, field="emergency_reason")))


def destroy_dossier_response(dossier_id: str, contact_ids: Sequence[str],
                             destroyed_at: dt.datetime) -> pb.DestroyDossierResponse:
    return pb.DestroyDossierResponse(dossier_id=dossier_id, contact_ids=list(contact_ids),
                                     destroyed_at=_timestamp(destroyed_at))
