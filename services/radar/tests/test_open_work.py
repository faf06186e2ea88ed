"""Radar's index of open work (radar.open_work; docs/architecture.md, "Case lifecycle"): every write of a case record
writes its index entry in the same batch, and what the deadline scan, ListOverdue and RecordDecision compute from the
open cases is what they computed from every case."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiokafka.partitioner import DefaultPartitioner
from faust.streams import current_event
from faust.types import TP
from hypothesis import given, settings
from hypothesis import strategies as st
from radar import open_work
from radar.adapters import proto
from radar.app import NORM_GAUGES_SECONDS, PARTITIONS, RadarStreams
from radar.domain.cases import CaseRecord, Decision, joined_meldingen
from radar.domain.decisions import DecisionInput, Judgement
from radar.domain.lifecycle import NORM_DAYS, RECENT_DAYS, Decided, counts_for_norms, norms, norms_of
from radar.domain.overdue import overdue_of
from radar.gauges import deadline_counts
from radar.grpc_api import RadarApi
from radar.handlers import Radar
from radar.outputs import Out
from radar.settings import Settings
from radar.staging import Staged
from simulators.rvdk import random_bsn
from vt.intake.v1 import events_pb2 as intake_events
from vtkit import metrics, topics
from vtkit.calendar import local_date
from vtkit.config import load_settings
from vtkit.envelope import decode, encode, envelope_for, new_event_id
from vtkit.keystore import KeyStore
from vttest.radar import melding_received

TENANT = "utrecht"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class CountingTable(dict[str, Any]):
    """A table double with faust's mapping interface that counts the values read (get, values, items)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.reads += 1
        return super().get(key, default)

    def values(self) -> Any:
        self.reads += len(self)
        return super().values()

    def items(self) -> Any:
        self.reads += len(self)
        return super().items()


