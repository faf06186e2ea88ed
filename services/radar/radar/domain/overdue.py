"""A region's overdue deadlines, and one page of them when radar's workers each hold a part of the cases
(docs/architecture.md, "Radar with two workers")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from radar.domain.cases import CaseRecord, DeadlineKind, OverdueDeadline, joined_meldingen

# (due_at, case_id, kind) orders the deadlines totally and never changes for one, so the page after a key never
# skips or repeats a deadline (vtkit.paging).
Key = tuple[dt.datetime, str, str]


def overdue_key(item: OverdueDeadline) -> Key:
    return item.due_at, item.case_id, item.kind.value


def overdue_of(cases: Iterable[CaseRecord], tenant: str, now: dt.datetime,
               joined_elsewhere: Iterable[str] = ()) -> tuple[list[OverdueDeadline], set[str]]:
    """The region's overdue deadlines among `cases`, in order, and the meldingen they show to have joined an episode.
    A joined melding's assessment is its episode's: left out, also when another worker's case lists it
    (`joined_elsewhere`)."""
    cases = list(cases)
    joined = set(joined_meldingen(cases))
    left_out = joined | set(joined_elsewhere)
    items = [item for record in cases if record.belongs_to(tenant) for item in record.overdue_deadlines(now)
             if not (item.kind is DeadlineKind.ASSESSMENT and item.case_id in left_out)]
    return sorted(items, key=overdue_key), joined


@dataclass(frozen=True)
class Part:
    """What one worker holds after a cursor: its first deadlines in order, and whether more follow them."""

    items: Sequence[OverdueDeadline]
    more: bool = False


def merged_page(parts: Iterable[Part], left_out: set[str], size: int) -> tuple[list[OverdueDeadline], Key | None]:
    """One page of the union of the parts, without the assessment deadlines of the meldingen in `left_out`, and the
    key the next page starts after (None: this is the last page). A part with more is known only up to its last
    deadline, so the page stops there: a deadline beyond it might come after one the part has not shown yet."""
    parts = list(parts)
    bound = min((overdue_key(p.items[-1]) for p in parts if p.more and p.items), default=None)
    known = sorted({overdue_key(i): i for p in parts for i in p.items
                    if not (i.kind is DeadlineKind.ASSESSMENT and i.case_id in left_out)
                    and (bound is None or overdue_key(i) <= bound)}.items())
    page = [item for _, item in known[:size]]
    if len(known) > size:
        return page, overdue_key(page[-1])
    return page, bound
