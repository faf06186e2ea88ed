"""ListOverdue over several radar workers (radar.domain.overdue): paging through the merged parts lists every
overdue deadline of the region once, in order, without the assessments of joined meldingen, whichever worker holds
the melding and whichever its episode."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from radar.domain.cases import DeadlineKind, OverdueDeadline
from radar.domain.overdue import Key, Part, merged_page, overdue_key

START = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)

deadlines = st.builds(lambda case, kind, minutes: OverdueDeadline(f"case-{case:02d}", kind,
                                                                  START + dt.timedelta(minutes=minutes)),
                      st.integers(0, 30), st.sampled_from(list(DeadlineKind)), st.integers(0, 20))


def worker_part(items: list[OverdueDeadline], left_out: set[str], cursor: Key | None, limit: int | None) -> Part:
    """What one worker answers: its own deadlines after the cursor, without the joined assessments it was told
    of, at most `limit` (None: the asking worker's own part, in full)."""
    mine = sorted((i for i in items if not (i.kind is DeadlineKind.ASSESSMENT and i.case_id in left_out)
                   and (cursor is None or overdue_key(i) > cursor)), key=overdue_key)
    if limit is None:
        return Part(mine)
    return Part(mine[:limit], more=len(mine) > limit)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(deadlines, max_size=25, unique_by=lambda d: (d.case_id, d.kind)), min_size=1, max_size=3),
       st.lists(st.tuples(st.integers(0, 2), st.integers(0, 30)), max_size=6), st.integers(1, 7))
def test_paging_through_the_workers_parts_lists_each_deadline_once_in_order(
        per_worker: list[list[OverdueDeadline]], joins: list[tuple[int, int]], size: int) -> None:
    # A case lives on one worker only (the first that drew it); each join is known to one worker (its episode's).
    owner: dict[str, int] = {}
    parts = [[d for d in items if owner.setdefault(d.case_id, w) == w] for w, items in enumerate(per_worker)]
    joined = [{f"case-{c:02d}" for w, c in joins if w == worker} for worker in range(len(parts))]
    left_out = set().union(*joined)
    expected = sorted((d for items in parts for d in items
                       if not (d.kind is DeadlineKind.ASSESSMENT and d.case_id in left_out)), key=overdue_key)

    listed: list[OverdueDeadline] = []
    cursor: Key | None = None
    for _ in range(len(expected) + 2):
        # The asking worker (0) sends its joined meldingen; the others answer theirs.
        answered = [worker_part(parts[0], joined[0], cursor, None)]
        answered += [worker_part(items, joined[w] | joined[0], cursor, size) for w, items in enumerate(parts) if w]
        page, cursor = merged_page(answered, left_out, size)
        assert len(page) <= size
        listed += page
        if cursor is None:
            break
    assert cursor is None, "paging did not end"
    assert listed == expected


def test_a_page_stops_where_a_workers_part_stops_when_its_deadlines_are_left_out_elsewhere() -> None:
    # Worker 1 shows its first two deadlines, both of meldingen that joined an episode only worker 2 knows: nothing
    # of worker 1 is known beyond them yet, so the asking worker's later deadline must wait for the next page.
    joined_a, joined_b, later = (OverdueDeadline(f"case-{n}", DeadlineKind.ASSESSMENT, START + dt.timedelta(hours=n))
                                 for n in (1, 2, 3))
    own = OverdueDeadline("case-5", DeadlineKind.ONDERZOEK, START + dt.timedelta(hours=5))
    left_out = {"case-1", "case-2"}
    page, cursor = merged_page([Part([own]), Part([joined_a, joined_b], more=True), Part([])], left_out, size=2)
    assert page == [] and cursor == overdue_key(joined_b)
    page, cursor = merged_page([Part([own]), Part([later]), Part([])], left_out, size=2)
    assert page == [later, own] and cursor is None
