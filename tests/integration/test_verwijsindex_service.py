"""The verwijsindex as a real process (`python -m verwijsindex`) on the real broker, called
over real gRPC with mutual TLS and the certificates of registrant organisations (each its own,
with its sector: libs/vtkit/registrants.py) and of VT regions. A broker outage delays events but
never loses an acknowledged registration (outbox on disk before the reply, relay retries)."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import sqlite3
from collections.abc import AsyncIterator

import grpc
import pytest
from devstack.broker import EmbeddedBroker
from devstack.scenario import TopicWatcher, random_bsn
from vt.common.v1 import common_pb2
from vt.verwijsindex.v1 import events_pb2
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as svc
from vt.verwijsindex.v1 import verwijsindex_service_pb2_grpc as svc_grpc
from vtkit import audit, topics
from vtkit.calendar import AMSTERDAM
from vtkit.channels import client_channel
from vtkit.crypto import Ciphertext
from vtkit.envelope import decode
from vtkit.grpcserver import wait_healthy
from vtkit.kafka import KafkaSettings, ensure_topics
from vtkit.keystore import KeyStore
from vtkit.registrants import example
from vttest import ServiceProcess, kafka_mode

# Callers: (tenant, role) of a client certificate. Two schools, a GP and a VT region.
SCHOOL = (example("education", 0).id, "registrant")
OTHER_SCHOOL = (example("education", 1).id, "registrant")
GP = (example("health_care").id, "registrant")
REGION = ("utrecht", "region")


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


async def call(address: str, method: str, message: object, who: tuple[str, str], keys: KeyStore) -> object:
    async with client_channel(address, keys, *who) as channel:
        stub = svc_grpc.VerwijsindexServiceStub(channel)
        return await getattr(stub, method)(message, timeout=10)


def contacts(match: events_pb2.SignalMatch, event_id: str, keys: KeyStore) -> dict[str, svc.Registrant]:
    cipher = keys.field_cipher("verwijsindex")
    return {r.registrant_id: svc.Registrant.FromString(cipher.decrypt(
        Ciphertext(r.contact.key_id, r.contact.nonce, r.contact.ciphertext), event_id=event_id,
        field=f"registrant_contact/{r.registrant_id}")) for r in match.registrants}


async def test_two_organisations_of_different_sectors_on_one_youth_make_a_client_match(
        service: ServiceProcess, kafka: str, keys: KeyStore) -> None:
    bsn = random_bsn()
    youth = keys.pseudonymizer().pseudonym(b"bsn:" + bsn.encode())
    async with TopicWatcher(kafka, [topics.NATIONAL_VERWIJSINDEX]) as watcher:
        # The request's registrant_id is not trusted: the caller's certificate names the registrant. Nor is its
        # sector: the GP claims education here, its certificate says health care.
        first = await call(service.address, "RegisterSignal", request(bsn, "Anna", registrant_id="forged"), SCHOOL, keys)
        await call(service.address, "RegisterSignal", request(bsn, "Bert", sector=svc.SECTOR_EDUCATION), GP, keys)
        event = await watcher.wait_for(
            lambda _t, m: isinstance(m, events_pb2.SignalMatch) and m.youth_pseudonym == youth, 60, "client match")
        registered = watcher.matching(lambda _t, m: isinstance(m, events_pb2.SignalRegistered) and m.youth_pseudonym == youth)
        raw = [r for r in watcher.records if r.key == youth.encode()]
    match = event.message
    assert match.kind == events_pb2.MATCH_KIND_CLIENT
    assert sorted(r.registrant_id for r in match.registrants) == sorted([SCHOOL[0], GP[0]])
    assert {e.message.registrant_id for e in registered} == {SCHOOL[0], GP[0]}
    assert first.signal_id in {e.message.signal_id for e in registered}  # type: ignore[attr-defined]
    opened = contacts(match, event.envelope.id, keys)
    assert {k: (c.name, c.registrant_id, c.sector) for k, c in opened.items()} == {
        SCHOOL[0]: ("Anna", SCHOOL[0], svc.SECTOR_EDUCATION), GP[0]: ("Bert", GP[0], svc.SECTOR_HEALTH_CARE)}
    assert len(raw) >= 3
    for record in raw:
        stored = record.value + record.key + b"".join(k.encode() + v for k, v in record.headers)
        assert bsn.encode() not in stored and b"Anna" not in stored and b"0301234567" not in stored


async def test_two_schools_on_one_youth_match_each_other(service: ServiceProcess, kafka: str, keys: KeyStore) -> None:
    """Before, every registrant organisation shared one certificate, so two schools were one registrant: the second
    registration returned the first's signal and nobody was told. Each has its own now."""
    bsn = random_bsn()
    youth = keys.pseudonymizer().pseudonym(b"bsn:" + bsn.encode())
    async with TopicWatcher(kafka, [topics.NATIONAL_VERWIJSINDEX]) as watcher:
        first = await call(service.address, "RegisterSignal", request(bsn, "Anna"), SCHOOL, keys)
        second = await call(service.address, "RegisterSignal", request(bsn, "Carla"), OTHER_SCHOOL, keys)
        event = await watcher.wait_for(
            lambda _t, m: isinstance(m, events_pb2.SignalMatch) and m.youth_pseudonym == youth, 60, "client match")
    assert first.signal_id != second.signal_id  # type: ignore[attr-defined]
    assert sorted(r.registrant_id for r in event.message.registrants) == sorted([SCHOOL[0], OTHER_SCHOOL[0]])
    mine = await call(service.address, "ListMySignals", svc.ListMySignalsRequest(), SCHOOL, keys)
    theirs = await call(service.address, "ListMySignals", svc.ListMySignalsRequest(), OTHER_SCHOOL, keys)
    assert first.signal_id in {s.signal_id for s in mine.signals}  # type: ignore[attr-defined]
    assert second.signal_id not in {s.signal_id for s in mine.signals}  # type: ignore[attr-defined]
    assert second.signal_id in {s.signal_id for s in theirs.signals}  # type: ignore[attr-defined]


