"""The callback deadline: 5 working days after receipt under the Algemene termijnenwet (vtkit.calendar)."""

from __future__ import annotations

import datetime as dt

import pytest
from notifier.domain.deadlines import callback_due_date, computed_callback_due_date
from vtkit.calendar import AMSTERDAM


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
