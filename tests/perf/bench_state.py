"""Radar's table state after 10 simulated years of national history (`make bench BENCH_K=state`, docs/measurements.md).

    make bench BENCH_K=state      (RADAR_STATE_YEARS=10, RADAR_STATE_MELDINGEN=127340 a year, CBS 2023)

Fast path, no broker: the meldingen of RADAR_STATE_YEARS years (the proportions of loadgen's LoadProfile:
28% repeat signals in the same region, 3% cross-region, one RvdK signal per 20 meldingen, 54% in the west)
go through radar's own domain functions in the order the agents apply them: the intake agent's case record
(CaseRecord), the person agent's history (apply_melding / apply_rvdk / apply_case_closed), and a decision
about a week later (CaseRecord.close, with monitoring for the MONITORED_DECISIONS). Every table write is
stored as faust stores it (JSON key and value, rocksdict, one store per table) and counted as one changelog
record. What is skipped: protobuf envelopes, sealing/opening of identities (the pseudonym is the same HMAC
of "bsn:<bsn>"), the broker. Reported per simulated year: live keys, rocksdict bytes on disk (after
compaction), changelog bytes written, and the compacted changelog (last value per key): whether radar's own
pruning (expired monitoring, the last MAX_PROCESSED_IDS event ids) keeps it bounded.
Results: var/bench/radar_state.json and radar_state.md."""

from __future__ import annotations

import datetime as dt
import heapq
import json
import os
import pathlib
import random
import time
from collections.abc import Callable

import pytest
from devstack.processes import ROOT
from loadgen import LoadProfile
from loadgen.generate import WEST
from radar.domain.cases import DEFAULT_MONITORING_DAYS, MONITORED_DECISIONS, CaseRecord, Decision
from radar.domain.deadlines import assessment_deadline
from radar.domain.history import apply_case_closed, apply_melding, apply_rvdk
from radar.domain.model import CaseClosedFact, MeldingFact, Outcome, PersonHistory, RvdkFact
from rocksdict import Rdict
from simulators.rvdk import random_bsn
from vtkit.crypto import Pseudonymizer
from vtkit.tenants import all_tenants

pytestmark = pytest.mark.bench

YEARS = int(os.environ.get("RADAR_STATE_YEARS", "10"))
PER_YEAR = int(os.environ.get("RADAR_STATE_MELDINGEN", "127340"))
RESULTS = pathlib.Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "var" / "bench"))
# Decisions (assumption; CBS publishes no split): onderzoek, conditions with follow-up, handover, nothing further.
DECISIONS = [(Decision.ONDERZOEK, 0.25), (Decision.VOORWAARDEN_EN_VERVOLG, 0.30), (Decision.OVERDRACHT, 0.30),
             (Decision.NO_FURTHER_STEPS, 0.15)]
RECENT = 5000
START = dt.datetime(2016, 1, 1, tzinfo=dt.UTC)


