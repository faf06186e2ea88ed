"""Which worker owns a case (radar.workers): from the changelog distribution of faust's assignment, by the partition
intake keys the case's records into."""

from __future__ import annotations

from collections.abc import Mapping

from radar.open_work import partition_of
from radar.workers import Workers

CHANGELOG = "vt-radar-cases-changelog"
FIRST, SECOND = "grpc://10.0.0.1:50051", "grpc://10.0.0.2:50051"


class Assignment:
    def __init__(self, distribution: Mapping[str, Mapping[str, list[int]]]):
        self.distribution = distribution

    def tables_metadata(self) -> Mapping[str, Mapping[str, list[int]]]:
        return self.distribution


def worker(own_url: str, distribution: Mapping[str, Mapping[str, list[int]]]) -> Workers:
    return Workers(Assignment(distribution), CHANGELOG, 12, own_url, None)


SPLIT = {FIRST: {CHANGELOG: [0, 1, 2, 3, 4, 5], "vt-radar-persons-changelog": [6, 7]},
         SECOND: {CHANGELOG: [6, 7, 8, 9, 10, 11]}}


def test_a_case_of_the_other_workers_partitions_is_its_and_the_rest_is_ours() -> None:
    cases = [f"case-{n}" for n in range(40)]
    theirs = [c for c in cases if partition_of(c, 12) >= 6]
    assert theirs and len(theirs) < len(cases)
    first = worker(FIRST, SPLIT)
    assert {c: first.owner_of(c) for c in cases} == {c: "10.0.0.2:50051" if c in theirs else None for c in cases}
    assert first.others() == ["10.0.0.2:50051"]
    assert first.own_partitions() == frozenset(range(6))  # only the case table's changelog counts
    second = worker(SECOND, SPLIT)
    assert [second.owner_of(c) for c in theirs] == [None] * len(theirs)
    assert second.own_partitions() == frozenset(range(6, 12))


def test_alone_or_before_an_assignment_a_worker_owns_every_case() -> None:
    for alone in (worker(FIRST, {FIRST: {CHANGELOG: list(range(12))}}), worker(FIRST, {}), Workers.alone()):
        assert alone.owner_of("case-1") is None and alone.others() == [] and alone.own_partitions() is None
