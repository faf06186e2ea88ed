"""The short `make bench` that runs in `make test`: the same code path (loadgen.bench.run_pipeline)
with 50 meldingen and an open loop of 20 meldingen/s for 2 s. It asserts behaviour, not speed: every melding was
acknowledged, assessed and its melder callback scheduled, and the result files carry every figure the long run
reports, CPU per melding and the open-loop latencies included; the history row is written to a scratch file."""

from __future__ import annotations

import json
import pathlib

from loadgen.bench import HISTORY_HEADER, LOADGEN, REQUIRED, append_history, run_pipeline
from vtkit import topics

N = 50
TENANTS = ("amsterdam-amstelland", "twente")


async def test_short_bench_reports_every_figure(kafka: str, tmp_path: pathlib.Path) -> None:
    results_dir = tmp_path / "bench"
    await run_pipeline(kafka, tmp_path / "var", results_dir, n=N, concurrency=8, seed=3, tenants=TENANTS, raw_min=500,
                       open_rate=20, open_seconds=2)

    results = json.loads((results_dir / "results.json").read_text())
    assert set(REQUIRED) <= set(results)
    # run_pipeline already fails when one is missing; the file must say so too.
    assert results["meldingen"] == results["assessed_cases"] == results["scheduled_cases"] > 0
    for rate in ("raw_msgs_per_s", "ack_per_s", "assessed_per_s", "scheduled_per_s", "ratio", "national_year_hours"):
        assert results[rate] > 0, rate
    for kind in ("ack", "assessed", "scheduled"):
        p = results["latency_ms"][kind]
        assert 0 < p["p50"] <= p["p95"] <= p["p99"], (kind, p)
    # Submission -> AssessmentDue includes the acknowledgement, which is durable before intake publishes.
    assert results["latency_ms"]["assessed"]["p50"] >= results["latency_ms"]["ack"]["p50"]
    for service in ("radar", "notifier", *(f"intake-{t}" for t in TENANTS)):
        assert results["peak_rss_mib"][service] > 0, service

    cpu = results["cpu_ms_per_melding"]
    assert cpu["total"] > 0 and cpu[LOADGEN] > 0
    # Every process of the stack and the embedded broker (the kafka fixture's, started in this process).
    assert set(cpu["per_process"]) == {*results["peak_rss_mib"], "broker"}, cpu["per_process"]
    assert cpu["per_process"]["radar"] > 0 and cpu["per_process"]["broker"] > 0
    assert abs(sum(cpu["per_process"].values()) - cpu["total"]) < 1e-6
    assert results["record_signature_us"]["sign"] > 0 and results["record_signature_us"]["verify"] > 0
    records = results["records_per_melding"]  # each melding's MeldingReceived and AssessmentDue at least
    assert records[topics.NATIONAL_ASSESSMENTS] >= 1 and sum(records.get(topics.intake(t), 0) for t in TENANTS) >= 1, records
    open_loop = results["open_loop"]
    assert open_loop["rate_per_s"] == 20 and open_loop["count"] == 40
    for key in ("ack_p50_ms", "ack_p99_ms", "assessment_p99_ms"):
        assert open_loop[key] > 0, key
    assert open_loop["assessment_p99_ms"] >= open_loop["ack_p50_ms"]
    assert 0 <= open_loop["late_starts"] <= open_loop["count"]
    # The intakes' own timing of the 40 calls: a bucket bound (at most 10 s, never "no calls counted": infinite).
    assert 0 < open_loop["server_ack_p50_ms_at_most"] <= open_loop["server_ack_p99_ms_at_most"] <= 10_000, open_loop

    table = (results_dir / "results.md").read_text()
    for row in ("raw aiokafka produce->consume", "ratio pipeline / raw", "intake ack p50 / p95 / p99",
                "submission -> AssessmentDue p50 / p95 / p99", "peak RSS radar", "CPU per melding, suite total",
                "CPU per melding radar", "CPU per melding broker", "CPU per melding load generator",
                "open loop: ack p50 / p99", "open loop: submission -> AssessmentDue p99", "open loop: late starts"):
        assert row in table, row

    history = tmp_path / "measurements.md"
    append_history(results, history)
    append_history(results, history)
    lines = history.read_text().splitlines()
    rows = lines[lines.index(HISTORY_HEADER) + 2:]
    assert len(rows) == 2 and rows[0] == rows[1] and rows[0].count("|") == HISTORY_HEADER.count("|"), rows