@pytest.fixture()
def streams(tmp_path: pathlib.Path, keys: KeyStore) -> RadarStreams:
    """RadarStreams with its handlers and radar's use cases, the two tables replaced by doubles."""
    env = {"VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(tmp_path), "RADAR_TABLE_STORE": "memory",
           "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}
    radar = Radar(keys.seal_opener("radar"), keys.pseudonymizer(), tenant_cipher=keys.tenant_cipher, encoding=proto)
    streams = RadarStreams(load_settings(Settings, env), load_settings(Settings, env).kafka, radar,
                           producer=None)  # type: ignore[arg-type]
    streams.cases, streams.open_index, streams.recent_index = CountingTable(), CountingTable(), CountingTable()  # type: ignore[assignment]
    return streams


async def handle(streams: RadarStreams, topic: str, key: str, value: bytes, headers: Any) -> list[Out]:
    """One record through the agent's handler and a batch of its own (staged, then applied)."""
    staged = Staged()
    message = SimpleNamespace(topic=topic, key=key.encode(), value=value, headers=headers, partition=0, offset=0)
    work = streams._on_assessment if topic == topics.NATIONAL_ASSESSMENTS else streams._on_intake
    await work(decode(value, headers), message, staged)
    staged.apply()
    return staged.outputs


async def read_back(streams: RadarStreams, out: Out | None) -> None:
    """radar's assessments agent reads an event radar wrote (RecordDecision's outbox, its lifecycle steps)."""
    assert out is not None
    await handle(streams, out.topic, out.key, *proto.record(out))


async def melding(streams: RadarStreams, keys: KeyStore) -> str:
    msg = melding_received(keys, TENANT, [random_bsn()], event_id=(event_id := new_event_id()), received_at=NOW)
    value, headers = encode(msg, envelope_for(msg, source=f"intake-{TENANT}", tenant=TENANT, event_id=event_id))
    await handle(streams, topics.intake(TENANT), msg.contact_id, value, headers)
    return msg.contact_id


def indexed(streams: RadarStreams) -> set[str]:
    return set(streams.open_index)


def decision(case_id: str, chosen: Decision) -> DecisionInput:
    return DecisionInput(case_id, Judgement.STRUCTURAL_UNSAFETY, chosen, "", "VT Utrecht", "")


async def test_a_case_is_in_the_index_while_its_assessment_or_onderzoek_is_open(streams: RadarStreams,
                                                                               keys: KeyStore) -> None:
    radar, case_id = streams.radar, await melding(streams, keys)
    assert indexed(streams) == {case_id}  # opened: its assessment is due
    record = streams.case(case_id)
    assert record is not None
    await read_back(streams, radar.record_decision(TENANT, record, decision(case_id, Decision.ONDERZOEK), NOW).output)
    assert indexed(streams) == {case_id}  # decided on an onderzoek: its 10 weeks run
    record = streams.case(case_id)
    assert record is not None and record.closed
    await read_back(streams, radar.record_onderzoek_started(TENANT, record, NOW).output)
    assert indexed(streams) == {case_id}
    record = streams.case(case_id)
    assert record is not None
    outcome = decision(case_id, Decision.NO_FURTHER_STEPS)
    await read_back(streams, radar.record_onderzoek_outcome(TENANT, record, outcome, NOW).output)
    assert indexed(streams) == set()  # the outcome ends the onderzoek: nothing pending
    assert streams.case(case_id) is not None  # the case itself stays


async def test_a_decision_without_onderzoek_and_a_destroyed_dossier_leave_the_index(streams: RadarStreams,
                                                                                   keys: KeyStore) -> None:
    decided, destroyed = await melding(streams, keys), await melding(streams, keys)
    assert indexed(streams) == {decided, destroyed}
    record = streams.case(decided)
    assert record is not None
    chosen = decision(decided, Decision.NO_FURTHER_STEPS)
    await read_back(streams, streams.radar.record_decision(TENANT, record, chosen, NOW).output)
    assert indexed(streams) == {destroyed}
    gone = intake_events.DossierDestroyed(tenant_id=TENANT, dossier_id=destroyed, contact_ids=[destroyed])
    value, headers = encode(gone, envelope_for(gone, source=f"intake-{TENANT}", tenant=TENANT))
    for case_destroyed in await handle(streams, topics.intake(TENANT), destroyed, value, headers):
        await read_back(streams, case_destroyed)  # in the case's own partition of the assessments topic
    assert indexed(streams) == set() and streams.case(destroyed) is None


def test_a_staged_delete_hides_the_key_and_writes_nothing_when_it_is_absent() -> None:
    index: dict[str, Any] = {"open": TENANT}
    staged = Staged()
    staged.delete(index, "open")
    staged.delete(index, "never-there")
    assert staged.get(index, "open") is None and index == {"open": TENANT}  # until the batch is applied
    staged.apply()
    assert index == {}


# -- the open cases give the results all cases gave ----------------------------------------------------------------

MOMENTS = st.integers(min_value=-30, max_value=90).map(lambda days: NOW + dt.timedelta(days=days, hours=days % 7))


@st.composite
def case_records(draw: st.DrawFn, index: int) -> CaseRecord:
    """A case in any state of its life: undecided (maybe reported overdue), decided (maybe on an onderzoek, maybe
    ended, maybe a joined melding decided with its episode), of one of two regions."""
    record = CaseRecord(draw(st.sampled_from([TENANT, "twente"])), f"case-{index}", due_at=draw(MOMENTS))
    record.overdue_reported = draw(st.booleans())
    if draw(st.booleans()):
        record.close(draw(MOMENTS), draw(st.sampled_from(list(Decision)[1:])),
                     episode_case_id=draw(st.sampled_from(["", "case-0"])))
        record.onderzoek_overdue_reported = draw(st.booleans())
        if record.onderzoek_due_at is not None and record.closed_at is not None and draw(st.booleans()):
            record.onderzoek_completed_at = record.closed_at + dt.timedelta(days=draw(st.integers(0, 80)))
    return record


@st.composite
def histories(draw: st.DrawFn) -> list[CaseRecord]:
    records = [draw(case_records(i)) for i in range(draw(st.integers(min_value=0, max_value=25)))]
    ids = [r.case_id for r in records]
    for record in records:  # episodes: later meldingen listed on a case (decided or not)
        if ids and draw(st.booleans()):
            record.episode_members = draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    return records


def tables_of(records: list[CaseRecord]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The case table and its two indexes as the agents leave them, each record written through the staged path."""
    cases: dict[str, Any] = {}
    index: dict[str, Any] = {}
    recent: dict[str, Any] = {}
    for record in records:
        staged = Staged()
        open_work.stage_case(staged, cases, index, record.case_id, record, recent)
        staged.apply()
    return cases, index, recent


@settings(max_examples=150, deadline=None)
@given(histories(), MOMENTS)
def test_scan_overdue_list_and_episodes_from_the_open_cases_equal_those_from_all(records: list[CaseRecord],
                                                                                 now: dt.datetime) -> None:
    cases, index, recent_index = tables_of(records)
    everything = [CaseRecord.from_dict(v) for v in cases.values()]
    open_cases = open_work.open_records(cases, index)
    assert all(r.has_open_work for r in open_cases) and len(index) == len(open_cases)
    assert Radar.overdue(open_cases, now) == Radar.overdue(everything, now)
    assert deadline_counts(open_cases, now) == deadline_counts(everything, now)
    assert joined_meldingen(open_cases) == joined_meldingen(everything)  # RecordDecision's episode lookup
    for tenant in (TENANT, "twente"):
        assert overdue_of(open_cases, tenant, now) == overdue_of(everything, tenant, now)  # ListOverdue
        last = now.date()
        first = last - dt.timedelta(days=NORM_DAYS - 1)
        counted = [r for r in everything if counts_for_norms(r, first)]
        assert norms(counted, tenant, first, last, now) == norms(everything, tenant, first, last, now)
        # GetNorms and the gauges: the open cases and the recent decisions, any period the index reaches
        starts = {local_date(m) for r in everything for m in (r.closed_at, r.onderzoek_completed_at) if m}
        for first in {last - dt.timedelta(days=NORM_DAYS - 1), *(d for d in starts if d <= last)}:  # each edge
            decided = open_work.decided_since(recent_index.values(), first)
            assert norms_of(open_cases, decided, tenant, first, last, now) == norms(everything, tenant, first, last, now)


def test_an_onderzoek_ended_in_the_period_counts_though_its_decision_came_before_it() -> None:
    record = CaseRecord(TENANT, "case-1", due_at=NOW - dt.timedelta(days=40))
    record.close(NOW - dt.timedelta(days=30), Decision.ONDERZOEK)
    record.onderzoek_completed_at = NOW
    cases, index, recent = tables_of([record])
    day = local_date(NOW)
    assert index == {} and [d.case_id for d in open_work.decided_since(recent.values(), day)] == ["case-1"]
    assert norms_of([], open_work.decided_since(recent.values(), day), TENANT, day, day, NOW).onderzoeken.total == 1


# -- what a scan reads -----------------------------------------------------------------------------------------------


def decided_and_open(streams: RadarStreams, long_ago: int, lately: int, open_: int) -> set[str]:
    """Cases written as the agents write them: decided long before the index of recent decisions reaches, decided
    lately, and open. The ids of the open ones."""
    today, opened = dt.datetime.now(dt.UTC), set()
    for n in range(long_ago + lately + open_):
        record = CaseRecord(TENANT, f"case-{n}", due_at=NOW - dt.timedelta(days=1))
        if n < long_ago + lately:
            record.close(today - dt.timedelta(days=RECENT_DAYS + 30 if n < long_ago else 2), Decision.NO_FURTHER_STEPS)
        else:
            opened.add(record.case_id)
        staged = Staged()
        open_work.stage_case(staged, streams.cases, streams.open_index, record.case_id, record, streams.recent_index)
        staged.apply()
    return opened


def own_every_partition(streams: RadarStreams, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams.app.assignor, "assigned_actives",
                        lambda: {TP(streams._cases_changelog, p) for p in range(PARTITIONS)})


async def test_a_scan_reads_the_open_cases_and_the_norms_the_recent_decisions_never_the_old_ones(
        streams: RadarStreams, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = decided_and_open(streams, long_ago=3_000, lately=40, open_=7)
    own_every_partition(streams, monkeypatch)
    published: list[Out] = []

    async def publish(outputs: list[Out], traces: Any = None) -> None:
        published.extend(outputs)

    monkeypatch.setattr(streams, "publish", publish)
    cases: CountingTable = streams.cases  # type: ignore[assignment]
    assert len(streams.recent_index) == 3_040  # written with each decision; the old ones are pruned by the gauges
    cases.reads = 0
    await streams.scan_deadlines()  # the first scan also computes the norm gauges: the open cases and the index
    assert cases.reads == 2 * len(opened) and {o.key for o in published} == opened  # no decided case is read
    assert len(streams.recent_index) == 40
    assert metrics.NORM_SHARE.labels(TENANT, "assessment_in_time")._value.get() == 0.0  # the 40, each decided late
    cases.reads, published[:] = 0, []
    await streams.scan_deadlines()
    assert cases.reads == len(opened) and {o.key for o in published} == opened
    clock = time.monotonic() + NORM_GAUGES_SECONDS
    monkeypatch.setattr(time, "monotonic", lambda: clock)
    cases.reads = 0
    await streams.scan_deadlines()  # ten minutes on: the norm gauges again
    assert cases.reads == 2 * len(opened)


async def test_an_existing_installation_indexes_its_open_and_recent_cases_once_in_their_own_partitions(
        streams: RadarStreams, monkeypatch: pytest.MonkeyPatch) -> None:
    records = [CaseRecord(TENANT, f"case-{n}", due_at=NOW) for n in range(60)]
    for record in records[:40]:
        record.close(NOW, Decision.OVERDRACHT)
    streams.cases.update({r.case_id: r.to_dict() for r in records})
    owned = set(range(0, PARTITIONS, 2))  # this worker's partitions
    monkeypatch.setattr(streams.app.assignor, "assigned_actives",
                        lambda: {TP(streams._cases_changelog, p) for p in owned} | {TP("another-topic", 1)})
    written: dict[str, int] = {}
    monkeypatch.setattr(open_work, "write_in_partition",
                        lambda table, key, value, topic, partition: (table.__setitem__(key, value),
                                                                     written.__setitem__(key, partition)))
    await streams._index_cases_once(now=NOW)
    expected = {r.case_id for r in records[40:] if open_work.partition_of(r.case_id, PARTITIONS) in owned}
    assert expected and indexed(streams) == expected
    decided = {r.case_id for r in records[:40] if open_work.partition_of(r.case_id, PARTITIONS) in owned}
    assert decided and set(streams.recent_index) == decided
    assert all(Decided.from_dict(streams.recent_index[c]) == Decided.of(CaseRecord.from_dict(streams.cases[c]))
               for c in decided)
    assert all(written[c] == open_work.partition_of(c, PARTITIONS) for c in expected | decided)
    # the producers' partitioner: the partition of the records keyed by the case id
    assert all(open_work.partition_of(c, PARTITIONS) == DefaultPartitioner()(c.encode(), list(range(PARTITIONS)), None)
               for c in streams.cases)
    streams.cases.update({"case-new": CaseRecord(TENANT, "case-new", due_at=NOW).to_dict()})
    await streams._index_cases_once(now=NOW)  # built: never again
    assert indexed(streams) == expected and set(streams.recent_index) == decided


def test_a_write_outside_an_agent_names_its_changelog_partition() -> None:
    seen: list[int] = []

    class Table(dict[str, Any]):
        def __setitem__(self, key: str, value: Any) -> None:
            seen.append(current_event().message.partition)  # what faust's table and rocksdb store read
            super().__setitem__(key, value)

    table = Table()
    open_work.write_in_partition(table, "case-1", TENANT, topics.NATIONAL_ASSESSMENTS, 7)
    assert table == {"case-1": TENANT} and seen == [7] and current_event() is None


def test_has_open_work_matches_the_deadline_predicates() -> None:
    record = CaseRecord(TENANT, "c", due_at=NOW)
    assert record.has_open_work
    onderzoek = dataclasses.replace(record)
    onderzoek.close(NOW, Decision.ONDERZOEK)
    assert onderzoek.has_open_work and onderzoek.onderzoek_open
    onderzoek.onderzoek_completed_at = NOW
    assert not onderzoek.has_open_work
    joined = dataclasses.replace(record)
    joined.close(NOW, Decision.ONDERZOEK, episode_case_id="episode")  # its onderzoek is its episode's
    assert not joined.has_open_work


async def settle(streams: RadarStreams, outputs: list[Out]) -> None:
    """Radar reads back what it wrote to its own topics (person signals, episode joins), until nothing follows."""
    while outputs:
        out = outputs.pop(0)
        if out.topic == topics.NATIONAL_RADAR_PERSON:
            outputs += await handle_person(streams, out)
        elif out.topic == topics.NATIONAL_ASSESSMENTS:
            outputs += await handle(streams, out.topic, out.key, *proto.record(out))


async def handle_person(streams: RadarStreams, out: Out) -> list[Out]:
    staged = Staged()
    value, headers = proto.record(out)
    message = SimpleNamespace(topic=out.topic, key=out.key.encode(), value=value, headers=headers, partition=0,
                              offset=0)
    await streams._on_person(decode(value, headers), message, staged)
    staged.apply()
    return staged.outputs


async def test_record_decision_finds_the_episode_through_the_persons_not_every_open_case(streams: RadarStreams,
                                                                                         keys: KeyStore) -> None:
    """RecordDecision refuses a melding that joined its household's open assessment, naming it. The melding joined
    through a shared person, so its persons' cases in the region are the only candidates: radar reads those, not
    every open case (it decoded thousands per decision, on the event loop its agents share)."""
    async def melding_about(*bsns: str) -> str:
        msg = melding_received(keys, TENANT, bsns, event_id=(event_id := new_event_id()), received_at=NOW)
        value, headers = encode(msg, envelope_for(msg, source=f"intake-{TENANT}", tenant=TENANT, event_id=event_id))
        await settle(streams, await handle(streams, topics.intake(TENANT), msg.contact_id, value, headers))
        return msg.contact_id

    streams.persons = CountingTable()  # type: ignore[assignment]
    child = random_bsn()
    first = await melding_about(child)
    others = [await melding_about(random_bsn()) for _ in range(30)]  # open, of other households
    joined = await melding_about(child, random_bsn())
    api = RadarApi(streams, None, streams.radar, commit=None)  # type: ignore[arg-type]
    record = streams.case(joined)
    assert record is not None
    cases = cast(CountingTable, streams.cases)
    before = cases.reads
    episode = api._episode_of(record)
    assert cases.reads - before == 1  # the first melding's record: the only other case of the child
    assert episode == first == joined_meldingen(streams.open_cases()).get(joined)  # what every open case gives
    for other in others:
        other_record = streams.case(other)
        assert other_record is not None and api._episode_of(other_record) == ""
