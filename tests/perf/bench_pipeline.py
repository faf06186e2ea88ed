"""The whole pipeline against the raw broker, in one run on one machine (`make bench`, docs/measurements.md).

    make bench          (BENCH_N=1000 meldingen, BENCH_CONCURRENCY=32, BENCH_SEED=9, BENCH_TENANTS=4 regions;
                         then the open loop: BENCH_RATE=200 meldingen/s for BENCH_OPEN_SECONDS=10,
                         at most BENCH_OPEN_MAX_IN_FLIGHT=64 outstanding)
    BENCH_PROFILE=docs/perf/raw make bench      (also py-spy records radar, the notifier, an intake and a fake case
                                                 system; BENCH_PROFILE_ARGS=--gil: only the thread holding the GIL)
    make bench BENCH_TENANTS=all                (all 25 regions at once: one intake and one fake case system each)

What is measured: loadgen.bench. Results: var/bench/results.json and results.md (printed too); each run
adds a row to the history in docs/measurements.md (BENCH_HISTORY=<file> elsewhere, BENCH_HISTORY= not at all)."""

from __future__ import annotations

import os
import pathlib

import pytest
from devstack.processes import ROOT
from loadgen.bench import append_history, run_pipeline
from vtkit.tenants import all_tenants

pytestmark = pytest.mark.bench

N = int(os.environ.get("BENCH_N", "1000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
SEED = int(os.environ.get("BENCH_SEED", "9"))
DEFAULT_TENANTS = "amsterdam-amstelland,rotterdam-rijnmond,twente,brabant-zuidoost"
_tenants = os.environ.get("BENCH_TENANTS", DEFAULT_TENANTS)
TENANTS = tuple(sorted(all_tenants()) if _tenants == "all" else _tenants.split(","))
RESULTS = pathlib.Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "var" / "bench"))
PROFILE = os.environ.get("BENCH_PROFILE")
RATE = float(os.environ.get("BENCH_RATE", "200"))
OPEN_SECONDS = float(os.environ.get("BENCH_OPEN_SECONDS", "10"))
OPEN_MAX_IN_FLIGHT = int(os.environ.get("BENCH_OPEN_MAX_IN_FLIGHT", "64"))
HISTORY = os.environ.get("BENCH_HISTORY", str(ROOT / "docs" / "measurements.md"))


async def test_pipeline_against_raw_broker(kafka: str, tmp_path: pathlib.Path) -> None:
    results = await run_pipeline(kafka, tmp_path / "var", RESULTS, n=N, concurrency=CONCURRENCY, seed=SEED,
                                 tenants=TENANTS, profile_dir=pathlib.Path(PROFILE) if PROFILE else None,
                                 open_rate=RATE, open_seconds=OPEN_SECONDS, open_max_in_flight=OPEN_MAX_IN_FLIGHT)
    assert results["assessed_cases"] == results["scheduled_cases"] == results["meldingen"]
    if HISTORY:
        append_history(results, pathlib.Path(HISTORY))
        print(f"history: a row added to {HISTORY}")
