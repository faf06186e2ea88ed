"""CPU per melding with a long history against an empty start, by turns in one run (`make bench BENCH_K=flat`,
docs/measurements.md, "CPU per melding with a long history").

    make bench BENCH_K=flat    (HISTORY_YEARS=10 of radar state plus a year of access-log records;
                                HISTORY_TURNS=empty,full,empty,full; BENCH_N=1000 meldingen a turn over BENCH_TENANTS
                                (the 4 regions of `make bench`); HISTORY_SETTLE_SECONDS=75 before each window, then
                                on until the stack uses less than HISTORY_QUIET_CORES=0.3 of a core)

Each turn is `make bench`'s measurement (loadgen.bench.run_pipeline: CPU per melding per process from /proc, the
sustained rate, the open loop) on a fresh embedded broker and a fresh data directory:
- empty: nothing before the run;
- full: radar's tables after HISTORY_YEARS years (vttest.radar_history: 127,340 meldingen a year through radar's own
  domain functions, written into radar's rocksdict stores, radar starts on them as after a broker loss), and every
  service's access log holding a year of records, already forwarded (vttest.audit_year). How many records a year
  is: the records each service wrote per melding in the first empty turn of this run, times 127,340 meldingen
  (radar, notifier, verwijsindex), or times 270,550 contacts and the region's share of loadgen's profile (intakes:
  every contact, advies or melding, is recorded at its intake).
Turns alternate so that runs minutes apart are compared (figures on a shared machine drift over hours). Before each
window the stack settles: radar's first deadline scan (30 s after its start) and its norm gauges, which read the whole
case table (about 80 s of CPU at 10 years, docs/measurements.md), fall in that time; their CPU is reported as settle
CPU, not per melding. With 40 s the quiet check passed before the first scan had begun and its norm gauges fell in a
window.

The radar state is built once and kept in HISTORY_CACHE (var/bench/history-cache/<years>y, with the keys it was
pseudonymised with); delete it when radar's table format changes. Results: var/bench/flat.json and flat.md.
With BENCH_PROFILE=<dir>, py-spy records radar, the notifier and one intake in every turn (<dir>/<turn>-<kind>)."""

from __future__ import annotations

import datetime as dt
import json
import os
import pathlib
import shutil
import time
from typing import Any

import pytest
from devstack.broker import EmbeddedBroker
from devstack.processes import ROOT
from devstack.stack import Stack
from loadgen.bench import run_pipeline
from loadgen.generate import CONTACTS_PER_YEAR, WEST
from vtkit.keystore import KeyStore, init_keys
from vtkit.tenants import all_tenants
from vttest import audit_year, radar_history

pytestmark = pytest.mark.bench

YEARS = float(os.environ.get("HISTORY_YEARS", "10"))
TURNS = os.environ.get("HISTORY_TURNS", "empty,full,empty,full").split(",")
N = int(os.environ.get("BENCH_N", "1000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
SEED = int(os.environ.get("BENCH_SEED", "9"))
TENANTS = tuple(os.environ.get("BENCH_TENANTS",
                               "amsterdam-amstelland,rotterdam-rijnmond,twente,brabant-zuidoost").split(","))
SETTLE = float(os.environ.get("HISTORY_SETTLE_SECONDS", "75"))
QUIET = float(os.environ.get("HISTORY_QUIET_CORES", "0.3"))
RATE = float(os.environ.get("BENCH_RATE", "200"))
OPEN_SECONDS = float(os.environ.get("BENCH_OPEN_SECONDS", "10"))
RESULTS = pathlib.Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "var" / "bench"))
CACHE = pathlib.Path(os.environ.get("HISTORY_CACHE", RESULTS / "history-cache" / f"{YEARS:g}y"))
PROFILE = os.environ.get("BENCH_PROFILE")
NATIONAL = ("radar", "notifier", "verwijsindex")


def region_share(tenant: str) -> float:
    """The region's share of the national contacts in loadgen's profile (54% over the western regions)."""
    west = [t for t in all_tenants() if t in WEST]
    rest = [t for t in all_tenants() if t not in WEST]
    return 0.54 / len(west) if tenant in WEST else 0.46 / len(rest)


def audit_files(data_dir: pathlib.Path) -> dict[str, pathlib.Path]:
    """service (as its log names itself) -> its access log in a stack's data directory (the services' settings)."""
    files = {f"intake/{t}": data_dir / f"audit-intake-{t}.jsonl" for t in TENANTS}
    return {**files, **{s: data_dir / f"audit-{s}.jsonl" for s in NATIONAL}}


