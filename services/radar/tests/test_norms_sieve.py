"""The sieve of a whole-table read for the norms (radar.domain.lifecycle.may_count_for_norms): it reads a stored case
as text and may only leave out cases that change no figure, whatever their dates' offsets."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from radar.domain.cases import CaseRecord, Decision
from radar.domain.lifecycle import counts_for_norms, may_count_for_norms, norms

NOW = dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)
OFFSETS = [dt.UTC, dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=14)),
           dt.timezone(dt.timedelta(hours=-12))]
moments = st.builds(lambda days, minutes, tz: (NOW - dt.timedelta(days=days, minutes=minutes)).astimezone(tz),
                    st.integers(0, 800), st.integers(0, 1439), st.sampled_from(OFFSETS))
days = st.dates(min_value=dt.date(2024, 10, 1), max_value=dt.date(2026, 12, 7))


@st.composite
def cases(draw: st.DrawFn) -> CaseRecord:
    record = CaseRecord("utrecht", f"case-{draw(st.integers(0, 10**6))}", due_at=draw(st.none() | moments))
    record.closed_at = draw(st.none() | moments)
    record.decision = draw(st.sampled_from(list(Decision))) if record.closed_at else Decision.UNSPECIFIED
    record.onderzoek_due_at = draw(st.none() | moments)
    record.onderzoek_completed_at = draw(st.none() | moments)
    record.episode_case_id = draw(st.sampled_from(["", "case-episode"]))
    return record


@settings(max_examples=400, deadline=None)
@given(st.lists(cases(), max_size=12), days, days)
def test_the_sieve_leaves_out_only_cases_that_change_no_figure(records: list[CaseRecord], first: dt.date,
                                                                last: dt.date) -> None:
    first, last = min(first, last), max(first, last)
    kept = [r for r in records if may_count_for_norms(r.to_dict(), first, last)]
    assert norms(kept, "utrecht", first, last, NOW) == norms(records, "utrecht", first, last, NOW)
    # The norm gauges' period: from `first` up to today.
    assert all(may_count_for_norms(r.to_dict(), first) for r in records if counts_for_norms(r, first))


def test_the_sieve_leaves_out_a_case_decided_long_before_the_period() -> None:
    old = CaseRecord("utrecht", "case-old", due_at=NOW - dt.timedelta(days=900))
    old.close(NOW - dt.timedelta(days=899), Decision.OVERDRACHT)
    assert not may_count_for_norms(old.to_dict(), dt.date(2025, 12, 7))
    assert may_count_for_norms(old.to_dict(), dt.date(2024, 6, 1), dt.date(2024, 7, 1))  # decided in that period


def test_a_case_decided_on_the_first_day_counts_whatever_the_offset_it_was_stored_in() -> None:
    # 00:30 in Amsterdam on the period's first day is still the day before in UTC-12: compared as text, its date is
    # a day early.
    first = dt.date(2026, 3, 2)
    decided = dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    case = CaseRecord("utrecht", "case-boundary", due_at=decided + dt.timedelta(days=3))
    case.close(decided.astimezone(dt.timezone(dt.timedelta(hours=-12))), Decision.OVERDRACHT)
    assert case.to_dict()["closed_at"].startswith("2026-03-01")
    assert norms([case], "utrecht", first, first, NOW).assessments.total == 1
    assert may_count_for_norms(case.to_dict(), first, first)
