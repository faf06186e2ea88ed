"""Outgoing decisions with content, through the real processes (intake, radar, notifier on the embedded broker) and
the receivers as real gRPC servers (docs/architecture.md "Outgoing notices"):

- a melding decided "RvdK request": the RvdK's receiver gets the request sealed to it and opens the child, the
  reason and the requesting region; the child's municipality (from the BRP simulator's register) gets a notice that
  says which region asked the Raad about which child, without the reason;
- a melding decided "overdracht": the named receiving party gets the hand-over (region, reference, what is handed
  over, who answers for safety, the region's phone);
- an ambtshalve melding: its professional hears of the melding (conditions, MDO, what happens now) and, after the
  decision, of the decision and what it means.

Each body is opened here as its receiver opens it (simulators.professional.open_notice). Neither the reason nor
the child's name is in clear on the assessments topic or in a service log."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from devstack.processes import ServiceProcess
from devstack.scenario import TopicWatcher
from simulators.brp import BrpAddress, BrpRegister
from simulators.letter_gateway import FakeLetterGateway
from simulators.professional import FakeProfessionalEndpoint
from simulators.regional_system import FakeRegionalSystem
from simulators.rvdk import FakeRvdkReceiver, random_bsn
from vt.common.v1 import common_pb2
from vt.intake.v1 import intake_service_pb2 as ipb
from vt.notifier.v1 import receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vt.radar.v1 import radar_service_pb2, radar_service_pb2_grpc
from vtkit import topics
from vtkit.channels import Org, OrgStubs
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vttest import eventually
from vttest.intake import call, intake_process
from vttest.notifier import Notifier
from vttest.radar import radar_process, start_radar

TENANT = "fryslan"
REGION_NAME = "Veilig Thuis Fryslân"
LEEUWARDEN = "GM0080"
REASON = "Ouders weigeren elke hulp; Sietske verzuimt al weken en heeft onverklaarde verwondingen."
RECEIVER = "wijkteam:leeuwarden-oost"


@dataclass
class Suite:
    intake: ServiceProcess
    radar: ServiceProcess
    notifier: Notifier
    rvdk: FakeRvdkReceiver
    professionals: FakeProfessionalEndpoint
    keys: KeyStore
    brp: BrpRegister


def melding(child_bsn: str, first_names: str) -> ipb.Melding:
    """A teacher's melding about a child and her mother (both by BSN)."""
    return ipb.Melding(
        melder_type=common_pb2.MELDER_TYPE_PROFESSIONAL,
        melder=ipb.Professional(name="Petra de Vries", role="leerkracht", organisation="OBS De Klimop",
                                phone="0581123456", email="p.devries@example.nl"),
        disclosure=ipb.Disclosure(), situation=ipb.SITUATION_VT_TAKES_OVER,
        directbetrokkenen=[
            ipb.Directbetrokkene(role=common_pb2.PERSON_ROLE_CHILD, bsn=child_bsn, first_names=first_names,
                                 surname="Hoekstra", date_of_birth=common_pb2.Date(year=2015, month=6, day=1)),
            ipb.Directbetrokkene(role=common_pb2.PERSON_ROLE_VICTIM, bsn=random_bsn(), first_names="Anke",
                                 surname="Hoekstra", date_of_birth=common_pb2.Date(year=1988, month=2, day=3))],
        household_label="gezin", nature=[common_pb2.CONCERN_NATURE_CHILD_ABUSE],
        afwegingskader=ipb.AfwegingskaderAnswers(suspicion=True, acute_or_structural_unsafety=True),
        narrative="Kind komt herhaaldelijk met blauwe plekken op school.")


@pytest.fixture(scope="module")
async def suite(kafka: str, keys: KeyStore, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Suite]:
    """One stack for the module's tests (each uses its own meldingen)."""
    tmp_path = tmp_path_factory.mktemp("outgoing")
    fakes = [FakeRegionalSystem(tenant=TENANT, keys=keys), FakeLetterGateway(keys=keys),
             FakeProfessionalEndpoint(keys=keys), FakeRvdkReceiver(keys=keys)]
    for fake in fakes:
        await fake.start()
    regional, letters, professionals, rvdk = fakes
    register = tmp_path / "brp-register.json"
    register.write_text("{}")
    intake = intake_process(tmp_path, kafka, keys, TENANT, tmp_path / "intake-data")
    radar = radar_process(kafka, keys, tmp_path / "radar-data", tmp_path / "radar.log",
                          app_id=f"vt-radar-{uuid.uuid4().hex[:8]}", RADAR_TABLE_STORE="memory")
    (tmp_path / "radar-data").mkdir()
    (tmp_path / "notifier-data").mkdir()
    notifier = Notifier(kafka, keys, tmp_path / "notifier-data", tmp_path / "logs", {TENANT: regional.address},
                        NOTIFIER_LETTER_GATEWAY=letters.address, NOTIFIER_PROFESSIONAL_ENDPOINT=professionals.address,
                        NOTIFIER_RVDK_ENDPOINT=rvdk.address, NOTIFIER_BRP_REGISTER=str(register))
    try:
        intake.start()
        await start_radar(radar)
        await notifier.start()
        await wait_healthy(intake.address, timeout=60, keys=keys)
        yield Suite(intake, radar, notifier, rvdk, professionals, keys, BrpRegister(register))  # type: ignore[arg-type]
    finally:
        notifier.stop()
        radar.stop()
        intake.stop()
        for fake in fakes:
            await fake.stop()


