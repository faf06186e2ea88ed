"""intake as a real process: a melding over real gRPC ends up on the region's topic, with its
envelope and without personal data in clear."""

from __future__ import annotations

import json
import pathlib

import pytest
from devstack.scenario import melding_request, random_bsn
from vt.intake.v1 import events_pb2
from vtkit import topics
from vtkit.channels import Org
from vtkit.crypto import WRAPPED_PREFIX, Ciphertext, Sealed, unwrap_opened
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vttest import ServiceProcess
from vttest.intake import Records, call, intake_process, read_topic

TENANT = "groningen"


@pytest.fixture()
async def intake(tmp_path: pathlib.Path, kafka: str, keys: KeyStore, data_dir: pathlib.Path):  # type: ignore[no-untyped-def]
    process = intake_process(tmp_path, kafka, keys, TENANT, data_dir).start()
    try:
        await wait_healthy(process.address, timeout=20, keys=keys)
        yield process
    finally:
        code = process.stop()
        assert code == 0, process.log_text()[-3000:]


async def test_a_melding_is_published_with_its_envelope_and_no_personal_data_in_clear(
        intake: ServiceProcess, kafka: str, keys: KeyStore) -> None:
    bsn = random_bsn()
    request = melding_request(bsn, acute=True, melder_name="Petra de Vries")
    reply = await call(intake.address, Org(keys, TENANT), "SubmitMelding", request)
    assert reply.contact_id and reply.reference and reply.same_day

    def published(records: Records) -> bool:
        return any(e.message.DESCRIPTOR.name == "MeldingReceived" and e.message.contact_id == reply.contact_id
                   for _, e, _ in records)

    records = await read_topic(kafka, topics.intake(TENANT), published)
    [(key, event, raw)] = [(k, e, v) for k, e, v in records if e.message.contact_id == reply.contact_id]
    melding: events_pb2.MeldingReceived = event.message
    assert key == reply.contact_id.encode()
    assert event.envelope.type == "vt.intake.v1.MeldingReceived"
    assert event.envelope.source == f"intake/{TENANT}" and event.envelope.tenant == TENANT and event.envelope.id
    assert melding.tenant_id == TENANT and melding.reference == reply.reference
    assert melding.origin == events_pb2.MELDING_ORIGIN_DIRECT and melding.acute and melding.melder_may_be_named
    assert melding.received_at.seconds > 0

    # Nothing personal in clear, neither in the value nor in the headers.
    for secret in (bsn, "Petra de Vries", "p.devries@example.nl", "0201234567", "blauwe plekken"):
        assert secret.encode() not in raw, secret
    # ... but the owning region can read it, and radar can open the identity.
    cipher = keys.tenant_cipher(TENANT)
    melder = json.loads(cipher.decrypt(Ciphertext(melding.melder.key_id, melding.melder.nonce, melding.melder.ciphertext),
                                       event_id=event.envelope.id, field="melder"))
    assert melder["name"] == "Petra de Vries" and melder["email"] == "p.devries@example.nl"
    [person] = melding.persons
    assert [person.person_id] == list(reply.person_ids)  # the region learns the id radar will name the child by
    sealed = person.sealed_identity
    opened = keys.seal_opener("radar").open(Sealed(sealed.recipient, sealed.ephemeral_public_key, sealed.nonce,
                                                   sealed.ciphertext))
    # ... wrapped under the dossier key, so the region's key store is needed too (shredded with the dossier).
    assert opened.startswith(WRAPPED_PREFIX)
    assert unwrap_opened(opened, cipher, event_id=event.envelope.id,
                         field=f"identity:{person.person_id}") == b"bsn:" + bsn.encode()
    details = json.loads(cipher.decrypt(Ciphertext(person.details.key_id, person.details.nonce, person.details.ciphertext),
                                        event_id=event.envelope.id, field=f"person:{person.person_id}"))
    assert details["bsn"] == bsn
    assert '"msg": "listening"' in intake.log_text()
