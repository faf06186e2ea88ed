"""The decision through RadarService with the real radar process: RecordDecision (own cases only,
validated, idempotent, agreements encrypted), the onderzoek deadline as state with its overdue report,
ListOverdue per region, and repeat meldingen (hermelding, joining an open assessment).

The onderzoek overdue test does not wait 10 weeks: the deadline is computed from the decision's
`decided_at`, so the test publishes a decision dated 11 weeks ago on the assessments topic (as a
regional system migrating its backlog would). RecordDecision itself always stamps the current time;
no test-only clock exists in the service."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import pathlib
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from simulators.rvdk import random_bsn
from vt.common.v1 import common_pb2
from vt.radar.v1 import events_pb2, radar_service_pb2, radar_service_pb2_grpc
from vtkit import audit, calendar, topics
from vtkit.channels import OrgStubs
from vtkit.crypto import Ciphertext
from vtkit.envelope import envelope_for, new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import ServiceProcess, eventually
from vttest.radar import Seen, Watcher, melding_received, publish_melding, radar_process, start_radar

REGION = "hollands-midden"
OTHER = "noord-holland-noord"
RadarStubs = OrgStubs[radar_service_pb2_grpc.RadarServiceStub]


@pytest.fixture()
async def radar(kafka: str, keys: KeyStore, data_dir: pathlib.Path, tmp_path: pathlib.Path,
                publisher: Publisher) -> AsyncIterator[ServiceProcess]:
    process = radar_process(kafka, keys, data_dir, tmp_path / "radar.log", app_id=f"vt-radar-{uuid.uuid4().hex[:8]}",
                            RADAR_TABLE_STORE="memory", RADAR_DEADLINE_SCAN_SECONDS="1")
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


@pytest.fixture()
async def stub(radar: ServiceProcess, keys: KeyStore) -> AsyncIterator[RadarStubs]:
    """Radar's stub as an organisation: stub(tenant) (one channel per organisation, mTLS)."""
    async with OrgStubs(radar.address, keys, radar_service_pb2_grpc.RadarServiceStub) as stubs:
        yield stubs


def of_case(kind: type, case_id: str):
    return lambda s: isinstance(s.message, kind) and s.message.case_id == case_id


def closed(case_id: str):
    return lambda s: (isinstance(s.message, events_pb2.PersonSignal) and s.message.WhichOneof("signal") == "case_closed"
                      and s.message.case_closed.case_id == case_id)


async def new_melding(keys: KeyStore, publisher: Publisher, tenant: str, bsn: str, **kwargs: object):  # type: ignore[no-untyped-def]
    event_id = new_event_id()
    msg = melding_received(keys, tenant, [bsn], event_id=event_id, **kwargs)  # type: ignore[arg-type]
    await publish_melding(publisher, msg, event_id)
    return msg


async def case_known(stub: RadarStubs, keys: KeyStore, tenant: str, case_id: str) -> None:
    """Wait until radar's case table holds the case (RecordDecision answers NOT_FOUND before)."""
    await eventually(lambda: stub(tenant).GetAssessment(radar_service_pb2.GetAssessmentRequest(case_id=case_id)), truthy=False)


