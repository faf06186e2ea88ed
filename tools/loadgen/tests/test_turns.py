"""loadgen.turns runs the two commits' benches alternately and reports each run and the median per commit. The
benches themselves are `make bench` (tests/perf/test_bench_smoke.py runs its code); here they are stood in for."""

from __future__ import annotations

import pathlib
import subprocess
from collections.abc import Sequence
from typing import Any

import pytest
from loadgen import turns


def results(total: float, radar: float, when: str) -> dict[str, Any]:
    per_process = {"radar": radar, "notifier": 1.0, "intake-twente": 0.5, "intake-utrecht": 0.25, "broker": 0.5,
                   "regional-system-twente": 0.125}
    return {"when": f"2026-12-07T{when}+00:00", "load_average": {"before": 1.0, "after": 2.0},
            "cpu_ms_per_melding": {"total": total, "per_process": per_process, "loadgen": 9.0},
            "assessed_per_s": 200.0, "open_loop": {"ack_p99_ms": 100.0, "assessment_p99_ms": 5000.0}}


def test_figures_sum_the_intakes_and_the_fake_case_systems_and_leave_the_load_generator_out() -> None:
    f = turns.figures(results(8.0, 2.0, "10:00:00"))
    assert (f["cpu_ms"], f["radar"], f["intakes"], f["fakes"]) == (8.0, 2.0, 0.75, 0.125)


def test_the_commits_run_by_turns_and_the_medians_are_per_commit(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: pathlib.Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    ran: list[str] = []
    canned = {"a": iter([9.0, 11.0, 10.0]), "b": iter([8.0, 7.0, 9.5])}

    def checkout(rev: str, work: pathlib.Path) -> pathlib.Path:
        return work / rev

    def bench(directory: pathlib.Path, settings: Sequence[str]) -> dict[str, Any]:
        ran.append(directory.name)
        assert settings == ["BENCH_N=50"]
        return results(next(canned["a" if directory.name == revs[0] else "b"]), 1.0, "10:00:00")

    revs = [subprocess.run(["git", "-C", str(turns.ROOT), "rev-parse", "--short", rev], check=True, capture_output=True,
                           text=True).stdout.strip() for rev in ("HEAD~1", "HEAD")]
    monkeypatch.setattr(turns, "checkout", checkout)
    monkeypatch.setattr(turns, "bench", bench)
    assert turns.main(["HEAD~1", "HEAD", "--rounds", "3", "--set", "BENCH_N=50", "--work", str(tmp_path)]) == 0
    assert ran == [revs[0], revs[1]] * 3  # base, new, base, new, ...
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 8
    assert f"base {revs[0]} median of 3  cpu_ms 10.00" in out[-2] and f"new {revs[1]} median of 3  cpu_ms 8.00" in out[-1]


def test_a_one_service_bench_turn_reads_the_figures_that_bench_wrote(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: pathlib.Path) -> None:
    """`--set BENCH_K=notifier`: the run's var/bench/notifier.json (write_single), not results.json; a file left by an
    earlier run is removed first, so a run that writes none fails instead of showing old figures."""
    bench_dir = tmp_path / "var" / "bench"
    turns.write_single("notifier", {"notifier": 9.99}, 0.5, bench_dir)  # an earlier run's
    written: list[list[str]] = []

    def make(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        written.append(args)
        assert not (bench_dir / "notifier.json").exists()  # removed before the run
        if "BENCH_K=notifier" in args:
            turns.write_single("notifier", {"notifier": 1.75, "deliveries_per_s": 900.0}, 0.5, bench_dir)
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(turns.subprocess, "run", make)
    results = turns.bench(tmp_path, ["BENCH_K=notifier"])
    assert turns.figures(results) == {"notifier": 1.75, "deliveries_per_s": 900.0}
    assert "notifier 1.75  deliveries_per_s 900.00" in turns.line("new abc", results)
    assert turns.medians({"new abc": [results, results]}).endswith("median of 2  notifier 1.75  deliveries_per_s 900.00")

    turns.write_single("notifier", {"notifier": 9.99}, 0.5, bench_dir)  # left by that run
    monkeypatch.setattr(turns.subprocess, "run", lambda args, **kwargs: subprocess.CompletedProcess(args, 0, "", ""))
    with pytest.raises(SystemExit, match="wrote no notifier.json"):  # a run that writes nothing
        turns.bench(tmp_path, ["BENCH_K=notifier"])
