"""Crypto-shredding end to end (Wmo 5.3.5): a real intake process, the real broker and the real key
directory. After DestroyDossier, the region's topic history read from offset 0 still holds the dossier's
events, but none of their encrypted fields opens under any key the store still holds (and radar cannot
recover the sealed identities either), while another dossier's fields still open; GetContact answers
NOT_FOUND; the deletion is in the audit log."""

from __future__ import annotations

import pathlib
from typing import Any

import grpc
import pytest
from devstack.scenario import melding_request, random_bsn
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2, intake_service_pb2_grpc
from vt.intake.v1 import intake_service_pb2 as pb
from vtkit import audit as vt_audit
from vtkit import topics
from vtkit.channels import client_channel
from vtkit.crypto import Ciphertext, DecryptionError, Sealed, TenantCipher, unwrap_opened
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vttest import ServiceProcess
from vttest.intake import Records, intake_process, read_topic

TENANT = "drenthe"


@pytest.fixture()
async def intake(tmp_path: pathlib.Path, kafka: str, keys: KeyStore, data_dir: pathlib.Path):  # type: ignore[no-untyped-def]
    process = intake_process(tmp_path, kafka, keys, TENANT, data_dir).start()
    try:
        await wait_healthy(process.address, timeout=20, keys=keys)
        yield process
    finally:
        code = process.stop()
        assert code == 0, process.log_text()[-3000:]


async def rpc(address: str, keys: KeyStore, method: str, request: Any, tenant: str = TENANT,
              role: str = "region") -> Any:
    async with client_channel(address, keys, tenant, role) as channel:
        return await getattr(intake_service_pb2_grpc.IntakeServiceStub(channel), method)(request, timeout=10)


def encrypted_fields(melding: events_pb2.MeldingReceived) -> list[tuple[str, common_pb2.EncryptedField]]:
    return [("melder", melding.melder), ("content", melding.content),
            *((f"person:{p.person_id}", p.details) for p in melding.persons)]


def opens_under_some_key(keys: KeyStore, field: common_pb2.EncryptedField, event_id: str, name: str) -> list[str]:
    """The ids of every key the store still holds under which `field` authenticates (brute force)."""
    opened = []
    for key_id in keys.data_keys.key_ids():
        try:
            key = keys.data_keys.data_key(key_id)
        except KeyError:  # UnknownKey / KeyDestroyed: gone meanwhile (another test's dossier)
            continue
        cipher = TenantCipher(TENANT, key_id, key)
        try:
            cipher.decrypt(Ciphertext(key_id, field.nonce, field.ciphertext), event_id=event_id, field=name)
        except DecryptionError:
            continue
        opened.append(key_id)
    return opened


