"""radar.offsets.ReadPositions: where the next commit must start, when a partition is read again, and that an
offset holding no record (a hole) stops holding the commit once a read from it returns a later record."""

from __future__ import annotations

from faust.types import TP
from radar.offsets import ReadPositions

TP0 = TP("vt.national.verwijsindex.v1", 0)


def test_the_next_commit_starts_at_the_committed_offset_or_where_reading_began() -> None:
    positions = ReadPositions(reread_after=10)
    assert positions.next_to_commit(TP0, committed=None) is None  # nothing fetched since the assignment
    positions.fetched(TP0, 5)
    assert positions.next_to_commit(TP0, committed=None) == 5  # a new group: where reading began
    assert positions.next_to_commit(TP0, committed=7) == 7


def test_a_record_never_handled_makes_its_partition_read_again_after_the_wait() -> None:
    positions = ReadPositions(reread_after=10)
    for offset in (2, 3, 4):
        positions.fetched(TP0, offset)
    assert positions.stale(100.0, lambda tp: 2) == []  # the wait for the commit at 2 starts
    assert positions.stale(109.9, lambda tp: 2) == []
    assert positions.stale(110.0, lambda tp: 2) == [(TP0, 2)]
    positions.reading_again(TP0, 2)
    assert positions.stale(130.0, lambda tp: 2) == []  # nothing handed over since the seek
    positions.fetched(TP0, 2)  # the record is there: read again, the commit still starts at it
    assert positions.next_to_commit(TP0, committed=2) == 2


def test_an_offset_without_a_record_no_longer_holds_the_commit() -> None:
    positions = ReadPositions(reread_after=10)
    positions.fetched(TP0, 2)  # delivered by a broker since lost; the new one has no record at 2
    positions.fetched(TP0, 3)
    assert positions.stale(100.0, lambda tp: 2) == []
    assert positions.stale(110.0, lambda tp: 2) == [(TP0, 2)]
    positions.reading_again(TP0, 2)
    positions.fetched(TP0, 3)  # a read from 2 returns 3 first: offset 2 holds nothing
    assert positions.next_to_commit(TP0, committed=2) == 3
    positions.fetched(TP0, 4)
    assert positions.stale(200.0, lambda tp: 2) == []  # waits afresh at 3, not at 2 ...
    assert positions.stale(209.0, lambda tp: 2) == []
    assert positions.stale(210.0, lambda tp: 2) == [(TP0, 3)]  # ... and only re-reads if 3 is never handled


def test_a_partition_forgotten_at_revocation_starts_afresh() -> None:
    positions = ReadPositions(reread_after=10)
    positions.fetched(TP0, 8)
    positions.forget(TP0)
    assert positions.next_to_commit(TP0, committed=3) is None
    assert positions.stale(1000.0, lambda tp: 3) == []
