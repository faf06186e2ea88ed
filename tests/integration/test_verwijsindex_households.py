"""The verwijsindex as a real process fed with BRP household facts by the BRP simulator over
the real broker: family match via a shared parent and via one home address, no match at an
institution address, relocation notices, removal on death, dead-lettered facts, and the
inspector-only logbook and registrant-only roles over real gRPC."""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from devstack.scenario import TopicWatcher, random_bsn
from simulators import brp, publish_feed
from vt.common.v1 import common_pb2
from vt.verwijsindex.v1 import events_pb2
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as svc
from vt.verwijsindex.v1 import verwijsindex_service_pb2_grpc as svc_grpc
from vtkit import topics
from vtkit.channels import client_channel
from vtkit.crypto import seal
from vtkit.envelope import header_map
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vtkit.registrants import example
from vttest import ServiceProcess

# Registrant organisations, each with its own certificate (libs/vtkit/registrants.toml).
SCHOOL, GP, POLICE = example("education").id, example("health_care").id, example("police_and_justice").id
INSPECTOR = ("national", "inspector")


def start(kafka: str, keys: KeyStore, data: pathlib.Path, log: pathlib.Path) -> ServiceProcess:
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka, "VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(data)}
    return ServiceProcess("verwijsindex", "verwijsindex", env=env, log_path=log).start()


async def healthy(process: ServiceProcess) -> None:
    try:
        await wait_healthy(process.address, 60, keys=KeyStore(process.env["VT_KEY_DIR"]))
    except TimeoutError:
        raise AssertionError("verwijsindex not healthy:\n" + process.log_text()[-3000:]) from None


def request(bsn: str, name: str) -> svc.RegisterSignalRequest:
    return svc.RegisterSignalRequest(
        youth_bsn=bsn, youth_date_of_birth=common_pb2.Date(year=2012, month=4, day=1),
        registrant=svc.Registrant(name=name, organisation=f"{name} org", phone="0301234567",
                                  sector=svc.SECTOR_EDUCATION))


@pytest.fixture(scope="module")
async def service(kafka: str, keys: KeyStore, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServiceProcess]:
    root = tmp_path_factory.mktemp("verwijsindex-households")
    process = start(kafka, keys, root / "data", root / "verwijsindex.log")
    try:
        await healthy(process)
        yield process
    finally:
        process.stop()


async def call(address: str, method: str, message: object, keys: KeyStore, tenant: str, role: str = "region") -> object:
    async with client_channel(address, keys, tenant, role) as channel:
        stub = svc_grpc.VerwijsindexServiceStub(channel)
        return await getattr(stub, method)(message, timeout=10)


async def register(service: ServiceProcess, keys: KeyStore, tenant: str, bsn: str, name: str) -> str:
    reply = await call(service.address, "RegisterSignal", request(bsn, name), keys, tenant, "registrant")
    return str(reply.signal_id)  # type: ignore[attr-defined]


def pseudonym(keys: KeyStore, bsn: str) -> str:
    return keys.pseudonymizer().pseudonym(b"bsn:" + bsn.encode())


async def facts_applied(service: ServiceProcess, keys: KeyStore, bsn: str, count: int = 1, timeout: float = 30) -> None:
    """Wait until the service logged `count` household facts for the youth (asked as the inspector)."""
    query = svc.ListLogbookRequest(youth_pseudonym=pseudonym(keys, bsn))
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        reply = await call(service.address, "ListLogbook", query, keys, *INSPECTOR)
        if sum(e.action == "household_facts" for e in reply.entries) >= count:  # type: ignore[attr-defined]
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"household facts not applied:\n{service.log_text()[-3000:]}")
        await asyncio.sleep(0.2)


def family_for(youths: set[str]) -> object:
    return lambda _t, m: (isinstance(m, events_pb2.SignalMatch) and m.kind == events_pb2.MATCH_KIND_FAMILY
                          and m.youth_pseudonym in youths)


