"""The callback deadline: 5 working days after receipt under the Algemene termijnenwet (vtkit.calendar)."""

from __future__ import annotations

import datetime as dt

import pytest
from notifier.domain.deadlines import callback_due_date, computed_callback_due_date
from notifier.domain.letter import letter_due_date
from vtkit.calendar import AMSTERDAM, local_date


def at(y: int, m: int, d: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, hour, 0, tzinfo=AMSTERDAM)


@pytest.mark.parametrize(("received", "due"), [
    # Christmas: 25 and 26 December and the weekend do not count.
    (at(2025, 12, 22), dt.date(2025, 12, 31)),
    (at(2025, 12, 24), dt.date(2026, 1, 6)),
    # New Year: 1 January and the decreed 2 January 2026 do not count.
    (at(2025, 12, 31), dt.date(2026, 1, 9)),
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April.
    (at(2026, 4, 2), dt.date(2026, 4, 13)),
    # 5 May counts every year, also outside lustrum years (2026 is not one).
    (at(2026, 5, 4), dt.date(2026, 5, 12)),
    # Ascension 14 May 2026 and the decreed 15 May 2026.
    (at(2026, 5, 11), dt.date(2026, 5, 20)),
    # 2027: 5 May, Ascension 6 May and the decreed 7 May in one week.
    (at(2027, 5, 4), dt.date(2027, 5, 14)),
    # Easter 2025: Good Friday 18 April and Easter Monday 21 April.
    (at(2025, 4, 17), dt.date(2025, 4, 28)),
    # Received on Easter Monday itself: counting starts on Tuesday.
    (at(2026, 4, 6), dt.date(2026, 4, 13)),
    # 5 May in a lustrum year (2025) too.
    (at(2025, 5, 2), dt.date(2025, 5, 12)),
    # Received on a Saturday: counting starts on Monday.
    (at(2026, 3, 7), dt.date(2026, 3, 13)),
])
def test_due_date_skips_non_working_days(received: dt.datetime, due: dt.date) -> None:
    assert computed_callback_due_date(received) == due


def test_receipt_day_is_the_amsterdam_calendar_day() -> None:
    # 23:30 UTC on Sunday 21 December is already Monday 22 December in Amsterdam.
    received = dt.datetime(2025, 12, 21, 23, 30, tzinfo=dt.UTC)
    assert computed_callback_due_date(received) == dt.date(2025, 12, 31)


def test_given_due_date_wins_and_disagreement_is_reported() -> None:
    assert callback_due_date(at(2025, 12, 22), dt.date(2025, 12, 31)) == (dt.date(2025, 12, 31), False)
    assert callback_due_date(at(2025, 12, 22), dt.date(2025, 12, 22)) == (dt.date(2025, 12, 22), True)


def test_missing_due_date_is_computed() -> None:
    assert callback_due_date(at(2025, 12, 22), None) == (dt.date(2025, 12, 31), False)
    assert callback_due_date(None, None) == (None, False)


@pytest.mark.parametrize(("received", "due"), [
    # The household letter: 4 calendar weeks after recording; holidays do not move it.
    (at(2025, 12, 22), dt.date(2026, 1, 19)),
    (at(2026, 4, 3), dt.date(2026, 5, 1)),
    (at(2026, 4, 7), dt.date(2026, 5, 5)),
    # Recorded at 23:30 UTC on 24 December = 25 December in Amsterdam.
    (dt.datetime(2025, 12, 24, 23, 30, tzinfo=dt.UTC), dt.date(2026, 1, 22)),
])
def test_letter_due_is_four_weeks_after_the_amsterdam_recording_day(received: dt.datetime, due: dt.date) -> None:
    assert letter_due_date(local_date(received)) == due
