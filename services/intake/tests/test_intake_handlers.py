"""The use cases against the real SQLite store (no broker): atomic contact + outbox, idempotency,
references between contacts, and what the outbox holds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pathlib

import pytest
from intake import handlers as intake_handlers
from intake.domain.errors import ConflictError, ContactNotFound, ValidationError
from intake.domain.model import (
    Advies,
    AmbtshalveConditions,
    Asker,
    ConcernNature,
    ContactKind,
    ConversionCriteria,
    Directbetrokkene,
    Identity,
    MelderType,
    Melding,
    MultidisciplinaryConsultation,
    PersonRole,
    Situation,
)
from intake.handlers import IntakeHandlers
from intake.protection import PersonalDataProtector
from intake.store import ContactStore
from vt.intake.v1 import events_pb2
from vtkit.crypto import Ciphertext
from vtkit.envelope import decode
from vtkit.keystore import KeyStore

TENANT = "utrecht"
TEACHER = Identity(name="Petra de Vries", organisation="De Regenboog", email="p@example.nl")
MELDING = Melding(melder_type=MelderType.PROFESSIONAL, melder=TEACHER, situation=Situation.CAN_HELP_MYSELF,
                  directbetrokkenen=(Directbetrokkene(PersonRole.CHILD, bsn="111222333"),
                                     Directbetrokkene(PersonRole.SUSPECT, surname="Jansen", first_names="Piet",
                                                      date_of_birth=dt.date(1980, 1, 2), postcode="3511AB",
                                                      house_number="1")),
                  nature=(ConcernNature.CHILD_ABUSE,), narrative="blauwe plekken")
ADVIES = Advies(asker=Asker(MelderType.PROFESSIONAL, TEACHER), question="Wat nu?")


@pytest.fixture()
def store(tmp_path: pathlib.Path):  # type: ignore[no-untyped-def]
    db = ContactStore(tmp_path / "intake.sqlite3")
    yield db
    db.close()


@pytest.fixture()
def handlers(store: ContactStore, keys: KeyStore) -> IntakeHandlers:
    protector = PersonalDataProtector(keys, TENANT)
    return IntakeHandlers(TENANT, 9, store, protector)


def events(store: ContactStore) -> list[object]:
    return [decode(row.entry.value, row.entry.envelope.headers()).message for row in store.unsent(1000)]


async def test_a_melding_is_stored_with_its_event_in_the_outbox(handlers: IntakeHandlers, store: ContactStore) -> None:
    record = await handlers.submit_melding("k1", MELDING)
    assert record.kind == ContactKind.MELDING and record.reference.startswith("VT09-")
    [pending] = store.unsent()
    assert pending.entry.key == record.contact_id and pending.entry.topic == "vt.utrecht.intake.v1"
    event = decode(pending.entry.value, pending.entry.envelope.headers())
    assert isinstance(event.message, events_pb2.MeldingReceived)
    assert event.envelope.id == pending.entry.envelope.id  # fixed at insert time
    assert len({p.person_id for p in event.message.persons}) == 2
    assert b"111222333" not in pending.entry.value and b"Jansen" not in pending.entry.value


async def test_a_repeated_idempotency_key_returns_the_first_contact(handlers: IntakeHandlers,
                                                                    store: ContactStore) -> None:
    first = await handlers.submit_melding("same", MELDING)
    again = await handlers.submit_melding("same", dataclasses.replace(MELDING, narrative="anders"))
    assert again == first
    assert len(store.unsent()) == 1
    with pytest.raises(ConflictError):
        await handlers.register_advies("same", ADVIES)


async def test_an_empty_idempotency_key_is_refused(handlers: IntakeHandlers) -> None:
    with pytest.raises(ValidationError, match="idempotency_key"):
        await handlers.submit_melding("", MELDING)


async def test_errors_name_the_field_path_of_the_request(handlers: IntakeHandlers) -> None:
    with pytest.raises(ValidationError, match=r"^melding\.melder\.phone: .*advies"):
        await handlers.submit_melding("k", dataclasses.replace(MELDING, melder=Identity(name="X")))
    with pytest.raises(ValidationError, match=r"^advies\.directbetrokkenen: "):
        await handlers.register_vervolgadvies("k", "x", dataclasses.replace(ADVIES,
                                                                           directbetrokkenen=MELDING.directbetrokkenen))


async def test_a_vervolgadvies_follows_an_existing_advies(handlers: IntakeHandlers, store: ContactStore) -> None:
    with pytest.raises(ContactNotFound, match="previous_advies_id"):
        await handlers.register_vervolgadvies("v0", "no-such-advies", ADVIES)
    melding = await handlers.submit_melding("m", MELDING)
    with pytest.raises(ContactNotFound):  # a melding is not an advies
        await handlers.register_vervolgadvies("v1", melding.contact_id, ADVIES)
    first = await handlers.register_advies("a", ADVIES)
    follow_up = await handlers.register_vervolgadvies("v2", first.contact_id, ADVIES)
    assert follow_up.kind == ContactKind.VERVOLGADVIES and follow_up.linked_contact_id == first.contact_id
    registered = [e for e in events(store) if isinstance(e, events_pb2.AdviesRegistered)]
    assert [e.previous_advies_id for e in registered] == ["", first.contact_id]


async def test_an_anonymous_bystanders_advies_carries_no_asker(handlers: IntakeHandlers, store: ContactStore) -> None:
    neighbour = Asker(MelderType.BYSTANDER, Identity(name="Buurvrouw", phone="06"), consent_to_keep_details=False)
    record = await handlers.register_advies("b", dataclasses.replace(ADVIES, asker=neighbour))
    [event] = events(store)
    assert isinstance(event, events_pb2.AdviesRegistered) and not event.HasField("asker")
    _, payload = await handlers.get_contact(record.contact_id)
    assert b"Buurvrouw" not in payload


async def test_conversion_links_the_melding_and_happens_once(handlers: IntakeHandlers, store: ContactStore) -> None:
    criteria = ConversionCriteria("ernstig", "kan het niet aan")
    with pytest.raises(ContactNotFound, match="advies_id"):
        await handlers.convert_advies("c0", "unknown", criteria, MELDING)
    advies = await handlers.register_advies("a", ADVIES)
    melding = await handlers.convert_advies("c1", advies.contact_id, criteria, MELDING)
    assert melding.kind == ContactKind.CONVERTED_MELDING and melding.linked_contact_id == advies.contact_id
    received, converted = events(store)[1:]
    assert isinstance(received, events_pb2.MeldingReceived) and isinstance(converted, events_pb2.AdviesConverted)
    assert received.origin == events_pb2.MELDING_ORIGIN_CONVERTED_ADVIES
    assert received.linked_advies_id == advies.contact_id
    assert (converted.advies_id, converted.melding_id) == (advies.contact_id, melding.contact_id)
    with pytest.raises(ConflictError):
        await handlers.convert_advies("c2", advies.contact_id, criteria, MELDING)
    assert await handlers.convert_advies("c1", advies.contact_id, criteria, MELDING) == melding  # a retry


async def test_ambtshalve_melding_informs_the_professional(handlers: IntakeHandlers, store: ContactStore) -> None:
    mdo = MultidisciplinaryConsultation(dt.date(2026, 11, 20), ("a", "b", "c"))
    record = await handlers.submit_ambtshalve_melding("amb", AmbtshalveConditions(True, True, True, True), mdo, MELDING)
    assert record.professional_to_be_informed and record.kind == ContactKind.AMBTSHALVE_MELDING
    received, made = events(store)
    assert received.origin == events_pb2.MELDING_ORIGIN_AMBTSHALVE  # type: ignore[attr-defined]
    assert isinstance(made, events_pb2.AmbtshalveMeldingMade)
    assert made.mdo_participant_count == 3 and made.professional_to_be_informed and made.mdo_date.day == 20


async def test_the_stored_request_is_encrypted_at_rest(handlers: IntakeHandlers, store: ContactStore,
                                                       keys: KeyStore) -> None:
    record = await handlers.submit_melding("k", MELDING)
    raw = store.path.read_bytes() + pathlib.Path(f"{store.path}-wal").read_bytes()
    assert b"111222333" not in raw and b"Petra" not in raw
    stored, payload = await handlers.get_contact(record.contact_id)
    assert stored == record and b"Petra de Vries" in payload
    with pytest.raises(ContactNotFound):
        await handlers.get_contact("not-ours")


async def test_the_event_fields_decrypt_for_the_region(handlers: IntakeHandlers, store: ContactStore,
                                                       keys: KeyStore) -> None:
    await handlers.submit_melding("k", MELDING)
    [pending] = store.unsent()
    event = decode(pending.entry.value, pending.entry.envelope.headers()).message
    content = event.content
    plain = keys.tenant_cipher(TENANT).decrypt(Ciphertext(content.key_id, content.nonce, content.ciphertext),
                                               event_id=pending.entry.envelope.id, field="content")
    assert json.loads(plain)["narrative"] == "blauwe plekken"


async def test_a_failed_transaction_leaves_neither_contact_nor_events(handlers: IntakeHandlers,
                                                                      store: ContactStore) -> None:
    record = await handlers.submit_melding("k", MELDING)
    duplicate = dataclasses.replace(record, contact_id="other")  # same reference violates UNIQUE
    with pytest.raises(Exception, match="UNIQUE"):
        store.save(duplicate, [], "k2", "SubmitMelding")
    assert store.get("other") is None and store.find_by_idempotency_key("k2") is None
    assert store.unsent_count() == 1
    store.mark_sent([row.seq for row in store.unsent()])
    assert store.unsent() == []


async def test_a_contact_whose_event_would_exceed_the_record_budget_is_refused_and_nothing_stored(
        handlers: IntakeHandlers, store: ContactStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every field within its limit and 50 people with the longest names take about 200 KB, under the budget
    # (256 KB): the field limits bound it. The budget is the last line; here it is lowered to reach it.
    monkeypatch.setattr(intake_handlers, "MAX_EVENT_BYTES", 150_000)
    person = Directbetrokkene(PersonRole.CHILD, surname="\x02" * 170, first_names="\x03" * 170,
                              date_of_birth=dt.date(2015, 1, 1), postcode="3511AB", house_number="1")
    melder = Identity(name="\x04" * 170, role="\x04" * 170, organisation="\x04" * 170, email="p@example.nl")
    big = dataclasses.replace(MELDING, melder=melder, directbetrokkenen=(person,) * 50, narrative="\x01" * 5400,
                              household_label="\x05" * 170)
    with pytest.raises(ValidationError) as err:
        await handlers.submit_melding("too-big", big)
    assert err.value.field == "request" and "once encoded and encrypted" in err.value.rule
    assert store.unsent_count() == 0 and store.find_by_idempotency_key("too-big") is None
