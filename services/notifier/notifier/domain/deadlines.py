"""Working-day deadlines of deliveries (docs/domain.md sections 4 and 8)."""

from __future__ import annotations

import datetime as dt

# vtkit.calendar is pure computation over the configured non-working days (no I/O, no wire format),
# so the domain may use it: the working-day rule must be the same in every service.
from vtkit.calendar import due_after_working_days

# Within 5 working days of the melding VT contacts the melder (docs/domain.md section 4).
CALLBACK_WORKING_DAYS = 5


def computed_callback_due_date(received_at: dt.datetime) -> dt.date:
    return due_after_working_days(received_at, CALLBACK_WORKING_DAYS)


def callback_due_date(received_at: dt.datetime | None, given: dt.date | None) -> tuple[dt.date | None, bool]:
    """The callback deadline and whether the given one disagrees with our own computation.

    Radar owns the assessment deadline, so its date wins when present (it may know extra
    non-working days or an acute same-day rule); a disagreement is only reported. Without a
    given date we compute it from the receipt moment.
    """
    if received_at is None:
        return given, False
    computed = computed_callback_due_date(received_at)
    if given is None:
        return computed, False
    return given, given != computed