async def decide(suite: Suite, case_id: str, request: radar_service_pb2.RecordDecisionRequest) -> None:
    async with OrgStubs(suite.radar.address, suite.keys, radar_service_pb2_grpc.RadarServiceStub) as radar:
        request.case_id = case_id
        # NOT_FOUND until radar has read the melding from intake's topic.
        await eventually(lambda: radar(TENANT).RecordDecision(request, timeout=10), timeout=60, truthy=False)


def notices(suite: Suite, recipient: str, subject: str) -> list[receivers_pb2.NotifyRequest]:
    return [n for n in suite.professionals.to(recipient) if n.subject == subject]


async def test_rvdk_request_and_municipality_notice_reach_their_receivers_readable(suite: Suite, kafka: str) -> None:
    child_bsn = random_bsn()
    suite.brp.register(
        child_bsn, BrpAddress("Oosterstraat", "4", "8911AB", "Leeuwarden", LEEUWARDEN))
    reply = await call(suite.intake.address, Org(suite.keys, TENANT), "SubmitMelding",
                       ipb.SubmitMeldingRequest(idempotency_key=str(uuid.uuid4()),
                                                melding=melding(child_bsn, "Sietske")))
    case_id = reply.contact_id
    async with TopicWatcher(kafka, [topics.NATIONAL_ASSESSMENTS]) as watch:
        # Bad input first: an RvdK request without its reason is refused, naming the field and the rule.
        async with OrgStubs(suite.radar.address, suite.keys, radar_service_pb2_grpc.RadarServiceStub) as radar:
            without = radar_service_pb2.RecordDecisionRequest(
                case_id=case_id, judgement=radar_events.SAFETY_JUDGEMENT_ACUTE_UNSAFETY,
                decision=radar_events.DECISION_RVDK_REQUEST, responsible_for_safety="VT Fryslân")
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await radar(TENANT).RecordDecision(without, timeout=10)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert (refused.value.details() or "").startswith("rvdk_reason: required for an RvdK request")
        await decide(suite, case_id, radar_service_pb2.RecordDecisionRequest(
            judgement=radar_events.SAFETY_JUDGEMENT_ACUTE_UNSAFETY, decision=radar_events.DECISION_RVDK_REQUEST,
            responsible_for_safety="VT Fryslân, team Leeuwarden", agreements="Dagelijks contact met school",
            rvdk_reason=common_pb2.RvdkRequestReason(
                ground=common_pb2.RVDK_REQUEST_GROUND_DEVELOPMENT_SERIOUSLY_THREATENED, explanation=REASON)))

        [request] = await eventually(lambda: [r for r in suite.rvdk.requests() if r.case_id == case_id],
                                     "the RvdK request at the RvdK's receiver")
        assert [(c.name, c.bsn) for c in request.children] == [("Sietske Hoekstra", child_bsn)]
        assert request.reason.explanation == REASON
        assert request.reason.ground == common_pb2.RVDK_REQUEST_GROUND_DEVELOPMENT_SERIOUSLY_THREATENED
        assert (request.region.name, request.region.phone) == (REGION_NAME, "0800-2000")
        assert request.reference == reply.reference
        [sealed] = [n for n in suite.rvdk.notices if n.subject == "rvdk_request"]
        assert sealed.recipient_id == "rvdk" and sealed.sealed_body.recipient == "rvdk"
        assert REASON.encode() not in sealed.SerializeToString()

        [notice] = await eventually(lambda: notices(suite, f"municipality:{LEEUWARDEN}", "municipality_notice"),
                                    "the municipality notice")
        told = suite.professionals.opened(notice)
        assert isinstance(told, receivers_pb2.MunicipalityNotice)
        assert [c.name for c in told.children] == ["Sietske Hoekstra"] and told.municipality_code == LEEUWARDEN
        assert told.text.startswith(f"{REGION_NAME} heeft op ") and "Sietske Hoekstra, wonend in uw gemeente" in told.text
        for secret in (REASON, "verzuimt", "Anke", "Petra de Vries", "Dagelijks contact"):
            assert secret not in str(told), secret

        # On Kafka the reason and the names travel encrypted only.
        await watch.wait_for(lambda t, m: isinstance(m, radar_events.AssessmentCompleted) and m.case_id == case_id,
                             30, "the decision on the topic")
        for record in watch.records:
            assert b"verzuimt" not in (record.value or b"") and b"Sietske" not in (record.value or b"")
    assert suite.notifier.proc is not None
    for log in (suite.notifier.proc.log_text(), suite.radar.log_text(), suite.intake.log_text()):
        assert "Sietske" not in log and "verzuimt" not in log and child_bsn not in log