def records_a_year(per_melding: dict[str, float]) -> dict[str, int]:
    """A year of access-log records per service, from the records per melding of an empty turn (for the intakes
    together: each records the meldingen of its own region)."""
    at_intake = sum(rate for service, rate in per_melding.items() if service.startswith("intake/"))
    year = {}
    for service, rate in per_melding.items():
        if service.startswith("intake/"):
            year[service] = round(at_intake * CONTACTS_PER_YEAR * region_share(service.removeprefix("intake/")))
        else:
            year[service] = round(rate * radar_history.MELDINGEN_PER_YEAR)
    return year


def radar_state(cache: pathlib.Path) -> dict[str, Any]:
    """Radar's tables after YEARS years in cache/data (built once), pseudonymised with cache/keys."""
    done = cache / "built.json"
    if done.exists():
        built = dict(json.loads(done.read_text()))
        if "recent_decided" not in built:  # built before radar kept its index of recent decisions (as it is now)
            end = dt.datetime.fromisoformat(built["built_at"])
            built["keys"]["recent_cases"] = radar_history.add_recent_index(cache / "data", end)
            built["recent_decided"] = True
            done.write_text(json.dumps(built))
        return built
    shutil.rmtree(cache, ignore_errors=True)
    keys = init_keys(cache / "keys")
    t0 = time.perf_counter()
    end = dt.datetime.now(dt.UTC)
    tables = radar_history.simulate(YEARS, keys.pseudonymizer(), end=end)
    keys_per_table = radar_history.write_stores(tables, cache / "data", end)
    built = {"years": YEARS, "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "recent_decided": True,
             "build_seconds": round(time.perf_counter() - t0), "keys": keys_per_table,
             "disk_mib": round(radar_history.disk_bytes(cache / "data") / 2**20)}
    done.write_text(json.dumps(built))
    return built


class Turns:
    """What the turns share: the keys, the built state and the access-log year (known after the first empty turn)."""

    def __init__(self, work: pathlib.Path):
        self.work = work
        self.audit_dir = work / "audit-year"
        self.audit_year: dict[str, int] = {}
        self.audit_per_melding: dict[str, float] = {}

    def prepare(self, kind: str) -> Any:
        def prepare(stack: Stack) -> None:
            # The state was pseudonymised with the cache's keys: the stack runs with those (plan() keeps keys).
            shutil.copytree(CACHE / "keys", stack.key_dir, dirs_exist_ok=True)
            if kind != "full":
                return
            data = stack.var_dir / "data"
            radar_history.copy_stores(CACHE / "data", data)
            for path in self.audit_dir.iterdir():
                shutil.copy2(path, data / path.name)
        return prepare

    def learn_audit_year(self, data_dir: pathlib.Path, meldingen: int) -> None:
        """From an empty turn: records per melding of each service, and a year of them written once."""
        counts = {s: audit_year.count_records(p) for s, p in audit_files(data_dir).items()}
        self.audit_per_melding = {s: c / meldingen for s, c in counts.items()}
        self.audit_year = records_a_year(self.audit_per_melding)
        self.audit_dir.mkdir(parents=True, exist_ok=True)
        keys = KeyStore(CACHE / "keys")
        for service, path in audit_files(self.audit_dir).items():
            tenant = service.removeprefix("intake/") if service.startswith("intake/") else "national"
            audit_year.write_year(path, service, keys, self.audit_year[service], tenant)


def summary(kind: str, r: dict[str, Any], radar_log: str) -> dict[str, Any]:
    cpu = r["cpu_ms_per_melding"]
    per = cpu["per_process"]
    return {"kind": kind, "when": r["when"], "load_before": r["load_average"]["before"],
            "load_after": r["load_average"]["after"], "cpu_total": cpu["total"], "cpu_radar": per["radar"],
            "cpu_notifier": per["notifier"], "cpu_broker": per.get("broker", 0.0),
            "cpu_intakes": sum(v for k, v in per.items() if k.startswith("intake-")),
            "cpu_verwijsindex": per["verwijsindex"], "cpu_per_process": per, "sustained_per_s": r["assessed_per_s"],
            "open_ack_p99_ms": r["open_loop"]["ack_p99_ms"], "open_assessment_p99_ms": r["open_loop"]["assessment_p99_ms"],
            "settle_cpu_s": r["settle_cpu_s"], "startup_s": r["startup_s"], "peak_rss_mib": r["peak_rss_mib"],
            # Proof that radar read the history: its first scan reports the history's overdue open cases.
            "radar_overdue_logged": radar_log.count("deadlines overdue"),
            "radar_index_rebuilt": "index of open cases built" in radar_log}


