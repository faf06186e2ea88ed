"""NEN 7513 completeness (docs/security.md, "Audit (NEN 7513)"): each kind of access to personal data that had no record
before now writes one, through the real service process: the meldformulier's create (intake over HTTP), the
notifier's deliveries to receivers (export), the verwijsindex's accepted register/list/logbook/withdraw
(create/search/read/delete) and radar's read/search/update. Every record found has all fields of docs/domain.md
section 7 (vtkit.audit.missing_fields), the file's chain verifies, no BSN or name is in it, and the same record (by
hash) is on vt.national.audit.v1."""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
from devstack.scenario import random_bsn
from ops.cli import read_all
from simulators.regional_system import FakeRegionalSystem
from vt.common.v1 import common_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vt.radar.v1 import radar_service_pb2 as rpb
from vt.radar.v1 import radar_service_pb2_grpc
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as vpb
from vt.verwijsindex.v1 import verwijsindex_service_pb2_grpc
from vtkit import audit, topics
from vtkit.channels import client_channel
from vtkit.envelope import new_event_id
from vtkit.grpcserver import wait_healthy
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import ServiceProcess, eventually
from vttest.intake import http_address, intake_process
from vttest.notifier import Notifier, assessment_due, publish_due
from vttest.radar import melding_received, publish_melding, radar_process, start_radar

Record = dict[str, Any]


async def audited(path: pathlib.Path, keys: KeyStore, match: Callable[[Record], bool], what: str,
                  timeout: float = 20.0) -> Record:
    """The first record of the service's audit file that `match`es; it must carry every docs/domain.md section 7 field."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in audit.read(path) if match(r)]
        if found:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"no audit record for {what} in {path.name}: {audit.read(path)[-5:]}")
        await asyncio.sleep(0.2)
    record = found[0]
    assert audit.missing_fields(record) == [], (what, audit.missing_fields(record), record)
    verdict = audit.verify(path, keys)
    assert verdict.ok, verdict
    return record


async def on_audit_topic(kafka: str, records: list[Record], timeout: float = 20.0) -> None:
    """The service's forwarder copied these exact records (same hash) to vt.national.audit.v1."""
    wanted = {r["hash"] for r in records}
    deadline = time.monotonic() + timeout
    while True:
        copies = audit.unpack_copies(r.value for r in await read_all(kafka, topics.NATIONAL_AUDIT))
        missing = wanted - {c.hash for c in copies}
        if not missing:
            by_hash = {c.hash: c for c in copies}
            for record in records:  # the topic copy carries the same fields
                copy = by_hash[record["hash"]]
                assert (copy.action, copy.user, copy.on_behalf_of, copy.purpose, copy.peer, copy.outcome) == (
                    record["action"], record["who"]["user"], record["who"]["on_behalf_of"], record["purpose"],
                    record["where"]["peer"], record["outcome"])
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(missing)} of {len(wanted)} audit records not on {topics.NATIONAL_AUDIT}")
        await asyncio.sleep(0.5)


# -- (1) the online meldformulier ------------------------------------------------------------------------------