async def test_a_signal_keeps_no_reason_in_its_row_its_logbook_its_event_or_the_access_log(
        service: ServiceProcess, kafka: str, keys: KeyStore) -> None:
    """An older client still sends the deprecated risk_code: it is read nowhere (docs/domain.md section 6)."""
    reason = 987_654_321
    message = request(random_bsn(), "Anna")
    message.risk_code = reason
    async with TopicWatcher(kafka, [topics.NATIONAL_VERWIJSINDEX]) as watcher:
        signal = await call(service.address, "RegisterSignal", message, GP, keys)
        event = await watcher.wait_for(lambda _t, m: isinstance(m, events_pb2.SignalRegistered)
                                       and m.signal_id == signal.signal_id, 60, "signal registered")  # type: ignore[attr-defined]
        (record,) = [r for r in watcher.records if decode(r.value, r.headers).envelope.id == event.envelope.id]
    fields = {f.name for f in event.message.DESCRIPTOR.fields}
    assert not {name for name in fields if "risk" in name or "reason" in name}
    assert str(reason).encode() not in record.value + b"".join(v for _, v in record.headers)
    data = pathlib.Path(service.env["VT_DATA_DIR"])
    db = sqlite3.connect(f"file:{data / 'verwijsindex.sqlite3'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        columns = {r["name"] for r in db.execute("PRAGMA table_info(signals)")}
        (row,) = db.execute("SELECT * FROM signals WHERE signal_id = ?", (signal.signal_id,)).fetchall()  # type: ignore[attr-defined]
        log = db.execute("SELECT action, detail FROM logbook WHERE signal_id = ?",
                         (signal.signal_id,)).fetchall()  # type: ignore[attr-defined]
    finally:
        db.close()
    assert not {c for c in columns if "risk" in c or "reason" in c}, columns
    assert reason not in tuple(row) and str(reason) not in {str(v) for v in tuple(row)}
    assert [(r["action"], r["detail"]) for r in log] == [("registered", "sector=health_care")]
    assert str(reason) not in (data / "audit-verwijsindex.jsonl").read_text()


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


async def test_an_organisation_cannot_withdraw_or_list_another_organisations_signal(
        service: ServiceProcess, keys: KeyStore) -> None:
    bsn = random_bsn()
    mine = await call(service.address, "RegisterSignal", request(bsn, "Anna"), SCHOOL, keys)
    theirs = await call(service.address, "RegisterSignal", request(bsn, "Carla"), OTHER_SCHOOL, keys)
    regions = await call(service.address, "RegisterSignal", request(bsn, "Dirk"), REGION, keys)
    for who, other in ((SCHOOL, theirs), (SCHOOL, regions), (REGION, theirs), (GP, mine)):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(service.address, "WithdrawSignal",
                       svc.WithdrawSignalRequest(signal_id=other.signal_id,  # type: ignore[attr-defined]
                                                 reason=svc.WITHDRAW_REASON_WRONG), who, keys)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND, who  # the same answer as for an unknown id
    listed = await call(service.address, "ListMySignals", svc.ListMySignalsRequest(), SCHOOL, keys)
    ids = {s.signal_id for s in listed.signals}  # type: ignore[attr-defined]
    assert mine.signal_id in ids and theirs.signal_id not in ids and regions.signal_id not in ids  # type: ignore[attr-defined]
    # Each refusal is in the NEN 7513 access log with the organisation that tried, and the log still verifies.
    path = pathlib.Path(service.env["VT_DATA_DIR"]) / "audit-verwijsindex.jsonl"
    assert audit.verify(path, keys).ok
    denied = {(r["who"]["tenant"], r["who"]["role"], r["subject"]["signal_id"], r["detail"])
              for r in audit.read(path) if r["outcome"] == "denied" and r["what"] == "withdraw signal"}
    assert {(*SCHOOL, theirs.signal_id, "not_found"), (*SCHOOL, regions.signal_id, "not_found"),  # type: ignore[attr-defined]
            (*REGION, theirs.signal_id, "not_found"), (*GP, mine.signal_id, "not_found")} <= denied  # type: ignore[attr-defined]
    # The other school's signal is still active: the refused withdrawal did nothing.
    still = await call(service.address, "ListMySignals", svc.ListMySignalsRequest(), OTHER_SCHOOL, keys)
    assert theirs.signal_id in {s.signal_id for s in still.signals}  # type: ignore[attr-defined]
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
            # Both registrations, each under one event id. Delivery is at-least-once: a row whose first send reached
            # the new broker unacknowledged is sent again under the same id (consumers dedupe on it), as CI saw.
            assert len({event.envelope.id for event in registered}) == 2, registered
    finally:
        code = process.stop()
        broker.stop()
    assert code == 0, process.log_text()[-2000:]
