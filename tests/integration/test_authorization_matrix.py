"""Authorization matrix (docs/security.md): every RPC of IntakeService, RadarService, VerwijsindexService and
NotifierService, enumerated from the proto descriptors, called by tenant A on tenant B's object for every
ordered pair of TENANTS, against real service processes on the session broker.

Each RPC has one entry in EXERCISE saying how it is tried. An RPC in a descriptor without an entry fails
`test_every_rpc_has_an_exercise`, so a new RPC cannot ship without a cross-tenant check. Kinds:
  object  A's call names B's object: NOT_FOUND or PERMISSION_DENIED, and an audit record with outcome
          "denied" in the service's NEN 7513 log (vtkit.audit), which still verifies
  list    a tenant-scoped listing: A's answer never contains B's object
  create  creates an object of the caller only: A's call on B's intake is PERMISSION_DENIED (audited); in the
          verwijsindex a forged registrant id of B still registers for A (B never sees it)
The verwijsindex is tried between VT regions and registrant organisations (two schools, a GP: each its own
certificate, libs/vtkit/registrants.py), in every ordered pair of VI_CALLERS.
"""

from __future__ import annotations

import asyncio
import itertools
import pathlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from devstack.scenario import melding_request, random_bsn
from ops.cli import read_all
from vt.common.v1 import common_pb2
from vt.intake.v1 import intake_service_pb2 as ipb
from vt.intake.v1 import intake_service_pb2_grpc
from vt.notifier.v1 import notifier_service_pb2 as npb
from vt.notifier.v1 import notifier_service_pb2_grpc
from vt.radar.v1 import events_pb2 as radar_events
from vt.radar.v1 import radar_peer_service_pb2 as ppb
from vt.radar.v1 import radar_peer_service_pb2_grpc, radar_service_pb2_grpc
from vt.radar.v1 import radar_service_pb2 as rpb
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as vpb
from vt.verwijsindex.v1 import verwijsindex_service_pb2_grpc
from vtkit import audit, topics
from vtkit.channels import OrgStubs
from vtkit.envelope import envelope_for, new_event_id
from vtkit.grpcserver import wait_healthy
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vtkit.registrants import example
from vttest import ServiceProcess, eventually
from vttest.intake import intake_process
from vttest.notifier import Notifier, assessment_due, publish_due
from vttest.radar import melding_received, publish_melding, radar_process, start_radar

TENANTS = ("utrecht", "fryslan", "zeeland")
PAIRS = list(itertools.permutations(TENANTS, 2))  # 6 ordered pairs (A, B)
DENIED = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED)

SERVICES = {
    "vt.intake.v1.IntakeService": (ipb, intake_service_pb2_grpc.IntakeServiceStub),
    "vt.radar.v1.RadarService": (rpb, radar_service_pb2_grpc.RadarServiceStub),
    "vt.radar.v1.RadarPeerService": (ppb, radar_peer_service_pb2_grpc.RadarPeerServiceStub),
    "vt.verwijsindex.v1.VerwijsindexService": (vpb, verwijsindex_service_pb2_grpc.VerwijsindexServiceStub),
    "vt.notifier.v1.NotifierService": (npb, notifier_service_pb2_grpc.NotifierServiceStub),
}

