"""The foundation's end-to-end path through real parts: every service as its own
process, the real broker, real gRPC on loopback, a fake regional system that is
a real gRPC server recording what it receives."""

from __future__ import annotations

import datetime as dt
import pathlib

import aiohttp
from devstack.demo import cross_region_scenario, expected_callback_due
from devstack.stack import Stack
from vt.common.v1 import common_pb2
from vtkit.grpcserver import reflected_services
from vtkit.keystore import KeyStore

A, B = "amsterdam-amstelland", "rotterdam-rijnmond"


async def scrape(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url) as reply:
        return await reply.text()


async def test_a_melding_travels_from_intake_to_the_regional_callback(kafka: str, tmp_path: pathlib.Path) -> None:
    stack = Stack(kafka, tmp_path / "var", tenants=(A, B))
    stack.plan()
    try:
        await stack.start()  # every process answers SERVING on the standard health service
        reflected = {name: await reflected_services(p.address, KeyStore(stack.key_dir)) for name, p in stack.processes.items()
                     if name not in stack.web}
        result = await cross_region_scenario(
            kafka, KeyStore(stack.key_dir), A, B, stack.processes[f"intake-{A}"].address,
            stack.processes[f"intake-{B}"].address, str(tmp_path / "var" / "data" / f"regional-system-{A}.jsonl"),
            radar=stack.processes["radar"].address)
        scraped = {name: await scrape(stack.metrics[name]) for name in (f"intake-{A}", "notifier")}
    finally:
        stack.stop()
    print("steps:", result.steps)

    # Each service exposes Prometheus metrics; the shared Kafka plumbing counts what went through.
    assert f'vt_events_published_total{{tenant="{A}",topic="vt.{A}.intake.v1"}}' in scraped[f"intake-{A}"]
    assert 'topic="vt.national.assessments.v1"' in scraped["notifier"]
    assert "vt_event_processing_seconds_bucket" in scraped["notifier"]

    # Each service serves reflection for its API and stopped gracefully on SIGTERM.
    for name, service in [(f"intake-{A}", "vt.intake.v1.IntakeService"), ("radar", "vt.radar.v1.RadarService"),
                          ("verwijsindex", "vt.verwijsindex.v1.VerwijsindexService"),
                          ("notifier", "vt.notifier.v1.NotifierService")]:
        assert service in reflected[name], reflected[name]
        assert "grpc.health.v1.Health" in reflected[name]
    assert {name: p.proc.returncode for name, p in stack.processes.items() if p.proc} == {
        name: 0 for name in stack.processes}

    # intake A stored and published the melding; the child's BSN is only in sealed form.
    assert result.melding_a.tenant_id == A
    assert [p.role for p in result.melding_a.persons] == [common_pb2.PERSON_ROLE_CHILD]
    assert result.melding_a.persons[0].sealed_identity.recipient == "radar"
    assert not any(result.bsn.encode() in value for value in result.raw_intake_values)

    # radar: both regions get the match, each with its own case and no case content of the other.
    assert result.match_to_a.other.tenant_id == B and result.match_to_a.own_case_id == result.case_a
    assert result.match_to_b.other.tenant_id == A and result.match_to_b.own_case_id == result.case_b
    assert not result.match_to_a.other.case_ids and not result.match_to_b.other.case_ids

    # radar: the veiligheidsbeoordeling input for A lists B's involvement and the RvdK signal.
    assert [o.tenant_id for o in result.input_a.other_organisations] == [B]
    assert result.rvdk_signal_id in [r.signal_id for r in result.input_a.rvdk]

    # notifier: the callback is due within 5 working days of receipt (Dutch calendar).
    due = expected_callback_due(result.melding_a.received_at.ToDatetime(tzinfo=dt.UTC))
    assert result.callback_a["due_date"] == due.isoformat()
    assert result.callback_a["tenant_id"] == A
    assert not result.callback_a.get("duplicate")

    # The region inbox closes the loop: A's case system hears, about A's own person id, what radar found.
    person_a = result.melding_a.persons[0].person_id
    assert result.input_item_a["person_ids"] == [person_a] and result.input_item_a["tenant_id"] == A
    # After A's decision "voorwaarden en vervolg", B's new melding about the child alerts A's worker: which
    # person, which kind of signal, from which organisation; nothing of B's case.
    alert = result.alert_a
    assert alert["person_ids"] == [person_a] and alert["case_id"] == result.case_a
    assert alert["source"] == "OTHER_VT_ORGANISATION" and alert["organisation"] == B
    assert not alert["duplicate"] and not alert["escalated"]
    assert result.case_b2 not in str(alert)
