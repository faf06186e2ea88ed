"""Radar's tables after years of national history, written where a radar process finds them on start
(tests/perf/bench_flat.py; docs/measurements.md, "CPU per melding with a long history").

The history is simulated as tests/perf/bench_state.py does (radar's own domain functions, loadgen's proportions,
127,340 meldingen a year), with two differences so that the end state is one radar could be in today: the years end
now (a case's deadline is relative to the moment radar starts on it), and every onderzoek gets its outcome 4-10 weeks
after the decision (bench_state keeps them open for ever, which would leave a quarter of all cases open work).

The tables are written as radar's faust worker keeps them (radar.app): a rocksdict store per table and partition,
`<VT_DATA_DIR>/radar/v1/tables/<table>-<partition>.db`, raw mode, keys and values as JSON; each key in the partition
its records are keyed into (radar.open_work.partition_of: the producers' murmur2 of the case id or pseudonym), the
index of open cases (radar.open_work) beside the cases. No offset is stored: on a fresh broker faust finds nothing to
recover in the (empty) changelogs and reads the stores as they are, which is how radar comes back after a broker
loss (docs/architecture.md, "Broker loss"). Only the final value of each key is written (in key order, then
compacted), not the years of overwrites a live store had.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import pathlib
import random
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from loadgen import LoadProfile
from loadgen.generate import WEST
from radar.domain.cases import DEFAULT_MONITORING_DAYS, CaseRecord, Decision, monitoring_until
from radar.domain.deadlines import assessment_deadline
from radar.domain.history import apply_case_closed, apply_melding, apply_rvdk
from radar.domain.lifecycle import RECENT_DAYS, Decided
from radar.domain.model import CaseClosedFact, MeldingFact, Outcome, PersonHistory, RvdkFact
from radar.open_work import partition_of
from rocksdict import Options, Rdict
from simulators.rvdk import random_bsn
from vtkit.calendar import local_date
from vtkit.crypto import Pseudonymizer
from vtkit.tenants import all_tenants

MELDINGEN_PER_YEAR = 127_340  # CBS 2023 (docs/domain.md section 9)
PARTITIONS = 4  # radar's tables are co-partitioned with its source topics (vtkit.topics)
# Decisions (assumption, as tests/perf/bench_state.py; CBS publishes no split) and an onderzoek's follow-up.
DECISIONS = [(Decision.ONDERZOEK, 0.25), (Decision.VOORWAARDEN_EN_VERVOLG, 0.30), (Decision.OVERDRACHT, 0.30),
             (Decision.NO_FURTHER_STEPS, 0.15)]
FOLLOW_UPS = [Decision.VOORWAARDEN_EN_VERVOLG, Decision.OVERDRACHT, Decision.NO_FURTHER_STEPS]
RECENT = 5000  # the ring of recent children loadgen draws cross-region repeats from


@dataclass
class Tables:
    """The live value of every key, per table, as radar would hold them at the end of the history."""

    persons: dict[str, dict[str, Any]] = field(default_factory=dict)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)

    def open_cases(self) -> dict[str, str]:
        """case id -> tenant of every case with open work (radar.open_work's index)."""
        records = (CaseRecord.from_dict(value) for value in self.cases.values())
        return {r.case_id: r.tenant_id for r in records if r.has_open_work}

    def recent_cases(self, end: dt.datetime) -> dict[str, dict[str, Any]]:
        """radar.open_work's index of recent decisions at `end`."""
        return recent_index(self.cases.items(), end)


def recent_index(cases: Iterable[tuple[str, dict[str, Any]]], end: dt.datetime) -> dict[str, dict[str, Any]]:
    """case id -> what the norms count of it (lifecycle.Decided), for the cases decided or ended in the RECENT_DAYS
    before `end` (radar.open_work)."""
    since = local_date(end) - dt.timedelta(days=RECENT_DAYS)
    decided = (Decided.of(CaseRecord.from_dict(value)) for _, value in cases)
    return {d.case_id: d.to_dict() for d in decided if d is not None and d.day >= since}


def simulate(years: float, pseudonymizer: Pseudonymizer, *, end: dt.datetime, seed: int = 10,
             per_year: int = MELDINGEN_PER_YEAR, progress: Callable[[str], None] = print) -> Tables:
    """The tables after `years` of meldingen ending at `end`."""
    rng, profile, tables = random.Random(seed), LoadProfile(), Tables()
    tenants = sorted(all_tenants())
    west, rest = [t for t in tenants if t in WEST], [t for t in tenants if t not in WEST]
    seen: dict[str, list[str]] = {t: [] for t in tenants}
    recent: list[str] = []
    decisions: list[tuple[dt.datetime, str]] = []  # heap of (decision time, case id)
    outcomes: list[tuple[dt.datetime, str]] = []  # heap of (onderzoek outcome time, case id)
    total = round(years * per_year)
    step = dt.timedelta(days=365) / per_year
    start, t0 = end - step * total, time.perf_counter()

    def person_update(pseudonym: str, apply: Callable[..., Outcome], *args: object) -> None:
        outcome = apply(PersonHistory.from_dict(tables.persons.get(pseudonym)), *args)
        if not outcome.duplicate:
            tables.persons[pseudonym] = outcome.history.to_dict()

    def closed(record: CaseRecord, at: dt.datetime, label: str) -> None:
        tables.cases[record.case_id] = record.to_dict()
        for person_id, pseudonym in record.persons.items():
            fact = CaseClosedFact(record.tenant_id, record.case_id, person_id, at, record.monitor_until,
                                  onderzoek_open=record.onderzoek_open)
            person_update(pseudonym, apply_case_closed, fact, f"{label}-{record.case_id}-{person_id}")

    def decide_until(now: dt.datetime) -> None:
        while decisions and decisions[0][0] <= now:
            at, case_id = heapq.heappop(decisions)
            record = CaseRecord.from_dict(tables.cases[case_id])
            decision = rng.choices([d for d, _ in DECISIONS], [w for _, w in DECISIONS])[0]
            record.close(at, decision, DEFAULT_MONITORING_DAYS, f"fp-{case_id}", f"ev-{case_id}")
            if decision is Decision.ONDERZOEK:
                record.onderzoek_started_at = at
                heapq.heappush(outcomes, (at + dt.timedelta(weeks=rng.uniform(4, 10)), case_id))
            closed(record, at, "closed")
        while outcomes and outcomes[0][0] <= now:
            at, case_id = heapq.heappop(outcomes)
            record = CaseRecord.from_dict(tables.cases[case_id])
            record.onderzoek_completed_at = at
            record.onderzoek_follow_up = rng.choice(FOLLOW_UPS)
            record.monitor_until = monitoring_until(record.onderzoek_follow_up, at)
            closed(record, at, "outcome")

    for n in range(total):
        now = start + step * n
        decide_until(now)
        tenant = rng.choice(west if rng.random() < profile.west_share else rest)
        draw = rng.random()
        if draw < profile.repeat_share and seen[tenant]:
            bsn = rng.choice(seen[tenant])
        elif draw < profile.repeat_share + profile.cross_region_share and recent:
            bsn = rng.choice(recent)
        else:
            bsn = random_bsn(rng)
        seen[tenant].append(bsn)
        if len(recent) < RECENT:
            recent.append(bsn)
        else:
            recent[n % RECENT] = bsn
        pseudonym = pseudonymizer.pseudonym(b"bsn:" + bsn.encode())
        case_id, person_id = f"history-case-{n}", f"history-person-{n}"
        deadline = assessment_deadline(now, rng.random() < profile.acute_share)
        tables.cases[case_id] = CaseRecord(tenant, case_id, deadline.due_at, {person_id: pseudonym}, "due").to_dict()
        person_update(pseudonym, apply_melding, MeldingFact(tenant, case_id, person_id, now), f"melding-{n}", now)
        if rng.random() < profile.rvdk_per_melding:
            other = pseudonymizer.pseudonym(b"bsn:" + rng.choice(recent).encode())
            person_update(other, apply_rvdk, RvdkFact(f"rvdk-{n}", 1, now, "rvdk-utrecht"), f"rvdk-{n}", now)
        # Decided 3-10 days later; those still ahead of `end` are open work when radar starts.
        heapq.heappush(decisions, (now + dt.timedelta(days=rng.uniform(3, 10)), case_id))
        if (n + 1) % per_year == 0:
            progress(f"history: year {(n + 1) // per_year} of {years:g} simulated ({time.perf_counter() - t0:.0f} s)")
    decide_until(end)
    return tables


def table_dir(data_dir: pathlib.Path) -> pathlib.Path:
    """Where radar's faust worker keeps its table stores (radar.settings: state_dir; faust: v1/tables)."""
    return data_dir / "radar" / "v1" / "tables"


def write_stores(tables: Tables, data_dir: pathlib.Path, end: dt.datetime) -> dict[str, int]:
    """Write the tables into radar's stores under `data_dir` (VT_DATA_DIR); returns the keys per table."""
    counts = {}
    for name, rows in (("persons", tables.persons), ("cases", tables.cases), ("open_cases", tables.open_cases()),
                       ("recent_cases", tables.recent_cases(end))):
        counts[name] = write_store(data_dir, name, rows)
    return counts


def write_store(data_dir: pathlib.Path, name: str, rows: Mapping[str, Any]) -> int:
    """One table's stores, each key in its partition's."""
    directory = table_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stores = [Rdict(str(directory / f"{name}-{p}.db"), options=Options(raw_mode=True)) for p in range(PARTITIONS)]
    for key in sorted(rows):
        stores[partition_of(key, PARTITIONS)][json.dumps(key).encode()] = json.dumps(rows[key]).encode()
    for store in stores:
        store.flush()
        store.compact_range(None, None)
        store.close()
    return len(rows)


def add_recent_index(data_dir: pathlib.Path, end: dt.datetime) -> int:
    """A state written before radar kept its index of recent decisions gets it, from its case stores."""
    directory = table_dir(data_dir)
    rows: dict[str, dict[str, Any]] = {}
    for p in range(PARTITIONS):
        store = Rdict(str(directory / f"cases-{p}.db"), options=Options(raw_mode=True))
        try:
            rows.update(recent_index(((json.loads(cast(bytes, k)), json.loads(cast(bytes, v))) for k, v in store.items()), end))
        finally:
            store.close()
    return write_store(data_dir, "recent_cases", rows)


def copy_stores(template: pathlib.Path, data_dir: pathlib.Path) -> None:
    """Put the stores built once under `template` (a VT_DATA_DIR) into another data directory."""
    shutil.copytree(table_dir(template), table_dir(data_dir), dirs_exist_ok=True)


def disk_bytes(data_dir: pathlib.Path, names: Sequence[str] = ("persons", "cases", "open_cases", "recent_cases")) -> int:
    return sum(f.stat().st_size for name in names for f in table_dir(data_dir).glob(f"{name}-*.db/*") if f.is_file())