# How each RPC is exercised: (kind, what it names of B). Keep in step with the proto files.
EXERCISE: dict[str, tuple[str, str]] = {
    "vt.intake.v1.IntakeService/RegisterAdvies": ("create", "B's intake"),
    "vt.intake.v1.IntakeService/RegisterVervolgadvies": ("object", "B's advies"),
    "vt.intake.v1.IntakeService/SubmitMelding": ("create", "B's intake"),
    "vt.intake.v1.IntakeService/ConvertAdvies": ("object", "B's advies"),
    "vt.intake.v1.IntakeService/SubmitAmbtshalveMelding": ("create", "B's intake"),
    "vt.intake.v1.IntakeService/GetContact": ("object", "B's melding"),
    "vt.intake.v1.IntakeService/DestroyDossier": ("object", "B's melding (its dossier)"),
    "vt.radar.v1.RadarService/LookupInvolvement": ("object", "B's case and person"),
    "vt.radar.v1.RadarService/GetAssessment": ("object", "B's case"),
    "vt.radar.v1.RadarService/RecordDecision": ("object", "B's case"),
    "vt.radar.v1.RadarService/ListOverdue": ("list", "B's cases"),
    "vt.radar.v1.RadarService/RecordOnderzoekStarted": ("object", "B's case"),
    "vt.radar.v1.RadarService/RecordOnderzoekOutcome": ("object", "B's case"),
    "vt.radar.v1.RadarService/EndMonitoring": ("object", "B's case"),
    "vt.radar.v1.RadarService/ExtendMonitoring": ("object", "B's case"),
    "vt.radar.v1.RadarService/GetNorms": ("list", "B's figures (the region is the caller's certificate)"),
    "vt.radar.v1.RadarPeerService/ListOwnOverdue": ("object", "B's overdue cases (radar's own workers only)"),
    "vt.radar.v1.RadarPeerService/GetOwnNorms": ("object", "B's figures (radar's own workers only)"),
    "vt.verwijsindex.v1.VerwijsindexService/RegisterSignal": ("create", "B as forged registrant"),
    "vt.verwijsindex.v1.VerwijsindexService/WithdrawSignal": ("object", "B's signal"),
    "vt.verwijsindex.v1.VerwijsindexService/ListMySignals": ("list", "B's signals"),
    "vt.verwijsindex.v1.VerwijsindexService/ListLogbook": ("object", "B's signal (inspector only)"),
    "vt.notifier.v1.NotifierService/ListDeliveries": ("list", "B's case"),
    "vt.notifier.v1.NotifierService/PostponeLetter": ("object", "B's case"),
    "vt.notifier.v1.NotifierService/ListInbox": ("list", "B's inbox items"),
    "vt.notifier.v1.NotifierService/AcknowledgeInbox": ("object", "B's inbox item"),
    "vt.notifier.v1.NotifierService/ConfirmMelderContacted": ("object", "B's case"),
}


def descriptor_rpcs() -> list[str]:
    return [f"{name}/{method.name}" for name, (module, _) in SERVICES.items()
            for method in module.DESCRIPTOR.services_by_name[name.rsplit(".", 1)[1]].methods]


def test_every_rpc_has_an_exercise() -> None:
    rpcs = descriptor_rpcs()
    unknown = sorted(set(rpcs) - set(EXERCISE))
    assert not unknown, f"RPCs without a cross-tenant check in EXERCISE: {unknown}"
    assert not set(EXERCISE) - set(rpcs), "EXERCISE names RPCs that no longer exist"