async def test_a_shared_parent_makes_a_family_match_with_the_regievoerder(service: ServiceProcess, kafka: str,
                                                                          keys: KeyStore) -> None:
    a, b, mother = random_bsn(), random_bsn(), random_bsn()
    async with TopicWatcher(kafka, [topics.NATIONAL_VERWIJSINDEX]) as watcher:
        await register(service, keys, SCHOOL, a, "Anna")
        await brp.publish_facts(kafka, [brp.build_facts(keys, a, "3511 AB 12", "GM0344", parents=[mother]),
                                        brp.build_facts(keys, b, "9711 CD 3", "GM0344", parents=[mother])], keys)
        await register(service, keys, GP, b, "Bert")
        event = await watcher.wait_for(family_for({pseudonym(keys, a), pseudonym(keys, b)}), 30, "family match")
    match = event.message
    assert match.different_youths
    assert sorted(r.registrant_id for r in match.registrants) == sorted([SCHOOL, GP])
    assert (match.municipality_code, match.regievoerder_id) == ("GM0344", "regievoerder:GM0344")


async def test_one_home_address_makes_a_family_match(service: ServiceProcess, kafka: str, keys: KeyStore) -> None:
    a, b = random_bsn(), random_bsn()
    async with TopicWatcher(kafka, [topics.NATIONAL_VERWIJSINDEX]) as watcher:
        await brp.publish_facts(kafka, [brp.build_facts(keys, a, "1234 AB 5", "GM0363", parents=[random_bsn()]),
                                        brp.build_facts(keys, b, "1234ab 5", "GM0363", parents=[random_bsn()])], keys)
        await register(service, keys, SCHOOL, a, "Anna")
        await register(service, keys, GP, b, "Bert")
        event = await watcher.wait_for(family_for({pseudonym(keys, a), pseudonym(keys, b)}), 30, "family match")
    assert event.message.different_youths and event.message.regievoerder_id == "regievoerder:GM0363"


async def test_an_institution_address_makes_no_family_match(service: ServiceProcess, kafka: str, keys: KeyStore) -> None:
    a, b = random_bsn(), random_bsn()
    youths = {pseudonym(keys, a), pseudonym(keys, b)}
    async with TopicWatcher(kafka, [topics.NATIONAL_VERWIJSINDEX]) as watcher:
        await brp.publish_facts(kafka, [brp.build_facts(keys, y, "1000 AA 1", "GM0344", institution=True) for y in (a, b)], keys)
        await register(service, keys, SCHOOL, a, "Anna")
        await register(service, keys, GP, b, "Bert")
        await facts_applied(service, keys, a)
        await facts_applied(service, keys, b)
        # A client match on each youth comes after any family match would have (same key, same partition).
        await register(service, keys, POLICE, a, "Cor")
        await register(service, keys, POLICE, b, "Cor")
        for youth in youths:
            await watcher.wait_for(lambda _t, m, y=youth: isinstance(m, events_pb2.SignalMatch)  # type: ignore[misc]
                                   and m.kind == events_pb2.MATCH_KIND_CLIENT and m.youth_pseudonym == y, 30, "client match")
        assert watcher.matching(family_for(youths)) == []  # type: ignore[arg-type]


async def test_a_move_notifies_the_registrants_and_the_new_regievoerder(service: ServiceProcess, kafka: str,
                                                                      keys: KeyStore) -> None:
    a, ref = random_bsn(), str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    async with TopicWatcher(kafka, [topics.NATIONAL_VERWIJSINDEX]) as watcher:
        await brp.publish_facts(kafka, [brp.build_facts(keys, a, "3511 AB 12", "GM0344", person_ref=ref, observed_at=now)], keys)
        await register(service, keys, SCHOOL, a, "Anna")
        await brp.publish_facts(kafka, [brp.build_facts(keys, a, "1011 AB 1", "GM0363", person_ref=ref,
                                                        observed_at=now + dt.timedelta(seconds=1))], keys)
        event = await watcher.wait_for(lambda _t, m: isinstance(m, events_pb2.YouthRelocated)
                                       and m.youth_pseudonym == pseudonym(keys, a), 30, "relocation notice")
    notice = event.message
    assert (notice.from_municipality_code, notice.to_municipality_code) == ("GM0344", "GM0363")
    assert notice.regievoerder_id == "regievoerder:GM0363" and [r.registrant_id for r in notice.registrants] == [SCHOOL]
    raw = [r for r in watcher.records if r.key == notice.youth_pseudonym.encode()]
    assert all(a.encode() not in r.value and b"3511" not in r.value for r in raw)