class Table:
    """One radar table as faust keeps it: a rocksdict store plus the bytes its changelog receives."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.db = Rdict(str(path))
        self.cache: dict[str, dict] = {}  # type: ignore[type-arg]  # the live values (faust reads the store)
        self.changelog_bytes = 0
        self.writes = 0

    def get(self, key: str) -> dict | None:  # type: ignore[type-arg]
        return self.cache.get(key)

    def put(self, key: str, value: dict) -> None:  # type: ignore[type-arg]
        k, v = json.dumps(key).encode(), json.dumps(value).encode()
        self.db[k] = v
        self.cache[key] = value
        self.changelog_bytes += len(k) + len(v)
        self.writes += 1

    def figures(self) -> dict[str, float]:
        self.db.flush()
        self.db.compact_range(None, None)
        disk = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        compacted = sum(len(json.dumps(k)) + len(json.dumps(v)) for k, v in self.cache.items())
        return {"keys": len(self.cache), "disk_bytes": disk, "changelog_bytes": self.changelog_bytes,
                "changelog_records": self.writes, "compacted_changelog_bytes": compacted}


def test_table_state_after_years_of_history(tmp_path: pathlib.Path) -> None:
    rng = random.Random(10)
    profile = LoadProfile()
    tenants = sorted(all_tenants())
    west, rest = [t for t in tenants if t in WEST], [t for t in tenants if t not in WEST]
    pseudonymizer = Pseudonymizer(b"k" * 32)
    persons, cases = Table(tmp_path / "persons"), Table(tmp_path / "cases")
    seen: dict[str, list[str]] = {t: [] for t in tenants}
    recent: list[tuple[str, str]] = []
    pending: list[tuple[dt.datetime, str]] = []  # heap of (decision time, case id)
    step = dt.timedelta(days=365) / PER_YEAR
    per_year = []
    weights = [w for _, w in DECISIONS]
    t0 = time.perf_counter()

    def person_update(pseudonym: str, apply: Callable[..., Outcome], *args: object) -> None:
        outcome = apply(PersonHistory.from_dict(persons.get(pseudonym)), *args)
        if not outcome.duplicate:
            persons.put(pseudonym, outcome.history.to_dict())

    def decide_until(now: dt.datetime) -> None:
        while pending and pending[0][0] <= now:
            at, case_id = heapq.heappop(pending)
            record = CaseRecord.from_dict(cases.get(case_id))
            decision = rng.choices([d for d, _ in DECISIONS], weights)[0]
            record.close(at, decision, DEFAULT_MONITORING_DAYS, f"fp-{case_id}", f"ev-{case_id}")
            cases.put(case_id, record.to_dict())
            for person_id, pseudonym in record.persons.items():
                fact = CaseClosedFact(record.tenant_id, case_id, person_id, at, record.monitor_until)
                person_update(pseudonym, apply_case_closed, fact, f"closed-{case_id}-{person_id}")

    for n in range(YEARS * PER_YEAR):
        now = START + step * n
        decide_until(now)
        tenant = rng.choice(west if rng.random() < 0.54 else rest)
        draw = rng.random()
        if draw < profile.repeat_share and seen[tenant]:
            bsn = rng.choice(seen[tenant])
        elif draw < profile.repeat_share + profile.cross_region_share and recent:
            bsn = rng.choice(recent)[1]
        else:
            bsn = random_bsn(rng)
        seen[tenant].append(bsn)
        if len(recent) < RECENT:
            recent.append((tenant, bsn))
        else:  # a ring of the last RECENT children, as loadgen draws cross-region repeats from
            recent[n % RECENT] = (tenant, bsn)
        pseudonym = pseudonymizer.pseudonym(b"bsn:" + bsn.encode())
        case_id, person_id = f"case-{n}", f"person-{n}"
        deadline = assessment_deadline(now, rng.random() < profile.acute_share)
        cases.put(case_id, CaseRecord(tenant, case_id, deadline.due_at, {person_id: pseudonym}, "due").to_dict())
        fact = MeldingFact(tenant, case_id, person_id, now)
        person_update(pseudonym, apply_melding, fact, f"melding-{n}", now)
        if rng.random() < profile.rvdk_per_melding:
            other = pseudonymizer.pseudonym(b"bsn:" + rng.choice(recent)[1].encode())
            info = RvdkFact(f"rvdk-{n}", 1, now, "rvdk-utrecht")
            person_update(other, apply_rvdk, info, f"rvdk-{n}", now)
        heapq.heappush(pending, (now + dt.timedelta(days=rng.uniform(3, 10)), case_id))
        if (n + 1) % PER_YEAR == 0:
            year = (n + 1) // PER_YEAR
            figures = {"year": year, "seconds": round(time.perf_counter() - t0, 1),
                       "persons": persons.figures(), "cases": cases.figures()}
            per_year.append(figures)
            print(f"year {year}: {json.dumps(figures)}", flush=True)

    monitored = sum(1 for v in persons.cache.values() if v.get("monitored"))
    results = {"years": YEARS, "meldingen_per_year": PER_YEAR, "per_year": per_year,
               "persons_under_monitoring_at_end": monitored,
               "monitored_decisions": sorted(d.value for d in MONITORED_DECISIONS),
               "note": "fast path: radar's domain functions and table serialisation into rocksdict, no broker"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "radar_state.json").write_text(json.dumps(results, indent=2))
    mib = 1024 * 1024
    lines = ["| year | persons keys | cases keys | rocksdict on disk (persons + cases) | changelog written | "
             "compacted changelog |", "|---|---|---|---|---|---|"]
    for y in per_year:
        p, c = y["persons"], y["cases"]
        lines.append(f"| {y['year']} | {p['keys']:,} | {c['keys']:,} | {(p['disk_bytes'] + c['disk_bytes']) / mib:.0f} MiB"
                     f" | {(p['changelog_bytes'] + c['changelog_bytes']) / mib:.0f} MiB"
                     f" | {(p['compacted_changelog_bytes'] + c['compacted_changelog_bytes']) / mib:.0f} MiB |")
    (RESULTS / "radar_state.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    assert len(per_year) == YEARS
