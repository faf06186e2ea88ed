"""Radar's indexes beside the case table, so that what reads open or recent cases does not read every case radar ever
had, and its cost does not grow with radar's history (docs/architecture.md, "Case lifecycle"):
- the index of open work: the ids of the cases that still have something pending (`CaseRecord.has_open_work`), read
  by the deadline scan, the deadline gauges and ListOverdue;
- the index of recent decisions: case id -> what the norms count of its decision and onderzoek outcome, with the last
  day they count it by (lifecycle.Decided), for the cases decided or ended in the last RECENT_DAYS, read by the norm
  gauges and GetNorms (with the open cases: what the norms count) without reading the case records. Older entries
  are pruned (`stale_entries`).

Each index is a faust table like `cases` (key: case id; value: the case's tenant, or its Decided), written through the same staged
batch as the case record (radar.staging) with the same record's event: it is in the same changelog partition as
its case, belongs to whichever worker owns the case, and comes back after a restart or a broker loss exactly as
`cases` does (docs/architecture.md, "Broker loss"). A reader checks every record it loads again
(`has_open_work`), so an entry left behind (see `stage_case`) costs one read and never changes a result."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from aiokafka.partitioner import DefaultPartitioner
from faust.streams import _current_event

from radar.domain.cases import CaseRecord
from radar.domain.lifecycle import Decided
from radar.staging import DELETED, Staged

Table = MutableMapping[str, Any]


def stage_case(staged: Staged, cases: Table, index: Table, case_id: str, record: CaseRecord | None,
               recent: Table | None = None) -> None:
    """Stage a case record (None: the case is forgotten, a destroyed dossier) and its index entries together: they
    are applied in the same batch, after the same acknowledged outputs (radar.app, handle_batch)."""
    staged.put(cases, case_id, record.to_dict() if record is not None else None)
    if record is not None and record.has_open_work:
        staged.put(index, case_id, record.tenant_id)
    else:
        staged.delete(index, case_id)
    if recent is None:
        return
    decided = Decided.of(record) if record is not None else None
    if decided is not None:
        staged.put(recent, case_id, decided.to_dict())
    elif record is None:  # a decision is never undone: only a forgotten case leaves the index this way
        staged.delete(recent, case_id)


def open_records(cases: Mapping[str, Any], index: Mapping[str, Any]) -> list[CaseRecord]:
    """The records of the cases in the index that still have open work: exactly the cases with open work, as
    every write of a case writes its entry (`stage_case`)."""
    records = []
    for case_id in list(index.keys()):
        data = cases.get(case_id)
        record = CaseRecord.from_dict(data) if data else None
        if record is not None and record.has_open_work:
            records.append(record)
    return records


def decided_since(values: Iterable[Any], first: dt.date) -> list[Decided]:
    """Of values of the index of recent decisions, those of the cases decided or ended on or after `first`: the norms of
    a period from `first` on count these (and the open cases, from the index of open work)."""
    low = first.isoformat()
    return [Decided.from_dict(value) for value in values if value and value["day"] >= low]


def stale_entries(recent: Mapping[str, Any], before: dt.date) -> list[str]:
    """The ids of entries whose last counted day is before `before` (to prune: no period read from the index counts
    them any more)."""
    low = before.isoformat()
    return [case_id for case_id, value in list(recent.items()) if not value or value["day"] < low]


def has_any(table: Mapping[str, Any]) -> bool:
    """Whether the table holds a key (len() of a rocksdb table counts every key)."""
    return next(iter(table.keys()), None) is not None


# -- building the index of an existing installation once ----------------------------------------------------------


def partition_of(case_id: str, partitions: int) -> int:
    """The partition of a case: its records (intake and assessments) are keyed by the case id and placed by the
    producers' default (murmur2) partitioner, so its table rows are in that partition's changelog too
    (services/radar/README.md, "faust + tansu")."""
    return int(DefaultPartitioner()(case_id.encode(), list(range(partitions)), None))


@dataclass
class _Message:
    topic: str
    partition: int


@dataclass
class _PartitionEvent:
    """What faust needs of the current event to write a table key: the partition (and source topic) of its changelog."""
    message: _Message


def write_in_partition(table: Table, key: str, value: Any, topic: str, partition: int) -> None:
    """Write a table key outside an agent into `partition` of its changelog (faust takes the partition from the
    current event, radar.staging); DELETED removes it."""
    event = _PartitionEvent(_Message(topic, partition))
    token = _current_event.set(weakref.ref(event))  # type: ignore[arg-type]
    try:
        if value is DELETED:
            if key in table:
                del table[key]
        else:
            table[key] = value
    finally:
        _current_event.reset(token)


def entries_to_index(cases: Iterable[tuple[str, Any]], owned: Callable[[str], bool]) -> Iterator[tuple[str, str]]:
    """(case id, tenant) of every case with open work among `cases` that this worker owns."""
    for case_id, data in cases:
        if data and owned(case_id):
            record = CaseRecord.from_dict(data)
            if record.has_open_work:
                yield case_id, record.tenant_id


def recent_to_index(cases: Iterable[tuple[str, Any]], owned: Callable[[str], bool],
                    since: dt.date) -> Iterator[tuple[str, dict[str, Any]]]:
    """(case id, Decided as stored) of every case this worker owns among `cases` decided or ended on or after `since`."""
    for case_id, data in cases:
        if data and owned(case_id):
            decided = Decided.of(CaseRecord.from_dict(data))
            if decided is not None and decided.day >= since:
                yield case_id, decided.to_dict()
