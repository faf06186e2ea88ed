"""Fuzz every RPC of the suite (docs/measurements.md, "Fuzz") against real service processes.

The RPCs are enumerated from the proto descriptors of IntakeService, RadarService, VerwijsindexService
and NotifierService, so a new RPC is fuzzed without touching this file. Each is called, as an identity
allowed to call it, with FUZZ_EXAMPLES messages drawn from its request descriptor (vttest.fuzz)
and as many raw bodies that need not parse. Every answer must be a deliberate one: never INTERNAL,
UNKNOWN or DEADLINE_EXCEEDED (a crash, an unmapped exception, a hang), an INVALID_ARGUMENT names the
field it refuses, and the process is alive and SERVING after every batch.
"""

from __future__ import annotations

import collections
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from devstack.scenario import melding_request, random_bsn
from google.protobuf import text_format
from google.protobuf.descriptor import Descriptor, MethodDescriptor
from vt.common.v1 import common_pb2
from vt.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from vt.intake.v1 import intake_service_pb2 as ipb
from vt.notifier.v1 import notifier_service_pb2
from vt.notifier.v1 import notifier_service_pb2 as npb
from vt.radar.v1 import events_pb2 as radar_events
from vt.radar.v1 import radar_service_pb2
from vt.radar.v1 import radar_service_pb2 as rpb
from vt.verwijsindex.v1 import verwijsindex_service_pb2, verwijsindex_service_pb2_grpc
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as vpb
from vtkit.channels import client_channel
from vtkit.grpcserver import wait_healthy
from vttest.fuzz import examples, messages, mutations, raw_bodies

pytestmark = pytest.mark.fuzz

# The suite's own services; the receivers (regional system, letter gateway, professionals) are what
# notifier calls, not what it serves.
SERVICE_FILES = (intake_service_pb2, radar_service_pb2, verwijsindex_service_pb2, notifier_service_pb2)
# Whom an RPC is called as when a region may not call it.
CALLERS = {"vt.verwijsindex.v1.VerwijsindexService/ListLogbook": ("national", "inspector")}
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED,
         grpc.StatusCode.UNAVAILABLE}
TIMEOUT = 10.0
# Inputs per RPC: small in `make test`, FUZZ_EXAMPLES=1000 in `make fuzz`.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
SUMMARY: dict[str, collections.Counter[str]] = {}


@dataclass(frozen=True)
class Rpc:
    package: str
    path: str  # "/vt.intake.v1.IntakeService/SubmitMelding"
    method: MethodDescriptor

    @property
    def name(self) -> str:
        return self.path.lstrip("/")


def suite_rpcs() -> list[Rpc]:
    return [Rpc(service.file.package, f"/{service.full_name}/{method.name}", method)
            for module in SERVICE_FILES for service in module.DESCRIPTOR.services_by_name.values()
            for method in service.methods]


def field_names(descriptor: Descriptor, depth: int = 6) -> set[str]:
    """Every field name in the request tree: what an INVALID_ARGUMENT's details may point at."""
    names = {descriptor.name.lower()}
    for field in descriptor.fields:
        names |= {field.name.lower(), field.json_name.lower()}
        if field.message_type is not None and depth > 0:
            names |= field_names(field.message_type, depth - 1)
    return names


def names_a_field(details: str, descriptor: Descriptor) -> bool:
    return bool(set(re.findall(r"[a-z0-9_]+", (details or "").lower())) & field_names(descriptor))


def describe(request: Any) -> str:
    text = repr(request) if isinstance(request, bytes) else text_format.MessageToString(request, as_one_line=True)
    return text[:300] + (f"... ({len(text)} chars)" if len(text) > 300 else "")


def finding_kind(kind: str, code: grpc.StatusCode, details: str) -> str:
    """Findings that differ only in numbers are one finding: report it once with a count."""
    return f"{kind} {code.name} {re.sub(r'-?[0-9]+', 'N', details)[:160]!r}"


def advies(key: str) -> ipb.RegisterAdviesRequest:
    return ipb.RegisterAdviesRequest(
        idempotency_key=key, asker=ipb.Asker(type=common_pb2.MELDER_TYPE_PROFESSIONAL, identity=ipb.Professional(
            name="Huisarts Bakker", organisation="Praktijk Oost", phone="0581")),
        question="Zorgen over een moeder en haar kinderen", outcome=ipb.ADVIES_OUTCOME_ADVICE_AND_SUPPORT)


def signal(name: str) -> vpb.RegisterSignalRequest:
    return vpb.RegisterSignalRequest(
        youth_bsn=random_bsn(), youth_date_of_birth=common_pb2.Date(year=2012, month=4, day=1),
        registrant=vpb.Registrant(name=name, organisation=f"{name} org", phone="0301234567",
                                  email=f"{name.lower()}@example.nl", sector=vpb.SECTOR_EDUCATION))


