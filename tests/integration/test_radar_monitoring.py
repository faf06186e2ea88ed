"""Deadlines and the monitor function with the real radar process: an undecided case past its
deadline is reported once; a decision closes the assessment, and with safety conditions later
signals about the household (meldingen, RvdK signals, verwijsindex matches) alert the responsible region."""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import uuid
from collections.abc import AsyncIterator

import pytest
from simulators.rvdk import publish_rvdk_signal, random_bsn
from vt.radar.v1 import events_pb2
from vt.verwijsindex.v1 import events_pb2 as verwijsindex_events
from vtkit import topics
from vtkit.envelope import envelope_for, new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import ServiceProcess
from vttest.radar import Watcher, melding_received, publish_melding, radar_process, start_radar

REGION = "brabant-noordoost"
OTHER = "flevoland"


@pytest.fixture()
async def radar(kafka: str, keys: KeyStore, data_dir: pathlib.Path, tmp_path: pathlib.Path,
                publisher: Publisher) -> AsyncIterator[ServiceProcess]:
    process = radar_process(kafka, keys, data_dir, tmp_path / "radar.log", app_id=f"vt-radar-{uuid.uuid4().hex[:8]}",
                            RADAR_DEADLINE_SCAN_SECONDS="1")
    await start_radar(process)
    try:
        yield process
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]


@pytest.fixture()
async def watcher(kafka: str, publisher: Publisher) -> AsyncIterator[Watcher]:
    w = await Watcher(kafka, topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_RADAR_PERSON).start()
    try:
        yield w
    finally:
        await w.stop()


def of_case(kind: type, case_id: str):
    return lambda s: isinstance(s.message, kind) and s.message.case_id == case_id


def closed(case_id: str):
    # The decision reaches the person through the person topic, in order with later signals
    # about that person: an RvdK signal published after this point is "after the decision".
    return lambda s: (isinstance(s.message, events_pb2.PersonSignal) and s.message.WhichOneof("signal") == "case_closed"
                      and s.message.case_closed.case_id == case_id)


async def complete(publisher: Publisher, tenant: str, case_id: str, decision: int) -> None:
    msg = events_pb2.AssessmentCompleted(tenant_id=tenant, case_id=case_id, decision=decision)  # type: ignore[arg-type]
    msg.decided_at.GetCurrentTime()
    await publisher.publish(topics.NATIONAL_ASSESSMENTS, case_id, msg,
                            envelope_for(msg, source=f"intake/{tenant}", tenant=tenant))


async def test_overdue_assessment_is_reported_once(kafka: str, keys: KeyStore, radar: ServiceProcess,
                                                   publisher: Publisher, watcher: Watcher) -> None:
    event_id = new_event_id()
    late = melding_received(keys, REGION, [random_bsn()], event_id=event_id,
                            received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=20))
    await publish_melding(publisher, late, event_id)
    [overdue] = await watcher.wait_for(of_case(events_pb2.DeadlineOverdue, late.contact_id), what="DeadlineOverdue")
    assert overdue.message.kind == events_pb2.DEADLINE_KIND_ASSESSMENT and overdue.message.tenant_id == REGION
    [due] = watcher.matching(of_case(events_pb2.AssessmentDue, late.contact_id))
    assert overdue.message.due_at == due.message.due_at
    # further scans (every second) report nothing new: at most the same event id again
    await asyncio.sleep(3)
    copies = watcher.matching(of_case(events_pb2.DeadlineOverdue, late.contact_id))
    assert {c.envelope.id for c in copies if c.envelope} == {overdue.envelope.id}


