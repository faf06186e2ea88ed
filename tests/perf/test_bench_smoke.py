"""The short `make bench` that runs in `make test`: the same code path (vtkit.loadgen.bench.run_pipeline)
with 50 meldingen. It asserts behaviour, not speed: every melding was acknowledged, assessed and its
melder callback scheduled, and the result files carry every figure the long run reports."""

from __future__ import annotations

import json
import pathlib

from vtkit.loadgen.bench import REQUIRED, run_pipeline

N = 50
TENANTS = ("amsterdam-amstelland", "twente")


async def test_short_bench_reports_every_figure(kafka: str, tmp_path: pathlib.Path) -> None:
    results_dir = tmp_path / "bench"
    await run_pipeline(kafka, tmp_path / "var", results_dir, n=N, concurrency=8, seed=3, tenants=TENANTS, raw_min=500)

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
    table = (results_dir / "results.md").read_text()
    for row in ("raw aiokafka produce->consume", "ratio pipeline / raw", "intake ack p50 / p95 / p99",
                "submission -> AssessmentDue p50 / p95 / p99", "peak RSS radar"):
        assert row in table, row