async def test_record_decision_for_own_case_publishes_assessment_completed(
        keys: KeyStore, stub: RadarStubs, publisher: Publisher, watcher: Watcher,
        data_dir: pathlib.Path) -> None:
    melding = await new_melding(keys, publisher, REGION, random_bsn())
    case_id = melding.contact_id
    await case_known(stub, keys, REGION, case_id)
    as_region = stub(REGION)
    request = radar_service_pb2.RecordDecisionRequest(
        case_id=case_id, judgement=events_pb2.SAFETY_JUDGEMENT_ACUTE_UNSAFETY, decision=events_pb2.DECISION_RVDK_REQUEST,
        responsible_for_safety="VT Hollands Midden, team Leiden", agreements="School meldt verzuim direct aan VT",
        rvdk_reason=common_pb2.RvdkRequestReason(ground=common_pb2.RVDK_REQUEST_GROUND_VOLUNTARY_HELP_INSUFFICIENT,
                                                 explanation="Ouders weigeren elke vorm van hulp"))

    # Incomplete decisions: INVALID_ARGUMENT naming the field.
    for broken, field in [
        (radar_service_pb2.RecordDecisionRequest(case_id=case_id, judgement=events_pb2.SAFETY_JUDGEMENT_SAFE,
                                                 decision=events_pb2.DECISION_OVERDRACHT, responsible_for_safety="x"),
         "overdracht_to"),
        (radar_service_pb2.RecordDecisionRequest(case_id=case_id, judgement=events_pb2.SAFETY_JUDGEMENT_SAFE,
                                                 decision=events_pb2.DECISION_ONDERZOEK), "responsible_for_safety"),
        # An RvdK request without its reason; an overdracht without the receiving party's id.
        (radar_service_pb2.RecordDecisionRequest(case_id=case_id, judgement=events_pb2.SAFETY_JUDGEMENT_SAFE,
                                                 decision=events_pb2.DECISION_RVDK_REQUEST, responsible_for_safety="x"),
         "rvdk_reason: required for an RvdK request"),
        (radar_service_pb2.RecordDecisionRequest(case_id=case_id, judgement=events_pb2.SAFETY_JUDGEMENT_SAFE,
                                                 decision=events_pb2.DECISION_OVERDRACHT, overdracht_to="wijkteam",
                                                 responsible_for_safety="x"),
         "overdracht_receiver_id: required for an overdracht"),
        (radar_service_pb2.RecordDecisionRequest(case_id=case_id, decision=events_pb2.DECISION_ONDERZOEK,
                                                 responsible_for_safety="x"), "judgement"),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await as_region.RecordDecision(broken)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in (err.value.details() or "")
    # Another region's case: NOT_FOUND, nothing published.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub(OTHER).RecordDecision(request)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND

    reply = await as_region.RecordDecision(request)
    [completed] = await watcher.wait_for(of_case(events_pb2.AssessmentCompleted, case_id), what="AssessmentCompleted")
    assert completed.envelope is not None and completed.envelope.id == reply.event_id
    assert completed.headers["ce_tenant"] == REGION and completed.headers["ce_source"] == "radar"
    msg = completed.message
    assert (msg.tenant_id, msg.decision, msg.judgement) == (
        REGION, events_pb2.DECISION_RVDK_REQUEST, events_pb2.SAFETY_JUDGEMENT_ACUTE_UNSAFETY)
    assert msg.melder_callback_required and msg.household_letter_required
    assert msg.rvdk_request and msg.municipality_notice and not msg.HasField("onderzoek_due_date")
    assert b"verzuim" not in (completed.value or b"")
    agreements = keys.tenant_cipher(REGION).decrypt(
        Ciphertext(msg.agreements.key_id, msg.agreements.nonce, msg.agreements.ciphertext),
        event_id=reply.event_id, field="agreements")
    assert agreements.decode() == "School meldt verzuim direct aan VT"
    # The RvdK reason likewise: encrypted, bound to the event and its own field.
    assert b"weigeren" not in (completed.value or b"")
    reason = common_pb2.RvdkRequestReason.FromString(keys.tenant_cipher(REGION).decrypt(
        Ciphertext(msg.rvdk_reason.key_id, msg.rvdk_reason.nonce, msg.rvdk_reason.ciphertext),
        event_id=reply.event_id, field="rvdk_reason"))
    assert reason.explanation == "Ouders weigeren elke vorm van hulp"
    # The existing agent closes the case for its person.
    await watcher.wait_for(closed(case_id), what="case closed signal")

    # A retried call is idempotent; a different decision for the decided case is refused.
    async def same_again() -> radar_service_pb2.RecordDecisionResponse:
        again = await as_region.RecordDecision(request)
        assert again.event_id == reply.event_id and again.decided_at == reply.decided_at
        return again
    await eventually(same_again, truthy=False)
    different = radar_service_pb2.RecordDecisionRequest()
    different.CopyFrom(request)
    different.decision = events_pb2.DECISION_NO_FURTHER_STEPS
    different.ClearField("rvdk_reason")  # a complete decision, only not the recorded one
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await as_region.RecordDecision(different)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await asyncio.sleep(1.0)
    assert {s.envelope.id for s in watcher.matching(of_case(events_pb2.AssessmentCompleted, case_id))
            if s.envelope} == {reply.event_id}

    entries = [json.loads(line) for line in (data_dir / "audit-radar.jsonl").read_text().splitlines()]
    outcomes = {(e["who"]["tenant"], e["outcome"], e.get("detail", "")) for e in entries
                if e["what"] == "record decision" and e["subject"]["case_id"] == case_id}
    assert {(REGION, "invalid_argument", ""), (OTHER, "denied", "not_found"), (REGION, "success", ""),
            (REGION, "failed_precondition", "")} <= outcomes
    assert audit.verify(data_dir / "audit-radar.jsonl", keys).ok
    assert "verzuim" not in (data_dir / "audit-radar.jsonl").read_text()


async def test_overdue_onderzoek_is_reported_once_and_listed_per_region(
        keys: KeyStore, stub: RadarStubs, publisher: Publisher, watcher: Watcher) -> None:
    now = dt.datetime.now(dt.UTC)
    long_ago = now - dt.timedelta(weeks=12)
    late = await new_melding(keys, publisher, REGION, random_bsn(), received_at=long_ago)  # assessment overdue
    onderzoek = await new_melding(keys, publisher, REGION, random_bsn(), received_at=long_ago)
    fresh = await new_melding(keys, publisher, REGION, random_bsn())  # decided ONDERZOEK today: not overdue
    elsewhere = await new_melding(keys, publisher, OTHER, random_bsn(), received_at=long_ago)
    await case_known(stub, keys, REGION, fresh.contact_id)
    await case_known(stub, keys, REGION, onderzoek.contact_id)

    # The onderzoek was decided 11 weeks ago (its 10-week deadline lies a week back).
    decided_at = now - dt.timedelta(weeks=11)
    decision = events_pb2.AssessmentCompleted(tenant_id=REGION, case_id=onderzoek.contact_id,
                                              decision=events_pb2.DECISION_ONDERZOEK,
                                              judgement=events_pb2.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
                                              responsible_for_safety="VT Hollands Midden")
    decision.decided_at.FromDatetime(decided_at)
    await publisher.publish(topics.NATIONAL_ASSESSMENTS, onderzoek.contact_id, decision,
                            envelope_for(decision, source=f"intake/{REGION}", tenant=REGION))
    reply = await stub(REGION).RecordDecision(radar_service_pb2.RecordDecisionRequest(
        case_id=fresh.contact_id, judgement=events_pb2.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
        decision=events_pb2.DECISION_ONDERZOEK, responsible_for_safety="VT Hollands Midden"))
    expected_due = calendar.local_date(now) + dt.timedelta(weeks=10)
    assert (reply.onderzoek_due_date.year, reply.onderzoek_due_date.month, reply.onderzoek_due_date.day) == (
        expected_due.year, expected_due.month, expected_due.day)

    def onderzoek_overdue(case_id: str):
        return lambda s: of_case(events_pb2.DeadlineOverdue, case_id)(s) and s.message.kind == events_pb2.DEADLINE_KIND_ONDERZOEK

    [overdue] = await watcher.wait_for(onderzoek_overdue(onderzoek.contact_id), what="onderzoek DeadlineOverdue")
    due_date = calendar.local_date(decided_at) + dt.timedelta(weeks=10)
    assert overdue.message.due_at.ToDatetime(dt.UTC) == calendar.end_of_day(due_date)
    assert overdue.message.tenant_id == REGION and overdue.headers["ce_source"] == "radar"
    await watcher.wait_for(of_case(events_pb2.DeadlineOverdue, late.contact_id), what="assessment DeadlineOverdue")
    await watcher.wait_for(closed(fresh.contact_id), what="fresh case closed")
    await asyncio.sleep(2.5)  # further scans (every second) report nothing new
    copies = watcher.matching(onderzoek_overdue(onderzoek.contact_id))
    assert {c.envelope.id for c in copies if c.envelope} == {overdue.envelope.id if overdue.envelope else ""}
    assert not watcher.matching(onderzoek_overdue(fresh.contact_id))

    listing = await stub(REGION).ListOverdue(radar_service_pb2.ListOverdueRequest())
    listed = {(o.case_id, o.kind): o for o in listing.overdue}
    assert (late.contact_id, events_pb2.DEADLINE_KIND_ASSESSMENT) in listed
    assert (onderzoek.contact_id, events_pb2.DEADLINE_KIND_ONDERZOEK) in listed
    assert (onderzoek.contact_id, events_pb2.DEADLINE_KIND_ASSESSMENT) not in listed  # decided
    assert fresh.contact_id not in {o.case_id for o in listing.overdue}
    assert elsewhere.contact_id not in {o.case_id for o in listing.overdue}  # another region's case
    item = listed[(onderzoek.contact_id, events_pb2.DEADLINE_KIND_ONDERZOEK)]
    assert (item.due_date.year, item.due_date.month, item.due_date.day) == (due_date.year, due_date.month, due_date.day)
    assert [o.due_at.ToDatetime() for o in listing.overdue] == sorted(o.due_at.ToDatetime() for o in listing.overdue)
    other_listing = await stub(OTHER).ListOverdue(radar_service_pb2.ListOverdueRequest())
    assert elsewhere.contact_id in {o.case_id for o in other_listing.overdue}
    assert not {late.contact_id, onderzoek.contact_id} & {o.case_id for o in other_listing.overdue}


async def test_hermelding_and_joining_an_open_assessment(
        keys: KeyStore, stub: RadarStubs, publisher: Publisher, watcher: Watcher) -> None:
    bsn = random_bsn()
    first = await new_melding(keys, publisher, REGION, bsn)
    await case_known(stub, keys, REGION, first.contact_id)
    await stub(REGION).RecordDecision(radar_service_pb2.RecordDecisionRequest(
        case_id=first.contact_id, judgement=events_pb2.SAFETY_JUDGEMENT_SAFE, decision=events_pb2.DECISION_NO_FURTHER_STEPS,
        responsible_for_safety="huisarts"))
    await watcher.wait_for(closed(first.contact_id), what="first case closed")

    # A melding about the person whose earlier case was closed: a hermelding referencing it.
    second = await new_melding(keys, publisher, REGION, bsn)
    [repeat] = await watcher.wait_for(of_case(events_pb2.AssessmentInput, second.contact_id), what="hermelding input")
    assert repeat.message.repeat_melding and repeat.message.repeat_of_case_id == first.contact_id
    assert list(repeat.message.earlier_case_ids) == [first.contact_id] and repeat.message.joins_case_id == ""

    # Another melding while the second case is open joins that assessment, which learns about it.
    third = await new_melding(keys, publisher, REGION, bsn)
    [joining] = await watcher.wait_for(of_case(events_pb2.AssessmentInput, third.contact_id), what="joining input")
    assert joining.message.joins_case_id == second.contact_id
    assert joining.message.repeat_of_case_id == first.contact_id

    def joined(s: Seen) -> bool:
        return (of_case(events_pb2.AssessmentInput, second.contact_id)(s)
                and list(s.message.joined_by_case_ids) == [third.contact_id])
    await watcher.wait_for(joined, what="re-emitted input of the joined assessment")


# -- after the decision: the onderzoek, monitoring and the sector norms --------------------------------------------

def monitoring_signal(case_id: str, until: dt.datetime | None = None):
    """The household's history learnt that the case is monitored (until `until`, when given)."""
    return lambda s: closed(case_id)(s) and s.message.case_closed.HasField("monitor_until") and (
        until is None or s.message.case_closed.monitor_until.ToDatetime(dt.UTC) == until)


def alert_for(case_id: str):
    return of_case(events_pb2.MonitoringAlert, case_id)


async def refused(call: object, code: grpc.StatusCode, field: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call  # type: ignore[misc]
    assert err.value.code() == code and (err.value.details() or "").startswith(field), err.value.details()


async def test_onderzoek_starts_ends_with_voorwaarden_en_vervolg_and_monitoring_alerts_until_it_ends(
        keys: KeyStore, stub: RadarStubs, publisher: Publisher, watcher: Watcher, data_dir: pathlib.Path) -> None:
    bsn = random_bsn()
    melding = await new_melding(keys, publisher, REGION, bsn)
    other = await new_melding(keys, publisher, REGION, random_bsn())
    case_id, as_region = melding.contact_id, stub(REGION)
    await case_known(stub, keys, REGION, case_id)
    await case_known(stub, keys, REGION, other.contact_id)
    for case, decision in ((case_id, events_pb2.DECISION_ONDERZOEK), (other.contact_id, events_pb2.DECISION_OVERDRACHT)):
        await as_region.RecordDecision(radar_service_pb2.RecordDecisionRequest(
            case_id=case, judgement=events_pb2.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY, decision=decision,
            overdracht_to="wijkteam Leiden" if decision == events_pb2.DECISION_OVERDRACHT else "",
            overdracht_receiver_id="wijkteam:leiden" if decision == events_pb2.DECISION_OVERDRACHT else "",
            responsible_for_safety="VT Hollands Midden"))
        await watcher.wait_for(closed(case), what="the decision applied")

    # An onderzoek only where one was decided; another region's case does not exist for the caller.
    await refused(as_region.RecordOnderzoekStarted(radar_service_pb2.RecordOnderzoekStartedRequest(
        case_id=other.contact_id)), grpc.StatusCode.FAILED_PRECONDITION, "case_id")
    outcome = radar_service_pb2.RecordOnderzoekOutcomeRequest(
        case_id=case_id, judgement=events_pb2.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
        follow_up=events_pb2.DECISION_VOORWAARDEN_EN_VERVOLG, responsible_for_safety="VT Hollands Midden",
        agreements="Vader volgt een traject bij de GGZ")
    await refused(as_region.RecordOnderzoekOutcome(radar_service_pb2.RecordOnderzoekOutcomeRequest(
        case_id=other.contact_id, judgement=events_pb2.SAFETY_JUDGEMENT_SAFE, follow_up=events_pb2.DECISION_NO_FURTHER_STEPS,
        responsible_for_safety="x")), grpc.StatusCode.FAILED_PRECONDITION, "case_id")
    await refused(stub(OTHER).RecordOnderzoekOutcome(outcome), grpc.StatusCode.NOT_FOUND, "case")
    broken = radar_service_pb2.RecordOnderzoekOutcomeRequest()
    broken.CopyFrom(outcome)
    broken.follow_up = events_pb2.DECISION_ONDERZOEK
    await refused(as_region.RecordOnderzoekOutcome(broken), grpc.StatusCode.INVALID_ARGUMENT, "follow_up")

    started = await as_region.RecordOnderzoekStarted(radar_service_pb2.RecordOnderzoekStartedRequest(case_id=case_id))
    assert started.within_norm  # the same day as the decision
    await watcher.wait_for(of_case(events_pb2.OnderzoekStarted, case_id), what="OnderzoekStarted")

    ended = await as_region.RecordOnderzoekOutcome(outcome)
    assert ended.within_norm and ended.HasField("monitor_until")
    [completed] = await watcher.wait_for(of_case(events_pb2.OnderzoekCompleted, case_id), what="OnderzoekCompleted")
    assert b"GGZ" not in (completed.value or b"") and completed.message.follow_up == events_pb2.DECISION_VOORWAARDEN_EN_VERVOLG
    await watcher.wait_for(monitoring_signal(case_id), what="monitoring started on the household's history")

    # The onderzoek no longer runs: a different outcome is refused, the same one answers the same.
    different = radar_service_pb2.RecordOnderzoekOutcomeRequest()
    different.CopyFrom(outcome)
    different.follow_up = events_pb2.DECISION_NO_FURTHER_STEPS
    await refused(as_region.RecordOnderzoekOutcome(different), grpc.StatusCode.FAILED_PRECONDITION, "case_id")
    assert (await as_region.RecordOnderzoekOutcome(outcome)).event_id == ended.event_id

    # Monitored: another region's melding about the child alerts this region's worker.
    await new_melding(keys, publisher, OTHER, bsn)
    await watcher.wait_for(alert_for(case_id), what="the monitoring alert")

    # Monitoring ends (reason required); after that a new signal joins the history but alerts nobody.
    await refused(as_region.EndMonitoring(radar_service_pb2.EndMonitoringRequest(case_id=case_id)),
                  grpc.StatusCode.INVALID_ARGUMENT, "reason")
    await refused(stub(OTHER).EndMonitoring(radar_service_pb2.EndMonitoringRequest(case_id=case_id, reason="x")),
                  grpc.StatusCode.NOT_FOUND, "case")
    end = await as_region.EndMonitoring(radar_service_pb2.EndMonitoringRequest(
        case_id=case_id, reason="Stabiele veiligheid: afspraken een half jaar nagekomen"))
    await watcher.wait_for(monitoring_signal(case_id, end.ended_at.ToDatetime(dt.UTC)), what="monitoring ended")
    later = await new_melding(keys, publisher, OTHER, bsn)
    await watcher.wait_for(of_case(events_pb2.AssessmentInput, later.contact_id), what="the later melding processed")
    assert len(watcher.matching(alert_for(case_id))) == 1
    await eventually(lambda: refused(as_region.EndMonitoring(radar_service_pb2.EndMonitoringRequest(
        case_id=case_id, reason="nogmaals")), grpc.StatusCode.FAILED_PRECONDITION, "case_id"), truthy=False)

    entries = [json.loads(line) for line in (data_dir / "audit-radar.jsonl").read_text().splitlines()]
    done = {(e["what"], e["outcome"]) for e in entries if e["subject"].get("case_id") == case_id}
    assert {("start onderzoek", "success"), ("record onderzoek outcome", "success"), ("end monitoring", "success"),
            ("record onderzoek outcome", "denied"), ("end monitoring", "invalid_argument")} <= done
    log = (data_dir / "audit-radar.jsonl").read_text()
    assert "GGZ" not in log and "Stabiele" not in log


async def test_monitoring_is_extended_only_forward(keys: KeyStore, stub: RadarStubs, publisher: Publisher,
                                                    watcher: Watcher) -> None:
    melding = await new_melding(keys, publisher, REGION, random_bsn())
    case_id, as_region = melding.contact_id, stub(REGION)
    await case_known(stub, keys, REGION, case_id)
    await refused(as_region.ExtendMonitoring(radar_service_pb2.ExtendMonitoringRequest(
        case_id=case_id, reason="x", until=calendar_date(dt.date.today() + dt.timedelta(days=900)))),
        grpc.StatusCode.FAILED_PRECONDITION, "case_id")  # undecided: not monitored
    await as_region.RecordDecision(radar_service_pb2.RecordDecisionRequest(
        case_id=case_id, judgement=events_pb2.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
        decision=events_pb2.DECISION_VOORWAARDEN_EN_VERVOLG, responsible_for_safety="VT Hollands Midden"))
    [signal] = await watcher.wait_for(monitoring_signal(case_id), what="monitoring")
    current_end = signal.message.case_closed.monitor_until.ToDatetime(dt.UTC)
    await refused(as_region.RecordOnderzoekStarted(radar_service_pb2.RecordOnderzoekStartedRequest(case_id=case_id)),
                  grpc.StatusCode.FAILED_PRECONDITION, "case_id")  # no onderzoek was decided
    for until in (dt.date.today(), calendar.local_date(current_end)):  # the past, and not after the current end
        await refused(as_region.ExtendMonitoring(radar_service_pb2.ExtendMonitoringRequest(
            case_id=case_id, reason="meer tijd nodig", until=calendar_date(until))), grpc.StatusCode.INVALID_ARGUMENT,
            "until")
    new_end = calendar.local_date(current_end) + dt.timedelta(days=90)
    reply = await as_region.ExtendMonitoring(radar_service_pb2.ExtendMonitoringRequest(
        case_id=case_id, reason="Nieuwe zorgen van school", until=calendar_date(new_end)))
    assert reply.monitor_until.ToDatetime(dt.UTC) == calendar.end_of_day(new_end)
    await watcher.wait_for(monitoring_signal(case_id, calendar.end_of_day(new_end)), what="monitoring extended")


def calendar_date(day: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=day.year, month=day.month, day=day.day)


async def test_norms_of_a_region_over_a_seeded_set_of_cases(keys: KeyStore, stub: RadarStubs, publisher: Publisher,
                                                             watcher: Watcher) -> None:
    """Three decisions (two within 5 working days), two onderzoeken (one within 10 weeks), one overdue open case."""
    region, now = "brabant-zuidoost", dt.datetime.now(dt.UTC)
    long_ago = now - dt.timedelta(weeks=14)
    on_time = await new_melding(keys, publisher, region, random_bsn())
    late = await new_melding(keys, publisher, region, random_bsn(), received_at=long_ago)
    quick = await new_melding(keys, publisher, region, random_bsn())
    waiting = await new_melding(keys, publisher, region, random_bsn(), received_at=long_ago)
    for m in (on_time, late, quick, waiting):
        await case_known(stub, keys, region, m.contact_id)
    as_region = stub(region)

    # Decided 3 weeks after receipt, an onderzoek 11 weeks ago: both the assessment and the onderzoek are late.
    decision = events_pb2.AssessmentCompleted(tenant_id=region, case_id=late.contact_id,
                                              decision=events_pb2.DECISION_ONDERZOEK,
                                              judgement=events_pb2.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
                                              responsible_for_safety="VT Brabant Zuidoost")
    decision.decided_at.FromDatetime(now - dt.timedelta(weeks=11))
    await publisher.publish(topics.NATIONAL_ASSESSMENTS, late.contact_id, decision,
                            envelope_for(decision, source=f"intake/{region}", tenant=region))
    for m, d in ((on_time, events_pb2.DECISION_NO_FURTHER_STEPS), (quick, events_pb2.DECISION_ONDERZOEK)):
        await as_region.RecordDecision(radar_service_pb2.RecordDecisionRequest(
            case_id=m.contact_id, judgement=events_pb2.SAFETY_JUDGEMENT_SAFE, decision=d,
            responsible_for_safety="VT Brabant Zuidoost"))
    for m in (late, on_time, quick):
        await watcher.wait_for(closed(m.contact_id), what="decision applied")
    outcome = dict(judgement=events_pb2.SAFETY_JUDGEMENT_SAFE, follow_up=events_pb2.DECISION_NO_FURTHER_STEPS,
                   responsible_for_safety="VT Brabant Zuidoost")
    for m in (late, quick):
        await as_region.RecordOnderzoekOutcome(radar_service_pb2.RecordOnderzoekOutcomeRequest(
            case_id=m.contact_id, **outcome))  # type: ignore[arg-type]
        await watcher.wait_for(of_case(events_pb2.OnderzoekCompleted, m.contact_id), what="outcome")

    async def figures() -> radar_service_pb2.GetNormsResponse:
        reply = await as_region.GetNorms(radar_service_pb2.GetNormsRequest())
        assert reply.onderzoeken.total == 2, reply  # both outcomes applied
        return reply

    norms = await eventually(figures, truthy=False)
    assert (norms.assessments.total, norms.assessments.on_time, norms.assessments.meets_norm) == (3, 2, False)
    assert norms.assessments.norm == pytest.approx(0.9) and norms.assessments.share == pytest.approx(0.6667)
    assert (norms.onderzoeken.total, norms.onderzoeken.on_time, norms.onderzoeken.share) == (2, 1, 0.5)
    assert (norms.open_assessments, norms.overdue_assessments, norms.open_onderzoeken) == (1, 1, 0)
    # Another region sees its own (empty) figures, not these.
    theirs = await stub(OTHER).GetNorms(radar_service_pb2.GetNormsRequest())
    assert theirs.assessments.total != 3 or theirs.onderzoeken.total != 2


async def test_a_second_melding_about_the_household_joins_its_open_assessment_one_deadline_one_decision(
        keys: KeyStore, stub: RadarStubs, publisher: Publisher, watcher: Watcher) -> None:
    """The household episode: a later melding sharing a directbetrokkene with an open assessment of the same region
    joins it. The episode is due at the earliest deadline (the acute one: today), is decided once (deciding the
    joined melding is refused, naming the episode), and that decision covers the joined melding."""
    child, sibling = random_bsn(), random_bsn()
    first = await new_melding(keys, publisher, REGION, child)  # 5 working days
    await case_known(stub, keys, REGION, first.contact_id)
    event_id = new_event_id()
    acute = melding_received(keys, REGION, [child, sibling], event_id=event_id, acute=True)
    await publish_melding(publisher, acute, event_id)
    await case_known(stub, keys, REGION, acute.contact_id)
    await watcher.wait_for(of_case(events_pb2.EpisodeJoined, acute.contact_id), what="EpisodeJoined")
    today_end = calendar.end_of_day(calendar.local_date(dt.datetime.now(dt.UTC)))
    as_region = stub(REGION)

    async def episode_due() -> None:
        reply = await as_region.GetAssessment(radar_service_pb2.GetAssessmentRequest(case_id=first.contact_id))
        assert reply.due.due_at.ToDatetime(dt.UTC) == today_end, reply.due  # the acute melding's deadline
    await eventually(episode_due, truthy=False)

    decision = radar_service_pb2.RecordDecisionRequest(
        case_id=acute.contact_id, judgement=events_pb2.SAFETY_JUDGEMENT_ACUTE_UNSAFETY,
        decision=events_pb2.DECISION_VOORWAARDEN_EN_VERVOLG, responsible_for_safety="VT Hollands Midden",
        agreements="Moeder en kinderen tijdelijk bij oma",
        melder_feedback=common_pb2.MelderFeedback(safety_judgement="Acuut onveilig, nu veilig bij oma"),
        household=common_pb2.HouseholdNotice(agreements="U blijft met de kinderen bij oma."))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await as_region.RecordDecision(decision)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION and first.contact_id in (err.value.details() or "")
    listed = await as_region.ListOverdue(radar_service_pb2.ListOverdueRequest())
    assert acute.contact_id not in {o.case_id for o in listed.overdue}  # no deadline of its own

    decision.case_id = first.contact_id
    await as_region.RecordDecision(decision)
    [lead] = await watcher.wait_for(of_case(events_pb2.AssessmentCompleted, first.contact_id), what="the decision")
    assert list(lead.message.episode_case_ids) == [acute.contact_id]
    [joined] = await watcher.wait_for(of_case(events_pb2.AssessmentCompleted, acute.contact_id),
                                      what="the decision covering the joined melding")
    msg = joined.message
    assert (msg.episode_case_id, msg.decision, msg.melder_callback_required, msg.household_letter_required) == (
        first.contact_id, events_pb2.DECISION_VOORWAARDEN_EN_VERVOLG, True, False)
    assert joined.envelope is not None and joined.headers["ce_source"] == "radar"
    agreements = keys.tenant_cipher(REGION).decrypt(
        Ciphertext(msg.agreements.key_id, msg.agreements.nonce, msg.agreements.ciphertext),
        event_id=joined.envelope.id, field="agreements")
    assert agreements.decode() == "Moeder en kinderen tijdelijk bij oma"
    # The joined melding's melder is told what the episode's melder is told (under its own dossier's key); the
    # household text stays with the episode's one letter.
    feedback = common_pb2.MelderFeedback.FromString(keys.tenant_cipher(REGION).decrypt(
        Ciphertext(msg.melder_feedback.key_id, msg.melder_feedback.nonce, msg.melder_feedback.ciphertext),
        event_id=joined.envelope.id, field="melder_feedback"))
    assert feedback.safety_judgement == "Acuut onveilig, nu veilig bij oma"
    assert feedback.agreements == "Moeder en kinderen tijdelijk bij oma"  # the older clients' free text
    assert not msg.HasField("household") and lead.message.HasField("household")
    await watcher.wait_for(closed(acute.contact_id), what="the joined melding closed for its persons (the sibling too)")

    # Decided with its episode, the joined melding's decision is its own for radar too: the same decision asked for
    # it answers that very event (so a decision of its own racing the episode's is one decision: the same id).
    async def same_decision() -> None:
        decision.case_id = acute.contact_id
        again = await as_region.RecordDecision(decision)
        assert joined.envelope is not None and again.event_id == joined.envelope.id
    await eventually(same_decision, truthy=False)


async def test_a_melding_during_a_running_onderzoek_joins_it_and_after_its_outcome_starts_a_new_episode(
        keys: KeyStore, stub: RadarStubs, publisher: Publisher, watcher: Watcher) -> None:
    child = random_bsn()
    first = await new_melding(keys, publisher, REGION, child)
    await case_known(stub, keys, REGION, first.contact_id)
    as_region = stub(REGION)
    await as_region.RecordDecision(radar_service_pb2.RecordDecisionRequest(
        case_id=first.contact_id, judgement=events_pb2.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
        decision=events_pb2.DECISION_ONDERZOEK, responsible_for_safety="VT Hollands Midden"))
    await watcher.wait_for(lambda s: closed(first.contact_id)(s) and s.message.case_closed.onderzoek_running,
                           what="the onderzoek running on the child's history")

    during = await new_melding(keys, publisher, REGION, child)
    [joined] = await watcher.wait_for(of_case(events_pb2.AssessmentCompleted, during.contact_id),
                                      what="the melding decided with the running onderzoek")
    msg = joined.message
    assert (msg.episode_case_id, msg.decision, msg.melder_callback_required, msg.household_letter_required) == (
        first.contact_id, events_pb2.DECISION_ONDERZOEK, True, False)
    assert not msg.HasField("onderzoek_due_date")  # the onderzoek is the episode's: no second 10-week deadline
    listed = await as_region.ListOverdue(radar_service_pb2.ListOverdueRequest())
    assert during.contact_id not in {o.case_id for o in listed.overdue}

    await as_region.RecordOnderzoekOutcome(radar_service_pb2.RecordOnderzoekOutcomeRequest(
        case_id=first.contact_id, judgement=events_pb2.SAFETY_JUDGEMENT_SAFE,
        follow_up=events_pb2.DECISION_NO_FURTHER_STEPS, responsible_for_safety="VT Hollands Midden"))
    await watcher.wait_for(lambda s: closed(first.contact_id)(s) and not s.message.case_closed.onderzoek_running,
                           what="the onderzoek ended on the child's history")
    after = await new_melding(keys, publisher, REGION, child)
    [input_after] = await watcher.wait_for(of_case(events_pb2.AssessmentInput, after.contact_id), what="its input")
    assert input_after.message.joins_case_id == "" and input_after.message.repeat_melding  # a new episode, linked
    await asyncio.sleep(1.0)
    assert not watcher.matching(of_case(events_pb2.AssessmentCompleted, after.contact_id))  # decided by nobody yet


async def test_an_episode_decision_reaches_a_melding_that_joined_a_joined_melding(
        keys: KeyStore, stub: RadarStubs, publisher: Publisher, watcher: Watcher) -> None:
    """A chain: the second melding shares the mother with the first, the third only the child with the second.
    Deciding the first covers the second, and through it the third: each gets its decision, once."""
    mother, child = random_bsn(), random_bsn()
    first = await new_melding(keys, publisher, REGION, mother)
    await case_known(stub, keys, REGION, first.contact_id)
    event_id = new_event_id()
    second = melding_received(keys, REGION, [mother, child], event_id=event_id)
    await publish_melding(publisher, second, event_id)
    await case_known(stub, keys, REGION, second.contact_id)
    await watcher.wait_for(of_case(events_pb2.EpisodeJoined, second.contact_id), what="the second joining the first")
    third = await new_melding(keys, publisher, REGION, child)
    await watcher.wait_for(of_case(events_pb2.EpisodeJoined, third.contact_id), what="the third joining the second")

    await stub(REGION).RecordDecision(radar_service_pb2.RecordDecisionRequest(
        case_id=first.contact_id, judgement=events_pb2.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
        decision=events_pb2.DECISION_OVERDRACHT, overdracht_to="wijkteam Gouda", responsible_for_safety="wijkteam",
        overdracht_receiver_id="wijkteam:gouda"))
    [covers_second] = await watcher.wait_for(of_case(events_pb2.AssessmentCompleted, second.contact_id),
                                             what="the decision covering the second")
    [covers_third] = await watcher.wait_for(of_case(events_pb2.AssessmentCompleted, third.contact_id),
                                            what="the decision covering the third")
    assert covers_second.message.episode_case_id == first.contact_id
    assert covers_third.message.episode_case_id == second.contact_id
    assert covers_third.message.decision == events_pb2.DECISION_OVERDRACHT