async def test_decision_closes_assessment_and_monitoring_alerts_on_new_signals(
        kafka: str, keys: KeyStore, radar: ServiceProcess, publisher: Publisher, watcher: Watcher) -> None:
    bsn = random_bsn()
    event_id = new_event_id()
    melding = melding_received(keys, REGION, [bsn], event_id=event_id)
    await publish_melding(publisher, melding, event_id)
    await watcher.wait_for(of_case(events_pb2.AssessmentInput, melding.contact_id), what="first input")
    await complete(publisher, REGION, melding.contact_id, events_pb2.DECISION_VOORWAARDEN_EN_VERVOLG)
    [closing] = await watcher.wait_for(closed(melding.contact_id), what="case closed signal")
    assert closing.message.case_closed.decision == events_pb2.DECISION_VOORWAARDEN_EN_VERVOLG
    assert closing.message.case_closed.HasField("monitor_until")

    # New RvdK information after the decision: no new assessment input, but an alert for the monitored case.
    signal_id = await publish_rvdk_signal(kafka, keys, bsn, "CRIMINAL_CASE", "Eindhoven")
    [alert] = await watcher.wait_for(of_case(events_pb2.MonitoringAlert, melding.contact_id), what="RvdK alert")
    assert alert.message.trigger == events_pb2.MONITORING_TRIGGER_RVDK
    assert alert.message.rvdk.signal_id == signal_id and alert.message.person_id == melding.persons[0].person_id
    assert len(watcher.matching(of_case(events_pb2.AssessmentInput, melding.contact_id))) == 1

    # A melding about the same child at another region alerts the monitoring region (tenant + since only).
    other_id = new_event_id()
    other = melding_received(keys, OTHER, [bsn], event_id=other_id)
    await publish_melding(publisher, other, other_id)
    alerts = await watcher.wait_for(of_case(events_pb2.MonitoringAlert, melding.contact_id), count=2,
                                    what="melding alert")
    [by_melding] = [a for a in alerts if a.message.trigger == events_pb2.MONITORING_TRIGGER_MELDING_OTHER_ORGANISATION]
    assert by_melding.message.other.tenant_id == OTHER and list(by_melding.message.other.case_ids) == []
    assert by_melding.headers["ce_tenant"] == REGION

    # A decision without safety conditions stops new information joining, and monitors nothing.
    await watcher.wait_for(of_case(events_pb2.AssessmentInput, other.contact_id), what="input for the other region")
    await complete(publisher, OTHER, other.contact_id, events_pb2.DECISION_OVERDRACHT)
    await watcher.wait_for(closed(other.contact_id), what="second case closed signal")
    await publish_rvdk_signal(kafka, keys, bsn, "INVESTIGATION_OPEN", "Almere")
    await watcher.wait_for(of_case(events_pb2.MonitoringAlert, melding.contact_id), count=3, what="second RvdK alert")
    assert not watcher.matching(of_case(events_pb2.MonitoringAlert, other.contact_id))
    assert all(len(s.message.rvdk) <= 1 for s in watcher.matching(of_case(events_pb2.AssessmentInput, other.contact_id)))


async def test_verwijsindex_match_about_a_monitored_household_alerts_the_responsible_region(
        kafka: str, keys: KeyStore, radar: ServiceProcess, publisher: Publisher, watcher: Watcher) -> None:
    bsn = random_bsn()
    event_id = new_event_id()
    melding = melding_received(keys, REGION, [bsn], event_id=event_id)
    await publish_melding(publisher, melding, event_id)
    await watcher.wait_for(of_case(events_pb2.AssessmentInput, melding.contact_id), what="first input")
    await complete(publisher, REGION, melding.contact_id, events_pb2.DECISION_VOORWAARDEN_EN_VERVOLG)
    await watcher.wait_for(closed(melding.contact_id), what="case closed signal")

    # The verwijsindex keys its records by the youth pseudonym: the same HMAC of "bsn:<bsn>" radar uses.
    pseudonym = keys.pseudonymizer().pseudonym(b"bsn:" + bsn.encode())
    registered = verwijsindex_events.SignalRegistered(signal_id=f"sig-{uuid.uuid4()}", youth_pseudonym=pseudonym)
    await publisher.publish(topics.NATIONAL_VERWIJSINDEX, pseudonym, registered,
                            envelope_for(registered, source="verwijsindex"))  # ignored by radar
    match = verwijsindex_events.SignalMatch(match_id=f"match-{uuid.uuid4()}", kind=verwijsindex_events.MATCH_KIND_CLIENT,
                                            youth_pseudonym=pseudonym)
    match.matched_at.GetCurrentTime()
    await publisher.publish(topics.NATIONAL_VERWIJSINDEX, pseudonym, match, envelope_for(match, source="verwijsindex"))

    [alert] = await watcher.wait_for(of_case(events_pb2.MonitoringAlert, melding.contact_id), what="verwijsindex alert")
    assert alert.message.trigger == events_pb2.MONITORING_TRIGGER_VERWIJSINDEX_MATCH
    assert alert.message.tenant_id == REGION and alert.headers["ce_tenant"] == REGION
    assert alert.message.person_id == melding.persons[0].person_id
    assert alert.message.verwijsindex_match.match_id == match.match_id
    assert alert.message.verwijsindex_match.kind == verwijsindex_events.MATCH_KIND_CLIENT
    [signal] = watcher.matching(lambda s: isinstance(s.message, events_pb2.PersonSignal) and s.key == pseudonym.encode()
                                and s.message.WhichOneof("signal") == "verwijsindex_match")
    assert signal.message.verwijsindex_match.match_id == match.match_id
    assert len(watcher.matching(of_case(events_pb2.AssessmentInput, melding.contact_id))) == 1  # decided: no new input