async def test_meldformulier_create_is_audited_like_the_grpc_path(kafka: str, keys: KeyStore, tmp_path: pathlib.Path,
                                                                 data_dir: pathlib.Path, publisher: Publisher) -> None:
    # `publisher`: the topics exist (intake itself does not create them).
    tenant, bsn, name = "utrecht", random_bsn(), f"Melder{uuid.uuid4().hex[:6]} Jansen"
    process = intake_process(tmp_path, kafka, keys, tenant, data_dir).start()
    try:
        await wait_healthy(process.address, 20, keys)
        base = f"http://{http_address(process)}"
        # unsafe=True: keep the CSRF cookie of a server addressed by IP (127.0.0.1), as a browser does.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            page = await (await session.get(f"{base}/melding?als=professional")).text()
            hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
            fields = {"melder_type": "professional", "naam": name, "functie": "leerkracht",
                      "organisatie": "De Regenboog", "telefoon": "0301234567", "email": "melder@example.nl",
                      "situatie": "vt", "p1_rol": "kind", "p1_bsn": bsn, "aard": "kindermishandeling",
                      "acuut": "nee", "verhaal": "Blauwe plekken."}
            reply = await session.post(f"{base}/melding", data={**hidden, **fields})
            assert reply.status == 200, (await reply.text())[-800:]
        path = data_dir / f"audit-intake-{tenant}.jsonl"
        record = await audited(path, keys, lambda r: r["what"] == "meldformulier melding", "the form's create")
        assert (record["action"], record["outcome"], record["who"]["tenant"], record["who"]["role"]) == (
            "create", "success", tenant, "melder")
        assert record["subject"]["contact_id"] and record["where"]["peer"].startswith("http:127.0.0.1")
        text = path.read_text()
        assert bsn not in text and name not in text  # the melder's identity stays protected
        await on_audit_topic(kafka, [record])
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]


# -- (2) notifier deliveries are exports --------------------------------------------------------------------------

async def test_notifier_delivery_is_audited_as_export(publisher: Publisher, fake: FakeRegionalSystem,
                                                      make_notifier: Callable[..., Notifier], kafka: str,
                                                      keys: KeyStore, data_dir: pathlib.Path) -> None:
    tenant, case_id = "zeeland", f"case-{uuid.uuid4()}"
    notifier = make_notifier({tenant: fake.address})
    await notifier.start()
    await publish_due(publisher, assessment_due(tenant, case_id))
    await eventually(lambda: fake.distinct(case_id), "the callback at the regional system")
    record = await audited(data_dir / "audit-notifier.jsonl", keys,
                           lambda r: r["subject"].get("case_id") == case_id and r["action"] == "export",
                           "the callback's export")
    assert (record["what"], record["outcome"], record["who"]["on_behalf_of"], record["who"]["role"]) == (
        "deliver MELDER_CALLBACK", "success", tenant, "notifier")
    assert fake.address in record["where"]["peer"] and record["subject"]["delivery"]
    assert record["purpose"].startswith("terugkoppeling")
    await on_audit_topic(kafka, [record])


# -- (3) verwijsindex accepted operations ------------------------------------------------------------------------

async def test_verwijsindex_register_list_logbook_withdraw_are_audited(kafka: str, keys: KeyStore,
                                                                       tmp_path: pathlib.Path) -> None:
    data, registrant, bsn = tmp_path / "vi", "utrecht", random_bsn()
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka, "VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(data)}
    process = ServiceProcess("verwijsindex", "verwijsindex", env=env, log_path=tmp_path / "vi.log").start()
    try:
        await wait_healthy(process.address, 60, keys)
        async with client_channel(process.address, keys, registrant) as channel, \
                client_channel(process.address, keys, "national", "inspector") as inspector_channel:
            stub = verwijsindex_service_pb2_grpc.VerwijsindexServiceStub(channel)
            inspector = verwijsindex_service_pb2_grpc.VerwijsindexServiceStub(inspector_channel)
            dob = dt.date.today().replace(year=dt.date.today().year - 10)
            registered = await stub.RegisterSignal(vpb.RegisterSignalRequest(
                youth_bsn=bsn, youth_date_of_birth=common_pb2.Date(year=dob.year, month=dob.month, day=dob.day),
                registrant=vpb.Registrant(name="Anna Registrant", organisation="School",
                                                       phone="0301234567", email="anna@example.nl",
                                                       sector=vpb.SECTOR_EDUCATION)), timeout=10)
            signal_id = registered.signal_id
            await stub.ListMySignals(vpb.ListMySignalsRequest(), timeout=10)
            await inspector.ListLogbook(vpb.ListLogbookRequest(signal_id=signal_id), timeout=10)
            await stub.WithdrawSignal(vpb.WithdrawSignalRequest(signal_id=signal_id,
                                                                reason=vpb.WITHDRAW_REASON_RISK_GONE), timeout=10)
        path = data / "audit-verwijsindex.jsonl"
        records = [await audited(path, keys, lambda r, a=action, w=what: r["action"] == a and r["what"] == w
                                 and r["outcome"].startswith("success"), what)
                   for action, what in (("create", "register signal"), ("search", "list own signals"),
                                        ("read", "read logbook"), ("delete", "withdraw signal"))]
        create, search, read, delete = records
        assert create["subject"]["signal_id"] == signal_id and create["subject"]["youth_pseudonym"]
        assert search["subject"] == {"registrant_id": registrant} and "1 signals" in search["outcome"]
        assert read["subject"] == {"signal_id": signal_id} and read["who"]["role"] == "inspector"
        assert delete["subject"] == {"signal_id": signal_id} and delete["who"]["tenant"] == registrant
        text = path.read_text()
        assert bsn not in text and "Anna Registrant" not in text and "anna@example.nl" not in text
        await on_audit_topic(kafka, records)
    finally:
        process.stop()