async def expect_denied(stubs: OrgStubs[Any], method: str, request: Any, caller: str | tuple[str, str]) -> grpc.StatusCode:
    """`caller` (a region, or a (tenant, role) identity) calls `method` over its own mTLS channel and must be refused."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(stubs(*((caller,) if isinstance(caller, str) else caller)), method)(request, timeout=10)
    assert err.value.code() in DENIED, (method, err.value.code(), err.value.details())
    return err.value.code()


def denials(path: pathlib.Path, keys: KeyStore) -> list[dict[str, Any]]:
    assert audit.verify(path, keys).ok, audit.verify(path, keys)
    return [r for r in audit.read(path) if r["outcome"] == "denied"]


async def assert_forwarded(kafka: str, service: str, denied: set[tuple[str, str, str]], subject_key: str) -> None:
    """The service's forwarder copied these denial records to vt.national.audit.v1 (within 30 s: the forwarder
    runs every 0.5 s, but reading the whole shared audit topic takes longer as the suite goes on)."""
    copies: set[tuple[str, str, str]] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        copies = {(c.tenant, c.what, c.subject.get(subject_key, "")) for c in
                  audit.unpack_copies(r.value for r in await read_all(kafka, topics.NATIONAL_AUDIT)
                                      if r.key == service.encode()) if c.outcome == "denied"}
        if denied <= copies:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{service}: {len(denied - copies)} denial records not on {topics.NATIONAL_AUDIT}")


def advies(key: str) -> ipb.RegisterAdviesRequest:
    return ipb.RegisterAdviesRequest(
        idempotency_key=key, asker=ipb.Asker(type=common_pb2.MELDER_TYPE_PROFESSIONAL, identity=ipb.Professional(
            name="Huisarts Bakker", organisation="Praktijk Oost", phone="0581")),
        question="Zorgen over een moeder en haar kinderen", outcome=ipb.ADVIES_OUTCOME_ADVICE_AND_SUPPORT)


async def test_intake_matrix(kafka: str, keys: KeyStore, tmp_path: pathlib.Path) -> None:
    procs = {t: intake_process(tmp_path, kafka, keys, t, tmp_path / f"data-{t}").start() for t in TENANTS}
    try:
        await asyncio.gather(*(wait_healthy(p.address, timeout=30, keys=keys) for p in procs.values()))
        # stubs[b](a): b's intake as organisation a (one mTLS channel per identity).
        stubs = {t: OrgStubs(p.address, keys, intake_service_pb2_grpc.IntakeServiceStub) for t, p in procs.items()}
        own: dict[str, tuple[str, str]] = {}
        for b in TENANTS:
            a_reply = await stubs[b](b).RegisterAdvies(advies(str(uuid.uuid4())))
            m_reply = await stubs[b](b).SubmitMelding(melding_request(random_bsn()))
            own[b] = (a_reply.contact_id, m_reply.contact_id)

        def requests(b: str) -> dict[str, Any]:
            advies_b, melding_b = own[b]
            melding = melding_request(random_bsn()).melding
            return {
                "RegisterAdvies": advies(str(uuid.uuid4())),
                "RegisterVervolgadvies": ipb.RegisterVervolgadviesRequest(
                    idempotency_key=str(uuid.uuid4()), previous_advies_id=advies_b, advies=advies("x")),
                "SubmitMelding": melding_request(random_bsn()),
                "ConvertAdvies": ipb.ConvertAdviesRequest(idempotency_key=str(uuid.uuid4()), advies_id=advies_b,
                                                          criteria=ipb.ConversionCriteria(
                                                              nature_and_severity="ernstig letsel",
                                                              asker_inability="kan het niet aan"),
                                                          melding=melding),
                "SubmitAmbtshalveMelding": ipb.SubmitAmbtshalveMeldingRequest(
                    idempotency_key=str(uuid.uuid4()), melding=melding,
                    conditions=ipb.AmbtshalveConditions(high_acute_risk=True, professional_cannot_increase_safety=True,
                                                        no_agreement_on_melding=True, vt_has_personal_data=True),
                    mdo=ipb.MultidisciplinaryConsultation(date=common_pb2.Date(year=2026, month=11, day=20),
                                                          participants=["gedragswetenschapper", "teamleider"])),
                "GetContact": ipb.GetContactRequest(contact_id=melding_b, purpose="matrix"),
                "DestroyDossier": ipb.DestroyDossierRequest(contact_id=melding_b, request_reference="matrix"),
            }

        methods = [m.name for m in ipb.DESCRIPTOR.services_by_name["IntakeService"].methods]
        calls = 0
        for a, b in PAIRS:
            token_a = a
            for method in methods:
                # A's credential on B's intake: PERMISSION_DENIED whatever it names.
                assert await expect_denied(stubs[b], method, requests(b)[method], token_a) == \
                    grpc.StatusCode.PERMISSION_DENIED
                calls += 1
            for method in ("GetContact", "ConvertAdvies", "RegisterVervolgadvies", "DestroyDossier"):
                # A on its own intake naming B's object: B's objects do not exist there.
                assert await expect_denied(stubs[a], method, requests(b)[method], token_a) == \
                    grpc.StatusCode.NOT_FOUND
                calls += 1
        for stub in stubs.values():
            await stub.close()

        for b in TENANTS:
            log = denials(tmp_path / f"data-{b}" / f"audit-intake-{b}.jsonl", keys)
            for a in TENANTS:
                if a == b:
                    continue
                refused = [r for r in log if r["who"]["tenant"] == a]
                perm = {r["what"] for r in refused if r["detail"] == "permission_denied"}
                assert perm == {*(m for m in methods if m != "GetContact"), "read contact"}, (a, b, perm)
                assert all(r["action"] == "denied" and r["where"]["peer"] for r in refused)
            # NOT_FOUND on its own intake for each other tenant's objects (4 RPCs x 2 others).
            not_found = [r for r in log if r["who"]["tenant"] == b and r["detail"] == "not_found"]
            assert {(r["what"], tuple(r["subject"].values())[0]) for r in not_found} == {
                (what, own[o][i]) for o in TENANTS if o != b
                for what, i in (("read contact", 1), ("ConvertAdvies", 0), ("RegisterVervolgadvies", 0),
                                ("DestroyDossier", 1))}
        for b in TENANTS:  # each intake's relay copied its denials to vt.national.audit.v1
            await assert_forwarded(kafka, f"intake/{b}", {(a, "read contact", own[b][1]) for a in TENANTS if a != b},
                                   "contact_id")
        print(f"intake: {len(methods)} RPCs x {len(PAIRS)} pairs + 4 x {len(PAIRS)} own-intake calls = {calls}")
    finally:
        for p in procs.values():
            p.stop()


async def test_radar_matrix(kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher) -> None:
    data = tmp_path / "radar-data"
    process = radar_process(kafka, keys, data, tmp_path / "radar.log", app_id=f"vt-radar-{uuid.uuid4().hex[:8]}",
                            RADAR_TABLE_STORE="memory")
    await start_radar(process)
    try:
        cases: dict[str, tuple[str, str]] = {}
        for t in TENANTS:
            event_id = new_event_id()
            msg = melding_received(keys, t, [random_bsn()], event_id=event_id)
            await publish_melding(publisher, msg, event_id)
            cases[t] = (msg.contact_id, msg.persons[0].person_id)
        async with OrgStubs(process.address, keys, radar_service_pb2_grpc.RadarServiceStub) as stub, \
                OrgStubs(process.address, keys, radar_peer_service_pb2_grpc.RadarPeerServiceStub) as peer:
            for t in TENANTS:  # each tenant sees its own case once radar has it
                case_id = cases[t][0]

                async def seen(t: str = t, case_id: str = case_id) -> Any:
                    return await stub(t).GetAssessment(rpb.GetAssessmentRequest(case_id=case_id))
                await eventually(seen, truthy=False)
            calls = 0
            for a, b in PAIRS:
                case_b, person_b = cases[b]
                token_a = a
                for method, request in [
                    ("GetAssessment", rpb.GetAssessmentRequest(case_id=case_b)),
                    ("LookupInvolvement", rpb.LookupInvolvementRequest(case_id=case_b, person_id=person_b)),
                    ("RecordDecision", rpb.RecordDecisionRequest(
                        case_id=case_b, judgement=radar_events.SAFETY_JUDGEMENT_ACUTE_UNSAFETY,
                        decision=radar_events.DECISION_RVDK_REQUEST, responsible_for_safety="VT team",
                        agreements="geen", rvdk_reason=common_pb2.RvdkRequestReason(
                            ground=common_pb2.RVDK_REQUEST_GROUND_URGENT, explanation="geen"))),
                    ("RecordOnderzoekStarted", rpb.RecordOnderzoekStartedRequest(case_id=case_b)),
                    ("RecordOnderzoekOutcome", rpb.RecordOnderzoekOutcomeRequest(
                        case_id=case_b, judgement=radar_events.SAFETY_JUDGEMENT_SAFE,
                        follow_up=radar_events.DECISION_NO_FURTHER_STEPS, responsible_for_safety="VT team")),
                    ("EndMonitoring", rpb.EndMonitoringRequest(case_id=case_b, reason="matrix")),
                    ("ExtendMonitoring", rpb.ExtendMonitoringRequest(case_id=case_b, reason="matrix")),
                ]:
                    await expect_denied(stub, method, request, token_a)
                    calls += 1
                overdue = await stub(a).ListOverdue(rpb.ListOverdueRequest())
                assert case_b not in {i.case_id for i in overdue.overdue}
                await stub(a).GetNorms(rpb.GetNormsRequest())  # the caller's own region's figures
                calls += 2
                # A worker's own part of B's lists: for radar's own workers only.
                today = common_pb2.Date(year=2026, month=12, day=7)
                for method, request in [("ListOwnOverdue", ppb.ListOwnOverdueRequest(tenant_id=b, limit=10)),
                                        ("GetOwnNorms", ppb.GetOwnNormsRequest(tenant_id=b, to=today,
                                                                               **{"from": today}))]:
                    assert await expect_denied(peer, method, request, a) == grpc.StatusCode.PERMISSION_DENIED
                    calls += 1
        log = denials(data / "audit-radar.jsonl", keys)
        got = {(r["who"]["tenant"], r["what"], r["subject"]["case_id"]) for r in log}
        peer_denials = {(r["who"]["tenant"], r["what"], r["subject"]["tenant"]) for r in log if "tenant" in r["subject"]}
        for a, b in PAIRS:
            for what in ("read assessment", "search register", "record decision", "start onderzoek",
                         "record onderzoek outcome", "end monitoring", "extend monitoring"):
                assert (a, what, cases[b][0]) in got, (a, b, what)
            assert {(a, "list overdue", b), (a, "read norms", b)} <= peer_denials, (a, b)
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]
    await assert_forwarded(kafka, "radar", got, "case_id")
    print(f"radar: 11 RPCs x {len(PAIRS)} pairs = {calls}")


@pytest.fixture()
async def verwijsindex(kafka: str, keys: KeyStore, tmp_path: pathlib.Path) -> AsyncIterator[ServiceProcess]:
    # VT_DATA_DIR is tmp_path / "vi": test_verwijsindex_matrix reads its audit log there.
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka, "VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(tmp_path / "vi")}
    process = ServiceProcess("verwijsindex", "verwijsindex", env=env, log_path=tmp_path / "vi.log").start()
    try:
        await wait_healthy(process.address, 60, keys=keys)
        yield process
    finally:
        process.stop()


def signal_request(name: str, registrant_id: str = "") -> vpb.RegisterSignalRequest:
    return vpb.RegisterSignalRequest(
        youth_bsn=random_bsn(), youth_date_of_birth=common_pb2.Date(year=2012, month=4, day=1),
        registrant=vpb.Registrant(registrant_id=registrant_id, name=name, organisation=f"{name} org",
                                  phone="0301234567", email=f"{name.lower()}@example.nl",
                                  sector=vpb.SECTOR_EDUCATION))


# Registrants of the verwijsindex: two regions and three registrant organisations (two of one sector). Their tenants
# (region ids, organisation ids) are disjoint (vtkit.pki.identity_from_pem), so the tenant names the caller below.
VI_CALLERS = [("utrecht", "region"), ("fryslan", "region"), (example("education", 0).id, "registrant"),
              (example("education", 1).id, "registrant"), (example("health_care").id, "registrant")]
VI_PAIRS = list(itertools.permutations(VI_CALLERS, 2))


async def test_verwijsindex_matrix(verwijsindex: ServiceProcess, keys: KeyStore, tmp_path: pathlib.Path,
                                   kafka: str) -> None:
    async with OrgStubs(verwijsindex.address, keys, verwijsindex_service_pb2_grpc.VerwijsindexServiceStub) as stub:

        signals = {who: (await stub(*who).RegisterSignal(signal_request("Anna"))).signal_id for who in VI_CALLERS}
        calls = 0
        for a, b in VI_PAIRS:
            forged = await stub(*a).RegisterSignal(signal_request("Bert", registrant_id=b[0]))
            calls += 1
            withdraw = vpb.WithdrawSignalRequest(signal_id=signals[b], reason=vpb.WITHDRAW_REASON_WRONG)
            await expect_denied(stub, "WithdrawSignal", withdraw, a)
            await expect_denied(stub, "ListLogbook", vpb.ListLogbookRequest(signal_id=signals[b]),
                                a)
            mine_a = {s.signal_id for s in (await stub(*a).ListMySignals(vpb.ListMySignalsRequest())).signals}
            mine_b = {s.signal_id for s in (await stub(*b).ListMySignals(vpb.ListMySignalsRequest())).signals}
            calls += 4
            assert signals[b] not in mine_a and forged.signal_id in mine_a and forged.signal_id not in mine_b
            assert signals[b] in mine_b  # still active: A's withdrawal did nothing
    got = {(r["who"]["tenant"], r["what"], r["subject"]["signal_id"], r["detail"])
           for r in denials(tmp_path / "vi" / "audit-verwijsindex.jsonl", keys)}
    for a, b in VI_PAIRS:
        assert {(a[0], "withdraw signal", signals[b], "not_found"),
                (a[0], "read logbook", signals[b], "permission_denied")} <= got
    await assert_forwarded(kafka, "verwijsindex", {(t, w, s) for t, w, s, _ in got}, "signal_id")
    print(f"verwijsindex: 4 RPCs x {len(VI_PAIRS)} pairs = {calls}")


async def test_notifier_matrix(kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher) -> None:
    # No regional endpoint for the matrix tenants: their callbacks stay pending, which is all this needs.
    notifier = Notifier(kafka, keys, tmp_path / "notifier-data", tmp_path / "logs", {"noord-holland-noord": "127.0.0.1:9"})
    proc = await notifier.start()
    try:
        cases = {t: f"case-{uuid.uuid4()}" for t in TENANTS}
        for t, case_id in cases.items():
            await publish_due(publisher, assessment_due(t, case_id))
            alert = radar_events.MonitoringAlert(tenant_id=t, case_id=case_id, person_id="p-1",
                                                 trigger=radar_events.MONITORING_TRIGGER_RVDK)
            await publisher.publish(topics.NATIONAL_ASSESSMENTS, case_id, alert,
                                    envelope_for(alert, source="radar", tenant=t))
        async with OrgStubs(proc.address, keys, notifier_service_pb2_grpc.NotifierServiceStub) as stub:

            async def rows(t: str, case_id: str) -> list[Any]:
                reply = await stub(t).ListDeliveries(npb.ListDeliveriesRequest(case_id=case_id))
                return list(reply.deliveries)

            async def items(t: str, case_id: str = "") -> list[Any]:
                return list((await stub(t).ListInbox(npb.ListInboxRequest(case_id=case_id))).items)

            for t, case_id in cases.items():
                deadline = asyncio.get_running_loop().time() + 30
                while not await rows(t, case_id) or not await items(t, case_id):
                    assert asyncio.get_running_loop().time() < deadline, f"{t}'s delivery or inbox item never listed"
                    await asyncio.sleep(0.2)
            keys_of = {t: [i.idempotency_key for i in await items(t, case_id)] for t, case_id in cases.items()}
            calls = 0
            for a, b in PAIRS:
                assert await rows(a, cases[b]) == []
                every = await stub(a).ListDeliveries(npb.ListDeliveriesRequest())
                assert cases[b] not in {d.case_id for d in every.deliveries}
                await expect_denied(stub, "PostponeLetter", npb.PostponeLetterRequest(
                    case_id=cases[b], reason="matrix", weeks=1), a)
                assert await items(a, cases[b]) == []
                assert cases[b] not in {i.case_id for i in await items(a)}
                await expect_denied(stub, "AcknowledgeInbox", npb.AcknowledgeInboxRequest(idempotency_keys=keys_of[b]), a)
                await expect_denied(stub, "ConfirmMelderContacted", npb.ConfirmMelderContactedRequest(
                    case_id=cases[b], outcome=npb.MELDER_CONTACT_OUTCOME_CONTACTED), a)
                calls += 7
            for t, case_id in cases.items():  # B's items are still unacknowledged after every other region tried
                assert all(not i.HasField("acknowledged_at") for i in await items(t, case_id))
        records = denials(tmp_path / "notifier-data" / "audit-notifier.jsonl", keys)
        got = {(r["who"]["tenant"], r["what"], r["subject"]["case_id"]) for r in records}
        assert {(a, "postpone letter", cases[b]) for a, b in PAIRS} <= got
        assert {(a, "acknowledge inbox item") for a, _ in PAIRS} <= {(t, w) for t, w, _ in got}
        assert {(a, "confirm melder contacted", cases[b]) for a, b in PAIRS} <= got
        await assert_forwarded(kafka, "notifier", got, "case_id")
        print(f"notifier: 5 RPCs x {len(PAIRS)} pairs = {calls}")
    finally:
        notifier.stop()

