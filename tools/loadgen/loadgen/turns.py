"""`make bench` of two commits by turns, so their figures compare (docs/measurements.md: the machine's load drifts
over minutes, and one run of each commit at different moments says little).

    .venv/bin/python -m loadgen.turns BASE NEW [--rounds 3] [--set BENCH_TENANTS=all] [--work /tmp/turns]

Each commit gets a clean clone of this repository with its own venv (`make venv`; the working tree you edit is never
measured), then BASE, NEW, BASE, NEW, ... each run `make bench BENCH_HISTORY=` (no row in docs/measurements.md) with
the `--set` variables. Printed: one line per run (load average, CPU per melding in all and of the busiest processes,
sustained rate, open-loop latencies) and the median of each figure per commit. The load generator's figures are not
in the total, as in `make bench`.

With `--set BENCH_K=notifier` or `BENCH_K=radar` the run is that one service's bench (tests/perf/bench_notifier.py,
bench_radar.py), which writes its own figures (`write_single`: var/bench/<kind>.json); those are printed instead.
Each run's file is removed before it starts, so a run that writes none fails instead of showing an older run's
figures."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[3]  # tools/loadgen/loadgen/turns.py: the repository

# Figure name -> how to read it from a results.json (loadgen.bench).
FIGURES = {
    "cpu_ms": lambda r: r["cpu_ms_per_melding"]["total"],
    "radar": lambda r: r["cpu_ms_per_melding"]["per_process"].get("radar", 0.0),
    "notifier": lambda r: r["cpu_ms_per_melding"]["per_process"].get("notifier", 0.0),
    "intakes": lambda r: _sum_of(r, "intake-"),
    "broker": lambda r: r["cpu_ms_per_melding"]["per_process"].get("broker", 0.0),
    "fakes": lambda r: _sum_of(r, "regional-system-"),
    "sustained_per_s": lambda r: r["assessed_per_s"],
    "open_ack_p99_ms": lambda r: r["open_loop"]["ack_p99_ms"],
    "open_assessment_p99_ms": lambda r: r["open_loop"]["assessment_p99_ms"],
}


def _sum_of(results: dict[str, Any], prefix: str) -> float:
    return sum(v for k, v in results["cpu_ms_per_melding"]["per_process"].items() if k.startswith(prefix))


# The benches of one service, by BENCH_K: they write var/bench/<kind>.json (write_single), not results.json.
SINGLE = ("notifier", "radar")


def write_single(kind: str, values: dict[str, float], load_before: float, results_dir: pathlib.Path | None = None) -> None:
    """A one-service bench's figures, as `bench` reads them for a turn."""
    directory = results_dir or pathlib.Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "var" / "bench"))
    directory.mkdir(parents=True, exist_ok=True)
    results = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
               "load_average": {"before": load_before, "after": os.getloadavg()[0]}, "figures": values}
    (directory / f"{kind}.json").write_text(json.dumps(results, indent=2))


def figures(results: dict[str, Any]) -> dict[str, float]:
    if "figures" in results:  # a one-service bench (write_single)
        return {name: float(value) for name, value in results["figures"].items()}
    return {name: float(read(results)) for name, read in FIGURES.items()}


def line(label: str, results: dict[str, Any]) -> str:
    load = results["load_average"]
    values = "  ".join(f"{name} {value:.2f}" for name, value in figures(results).items())
    return f"{label:>12} {results['when'][11:19]} load {load['before']:.1f}/{load['after']:.1f}  {values}"


def medians(runs: dict[str, list[dict[str, Any]]]) -> str:
    """The median of every figure per commit, one line each, in the order the commits were given."""
    out = []
    for label, results in runs.items():
        per_figure = [figures(r) for r in results]
        values = "  ".join(f"{name} {statistics.median(f[name] for f in per_figure):.2f}" for name in per_figure[0])
        out.append(f"{label:>12} median of {len(results)}  {values}")
    return "\n".join(out)


def checkout(rev: str, work: pathlib.Path) -> pathlib.Path:
    """A clean clone of this repository at `rev` with its own venv (reused when it is already there)."""
    target = work / rev
    if not (target / ".venv" / ".installed").exists():
        shutil.rmtree(target, ignore_errors=True)  # a clone whose venv was never finished
        subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True)
        subprocess.run(["git", "-C", str(target), "checkout", "-q", rev], check=True)
        subprocess.run(["make", "venv"], cwd=target, check=True, stdout=subprocess.DEVNULL)
    return target


def bench(directory: pathlib.Path, settings: Sequence[str]) -> dict[str, Any]:
    kind = dict(setting.split("=", 1) for setting in settings if "=" in setting).get("BENCH_K", "")
    path = directory / "var" / "bench" / (f"{kind}.json" if kind in SINGLE else "results.json")
    path.unlink(missing_ok=True)
    done = subprocess.run(["make", "bench", "BENCH_HISTORY=", *settings], cwd=directory, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"make bench failed in {directory}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    if not path.exists():
        raise SystemExit(f"make bench in {directory} wrote no {path.name}: a BENCH_K that turns cannot read "
                         f"(it reads `make bench` and the benches of {', '.join(SINGLE)})")
    results: dict[str, Any] = json.loads(path.read_text())
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadgen.turns", description=__doc__.splitlines()[0])
    parser.add_argument("base", help="a commit (or branch) of this repository")
    parser.add_argument("new", help="another commit (or branch)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each commit (default 3)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a make variable for every run, e.g. BENCH_TENANTS=all or BENCH_N=2000")
    parser.add_argument("--work", default="/tmp/vt-turns", help="where the clones go (default /tmp/vt-turns)")
    args = parser.parse_args(argv)
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    revs = {label: subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], check=True,
                                  capture_output=True, text=True).stdout.strip()
            for label, rev in (("base", args.base), ("new", args.new))}
    directories = {label: checkout(rev, work) for label, rev in revs.items()}
    runs: dict[str, list[dict[str, Any]]] = {f"{label} {rev}": [] for label, rev in revs.items()}
    for _ in range(args.rounds):
        for (name, results), directory in zip(runs.items(), directories.values(), strict=True):
            results.append(bench(directory, args.set))
            print(line(name, results[-1]), flush=True)
    print(medians(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