async def test_a_destroyed_dossier_no_longer_opens_anywhere_in_the_topic_history(
        intake: ServiceProcess, kafka: str, keys: KeyStore, data_dir: pathlib.Path) -> None:
    gone = await rpc(intake.address, keys, "SubmitMelding", melding_request(random_bsn(), melder_name="Greet Gone"))
    kept = await rpc(intake.address, keys, "SubmitMelding", melding_request(random_bsn(), melder_name="Karel Kept"))

    def both_published(records: Records) -> bool:
        return {gone.contact_id, kept.contact_id} <= {e.message.contact_id for _, e, _ in records
                                                      if isinstance(e.message, events_pb2.MeldingReceived)}

    await read_topic(kafka, topics.intake(TENANT), both_published)  # on the topic before the destruction

    # Only the region itself (role region) may destroy; the national operations role may not.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await rpc(intake.address, keys, "DestroyDossier",
                  pb.DestroyDossierRequest(contact_id=gone.contact_id, request_reference="W-1"),
                  tenant="national", role="operations")
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    reply = await rpc(intake.address, keys, "DestroyDossier",
                      pb.DestroyDossierRequest(contact_id=gone.contact_id, request_reference="W-2026-117"))
    assert reply.dossier_id == gone.contact_id and list(reply.contact_ids) == [gone.contact_id]

    def destruction_published(records: Records) -> bool:
        return any(isinstance(e.message, events_pb2.DossierDestroyed) and e.message.dossier_id == gone.contact_id
                   for _, e, _ in records)

    history = await read_topic(kafka, topics.intake(TENANT), destruction_published)
    by_contact = {e.message.contact_id: e for _, e, _ in history if isinstance(e.message, events_pb2.MeldingReceived)}
    shredded, readable = by_contact[gone.contact_id], by_contact[kept.contact_id]
    assert shredded.message.dossier_id == gone.contact_id
    for name, field in encrypted_fields(shredded.message):
        assert field.key_id == f"{TENANT}/dossier/{gone.contact_id}"
        assert opens_under_some_key(keys, field, shredded.envelope.id, name) == [], name
        with pytest.raises(DecryptionError):
            keys.tenant_cipher(TENANT).decrypt(Ciphertext(field.key_id, field.nonce, field.ciphertext),
                                               event_id=shredded.envelope.id, field=name)
    for name, field in encrypted_fields(readable.message):
        assert opens_under_some_key(keys, field, readable.envelope.id, name) == [field.key_id], name
    # Even radar, holder of the seal key, can no longer open the destroyed household's identities.
    radar = keys.seal_opener("radar")
    for received, opens in ((shredded, False), (readable, True)):
        for person in received.message.persons:
            s = person.sealed_identity
            opened = radar.open(Sealed(s.recipient, s.ephemeral_public_key, s.nonce, s.ciphertext))
            args = {"event_id": received.envelope.id, "field": f"identity:{person.person_id}"}
            if opens:
                assert unwrap_opened(opened, keys.tenant_cipher(TENANT), **args).startswith(b"bsn:")
            else:
                with pytest.raises(DecryptionError):
                    unwrap_opened(opened, keys.tenant_cipher(TENANT), **args)
    [destroyed] = [e.message for _, e, _ in history if isinstance(e.message, events_pb2.DossierDestroyed)
                   and e.message.dossier_id == gone.contact_id]
    assert list(destroyed.contact_ids) == [gone.contact_id]
    assert destroyed.reason == events_pb2.DESTRUCTION_REASON_REQUEST

    with pytest.raises(grpc.aio.AioRpcError) as read_gone:
        await rpc(intake.address, keys, "GetContact", pb.GetContactRequest(contact_id=gone.contact_id, purpose="t"))
    assert read_gone.value.code() == grpc.StatusCode.NOT_FOUND and "destroyed" in (read_gone.value.details() or "")
    still = await rpc(intake.address, keys, "GetContact", pb.GetContactRequest(contact_id=kept.contact_id, purpose="t"))
    assert still.melding.melder.name == "Karel Kept"

    [deleted] = [r for r in vt_audit.read(data_dir / f"audit-intake-{TENANT}.jsonl") if r["action"] == "delete"]
    assert deleted["purpose"] == "destruction request Wmo 5.3.5" and deleted["outcome"] == "success"
    assert deleted["subject"]["dossier_id"] == gone.contact_id
    assert deleted["subject"]["request_reference"] == "W-2026-117"


async def test_a_hermelding_about_the_household_joins_its_dossier_and_is_destroyed_with_it(
        intake: ServiceProcess, kafka: str, keys: KeyStore) -> None:
    """One dossier per household in a region: a later melding about the same child (another melder, another
    reporting channel) joins the household's dossier, under its key; destroying it by either melding destroys
    both; a melding after that opens a new dossier."""
    bsn = random_bsn()
    first = await rpc(intake.address, keys, "SubmitMelding", melding_request(bsn, melder_name="Greet Eerst"))
    later = await rpc(intake.address, keys, "SubmitMelding", melding_request(bsn, melder_name="Karel Later"))

    def both(records: Records) -> bool:
        return {first.contact_id, later.contact_id} <= {e.message.contact_id for _, e, _ in records
                                                        if isinstance(e.message, events_pb2.MeldingReceived)}

    history = await read_topic(kafka, topics.intake(TENANT), both)
    by_contact = {e.message.contact_id: e.message for _, e, _ in history
                  if isinstance(e.message, events_pb2.MeldingReceived)}
    assert by_contact[later.contact_id].dossier_id == by_contact[first.contact_id].dossier_id == first.contact_id
    assert by_contact[later.contact_id].melder.key_id == f"{TENANT}/dossier/{first.contact_id}"

    reply = await rpc(intake.address, keys, "DestroyDossier",
                      pb.DestroyDossierRequest(contact_id=later.contact_id, request_reference="W-2026-118"))
    assert reply.dossier_id == first.contact_id
    assert sorted(reply.contact_ids) == sorted([first.contact_id, later.contact_id])
    after = await rpc(intake.address, keys, "SubmitMelding", melding_request(bsn, melder_name="Ina Nieuw"))
    history = await read_topic(kafka, topics.intake(TENANT), lambda records: any(
        isinstance(e.message, events_pb2.MeldingReceived) and e.message.contact_id == after.contact_id
        for _, e, _ in records))
    [new] = [e.message for _, e, _ in history if isinstance(e.message, events_pb2.MeldingReceived)
             and e.message.contact_id == after.contact_id]
    assert new.dossier_id == after.contact_id  # a new dossier: the destroyed one is not reopened