async def test_death_ends_the_signals(service: ServiceProcess, kafka: str, keys: KeyStore) -> None:
    a = random_bsn()
    signal_id = await register(service, keys, SCHOOL, a, "Anna")
    await brp.publish_facts(kafka, [brp.build_facts(keys, a, "3511 AB 12", "GM0344", date_of_death=dt.date.today())], keys)
    await facts_applied(service, keys, a)
    listed = await call(service.address, "ListMySignals", svc.ListMySignalsRequest(), keys, SCHOOL, "registrant")
    assert signal_id not in {s.signal_id for s in listed.signals}  # type: ignore[attr-defined]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await register(service, keys, GP, a, "Bert")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_facts_the_verwijsindex_cannot_open_are_dead_lettered(service: ServiceProcess, kafka: str,
                                                                    keys: KeyStore) -> None:
    facts = brp.build_facts(keys, random_bsn(), "3511 AB 12", "GM0344")
    sealed = seal(b"bsn:" + random_bsn().encode(), "radar", keys.seal_public("radar"))
    facts.youth.recipient, facts.youth.ephemeral_public_key = sealed.recipient, sealed.ephemeral_public_key
    facts.youth.nonce, facts.youth.ciphertext = sealed.nonce, sealed.ciphertext
    async with TopicWatcher(kafka, [topics.DEAD_LETTERS]) as watcher:
        (event_id,) = await brp.publish_facts(kafka, [facts], keys)
        deadline = asyncio.get_running_loop().time() + 30
        while not any(header_map(r.headers, strict=False).get("ce_id") == event_id for r in watcher.records):
            assert asyncio.get_running_loop().time() < deadline, "facts not dead-lettered"
            await asyncio.sleep(0.2)
    (record,) = [r for r in watcher.records if header_map(r.headers, strict=False).get("ce_id") == event_id]
    assert header_map(record.headers, strict=False)["dl_consumer"] == "vt-verwijsindex-brp"
    assert service.proc is not None and service.proc.poll() is None  # a bad record never stops the service


async def test_facts_the_brp_did_not_sign_are_dead_lettered(service: ServiceProcess, kafka: str,
                                                             keys: KeyStore) -> None:
    """Only the BRP writes household facts (vtkit.signing): unsigned ones are not acted on."""
    unsigned = await publish_feed(kafka, topics.NATIONAL_BRP, "brp", [(f"ref-{random_bsn()}", brp.build_facts(
        keys, random_bsn(), "3511 AB 12", "GM0344"))])
    async with TopicWatcher(kafka, [topics.DEAD_LETTERS]) as watcher:
        deadline = asyncio.get_running_loop().time() + 30
        while not any(header_map(r.headers, strict=False).get("ce_id") == unsigned[0] for r in watcher.records):
            assert asyncio.get_running_loop().time() < deadline, "unsigned facts not dead-lettered"
            await asyncio.sleep(0.2)
    (record,) = [r for r in watcher.records if header_map(r.headers, strict=False).get("ce_id") == unsigned[0]]
    assert "UntrustedRecord: unsigned" in header_map(record.headers, strict=False)["dl_reason"]


async def test_only_the_inspector_reads_the_logbook_and_each_query_is_logged(service: ServiceProcess,
                                                                             keys: KeyStore) -> None:
    signal_id = await register(service, keys, SCHOOL, random_bsn(), "Anna")
    for who in ((SCHOOL, "registrant"), ("utrecht", "region"), ("national", "rvdk"), ("national", "operations"),
                ("national", "notifier")):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(service.address, "ListLogbook", svc.ListLogbookRequest(), keys, *who)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, who
    query = svc.ListLogbookRequest(signal_id=signal_id)
    first = await call(service.address, "ListLogbook", query, keys, *INSPECTOR)
    assert [(e.action, e.actor) for e in first.entries] == [("registered", SCHOOL)]  # type: ignore[attr-defined]
    second = await call(service.address, "ListLogbook", query, keys, *INSPECTOR)
    assert [(e.action, e.actor) for e in second.entries][-1] == ("logbook_query", "national:inspector")  # type: ignore[attr-defined]


async def test_national_service_tokens_may_not_register(service: ServiceProcess, keys: KeyStore) -> None:
    for role in ("rvdk", "operations", "notifier", "inspector"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(service.address, "RegisterSignal", request(random_bsn(), "Anna"), keys, "national", role)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, role
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(service.address, "ListMySignals", svc.ListMySignalsRequest(), keys, "national", role)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, role
