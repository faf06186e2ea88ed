"""IntakeService on a real gRPC server (mutual TLS, loopback): a refusal that names a field carries a
google.rpc.BadRequest with that field path and rule besides the message text; other refusals carry none
(vtkit.grpcerrors; docs/architecture.md, "Errors")."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import grpc
import pytest
from devstack.scenario import melding_request, random_bsn
from intake.dossier_keys import region_keys
from intake.grpc_api import SERVICE_NAME, IntakeServicer
from intake.handlers import IntakeHandlers
from intake.protection import PersonalDataProtector
from intake.store import ContactStore
from vt.intake.v1 import intake_service_pb2 as pb
from vt.intake.v1 import intake_service_pb2_grpc
from vtkit import auth
from vtkit.audit import AuditLog
from vtkit.channels import client_channel
from vtkit.grpcerrors import field_violations
from vtkit.keystore import KeyStore
from vttest import serving

TENANT = "fryslan"


@pytest.fixture()
async def address(tmp_path: pathlib.Path, keys: KeyStore) -> AsyncIterator[str]:
    store = ContactStore(tmp_path / "intake.sqlite3")
    protector = PersonalDataProtector(region_keys(keys.root, store, TENANT), TENANT)
    servicer = IntakeServicer(IntakeHandlers(TENANT, 9, store, protector),
                              AuditLog(tmp_path / "audit.jsonl", f"intake/{TENANT}"))
    try:
        async with serving(keys, "intake", intake_service_pb2_grpc.add_IntakeServiceServicer_to_server, servicer,
                           SERVICE_NAME) as served:
            yield served
    finally:
        store.close()


async def refusal(address: str, keys: KeyStore, method: str, request: object) -> grpc.aio.AioRpcError:
    async with client_channel(address, keys, TENANT) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await getattr(intake_service_pb2_grpc.IntakeServiceStub(channel), method)(request, timeout=10)
    return err.value


async def test_a_broken_rule_carries_a_bad_request_with_the_field_path_and_keeps_its_message(
        address: str, keys: KeyStore) -> None:
    request = melding_request(random_bsn())
    request.melding.melder.phone = request.melding.melder.email = ""
    err = await refusal(address, keys, "SubmitMelding", request)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    [(field, rule)] = field_violations(err)
    assert field == "melding.melder.phone" and "contact details" in rule
    assert err.details() == f"{field}: {rule}"  # the text clients and the meldformulier read is unchanged

    err = await refusal(address, keys, "DestroyDossier", pb.DestroyDossierRequest(contact_id="x"))
    assert field_violations(err) == [("request_reference", "name the written request this destruction answers")]


async def test_a_refusal_that_names_no_field_of_the_request_carries_no_violation(address: str, keys: KeyStore) -> None:
    err = await refusal(address, keys, "GetContact", pb.GetContactRequest(contact_id="nope", purpose="triage"))
    assert err.code() == grpc.StatusCode.NOT_FOUND and field_violations(err) == []


async def test_a_malformed_user_header_is_named_as_the_offending_field(address: str, keys: KeyStore) -> None:
    async with client_channel(address, keys, TENANT) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await intake_service_pb2_grpc.IntakeServiceStub(channel).GetContact(
                pb.GetContactRequest(contact_id="x", purpose="triage"), metadata=auth.user_metadata("not a name!"),
                timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value) == [(auth.USER_HEADER, "1 to 64 letters, digits or . _ @ -")]
