"""Deadline of the veiligheidsbeoordeling (docs/domain.md section 4).

Acute meldingen are assessed the same day (Europe/Amsterdam date of receipt);
every other melding within 5 working days of receipt, the day of receipt not counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vtkit import calendar

ASSESSMENT_WORKING_DAYS = 5


@dataclass(frozen=True)
class Deadline:
    due_date: dt.date
    due_at: dt.datetime


def assessment_deadline(received_at: dt.datetime, acute: bool, working_days: int = ASSESSMENT_WORKING_DAYS) -> Deadline:
    if acute:
        due_date = calendar.local_date(received_at)
    else:
        due_date = calendar.due_after_working_days(received_at, working_days)
    return Deadline(due_date, calendar.end_of_day(due_date))


def is_overdue(deadline_at: dt.datetime, now: dt.datetime) -> bool:
    return now > deadline_at


# An onderzoek ends with a decision on next steps within 10 weeks of deciding on it (docs/domain.md section 4).
ONDERZOEK_WEEKS = 10


def onderzoek_deadline(decided_at: dt.datetime, weeks: int = ONDERZOEK_WEEKS) -> Deadline:
    """10 calendar weeks (not working days) after the Amsterdam date of the decision, end of that day:
    a decision on Tuesday 3 March is due at the end of Tuesday 12 May, whatever lies in between."""
    due_date = calendar.local_date(decided_at) + dt.timedelta(weeks=weeks)
    return Deadline(due_date, calendar.end_of_day(due_date))