@pytest.fixture(scope="module")
async def seeds(stack: Any) -> dict[str, Any]:
    """A valid request per RPC, naming objects that exist: their mutants get past the first validation
    and reach the handlers, stores and publishing behind it. An RPC without a seed is fuzzed from
    scratch only."""
    intake, vi = stack.processes["vt.intake.v1"], stack.processes["vt.verwijsindex.v1"]
    async with client_channel(intake.address, stack.keys, stack.tenant) as channel:
        stub = intake_service_pb2_grpc.IntakeServiceStub(channel)
        advies_id = (await stub.RegisterAdvies(advies(str(uuid.uuid4())), timeout=TIMEOUT)).contact_id
        melding_id = (await stub.SubmitMelding(melding_request(random_bsn()), timeout=TIMEOUT)).contact_id
        doomed_id = (await stub.SubmitMelding(melding_request(random_bsn()), timeout=TIMEOUT)).contact_id
    async with client_channel(vi.address, stack.keys, stack.tenant) as channel:
        signal_id = (await verwijsindex_service_pb2_grpc.VerwijsindexServiceStub(channel).RegisterSignal(
            signal("Anna"), timeout=TIMEOUT)).signal_id
    melding = melding_request(random_bsn()).melding
    return {
        "vt.intake.v1.IntakeService/RegisterAdvies": advies(str(uuid.uuid4())),
        "vt.intake.v1.IntakeService/RegisterVervolgadvies": ipb.RegisterVervolgadviesRequest(
            idempotency_key=str(uuid.uuid4()), previous_advies_id=advies_id, advies=advies("x")),
        "vt.intake.v1.IntakeService/SubmitMelding": melding_request(random_bsn()),
        "vt.intake.v1.IntakeService/ConvertAdvies": ipb.ConvertAdviesRequest(
            idempotency_key=str(uuid.uuid4()), advies_id=advies_id, melding=melding,
            criteria=ipb.ConversionCriteria(nature_and_severity="ernstig letsel", asker_inability="kan het niet aan")),
        "vt.intake.v1.IntakeService/SubmitAmbtshalveMelding": ipb.SubmitAmbtshalveMeldingRequest(
            idempotency_key=str(uuid.uuid4()), melding=melding,
            conditions=ipb.AmbtshalveConditions(high_acute_risk=True, professional_cannot_increase_safety=True,
                                                no_agreement_on_melding=True, vt_has_personal_data=True),
            mdo=ipb.MultidisciplinaryConsultation(date=common_pb2.Date(year=2026, month=11, day=20),
                                                  participants=["gedragswetenschapper", "teamleider"])),
        "vt.intake.v1.IntakeService/GetContact": ipb.GetContactRequest(contact_id=melding_id, purpose="fuzz"),
        "vt.intake.v1.IntakeService/DestroyDossier": ipb.DestroyDossierRequest(contact_id=doomed_id,
                                                                               request_reference="fuzz"),
        "vt.radar.v1.RadarService/GetAssessment": rpb.GetAssessmentRequest(case_id=melding_id),
        "vt.radar.v1.RadarService/LookupInvolvement": rpb.LookupInvolvementRequest(case_id=melding_id,
                                                                                   person_id="person-0"),
        "vt.radar.v1.RadarService/RecordOnderzoekStarted": rpb.RecordOnderzoekStartedRequest(case_id=melding_id),
        "vt.radar.v1.RadarService/RecordOnderzoekOutcome": rpb.RecordOnderzoekOutcomeRequest(
            case_id=melding_id, judgement=radar_events.SAFETY_JUDGEMENT_SAFE,
            follow_up=radar_events.DECISION_NO_FURTHER_STEPS, responsible_for_safety="VT team"),
        "vt.radar.v1.RadarService/EndMonitoring": rpb.EndMonitoringRequest(case_id=melding_id, reason="fuzz"),
        "vt.radar.v1.RadarService/ExtendMonitoring": rpb.ExtendMonitoringRequest(case_id=melding_id, reason="fuzz"),
        "vt.radar.v1.RadarService/GetNorms": rpb.GetNormsRequest(),
        "vt.radar.v1.RadarService/RecordDecision": rpb.RecordDecisionRequest(
            case_id=melding_id, judgement=radar_events.SAFETY_JUDGEMENT_ACUTE_UNSAFETY,
            decision=radar_events.DECISION_RVDK_REQUEST, responsible_for_safety="VT team", agreements="geen",
            rvdk_reason=common_pb2.RvdkRequestReason(ground=common_pb2.RVDK_REQUEST_GROUND_URGENT, explanation="geen")),
        "vt.verwijsindex.v1.VerwijsindexService/RegisterSignal": signal("Bert"),
        "vt.verwijsindex.v1.VerwijsindexService/WithdrawSignal": vpb.WithdrawSignalRequest(
            signal_id=signal_id, reason=vpb.WITHDRAW_REASON_WRONG),
        "vt.verwijsindex.v1.VerwijsindexService/ListLogbook": vpb.ListLogbookRequest(signal_id=signal_id, limit=10),
        "vt.notifier.v1.NotifierService/ListDeliveries": npb.ListDeliveriesRequest(case_id=melding_id),
        "vt.notifier.v1.NotifierService/PostponeLetter": npb.PostponeLetterRequest(case_id=melding_id,
                                                                                   reason="gesprek eerst", weeks=1),
        "vt.notifier.v1.NotifierService/ListInbox": npb.ListInboxRequest(case_id=melding_id, page_size=10),
        "vt.notifier.v1.NotifierService/AcknowledgeInbox": npb.AcknowledgeInboxRequest(idempotency_keys=[melding_id]),
        "vt.notifier.v1.NotifierService/ConfirmMelderContacted": npb.ConfirmMelderContactedRequest(
            case_id=melding_id, outcome=npb.MELDER_CONTACT_OUTCOME_CONTACTED),
    }