async def test_overdracht_hands_over_to_the_named_receiving_party(suite: Suite) -> None:
    reply = await call(suite.intake.address, Org(suite.keys, TENANT), "SubmitMelding",
                       ipb.SubmitMeldingRequest(idempotency_key=str(uuid.uuid4()),
                                                melding=melding(random_bsn(), "Jelle")))
    async with OrgStubs(suite.radar.address, suite.keys, radar_service_pb2_grpc.RadarServiceStub) as radar:
        without = radar_service_pb2.RecordDecisionRequest(
            case_id=reply.contact_id, judgement=radar_events.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
            decision=radar_events.DECISION_OVERDRACHT, overdracht_to="Wijkteam Leeuwarden-Oost",
            responsible_for_safety="Wijkteam Leeuwarden-Oost")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await radar(TENANT).RecordDecision(without, timeout=10)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (refused.value.details() or "").startswith("overdracht_receiver_id: required for an overdracht")
    await decide(suite, reply.contact_id, radar_service_pb2.RecordDecisionRequest(
        judgement=radar_events.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY, decision=radar_events.DECISION_OVERDRACHT,
        overdracht_to="Wijkteam Leeuwarden-Oost", overdracht_receiver_id=RECEIVER,
        responsible_for_safety="Wijkteam Leeuwarden-Oost", agreements="Gezinscoach start binnen een week"))
    [notice] = await eventually(lambda: notices(suite, RECEIVER, "overdracht"), "the hand-over at the receiving party")
    handover = suite.professionals.opened(notice)
    assert isinstance(handover, receivers_pb2.HandoverNotice)
    assert (handover.region.name, handover.region.phone) == (REGION_NAME, "0800-2000")
    assert handover.reference == reply.reference and handover.receiver_name == "Wijkteam Leeuwarden-Oost"
    assert handover.responsible_for_safety == "Wijkteam Leeuwarden-Oost"
    assert "draagt de zorg voor de veiligheid van dit huishouden over aan Wijkteam Leeuwarden-Oost" in handover.handed_over
    assert handover.agreements == "Gezinscoach start binnen een week"
    assert sorted(p.name for p in handover.persons) == ["Anke Hoekstra", "Jelle Hoekstra"]
    # Nothing else went to the RvdK or a municipality for this case.
    assert not [r for r in suite.rvdk.requests() if r.case_id == reply.contact_id]


async def test_the_ambtshalve_professional_hears_of_the_melding_and_of_the_decision(suite: Suite) -> None:
    reply = await call(suite.intake.address, Org(suite.keys, TENANT), "SubmitAmbtshalveMelding",
                       ipb.SubmitAmbtshalveMeldingRequest(
                           idempotency_key=str(uuid.uuid4()),
                           conditions=ipb.AmbtshalveConditions(high_acute_risk=True,
                                                               professional_cannot_increase_safety=True,
                                                               no_agreement_on_melding=True, vt_has_personal_data=True),
                           mdo=ipb.MultidisciplinaryConsultation(date=common_pb2.Date(year=2026, month=11, day=20),
                                                                 participants=["gedragswetenschapper", "teamleider"]),
                           melding=melding(random_bsn(), "Femke")))
    professional = f"professional:{TENANT}:{reply.contact_id}"
    [made] = await eventually(lambda: notices(suite, professional, "ambtshalve_melding"), "the ambtshalve notice")
    first = suite.professionals.opened(made)
    assert isinstance(first, receivers_pb2.AmbtshalveNotice)
    assert first.stage == receivers_pb2.AMBTSHALVE_STAGE_MELDING and first.professional_name == "Petra de Vries"
    assert (first.mdo_date.year, first.mdo_date.month, first.mdo_date.day) == (2026, 11, 20)
    assert len(first.conditions) == 4 and first.reference == reply.reference
    assert any("zonder uw instemming" in c for c in first.consequences)

    await decide(suite, reply.contact_id, radar_service_pb2.RecordDecisionRequest(
        judgement=radar_events.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
        decision=radar_events.DECISION_VOORWAARDEN_EN_VERVOLG, responsible_for_safety="VT Fryslân"))
    [then] = await eventually(lambda: notices(suite, professional, "ambtshalve_decision"), "the decision's notice")
    decided = suite.professionals.opened(then)
    assert isinstance(decided, receivers_pb2.AmbtshalveNotice)
    assert decided.stage == receivers_pb2.AMBTSHALVE_STAGE_DECISION
    assert decided.decision == "DECISION_VOORWAARDEN_EN_VERVOLG" and decided.responsible_for_safety == "VT Fryslân"
    assert "afspraken over veiligheid" in decided.decision_text and decided.consequences
