"""The legal justification of a melding (conversion criteria; ambtshalve conditions and MDO) is stored with its
contact under the dossier key, returned by GetContact, and carried on AdviesConverted / AmbtshalveMeldingMade
with its free text only encrypted; a melding stored before it was kept still reads (without one)."""

from __future__ import annotations

import datetime as dt
import json
import pathlib

import pytest
from intake.adapters import proto
from intake.domain.model import (
    Advies,
    AmbtshalveConditions,
    Asker,
    ConcernNature,
    ConversionCriteria,
    Directbetrokkene,
    Identity,
    Justification,
    MelderType,
    Melding,
    MultidisciplinaryConsultation,
    PersonRole,
    Situation,
)
from intake.dossier_keys import region_keys
from intake.handlers import IntakeHandlers
from intake.protection import PersonalDataProtector
from intake.store import ContactStore
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2
from vt.intake.v1 import intake_service_pb2 as pb
from vtkit.crypto import Ciphertext, DecryptionError
from vtkit.envelope import decode
from vtkit.keys import dossier_key_id
from vtkit.keystore import KeyStore

TENANT = "utrecht"
TEACHER = Identity(name="Petra de Vries", organisation="De Regenboog", email="p@example.nl")
MELDING = Melding(melder_type=MelderType.PROFESSIONAL, melder=TEACHER, situation=Situation.CAN_HELP_MYSELF,
                  directbetrokkenen=(Directbetrokkene(PersonRole.CHILD, bsn="111222333"),),
                  nature=(ConcernNature.CHILD_ABUSE,), narrative="blauwe plekken")
ADVIES = Advies(asker=Asker(MelderType.PROFESSIONAL, TEACHER), question="Wat nu?")
CRITERIA = ConversionCriteria("Ernstig letsel bij Sanne (4 jaar)", "Huisarts Bakker durft het gezin niet aan te spreken")
CONDITIONS = AmbtshalveConditions(True, True, True, True)
MDO = MultidisciplinaryConsultation(dt.date(2026, 11, 20), ("Gedragswetenschapper Kooistra", "Teamleider de Wit"))


@pytest.fixture()
def store(tmp_path: pathlib.Path):  # type: ignore[no-untyped-def]
    db = ContactStore(tmp_path / "intake.sqlite3")
    yield db
    db.close()


@pytest.fixture()
def handlers(store: ContactStore, keys: KeyStore) -> IntakeHandlers:
    return IntakeHandlers(TENANT, 9, store, PersonalDataProtector(region_keys(keys.root, store, TENANT), TENANT))


def outbox(store: ContactStore) -> list[tuple[str, object, bytes]]:
    """(event id, event, raw value) of every queued event."""
    return [(row.entry.envelope.id, decode(row.entry.value, row.entry.envelope.headers()).message, row.entry.value)
            for row in store.unsent(1000)]


def opened(keys: KeyStore, field: common_pb2.EncryptedField, event_id: str, name: str) -> object:
    return json.loads(keys.tenant_cipher(TENANT).decrypt(Ciphertext(field.key_id, field.nonce, field.ciphertext),
                                                         event_id=event_id, field=name))


async def test_conversion_criteria_are_kept_returned_and_carried_encrypted(
        handlers: IntakeHandlers, store: ContactStore, keys: KeyStore) -> None:
    advies = await handlers.register_advies("a", ADVIES)
    melding = await handlers.convert_advies("c", advies.contact_id, CRITERIA, MELDING)
    contact = proto.contact_response(*await handlers.get_contact(melding.contact_id))
    assert contact.conversion_criteria == pb.ConversionCriteria(nature_and_severity=CRITERIA.nature_and_severity,
                                                                asker_inability=CRITERIA.asker_inability)
    assert not contact.HasField("ambtshalve_conditions") and not contact.HasField("mdo")
    assert contact.melding.narrative == "blauwe plekken" and contact.melding.melder.name == "Petra de Vries"

    [(event_id, converted, raw)] = [e for e in outbox(store) if isinstance(e[1], events_pb2.AdviesConverted)]
    assert isinstance(converted, events_pb2.AdviesConverted)
    for text in ("Sanne", "Bakker", "Ernstig letsel"):
        assert text.encode() not in raw
    # Under the melding's dossier key: shredded with the dossier.
    assert converted.criteria.key_id == dossier_key_id(TENANT, melding.dossier_id)
    assert opened(keys, converted.criteria, event_id, "criteria") == {
        "nature_and_severity": CRITERIA.nature_and_severity, "asker_inability": CRITERIA.asker_inability}
    with pytest.raises(DecryptionError):  # bound to its event and field name
        opened(keys, converted.criteria, event_id, "content")


