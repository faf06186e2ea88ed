"""The verwijsindex as a real process (`python -m verwijsindex`) on the real broker, called
over real gRPC with the tokens of registrant organisations. A broker outage delays events but
never loses an acknowledged registration (outbox on disk before the reply, relay retries)."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
from collections.abc import AsyncIterator

import grpc
import pytest
from vt.common.v1 import common_pb2
from vt.verwijsindex.v1 import events_pb2
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as svc
from vt.verwijsindex.v1 import verwijsindex_service_pb2_grpc as svc_grpc
from vtkit import topics
from vtkit.broker import EmbeddedBroker
from vtkit.calendar import AMSTERDAM
from vtkit.channels import client_channel
from vtkit.crypto import Ciphertext
from vtkit.grpcserver import wait_healthy
from vtkit.kafka import KafkaSettings, ensure_topics
from vtkit.keystore import KeyStore
from vtkit.scenario import TopicWatcher, random_bsn
from vtkit.testing import ServiceProcess, kafka_mode

SCHOOL, GP = "utrecht", "rotterdam-rijnmond"  # region tokens stand in for registrant organisations for now


def start(kafka: str, keys: KeyStore, data: pathlib.Path, log: pathlib.Path) -> ServiceProcess:
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka, "VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(data)}
    return ServiceProcess("verwijsindex", "verwijsindex", env=env, log_path=log).start()


async def healthy(process: ServiceProcess) -> None:
    try:
        await wait_healthy(process.address, 60, keys=KeyStore(process.env["VT_KEY_DIR"]))
    except TimeoutError:
        raise AssertionError("verwijsindex not healthy:\n" + process.log_text()[-3000:]) from None


@pytest.fixture(scope="module")
async def service(kafka: str, keys: KeyStore, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServiceProcess]:
    root = tmp_path_factory.mktemp("verwijsindex")
    process = start(kafka, keys, root / "data", root / "verwijsindex.log")
    try:
        await healthy(process)
        yield process
    finally:
        process.stop()


def today() -> dt.date:
    return dt.datetime.now(AMSTERDAM).date()


def request(bsn: str, name: str, dob: dt.date = dt.date(2012, 4, 1), sector: int = svc.SECTOR_EDUCATION,
            registrant_id: str = "") -> svc.RegisterSignalRequest:
    return svc.RegisterSignalRequest(
        youth_bsn=bsn, youth_date_of_birth=common_pb2.Date(year=dob.year, month=dob.month, day=dob.day),
        registrant=svc.Registrant(registrant_id=registrant_id, name=name, organisation=f"{name} org", phone="0301234567",
                                  email=f"{name.lower()}@example.nl", sector=sector))


async def call(address: str, method: str, message: object, tenant: str, keys: KeyStore) -> object:
    async with client_channel(address, keys, tenant) as channel:
        stub = svc_grpc.VerwijsindexServiceStub(channel)
        return await getattr(stub, method)(message, timeout=10)


async def test_two_registrants_on_one_youth_make_a_client_match(service: ServiceProcess, kafka: str,
                                                              keys: KeyStore) -> None:
    bsn = random_bsn()
    youth = keys.pseudonymizer().pseudonym(b"bsn:" + bsn.encode())
    async with TopicWatcher(kafka, [topics.NATIONAL_VERWIJSINDEX]) as watcher:
        # The request's registrant_id is not trusted: the caller's organisation is the registrant.
        first = await call(service.address, "RegisterSignal", request(bsn, "Anna", registrant_id="forged"), SCHOOL, keys)
        await call(service.address, "RegisterSignal", request(bsn, "Bert", sector=svc.SECTOR_HEALTH_CARE), GP, keys)
        event = await watcher.wait_for(
            lambda _t, m: isinstance(m, events_pb2.SignalMatch) and m.youth_pseudonym == youth, 60, "client match")
        registered = watcher.matching(lambda _t, m: isinstance(m, events_pb2.SignalRegistered) and m.youth_pseudonym == youth)
        raw = [r for r in watcher.records if r.key == youth.encode()]
    match = event.message
    assert match.kind == events_pb2.MATCH_KIND_CLIENT
    assert sorted(r.registrant_id for r in match.registrants) == sorted([SCHOOL, GP])
    assert {e.message.registrant_id for e in registered} == {SCHOOL, GP}
    assert first.signal_id in {e.message.signal_id for e in registered}  # type: ignore[attr-defined]
    cipher = keys.field_cipher("verwijsindex")
    names = {}
    for r in match.registrants:
        plain = cipher.decrypt(Ciphertext(r.contact.key_id, r.contact.nonce, r.contact.ciphertext),
                               event_id=event.envelope.id, field=f"registrant_contact/{r.registrant_id}")
        contact = svc.Registrant.FromString(plain)
        names[r.registrant_id] = (contact.name, contact.registrant_id)
    assert names == {SCHOOL: ("Anna", SCHOOL), GP: ("Bert", GP)}
    assert len(raw) >= 3
    for record in raw:
        stored = record.value + record.key + b"".join(k.encode() + v for k, v in record.headers)
        assert bsn.encode() not in stored and b"Anna" not in stored and b"0301234567" not in stored


async def test_registration_rules_over_grpc(service: ServiceProcess, keys: KeyStore) -> None:
    bsn = random_bsn()
    on_23rd_birthday = today().replace(year=today().year - 23) if (today().month, today().day) != (2, 29) else None
    if on_23rd_birthday is not None:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(service.address, "RegisterSignal", request(bsn, "Anna", dob=on_23rd_birthday), SCHOOL, keys)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "youth_date_of_birth" in (err.value.details() or "") and "under 23" in (err.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(service.address, "RegisterSignal", request("123456789", "Anna"), SCHOOL, keys)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "youth_bsn" in (err.value.details() or "")
    first = await call(service.address, "RegisterSignal", request(bsn, "Anna"), SCHOOL, keys)
    again = await call(service.address, "RegisterSignal", request(bsn, "Anna"), SCHOOL, keys)
    assert first.signal_id == again.signal_id  # type: ignore[attr-defined]
    removal = first.planned_removal  # type: ignore[attr-defined]
    expected = today().replace(year=today().year + 2) if (today().month, today().day) != (2, 29) else None
    assert expected is None or dt.date(removal.year, removal.month, removal.day) == expected
    # No client certificate: the TLS handshake fails, nothing reaches the verwijsindex.
    async with grpc.aio.insecure_channel(service.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await svc_grpc.VerwijsindexServiceStub(channel).ListMySignals(svc.ListMySignalsRequest(), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_withdraw_only_own_signals_and_list_only_own(service: ServiceProcess, keys: KeyStore) -> None:
    bsn = random_bsn()
    mine = await call(service.address, "RegisterSignal", request(bsn, "Anna"), SCHOOL, keys)
    theirs = await call(service.address, "RegisterSignal", request(bsn, "Bert"), GP, keys)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(service.address, "WithdrawSignal",
                   svc.WithdrawSignalRequest(signal_id=theirs.signal_id,  # type: ignore[attr-defined]
                                             reason=svc.WITHDRAW_REASON_WRONG), SCHOOL, keys)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await call(service.address, "ListMySignals", svc.ListMySignalsRequest(), SCHOOL, keys)
    ids = {s.signal_id for s in listed.signals}  # type: ignore[attr-defined]
    assert mine.signal_id in ids and theirs.signal_id not in ids  # type: ignore[attr-defined]
    await call(service.address, "WithdrawSignal",
               svc.WithdrawSignalRequest(signal_id=mine.signal_id,  # type: ignore[attr-defined]
                                         reason=svc.WITHDRAW_REASON_RISK_GONE), SCHOOL, keys)
    listed = await call(service.address, "ListMySignals", svc.ListMySignalsRequest(), SCHOOL, keys)
    assert mine.signal_id not in {s.signal_id for s in listed.signals}  # type: ignore[attr-defined]


async def test_sigterm_exits_cleanly_and_signals_survive_a_restart(kafka: str, keys: KeyStore, data_dir: pathlib.Path,
                                                                  tmp_path: pathlib.Path) -> None:
    process = start(kafka, keys, data_dir, tmp_path / "first.log")
    try:
        await healthy(process)
        registered = await call(process.address, "RegisterSignal", request(random_bsn(), "Anna"), SCHOOL, keys)
    finally:
        code = process.stop()
    assert code == 0, process.log_text()[-2000:]
    lines = [json.loads(line) for line in process.log_text().splitlines() if line.startswith("{")]
    assert any(line["msg"] == "listening" and line["grpc"] == process.address for line in lines)
    again = start(kafka, keys, data_dir, tmp_path / "second.log")
    try:
        await healthy(again)
        listed = await call(again.address, "ListMySignals", svc.ListMySignalsRequest(), SCHOOL, keys)
        assert [s.signal_id for s in listed.signals] == [registered.signal_id]  # type: ignore[attr-defined]
    finally:
        assert again.stop() == 0


async def test_registrations_during_a_broker_outage_are_published_afterwards(
        pytestconfig: pytest.Config, keys: KeyStore, data_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    if kafka_mode(pytestconfig.getoption("--kafka")) != "embedded":
        pytest.skip("stops and restarts its own embedded broker")
    broker = EmbeddedBroker().start()
    process = start(broker.bootstrap_servers, keys, data_dir, tmp_path / "verwijsindex.log")
    try:
        await healthy(process)
        broker.stop()  # the embedded broker keeps everything in memory: it comes back empty
        bsn = random_bsn()
        youth = keys.pseudonymizer().pseudonym(b"bsn:" + bsn.encode())
        await call(process.address, "RegisterSignal", request(bsn, "Anna"), SCHOOL, keys)
        await call(process.address, "RegisterSignal", request(bsn, "Bert", sector=svc.SECTOR_HEALTH_CARE), GP, keys)
        broker.start()
        await ensure_topics(KafkaSettings(bootstrap_servers=broker.bootstrap_servers))
        async with TopicWatcher(broker.bootstrap_servers, [topics.NATIONAL_VERWIJSINDEX]) as watcher:
            match = await watcher.wait_for(
                lambda _t, m: isinstance(m, events_pb2.SignalMatch) and m.youth_pseudonym == youth, 60, "client match")
            assert match.message.kind == events_pb2.MATCH_KIND_CLIENT
            registered = watcher.matching(
                lambda _t, m: isinstance(m, events_pb2.SignalRegistered) and m.youth_pseudonym == youth)
            assert len(registered) == 2
    finally:
        code = process.stop()
        broker.stop()
    assert code == 0, process.log_text()[-2000:]
