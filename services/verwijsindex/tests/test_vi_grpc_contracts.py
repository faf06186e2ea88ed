"""VerwijsindexService on a real gRPC server (mutual TLS, loopback): a refused registration carries a
google.rpc.BadRequest naming the field besides the message text, and ListMySignals and ListLogbook page through
every item exactly once (vtkit.grpcerrors, vtkit.paging; docs/architecture.md, "Errors" and "Paging")."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import grpc
import pytest
from verwijsindex.grpc_api import VerwijsindexServicer
from verwijsindex.handlers import Verwijsindex
from verwijsindex.store import Store
from vt.common.v1 import common_pb2
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as vpb
from vt.verwijsindex.v1 import verwijsindex_service_pb2_grpc as vgrpc
from vtkit.channels import client_channel
from vtkit.grpcerrors import field_violations
from vtkit.keystore import KeyStore
from vttest import serving

TENANT = "utrecht"
SERVICE = vpb.DESCRIPTOR.services_by_name["VerwijsindexService"].full_name
BSNS = ["111222333", "123456782", "100000009", "100000010", "100000022", "100000034", "100000046"]


def signal(bsn: str, year: int = 2012) -> vpb.RegisterSignalRequest:
    return vpb.RegisterSignalRequest(
        youth_bsn=bsn, youth_date_of_birth=common_pb2.Date(year=year, month=4, day=1),
        registrant=vpb.Registrant(name="Anna", organisation="Jeugdteam", phone="0301234567",
                                  email="anna@example.nl", sector=vpb.SECTOR_YOUTH_CARE))


@pytest.fixture()
async def address(tmp_path: pathlib.Path, keys: KeyStore) -> AsyncIterator[str]:
    cipher = keys.field_cipher("verwijsindex")
    app = Verwijsindex(Store(tmp_path / "vi.sqlite3", cipher), keys.pseudonymizer(), cipher)
    async with serving(keys, "verwijsindex", vgrpc.add_VerwijsindexServiceServicer_to_server,
                       VerwijsindexServicer(app), SERVICE) as served:
        yield served


async def test_a_refused_registration_carries_a_bad_request_naming_the_field(address: str, keys: KeyStore) -> None:
    async with client_channel(address, keys, TENANT) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await vgrpc.VerwijsindexServiceStub(channel).RegisterSignal(signal("123456789"), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    [(field, rule)] = field_violations(err.value)
    assert field == "youth_bsn" and err.value.details() == f"youth_bsn: {rule}"  # the text is unchanged


async def test_a_bad_page_token_names_the_field(address: str, keys: KeyStore) -> None:
    async with client_channel(address, keys, TENANT) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await vgrpc.VerwijsindexServiceStub(channel).ListMySignals(vpb.ListMySignalsRequest(page_token="x"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value) == [("page_token", "not a next_page_token of ListMySignals")]


async def test_list_my_signals_and_the_logbook_page_through_every_item_exactly_once(address: str,
                                                                                    keys: KeyStore) -> None:
    async with client_channel(address, keys, TENANT) as channel:
        stub = vgrpc.VerwijsindexServiceStub(channel)
        registered = {(await stub.RegisterSignal(signal(bsn), timeout=10)).signal_id for bsn in BSNS}
        seen, token, pages = [], "", 0
        while True:
            reply = await stub.ListMySignals(vpb.ListMySignalsRequest(page_size=3, page_token=token), timeout=10)
            assert len(reply.signals) <= 3
            seen += [s.signal_id for s in reply.signals]
            pages += 1
            if not (token := reply.next_page_token):
                break
        whole = await stub.ListMySignals(vpb.ListMySignalsRequest(), timeout=10)
    assert len(seen) == len(set(seen)) == 7 and set(seen) == registered and pages == 3
    assert seen == [s.signal_id for s in whole.signals] and not whole.next_page_token

    async with client_channel(address, keys, "national", "inspector") as channel:
        stub = vgrpc.VerwijsindexServiceStub(channel)
        before = (await stub.ListLogbook(vpb.ListLogbookRequest(), timeout=10)).entries  # `limit` as before
        entries, token, pages = [], "", 0
        while True:
            reply = await stub.ListLogbook(vpb.ListLogbookRequest(page_size=2, page_token=token), timeout=10)
            assert len(reply.entries) <= 2
            entries += [(e.at.ToJsonString(), e.action, e.signal_id, e.detail) for e in reply.entries]
            pages += 1
            if not (token := reply.next_page_token):
                break
    # The seven registrations and the first query, then each page's own query as it was recorded: every entry
    # once, in the logbook's order, nothing skipped while the logbook grew.
    old = [(e.at.ToJsonString(), e.action, e.signal_id, e.detail) for e in before]
    assert entries[:len(old)] == old and [a for _, a, _, _ in old].count("registered") == 7
    assert len(entries) == len(set(entries)) and [a for _, a, _, _ in entries[len(old):]] == ["logbook_query"] * (pages)
    assert {s for _, a, s, _ in entries if a == "registered"} == registered