def test_every_suite_rpc_is_enumerated_and_unary() -> None:
    rpcs = suite_rpcs()
    assert {r.package for r in rpcs} == {"vt.intake.v1", "vt.radar.v1", "vt.verwijsindex.v1", "vt.notifier.v1"}
    assert len(rpcs) >= 16
    # The auth interceptor and this fuzz handle unary calls only: a streaming RPC needs both extended.
    assert not [r.name for r in rpcs if r.method.client_streaming or r.method.server_streaming]


@pytest.mark.parametrize("rpc", suite_rpcs(), ids=lambda r: r.name.split(".", 2)[-1])
async def test_fuzz_rpc(rpc: Rpc, stack: Any, seeds: dict[str, Any]) -> None:
    process = stack.processes[rpc.package]
    tenant, role = CALLERS.get(rpc.name, (stack.tenant, "region"))
    request_type = rpc.method.input_type
    typed_inputs = examples(messages(request_type), EXAMPLES)
    if rpc.name in seeds:
        typed_inputs += examples(mutations(seeds[rpc.name]), EXAMPLES)
    raw_inputs = examples(raw_bodies(), EXAMPLES)
    outcomes = SUMMARY.setdefault(rpc.name, collections.Counter())
    findings: dict[str, tuple[int, str]] = {}

    def found(what: str, request: Any) -> None:
        count, example = findings.get(what, (0, describe(request)))
        findings[what] = (count + 1, example)

    async with client_channel(process.address, stack.keys, tenant, role) as channel:
        typed = channel.unary_unary(rpc.path, request_serializer=lambda m: m.SerializeToString(),
                                    response_deserializer=None)
        raw = channel.unary_unary(rpc.path, request_serializer=None, response_deserializer=None)
        for kind, call, inputs in (("typed", typed, typed_inputs), ("raw", raw, raw_inputs)):
            for request in inputs:
                try:
                    await call(request, timeout=TIMEOUT)
                    outcomes["OK"] += 1
                except grpc.aio.AioRpcError as err:
                    code, details = err.code(), err.details() or ""
                    outcomes[code.name] += 1
                    if code in NEVER:
                        found(finding_kind(kind, code, details), request)
                    elif code == grpc.StatusCode.INVALID_ARGUMENT and not names_a_field(details, request_type):
                        found(finding_kind(kind, code, details) + " names no field", request)
            # The service survived the batch and still answers its health check.
            assert process.proc is not None and process.proc.poll() is None, \
                f"{rpc.package} died during the {kind} batch of {rpc.name}:\n{process.log_text()[-3000:]}"
            await wait_healthy(process.address, timeout=10, keys=stack.keys)

    total = sum(outcomes.values())
    print(f"\nfuzz {rpc.name}: {total} inputs, " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    assert not findings, f"{sum(c for c, _ in findings.values())} of {total} inputs to {rpc.name} got a bad answer:\n" + \
        "\n".join(f"{count} x {what}\n    e.g. {example}" for what, (count, example) in findings.items())


def test_summary() -> None:
    """One line for the issue note: how many inputs every RPC got (runs after the RPC tests)."""
    total = sum(sum(c.values()) for c in SUMMARY.values())
    print(f"\ngRPC fuzz: {total} inputs over {len(SUMMARY)} RPCs ({EXAMPLES} drawn, {EXAMPLES} mutants of a valid "
          f"request where one is seeded, {EXAMPLES} raw bodies each)")
    assert all(sum(outcomes.values()) > 0 for outcomes in SUMMARY.values())