def markdown(rows: list[dict[str, Any]]) -> str:
    head = ("| turn | kind | when (UTC) | load 1 min before / after | CPU ms/melding total | radar | notifier | "
            "intakes (sum) | broker | sustained /s | open-loop ack p99 | open-loop AssessmentDue p99 | "
            "radar settle CPU | radar peak RSS | start-up |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for i, t in enumerate(rows, 1):
        lines.append(f"| {i} | {t['kind']} | {t['when'][11:19]} | {t['load_before']:.1f} / {t['load_after']:.1f} | "
                     f"{t['cpu_total']:.2f} | {t['cpu_radar']:.2f} | {t['cpu_notifier']:.2f} | {t['cpu_intakes']:.2f} | "
                     f"{t['cpu_broker']:.2f} | {t['sustained_per_s']:.0f} | {t['open_ack_p99_ms']:.0f} ms | "
                     f"{t['open_assessment_p99_ms']:.0f} ms | {t['settle_cpu_s']['radar']:.1f} s | "
                     f"{t['peak_rss_mib']['radar']:.0f} MiB | {t['startup_s']:.0f} s |")
    return "\n".join(lines) + "\n"


def means(rows: list[dict[str, Any]], kind: str) -> dict[str, float]:
    own = [t for t in rows if t["kind"] == kind]
    keys = ("cpu_total", "cpu_radar", "cpu_notifier", "cpu_intakes", "cpu_broker")
    return {k: sum(t[k] for t in own) / len(own) for k in keys} if own else {}


async def test_cpu_per_melding_stays_flat_with_history(tmp_path: pathlib.Path) -> None:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("every turn needs a fresh broker: runs on the embedded one only")
    assert TURNS[0] == "empty", "the first turn is empty: it tells how many access-log records a year holds"
    built = radar_state(CACHE)
    print(f"\nradar state: {json.dumps(built)}", flush=True)
    turns, rows = Turns(tmp_path), []
    for i, kind in enumerate(TURNS, 1):
        var = tmp_path / f"turn-{i}-{kind}"
        with (tmp_path / f"broker-{i}.log").open("wb") as log, EmbeddedBroker(log=log) as broker:
            print(f"\nturn {i}: {kind}", flush=True)
            profile = pathlib.Path(PROFILE) / f"{i}-{kind}" if PROFILE else None
            r = await run_pipeline(broker.bootstrap_servers, var, RESULTS / "flat-turns" / f"{i}-{kind}", n=N,
                                   concurrency=CONCURRENCY, seed=SEED, tenants=TENANTS, profile_dir=profile,
                                   open_rate=RATE, open_seconds=OPEN_SECONDS, prepare=turns.prepare(kind),
                                   settle_seconds=SETTLE, settle_quiet=QUIET)
        assert r["assessed_cases"] == r["scheduled_cases"] == r["meldingen"]
        radar_log = (var / "logs" / "radar.log").read_text(errors="replace")
        rows.append(summary(kind, r, radar_log))
        if kind == "empty" and not turns.audit_year:
            turns.learn_audit_year(var / "data", r["meldingen"] + r["open_loop"]["count"])
            print(f"a year of access-log records: {json.dumps(turns.audit_year)}", flush=True)
    empty, full = means(rows, "empty"), means(rows, "full")
    results = {"years": YEARS, "radar_state": built, "n": N, "tenants": list(TENANTS), "settle_seconds": SETTLE,
               "audit_records_per_melding": turns.audit_per_melding, "audit_records_a_year": turns.audit_year,
               "turns": rows, "mean_empty": empty, "mean_full": full,
               "full_over_empty": {k: full[k] / empty[k] for k in empty if empty[k]} if full else {}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "flat.json").write_text(json.dumps(results, indent=2))
    table = markdown(rows)
    (RESULTS / "flat.md").write_text(table)
    print("\n" + table)
    print(f"full / empty (means): {json.dumps(results['full_over_empty'])}")