# -- (4) radar: read, search, update -----------------------------------------------------------------------------

async def test_radar_read_search_update_and_overdue_list_are_audited(kafka: str, keys: KeyStore,
                                                                     data_dir: pathlib.Path, tmp_path: pathlib.Path,
                                                                     publisher: Publisher) -> None:
    tenant, bsn = "gelderland-zuid", random_bsn()
    process = radar_process(kafka, keys, data_dir, tmp_path / "radar.log", app_id=f"vt-radar-{uuid.uuid4().hex[:8]}",
                            RADAR_TABLE_STORE="memory")
    await start_radar(process)
    try:
        event_id = new_event_id()
        melding = melding_received(keys, tenant, [bsn], event_id=event_id)
        await publish_melding(publisher, melding, event_id)
        case_id, person_id = melding.contact_id, melding.persons[0].person_id
        async with client_channel(process.address, keys, tenant) as channel:
            stub = radar_service_pb2_grpc.RadarServiceStub(channel)

            async def assessment() -> rpb.GetAssessmentResponse:
                reply = await stub.GetAssessment(rpb.GetAssessmentRequest(case_id=case_id), timeout=10)
                assert len(reply.inputs) == 1
                return reply

            await eventually(assessment, timeout=60, truthy=False)
            # Retried like the read: a consumer-group rebalance on the shared broker can hide the tables briefly.
            await eventually(lambda: stub.LookupInvolvement(
                rpb.LookupInvolvementRequest(case_id=case_id, person_id=person_id), timeout=10), truthy=False)
            await eventually(lambda: stub.RecordDecision(rpb.RecordDecisionRequest(
                case_id=case_id, judgement=radar_events.SAFETY_JUDGEMENT_ACUTE_UNSAFETY,
                decision=radar_events.DECISION_RVDK_REQUEST, responsible_for_safety="VT team",
                agreements="geen", rvdk_reason=common_pb2.RvdkRequestReason(
                    ground=common_pb2.RVDK_REQUEST_GROUND_URGENT, explanation="geen")), timeout=10), truthy=False)
            await stub.ListOverdue(rpb.ListOverdueRequest(), timeout=10)
        path = data_dir / "audit-radar.jsonl"
        records = [await audited(path, keys, lambda r, a=action, w=what: r["action"] == a and r["what"] == w
                                 and r["outcome"] == "success" and r["who"]["tenant"] == tenant, what)
                   for action, what in (("read", "read assessment"), ("search", "search register"),
                                        ("update", "record decision"), ("search", "list overdue"))]
        assert all(r["subject"]["case_id"] == case_id for r in records[:3])
        assert records[1]["subject"]["person_id"] == person_id  # a reference within the case, not a BSN
        assert bsn not in path.read_text()
        await on_audit_topic(kafka, records)
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]
