"""Radar's index of open work: the ids of the cases that still have something pending (`CaseRecord.has_open_work`),
kept beside the case table so that the deadline scan, the deadline gauges and ListOverdue read the open cases only
and their cost does not grow with radar's history (docs/architecture.md, "Case lifecycle").

The index is a faust table like `cases` (key: case id, value: the case's tenant), written through the same staged
batch as the case record (radar.staging) with the same record's event: it is in the same changelog partition as
its case, belongs to whichever worker owns the case, and comes back after a restart or a broker loss exactly as
`cases` does (docs/architecture.md, "Broker loss"). A reader checks every record it loads again
(`has_open_work`), so an entry left behind (see `stage_case`) costs one read and never changes a result."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from aiokafka.partitioner import DefaultPartitioner
from faust.streams import _current_event

from radar.domain.cases import CaseRecord
from radar.staging import Staged

Table = MutableMapping[str, Any]


def stage_case(staged: Staged, cases: Table, index: Table, case_id: str, record: CaseRecord | None) -> None:
    """Stage a case record (None: the case is forgotten, a destroyed dossier) and its index entry together: they are
    applied in the same batch, after the same acknowledged outputs (radar.app, handle_batch)."""
    staged.put(cases, case_id, record.to_dict() if record is not None else None)
    if record is not None and record.has_open_work:
        staged.put(index, case_id, record.tenant_id)
    else:
        staged.delete(index, case_id)


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
    current event, radar.staging)."""
    event = _PartitionEvent(_Message(topic, partition))
    token = _current_event.set(weakref.ref(event))  # type: ignore[arg-type]
    try:
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