async def test_ambtshalve_conditions_and_mdo_are_kept_returned_and_carried(
        handlers: IntakeHandlers, store: ContactStore, keys: KeyStore) -> None:
    melding = await handlers.submit_ambtshalve_melding("amb", CONDITIONS, MDO, MELDING)
    contact = proto.contact_response(*await handlers.get_contact(melding.contact_id))
    assert contact.ambtshalve_conditions == pb.AmbtshalveConditions(
        high_acute_risk=True, professional_cannot_increase_safety=True, no_agreement_on_melding=True,
        vt_has_personal_data=True)
    assert contact.mdo == pb.MultidisciplinaryConsultation(date=common_pb2.Date(year=2026, month=11, day=20),
                                                           participants=list(MDO.participants))
    assert not contact.HasField("conversion_criteria")

    [(event_id, made, raw)] = [e for e in outbox(store) if isinstance(e[1], events_pb2.AmbtshalveMeldingMade)]
    assert isinstance(made, events_pb2.AmbtshalveMeldingMade)
    assert made.conditions == contact.ambtshalve_conditions  # booleans, in clear
    assert made.mdo_participant_count == 2 and made.mdo_date == contact.mdo.date
    assert b"Kooistra" not in raw and b"de Wit" not in raw
    assert made.mdo_participants.key_id == dossier_key_id(TENANT, melding.dossier_id)
    assert opened(keys, made.mdo_participants, event_id, "mdo_participants") == list(MDO.participants)


async def test_a_direct_melding_has_no_justification(handlers: IntakeHandlers) -> None:
    melding = await handlers.submit_melding("m", MELDING)
    contact = proto.contact_response(*await handlers.get_contact(melding.contact_id))
    assert contact.melding.narrative == "blauwe plekken"
    for name in ("conversion_criteria", "ambtshalve_conditions", "mdo"):
        assert not contact.HasField(name)


async def test_a_melding_stored_before_the_justification_was_kept_still_reads(
        handlers: IntakeHandlers, monkeypatch: pytest.MonkeyPatch) -> None:
    # The release before stored a melding contact as a bare vt.intake.v1.Melding.
    monkeypatch.setattr(proto, "melding_payload", lambda melding, *_: proto._pb_melding(melding).SerializeToString())
    advies = await handlers.register_advies("a", ADVIES)
    old_converted = await handlers.convert_advies("c", advies.contact_id, CRITERIA, MELDING)
    old_ambtshalve = await handlers.submit_ambtshalve_melding("amb", CONDITIONS, MDO, MELDING)
    monkeypatch.undo()
    for record in (old_converted, old_ambtshalve):
        stored, payload = await handlers.get_contact(record.contact_id)
        assert pb.Melding.FromString(payload).narrative == "blauwe plekken"  # indeed the old format
        contact = proto.contact_response(stored, payload)
        assert contact.melding == proto._pb_melding(MELDING)
        assert list(contact.person_ids) == list(record.person_ids)
        for name in ("conversion_criteria", "ambtshalve_conditions", "mdo"):
            assert not contact.HasField(name)
    # ... and one stored now, next to them, has its justification.
    new = await handlers.submit_ambtshalve_melding("amb2", CONDITIONS, MDO, MELDING)
    assert proto.contact_response(*await handlers.get_contact(new.contact_id)).mdo.participants == list(MDO.participants)


def test_the_stored_form_reads_old_and_new_payloads() -> None:
    old = proto._pb_melding(MELDING).SerializeToString()
    assert proto.stored_melding(old).melding == proto._pb_melding(MELDING)
    assert not proto.stored_melding(old).HasField("conversion_criteria")
    assert proto.stored_melding(b"").melding == pb.Melding()  # an empty (all default) old Melding
    new = proto.stored_melding(proto.melding_payload(MELDING, Justification(conversion_criteria=CRITERIA)))
    assert new.melding == proto._pb_melding(MELDING) and new.conversion_criteria.asker_inability == CRITERIA.asker_inability
