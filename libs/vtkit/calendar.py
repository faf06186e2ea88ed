"""Working days under the Algemene termijnenwet, in Europe/Amsterdam.

Public holidays come from the `holidays` package (NL); the Algemene termijnenwet
adds 5 May every year and extra days decreed per three-year period, which are
configuration (VT_EXTRA_NON_WORKING_DAYS, comma separated ISO dates) on top of
the defaults below.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from zoneinfo import ZoneInfo

import holidays

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# Decreed extra days (docs/domain.md section 8); extend through the environment.
DEFAULT_EXTRA_DAYS = ("2026-01-02", "2026-05-15", "2027-05-07", "2028-04-28", "2028-05-26")


@functools.cache
def _extra_days(raw: str) -> frozenset[dt.date]:
    return frozenset(dt.date.fromisoformat(d.strip()) for d in raw.split(",") if d.strip())


def extra_days() -> frozenset[dt.date]:
    return _extra_days(",".join(DEFAULT_EXTRA_DAYS) + "," + os.environ.get("VT_EXTRA_NON_WORKING_DAYS", ""))


@functools.cache
def _nl_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("NL", years=year).keys())


def load_holidays(today: dt.date | None = None) -> None:
    """Load this year's and next year's public holidays now (the `holidays` package builds its NL calendar at the first
    call, about 0.1 s of CPU): a service calls it at start, so its first deadline after a start is not the one that
    waits for it."""
    year = (today or dt.date.today()).year
    _nl_holidays(year)
    _nl_holidays(year + 1)


def is_working_day(day: dt.date) -> bool:
    if day.weekday() >= 5:
        return False
    if day in _nl_holidays(day.year):
        return False
    # Bevrijdingsdag counts every year under the Algemene termijnenwet, not only lustrum years.
    if (day.month, day.day) == (5, 5):
        return False
    return day not in extra_days()


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (start itself not counted)."""
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def local_date(moment: dt.datetime) -> dt.date:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware moment")
    return moment.astimezone(AMSTERDAM).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59 Amsterdam time on `day`, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=AMSTERDAM)


def due_after_working_days(received_at: dt.datetime, days: int) -> dt.date:
    """Deadline of `days` working days after a receipt moment (day of receipt not counted)."""
    return add_working_days(local_date(received_at), days)


# Office hours of a regional team: the clock of "working hours" (docs/architecture.md, Region inbox).
OFFICE_OPENS, OFFICE_CLOSES = dt.time(9, 0), dt.time(17, 0)


def add_working_hours(moment: dt.datetime, hours: float) -> dt.datetime:
    """The moment `hours` office hours (09:00-17:00 Amsterdam on working days) after `moment`. Time outside
    office hours does not count: 2 working hours after Friday 16:00 is Monday 10:00 (when Monday works)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware moment")
    local = moment.astimezone(AMSTERDAM)
    remaining = dt.timedelta(hours=hours)
    day = local.date()
    start = local.time()
    while True:
        if is_working_day(day) and start < OFFICE_CLOSES:
            opens = dt.datetime.combine(day, max(start, OFFICE_OPENS), tzinfo=AMSTERDAM)
            closes = dt.datetime.combine(day, OFFICE_CLOSES, tzinfo=AMSTERDAM)
            if opens + remaining <= closes:
                return (opens + remaining).astimezone(moment.tzinfo)
            remaining -= closes - opens
        day += dt.timedelta(days=1)
        start = dt.time(0, 0)
