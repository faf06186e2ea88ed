"""IntakeService over real gRPC against a real intake process: idempotency, tenancy, refusals
with field paths, the advies -> conversion and ambtshalve paths, and the audit log of reads."""

from __future__ import annotations

import json
import pathlib
import uuid

import grpc
import pytest
from devstack.scenario import melding_request, random_bsn
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2
from vt.intake.v1 import intake_service_pb2 as pb
from vtkit import audit as vt_audit
from vtkit import topics
from vtkit.channels import Org
from vtkit.crypto import Ciphertext
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vttest import ServiceProcess
from vttest.intake import Records, call, contact_ids, intake_process, read_topic

TENANT, OTHER = "fryslan", "gelderland-zuid"


@pytest.fixture()
async def intake(tmp_path: pathlib.Path, kafka: str, keys: KeyStore, data_dir: pathlib.Path):  # type: ignore[no-untyped-def]
    process = intake_process(tmp_path, kafka, keys, TENANT, data_dir).start()
    try:
        await wait_healthy(process.address, timeout=20, keys=keys)
        yield process
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]


def advies_request(key: str | None = None) -> pb.RegisterAdviesRequest:
    return pb.RegisterAdviesRequest(
        idempotency_key=key or str(uuid.uuid4()),
        asker=pb.Asker(type=common_pb2.MELDER_TYPE_PROFESSIONAL,
                       identity=pb.Professional(name="Huisarts Bakker", organisation="Praktijk Oost", phone="0581")),
        question="Zorgen over een moeder en haar kinderen", outcome=pb.ADVIES_OUTCOME_ADVICE_AND_SUPPORT)


async def test_a_repeated_idempotency_key_returns_the_same_contact(intake: ServiceProcess, kafka: str,
                                                                   keys: KeyStore) -> None:
    token = Org(keys, TENANT)
    request = melding_request(random_bsn())
    first = await call(intake.address, token, "SubmitMelding", request)
    again = await call(intake.address, token, "SubmitMelding", request)
    assert again == first
    marker = await call(intake.address, token, "SubmitMelding", melding_request(random_bsn()))  # published after both
    records = await read_topic(kafka, topics.intake(TENANT), lambda r: marker.contact_id in contact_ids(r))
    assert contact_ids(records).count(first.contact_id) == 1


def three_persons_request() -> pb.SubmitMeldingRequest:
    """A melding about a child, its mother (by BSN) and a suspect identified by the fallback set."""
    request = melding_request(random_bsn())
    request.melding.directbetrokkenen.add(role=common_pb2.PERSON_ROLE_VICTIM, bsn=random_bsn())
    request.melding.directbetrokkenen.add(role=common_pb2.PERSON_ROLE_SUSPECT, surname="Jansen", first_names="Piet",
                                          date_of_birth=common_pb2.Date(year=1980, month=1, day=2), postcode="3511AB",
                                          house_number="1")
    return request


def melding_received(records: Records, contact_id: str) -> events_pb2.MeldingReceived:
    [event] = [e.message for _, e, _ in records
               if e.message.DESCRIPTOR.name == "MeldingReceived" and e.message.contact_id == contact_id]
    return event


async def test_the_person_ids_of_a_melding_are_answered_published_and_stable(
        intake: ServiceProcess, kafka: str, keys: KeyStore) -> None:
    token = Org(keys, TENANT)
    request = three_persons_request()
    reply = await call(intake.address, token, "SubmitMelding", request)
    ids = list(reply.person_ids)
    assert len(ids) == 3 and len(set(ids)) == 3 and all(ids)

    # The ids the region got name the persons of the published MeldingReceived, in request order.
    records = await read_topic(kafka, topics.intake(TENANT), lambda r: reply.contact_id in contact_ids(r))
    received = melding_received(records, reply.contact_id)
    assert [(p.person_id, p.role) for p in received.persons] == [
        (ids[0], common_pb2.PERSON_ROLE_CHILD), (ids[1], common_pb2.PERSON_ROLE_VICTIM),
        (ids[2], common_pb2.PERSON_ROLE_SUSPECT)]
    contact = await call(intake.address, token, "GetContact", pb.GetContactRequest(contact_id=reply.contact_id))
    assert list(contact.person_ids) == ids
    assert await call(intake.address, token, "SubmitMelding", request) == reply  # a retry

    # ... and after a restart: the ids are stored with the contact, not made again.
    assert intake.stop() == 0, intake.log_text()[-3000:]
    intake.start()
    await wait_healthy(intake.address, timeout=20, keys=keys)
    assert await call(intake.address, token, "SubmitMelding", request) == reply
    contact = await call(intake.address, token, "GetContact", pb.GetContactRequest(contact_id=reply.contact_id))
    assert list(contact.person_ids) == ids


