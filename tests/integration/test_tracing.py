"""One melding is one trace (docs/architecture.md, "Observability"): intake, radar and the notifier run as real
processes with tracing on, each writing its finished spans to a file of its own (OTEL_TRACES_EXPORTER=console,
VT_TRACES_FILE). A melding submitted over gRPC reaches the fake regional system as a callback, and the span files hold
one trace from intake's server span through the Kafka hops to the notifier's call to the region, each span the child
of the one before. No span names or carries anything personal. The notifier's /metrics counts its outgoing call."""

from __future__ import annotations

import json
import pathlib
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
from devstack.broker import free_port
from devstack.scenario import melding_request, random_bsn
from simulators.regional_system import FakeRegionalSystem
from vtkit import topics
from vtkit.channels import Org
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vttest import eventually
from vttest.intake import call, intake_process
from vttest.notifier import Notifier
from vttest.radar import radar_process, start_radar

TENANT = "ijsselland"


def tracing_env(path: pathlib.Path) -> dict[str, str]:
    return {"OTEL_TRACES_EXPORTER": "console", "VT_TRACES_FILE": str(path)}


def spans(path: pathlib.Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def one(found: list[dict[str, Any]], what: str) -> dict[str, Any]:
    assert len(found) == 1, f"{what}: {len(found)} spans {[s['name'] for s in found]}"
    return found[0]


def child_of(span: dict[str, Any], parent: dict[str, Any]) -> bool:
    return bool(span["parent_id"] == parent["context"]["span_id"]
                and span["context"]["trace_id"] == parent["context"]["trace_id"])


async def scrape(port: int) -> str:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as reply:
        return await reply.text()


async def test_a_melding_is_one_trace_from_intake_to_the_regional_callback(
        tmp_path: pathlib.Path, kafka: str, keys: KeyStore, data_dir: pathlib.Path, fake: FakeRegionalSystem,
        make_notifier: Callable[..., Notifier]) -> None:
    files = {name: tmp_path / f"spans-{name}.jsonl" for name in ("intake", "radar", "notifier")}
    radar = radar_process(kafka, keys, data_dir, tmp_path / "radar.log", app_id=f"vt-radar-{uuid.uuid4().hex[:8]}",
                          RADAR_TABLE_STORE="memory", **tracing_env(files["radar"]))
    notifier_metrics = free_port()
    notifier = make_notifier({TENANT: fake.address}, METRICS_PORT=str(notifier_metrics), **tracing_env(files["notifier"]))
    intake = intake_process(tmp_path, kafka, keys, TENANT, data_dir)
    intake.env = {**intake.env, **tracing_env(files["intake"])}
    await start_radar(radar)
    try:
        await notifier.start()
        intake.start()
        await wait_healthy(intake.address, timeout=20, keys=keys)
        bsn, melder = random_bsn(), "Petra de Vries"
        reply = await call(intake.address, Org(keys, TENANT), "SubmitMelding", melding_request(bsn, melder_name=melder))
        await eventually(lambda: fake.distinct(reply.contact_id), "the callback at the regional system")

        def client_span() -> list[dict[str, Any]]:
            return [s for s in spans(files["notifier"]) if s["kind"] == "SpanKind.CLIENT"
                    and s["name"].endswith("/DeliverBatch")]

        await eventually(client_span, "the notifier's client span")  # written when the call returned
        metrics = await scrape(notifier_metrics)
    finally:
        intake.stop()
        radar.stop()

    intake_spans, radar_spans, notifier_spans = (spans(files[n]) for n in ("intake", "radar", "notifier"))
    server = one([s for s in intake_spans if s["name"] == "vt.intake.v1.IntakeService/SubmitMelding"], "intake's server span")
    assert server["kind"] == "SpanKind.SERVER" and server["parent_id"] is None  # the test's call starts the trace
    assert server["attributes"]["rpc.grpc.status_code"] == "OK"
    assert not [s for s in intake_spans if "grpc.health" in s["name"]]  # probes start no trace
    trace_id = server["context"]["trace_id"]
    traced = [s for s in intake_spans + radar_spans + notifier_spans if s["context"]["trace_id"] == trace_id]

    intake_topic = topics.intake(TENANT)
    # intake's relay sends the MeldingReceived later, in a batch, in the trace of the request that stored it.
    produced = one([s for s in traced if s["name"] == f"send {intake_topic}" and s in intake_spans], "intake's send")
    assert produced["kind"] == "SpanKind.PRODUCER" and child_of(produced, server)
    assert produced["attributes"]["messaging.destination.name"] == intake_topic
    # radar consumes it and sends the AssessmentDue in the same trace.
    consumed = one([s for s in radar_spans if s["name"] == f"process {intake_topic}" and child_of(s, produced)],
                   "radar's process span")
    assert consumed["kind"] == "SpanKind.CONSUMER"
    assert consumed["attributes"]["messaging.message.id"] == produced["attributes"]["messaging.message.id"]
    due_sent = [s for s in radar_spans if s["name"] == f"send {topics.NATIONAL_ASSESSMENTS}" and child_of(s, consumed)]
    assert due_sent, [s["name"] for s in radar_spans if s["context"]["trace_id"] == trace_id]
    # The notifier consumes the AssessmentDue, schedules the callback, and its attempt calls the region.
    due_consumed = [s for s in notifier_spans if s["name"] == f"process {topics.NATIONAL_ASSESSMENTS}"
                    and any(child_of(s, sent) for sent in due_sent)]
    assert len(due_consumed) == 1, [s["name"] for s in notifier_spans]
    attempt = one([s for s in notifier_spans if s["name"] == "deliver MELDER_CALLBACK" and child_of(s, due_consumed[0])],
                  "the notifier's delivery attempt")
    # The call to the region carries what was due for it at that moment (notifier.adapters.receiver_batch; here the
    # callback, perhaps with the inbox item of the same melding): the batch continues the trace of its first attempt
    # and links the others'.
    batch = one([s for s in notifier_spans if s["name"] == "deliver batch" and child_of(s, attempt)], "the batch")
    attempts = {s["context"]["span_id"]: s["name"] for s in notifier_spans if s["name"].startswith("deliver ")}
    linked = [attempts.get(link["context"]["span_id"]) for link in batch["links"]]
    assert len(linked) == batch["attributes"]["vt.delivery.batch_size"] - 1 and all(linked), (linked, batch["links"])
    callback = one([s for s in notifier_spans if s["kind"] == "SpanKind.CLIENT" and child_of(s, batch)],
                   "the notifier's call to the region")
    assert callback["name"].endswith("/DeliverBatch") and callback["attributes"]["rpc.grpc.status_code"] == "OK"
    # The notifier also reads the MeldingReceived itself (for the letter): a sibling of radar's consumption.
    assert any(s["name"] == f"process {intake_topic}" and child_of(s, produced) for s in notifier_spans)

    # Nothing personal in any span of any process, traced or not.
    for path in files.values():
        text = path.read_text()
        for secret in (bsn, melder, "p.devries@example.nl", "blauwe plekken"):
            assert secret not in text, (path.name, secret)

    # The same call on the notifier's /metrics (vtkit.grpcobs).
    handled = [line for line in metrics.splitlines() if line.startswith("vt_grpc_client_handled_total{")
               and 'grpc_method="DeliverBatch"' in line and 'grpc_code="OK"' in line]
    assert handled and float(handled[0].rsplit(" ", 1)[1]) >= 1, metrics[-2000:]
    assert any(line.startswith("vt_grpc_client_handling_seconds_count{") and 'grpc_method="DeliverBatch"' in line
               for line in metrics.splitlines())
