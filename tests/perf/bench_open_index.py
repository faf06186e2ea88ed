"""What radar's index of open cases saves (`make bench BENCH_K=open_index`; docs/architecture.md, "Case lifecycle").

    make bench BENCH_K=open_index     (OPEN_INDEX_CLOSED=200000 closed cases, OPEN_INDEX_OPEN=500 open ones)

No broker: RadarStreams with its two tables as faust's memory store keeps them (a dict of plain values), filled
through radar's own functions (CaseRecord.close, radar.open_work.stage_case and the staged batch). A third of the
open cases are past their deadline, a fifth are onderzoeken, and some list joined meldingen. Measured (best of
REPEAT): one deadline scan as it was (every case read: the deadline gauges, the norm gauges, Radar.overdue) and as it
is (the open cases through the index; the norm gauges are not due), the norm gauges alone (now at most every 10
minutes), and RecordDecision's episode lookup (joined_meldingen) over every case and over the open ones.
Results: var/bench/open_index.json."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import pathlib
import time
from collections.abc import Callable
from typing import Any

import pytest
from devstack.processes import ROOT
from radar import open_work
from radar.adapters import proto
from radar.app import RadarStreams
from radar.domain.cases import CaseRecord, Decision, joined_meldingen
from radar.domain.lifecycle import Decided
from radar.gauges import record_deadline_gauges, record_norm_gauges
from radar.handlers import Radar
from radar.settings import Settings
from radar.staging import Staged
from vtkit.config import load_settings
from vtkit.keystore import init_keys

pytestmark = pytest.mark.bench

CLOSED = int(os.environ.get("OPEN_INDEX_CLOSED", "200000"))
OPEN = int(os.environ.get("OPEN_INDEX_OPEN", "500"))
REPEAT = 3
RESULTS = pathlib.Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "var" / "bench"))
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DECISIONS = [Decision.ONDERZOEK, Decision.VOORWAARDEN_EN_VERVOLG, Decision.OVERDRACHT, Decision.NO_FURTHER_STEPS]


def closed_case(n: int) -> CaseRecord:
    """A case of the last ten years, decided about a week after its melding; an onderzoek ended in 10 weeks."""
    received = NOW - dt.timedelta(days=3650 * n / CLOSED + 80)
    record = CaseRecord("utrecht" if n % 2 else "zeeland", f"closed-{n}", received + dt.timedelta(days=5),
                        {"p1": f"pseudonym-{n}"}, "due")
    record.close(received + dt.timedelta(days=4 + n % 5), DECISIONS[n % len(DECISIONS)])
    if record.onderzoek_due_at is not None:
        record.onderzoek_completed_at = record.onderzoek_due_at - dt.timedelta(days=n % 20)
    return record


def open_case(n: int) -> CaseRecord:
    """Undecided (a third past its deadline; some with joined meldingen) or a running onderzoek (one in five)."""
    due = NOW + dt.timedelta(days=(n % 3) - 1)
    record = CaseRecord("utrecht" if n % 2 else "zeeland", f"open-{n}", due, {"p1": f"open-pseudonym-{n}"}, "due")
    if n % 5 == 0:
        record.close(NOW - dt.timedelta(days=n % 80), Decision.ONDERZOEK)
    elif n % 7 == 0:
        record.episode_members = [f"open-{n + 1}"]
    return record


def streams_with_history(tmp_path: pathlib.Path) -> RadarStreams:
    env = {"VT_KEY_DIR": str(tmp_path / "keys"), "VT_DATA_DIR": str(tmp_path), "RADAR_TABLE_STORE": "memory",
           "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}
    keys = init_keys(tmp_path / "keys")
    radar = Radar(keys.seal_opener("radar"), keys.pseudonymizer(), encoding=proto)
    settings = load_settings(Settings, env)
    streams = RadarStreams(settings, settings.kafka, radar, producer=None)  # type: ignore[arg-type]
    streams.cases, streams.open_index, streams.recent_index = {}, {}, {}  # type: ignore[assignment]  # faust's memory store: a dict
    every = [closed_case(n) for n in range(CLOSED)] + [open_case(n) for n in range(OPEN)]
    for start in range(0, len(every), 500):  # batches of the agents' size
        staged = Staged()
        for record in every[start:start + 500]:
            open_work.stage_case(staged, streams.cases, streams.open_index, record.case_id, record)
        staged.apply()
    return streams


def best(action: Callable[[], Any]) -> float:
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        action()
        times.append(time.perf_counter() - t0)
    return min(times)


def test_deadline_scan_and_episode_lookup_read_the_open_cases_only(tmp_path: pathlib.Path) -> None:
    streams = streams_with_history(tmp_path)
    assert len(streams.open_index) == OPEN

    async def publish(outputs: list[Any], traces: Any = None) -> None:
        pass

    streams.publish = publish  # type: ignore[method-assign]

    def scan_before() -> None:  # scan_deadlines as it was: every case, every 30 s
        cases = streams.all_cases()
        record_deadline_gauges(cases, NOW)
        record_norm_gauges(cases, [d for c in cases if (d := Decided.of(c)) is not None], NOW)
        streams.radar.overdue(cases, NOW)

    def scan_after() -> None:
        streams._norm_gauges_due = time.monotonic() + 3600  # the norm gauges are not due at this scan
        asyncio.run(streams.scan_deadlines())

    def norm_gauges() -> None:  # at most every 10 minutes now
        streams._norm_gauges_due = 0.0
        asyncio.run(streams._record_norm_gauges_when_due(NOW))

    overdue_before = streams.radar.overdue(streams.all_cases(), NOW)
    assert overdue_before == streams.radar.overdue(streams.open_cases(), NOW) and overdue_before
    assert joined_meldingen(streams.all_cases()) == joined_meldingen(streams.open_cases())
    figures = {
        "closed_cases": CLOSED, "open_cases": OPEN, "overdue_reports": len(overdue_before),
        "scan_before_s": best(scan_before), "scan_after_s": best(scan_after), "norm_gauges_s": best(norm_gauges),
        "episode_lookup_before_s": best(lambda: joined_meldingen(streams.all_cases()).get("open-1", "")),
        "episode_lookup_after_s": best(lambda: joined_meldingen(streams.open_cases()).get("open-1", "")),
    }
    print(json.dumps(figures, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "open_index.json").write_text(json.dumps(figures, indent=2))
    assert figures["scan_after_s"] < figures["scan_before_s"]
