"""Deadline of the veiligheidsbeoordeling over weekends and Algemene termijnenwet days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from radar.domain.deadlines import assessment_deadline, is_overdue, onderzoek_deadline

AMS = ZoneInfo("Europe/Amsterdam")


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=AMS)


@pytest.mark.parametrize(("received", "due"), [
    (at("2025-11-17"), "2025-11-24"),  # Monday -> next Monday (weekend skipped)
    (at("2025-11-21"), "2025-11-28"),  # Friday -> next Friday
    (at("2025-11-22"), "2025-11-28"),  # Saturday: counting starts Monday
    # Christmas and Boxing Day 2025 (Thursday, Friday)
    (at("2025-12-22"), "2025-12-31"),
    # New Year's Day and the decreed 2 January 2026
    (at("2025-12-30"), "2026-01-08"),
    (at("2025-12-31", "23:30"), "2026-01-09"),
    # Easter 2026: Good Friday 3 April, Easter Monday 6 April
    (at("2026-04-01"), "2026-04-10"),
    (at("2026-04-02"), "2026-04-13"),
    # King's Day (Monday 27 April 2026) and 5 May (every year, here a Tuesday)
    (at("2026-04-24"), "2026-05-04"),
    (at("2026-04-30"), "2026-05-08"),
    # Ascension 14 May 2026 plus decreed 15 May 2026, Whit Monday 25 May 2026
    (at("2026-05-12"), "2026-05-21"),
    (at("2026-05-20"), "2026-05-28"),
])
def test_non_acute_is_due_five_working_days_after_receipt(received: dt.datetime, due: str) -> None:
    assert assessment_deadline(received, acute=False).due_date == dt.date.fromisoformat(due)


def test_christmas_eve_counts_over_both_christmas_days_and_new_year() -> None:
    # 24 Dec 2025 (Wed): 29, 30, 31 Dec, 5, 6 Jan (25, 26 Dec, 1 and 2 Jan and the weekends excluded)
    assert assessment_deadline(at("2025-12-24"), acute=False).due_date == dt.date(2026, 1, 6)


def test_acute_is_due_the_same_amsterdam_day() -> None:
    deadline = assessment_deadline(at("2025-12-25", "22:00"), acute=True)  # even on a holiday
    assert deadline.due_date == dt.date(2025, 12, 25)
    assert deadline.due_at == dt.datetime(2025, 12, 25, 23, 59, 59, tzinfo=AMS)


def test_the_local_date_decides_not_utc() -> None:
    # 23:30 UTC on 31 Dec is 00:30 on 1 Jan in Amsterdam.
    received = dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC)
    assert assessment_deadline(received, acute=True).due_date == dt.date(2026, 1, 1)
    assert assessment_deadline(received, acute=False).due_date == dt.date(2026, 1, 9)


def test_due_at_is_end_of_day_amsterdam_and_overdue_after_it() -> None:
    deadline = assessment_deadline(at("2026-03-02"), acute=False)
    assert deadline.due_at == dt.datetime(2026, 3, 9, 23, 59, 59, tzinfo=AMS)
    assert not is_overdue(deadline.due_at, dt.datetime(2026, 3, 9, 22, 0, tzinfo=dt.UTC))
    assert is_overdue(deadline.due_at, dt.datetime(2026, 3, 9, 23, 0, tzinfo=dt.UTC))


def test_naive_receipt_moment_is_refused() -> None:
    with pytest.raises(ValueError):
        assessment_deadline(dt.datetime(2026, 3, 2, 10, 0), acute=False)


# ---- onderzoek: 10 calendar weeks after the decision, end of that Amsterdam day ----------------------------------

@pytest.mark.parametrize(("decided", "due"), [
    (at("2026-03-03"), "2026-05-12"),  # Tuesday -> Tuesday 10 weeks later, across the switch to summer time
    # holidays do not count: calendar weeks, not working days (Easter, King's Day, 5 May, Ascension in between)
    (at("2026-03-27"), "2026-06-05"),
    (at("2025-12-19"), "2026-02-27"),  # over Christmas and New Year
    (at("2026-08-28"), "2026-11-06"),  # across the switch back to winter time
])
def test_onderzoek_is_due_ten_calendar_weeks_after_the_decision(decided: dt.datetime, due: str) -> None:
    deadline = onderzoek_deadline(decided)
    assert deadline.due_date == dt.date.fromisoformat(due)
    assert deadline.due_at == dt.datetime.combine(deadline.due_date, dt.time(23, 59, 59), tzinfo=AMS)


def test_onderzoek_deadline_counts_from_the_amsterdam_date() -> None:
    # 23:30 UTC on Sunday 29 March 2026 is already Monday 30 March in Amsterdam (summer time, UTC+2).
    decided = dt.datetime(2026, 3, 29, 23, 30, tzinfo=dt.UTC)
    assert onderzoek_deadline(decided).due_date == dt.date(2026, 6, 8)
    due_at = onderzoek_deadline(decided).due_at
    assert due_at.astimezone(dt.UTC) == dt.datetime(2026, 6, 8, 21, 59, 59, tzinfo=dt.UTC)
    assert not is_overdue(due_at, dt.datetime(2026, 6, 8, 21, 59, 0, tzinfo=dt.UTC))
    assert is_overdue(due_at, dt.datetime(2026, 6, 8, 22, 0, 0, tzinfo=dt.UTC))
