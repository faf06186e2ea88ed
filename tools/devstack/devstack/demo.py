"""The cross-region scenario of the foundation issue, step by step.

Region B received a melding about a child earlier and the Raad voor de
Kinderbescherming has a signal about the same child; now region A receives a
melding about the same child (same BSN). With radar's address the loop closes: A decides
"voorwaarden en vervolg", B receives another melding about the child, and A's case
system receives the monitoring alert naming A's own person id. The function waits for each step of
the flow and reports it; the demo CLI prints the steps and the e2e test asserts
on what it returns.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulators.rvdk import publish_rvdk_signal
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2 as radar_events
from vt.radar.v1 import radar_service_pb2, radar_service_pb2_grpc
from vt.rvdk.v1 import events_pb2 as rvdk_events
from vtkit import topics
from vtkit.channels import Org
from vtkit.keystore import KeyStore

from devstack.scenario import TopicWatcher, melding_request, random_bsn, submit_melding, wait_for_record


@dataclass
class ScenarioResult:
    bsn: str
    case_a: str
    case_b: str
    rvdk_signal_id: str
    melding_a: Any = None
    match_to_a: Any = None
    match_to_b: Any = None
    input_a: Any = None
    assessment_due_a: Any = None
    callback_a: dict[str, Any] = field(default_factory=dict)
    raw_intake_values: list[bytes] = field(default_factory=list)
    seconds_to_callback: float = 0.0
    # The region inbox of A (when radar's address was given): the first assessment input item, and the monitoring
    # alert after A decided "voorwaarden en vervolg" and B received another melding about the child.
    input_item_a: dict[str, Any] = field(default_factory=dict)
    alert_a: dict[str, Any] = field(default_factory=dict)
    case_b2: str = ""
    steps: list[tuple[str, float]] = field(default_factory=list)


Report = Callable[[str, float], None]


async def cross_region_scenario(bootstrap: str, keys: KeyStore, tenant_a: str, tenant_b: str,
                                intake_a: str, intake_b: str, callback_record_file_a: str,
                                report: Report = lambda step, seconds: None, timeout: float = 90.0,
                                radar: str = "") -> ScenarioResult:
    bsn = random_bsn()
    watched = [topics.intake(tenant_a), topics.intake(tenant_b), topics.register(tenant_a), topics.register(tenant_b),
               topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_RADAR_PERSON]
    async with TopicWatcher(bootstrap, watched) as watch:
        start = time.monotonic()

        def step(text: str) -> None:
            result.steps.append((text, time.monotonic() - start))
            report(text, time.monotonic() - start)

        reply_b = await submit_melding(intake_b, Org(keys, tenant_b), melding_request(bsn, melder_name="Karel Smit"))
        result = ScenarioResult(bsn=bsn, case_a="", case_b=reply_b.contact_id, rvdk_signal_id="")
        step(f"{tenant_b}: earlier melding acknowledged as {reply_b.reference}")
        await watch.wait_for(lambda t, m: isinstance(m, radar_events.AssessmentInput) and m.case_id == reply_b.contact_id,
                             timeout, "assessment input for region B")
        step(f"radar: {tenant_b} registered in the VT Register")

        result.rvdk_signal_id = await publish_rvdk_signal(
            bootstrap, keys, bsn, rvdk_events.RVDK_SIGNAL_KIND_INVESTIGATION_OPEN, "RvdK regio Noord-Holland")
        step("rvdk simulator: signal about the same child published")
        await watch.wait_for(lambda t, m: isinstance(m, radar_events.AssessmentInput) and m.case_id == reply_b.contact_id
                             and any(r.signal_id == result.rvdk_signal_id for r in m.rvdk), timeout, "RvdK info joined")
        step("radar: RvdK information joined to the open assessment in region B")

        submitted = time.monotonic()
        reply_a = await submit_melding(intake_a, Org(keys, tenant_a), melding_request(bsn))
        result.case_a = reply_a.contact_id
        step(f"{tenant_a}: melding about the same child acknowledged as {reply_a.reference}")

        result.melding_a = (await watch.wait_for(
            lambda t, m: isinstance(m, intake_events.MeldingReceived) and m.contact_id == reply_a.contact_id,
            timeout, "MeldingReceived of region A")).message
        result.raw_intake_values = [r.value for r in watch.records
                                    if r.topic in (topics.intake(tenant_a), topics.intake(tenant_b))]
        step(f"intake {tenant_a}: melding stored and published to {topics.intake(tenant_a)}")

        result.match_to_a = await _register_match(watch, tenant_a, reply_a.contact_id, timeout)
        result.match_to_b = await _register_match(watch, tenant_b, reply_b.contact_id, timeout)
        step(f"radar: register match sent to {tenant_a} and {tenant_b}")

        result.input_a = (await watch.wait_for(
            lambda t, m: isinstance(m, radar_events.AssessmentInput) and m.case_id == reply_a.contact_id
            and any(o.tenant_id == tenant_b for o in m.other_organisations)
            and any(r.signal_id == result.rvdk_signal_id for r in m.rvdk), timeout, "assessment input for region A")).message
        result.assessment_due_a = (await watch.wait_for(
            lambda t, m: isinstance(m, radar_events.AssessmentDue) and m.case_id == reply_a.contact_id,
            timeout, "assessment due for region A")).message
        step(f"radar: veiligheidsbeoordeling input for {tenant_a} lists {tenant_b} and the RvdK signal")

        result.callback_a = await wait_for_record(
            callback_record_file_a,
            lambda row: row.get("method") == "DeliverCallback" and row.get("case_id") == reply_a.contact_id, timeout)
        result.seconds_to_callback = time.monotonic() - submitted
        step(f"notifier: callback due {result.callback_a.get('due_date')} delivered to the regional system of {tenant_a}")
        if radar:
            await _monitoring_loop(result, watch, keys, tenant_a, tenant_b, intake_b, radar, callback_record_file_a,
                                   step, timeout)
    return result


async def _monitoring_loop(result: ScenarioResult, watch: TopicWatcher, keys: KeyStore, tenant_a: str, tenant_b: str,
                           intake_b: str, radar: str, record_file_a: str, step: Callable[[str], None],
                           timeout: float) -> None:
    """A decides "voorwaarden en vervolg"; B receives a new melding about the same child: A's worker hears of it."""
    person_a = result.melding_a.persons[0].person_id
    result.input_item_a = await wait_for_record(
        record_file_a, lambda row: row.get("method") == "DeliverInboxItem" and row.get("case_id") == result.case_a
        and row.get("kind") == "ASSESSMENT_INPUT", timeout)
    step(f"notifier: inbox of {tenant_a}: assessment input about person {person_a} "
         f"(new: {', '.join(result.input_item_a.get('changes', [])) or 'first input'})")
    async with Org(keys, tenant_a).channel(radar) as channel:
        await radar_service_pb2_grpc.RadarServiceStub(channel).RecordDecision(radar_service_pb2.RecordDecisionRequest(
            case_id=result.case_a, judgement=radar_events.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
            decision=radar_events.DECISION_VOORWAARDEN_EN_VERVOLG, responsible_for_safety="wijkteam",
            agreements="Ouders werken mee aan hulp van het wijkteam."), timeout=10)
    # The household is monitored once radar has closed the case on the child's history (same partition as what
    # follows, so the next melding is seen after it).
    await watch.wait_for(lambda t, m: isinstance(m, radar_events.PersonSignal) and m.HasField("case_closed")
                         and m.case_closed.case_id == result.case_a, timeout, "the case closed for monitoring")
    step(f"{tenant_a}: decision 'voorwaarden en vervolg' recorded: the household is monitored")
    reply = await submit_melding(intake_b, Org(keys, tenant_b), melding_request(result.bsn, melder_name="Ineke Bos"))
    result.case_b2 = reply.contact_id
    step(f"{tenant_b}: a new melding about the same child acknowledged as {reply.reference}")
    result.alert_a = await wait_for_record(
        record_file_a, lambda row: row.get("method") == "DeliverInboxItem" and row.get("case_id") == result.case_a
        and row.get("kind") == "MONITORING_ALERT", timeout)
    step(f"notifier: monitoring alert delivered to {tenant_a}: person {result.alert_a['person_ids'][0]}, signal from "
         f"{result.alert_a.get('organisation')} ({result.alert_a.get('source')}), acknowledge before "
         f"{result.alert_a.get('acknowledge_before')}")


async def _register_match(watch: TopicWatcher, tenant: str, own_case_id: str, timeout: float) -> Any:
    event = await watch.wait_for(
        lambda t, m: t == topics.register(tenant) and isinstance(m, radar_events.RegisterMatch)
        and m.addressed_to == tenant and m.own_case_id == own_case_id, timeout, f"register match to {tenant}")
    return event.message


def expected_callback_due(received_at: dt.datetime) -> dt.date:
    from vtkit.calendar import due_after_working_days

    return due_after_working_days(received_at, 5)