async def test_an_empty_idempotency_key_is_invalid(intake: ServiceProcess, keys: KeyStore) -> None:
    request = melding_request(random_bsn())
    request.idempotency_key = ""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(intake.address, Org(keys, TENANT), "SubmitMelding", request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "idempotency_key" in str(caught.value.details())


async def test_a_melding_without_contact_details_is_refused_with_field_and_reason(intake: ServiceProcess,
                                                                                  keys: KeyStore) -> None:
    request = melding_request(random_bsn())
    request.melding.melder.phone = request.melding.melder.email = ""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(intake.address, Org(keys, TENANT), "SubmitMelding", request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = str(caught.value.details())
    assert details.startswith("melding.melder.phone: ") and "advies" in details, details


async def test_a_narrative_over_its_encoded_size_is_refused_naming_field_and_rule(intake: ServiceProcess,
                                                                                  keys: KeyStore) -> None:
    # 15,000 characters, far below the limit by count, but 6,000 control characters make it 45,000 bytes once
    # encoded: over the narrative's 32 KB (intake.domain.rules), the same limit the meldformulier applies.
    request = melding_request(random_bsn())
    request.melding.narrative = "Zij gilt \x07" * 1000 + "\x00" * 5000
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(intake.address, Org(keys, TENANT), "SubmitMelding", request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = str(caught.value.details())
    assert details.startswith("melding.narrative: is 45,000 bytes once encoded") and "32,768" in details, details


async def test_an_advies_with_household_data_is_refused(intake: ServiceProcess, keys: KeyStore) -> None:
    request = advies_request()
    request.directbetrokkenen.add(role=common_pb2.PERSON_ROLE_CHILD, bsn=random_bsn())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(intake.address, Org(keys, TENANT), "RegisterAdvies", request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert str(caught.value.details()).startswith("directbetrokkenen: ")


async def test_another_regions_caller_is_denied(intake: ServiceProcess, keys: KeyStore, data_dir: pathlib.Path) -> None:
    for method, request in [("SubmitMelding", melding_request(random_bsn())),
                            ("GetContact", pb.GetContactRequest(contact_id="x"))]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(intake.address, Org(keys, OTHER), method, request)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(intake.address, None, "SubmitMelding", melding_request(random_bsn()))  # no client certificate
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE  # the TLS handshake refused it
    # Both refusals are in the access log (NEN 7513: denied accesses too); the unauthenticated call never
    # reached the service.
    denied = [json.loads(line) for line in (data_dir / f"audit-intake-{TENANT}.jsonl").read_text().splitlines()]
    assert [(d["action"], d["what"], d["outcome"], d["detail"], d["who"]["tenant"]) for d in denied] == [
        ("denied", "SubmitMelding", "denied", "permission_denied", OTHER),
        ("denied", "read contact", "denied", "permission_denied", OTHER)]
    assert denied[1]["subject"] == {"contact_id": "x"}


async def test_get_contact_reads_own_contacts_only_and_every_read_is_audited(
        intake: ServiceProcess, tmp_path: pathlib.Path, kafka: str, keys: KeyStore, data_dir: pathlib.Path) -> None:
    token = Org(keys, TENANT)
    reply = await call(intake.address, token, "SubmitMelding", melding_request(random_bsn(), acute=True))
    contact = await call(intake.address, token, "GetContact", pb.GetContactRequest(contact_id=reply.contact_id,
                                                                                   purpose="triage"))
    assert contact.kind == pb.CONTACT_KIND_MELDING and contact.reference == reply.reference and contact.same_day
    assert contact.melding.melder.name == "Petra de Vries"

    # A contact of another region (its own intake, its own store) is NOT_FOUND here, like an unknown id.
    other_dir = data_dir.parent / "other-data"
    other = intake_process(tmp_path, kafka, keys, OTHER, other_dir).start()
    try:
        await wait_healthy(other.address, timeout=20, keys=keys)
        foreign = await call(other.address, Org(keys, OTHER), "SubmitMelding", melding_request(random_bsn()))
    finally:
        other.stop()
    for unknown in (foreign.contact_id, "no-such-id"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(intake.address, token, "GetContact", pb.GetContactRequest(contact_id=unknown))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND

    log = [json.loads(line) for line in (data_dir / f"audit-intake-{TENANT}.jsonl").read_text().splitlines()]
    assert [(a["action"], a["subject"]["contact_id"]) for a in log if a["action"] == "create"] == [
        ("create", reply.contact_id)]
    audit = [a for a in log if a["what"] == "read contact"]
    assert [(a["subject"]["contact_id"], a["outcome"], a.get("detail", "")) for a in audit] == [
        (reply.contact_id, "success", ""), (foreign.contact_id, "denied", "not_found"),
        ("no-such-id", "denied", "not_found")]
    assert [a["action"] for a in audit] == ["read", "denied", "denied"]
    assert audit[0]["who"] == {"tenant": TENANT, "role": "region", "user": f"region@{TENANT}",
                               "on_behalf_of": TENANT} and audit[0]["purpose"] == "triage"
    assert audit[0]["what"] and audit[0]["when"] and audit[0]["where"]["peer"]
    assert vt_audit.verify(data_dir / f"audit-intake-{TENANT}.jsonl", keys).ok


async def test_advies_vervolgadvies_and_conversion_publish_their_events(intake: ServiceProcess, kafka: str,
                                                                        keys: KeyStore) -> None:
    token = Org(keys, TENANT)
    advies = await call(intake.address, token, "RegisterAdvies", advies_request())
    follow_up = await call(intake.address, token, "RegisterVervolgadvies", pb.RegisterVervolgadviesRequest(
        idempotency_key=str(uuid.uuid4()), previous_advies_id=advies.contact_id, advies=advies_request()))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(intake.address, token, "RegisterVervolgadvies", pb.RegisterVervolgadviesRequest(
            idempotency_key=str(uuid.uuid4()), previous_advies_id="unknown", advies=advies_request()))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND

    melding = melding_request(random_bsn()).melding
    criteria = pb.ConversionCriteria(nature_and_severity="ernstig letsel", asker_inability="kan het niet aan")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(intake.address, token, "ConvertAdvies", pb.ConvertAdviesRequest(
            idempotency_key=str(uuid.uuid4()), advies_id=advies.contact_id,
            criteria=pb.ConversionCriteria(nature_and_severity="ernstig"), melding=melding))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert str(caught.value.details()).startswith("criteria.asker_inability: ")
    conversion_key = str(uuid.uuid4())
    converted = await call(intake.address, token, "ConvertAdvies", pb.ConvertAdviesRequest(
        idempotency_key=conversion_key, advies_id=advies.contact_id, criteria=criteria, melding=melding))

    def all_there(records: Records) -> bool:
        return any(e.message.DESCRIPTOR.name == "AdviesConverted" and e.message.melding_id == converted.contact_id
                   for _, e, _ in records)

    records = await read_topic(kafka, topics.intake(TENANT), all_there)
    mine = {advies.contact_id, follow_up.contact_id, converted.contact_id}
    seen = [(k.decode(), e.message.DESCRIPTOR.name) for k, e, _ in records if k.decode() in mine]
    # Order is guaranteed per key (contact id) only: keys spread over partitions.
    assert sorted(seen) == sorted([(advies.contact_id, "AdviesRegistered"), (follow_up.contact_id, "AdviesRegistered"),
                                   (converted.contact_id, "MeldingReceived"), (converted.contact_id, "AdviesConverted")])
    assert [name for key, name in seen if key == converted.contact_id] == ["MeldingReceived", "AdviesConverted"]
    received = next(e.message for k, e, _ in records if e.message.DESCRIPTOR.name == "MeldingReceived"
                    and e.message.contact_id == converted.contact_id)
    assert received.origin == events_pb2.MELDING_ORIGIN_CONVERTED_ADVIES
    assert received.linked_advies_id == advies.contact_id
    contact = await call(intake.address, token, "GetContact", pb.GetContactRequest(contact_id=converted.contact_id))
    assert contact.kind == pb.CONTACT_KIND_CONVERTED_MELDING and contact.linked_contact_id == advies.contact_id
    # The person ids of the converted melding: answered, published, read back, and the same on a retry.
    assert len(converted.person_ids) == 1 and converted.person_ids[0]
    assert [p.person_id for p in received.persons] == list(converted.person_ids) == list(contact.person_ids)
    retried = await call(intake.address, token, "ConvertAdvies", pb.ConvertAdviesRequest(
        idempotency_key=conversion_key, advies_id=advies.contact_id, criteria=criteria, melding=melding))
    assert retried == converted
    advies_contact = await call(intake.address, token, "GetContact", pb.GetContactRequest(contact_id=advies.contact_id))
    assert list(advies_contact.person_ids) == []  # an advies names no persons


async def test_an_ambtshalve_melding_needs_all_conditions_and_an_mdo(intake: ServiceProcess, kafka: str,
                                                                    keys: KeyStore) -> None:
    token = Org(keys, TENANT)
    request = pb.SubmitAmbtshalveMeldingRequest(
        idempotency_key=str(uuid.uuid4()),
        conditions=pb.AmbtshalveConditions(high_acute_risk=True, professional_cannot_increase_safety=True,
                                           no_agreement_on_melding=True, vt_has_personal_data=False),
        mdo=pb.MultidisciplinaryConsultation(date=common_pb2.Date(year=2026, month=11, day=20),
                                             participants=["gedragswetenschapper", "teamleider"]),
        melding=three_persons_request().melding)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(intake.address, token, "SubmitAmbtshalveMelding", request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert str(caught.value.details()).startswith("conditions.vt_has_personal_data: ")

    request.conditions.vt_has_personal_data = True
    reply = await call(intake.address, token, "SubmitAmbtshalveMelding", request)
    assert reply.professional_to_be_informed

    def contact_ids_made(records: Records) -> list[str]:
        return [e.message.melding_id for _, e, _ in records if e.message.DESCRIPTOR.name == "AmbtshalveMeldingMade"]

    records = await read_topic(kafka, topics.intake(TENANT), lambda r: reply.contact_id in contact_ids_made(r))
    event = next(e.message for _, e, _ in records if e.message.DESCRIPTOR.name == "AmbtshalveMeldingMade"
                 and e.message.melding_id == reply.contact_id)
    assert event.mdo_participant_count == 2 and event.professional_to_be_informed
    assert reply.contact_id in contact_ids(records)  # its MeldingReceived
    assert len(set(reply.person_ids)) == 3
    assert [p.person_id for p in melding_received(records, reply.contact_id).persons] == list(reply.person_ids)
    contact = await call(intake.address, token, "GetContact", pb.GetContactRequest(contact_id=reply.contact_id))
    assert list(contact.person_ids) == list(reply.person_ids)
    assert await call(intake.address, token, "SubmitAmbtshalveMelding", request) == reply  # a retry


def opened(keys: KeyStore, field: common_pb2.EncryptedField, event_id: str, name: str) -> object:
    """An EncryptedField of an intake event, opened as the owning region does (its key store)."""
    return json.loads(keys.tenant_cipher(TENANT).decrypt(Ciphertext(field.key_id, field.nonce, field.ciphertext),
                                                         event_id=event_id, field=name))


async def test_the_legal_justification_is_kept_returned_and_carried_encrypted(
        intake: ServiceProcess, kafka: str, keys: KeyStore) -> None:
    token = Org(keys, TENANT)
    advies = await call(intake.address, token, "RegisterAdvies", advies_request())
    criteria = pb.ConversionCriteria(nature_and_severity="Brandwonden bij Sanne Visser, herhaaldelijk",
                                     asker_inability="Huisarts Bakker vreest voor haar eigen veiligheid")
    converted = await call(intake.address, token, "ConvertAdvies", pb.ConvertAdviesRequest(
        idempotency_key=str(uuid.uuid4()), advies_id=advies.contact_id, criteria=criteria,
        melding=melding_request(random_bsn()).melding))
    conditions = pb.AmbtshalveConditions(high_acute_risk=True, professional_cannot_increase_safety=True,
                                         no_agreement_on_melding=True, vt_has_personal_data=True)
    mdo = pb.MultidisciplinaryConsultation(date=common_pb2.Date(year=2026, month=11, day=20),
                                           participants=["Gedragswetenschapper Kooistra", "Teamleider Oosterhuis",
                                                         "Wijkagent Dijkstra"])
    ambtshalve = await call(intake.address, token, "SubmitAmbtshalveMelding", pb.SubmitAmbtshalveMeldingRequest(
        idempotency_key=str(uuid.uuid4()), conditions=conditions, mdo=mdo,
        melding=three_persons_request().melding))

    # GetContact returns exactly what the requests gave.
    contact = await call(intake.address, token, "GetContact", pb.GetContactRequest(contact_id=converted.contact_id))
    assert contact.conversion_criteria == criteria
    assert not contact.HasField("ambtshalve_conditions") and not contact.HasField("mdo")
    contact = await call(intake.address, token, "GetContact", pb.GetContactRequest(contact_id=ambtshalve.contact_id))
    assert contact.ambtshalve_conditions == conditions and contact.mdo == mdo
    assert not contact.HasField("conversion_criteria")

    def both_there(records: Records) -> bool:
        names = {(e.message.DESCRIPTOR.name, e.message.melding_id) for _, e, _ in records
                 if hasattr(e.message, "melding_id")}
        return {("AdviesConverted", converted.contact_id), ("AmbtshalveMeldingMade", ambtshalve.contact_id)} <= names

    records = await read_topic(kafka, topics.intake(TENANT), both_there)
    [(event, raw)] = [(e, v) for _, e, v in records if e.message.DESCRIPTOR.name == "AdviesConverted"
                      and e.message.melding_id == converted.contact_id]
    for text in ("Brandwonden", "Sanne Visser", "Huisarts Bakker", "eigen veiligheid"):
        assert text.encode() not in raw, text
    received = melding_received(records, converted.contact_id)
    assert event.message.criteria.key_id == received.melder.key_id  # the melding's dossier key
    assert opened(keys, event.message.criteria, event.envelope.id, "criteria") == {
        "nature_and_severity": criteria.nature_and_severity, "asker_inability": criteria.asker_inability}

    [(event, raw)] = [(e, v) for _, e, v in records if e.message.DESCRIPTOR.name == "AmbtshalveMeldingMade"
                      and e.message.melding_id == ambtshalve.contact_id]
    for name in mdo.participants:
        assert name.encode() not in raw and name.split()[-1].encode() not in raw, name
    made = event.message
    assert made.conditions == conditions  # booleans, in clear
    assert made.mdo_date == mdo.date and made.mdo_participant_count == 3 and made.professional_to_be_informed
    assert made.mdo_participants.key_id == melding_received(records, ambtshalve.contact_id).melder.key_id
    assert opened(keys, made.mdo_participants, event.envelope.id, "mdo_participants") == list(mdo.participants)
