import datetime as dt

import pytest
from vtkit.calendar import AMSTERDAM, add_working_days, due_after_working_days, is_working_day


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Christmas and Boxing Day 2026 fall on Friday/Saturday; New Year's Day 2027 is a Friday.
        (dt.date(2026, 12, 23), 5, dt.date(2026, 12, 31)),
        (dt.date(2026, 12, 30), 5, dt.date(2027, 1, 7)),
        # Good Friday 3 April and Easter Monday 6 April 2026; 26 and 29 March 2027.
        (dt.date(2026, 4, 1), 5, dt.date(2026, 4, 10)),
        (dt.date(2027, 3, 24), 5, dt.date(2027, 4, 2)),
        # 5 May counts every year (2027 is not a lustrum year), and 7 May 2027 is a decreed extra day.
        (dt.date(2027, 5, 3), 3, dt.date(2027, 5, 11)),
        # The decreed 2 January 2026 after New Year's Day.
        (dt.date(2025, 12, 31), 1, dt.date(2026, 1, 5)),
    ],
)
def test_working_days_skip_weekends_and_termijnenwet_days(start: dt.date, days: int, expected: dt.date) -> None:
    assert add_working_days(start, days) == expected


def test_fifth_of_may_is_never_a_working_day() -> None:
    for year in range(2026, 2036):
        assert not is_working_day(dt.date(year, 5, 5))


def test_extra_days_come_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    from vtkit import calendar

    assert is_working_day(dt.date(2029, 6, 5))
    monkeypatch.setenv("VT_EXTRA_NON_WORKING_DAYS", "2029-06-05")
    assert not calendar.is_working_day(dt.date(2029, 6, 5))


def test_due_date_uses_amsterdam_local_date() -> None:
    # 23:30 UTC on Friday 18 Dec 2026 is already Saturday 00:30 in Amsterdam.
    received = dt.datetime(2026, 12, 18, 23, 30, tzinfo=dt.UTC)
    assert received.astimezone(AMSTERDAM).date() == dt.date(2026, 12, 19)
    assert due_after_working_days(received, 5) == dt.date(2026, 12, 28)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        due_after_working_days(dt.datetime(2026, 1, 1), 5)


def test_load_holidays_builds_this_and_next_year_before_the_first_deadline_needs_them() -> None:
    from vtkit import calendar

    calendar._nl_holidays.cache_clear()
    calendar.load_holidays(dt.date(2031, 6, 1))
    assert calendar._nl_holidays.cache_info().currsize == 2
    hits = calendar._nl_holidays.cache_info().hits
    assert not is_working_day(dt.date(2031, 12, 25)) and not is_working_day(dt.date(2032, 1, 1))
    assert calendar._nl_holidays.cache_info().hits == hits + 2  # counted from what was loaded, not built again
